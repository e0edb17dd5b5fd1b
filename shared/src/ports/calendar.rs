//! The `CalendarProvider` port: writing bookings to the tenant's calendar. The built-in
//! mock adapter simulates the failure modes of `CALENDAR_FAIL_MODE`; the Google Calendar v3
//! adapter is a separate piece of work.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub summary: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar authorization failed")]
    Auth,
    #[error("calendar network error")]
    Network,
    #[error("calendar request timed out")]
    Timeout,
    #[error("calendar error: {0}")]
    Other(String),
}

impl CalendarError {
    /// A stable kind for events and audit rows.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Auth => "auth_error",
            Self::Network => "network_error",
            Self::Timeout => "timeout",
            Self::Other(_) => "other",
        }
    }
}

/// A busy interval `[start, end)` read back from the tenant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[async_trait]
pub trait CalendarProvider: Send + Sync {
    /// Creates (or, for the same booking id, updates) the event; returns its provider id.
    async fn create_event(&self, event: &CalendarEvent) -> Result<String, CalendarError>;
    async fn delete_event(&self, tenant: Uuid, booking: Uuid) -> Result<(), CalendarError>;
    /// Busy ranges of the tenant's calendar within `[from, to)` (read back and merged
    /// into availability; an error makes the caller fail closed). No calendar: empty.
    async fn free_busy(
        &self,
        _tenant: Uuid,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        Ok(Vec::new())
    }
}
