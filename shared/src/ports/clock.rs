//! The one clock the booking rules read. The system clock in production; tests pin or
//! advance it to reach DST days, lookahead edges and hold expiry without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Milliseconds since the epoch when pinned; `None` reads the system clock.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { fixed: None }
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(AtomicI64::new(at.timestamp_millis()))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => Utc::now(),
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
