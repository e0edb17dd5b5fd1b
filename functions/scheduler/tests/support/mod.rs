//! What the scheduler's tests share: the demo tenant's ids and New York clock times.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
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
