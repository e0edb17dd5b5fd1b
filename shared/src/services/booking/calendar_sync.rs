//! The calendar write after a booking commits. Bookings are made in Postgres first; the
//! tenant calendar is written afterwards, outside any transaction (no network call under a
//! lock). Its event id derives from the booking id, so a retried write never duplicates.
//!
//! A failed write either leaves the booking as it is and appends `CalendarWriteFailed` (the
//! worker retries from that event), or, with `CALENDAR_SYNC_REQUIRED` at confirm, undoes
//! the booking and gives the session its hold back.

use serde_json::json;

use super::{
    audit_hold, booking_event, q, session_lock_key, BookingError, BookingService, Result,
    RuleLocks, TenantSchedule,
};
use crate::db::bookings::{AppointmentRow, AppointmentStatus, HoldRow};
use crate::db::{audit, outbox, tenants};
use crate::domain::events::{self, DomainEvent};
use crate::ports::calendar::{CalendarError, CalendarEvent};
use uuid::Uuid;

/// What a booking change asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CalendarOp {
    /// Create, or bring up to date (same event id): confirm and reschedule.
    Upsert,
    Delete,
}

impl CalendarOp {
    /// The `operation` of `CalendarWriteFailed`.
    fn as_str(self) -> &'static str {
        match self {
            Self::Upsert => "create",
            Self::Delete => "delete",
        }
    }
}

impl BookingService {
    /// The calendar event of a booking (its id at the provider derives from the booking id,
    /// so a retried write never makes a duplicate).
    async fn calendar_event(&self, appt: &AppointmentRow) -> CalendarEvent {
        let service = tenants::get_service(&self.pool, appt.tenant_id, appt.service_id)
            .await
            .ok()
            .flatten()
            .map(|s| s.name)
            .unwrap_or_else(|| "Appointment".into());
        CalendarEvent {
            tenant_id: appt.tenant_id,
            resource_id: appt.resource_id,
            booking_id: appt.id,
            reference: appt.reference.clone(),
            summary: format!("{service} ({})", appt.reference),
            start: appt.start_at,
            end: appt.end_at,
        }
    }

    /// One calendar call outside any transaction; `Ok(())` also when no calendar is attached.
    async fn calendar_call(
        &self,
        appt: &AppointmentRow,
        op: CalendarOp,
    ) -> std::result::Result<(), CalendarError> {
        let Some(cal) = &self.calendar_writer else {
            return Ok(());
        };
        match op {
            CalendarOp::Upsert => {
                let event = self.calendar_event(appt).await;
                cal.create_event(&event).await.map(|_| ())
            }
            CalendarOp::Delete => cal.delete_event(appt.tenant_id, appt.id).await,
        }
    }

    /// Lenient write (reschedule, cancel, and confirm when not strict): a failure leaves
    /// the booking as it is and appends `CalendarWriteFailed` (the retries start from it).
    pub(super) async fn sync_write(&self, appt: &AppointmentRow, op: CalendarOp) {
        if let Err(e) = self.calendar_call(appt, op).await {
            tracing::warn!(booking_id = %appt.id, kind = e.kind(), operation = op.as_str(), "calendar write failed; retries follow");
            self.record_write_failed(appt, op, &e).await;
        }
    }

    async fn record_write_failed(&self, appt: &AppointmentRow, op: CalendarOp, e: &CalendarError) {
        let event = DomainEvent::CalendarWriteFailed(events::CalendarWriteFailed {
            tenant_id: appt.tenant_id,
            booking_id: appt.id,
            reference: appt.reference.clone(),
            operation: op.as_str().into(),
            error_kind: e.kind().into(),
        });
        let written: Result<(), sqlx::Error> = async {
            let mut tx = self.pool.begin().await?;
            outbox::append(&mut tx, &event).await?;
            tx.commit().await
        }
        .await;
        if let Err(err) = written {
            tracing::error!(booking_id = %appt.id, error = %err, "recording CalendarWriteFailed failed");
        }
    }

