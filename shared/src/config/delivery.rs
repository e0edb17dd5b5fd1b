//! Delivery settings: email (SMTP or a folder of .eml files), the encryption key for
//! secrets at rest, Google Calendar, webhooks and the dispatcher's retry budget. Read once
//! at start with the rest of [`crate::Config`]; a production start with a missing or
//! development `ENCRYPTION_KEY` is refused.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::role::Role;
use crate::config::vars::reads;
use crate::config::{ConfigError, Environment};
use crate::domain::outbound::OutboundPolicy;

/// The development key (32 bytes, base64). Production refuses it.
pub const DEV_ENCRYPTION_KEY: &str = "ZGV2LW9ubHktZ29tb21vLWtleS0wMDAwMDAwMDAwMDA=";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP (local relays and test servers only).
    None,
    /// STARTTLS upgrade, required.
    StartTls,
    /// Implicit TLS (smtps, port 465).
    Tls,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The bound on each network step of a delivery (connect with greeting and EHLO,
    /// STARTTLS, AUTH, the message, QUIT): `SMTP_TIMEOUT_SECONDS`, default 20.
    pub timeout: Duration,
}

/// The default of `SMTP_TIMEOUT_SECONDS`.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(20);

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    Smtp(SmtpSettings),
    /// One .eml file per message in this folder (the local default).
    Folder(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMode {
    Mock,
    /// Each resource's connected calendar (Google, CalDAV, Microsoft 365).
    Connected,
}

#[derive(Clone, PartialEq, Eq)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: String,
    /// Calendar API base (default https://www.googleapis.com).
    pub api_base_url: String,
    /// Token endpoint base (default https://oauth2.googleapis.com).
    pub oauth_base_url: String,
    /// The consent page (default https://accounts.google.com/o/oauth2/v2/auth).
    pub auth_url: String,
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleSettings")
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .field("api_base_url", &self.api_base_url)
            .field("oauth_base_url", &self.oauth_base_url)
            .finish_non_exhaustive()
    }
}

/// The Microsoft identity platform app and the Graph endpoint (Microsoft 365 calendars).
#[derive(Clone, PartialEq, Eq)]
pub struct GraphSettings {
    /// The Application (client) ID of the app registration.
    pub client_id: String,
    /// The client secret (a confidential web app); `None` redeems codes with PKCE alone
    /// (an app registered as a public client).
    pub client_secret: Option<String>,
    /// Who may connect: `common` (default: work, school and personal accounts),
    /// `organizations`, `consumers`, or one directory (its id or domain).
    pub tenant: String,
    /// The sign-in host (default https://login.microsoftonline.com).
    pub authority_base_url: String,
    /// The Graph API root (default https://graph.microsoft.com/v1.0).
    pub graph_base_url: String,
    /// Where Microsoft sends the browser back with the code.
    pub redirect_url: String,
    /// Space-separated scopes asked for at consent.
    pub scopes: String,
}

/// The scopes of [`GraphSettings::scopes`]: a refresh token, the calendars, the profile
/// (the mailbox address that free/busy is asked for).
pub const GRAPH_SCOPES: &str = "offline_access Calendars.ReadWrite User.Read";

impl std::fmt::Debug for GraphSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphSettings")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .field("tenant", &self.tenant)
            .field("authority_base_url", &self.authority_base_url)
            .field("graph_base_url", &self.graph_base_url)
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A tenant segment of the sign-in URL: `common`, `organizations`, `consumers`, a
/// directory id or a domain name.
fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 253
        && !t.starts_with(['.', '-'])
        && !t.contains("..")
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

#[derive(Clone)]
pub struct DeliveryConfig {
    pub mail: MailTransport,
    /// The envelope and header From address; the display name is the tenant's name.
    pub mail_from: String,
    /// 32-byte AES-256-GCM key for tokens and webhook secrets at rest.
    pub encryption_key: [u8; 32],
    pub calendar_mode: CalendarMode,
    /// Strict (`true`): a booking whose calendar write fails is refused and its hold kept.
    /// Lenient (default): the booking stands, `CalendarWriteFailed` starts the retries.
    pub calendar_sync_required: bool,
    pub google: Option<GoogleSettings>,
    /// Microsoft 365 calendars (`MICROSOFT_CLIENT_ID`); `None` when not configured.
    pub microsoft: Option<GraphSettings>,
    /// How long a free/busy answer is reused.
    pub freebusy_cache: Duration,
    /// Per-request timeout of calendar calls (a read past it fails closed).
    pub calendar_timeout: Duration,
    pub webhook_timeout: Duration,
    pub webhook_max_attempts: i32,
    pub notification_max_attempts: i32,
    /// What tenant URLs (webhooks) may reach: public addresses only; plain http and the
    /// `OUTBOUND_ALLOW_HOSTS` allow-list in development only.
    pub outbound: OutboundPolicy,
}

