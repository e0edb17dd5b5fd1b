//! Configuration from the environment, validated once at start. A bad value is an error
//! that names the variable; a production start without real secrets is refused.

use std::time::Duration;

pub mod agent;
pub mod aws;
pub mod budgets;
pub mod calendar;
pub mod delivery;
pub mod role;
pub mod telephony;
pub mod vars;

pub use agent::{AgentConfig, AgentLimits};
pub use aws::{AwsConfig, AwsCredentials};
pub use budgets::{BudgetConfig, ServeLimits};
pub use calendar::CalendarFailMode;
pub use delivery::DeliveryConfig;
pub use role::Role;
pub use telephony::{SignatureMode, TelephonyConfig};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("invalid environment variable {var}: {reason}")]
    Invalid { var: &'static str, reason: String },
    /// A setting that works in development but would fail silently in production (mail
    /// written to a folder, SMS only logged): refused at start.
    #[error("production refuses to start: {reason} (set {var})")]
    Production {
        var: &'static str,
        reason: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub environment: Environment,
    pub log_format: LogFormat,
    /// Bearer key for platform-level admin (creating tenants). None disables those routes.
    pub platform_key: Option<String>,
    pub hold_ttl: Duration,
    /// How long a waitlist offer keeps its hold (`WAITLIST_OFFER_MINUTES`, 1–1440, 15).
    pub waitlist_offer_ttl: Duration,
    pub db_max_connections: u32,
    pub hold_sweep_interval: Duration,
    /// `RETENTION_DAYS` (default 90): the scheduler deletes chat messages, call transcripts
    /// and inbound SMS records older than this.
    pub retention_days: u32,
    /// Master switch of the autonomous tools (`AUTONOMY_ENABLED`, off by default): when off,
    /// events are still recorded and decided by policy, but no job is enqueued or run.
    pub autonomy_enabled: bool,
    /// The EventBridge bus the outbox relay publishes to (`EVENT_BUS_NAME`).
    pub event_bus_name: Option<String>,
    /// The region, credentials and endpoint of the AWS adapters (the runtime's `AWS_*`).
    pub aws: AwsConfig,
    /// The API Gateway Management endpoint the chat socket function posts to
    /// (`WS_MANAGEMENT_ENDPOINT`); unset = derived from each request's domain and stage.
    pub ws_management_endpoint: Option<String>,
    /// The built-in calendar's simulated failure (`CALENDAR_FAIL_MODE`).
    pub calendar_fail_mode: CalendarFailMode,
    /// The chat agent: OpenAI settings (none = the deterministic engine) and follow-up limits.
    pub agent: AgentConfig,
    /// Twilio webhooks and API, handoff links, SMS and call limits.
    pub telephony: crate::config::TelephonyConfig,
    /// Email, SMS delivery, webhooks, Google Calendar, `ENCRYPTION_KEY`.
    pub delivery: DeliveryConfig,
    /// `GOMOMO_DEMO_API_KEY`: the API key `seed-demo` stores for the demo tenant (at least
    /// 16 characters; otherwise a random key is minted).
    pub demo_api_key: Option<String>,
    /// `DEMO_OWNER_PASSWORD`: the password `seed-demo` gives the demo tenant's owner
    /// (`owner@demo.gomomo.local`); unset, a random one is minted and printed once. Refused
    /// in production, where `seed-demo` creates no owner.
    pub demo_owner_password: Option<String>,
    /// `CHAT_WS_URL`: the WebSocket URL the served pages give the widget (`ws://` or
    /// `wss://`); unset = the page uses the same origin's `/ws`.
    pub chat_ws_url: Option<String>,
    /// `GOMOMO_CLOCK_OFFSET_SECONDS` (development only, refused in production): added to
    /// the system clock, so a local run of the deployed binaries can play "tomorrow".
    pub clock_offset: chrono::Duration,
    /// Request budgets of the public routes and the trusted proxies.
    pub budgets: BudgetConfig,
    /// `gomomo serve`'s connection cap and timeouts.
    pub serve: ServeLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("log_format", &self.log_format)
            .field("platform_key", &self.platform_key.as_ref().map(|_| "<set>"))
            .field("hold_ttl", &self.hold_ttl)
            .field("waitlist_offer_ttl", &self.waitlist_offer_ttl)
            .field("db_max_connections", &self.db_max_connections)
            .finish_non_exhaustive()
    }
}

