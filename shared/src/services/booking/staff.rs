//! Staff at the desk: a booking made for a client who phoned or walked in, and a booking
//! moved by staff. Both take the same locks as a hold and a confirm, run SERIALIZABLE, and
//! leave the exclusion constraint as the last guard. With `override_rules` staff may pass
//! the minimum notice, the booking window and the daily caps (each override audited);
//! hours, closures and overlaps always hold.

use super::*;

/// What staff ask for: the time, and optionally the staff member (resource) to take.
#[derive(Debug, Clone, Copy)]
pub struct StaffPlacement {
    pub start: DateTime<Utc>,
    /// Only this resource (it must do the service); `None`: the first free one.
    pub resource: Option<Uuid>,
    /// Pass the minimum notice, the booking window and the daily caps (audited).
    pub override_rules: bool,
}

/// How far ahead staff may book when overriding the booking window.
const STAFF_MAX_DAYS_AHEAD: i64 = 730;

impl BookingService {
    /// A booking made by staff for a client: a hold is taken for a fresh server session and
    /// confirmed in the same SERIALIZABLE transaction, so nothing is left behind on refusal.
    /// Answers `BookingCreated` like any booking; the audit rows name the acting staff.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %service_id))]
    pub async fn staff_book(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        at: StaffPlacement,
        client: &ClientDetails,
    ) -> Result<(AppointmentRow, Tz)> {
        let (sched, service) = self.schedule_and_service(tenant, service_id).await?;
        let resources = staff_resources(&service, at.resource)?;
        let date = sched.local_date(at.start);
        let external = self.calendar_busy(&sched, date, date, &resources).await;
        let done = retry_transaction(confirm_retryable, || {
            self.staff_book_once(&sched, &service, &resources, at, client, &external)
        })
        .await;
        self.after_confirm(&sched, done)
            .await
            .map(|(appt, _, tz)| (appt, tz))
    }

    async fn staff_book_once(
        &self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        resources: &[Uuid],
        at: StaffPlacement,
        client: &ClientDetails,
        external: &ExternalBusy,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        let session = SessionId::parse(&crate::services::sessions::new_token())?;
        sessions_db::insert(&mut *tx, tenant_id, session.as_str()).await?;
        let rules = sched.rules(service);
        let mut locks = RuleLocks::new();
        locks.booking(sched, service, resources, at.start, rules.duration);
        let now = self.clock.now();
        let extras = locks.take_reading(&mut tx, sched, resources, now).await?;
        let (slot, resource, overridden) = staff_slot(
            &mut tx, sched, service, rules, resources, at, now, None, external, &extras,
        )
        .await?;
        let hold = q::insert_hold(
            &mut tx,
            &q::NewHold {
                id: Uuid::new_v4(),
                tenant_id,
                service_id: service.id,
                resource_id: resource,
                session_id: session.as_str().to_string(),
                start: slot.start,
                end: slot.end,
                expires_at: now + self.hold_ttl,
                moves_appointment_id: None,
            },
        )
        .await
        .map_err(slot_taken_on_overlap)?;
        audit_hold(&mut tx, &hold, "hold.created", audit::ADMIN).await?;
        let appt = book_hold(&mut tx, &hold, client, audit::ADMIN).await?;
        if overridden {
            audit_override(&mut tx, &appt, "min_notice_or_daily_limit", "create").await?;
        }
        outbox::append(&mut tx, &DomainEvent::BookingCreated(booking_event(&appt))).await?;
        tx.commit().await?;
        Ok((appt, true))
    }

    /// Staff move a booking (found by reference alone) to `at.start`, keeping its reference:
    /// the new time is checked and taken under the same locks as a hold (the booking's own
    /// time does not block it) and the old one freed in the same commit. Staff may pass the
    /// self-service cut-off (audited); the client is told as for any reschedule.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %reference))]
    pub async fn staff_reschedule(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        at: StaffPlacement,
    ) -> Result<(AppointmentRow, Tz)> {
        let sched = self.schedule(tenant).await?;
        let current = q::appointment_by_reference(&self.pool, tenant.0, reference.as_str(), false)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        let service = match tenants::get_service(&self.pool, tenant.0, current.service_id).await? {
            Some(s) => s,
            None => return Err(BookingError::ServiceNotFound),
        };
        let resources = staff_resources(&service, at.resource)?;
        let date = sched.local_date(at.start);
        let external = self.calendar_busy(&sched, date, date, &resources).await;
        match retry_transaction(is_retryable, || {
            self.staff_reschedule_once(&sched, &service, &resources, reference, at, &external)
        })
        .await
        {
            Ok(moved) => {
                self.sync_write(&moved, CalendarOp::Upsert).await;
                self.after_commit(Ok((moved, sched.tz))).await
            }
            Err(e) => self.after_commit(Err(e)).await,
        }
    }

