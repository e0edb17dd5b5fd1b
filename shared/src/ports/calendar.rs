//! The `CalendarProvider` port: writing bookings to the calendar of the resource (the staff
//! member) they are with, and reading each resource's busy time back. The connected
//! calendars (Google, CalDAV, Microsoft 365, one per resource) sit behind it, and so does
//! the built-in mock that simulates the failure modes of `CALENDAR_FAIL_MODE`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    pub tenant_id: Uuid,
    /// The resource whose calendar the event belongs in.
    pub resource_id: Uuid,
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

/// One resource's busy time, or why its calendar could not be read (its slots are then
/// withheld; the other resources' stay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceBusy {
    pub resource_id: Uuid,
    pub busy: Result<Vec<BusyRange>, CalendarError>,
}

#[async_trait]
pub trait CalendarProvider: Send + Sync {
    /// Creates the booking's event in its resource's calendar, or brings it up to date (the
    /// same booking: a retry or a reschedule, also onto another resource's calendar).
    /// Returns the provider's id for it; empty when the resource has no calendar.
    async fn create_event(&self, event: &CalendarEvent) -> Result<String, CalendarError>;
    /// Removes the booking's event, wherever it was written; a missing one is success.
    async fn delete_event(&self, tenant: Uuid, booking: Uuid) -> Result<(), CalendarError>;
    /// Busy ranges within `[from, to)` of the calendars of `resources` (read back and merged
    /// into availability). Resources without a calendar are left out.
    async fn free_busy(
        &self,
        _tenant: Uuid,
        _resources: &[Uuid],
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Vec<ResourceBusy> {
        Vec::new()
    }
}
