//! The one clock the booking rules read. The system clock in production; tests pin or
//! advance it to reach DST days, lookahead edges and hold expiry without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds since the epoch when pinned; `None` reads the system clock.
    fixed: Option<Arc<AtomicI64>>,
    /// Added to the system clock (development only: `GOMOMO_CLOCK_OFFSET_SECONDS` lets a
    /// local run of the deployed binaries see "tomorrow" without changing them).
    offset_ms: i64,
}

impl Clock {
    pub fn system() -> Self {
        Self {
            fixed: None,
            offset_ms: 0,
        }
    }

    /// The system clock moved by `offset` (a development run that plays "later").
    pub fn system_offset(offset: Duration) -> Self {
        Self {
            fixed: None,
            offset_ms: offset.num_milliseconds(),
        }
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(at.timestamp_millis()))),
            offset_ms: 0,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => Utc::now() + Duration::milliseconds(self.offset_ms),
            Some(ms) => {
                DateTime::from_timestamp_millis(ms.load(Ordering::SeqCst)).unwrap_or_default()
            }
        }
    }

    /// Moves a pinned clock (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(ms) = &self.fixed {
            ms.fetch_add(by.num_milliseconds(), Ordering::SeqCst);
        }
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(ms) = &self.fixed {
            ms.store(at.timestamp_millis(), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_runs_ahead_of_the_system_clock() {
        let later = Clock::system_offset(Duration::hours(25)).now();
        let diff = later - Utc::now();
        assert!(
            diff > Duration::hours(24) && diff <= Duration::hours(25),
            "{diff}"
        );
    }
}