    async fn staff_reschedule_once(
        &self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        resources: &[Uuid],
        reference: &ReferenceCode,
        at: StaffPlacement,
        external: &ExternalBusy,
    ) -> Result<AppointmentRow> {
        let tenant_id = sched.tenant.id;
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        let appt = q::appointment_by_reference(&mut *tx, tenant_id, reference.as_str(), true)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        let now = self.clock.now();
        if cutoff_passed(sched, &appt, now) {
            audit_override(&mut tx, &appt, "self_service_cutoff", "reschedule").await?;
        }
        let rules = sched.rules(service);
        let mut locks = RuleLocks::new();
        locks
            .booking(sched, service, resources, at.start, rules.duration)
            .buffered(sched, appt.resource_id, appt.start_at, appt.end_at);
        let extras = locks.take_reading(&mut tx, sched, resources, now).await?;
        let (slot, resource, overridden) = staff_slot(
            &mut tx,
            sched,
            service,
            rules,
            resources,
            at,
            now,
            Some(appt.id),
            external,
            &extras,
        )
        .await?;
        let moved = move_onto(&mut tx, &appt, service.id, &slot, resource, overridden).await?;
        record_move_by(&mut tx, &appt, &moved, None, audit::ADMIN).await?;
        tx.commit().await?;
        Ok(moved)
    }
}

impl BookingService {
    /// A booking by its reference alone (staff), with its audit history oldest first (at
    /// most `limit` rows) and the tenant's zone.
    pub async fn booking_with_history(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        limit: i64,
    ) -> Result<(AppointmentRow, Vec<audit::AuditRow>, Tz)> {
        let tz = self.time_zone(tenant).await?;
        let appt = q::appointment_by_reference(&self.pool, tenant.0, reference.as_str(), false)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        let history = audit::booking_history(&self.pool, tenant.0, appt.id, limit).await?;
        Ok((appt, history, tz))
    }
}

/// The resources staff may put the booking on: the one they named (it must do the
/// service), else every resource of the service.
fn staff_resources(service: &ServiceRow, resource: Option<Uuid>) -> Result<Vec<Uuid>> {
    match resource {
        None => Ok(service.resource_ids.clone()),
        Some(r) if service.resource_ids.contains(&r) => Ok(vec![r]),
        Some(_) => Err(BookingError::ResourceNotFound),
    }
}

/// Under the rule locks: the slot at `at.start` and its free resource, first under the
/// client rules; with `at.override_rules`, when only the minimum notice, the booking window
/// or a daily cap refused it, again without them (the third value says so).
#[allow(clippy::too_many_arguments)]
async fn staff_slot(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    service: &ServiceRow,
    rules: SlotRules,
    resources: &[Uuid],
    at: StaffPlacement,
    now: DateTime<Utc>,
    moves: Option<Uuid>,
    external: &ExternalBusy,
    extras: &ScheduleExtras,
) -> Result<(Slot, Uuid, bool)> {
    let strict = offered_slot(
        &mut *conn,
        sched,
        service,
        &rules,
        resources,
        at.start,
        now,
        moves,
        external,
        false,
        LockedRules::Read(extras),
    )
    .await;
    match strict {
        Ok((slot, resource)) => Ok((slot, resource, false)),
        Err(BookingError::SlotUnavailable | BookingError::DailyLimitReached)
            if at.override_rules =>
        {
            let relaxed = SlotRules {
                min_notice: Duration::zero(),
                max_days_ahead: rules.max_days_ahead.max(STAFF_MAX_DAYS_AHEAD),
                ..rules
            };
            let (slot, resource) = offered_slot(
                conn,
                sched,
                service,
                &relaxed,
                resources,
                at.start,
                now,
                moves,
                external,
                true,
                LockedRules::Read(extras),
            )
            .await?;
            Ok((slot, resource, true))
        }
        Err(e) => Err(e),
    }
}