impl std::fmt::Debug for DeliveryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryConfig")
            .field("mail", &self.mail)
            .field("mail_from", &self.mail_from)
            .field("calendar_mode", &self.calendar_mode)
            .field("calendar_sync_required", &self.calendar_sync_required)
            .field("google", &self.google)
            .field("microsoft", &self.microsoft)
            .field("outbound", &self.outbound)
            .finish_non_exhaustive()
    }
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

/// Decodes a 32-byte key given as base64 (standard or URL-safe) or 64 hex digits.
pub fn parse_key(s: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let s = s.trim();
    let bytes = if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(s).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s))
            .ok()?
    };
    bytes.try_into().ok()
}

fn parse_smtp_url(raw: &str) -> Result<SmtpSettings, ConfigError> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| invalid("SMTP_URL", e.to_string()))?;
    let implicit = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => {
            return Err(invalid(
                "SMTP_URL",
                format!("scheme {other:?} is not smtp or smtps"),
            ))
        }
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("SMTP_URL", "has no host"))?
        .to_string();
    let tls_param = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_ascii_lowercase());
    let tls = match (implicit, tls_param.as_deref()) {
        (true, _) => SmtpTls::Tls,
        (false, None) | (false, Some("none")) | (false, Some("off")) => SmtpTls::None,
        (false, Some("starttls")) | (false, Some("required")) => SmtpTls::StartTls,
        (false, Some(other)) => {
            return Err(invalid(
                "SMTP_URL",
                format!("tls={other} is not none or starttls"),
            ))
        }
    };
    let port = url.port().unwrap_or(match tls {
        SmtpTls::Tls => 465,
        SmtpTls::StartTls => 587,
        SmtpTls::None => 25,
    });
    let decode = |s: &str| percent_decode(s);
    let username = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    let password = url.password().map(decode);
    Ok(SmtpSettings {
        host,
        port,
        tls,
        username,
        password,
        timeout: DEFAULT_SMTP_TIMEOUT,
    })
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

fn is_local_host(h: &str) -> bool {
    h == "localhost" || h.starts_with("127.") || h == "::1" || h == "[::1]"
}

