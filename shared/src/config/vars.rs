//! Which environment variables each role reads: the one table that both
//! [`crate::Config::from_lookup_for`] and `scripts/check_template.py` follow.
//!
//! A role reads exactly the variables listed for it; any other variable keeps its default
//! in that process, whatever the environment holds. [`Role::Standalone`] (`gomomo serve` and
//! its commands) reads every variable of the table.
//!
//! What the tests prove about the table, and what they do not:
//!
//! - the code reads the table's variables and no others: a unit test of [`crate::Config`]
//!   records every name the parsing asks for before the role filter, reading as
//!   `Standalone` (every section parsed), and asserts it equals the table's names; no
//!   role's parsing asks for a name outside the table (also a debug assertion on each read);
//! - each row of a role is read on that role's path: reading as the role, the names that
//!   pass the filter equal [`names`] of the role;
//! - each function's `Deploy` rows are enough to start it in production: `shared/tests/app.rs`
//!   builds every function role's configuration from only its `Deploy` rows (with values
//!   of the shape the template gives) and asserts the start checks pass, so a variable a
//!   role's start needs but its rows lack fails there; `scripts/check_template.py` checks
//!   that the template gives each function exactly its role's rows.
//!
//! Not proven: that a role's rows hold every variable its work needs beyond the start
//! checks. A variable left out of a role's rows keeps its default in that process; for an
//! `Optional` tuning knob that shows only as a default where a setting was meant.
//!
//! # Format (parsed by `scripts/check_template.py`; keep to it)
//!
//! - a role group is one `const NAME: &[Role] = &[Variant, ...];` whose variants are
//!   [`Role`] variants without the `Role::` prefix;
//! - each entry of [`VARS`] is `var("NAME", Need, ROLES)`, where `Need` is `Deploy`,
//!   `Optional` or `Local` and `ROLES` is a group name or an inline `&[Variant, ...]`;
//!   an entry may span lines (rustfmt), comments between entries are allowed.
//!
//! What the template owes each function (see [`Need`]): every `Deploy` variable of its role,
//! any `Optional` one of its role, and nothing else (besides the Lambda runtime's `AWS_*`,
//! `RUST_LOG` and `LOG_FORMAT`).

use super::role::Role;
use super::role::Role::{Api, ChatHttp, ChatWs, Excel, Handoff, Migrate, Scheduler, Voice, Worker};
use Need::{Deploy, Local, Optional};

/// What a deployment owes a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The template must give it to every function whose role reads it.
    Deploy,
    /// A tuning knob with a safe default: the template may give it.
    Optional,
    /// Development and tests only (fakes, clock offset, local endpoints): the template
    /// must not give it; a local run sets it as a named override.
    Local,
}

/// One environment variable and the roles (besides `Standalone`) that read it.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub need: Need,
    pub roles: &'static [Role],
}

const fn var(name: &'static str, need: Need, roles: &'static [Role]) -> Var {
    Var { name, need, roles }
}

/// Every function of the template.
const EVERY: &[Role] = &[
    Api, ChatHttp, Excel, ChatWs, Voice, Handoff, Worker, Scheduler, Migrate,
];
/// The functions that assemble the whole application: they write or expire bookings, so
/// they carry the calendar and publish events.
const BOOKS: &[Role] = &[
    Api, ChatHttp, Excel, ChatWs, Voice, Handoff, Worker, Scheduler,
];
/// The chat agent (the REST chat, the WebSocket chat).
const AGENT: &[Role] = &[ChatHttp, ChatWs];
/// The public routes that keep request budgets: the REST API and both chats.
const BUDGETED: &[Role] = &[Api, ChatHttp, ChatWs];
/// Twilio webhooks and handoff links.
const TWILIO: &[Role] = &[Voice, Handoff];
/// The SMS gate: reminders and confirmations, handoff links texted to a caller.
const SMS: &[Role] = &[Voice, Handoff, Worker, Scheduler];
/// The notification and webhook dispatchers, and the autonomous jobs.
const DELIVERS: &[Role] = &[Worker, Scheduler];
/// `gomomo serve` only (its in-process timers and commands).
const STANDALONE_ONLY: &[Role] = &[];

/// Set by the Lambda runtime, read by every role: the function's name (log format
/// default), and the region and role credentials the AWS adapters sign with (with
/// `AWS_ENDPOINT_URL`, the SDKs' override of every AWS address, set by tests).
pub const RUNTIME: &[&str] = &[
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
];

