//! Telephony settings (Twilio webhooks, the Messages API, handoff links, SMS and call
//! limits), read with the rest of [`crate::Config`].
//!
//! Security fails closed: webhook signatures are checked unless
//! `TWILIO_SIGNATURE_VALIDATION=off` *and* the environment is development; production with
//! validation off is refused at parse time, and [`TelephonyConfig::check_webhooks`] (called
//! by every process that serves Twilio routes) refuses a production start without an auth
//! token, a public base URL or a strong handoff secret.

use std::time::Duration;

use crate::config::{ConfigError, Environment};

/// Whether `X-Twilio-Signature` is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMode {
    /// Every Twilio route rejects a missing or wrong signature with 403 (also when no auth
    /// token is configured: nothing can then be valid).
    Enforce,
    /// Development only, set explicitly with `TWILIO_SIGNATURE_VALIDATION=off`.
    Off,
}

/// The longest `SMS_RATE_LIMIT_WINDOW_MINUTES` accepted (a week): every budget window is over
/// this long after it started.
pub const SMS_RATE_WINDOW_MAX_MINUTES: u64 = 10080;

/// Used in development when `HANDOFF_SECRET` is unset; production refuses it.
pub const DEV_HANDOFF_SECRET: &str = "dev-handoff-secret-not-for-production";

#[derive(Clone)]
pub struct TelephonyConfig {
    pub auth_token: Option<String>,
    pub account_sid: Option<String>,
    /// Twilio REST base URL (`https://api.twilio.com`; tests point it at a local server).
    pub api_base_url: String,
    /// The public URL Twilio calls (scheme + host [+ base path]); signatures are computed
    /// over it, never over the URL the function sees behind API Gateway.
    pub public_base_url: String,
    pub signature_mode: SignatureMode,
    pub handoff_secret: String,
    pub handoff_ttl: Duration,
    pub sms_rate_limit_max: u32,
    pub sms_rate_limit_window: Duration,
    pub voice_max_concurrent_calls: u32,
    pub voice_max_turns: u32,
    pub voice_max_call_duration: Duration,
    pub voice_max_retries: u32,
}

impl std::fmt::Debug for TelephonyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelephonyConfig")
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<set>"))
            .field("account_sid", &self.account_sid)
            .field("api_base_url", &self.api_base_url)
            .field("public_base_url", &self.public_base_url)
            .field("signature_mode", &self.signature_mode)
            .field("sms_rate_limit_max", &self.sms_rate_limit_max)
            .finish_non_exhaustive()
    }
}

impl TelephonyConfig {
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let num = |var: &'static str, default: u64, min: u64, max: u64| {
            crate::config::env_number(non_empty(var).as_deref(), var, default, min, max)
        };
        let signature_mode = match non_empty("TWILIO_SIGNATURE_VALIDATION")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("on") | Some("true") | Some("enforce") => SignatureMode::Enforce,
            Some("off") | Some("false") | Some("disabled") => {
                if environment == Environment::Production {
                    return Err(ConfigError::Invalid {
                        var: "TWILIO_SIGNATURE_VALIDATION",
                        reason: "cannot be off in production".into(),
                    });
                }
                SignatureMode::Off
            }
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "TWILIO_SIGNATURE_VALIDATION",
                    reason: format!("{other:?} is not on or off"),
                })
            }
        };
        let url = |var: &'static str, default: &str| -> Result<String, ConfigError> {
            let v = non_empty(var).unwrap_or_else(|| default.to_string());
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    var,
                    reason: "must start with http:// or https://".into(),
                });
            }
            Ok(v.trim_end_matches('/').to_string())
        };
        let account_sid = non_empty("TWILIO_ACCOUNT_SID");
        if let Some(sid) = &account_sid {
            if !(sid.starts_with("AC")
                && sid.len() == 34
                && sid.chars().all(|c| c.is_ascii_alphanumeric()))
            {
                return Err(ConfigError::Invalid {
                    var: "TWILIO_ACCOUNT_SID",
                    reason: "must be AC followed by 32 letters or digits".into(),
                });
            }
        }
        Ok(Self {
            auth_token: non_empty("TWILIO_AUTH_TOKEN"),
            account_sid,
            api_base_url: url("TWILIO_API_BASE_URL", "https://api.twilio.com")?,
            public_base_url: url("PUBLIC_BASE_URL", "http://127.0.0.1:3000")?,
            signature_mode,
            handoff_secret: non_empty("HANDOFF_SECRET")
                .unwrap_or_else(|| DEV_HANDOFF_SECRET.to_string()),
            handoff_ttl: Duration::from_secs(60 * num("HANDOFF_TTL_MINUTES", 15, 1, 1440)?),
            sms_rate_limit_max: num("SMS_RATE_LIMIT_MAX", 3, 1, 1000)? as u32,
            sms_rate_limit_window: Duration::from_secs(
                60 * num(
                    "SMS_RATE_LIMIT_WINDOW_MINUTES",
                    60,
                    1,
                    SMS_RATE_WINDOW_MAX_MINUTES,
                )?,
            ),
            voice_max_concurrent_calls: num("VOICE_MAX_CONCURRENT_CALLS", 5, 1, 1000)? as u32,
            voice_max_turns: num("VOICE_MAX_TURNS", 20, 2, 200)? as u32,
            voice_max_call_duration: Duration::from_secs(num(
                "VOICE_MAX_CALL_SECONDS",
                600,
                30,
                7200,
            )?),
            voice_max_retries: num("VOICE_MAX_RETRIES", 3, 1, 10)? as u32,
        })
    }

    /// What a process that serves Twilio webhooks or handoff links checks at start. In
    /// production: an auth token, an explicit https public URL and a strong handoff secret.
    pub fn check_webhooks(&self, environment: Environment) -> Result<(), ConfigError> {
        if environment != Environment::Production {
            return Ok(());
        }
        if self.auth_token.is_none() {
            return Err(ConfigError::Missing("TWILIO_AUTH_TOKEN"));
        }
        if !self.public_base_url.starts_with("https://")
            || !crate::domain::outbound::is_public_host(url_host(&self.public_base_url))
        {
            return Err(ConfigError::Invalid {
                var: "PUBLIC_BASE_URL",
                reason: "production needs the public https URL Twilio calls (not a loopback, private or local host)".into(),
            });
        }
        let s = &self.handoff_secret;
        if s.len() < 32
            || s == DEV_HANDOFF_SECRET
            || s.to_ascii_lowercase().contains("dev")
            || crate::config::weak_text_secret(s).is_some()
        {
            return Err(ConfigError::Invalid {
                var: "HANDOFF_SECRET",
                reason: "production needs a random secret of at least 32 characters".into(),
            });
        }
        Ok(())
    }

    /// True when SMS go out through Twilio's API (otherwise they are recorded only).
    pub fn twilio_sms_enabled(&self) -> bool {
        self.account_sid.is_some() && self.auth_token.is_some()
    }
}