impl DeliveryConfig {
    /// Every delivery setting (the standalone server's view).
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        Self::from_lookup_as(get, environment, Role::Standalone)
    }

    /// The delivery settings as `role` reads them. Every variable is asked for once, up
    /// front (whatever the branch taken), so the names read match the role's table rows;
    /// production requires `ENCRYPTION_KEY` only of the roles that read it.
    pub fn from_lookup_as(
        get: &dyn Fn(&str) -> Option<String>,
        environment: Environment,
        role: Role,
    ) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let num = |var: &'static str, default: u64, min: u64, max: u64| {
            crate::config::env_number(non_empty(var).as_deref(), var, default, min, max)
        };
        let prod = environment == Environment::Production;

        let smtp_url = non_empty("SMTP_URL");
        let smtp_host = non_empty("SMTP_HOST");
        let smtp_tls = non_empty("SMTP_TLS");
        let smtp_port = non_empty("SMTP_PORT");
        let smtp_username = non_empty("SMTP_USERNAME");
        let smtp_password = non_empty("SMTP_PASSWORD");
        let smtp_timeout = Duration::from_secs(num(
            "SMTP_TIMEOUT_SECONDS",
            DEFAULT_SMTP_TIMEOUT.as_secs(),
            1,
            300,
        )?);
        let mail_dir = non_empty("MAIL_DIR");
        let mut mail = if let Some(url) = smtp_url {
            MailTransport::Smtp(parse_smtp_url(&url)?)
        } else if let Some(host) = smtp_host {
            let tls = match smtp_tls.map(|v| v.to_ascii_lowercase()).as_deref() {
                None | Some("starttls") => SmtpTls::StartTls,
                Some("tls") | Some("smtps") => SmtpTls::Tls,
                Some("none") | Some("off") => SmtpTls::None,
                Some(other) => {
                    return Err(invalid(
                        "SMTP_TLS",
                        format!("{other:?} is not none, starttls or tls"),
                    ))
                }
            };
            let default_port = match tls {
                SmtpTls::Tls => 465,
                SmtpTls::StartTls => 587,
                SmtpTls::None => 25,
            };
            MailTransport::Smtp(SmtpSettings {
                host,
                port: crate::config::env_number(
                    smtp_port.as_deref(),
                    "SMTP_PORT",
                    default_port,
                    1,
                    65535,
                )? as u16,
                tls,
                username: smtp_username,
                password: smtp_password,
                timeout: DEFAULT_SMTP_TIMEOUT,
            })
        } else {
            MailTransport::Folder(PathBuf::from(mail_dir.unwrap_or_else(|| ".mail".into())))
        };
        if let MailTransport::Smtp(s) = &mut mail {
            s.timeout = smtp_timeout;
            if prod && s.tls == SmtpTls::None && !is_local_host(&s.host) {
                return Err(invalid(
                    "SMTP_URL",
                    "production needs TLS or STARTTLS to a remote SMTP server",
                ));
            }
        }
        let mail_from = non_empty("MAIL_FROM").unwrap_or_else(|| "noreply@gomomo.local".into());
        if crate::domain::Email::parse(&mail_from).is_err() {
            return Err(invalid("MAIL_FROM", "is not an email address"));
        }

        let encryption_key = match non_empty("ENCRYPTION_KEY") {
            None if prod && reads(role, "ENCRYPTION_KEY") => {
                return Err(ConfigError::Missing("ENCRYPTION_KEY"))
            }
            None => {
                parse_key(DEV_ENCRYPTION_KEY).ok_or_else(|| invalid("ENCRYPTION_KEY", "dev key"))?
            }
            Some(k) => {
                let key = parse_key(&k).ok_or_else(|| {
                    invalid(
                        "ENCRYPTION_KEY",
                        "must be 32 bytes as base64 or 64 hex digits",
                    )
                })?;
                let dev = parse_key(DEV_ENCRYPTION_KEY);
                let weak = Some(key) == dev
                    || k.to_ascii_lowercase().contains("dev")
                    || crate::config::low_variety(&key).is_some();
                if prod && weak {
                    return Err(invalid(
                        "ENCRYPTION_KEY",
                        "production needs a random key, not the development one",
                    ));
                }
                key
            }
        };

        let calendar_mode = match non_empty("CALENDAR_MODE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("mock") => CalendarMode::Mock,
            Some("connected" | "google") => CalendarMode::Connected,
            Some(other) => {
                return Err(invalid(
                    "CALENDAR_MODE",
                    format!("{other:?} is not mock or connected"),
                ))
            }
        };
        let calendar_sync_required = match non_empty("CALENDAR_SYNC_REQUIRED")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") | Some("0") | Some("no") | Some("off") => false,
            Some("true") | Some("1") | Some("yes") | Some("on") => true,
            Some(other) => {
                return Err(invalid(
                    "CALENDAR_SYNC_REQUIRED",
                    format!("{other:?} is not true or false"),
                ))
            }
        };
        let base = |var: &'static str, default: &str| -> Result<String, ConfigError> {
            let v = non_empty(var).unwrap_or_else(|| default.to_string());
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                return Err(invalid(var, "must be an http(s) URL"));
            }
            Ok(v.trim_end_matches('/').to_string())
        };
        let redirect_url = base(
            "GOOGLE_REDIRECT_URL",
            "http://127.0.0.1:3000/api/oauth/google/callback",
        )?;
        let api_base_url = base("GOOGLE_API_BASE_URL", "https://www.googleapis.com")?;
        let oauth_base_url = base("GOOGLE_OAUTH_BASE_URL", "https://oauth2.googleapis.com")?;
        let auth_url = base(
            "GOOGLE_AUTH_URL",
            "https://accounts.google.com/o/oauth2/v2/auth",
        )?;
        let google = match (
            non_empty("GOOGLE_CLIENT_ID"),
            non_empty("GOOGLE_CLIENT_SECRET"),
        ) {
            (Some(client_id), Some(client_secret)) => Some(GoogleSettings {
                client_id,
                client_secret,
                redirect_url,
                api_base_url,
                oauth_base_url,
                auth_url,
            }),
            (None, None) => None,
            (None, Some(_)) => return Err(ConfigError::Missing("GOOGLE_CLIENT_ID")),
            (Some(_), None) => return Err(ConfigError::Missing("GOOGLE_CLIENT_SECRET")),
        };
        if prod
            && reads(role, "GOOGLE_REDIRECT_URL")
            && google
                .as_ref()
                .is_some_and(|g| !g.redirect_url.starts_with("https://"))
        {
            return Err(invalid(
                "GOOGLE_REDIRECT_URL",
                "production needs an https callback URL (the OAuth state cookie is Secure)",
            ));
        }
        let microsoft = {
            let client_id = non_empty("MICROSOFT_CLIENT_ID");
            let client_secret = non_empty("MICROSOFT_CLIENT_SECRET");
            let tenant = non_empty("MICROSOFT_TENANT").unwrap_or_else(|| "common".into());
            let redirect_url = base(
                "MICROSOFT_REDIRECT_URL",
                "http://127.0.0.1:3000/api/oauth/microsoft/callback",
            )?;
            let authority_base_url = base(
                "MICROSOFT_AUTHORITY_URL",
                "https://login.microsoftonline.com",
            )?;
            let graph_base_url = base(
                "MICROSOFT_GRAPH_BASE_URL",
                "https://graph.microsoft.com/v1.0",
            )?;
            if !valid_tenant(&tenant) {
                return Err(invalid(
                    "MICROSOFT_TENANT",
                    "must be common, organizations, consumers, a directory id or a domain",
                ));
            }
            match (client_id, client_secret) {
                (Some(client_id), client_secret) => Some(GraphSettings {
                    client_id,
                    client_secret,
                    tenant,
                    authority_base_url,
                    graph_base_url,
                    redirect_url,
                    scopes: GRAPH_SCOPES.to_string(),
                }),
                (None, Some(_)) => return Err(ConfigError::Missing("MICROSOFT_CLIENT_ID")),
                (None, None) => None,
            }
        };
        if prod {
            if let Some(m) = &microsoft {
                if reads(role, "MICROSOFT_REDIRECT_URL") && !m.redirect_url.starts_with("https://")
                {
                    return Err(invalid(
                        "MICROSOFT_REDIRECT_URL",
                        "production needs an https callback URL (the OAuth state cookie is Secure)",
                    ));
                }
                for (var, url) in [
                    ("MICROSOFT_AUTHORITY_URL", &m.authority_base_url),
                    ("MICROSOFT_GRAPH_BASE_URL", &m.graph_base_url),
                ] {
                    if !url.starts_with("https://") {
                        return Err(invalid(var, "production needs https"));
                    }
                }
            }
        }
        // `google` names the provider it needs; `connected` needs whichever is connected.
        if non_empty("CALENDAR_MODE").is_some_and(|m| m.eq_ignore_ascii_case("google"))
            && google.is_none()
        {
            return Err(ConfigError::Missing("GOOGLE_CLIENT_ID"));
        }
        let allow_hosts: Vec<String> = non_empty("OUTBOUND_ALLOW_HOSTS")
            .map(|v| {
                v.split(',')
                    .map(|h| h.trim().to_string())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if prod && !allow_hosts.is_empty() {
            return Err(invalid(
                "OUTBOUND_ALLOW_HOSTS",
                "the outbound allow-list is for development only; production refuses to start with it set",
            ));
        }
        if let Some(bad) = allow_hosts.iter().find(|h| {
            !h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
        }) {
            return Err(invalid(
                "OUTBOUND_ALLOW_HOSTS",
                format!("{bad:?} is not a host name or an IP address"),
            ));
        }
        let outbound = OutboundPolicy::new(!prod, &allow_hosts);
        Ok(Self {
            mail,
            mail_from,
            encryption_key,
            calendar_mode,
            calendar_sync_required,
            google,
            microsoft,
            freebusy_cache: Duration::from_secs(num("FREEBUSY_CACHE_SECONDS", 30, 0, 600)?),
            calendar_timeout: Duration::from_secs(num("CALENDAR_TIMEOUT_SECONDS", 5, 1, 60)?),
            webhook_timeout: Duration::from_secs(num("WEBHOOK_TIMEOUT_SECONDS", 10, 1, 60)?),
            webhook_max_attempts: num("WEBHOOK_MAX_ATTEMPTS", 6, 1, 20)? as i32,
            notification_max_attempts: num("NOTIFICATION_MAX_ATTEMPTS", 5, 1, 20)? as i32,
            outbound,
        })
    }

    /// Development defaults (tests): files in `dir`, the dev key, the mock calendar.
    pub fn for_tests(dir: PathBuf) -> Self {
        let mut c = Self::from_lookup(&|_| None, Environment::Development)
            .expect("development defaults are valid");
        c.mail = MailTransport::Folder(dir);
        c
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(env: Environment, pairs: &[(&str, &str)]) -> Result<DeliveryConfig, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DeliveryConfig::from_lookup(&|k| map.get(k).cloned(), env)
    }

    #[test]
    fn smtp_urls_and_parts() {
        let c = cfg(
            Environment::Development,
            &[(
                "SMTP_URL",
                "smtp://u%40x:p%2Fw@mail.example.com?tls=starttls",
            )],
        )
        .unwrap();
        let MailTransport::Smtp(s) = c.mail else {
            panic!()
        };
        assert_eq!(
            (s.host.as_str(), s.port, s.tls),
            ("mail.example.com", 587, SmtpTls::StartTls)
        );
        assert_eq!(s.username.as_deref(), Some("u@x"));
        assert_eq!(s.password.as_deref(), Some("p/w"));
        assert!(!format!("{s:?}").contains("p/w"));
        let c = cfg(Environment::Development, &[("SMTP_URL", "smtps://h")]).unwrap();
        assert!(matches!(
            c.mail,
            MailTransport::Smtp(SmtpSettings {
                port: 465,
                tls: SmtpTls::Tls,
                ..
            })
        ));
        let c = cfg(
            Environment::Development,
            &[
                ("SMTP_HOST", "h"),
                ("SMTP_TLS", "none"),
                ("SMTP_PORT", "2525"),
            ],
        )
        .unwrap();
        assert!(matches!(
            c.mail,
            MailTransport::Smtp(SmtpSettings {
                port: 2525,
                tls: SmtpTls::None,
                ..
            })
        ));
        let c = cfg(
            Environment::Development,
            &[("SMTP_URL", "smtp://h"), ("SMTP_TIMEOUT_SECONDS", "2")],
        )
        .unwrap();
        assert!(matches!(
            c.mail,
            MailTransport::Smtp(SmtpSettings { timeout, .. }) if timeout == Duration::from_secs(2)
        ));
        let c = cfg(Environment::Development, &[("SMTP_HOST", "h")]).unwrap();
        assert!(matches!(
            c.mail,
            MailTransport::Smtp(SmtpSettings { timeout, .. }) if timeout == DEFAULT_SMTP_TIMEOUT
        ));
        assert!(cfg(
            Environment::Development,
            &[("SMTP_URL", "smtp://h"), ("SMTP_TIMEOUT_SECONDS", "0")]
        )
        .is_err());
        let c = cfg(Environment::Development, &[]).unwrap();
        assert_eq!(c.mail, MailTransport::Folder(PathBuf::from(".mail")));
        for (var, bad) in [
            ("SMTP_URL", "http://x"),
            ("SMTP_TLS", "maybe"),
            ("MAIL_FROM", "nope"),
            ("CALENDAR_MODE", "outlook"),
            ("CALENDAR_SYNC_REQUIRED", "perhaps"),
        ] {
            let mut pairs = vec![(var, bad)];
            if var == "SMTP_TLS" {
                pairs.push(("SMTP_HOST", "h"));
            }
            let e = cfg(Environment::Development, &pairs).unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn google_mode_needs_a_client() {
        assert_eq!(
            cfg(Environment::Development, &[("CALENDAR_MODE", "google")]).unwrap_err(),
            ConfigError::Missing("GOOGLE_CLIENT_ID")
        );
        let c = cfg(
            Environment::Development,
            &[
                ("CALENDAR_MODE", "google"),
                ("GOOGLE_CLIENT_ID", "id"),
                ("GOOGLE_CLIENT_SECRET", "s3cret"),
                ("CALENDAR_SYNC_REQUIRED", "true"),
            ],
        )
        .unwrap();
        assert_eq!(c.calendar_mode, CalendarMode::Connected);
        assert!(c.calendar_sync_required);
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn microsoft_settings() {
        assert!(cfg(Environment::Development, &[])
            .unwrap()
            .microsoft
            .is_none());
        let c = cfg(
            Environment::Development,
            &[
                ("MICROSOFT_CLIENT_ID", "app-id"),
                ("MICROSOFT_CLIENT_SECRET", "m5ecret"),
            ],
        )
        .unwrap();
        let m = c.microsoft.clone().unwrap();
        assert_eq!(m.client_id, "app-id");
        assert_eq!(m.client_secret.as_deref(), Some("m5ecret"));
        assert_eq!(m.tenant, "common");
        assert_eq!(m.authority_base_url, "https://login.microsoftonline.com");
        assert_eq!(m.graph_base_url, "https://graph.microsoft.com/v1.0");
        assert_eq!(
            m.redirect_url,
            "http://127.0.0.1:3000/api/oauth/microsoft/callback"
        );
        assert_eq!(m.scopes, GRAPH_SCOPES);
        assert!(!format!("{c:?}").contains("m5ecret"));
        // A public client (PKCE only) and a single-directory app.
        let c = cfg(
            Environment::Development,
            &[
                ("MICROSOFT_CLIENT_ID", "app-id"),
                ("MICROSOFT_TENANT", "contoso.onmicrosoft.com"),
                ("MICROSOFT_GRAPH_BASE_URL", "http://127.0.0.1:9/v1.0/"),
            ],
        )
        .unwrap();
        let m = c.microsoft.unwrap();
        assert_eq!(m.client_secret, None);
        assert_eq!(m.tenant, "contoso.onmicrosoft.com");
        assert_eq!(m.graph_base_url, "http://127.0.0.1:9/v1.0");
        assert_eq!(
            cfg(
                Environment::Development,
                &[("MICROSOFT_CLIENT_SECRET", "s")]
            )
            .unwrap_err(),
            ConfigError::Missing("MICROSOFT_CLIENT_ID")
        );
        for (var, bad) in [
            ("MICROSOFT_TENANT", "../evil"),
            ("MICROSOFT_TENANT", "a/b"),
            ("MICROSOFT_AUTHORITY_URL", "login.microsoftonline.com"),
            ("MICROSOFT_REDIRECT_URL", "ftp://x"),
        ] {
            let e = cfg(
                Environment::Development,
                &[("MICROSOFT_CLIENT_ID", "app-id"), (var, bad)],
            )
            .unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
        }
        let prod = [
            (
                "ENCRYPTION_KEY",
                "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
            ),
            ("MICROSOFT_CLIENT_ID", "app-id"),
            ("MICROSOFT_CLIENT_SECRET", "m5ecret"),
        ];
        let e = cfg(Environment::Production, &prod).unwrap_err();
        assert!(e.to_string().contains("MICROSOFT_REDIRECT_URL"), "{e}");
        let mut ok = prod.to_vec();
        ok.push((
            "MICROSOFT_REDIRECT_URL",
            "https://x.example.com/api/oauth/microsoft/callback",
        ));
        assert!(cfg(Environment::Production, &ok).is_ok());
        let mut plain = ok.clone();
        plain.push(("MICROSOFT_GRAPH_BASE_URL", "http://graph.example.com/v1.0"));
        let e = cfg(Environment::Production, &plain).unwrap_err();
        assert!(e.to_string().contains("MICROSOFT_GRAPH_BASE_URL"), "{e}");
    }

    #[test]
    fn the_outbound_allow_list_is_for_development_only() {
        let c = cfg(Environment::Development, &[]).unwrap();
        assert_eq!(c.outbound, OutboundPolicy::new(true, &[] as &[&str]));
        assert!(!c.outbound.has_allow_list());
        let c = cfg(
            Environment::Development,
            &[("OUTBOUND_ALLOW_HOSTS", "127.0.0.1, localhost,,[::1]")],
        )
        .unwrap();
        assert!(c.outbound.host_allowed("127.0.0.1"));
        assert!(c.outbound.host_allowed("localhost"));
        assert!(c.outbound.host_allowed("::1"));
        let e = cfg(
            Environment::Development,
            &[("OUTBOUND_ALLOW_HOSTS", "http://127.0.0.1/")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("OUTBOUND_ALLOW_HOSTS"), "{e}");
        let prod = [(
            "ENCRYPTION_KEY",
            "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
        )];
        let c = cfg(Environment::Production, &prod).unwrap();
        assert_eq!(c.outbound, OutboundPolicy::strict());
        let mut with_list = prod.to_vec();
        with_list.push(("OUTBOUND_ALLOW_HOSTS", "127.0.0.1"));
        let e = cfg(Environment::Production, &with_list).unwrap_err();
        assert!(
            e.to_string().contains("OUTBOUND_ALLOW_HOSTS")
                && e.to_string().contains("production refuses"),
            "{e}"
        );
    }

    #[test]
    fn keys() {
        assert_eq!(parse_key(&"ab".repeat(32)), Some([0xab; 32]));
        assert!(parse_key("short").is_none());
        assert!(parse_key(DEV_ENCRYPTION_KEY).is_some());
    }
}