/// A whole number from the environment: `default` when unset, else within `min..=max`,
/// with an error that names the variable. Every config section reads numbers through this.
pub(crate) fn env_number(
    value: Option<&str>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match value.map(str::trim) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                var,
                reason: format!("{v:?} is not a whole number from {min} to {max}"),
            }),
        },
    }
}

/// Why a secret of sufficient length still looks chosen rather than random, if it does:
/// fewer than 8 distinct symbols, a repeated block (`abcabc…`), or mostly runs of
/// neighbouring symbols (`abcdef…`, `0123…`). Random keys of 32 characters or bytes pass with
/// near certainty; production refuses secrets that do not.
pub(crate) fn low_variety<T: Copy + Ord + Into<u32>>(symbols: &[T]) -> Option<&'static str> {
    let n = symbols.len();
    let distinct: std::collections::BTreeSet<T> = symbols.iter().copied().collect();
    if distinct.len() < 8 {
        return Some("has fewer than 8 distinct characters");
    }
    let periodic = (1..=n / 2).any(|p| {
        symbols
            .iter()
            .enumerate()
            .all(|(i, c)| *c == symbols[i % p])
    });
    if periodic {
        return Some("repeats one block");
    }
    let steps = symbols
        .windows(2)
        .filter(|w| w[0].into().abs_diff(w[1].into()) == 1)
        .count();
    if steps * 2 > n.saturating_sub(1) {
        return Some("is mostly a run of consecutive characters");
    }
    None
}

/// [`low_variety`] over a secret's characters.
pub(crate) fn weak_text_secret(s: &str) -> Option<&'static str> {
    low_variety(&s.chars().map(u32::from).collect::<Vec<_>>())
}

