//! Attendance: what happened at a booking (attended, no-show, late cancellation), the
//! client's own confirmation, and the no-show policy that makes clients with repeated
//! no-shows confirm by reply before a deadline or lose the booking.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{
    booking_event, is_retryable, retry_transaction, slot_opened, BookingError, BookingService,
    Result,
};
use crate::db::attendance::{self as policy_db, AttendancePolicy};
use crate::db::bookings::{
    self as q, AppointmentRow, AppointmentStatus, AttendanceCounts, Outcome,
};
use crate::db::{audit, notifications, outbox, tenants};
use crate::domain::events::{self, DomainEvent};
use crate::domain::{Email, PhoneE164, ReferenceCode, TenantId};
use crate::services::booking::calendar_sync::CalendarOp;

/// Bookings the no-show policy handles per tick, each way.
const POLICY_BATCH: i64 = 100;

/// What one pass of the no-show policy did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmationReport {
    /// Bookings given a deadline (their clients were asked to confirm).
    pub asked: usize,
    /// Bookings released because the deadline passed unconfirmed.
    pub released: usize,
}

impl BookingService {
    /// The tenant's late-cancellation window (zero: no cancellation is late).
    pub(super) async fn late_cancel_window(&self, tenant: TenantId) -> Result<Duration> {
        let p = policy_db::get(&self.pool, tenant.0)
            .await?
            .ok_or(BookingError::TenantNotFound)?;
        Ok(Duration::minutes(p.late_cancel_minutes.max(0).into()))
    }

    pub async fn attendance_policy(&self, tenant: TenantId) -> Result<AttendancePolicy> {
        policy_db::get(&self.pool, tenant.0)
            .await?
            .ok_or(BookingError::TenantNotFound)
    }

    /// Replaces the tenant's attendance settings (checked: 0–43200 minutes, a threshold of
    /// 1–100 or none, 1–336 hours).
    pub async fn set_attendance_policy(
        &self,
        tenant: TenantId,
        p: &AttendancePolicy,
    ) -> Result<AttendancePolicy> {
        if !(0..=43200).contains(&p.late_cancel_minutes) {
            return Err(BookingError::Invalid(crate::domain::ParseError::new(
                "late_cancel_minutes",
                "must be from 0 to 43200",
            )));
        }
        if p.no_show_confirm_threshold
            .is_some_and(|n| !(1..=100).contains(&n))
        {
            return Err(BookingError::Invalid(crate::domain::ParseError::new(
                "no_show_confirm_threshold",
                "must be from 1 to 100, or null for no confirmation rule",
            )));
        }
        if !(1..=336).contains(&p.no_show_confirm_hours) {
            return Err(BookingError::Invalid(crate::domain::ParseError::new(
                "no_show_confirm_hours",
                "must be from 1 to 336",
            )));
        }
        policy_db::put(&self.pool, tenant.0, p)
            .await?
            .ok_or(BookingError::TenantNotFound)
    }

