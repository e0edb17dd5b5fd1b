//! The `CalendarProvider` port: writing bookings to the tenant's calendar. The built-in
//! mock adapter simulates the failure modes of `CALENDAR_FAIL_MODE`; the Google Calendar v3
//! adapter is a separate piece of work.

use std::sync::atomic::{AtomicU8, Ordering};

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
    /// Busy ranges of the tenant's calendar within `[from, to)` (issue 6: read-back merged
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

/// `CALENDAR_FAIL_MODE`: none | auth_error | network_error | timeout | all_ops_fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalendarFailMode {
    #[default]
    None,
    AuthError,
    NetworkError,
    Timeout,
    AllOpsFail,
}

impl CalendarFailMode {
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::AuthError,
        Self::NetworkError,
        Self::Timeout,
        Self::AllOpsFail,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AuthError => "auth_error",
            Self::NetworkError => "network_error",
            Self::Timeout => "timeout",
            Self::AllOpsFail => "all_ops_fail",
        }
    }
}

/// The built-in calendar: succeeds with a deterministic id, or fails as the mode says
/// (`auth_error`, `network_error`, `timeout` fail writes; `all_ops_fail` fails every
/// operation). The mode can be changed at run time (tests, admin).
#[derive(Debug, Default)]
pub struct MockCalendar {
    mode: AtomicU8,
    /// Every successful write, in order (what a real calendar would now hold).
    ops: std::sync::Mutex<Vec<MockCalendarOp>>,
}

/// A write the mock calendar accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MockCalendarOp {
    /// Created or updated in place (the same booking id is the same event).
    Upsert(CalendarEvent),
    Delete {
        tenant_id: Uuid,
        booking_id: Uuid,
    },
}

impl MockCalendar {
    pub fn new(mode: CalendarFailMode) -> Self {
        let c = Self::default();
        c.set_mode(mode);
        c
    }

    pub fn set_mode(&self, mode: CalendarFailMode) {
        let i = CalendarFailMode::ALL
            .iter()
            .position(|m| *m == mode)
            .unwrap_or(0);
        self.mode.store(i as u8, Ordering::SeqCst);
    }

    pub fn mode(&self) -> CalendarFailMode {
        CalendarFailMode::ALL
            .get(self.mode.load(Ordering::SeqCst) as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The writes accepted so far.
    pub fn operations(&self) -> Vec<MockCalendarOp> {
        self.ops.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn note(&self, op: MockCalendarOp) {
        if let Ok(mut ops) = self.ops.lock() {
            ops.push(op);
        }
    }

    fn failure(&self, write: bool) -> Option<CalendarError> {
        match self.mode() {
            CalendarFailMode::None => None,
            CalendarFailMode::AuthError if write => Some(CalendarError::Auth),
            CalendarFailMode::NetworkError if write => Some(CalendarError::Network),
            CalendarFailMode::Timeout if write => Some(CalendarError::Timeout),
            CalendarFailMode::AllOpsFail => {
                Some(CalendarError::Other("all operations fail (mock)".into()))
            }
            _ => None,
        }
    }
}

#[async_trait]
impl CalendarProvider for MockCalendar {
    async fn create_event(&self, event: &CalendarEvent) -> Result<String, CalendarError> {
        if let Some(e) = self.failure(true) {
            tracing::info!(booking_id = %event.booking_id, kind = e.kind(), "mock calendar: create fails");
            return Err(e);
        }
        tracing::info!(booking_id = %event.booking_id, "mock calendar: event created");
        self.note(MockCalendarOp::Upsert(event.clone()));
        Ok(format!("mock-{}", event.booking_id.simple()))
    }

    async fn delete_event(&self, tenant: Uuid, booking: Uuid) -> Result<(), CalendarError> {
        if let Some(e) = self.failure(false) {
            return Err(e);
        }
        tracing::info!(booking_id = %booking, "mock calendar: event deleted");
        self.note(MockCalendarOp::Delete {
            tenant_id: tenant,
            booking_id: booking,
        });
        Ok(())
    }

    /// The mock calendar has no events of its own; `all_ops_fail` fails reads too.
    async fn free_busy(
        &self,
        _tenant: Uuid,
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        match self.failure(false) {
            Some(e) => Err(e),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn modes() {
        let ev = CalendarEvent {
            tenant_id: Uuid::new_v4(),
            booking_id: Uuid::new_v4(),
            reference: "ABCD-EFGH".into(),
            summary: "x".into(),
            start: Utc::now(),
            end: Utc::now(),
        };
        let c = MockCalendar::new(CalendarFailMode::None);
        assert!(c.create_event(&ev).await.is_ok());
        for (mode, kind) in [
            (CalendarFailMode::AuthError, "auth_error"),
            (CalendarFailMode::NetworkError, "network_error"),
            (CalendarFailMode::Timeout, "timeout"),
            (CalendarFailMode::AllOpsFail, "other"),
        ] {
            c.set_mode(mode);
            assert_eq!(c.create_event(&ev).await.unwrap_err().kind(), kind);
            assert_eq!(CalendarFailMode::parse(mode.as_str()), Some(mode));
        }
        assert!(c.delete_event(ev.tenant_id, ev.booking_id).await.is_err());
        c.set_mode(CalendarFailMode::Timeout);
        assert!(c.delete_event(ev.tenant_id, ev.booking_id).await.is_ok());
        assert_eq!(CalendarFailMode::parse("bogus"), None);
    }
}
