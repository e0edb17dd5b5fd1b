//! The local adapters the standalone server and the tests run on: a mailer and an SMS
//! sender that record into the log, the in-process event bus, and the built-in calendar
//! with its simulated failures (`CALENDAR_FAIL_MODE`).

use std::sync::atomic::{AtomicU8, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::CalendarFailMode;
use crate::domain::PhoneE164;
use crate::ports::calendar::{CalendarError, CalendarEvent, CalendarProvider, ResourceBusy};
use crate::ports::delivery::{DeliveryError, Mailer, OutgoingEmail, SmsSender};
use crate::ports::events::{EventEnvelope, EventPublisher, OutboundEvent, PublishError};

/// Local default mailer: logs that a message went out (no PII in the log) and succeeds.
/// The message itself is kept by whoever called it (e.g. the notification row).
#[derive(Debug, Default, Clone)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, DeliveryError> {
        let id = format!("local-{}", uuid::Uuid::new_v4());
        tracing::info!(message_id = %id, subject = %email.subject, has_ics = email.ics.is_some(), "email recorded (local mailer)");
        Ok(id)
    }
}

/// Local default SMS sender: logs and succeeds (recorded only).
#[derive(Debug, Default, Clone)]
pub struct LogSmsSender;

#[async_trait]
impl SmsSender for LogSmsSender {
    async fn send_sms(
        &self,
        _from: Option<&str>,
        _to: &PhoneE164,
        body: &str,
    ) -> Result<String, DeliveryError> {
        let id = format!("local-{}", uuid::Uuid::new_v4());
        tracing::info!(message_id = %id, chars = body.chars().count(), "sms recorded (local sender)");
        Ok(id)
    }
}

/// How long one publish (a batch) waits in all for room in a full channel before it leaves
/// the rest to the next sweep: the relay slows down to the consumer's pace instead of
/// dropping events.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The standalone server's bus: a bounded channel to the in-process orchestrator. A full
/// channel makes the publisher wait (up to [`PUBLISH_WAIT`]); only a consumer stalled that
/// long fails the entry, which then stays in the outbox for the next sweep.
#[derive(Debug, Clone)]
pub struct InProcessPublisher {
    tx: mpsc::Sender<EventEnvelope>,
    wait: std::time::Duration,
}

impl InProcessPublisher {
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<EventEnvelope>) {
        Self::channel_with_wait(capacity, PUBLISH_WAIT)
    }

    /// Like [`Self::channel`], with another wait for room than [`PUBLISH_WAIT`].
    pub fn channel_with_wait(
        capacity: usize,
        wait: std::time::Duration,
    ) -> (Self, mpsc::Receiver<EventEnvelope>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx, wait }, rx)
    }
}

#[async_trait]
impl EventPublisher for InProcessPublisher {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError> {
        let mut failed = Vec::new();
        // One wait for the whole batch: a stalled consumer costs a caller the wait once, not
        // once per event.
        let deadline = tokio::time::Instant::now() + self.wait;
        for e in batch {
            match EventEnvelope::from_outbound(e) {
                Ok(env) => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if self.tx.send_timeout(env, left).await.is_err() {
                        failed.push(e.event_id);
                    }
                }
                Err(err) => {
                    tracing::warn!(event_id = %e.event_id, error = %err, "unpublishable outbox row");
                    failed.push(e.event_id);
                }
            }
        }
        Ok(failed)
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

    /// The mock calendar has no events of its own; `all_ops_fail` fails every resource's
    /// read too.
    async fn free_busy(
        &self,
        _tenant: Uuid,
        resources: &[Uuid],
        _from: DateTime<Utc>,
        _to: DateTime<Utc>,
    ) -> Vec<ResourceBusy> {
        let Some(e) = self.failure(false) else {
            return Vec::new();
        };
        resources
            .iter()
            .map(|r| ResourceBusy {
                resource_id: *r,
                busy: Err(e.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn slot_opened() -> OutboundEvent {
        let event =
            crate::domain::events::DomainEvent::SlotOpened(crate::domain::events::SlotOpened {
                tenant_id: Uuid::new_v4(),
                service_id: Uuid::new_v4(),
                resource_id: Uuid::new_v4(),
                start: Utc::now(),
                end: Utc::now(),
            });
        OutboundEvent::new(
            Uuid::new_v4(),
            Uuid::new_v4(),
            event.name(),
            &event.detail(),
            Utc::now(),
        )
    }

    /// A stalled consumer costs one publish its wait once in all, not once per event.
    #[tokio::test]
    async fn a_full_bus_waits_once_per_batch() {
        let wait = std::time::Duration::from_millis(300);
        let (publisher, _rx) = InProcessPublisher::channel_with_wait(1, wait);
        let batch: Vec<OutboundEvent> = (0..4).map(|_| slot_opened()).collect();
        let started = std::time::Instant::now();
        let failed = publisher.publish(&batch).await.unwrap();
        let waited = started.elapsed();
        assert_eq!(failed.len(), 3, "room for one, nobody reading");
        // Waiting per event would take three waits.
        assert!(waited >= wait && waited < wait * 3, "{waited:?}");
    }

    #[tokio::test]
    async fn modes() {
        let ev = CalendarEvent {
            tenant_id: Uuid::new_v4(),
            resource_id: Uuid::new_v4(),
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