    /// After a committed confirm: writes the event; on failure keeps the booking (lenient)
    /// or undoes it and re-creates the hold (strict).
    pub(super) async fn sync_confirmed(
        &self,
        sched: &TenantSchedule,
        appt: AppointmentRow,
    ) -> Result<(AppointmentRow, bool)> {
        let Err(e) = self.calendar_call(&appt, CalendarOp::Upsert).await else {
            return Ok((appt, true));
        };
        if !self.calendar_sync_required {
            tracing::warn!(booking_id = %appt.id, kind = e.kind(), "calendar write failed; the booking stands, retries follow");
            self.record_write_failed(&appt, CalendarOp::Upsert, &e)
                .await;
            return Ok((appt, true));
        }
        match self.undo_confirm(sched, &appt, &e).await {
            Ok(Some(hold)) => Err(BookingError::CalendarUnavailable {
                hold_id: hold.id,
                expires_at: hold.expires_at,
            }),
            // The booking changed in between (or the undo failed): it stands, retries follow.
            Ok(None) => {
                self.record_write_failed(&appt, CalendarOp::Upsert, &e)
                    .await;
                Ok((appt, true))
            }
            Err(err) => {
                tracing::error!(booking_id = %appt.id, error = %err, "undoing the booking failed; it stands");
                self.record_write_failed(&appt, CalendarOp::Upsert, &e)
                    .await;
                Ok((appt, true))
            }
        }
    }

    /// Strict mode: in one transaction cancels the just-made booking (audit
    /// `booking.rolled_back_calendar`), drops its not yet published `BookingCreated`, and
    /// gives the session a fresh hold on the same slot and resource. `None` when the
    /// booking is no longer as it was made.
    async fn undo_confirm(
        &self,
        sched: &TenantSchedule,
        appt: &AppointmentRow,
        cause: &CalendarError,
    ) -> Result<Option<HoldRow>> {
        let tenant_id = appt.tenant_id;
        let mut tx = self.pool.begin().await?;
        // Lock order as everywhere: session lock, rows, then resource-day locks.
        let mut session_key = vec![session_lock_key(tenant_id, &appt.session_id)];
        q::advisory_locks(&mut tx, &mut session_key).await?;
        let current = q::appointment_state_for_update(&mut tx, appt.id).await?;
        if current != Some((AppointmentStatus::Confirmed, appt.sequence)) {
            return Ok(None);
        }
        let released = q::release_session_holds(&mut tx, tenant_id, &appt.session_id).await?;
        let mut locks = RuleLocks::new();
        locks.buffered(sched, appt.resource_id, appt.start_at, appt.end_at);
        locks.take(&mut tx).await?;
        let now = self.clock.now();
        let cancelled = q::cancel_appointment(&mut tx, appt.id, now).await?;
        let dropped = outbox::drop_unpublished_booking_created(&mut tx, appt.id).await?;
        if dropped == 0 {
            // Already published: tell consumers the booking is gone.
            outbox::append(
                &mut tx,
                &DomainEvent::BookingCancelled(booking_event(&cancelled)),
            )
            .await?;
        }
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant_id),
                event_type: "booking.rolled_back_calendar",
                entity_type: "appointment",
                entity_id: Some(appt.id.to_string()),
                actor: "system",
                payload: json!({
                    "reference": appt.reference,
                    "start": appt.start_at,
                    "end": appt.end_at,
                    "error_kind": cause.kind(),
                }),
            },
        )
        .await?;
        let hold = q::insert_hold(
            &mut tx,
            &q::NewHold {
                id: Uuid::new_v4(),
                tenant_id,
                service_id: appt.service_id,
                resource_id: appt.resource_id,
                session_id: appt.session_id.clone(),
                start: appt.start_at,
                end: appt.end_at,
                expires_at: now + self.hold_ttl,
                moves_appointment_id: None,
            },
        )
        .await?;
        for old in &released {
            audit_hold(&mut tx, old, "hold.released", "system").await?;
        }
        audit_hold(&mut tx, &hold, "hold.created", "system").await?;
        tx.commit().await?;
        Ok(Some(hold))
    }
}