/// The table.
pub const VARS: &[Var] = &[
    // The process.
    var("DATABASE_URL", Deploy, EVERY),
    var("GOMOMO_ENV", Deploy, EVERY),
    var("LOG_FORMAT", Deploy, EVERY),
    var("DB_MAX_CONNECTIONS", Deploy, EVERY),
    var("GOMOMO_CLOCK_OFFSET_SECONDS", Local, BOOKS),
    var("EVENT_BUS_NAME", Deploy, BOOKS),
    var("HOLD_TTL_SECONDS", Optional, BOOKS),
    var("WAITLIST_OFFER_MINUTES", Optional, BOOKS),
    var("HOLD_SWEEP_INTERVAL_SECONDS", Local, STANDALONE_ONLY),
    var("GOMOMO_DEMO_API_KEY", Local, STANDALONE_ONLY),
    var("DEMO_OWNER_PASSWORD", Local, STANDALONE_ONLY),
    // Privacy: chat messages, call transcripts and inbound SMS records are purged after this.
    var("RETENTION_DAYS", Deploy, &[Scheduler]),
    // The api: admin key, the widget's socket.
    var("GOMOMO_PLATFORM_KEY", Deploy, &[Api]),
    var("CHAT_WS_URL", Deploy, &[Api]),
    var("WS_MANAGEMENT_ENDPOINT", Optional, &[ChatWs]),
    // Autonomy.
    var("AUTONOMY_ENABLED", Deploy, DELIVERS),
    // The chat agent.
    var("OPENAI_API_KEY", Deploy, AGENT),
    var("OPENAI_MODEL", Deploy, AGENT),
    var("OPENAI_BASE_URL", Optional, AGENT),
    var("OPENAI_TIMEOUT_SECONDS", Optional, AGENT),
    var("FOLLOWUP_MAX_PER_BOOKING", Optional, AGENT),
    var("FOLLOWUP_COOLDOWN_MINUTES", Optional, AGENT),
    var("FOLLOWUP_MAX_PER_TENANT_PER_DAY", Optional, AGENT),
    // Twilio: webhooks, handoff links, SMS.
    var("TWILIO_AUTH_TOKEN", Deploy, SMS),
    var("TWILIO_ACCOUNT_SID", Deploy, SMS),
    var("TWILIO_API_BASE_URL", Local, SMS),
    var("TWILIO_SIGNATURE_VALIDATION", Local, TWILIO),
    var(
        "PUBLIC_BASE_URL",
        Deploy,
        &[Voice, Handoff, ChatWs, Worker, Scheduler],
    ),
    var("HANDOFF_SECRET", Deploy, TWILIO),
    var("HANDOFF_TTL_MINUTES", Optional, TWILIO),
    var("SMS_RATE_LIMIT_MAX", Optional, SMS),
    var("SMS_RATE_LIMIT_WINDOW_MINUTES", Optional, SMS),
    var("VOICE_MAX_CONCURRENT_CALLS", Optional, &[Voice]),
    var("VOICE_MAX_TURNS", Optional, &[Voice]),
    var("VOICE_MAX_CALL_SECONDS", Optional, &[Voice]),
    var("VOICE_MAX_RETRIES", Optional, &[Voice]),
    // Email.
    var("SMTP_URL", Optional, DELIVERS),
    var("SMTP_HOST", Deploy, DELIVERS),
    var("SMTP_PORT", Deploy, DELIVERS),
    var("SMTP_TLS", Deploy, DELIVERS),
    var("SMTP_USERNAME", Deploy, DELIVERS),
    var("SMTP_PASSWORD", Deploy, DELIVERS),
    var("SMTP_TIMEOUT_SECONDS", Optional, DELIVERS),
    var("MAIL_DIR", Local, DELIVERS),
    var("MAIL_FROM", Deploy, DELIVERS),
    // Webhooks and notifications.
    var("WEBHOOK_TIMEOUT_SECONDS", Optional, DELIVERS),
    var("WEBHOOK_MAX_ATTEMPTS", Optional, DELIVERS),
    var("NOTIFICATION_MAX_ATTEMPTS", Optional, DELIVERS),
    // Hosts tenant URLs may reach despite resolving to internal addresses (development).
    var("OUTBOUND_ALLOW_HOSTS", Local, &[Api, Worker, Scheduler]),
    // Secrets at rest (Google tokens, webhook secrets) and the calendar.
    var("ENCRYPTION_KEY", Deploy, BOOKS),
    var("CALENDAR_MODE", Deploy, BOOKS),
    var("CALENDAR_SYNC_REQUIRED", Optional, BOOKS),
    var("CALENDAR_FAIL_MODE", Local, BOOKS),
    var("CALENDAR_TIMEOUT_SECONDS", Optional, BOOKS),
    var("FREEBUSY_CACHE_SECONDS", Optional, BOOKS),
    var("GOOGLE_CLIENT_ID", Deploy, BOOKS),
    var("GOOGLE_CLIENT_SECRET", Deploy, BOOKS),
    var("GOOGLE_REDIRECT_URL", Deploy, &[Api]),
    var("GOOGLE_AUTH_URL", Local, &[Api]),
    var("GOOGLE_API_BASE_URL", Local, BOOKS),
    var("GOOGLE_OAUTH_BASE_URL", Local, BOOKS),
    // Microsoft 365 (Graph): the app registration; unset = no Microsoft calendars.
    var("MICROSOFT_CLIENT_ID", Optional, BOOKS),
    var("MICROSOFT_CLIENT_SECRET", Optional, BOOKS),
    var("MICROSOFT_TENANT", Optional, BOOKS),
    var("MICROSOFT_REDIRECT_URL", Optional, &[Api]),
    var("MICROSOFT_AUTHORITY_URL", Local, BOOKS),
    var("MICROSOFT_GRAPH_BASE_URL", Local, BOOKS),
    // Request budgets of the public routes (kept in Postgres, shared by every instance).
    var("RATE_LIMITS", Local, BUDGETED),
    var("BUDGET_LIVE_HOLDS_PER_IP", Optional, &[Api]),
    var("BUDGET_HOLDS_PER_IP_PER_HOUR", Optional, &[Api]),
    var("BUDGET_HOLDS_PER_TENANT_PER_HOUR", Optional, &[Api]),
    var("BUDGET_CHAT_TURNS_PER_SESSION", Optional, AGENT),
    var("BUDGET_CHAT_TURNS_PER_IP", Optional, AGENT),
    var("BUDGET_LOOKUPS_PER_IP", Optional, &[Api]),
    var("BUDGET_CHANGES_PER_IP", Optional, &[Api]),
    var("BUDGET_WS_CONNECTS_PER_IP", Optional, &[ChatWs]),
    var(
        "BUDGET_SESSIONS_PER_IP_PER_HOUR",
        Optional,
        &[Api, ChatHttp],
    ),
    var("BUDGET_SIGN_INS_PER_IP", Optional, &[Api]),
    // `gomomo serve`: proxies whose X-Forwarded-For is believed, connection cap, timeouts.
    var("TRUSTED_PROXIES", Optional, STANDALONE_ONLY),
    var("SERVE_MAX_CONNECTIONS", Optional, STANDALONE_ONLY),
    var("SERVE_HEADER_TIMEOUT_SECONDS", Optional, STANDALONE_ONLY),
    var("SERVE_REQUEST_TIMEOUT_SECONDS", Optional, STANDALONE_ONLY),
    var("WS_IDLE_TIMEOUT_SECONDS", Optional, STANDALONE_ONLY),
];

