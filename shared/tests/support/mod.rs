//! What the `gomomo` crate's integration tests share: the demo tenant's ids, the fixed
//! clocks (New York wall-clock times) and a test configuration.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::Config;
use uuid::Uuid;

/// The demo tenant's 30-minute consultation (`admin::DEMO_SERVICES[0]`).
pub const CONSULT: Uuid = Uuid::from_u128(0x6d0e0000_0000_4000_8000_0000000005e1);

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

/// Monday 7 December 2026, 08:00 in New York.
pub fn december_7_8am() -> DateTime<Utc> {
    ny(2026, 12, 7, 8, 0)
}

/// The configuration from `pairs`, with `DATABASE_URL` (unused: tests pass their pool) and
/// a `MAIL_FROM` unless given.
pub fn config(pairs: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    map.insert("DATABASE_URL".into(), "postgres://unused".into());
    map.entry("MAIL_FROM".into())
        .or_insert_with(|| "bookings@clinic.example".into());
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}