    /// Staff record what happened at a booking: `attended` or `no_show`, only once it has
    /// started and only for a booking that was not cancelled. The same outcome again
    /// changes nothing; a no-show emits `NoShowRecorded` (the follow-up with a rebooking
    /// offer goes through the policy engine).
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %reference))]
    pub async fn record_outcome(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        outcome: Outcome,
    ) -> Result<AppointmentRow> {
        if outcome == Outcome::LateCancel {
            return Err(BookingError::Invalid(crate::domain::ParseError::new(
                "outcome",
                "must be attended or no_show (a late cancellation is recorded by cancelling)",
            )));
        }
        self.schedule(tenant).await?;
        let done = retry_transaction(is_retryable, || {
            self.record_outcome_once(tenant, reference, outcome)
        })
        .await;
        self.after_commit(done).await
    }

    async fn record_outcome_once(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        outcome: Outcome,
    ) -> Result<AppointmentRow> {
        let mut tx = self.pool.begin().await?;
        let appt = q::appointment_by_reference(&mut *tx, tenant.0, reference.as_str(), true)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        let now = self.clock.now();
        if appt.start_at > now {
            return Err(BookingError::OutcomeTooEarly);
        }
        if appt.outcome == Some(outcome) {
            return Ok(appt);
        }
        let updated = q::set_outcome(&mut tx, appt.id, outcome, now).await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant.0),
                event_type: "booking.outcome_recorded",
                entity_type: "appointment",
                entity_id: Some(appt.id.to_string()),
                actor: crate::db::audit::ADMIN,
                payload: json!({
                    "reference": appt.reference,
                    "outcome": outcome.as_str(),
                    "previous": appt.outcome.map(Outcome::as_str),
                }),
            },
        )
        .await?;
        if outcome == Outcome::NoShow {
            let counts = q::attendance_counts(
                &mut *tx,
                tenant.0,
                Some(&updated.client_email),
                updated.client_phone.as_deref(),
            )
            .await?;
            outbox::append(
                &mut tx,
                &DomainEvent::NoShowRecorded(events::NoShowRecorded {
                    tenant_id: tenant.0,
                    booking_id: updated.id,
                    reference: updated.reference.clone(),
                    service_id: updated.service_id,
                    start: updated.start_at,
                    no_shows: counts.no_shows,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// A client's attendance at the tenant, by email, by phone or both (bookings matching
    /// either count once).
    pub async fn attendance_of(
        &self,
        tenant: TenantId,
        email: Option<&Email>,
        phone: Option<&PhoneE164>,
    ) -> Result<AttendanceCounts> {
        self.schedule(tenant).await?;
        Ok(q::attendance_counts(
            &self.pool,
            tenant.0,
            email.map(Email::as_str),
            phone.map(PhoneE164::as_str),
        )
        .await?)
    }

    /// The client confirmed a booking (SMS "C"): kept on the booking with the time of the
    /// first confirmation, and audited. Returns that time.
    pub async fn client_confirmed(
        &self,
        tenant: TenantId,
        booking: Uuid,
        detail: serde_json::Value,
    ) -> Result<DateTime<Utc>> {
        let mut tx = self.pool.begin().await?;
        let now = self.clock.now();
        let appt = q::appointment_for_update(&mut tx, tenant.0, booking)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        let at = q::mark_client_confirmed(&mut *tx, appt.id, now)
            .await?
            .unwrap_or(now);
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant.0),
                event_type: "booking.attendance_confirmed",
                entity_type: "appointment",
                entity_id: Some(appt.id.to_string()),
                actor: "client",
                payload: {
                    let mut p = json!({"reference": appt.reference});
                    if let (Some(m), serde_json::Value::Object(extra)) = (p.as_object_mut(), detail)
                    {
                        m.extend(extra);
                    }
                    p
                },
            },
        )
        .await?;
        tx.commit().await?;
        Ok(at)
    }

    /// One pass of the no-show policy (the scheduler's tick): bookings of clients with at
    /// least the tenant's threshold of no-shows get a deadline and a message asking them to
    /// reply C; bookings whose deadline passed unconfirmed are released — cancelled, with
    /// the reason `unconfirmed` audited, the client told and the time offered again.
    pub async fn enforce_confirmations(&self) -> Result<ConfirmationReport> {
        let mut report = ConfirmationReport::default();
        let now = self.clock.now();
        for (id, deadline) in q::needing_confirmation(&self.pool, now, POLICY_BATCH).await? {
            if self.ask_confirmation(id, deadline).await? {
                report.asked += 1;
            }
        }
        for (id, tenant, _reference) in
            q::unconfirmed_past_deadline(&self.pool, now, POLICY_BATCH).await?
        {
            let sched = self.schedule(TenantId(tenant)).await?;
            match retry_transaction(is_retryable, || self.release_once(&sched, id)).await {
                Ok(Some(released)) => {
                    report.released += 1;
                    self.sync_write(&released, CalendarOp::Delete).await;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not release an unconfirmed booking"),
            }
        }
        if report.released > 0 || report.asked > 0 {
            self.after_commit(Ok(())).await?;
        }
        Ok(report)
    }

    /// Sets the booking's deadline and queues the request to confirm (email and SMS).
    async fn ask_confirmation(&self, id: Uuid, deadline: DateTime<Utc>) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if !q::set_confirm_by(&mut *tx, id, deadline).await? {
            return Ok(false);
        }
        let Some(a) = q::appointment_by_id(&mut *tx, id).await? else {
            return Ok(false);
        };
        let tenant = tenants::get_tenant(&mut *tx, a.tenant_id)
            .await?
            .ok_or(BookingError::TenantNotFound)?;
        let tz: chrono_tz::Tz = tenant.time_zone.parse().map_err(|_| {
            BookingError::TenantConfig(format!("unknown time zone {}", tenant.time_zone))
        })?;
        let service = tenants::get_service(&mut *tx, a.tenant_id, a.service_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_else(|| a.locale().text().mail.appointment.into());
        let locale = a.locale();
        let words = &locale.text().mail;
        let client = crate::text::client_zone(a.client_time_zone.as_deref());
        let when = |t: DateTime<Utc>| {
            crate::text::beside_client_time(
                locale,
                locale.at(&t.with_timezone(&tz), words.when_format),
                t,
                tz,
                client,
            )
        };
        let meta = json!({"reference": a.reference, "start": a.start_at, "confirm_by": deadline, "time_zone": tz.name()});
        let mut messages = vec![(
            "email",
            a.client_email.clone(),
            Some((words.confirm_needed_subject)(&service, &when(a.start_at))),
            (words.confirm_needed_body)(
                &tenant.name,
                &service,
                &when(a.start_at),
                &when(deadline),
                &a.reference,
            ),
        )];
        if let Some(phone) = a.client_phone.as_deref() {
            messages.push((
                "sms",
                phone.to_string(),
                None,
                (locale.text().sms.confirm_needed)(
                    &tenant.name,
                    &service,
                    &when(a.start_at),
                    &when(deadline),
                ),
            ));
        }
        for (channel, recipient, subject, body) in messages {
            notifications::enqueue(
                &mut tx,
                &notifications::NewNotification {
                    tenant_id: a.tenant_id,
                    channel,
                    kind: "confirmation_required",
                    recipient,
                    subject,
                    body,
                    metadata: meta.clone(),
                    idempotency_key: format!("confirmation_required:{}:{channel}", a.id),
                    booking_id: Some(a.id),
                    job_id: None,
                },
            )
            .await?;
        }
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(a.tenant_id),
                event_type: "booking.confirmation_requested",
                entity_type: "appointment",
                entity_id: Some(a.id.to_string()),
                actor: "system",
                payload: json!({"reference": a.reference, "confirm_by": deadline}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Cancels one booking whose confirmation deadline passed (still live, still
    /// unconfirmed, under its row lock); None when it changed meanwhile.
    async fn release_once(
        &self,
        sched: &super::TenantSchedule,
        id: Uuid,
    ) -> Result<Option<AppointmentRow>> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        q::index_probes_only(&mut tx).await?;
        let Some(appt) = q::appointment_for_update(&mut tx, sched.tenant.id, id).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if appt.status == AppointmentStatus::Cancelled
            || appt.client_confirmed_at.is_some()
            || appt.confirm_by.is_none_or(|by| by > now)
        {
            return Ok(None);
        }
        let released =
            q::cancel_appointment_as(&mut tx, appt.id, now, None, Some("unconfirmed")).await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(sched.tenant.id),
                event_type: "booking.released_unconfirmed",
                entity_type: "appointment",
                entity_id: Some(appt.id.to_string()),
                actor: "system",
                payload: json!({
                    "reference": appt.reference,
                    "reason": "the client did not confirm by the deadline the no-show policy set",
                    "confirm_by": appt.confirm_by,
                    "start": appt.start_at,
                }),
            },
        )
        .await?;
        outbox::append(
            &mut tx,
            &DomainEvent::BookingCancelled(booking_event(&released)),
        )
        .await?;
        outbox::append(&mut tx, &slot_opened(&appt)).await?;
        tx.commit().await?;
        Ok(Some(released))
    }
}
