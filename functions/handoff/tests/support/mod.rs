//! What the handoff crate's tests share: the Twilio account of the tests, the test
//! configuration and New York clock times.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::Config;

/// The Twilio auth token requests are signed with.
pub const TOKEN: &str = "test-auth-token-5f0c";
/// The Twilio account SID.
pub const SID: &str = "AC0123456789abcdef0123456789abcdef";
/// The public base URL Twilio calls.
pub const BASE: &str = "https://hooks.gomomo.test";
/// The caller's number.
pub const CALLER: &str = "+15555550123";

/// A New York wall-clock time (the demo tenant's zone).
pub fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Monday 2 March 2026, 08:00 in New York.
pub fn march_2_8am() -> DateTime<Utc> {
    ny(2026, 3, 2, 8, 0)
}

/// The configuration of a Twilio-facing process: the token, the account, the public URL and
/// a handoff secret, plus `extra`.
pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<&str, &str> = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("TWILIO_ACCOUNT_SID", SID),
        ("PUBLIC_BASE_URL", BASE),
        ("HANDOFF_SECRET", "test-handoff-secret-0123456789abcdef"),
    ]);
    env.extend(extra.iter().copied());
    Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap()
}