impl Config {
    /// Every setting (the standalone server's view).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_for(Role::Standalone)
    }

    /// The settings `role` reads (see [`vars`]); the others keep their defaults.
    pub fn from_env_for(role: Role) -> Result<Self, ConfigError> {
        Self::from_lookup_for(role, |k| std::env::var(k).ok())
    }

    /// Every setting, read through `get` so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_for(Role::Standalone, get)
    }

    /// The settings `role` reads, through `get`: a variable outside the role's rows of
    /// [`vars::VARS`] is never asked for and keeps its default.
    pub fn from_lookup_for(
        role: Role,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::parse(role, move |k: &str| {
            debug_assert!(
                vars::find(k).is_some() || vars::RUNTIME.contains(&k),
                "{k} is read but missing from config::vars::VARS"
            );
            if vars::reads(role, k) {
                get(k)
            } else {
                None
            }
        })
    }

    /// The parsing behind [`Config::from_lookup_for`], without the role filter: every name
    /// the code asks for reaches `get` (the tests record them here).
    fn parse(role: Role, get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let database_url = non_empty("DATABASE_URL").ok_or(ConfigError::Missing("DATABASE_URL"))?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let environment = match non_empty("GOMOMO_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "GOMOMO_ENV",
                    reason: format!("{other:?} is not development or production"),
                })
            }
        };
        let on_lambda = non_empty("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let log_format = match non_empty("LOG_FORMAT").as_deref() {
            None if on_lambda => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") | Some("text") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "LOG_FORMAT",
                    reason: format!("{other:?} is not json or pretty"),
                })
            }
        };
        let platform_key = non_empty("GOMOMO_PLATFORM_KEY");
        if environment == Environment::Production && vars::reads(role, "GOMOMO_PLATFORM_KEY") {
            match &platform_key {
                None => return Err(ConfigError::Missing("GOMOMO_PLATFORM_KEY")),
                Some(k) if k.len() < 32 || k.to_ascii_lowercase().contains("dev") => {
                    return Err(ConfigError::Invalid {
                        var: "GOMOMO_PLATFORM_KEY",
                        reason: "production needs a random key of at least 32 characters".into(),
                    })
                }
                Some(k) if weak_text_secret(k).is_some() => {
                    return Err(ConfigError::Invalid {
                        var: "GOMOMO_PLATFORM_KEY",
                        reason: format!(
                            "production needs a random key; this one {}",
                            weak_text_secret(k).unwrap_or_default()
                        ),
                    })
                }
                Some(_) => {}
            }
        }
        let num = |var: &'static str, default: u64, min: u64, max: u64| {
            crate::config::env_number(non_empty(var).as_deref(), var, default, min, max)
        };
        let hold_ttl = Duration::from_secs(num("HOLD_TTL_SECONDS", 300, 30, 3600)?);
        let waitlist_offer_ttl =
            Duration::from_secs(60 * num("WAITLIST_OFFER_MINUTES", 15, 1, 1440)?);
        let default_pool = if on_lambda { 2 } else { 10 };
        let db_max_connections = num("DB_MAX_CONNECTIONS", default_pool, 1, 200)? as u32;
        let hold_sweep_interval =
            Duration::from_secs(num("HOLD_SWEEP_INTERVAL_SECONDS", 30, 1, 3600)?);
        let retention_days = num("RETENTION_DAYS", 90, 1, 3650)? as u32;
        let autonomy_enabled = match non_empty("AUTONOMY_ENABLED")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") | Some("0") | Some("no") | Some("off") => false,
            Some("true") | Some("1") | Some("yes") | Some("on") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "AUTONOMY_ENABLED",
                    reason: format!("{other:?} is not true or false"),
                })
            }
        };
        let event_bus_name = non_empty("EVENT_BUS_NAME").map(|v| v.trim().to_string());
        if let Some(bus) = &event_bus_name {
            let ok = bus.len() <= 256
                && bus
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c));
            if !ok {
                return Err(ConfigError::Invalid {
                    var: "EVENT_BUS_NAME",
                    reason: "must be a bus name or ARN (letters, digits, . _ - / :), at most 256 characters".into(),
                });
            }
        }
        let ws_management_endpoint =
            non_empty("WS_MANAGEMENT_ENDPOINT").map(|v| v.trim().to_string());
        let calendar_fail_mode = match non_empty("CALENDAR_FAIL_MODE") {
            None => CalendarFailMode::None,
            Some(v) => CalendarFailMode::parse(v.trim()).ok_or_else(|| ConfigError::Invalid {
                var: "CALENDAR_FAIL_MODE",
                reason: format!(
                    "{v:?} is not none, auth_error, network_error, timeout or all_ops_fail"
                ),
            })?,
        };
        let agent = AgentConfig::from_lookup(&get)?;
        let telephony = crate::config::TelephonyConfig::from_lookup(&get, environment)?;
        let delivery = DeliveryConfig::from_lookup_as(&get, environment, role)?;
        let demo_api_key = get("GOMOMO_DEMO_API_KEY");
        let demo_owner_password = match non_empty("DEMO_OWNER_PASSWORD") {
            None => None,
            Some(_) if environment == Environment::Production => {
                return Err(ConfigError::Invalid {
                    var: "DEMO_OWNER_PASSWORD",
                    reason: "the demo owner is for development runs only".into(),
                })
            }
            Some(v) if !(12..=256).contains(&v.chars().count()) => {
                return Err(ConfigError::Invalid {
                    var: "DEMO_OWNER_PASSWORD",
                    reason: "must be 12 to 256 characters".into(),
                })
            }
            Some(v) => Some(v),
        };
        let chat_ws_url = non_empty("CHAT_WS_URL").map(|v| v.trim().to_string());
        if let Some(url) = &chat_ws_url {
            if !(url.starts_with("wss://") || url.starts_with("ws://")) {
                return Err(ConfigError::Invalid {
                    var: "CHAT_WS_URL",
                    reason: "must start with wss:// or ws://".into(),
                });
            }
        }
        let clock_offset = match non_empty("GOMOMO_CLOCK_OFFSET_SECONDS") {
            None => chrono::Duration::zero(),
            Some(_) if environment == Environment::Production => {
                return Err(ConfigError::Invalid {
                    var: "GOMOMO_CLOCK_OFFSET_SECONDS",
                    reason: "a clock offset is for development runs only".into(),
                })
            }
            Some(v) => match v.trim().parse::<i64>() {
                Ok(s) if s.abs() <= 366 * 86_400 => chrono::Duration::seconds(s),
                _ => {
                    return Err(ConfigError::Invalid {
                        var: "GOMOMO_CLOCK_OFFSET_SECONDS",
                        reason: format!("{v:?} is not a whole number of seconds within a year"),
                    })
                }
            },
        };
        let budgets = BudgetConfig::from_lookup(&get, environment)?;
        let serve = ServeLimits::from_lookup(&get)?;
        let aws = AwsConfig::from_lookup(&get);
        Ok(Self {
            aws,
            budgets,
            serve,
            chat_ws_url,
            clock_offset,
            demo_api_key,
            demo_owner_password,
            delivery,
            agent,
            telephony,
            autonomy_enabled,
            event_bus_name,
            ws_management_endpoint,
            calendar_fail_mode,
            database_url,
            environment,
            log_format,
            platform_key,
            hold_ttl,
            waitlist_offer_ttl,
            db_max_connections,
            hold_sweep_interval,
            retention_days,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_errors_name_the_variable() {
        let c = cfg(&[("DATABASE_URL", "postgres://x@h/db")]).unwrap();
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.hold_ttl, Duration::from_secs(300));
        assert_eq!(cfg(&[]).unwrap_err(), ConfigError::Missing("DATABASE_URL"));
        let e = cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(e.to_string().contains("DATABASE_URL"));
        let e = cfg(&[("DATABASE_URL", "postgres://x"), ("HOLD_TTL_SECONDS", "5")]).unwrap_err();
        assert!(e.to_string().contains("HOLD_TTL_SECONDS"), "{e}");
        let e = cfg(&[("DATABASE_URL", "postgres://x"), ("GOMOMO_ENV", "staging")]).unwrap_err();
        assert!(e.to_string().contains("GOMOMO_ENV"));
    }

    #[test]
    fn production_refuses_missing_or_weak_secrets() {
        let base = ("DATABASE_URL", "postgres://x");
        let prod = ("GOMOMO_ENV", "production");
        assert_eq!(
            cfg(&[base, prod]).unwrap_err(),
            ConfigError::Missing("GOMOMO_PLATFORM_KEY")
        );
        assert!(cfg(&[base, prod, ("GOMOMO_PLATFORM_KEY", "short")]).is_err());
        for low_variety in [
            "a".repeat(40),
            "xyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxyxy".into(),
            "0123456789abcdefghijklmnopqrstuvwxyz".into(),
        ] {
            let e = cfg(&[base, prod, ("GOMOMO_PLATFORM_KEY", &low_variety)]).unwrap_err();
            assert!(e.to_string().contains("GOMOMO_PLATFORM_KEY"), "{e}");
        }
        assert!(cfg(&[
            base,
            prod,
            ("GOMOMO_PLATFORM_KEY", "dev-only-placeholder-key-0000000000")
        ])
        .is_err());
        let ok = cfg(&[
            base,
            prod,
            ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
            (
                "ENCRYPTION_KEY",
                "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
            ),
        ])
        .unwrap();
        assert_eq!(ok.environment, Environment::Production);
        assert!(
            !format!("{ok:?}").contains("k3J9"),
            "secrets never reach Debug output"
        );
    }

    #[test]
    fn production_refuses_a_missing_or_development_encryption_key() {
        let base = [
            ("DATABASE_URL", "postgres://x"),
            ("GOMOMO_ENV", "production"),
            ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
        ];
        assert_eq!(
            cfg(&base).unwrap_err(),
            ConfigError::Missing("ENCRYPTION_KEY")
        );
        for weak in [
            crate::config::delivery::DEV_ENCRYPTION_KEY,
            &"00".repeat(32),
            &"0102".repeat(16),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "not-a-key",
        ] {
            let mut pairs = base.to_vec();
            pairs.push(("ENCRYPTION_KEY", weak));
            let e = cfg(&pairs).unwrap_err();
            assert!(e.to_string().contains("ENCRYPTION_KEY"), "{e}");
        }
        let mut pairs = base.to_vec();
        pairs.push((
            "ENCRYPTION_KEY",
            "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
        ));
        assert!(cfg(&pairs).is_ok());
        // With Google, the OAuth callback (and so its state cookie) must be https.
        pairs.extend([("GOOGLE_CLIENT_ID", "cid"), ("GOOGLE_CLIENT_SECRET", "cs")]);
        let e = cfg(&pairs).unwrap_err();
        assert!(e.to_string().contains("GOOGLE_REDIRECT_URL"), "{e}");
        pairs.push((
            "GOOGLE_REDIRECT_URL",
            "https://x.example.com/api/oauth/google/callback",
        ));
        assert!(cfg(&pairs).is_ok());
        // Development falls back to the (public) development key.
        let dev = cfg(&[("DATABASE_URL", "postgres://x")]).unwrap();
        assert_eq!(
            Some(dev.delivery.encryption_key),
            crate::config::delivery::parse_key(crate::config::delivery::DEV_ENCRYPTION_KEY)
        );
    }

    #[test]
    fn autonomy_settings() {
        let c = cfg(&[("DATABASE_URL", "postgres://x")]).unwrap();
        assert!(!c.autonomy_enabled, "autonomy is off by default");
        assert_eq!(c.event_bus_name, None);
        let c = cfg(&[
            ("DATABASE_URL", "postgres://x"),
            ("AUTONOMY_ENABLED", "true"),
            ("EVENT_BUS_NAME", "gomomo-events"),
            ("CALENDAR_FAIL_MODE", "timeout"),
        ])
        .unwrap();
        assert!(c.autonomy_enabled);
        assert_eq!(c.event_bus_name.as_deref(), Some("gomomo-events"));
        assert_eq!(c.calendar_fail_mode, CalendarFailMode::Timeout);
        for (var, bad) in [
            ("AUTONOMY_ENABLED", "maybe"),
            ("EVENT_BUS_NAME", "bad bus!"),
            ("CALENDAR_FAIL_MODE", "sometimes"),
        ] {
            let e = cfg(&[("DATABASE_URL", "postgres://x"), (var, bad)]).unwrap_err();
            assert!(e.to_string().contains(var), "{e}");
        }
    }

    #[test]
    fn lambda_defaults_to_json_logs() {
        let c = cfg(&[
            ("DATABASE_URL", "postgres://x"),
            ("AWS_LAMBDA_FUNCTION_NAME", "api"),
        ])
        .unwrap();
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(c.db_max_connections, 2);
    }

    #[test]
    fn the_clock_offset_is_for_development_only() {
        let dev = cfg(&[
            ("DATABASE_URL", "postgres://x"),
            ("GOMOMO_CLOCK_OFFSET_SECONDS", "90000"),
        ])
        .unwrap();
        assert_eq!(dev.clock_offset, chrono::Duration::seconds(90_000));
        assert!(cfg(&[("DATABASE_URL", "postgres://x")])
            .unwrap()
            .clock_offset
            .is_zero());
        let bad = cfg(&[
            ("DATABASE_URL", "postgres://x"),
            ("GOMOMO_CLOCK_OFFSET_SECONDS", "tomorrow"),
        ])
        .unwrap_err();
        assert!(
            bad.to_string().contains("GOMOMO_CLOCK_OFFSET_SECONDS"),
            "{bad}"
        );
        let prod = cfg(&[
            ("DATABASE_URL", "postgres://x"),
            ("GOMOMO_ENV", "production"),
            ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
            (
                "ENCRYPTION_KEY",
                "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
            ),
            ("GOMOMO_CLOCK_OFFSET_SECONDS", "60"),
        ])
        .unwrap_err();
        assert!(prod.to_string().contains("development runs only"), "{prod}");
    }

    #[test]
    fn the_demo_owner_password_is_for_development_only() {
        let base = ("DATABASE_URL", "postgres://x");
        let dev = cfg(&[base, ("DEMO_OWNER_PASSWORD", "a password for the demo")]).unwrap();
        assert_eq!(
            dev.demo_owner_password.as_deref(),
            Some("a password for the demo")
        );
        assert!(cfg(&[base]).unwrap().demo_owner_password.is_none());
        let short = cfg(&[base, ("DEMO_OWNER_PASSWORD", "short")]).unwrap_err();
        assert!(short.to_string().contains("DEMO_OWNER_PASSWORD"), "{short}");
        let prod = cfg(&[
            base,
            ("GOMOMO_ENV", "production"),
            ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
            (
                "ENCRYPTION_KEY",
                "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
            ),
            ("DEMO_OWNER_PASSWORD", "a password for the demo"),
        ])
        .unwrap_err();
        assert!(prod.to_string().contains("DEMO_OWNER_PASSWORD"), "{prod}");
    }

    /// Every name the parsing code asks for, reading as `role`, before the role filter.
    fn asked_raw(role: Role) -> BTreeSet<String> {
        let seen = RefCell::new(BTreeSet::new());
        Config::parse(role, |k| {
            seen.borrow_mut().insert(k.to_string());
            (k == "DATABASE_URL").then(|| "postgres://recorded/db".to_string())
        })
        .unwrap();
        seen.into_inner()
    }

    /// The table's names and the runtime's.
    fn table_names() -> BTreeSet<String> {
        vars::VARS
            .iter()
            .map(|v| v.name)
            .chain(vars::RUNTIME.iter().copied())
            .map(str::to_string)
            .collect()
    }

    /// The code reads every row of the table and nothing outside it: as `Standalone` every
    /// section is parsed, and what it asks for, unfiltered, is exactly the table; no role's
    /// parsing asks for a name the table lacks.
    #[test]
    fn the_code_reads_exactly_the_table() {
        assert_eq!(asked_raw(Role::Standalone), table_names());
        for role in Role::ALL {
            let outside: Vec<_> = asked_raw(role)
                .difference(&table_names())
                .cloned()
                .collect();
            assert!(outside.is_empty(), "{role:?} reads {outside:?}");
        }
    }

    /// The names that reach the environment, reading as `role` (after the role filter).
    fn asked(role: Role) -> BTreeSet<String> {
        let seen = RefCell::new(BTreeSet::new());
        Config::from_lookup_for(role, |k| {
            seen.borrow_mut().insert(k.to_string());
            (k == "DATABASE_URL").then(|| "postgres://recorded/db".to_string())
        })
        .unwrap();
        seen.into_inner()
    }

    /// Reading as a role, the names that pass the filter are exactly its rows: each row of
    /// the role is asked for on that role's path (the filter itself rules out the rest).
    #[test]
    fn each_role_reads_exactly_its_rows_of_the_table() {
        for role in Role::ALL {
            let mut expected: BTreeSet<String> =
                vars::names(role).into_iter().map(str::to_string).collect();
            expected.extend(vars::RUNTIME.iter().map(|s| s.to_string()));
            assert_eq!(asked(role), expected, "{role:?}");
        }
    }

    /// A variable outside a role's rows keeps its default even when the environment has it.
    #[test]
    fn a_role_ignores_what_it_does_not_read() {
        let env = |k: &str| match k {
            "DATABASE_URL" => Some("postgres://x/db".to_string()),
            "AUTONOMY_ENABLED" => Some("true".to_string()),
            "SMTP_HOST" => Some("smtp.example.com".to_string()),
            _ => None,
        };
        let api = Config::from_lookup_for(Role::Api, env).unwrap();
        assert!(!api.autonomy_enabled);
        assert!(matches!(
            api.delivery.mail,
            crate::config::delivery::MailTransport::Folder(_)
        ));
        let worker = Config::from_lookup_for(Role::Worker, env).unwrap();
        assert!(worker.autonomy_enabled);
        assert!(matches!(
            worker.delivery.mail,
            crate::config::delivery::MailTransport::Smtp(_)
        ));
    }
}
