//! What the worker's tests share: the demo tenant's ids, New York clock times and
//! the live-push scene.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;

/// The live-push scene (Ana books, Lee waits), shared with the other crates' tests.
#[path = "../../../../shared/tests/support/scene.rs"]
pub mod scene;

/// The demo tenant's 30-minute consultation (`admin::DEMO_SERVICES[0]`).
#[allow(unused_imports)]
pub use scene::CONSULT;

/// A New York wall-clock time (the demo tenant's zone).
pub fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}
