//! The chat agent's settings: the OpenAI-compatible model (none = the deterministic engine)
//! and the follow-up limits (per conversation, per recipient, per tenant per day).

use std::time::Duration as StdDuration;

use chrono::Duration;

use super::ConfigError;

#[derive(Clone)]
pub struct AgentLimits {
    pub followup_max_per_session: i64,
    pub followup_cooldown: Duration,
    /// Follow-ups one tenant's chats may schedule in any 24 hours, all conversations together.
    pub followup_max_per_tenant_per_day: i64,
}

impl Default for AgentLimits {
    fn default() -> Self {
        Self {
            followup_max_per_session: 2,
            followup_cooldown: Duration::minutes(60),
            followup_max_per_tenant_per_day: 200,
        }
    }
}

/// The agent's settings (environment variables, read by [`crate::Config`]).
#[derive(Clone, Default)]
pub struct AgentConfig {
    pub openai_api_key: Option<String>,
    pub openai_base_url: Option<String>,
    pub openai_model: String,
    pub openai_timeout: StdDuration,
    pub limits: AgentLimits,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field(
                "openai_api_key",
                &self.openai_api_key.as_ref().map(|_| "<set>"),
            )
            .field("openai_base_url", &self.openai_base_url)
            .field("openai_model", &self.openai_model)
            .finish_non_exhaustive()
    }
}

impl AgentConfig {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let num =
            |var: &'static str, default: u64, min: u64, max: u64| -> Result<i64, ConfigError> {
                // bounded by `max`, so the conversion is exact
                super::env_number(non_empty(var).as_deref(), var, default, min, max)
                    .map(|n| n as i64)
            };
        let base = non_empty("OPENAI_BASE_URL");
        if let Some(b) = &base {
            if !(b.starts_with("http://") || b.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    var: "OPENAI_BASE_URL",
                    reason: "must start with http:// or https://".into(),
                });
            }
        }
        Ok(Self {
            openai_api_key: non_empty("OPENAI_API_KEY"),
            openai_base_url: base,
            openai_model: non_empty("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o".into()),
            openai_timeout: StdDuration::from_secs(
                num("OPENAI_TIMEOUT_SECONDS", 20, 1, 120)? as u64
            ),
            limits: AgentLimits {
                followup_max_per_session: num("FOLLOWUP_MAX_PER_BOOKING", 2, 1, 10)?,
                followup_cooldown: Duration::minutes(num(
                    "FOLLOWUP_COOLDOWN_MINUTES",
                    60,
                    0,
                    1440,
                )?),
                followup_max_per_tenant_per_day: num(
                    "FOLLOWUP_MAX_PER_TENANT_PER_DAY",
                    200,
                    1,
                    100_000,
                )?,
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn agent_config_defaults_and_errors() {
        let c = AgentConfig::from_lookup(&|_| None).unwrap_or_default();
        assert_eq!(c.openai_model, "gpt-4o");
        assert!(c.openai_api_key.is_none());
        assert_eq!(c.limits.followup_max_per_session, 2);
        assert_eq!(c.limits.followup_cooldown, Duration::minutes(60));
        assert_eq!(c.limits.followup_max_per_tenant_per_day, 200);
        let c = AgentConfig::from_lookup(&|k| {
            (k == "FOLLOWUP_MAX_PER_TENANT_PER_DAY").then(|| "25".into())
        })
        .unwrap_or_default();
        assert_eq!(c.limits.followup_max_per_tenant_per_day, 25);
        let e = AgentConfig::from_lookup(&|k| {
            (k == "FOLLOWUP_MAX_PER_TENANT_PER_DAY").then(|| "0".into())
        });
        assert!(matches!(
            e,
            Err(ConfigError::Invalid {
                var: "FOLLOWUP_MAX_PER_TENANT_PER_DAY",
                ..
            })
        ));
        let e =
            AgentConfig::from_lookup(&|k| (k == "FOLLOWUP_MAX_PER_BOOKING").then(|| "0".into()));
        assert!(matches!(
            e,
            Err(ConfigError::Invalid {
                var: "FOLLOWUP_MAX_PER_BOOKING",
                ..
            })
        ));
        let e = AgentConfig::from_lookup(&|k| (k == "OPENAI_BASE_URL").then(|| "ftp://x".into()));
        assert!(e.is_err());
        let c = AgentConfig::from_lookup(&|k| (k == "OPENAI_API_KEY").then(|| "sk-secret".into()));
        assert!(!format!("{c:?}").contains("sk-secret"));
    }
}