/// The table's entry for `name`.
pub fn find(name: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.name == name)
}

/// Whether `role` reads `name` (the Lambda runtime's variables are read by every role).
pub fn reads(role: Role, name: &str) -> bool {
    if RUNTIME.contains(&name) {
        return true;
    }
    match find(name) {
        Some(_) if role == Role::Standalone => true,
        Some(v) => v.roles.contains(&role),
        None => false,
    }
}

/// The table's variables of `role`, in table order.
pub fn names(role: Role) -> Vec<&'static str> {
    VARS.iter()
        .filter(|v| reads(role, v.name))
        .map(|v| v.name)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = BTreeSet::new();
        for v in VARS {
            assert!(seen.insert(v.name), "{} is listed twice", v.name);
            assert!(
                v.name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                v.name
            );
            assert!(!v.roles.contains(&Role::Standalone), "{}", v.name);
        }
        // The migration reads only what it needs to connect.
        assert_eq!(
            names(Role::Migrate),
            [
                "DATABASE_URL",
                "GOMOMO_ENV",
                "LOG_FORMAT",
                "DB_MAX_CONNECTIONS"
            ]
        );
        assert!(reads(Role::Worker, "SMTP_HOST"));
        assert!(!reads(Role::Api, "SMTP_HOST"));
        assert!(reads(Role::Standalone, "GOMOMO_DEMO_API_KEY"));
        assert!(!reads(Role::Standalone, "NOT_A_SETTING"));
    }
}