/// The host of an `http(s)://` URL: without user info, port or brackets.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(env: Environment, pairs: &[(&str, &str)]) -> Result<TelephonyConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TelephonyConfig::from_lookup(&|k| map.get(k).cloned(), env)
    }

    #[test]
    fn defaults_enforce_signatures() {
        let c = cfg(Environment::Development, &[]).unwrap();
        assert_eq!(c.signature_mode, SignatureMode::Enforce);
        assert_eq!(c.sms_rate_limit_max, 3);
        assert_eq!(c.sms_rate_limit_window, Duration::from_secs(3600));
        assert_eq!(c.voice_max_turns, 20);
        assert_eq!(c.handoff_ttl, Duration::from_secs(900));
        assert!(c.check_webhooks(Environment::Development).is_ok());
        let off = cfg(
            Environment::Development,
            &[("TWILIO_SIGNATURE_VALIDATION", "off")],
        )
        .unwrap();
        assert_eq!(off.signature_mode, SignatureMode::Off);
    }

    #[test]
    fn production_refuses_unsafe_settings() {
        let e = cfg(
            Environment::Production,
            &[("TWILIO_SIGNATURE_VALIDATION", "off")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("TWILIO_SIGNATURE_VALIDATION"), "{e}");
        let c = cfg(Environment::Production, &[]).unwrap();
        assert_eq!(
            c.check_webhooks(Environment::Production).unwrap_err(),
            ConfigError::Missing("TWILIO_AUTH_TOKEN")
        );
        let c = cfg(
            Environment::Production,
            &[
                ("TWILIO_AUTH_TOKEN", "t"),
                ("PUBLIC_BASE_URL", "https://x.example.com"),
            ],
        )
        .unwrap();
        let e = c.check_webhooks(Environment::Production).unwrap_err();
        assert!(e.to_string().contains("HANDOFF_SECRET"), "{e}");
        let c = cfg(
            Environment::Production,
            &[
                ("TWILIO_AUTH_TOKEN", "t"),
                ("PUBLIC_BASE_URL", "https://x.example.com/"),
                ("HANDOFF_SECRET", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
            ],
        )
        .unwrap();
        assert!(c.check_webhooks(Environment::Production).is_ok());
        assert_eq!(c.public_base_url, "https://x.example.com");
        assert!(!format!("{c:?}").contains("k3J9"));
        assert!(cfg(Environment::Development, &[("SMS_RATE_LIMIT_MAX", "0")]).is_err());
        assert!(cfg(Environment::Development, &[("TWILIO_ACCOUNT_SID", "XX1")]).is_err());
        assert!(cfg(Environment::Development, &[("PUBLIC_BASE_URL", "ftp://x")]).is_err());
    }

    #[test]
    fn production_refuses_low_variety_secrets_and_local_public_urls() {
        let with = |url: &str, secret: &str| {
            cfg(
                Environment::Production,
                &[
                    ("TWILIO_AUTH_TOKEN", "t"),
                    ("PUBLIC_BASE_URL", url),
                    ("HANDOFF_SECRET", secret),
                ],
            )
            .unwrap()
            .check_webhooks(Environment::Production)
        };
        let good = "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS";
        for weak in [
            "a".repeat(40),
            "abcabcabcabcabcabcabcabcabcabcabcabc".to_string(),
            "abcdefghijklmnopqrstuvwxyzABCDEFGH".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
        ] {
            let e = with("https://x.example.com", &weak).unwrap_err();
            assert!(e.to_string().contains("HANDOFF_SECRET"), "{weak}: {e}");
        }
        for url in [
            "https://localhost",
            "https://localhost:8443/",
            "https://api.localhost",
            "https://127.0.0.1",
            "https://127.1.2.3:3000",
            "https://[::1]/",
            "https://10.0.0.5",
            "https://192.168.1.10",
            "https://169.254.169.254",
            "https://user@localhost/x",
            "https://intranet",
            "https://box.local",
            "https://0.0.0.0",
        ] {
            let e = with(url, good).unwrap_err();
            assert!(e.to_string().contains("PUBLIC_BASE_URL"), "{url}: {e}");
        }
        for url in ["https://x.example.com", "https://203.0.113.9:8443/base"] {
            assert!(with(url, good).is_ok(), "{url}");
        }
    }
}
