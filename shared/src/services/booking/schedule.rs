//! The admin side of the schedule: each resource's own weekly hours and the date
//! exceptions (closures, time off, extra hours). A change takes the rule locks of every
//! (resource, local day) it touches inside the booking window, and runs SERIALIZABLE while
//! it reads the bookings it leaves outside the schedule, so a hold or a confirm racing it
//! either finishes first (and is listed as affected) or sees the change and is refused.
//! Bookings caught by a change are never cancelled: they are listed, and one action
//! notifies their clients with new times to choose from.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    is_retryable, retry_transaction, BookingError, BookingService, Result, RuleLocks,
    TenantSchedule,
};
use crate::db::bookings::{self as q, AppointmentRow, AppointmentStatus};
use crate::db::notifications::{self, NewNotification};
use crate::db::schedule::{self as db, ExceptionInput, ExceptionRow, ResourceHoursRow};
use crate::db::tenants;
use crate::domain::slots::{self, DateException, ExceptionKind};
use crate::domain::{is_invisible_format, Email, ParseError, PhoneE164, TenantId};

/// How many bookings a change lists at most.
const AFFECTED_LIMIT: i64 = 2000;
/// How many new times a notice offers.
const OFFERED_TIMES: usize = 3;
/// How far a yearly exception is looked at for bookings it catches.
const YEARLY_HORIZON_DAYS: i64 = 400;

/// An exception as the admin sent it, before validation.
#[derive(Debug, Clone, Default)]
pub struct ExceptionDraft {
    pub kind: String,
    pub resource_id: Option<Uuid>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub recurring_yearly: bool,
    pub note: Option<String>,
}

/// An exception and the live bookings it leaves outside the schedule.
#[derive(Debug, Clone)]
pub struct ExceptionChange {
    pub exception: ExceptionRow,
    pub affected: Vec<AppointmentRow>,
}

/// What a notify action queued, per booking.
#[derive(Debug, Clone, Serialize)]
pub struct Notified {
    pub reference: String,
    pub booking_id: Uuid,
    /// The channels queued now (`email`, `sms`); empty when this change was notified before.
    pub channels: Vec<&'static str>,
}

/// Checks an exception draft (the resource's tenant is checked in the transaction).
pub fn validate_exception(d: &ExceptionDraft) -> Result<ExceptionInput, ParseError> {
    let kind = ExceptionKind::parse(d.kind.trim())
        .ok_or_else(|| ParseError::new("kind", "must be closed, time_off or extra_hours"))?;
    match (kind, d.resource_id) {
        (ExceptionKind::Closed, Some(_)) => {
            return Err(ParseError::new(
                "resource_id",
                "a closure is for the whole tenant; use time_off for one resource",
            ))
        }
        (ExceptionKind::TimeOff, None) => {
            return Err(ParseError::new(
                "resource_id",
                "time_off needs a resource_id",
            ))
        }
        _ => {}
    }
    let end_date = d.end_date.unwrap_or(d.start_date);
    if end_date < d.start_date {
        return Err(ParseError::new("end_date", "must not be before start_date"));
    }
    if (end_date - d.start_date).num_days() > 366 {
        return Err(ParseError::new(
            "end_date",
            "a range spans at most 366 days",
        ));
    }
    let times = match (d.start_time, d.end_time) {
        (None, None) => None,
        (Some(a), Some(b)) if a < b => Some((a, b)),
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                "times",
                "start_time must be before end_time, within one day",
            ))
        }
        _ => {
            return Err(ParseError::new(
                "times",
                "give both start_time and end_time, or neither for the whole day",
            ))
        }
    };
    if kind == ExceptionKind::ExtraHours && times.is_none() {
        return Err(ParseError::new(
            "times",
            "extra_hours needs start_time and end_time",
        ));
    }
    let note = d.note.as_deref().unwrap_or("").trim().to_string();
    if note.chars().count() > 500
        || note
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c))
    {
        return Err(ParseError::new("note", "at most 500 printable characters"));
    }
    Ok(ExceptionInput {
        resource_id: d.resource_id,
        kind,
        start_date: d.start_date,
        end_date,
        times,
        recurring_yearly: d.recurring_yearly,
        note,
    })
}

/// Checks a resource's weekly hours like the tenant's: weekdays 1–7, opens < closes, no
/// overlap within a day. Returns them sorted.
pub fn validate_hours(
    resource: Uuid,
    rows: &[(i16, NaiveTime, NaiveTime)],
) -> Result<Vec<ResourceHoursRow>, ParseError> {
    let mut sorted: Vec<ResourceHoursRow> = rows
        .iter()
        .map(|&(weekday, opens, closes)| ResourceHoursRow {
            resource_id: resource,
            weekday,
            opens,
            closes,
        })
        .collect();
    sorted.sort_by_key(|r| (r.weekday, r.opens));
    for (i, r) in sorted.iter().enumerate() {
        if !(1..=7).contains(&r.weekday) {
            return Err(ParseError::new(
                "weekday",
                "must be 1 (Monday) to 7 (Sunday)",
            ));
        }
        if r.opens >= r.closes {
            return Err(ParseError::new("hours", "opens must be before closes"));
        }
        if i > 0 && sorted[i - 1].weekday == r.weekday && sorted[i - 1].closes > r.opens {
            return Err(ParseError::new("hours", "intervals of one day overlap"));
        }
    }
    Ok(sorted)
}

impl BookingService {
    /// A resource's own weekly hours (empty: it works the tenant's).
    pub async fn resource_hours(
        &self,
        tenant: TenantId,
        resource: Uuid,
    ) -> Result<Vec<ResourceHoursRow>> {
        if !db::resource_of_tenant(self.pool(), tenant.0, resource).await? {
            return Err(BookingError::ResourceNotFound);
        }
        Ok(db::resource_hours(self.pool(), resource).await?)
    }

    /// Replaces a resource's own weekly hours (an empty list: back to the tenant's), under
    /// the rule locks of every day of the booking window; answers the live bookings of the
    /// resource that the new hours leave out.
    pub async fn replace_resource_hours(
        &self,
        tenant: TenantId,
        resource: Uuid,
        rows: &[(i16, NaiveTime, NaiveTime)],
    ) -> Result<(Vec<ResourceHoursRow>, Vec<AppointmentRow>)> {
        let sorted = validate_hours(resource, rows)?;
        let sched = self.schedule(tenant).await?;
        retry_transaction(is_retryable, || async {
            let mut tx = self
                .pool()
                .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
                .await?;
            if !db::resource_of_tenant(&mut *tx, tenant.0, resource).await? {
                return Err(BookingError::ResourceNotFound);
            }
            let now = self.clock().now();
            let (first, last) = booking_days(&sched, now);
            let mut locks = RuleLocks::new();
            let mut day = first;
            while day <= last {
                locks.day(&sched, resource, day);
                day += Duration::days(1);
            }
            locks.take(&mut tx).await?;
            db::replace_resource_hours(&mut tx, resource, &sorted).await?;
            let affected = outside_schedule(&mut tx, &sched, &[resource], now, None).await?;
            crate::services::admin::audit_admin(
                &mut tx,
                tenant.0,
                "resource_hours.replaced",
                "resource",
                resource,
                json!({"hours": sorted, "affected": references(&affected)}),
            )
            .await?;
            tx.commit().await?;
            Ok((sorted.clone(), affected))
        })
        .await
    }

    /// The tenant's exceptions that end on or after `since` (yearly ones always).
    pub async fn list_exceptions(
        &self,
        tenant: TenantId,
        since: NaiveDate,
    ) -> Result<Vec<ExceptionRow>> {
        self.schedule(tenant).await?;
        Ok(db::list_exceptions(self.pool(), tenant.0, since).await?)
    }

    /// Adds an exception (see [`validate_exception`]).
    pub async fn create_exception(
        &self,
        tenant: TenantId,
        draft: &ExceptionDraft,
    ) -> Result<ExceptionChange> {
        let input = validate_exception(draft)?;
        self.write_exception(tenant, None, Some(&input)).await
    }

    /// Replaces an exception with `draft`.
    pub async fn update_exception(
        &self,
        tenant: TenantId,
        id: Uuid,
        draft: &ExceptionDraft,
    ) -> Result<ExceptionChange> {
        let input = validate_exception(draft)?;
        self.write_exception(tenant, Some(id), Some(&input)).await
    }

    /// Deletes an exception; answers it as it was.
    pub async fn delete_exception(&self, tenant: TenantId, id: Uuid) -> Result<ExceptionRow> {
        Ok(self
            .write_exception(tenant, Some(id), None)
            .await?
            .exception)
    }

    /// Creates (`id` None), replaces or deletes (`input` None) an exception under the locks
    /// of the days the old and the new version touch.
    async fn write_exception(
        &self,
        tenant: TenantId,
        id: Option<Uuid>,
        input: Option<&ExceptionInput>,
    ) -> Result<ExceptionChange> {
        let sched = self.schedule(tenant).await?;
        let new_id = Uuid::new_v4();
        let done = retry_transaction(is_retryable, || async {
            let mut tx = self
                .pool()
                .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
                .await?;
            if let Some(rid) = input.and_then(|x| x.resource_id) {
                if !db::resource_of_tenant(&mut *tx, tenant.0, rid).await? {
                    return Err(BookingError::ResourceNotFound);
                }
            }
            let old = match id {
                Some(id) => Some(
                    db::get_exception(&mut tx, tenant.0, id, true)
                        .await?
                        .ok_or(BookingError::ExceptionNotFound)?,
                ),
                None => None,
            };
            let now = self.clock().now();
            let all = db::tenant_resource_ids(&mut *tx, tenant.0).await?;
            let mut locks = RuleLocks::new();
            if let Some(old) = &old {
                lock_exception_days(
                    &mut locks,
                    &sched,
                    &all,
                    old.resource_id,
                    &old_input(old),
                    now,
                );
            }
            if let Some(x) = input {
                lock_exception_days(&mut locks, &sched, &all, x.resource_id, x, now);
            }
            locks.take(&mut tx).await?;
            let (row, event) = match (id, input) {
                (None, Some(x)) => (
                    db::insert_exception(&mut tx, tenant.0, new_id, x).await?,
                    "schedule_exception.created",
                ),
                (Some(id), Some(x)) => (
                    db::update_exception(&mut tx, tenant.0, id, x)
                        .await?
                        .ok_or(BookingError::ExceptionNotFound)?,
                    "schedule_exception.updated",
                ),
                (Some(id), None) => (
                    db::delete_exception(&mut tx, tenant.0, id)
                        .await?
                        .ok_or(BookingError::ExceptionNotFound)?,
                    "schedule_exception.deleted",
                ),
                (None, None) => return Err(BookingError::ExceptionNotFound),
            };
            let affected = if input.is_some() {
                exception_catches(&mut tx, &sched, &row, &all, now).await?
            } else {
                Vec::new()
            };
            crate::services::admin::audit_admin(
                &mut tx,
                tenant.0,
                event,
                "schedule_exception",
                row.id,
                json!({"exception": row, "affected": references(&affected)}),
            )
            .await?;
            tx.commit().await?;
            Ok(ExceptionChange {
                exception: row,
                affected,
            })
        })
        .await?;
        Ok(done)
    }

    /// An exception and the live bookings that fall inside it now.
    pub async fn exception_affected(&self, tenant: TenantId, id: Uuid) -> Result<ExceptionChange> {
        let sched = self.schedule(tenant).await?;
        let mut conn = self.pool().acquire().await?;
        let row = db::get_exception(&mut conn, tenant.0, id, false)
            .await?
            .ok_or(BookingError::ExceptionNotFound)?;
        let all = db::tenant_resource_ids(&mut *conn, tenant.0).await?;
        let affected = exception_catches(&mut conn, &sched, &row, &all, self.clock().now()).await?;
        Ok(ExceptionChange {
            exception: row,
            affected,
        })
    }

    /// Tells every client whose booking falls inside the exception (email and/or SMS, as
    /// the booking has them) that it can no longer go ahead as planned, with new times of
    /// the same service and `booking_url` when given. The bookings are kept. Notifying the
    /// same version of the exception again queues nothing new. Audited.
    pub async fn notify_affected(
        &self,
        tenant: TenantId,
        id: Uuid,
        booking_url: Option<&str>,
    ) -> Result<Vec<Notified>> {
        let change = self.exception_affected(tenant, id).await?;
        let sched = self.schedule(tenant).await?;
        let link = booking_url.unwrap_or("").trim();
        let mut offers = Vec::with_capacity(change.affected.len());
        for a in &change.affected {
            offers.push(self.new_times(tenant, &sched, a).await);
        }
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::new();
        for (a, offer) in change.affected.iter().zip(offers) {
            let service = tenants::get_service(&mut *tx, tenant.0, a.service_id)
                .await?
                .map(|s| s.name)
                .unwrap_or_else(|| a.locale().text().mail.appointment.to_string());
            let channels = queue_notice(
                &mut tx,
                &sched,
                &change.exception,
                a,
                &service,
                &offer,
                link,
            )
            .await?;
            out.push(Notified {
                reference: a.reference.clone(),
                booking_id: a.id,
                channels,
            });
        }
        crate::services::admin::audit_admin(
            &mut tx,
            tenant.0,
            "schedule_exception.notified",
            "schedule_exception",
            id,
            json!({
                "bookings": out.iter().map(|n| json!({"reference": n.reference, "channels": n.channels})).collect::<Vec<_>>(),
                "booking_url": (!link.is_empty()).then_some(link),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Up to [`OFFERED_TIMES`] free times of the booking's service from now on (local
    /// rendering), for a notice; empty when none or on any error.
    async fn new_times(
        &self,
        tenant: TenantId,
        sched: &TenantSchedule,
        a: &AppointmentRow,
    ) -> Vec<DateTime<Utc>> {
        let today = sched.local_date(self.clock().now());
        let to = today + Duration::days(sched.tenant.max_days_ahead.into());
        match self.availability(tenant, a.service_id, today, to).await {
            Ok(av) => av
                .slots
                .iter()
                .map(|s| s.start)
                .take(OFFERED_TIMES)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "no new times for a schedule notice");
                Vec::new()
            }
        }
    }
}

/// The first and last local days a booking can be made on now (a day of margin each side).
fn booking_days(sched: &TenantSchedule, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let today = sched.local_date(now);
    (
        today - Duration::days(1),
        today + Duration::days(i64::from(sched.tenant.max_days_ahead) + 1),
    )
}

fn old_input(x: &ExceptionRow) -> ExceptionInput {
    ExceptionInput {
        resource_id: x.resource_id,
        kind: ExceptionKind::parse(&x.kind).unwrap_or(ExceptionKind::Closed),
        start_date: x.start_date,
        end_date: x.end_date,
        times: x.start_time.zip(x.end_time),
        recurring_yearly: x.recurring_yearly,
        note: String::new(),
    }
}

fn domain_of(x: &ExceptionInput) -> DateException {
    DateException {
        kind: x.kind,
        resource: None,
        start_date: x.start_date,
        end_date: x.end_date,
        times: x.times,
        recurring_yearly: x.recurring_yearly,
    }
}

/// The day locks of every bookable day the exception covers, on its resource or on every
/// resource of the tenant.
fn lock_exception_days(
    locks: &mut RuleLocks,
    sched: &TenantSchedule,
    all: &[Uuid],
    resource: Option<Uuid>,
    x: &ExceptionInput,
    now: DateTime<Utc>,
) {
    let resources: Vec<Uuid> = match resource {
        Some(r) => vec![r],
        None => all.to_vec(),
    };
    let domain = domain_of(x);
    let (first, last) = booking_days(sched, now);
    let mut day = first;
    while day <= last {
        if domain.occurs_on(day) {
            for r in &resources {
                locks.day(sched, *r, day);
            }
        }
        day += Duration::days(1);
    }
}

/// Live bookings (not yet ended) on `resources` that the current schedule (read in this
/// transaction) no longer covers, within `[now, until)` (default: the booking window).
async fn outside_schedule(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    resources: &[Uuid],
    now: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<AppointmentRow>> {
    let (_, last) = booking_days(sched, now);
    let hi = until.unwrap_or_else(|| {
        slots::local_to_utc(sched.tz, last + Duration::days(1), NaiveTime::MIN, true)
    });
    let extras = db::extras(
        &mut *conn,
        sched.tenant.id,
        resources,
        TenantSchedule::since(now),
    )
    .await?;
    let engine = sched.engine(&extras, resources);
    let rows = q::list_appointments(
        &mut *conn,
        sched.tenant.id,
        now,
        hi,
        Some(AppointmentStatus::Confirmed),
        AFFECTED_LIMIT,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|a| {
            resources
                .iter()
                .position(|r| *r == a.resource_id)
                .is_some_and(|i| !engine.fits(sched.tz, i, a.start_at, a.end_at))
        })
        .collect())
}

/// Live bookings (not yet ended) that fall inside the exception `x` (closures and time off
/// only), on its resource or any of `all`.
async fn exception_catches(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    x: &ExceptionRow,
    all: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<AppointmentRow>> {
    let input = old_input(x);
    if !input.kind.removes_time() {
        return Ok(Vec::new());
    }
    let domain = domain_of(&input);
    let hi = if x.recurring_yearly {
        now + Duration::days(YEARLY_HORIZON_DAYS)
    } else {
        slots::local_to_utc(
            sched.tz,
            x.end_date + Duration::days(1),
            NaiveTime::MIN,
            true,
        )
    };
    if hi <= now {
        return Ok(Vec::new());
    }
    let rows = q::list_appointments(
        &mut *conn,
        sched.tenant.id,
        now,
        hi,
        Some(AppointmentStatus::Confirmed),
        AFFECTED_LIMIT,
    )
    .await?;
    let tz = sched.tz;
    Ok(rows
        .into_iter()
        .filter(|a| match x.resource_id {
            Some(r) => a.resource_id == r,
            None => all.contains(&a.resource_id),
        })
        .filter(|a| {
            let first = sched.local_date(a.start_at);
            let last = sched.local_date(a.end_at - Duration::microseconds(1));
            let mut day = first;
            while day <= last {
                if domain.occurs_on(day) {
                    let (lo, hi) = domain.span_on(tz, day);
                    if a.start_at < hi && lo < a.end_at {
                        return true;
                    }
                }
                day += Duration::days(1);
            }
            false
        })
        .collect())
}

/// Queues the notice of one booking on its channels; returns the channels queued now.
async fn queue_notice(
    tx: &mut PgConnection,
    sched: &TenantSchedule,
    x: &ExceptionRow,
    a: &AppointmentRow,
    service: &str,
    offer: &[DateTime<Utc>],
    link: &str,
) -> Result<Vec<&'static str>> {
    let locale = a.locale();
    let text = locale.text();
    let tz = sched.tz;
    let client = crate::text::client_zone(a.client_time_zone.as_deref());
    let beside = |clinic: String, t: DateTime<Utc>| {
        crate::text::beside_client_time(locale, clinic, t, tz, client)
    };
    let when = beside(
        locale.at(&a.start_at.with_timezone(&tz), text.mail.when_format),
        a.start_at,
    );
    let times: Vec<String> = offer
        .iter()
        .map(|t| beside(locale.at(&t.with_timezone(&tz), text.sms.when_format), *t))
        .collect();
    let offer_text = if times.is_empty() {
        (text.mail.no_new_times)(link)
    } else {
        (text.mail.new_times)(&times.join(", "), link)
    };
    let meta = json!({
        "reference": a.reference,
        "start": a.start_at,
        "end": a.end_at,
        "time_zone": tz.name(),
        "service_id": a.service_id,
        "exception_id": x.id,
        "offered": offer,
    });
    // One notice per booking and version of the exception.
    let key = format!(
        "schedule:{}:{}:{}",
        x.id,
        a.id,
        x.updated_at.timestamp_micros()
    );
    let name = a
        .client_name
        .split_whitespace()
        .next()
        .unwrap_or(text.mail.there);
    let mut channels = Vec::new();
    if let Ok(email) = Email::parse(&a.client_email) {
        let queued = notifications::enqueue(
            tx,
            &NewNotification {
                tenant_id: a.tenant_id,
                channel: "email",
                kind: "schedule_change",
                recipient: email.as_str().to_string(),
                subject: Some((text.mail.schedule_change_subject)(service, &when)),
                body: (text.mail.schedule_change_body)(
                    name,
                    &sched.tenant.name,
                    service,
                    &when,
                    &a.reference,
                    &offer_text,
                ),
                metadata: meta.clone(),
                idempotency_key: format!("{key}:email"),
                booking_id: Some(a.id),
                job_id: None,
            },
        )
        .await?;
        if queued.is_some() {
            channels.push("email");
        }
    }
    if let Some(phone) = a
        .client_phone
        .as_deref()
        .and_then(|p| PhoneE164::parse(p).ok())
    {
        let sms_when = beside(
            locale.at(&a.start_at.with_timezone(&tz), text.sms.when_format),
            a.start_at,
        );
        let booking = (text.sms.booking)(service, &sms_when);
        let body = format!(
            "{} {}",
            (text.sms.schedule_change)(&sched.tenant.name, &booking, &offer_text),
            (text.sms.opt_out_tail)(Some(&a.reference))
        );
        let queued = notifications::enqueue(
            tx,
            &NewNotification {
                tenant_id: a.tenant_id,
                channel: "sms",
                kind: "schedule_change",
                recipient: phone.as_str().to_string(),
                subject: None,
                body,
                metadata: meta,
                idempotency_key: format!("{key}:sms"),
                booking_id: Some(a.id),
                job_id: None,
            },
        )
        .await?;
        if queued.is_some() {
            channels.push("sms");
        }
    }
    Ok(channels)
}

fn references(rows: &[AppointmentRow]) -> Vec<&str> {
    rows.iter().map(|a| a.reference.as_str()).collect()
}

/// A service's booking rules (None: no cap / the tenant's notice).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ServiceRules {
    pub max_per_day: Option<i32>,
    pub min_notice_minutes: Option<i32>,
    pub buffer_before_minutes: Option<i32>,
    pub buffer_after_minutes: Option<i32>,
}

impl BookingService {
    /// Sets a service's daily cap and minimum notice (None: none / the tenant's). Audited.
    pub async fn set_service_rules(
        &self,
        tenant: TenantId,
        service: Uuid,
        rules: ServiceRules,
    ) -> Result<ServiceRules> {
        if let Some(v) = rules.max_per_day {
            crate::services::admin::check_range("max_per_day", v, 1, 1000)?;
        }
        if let Some(v) = rules.min_notice_minutes {
            crate::services::admin::check_range("min_notice_minutes", v, 0, 43_200)?;
        }
        if let Some(v) = rules.buffer_before_minutes {
            crate::services::admin::check_range("buffer_before_minutes", v, 0, 240)?;
        }
        if let Some(v) = rules.buffer_after_minutes {
            crate::services::admin::check_range("buffer_after_minutes", v, 0, 240)?;
        }
        let mut tx = self.pool().begin().await?;
        if !db::set_service_rules(
            &mut tx,
            tenant.0,
            service,
            [
                rules.max_per_day,
                rules.min_notice_minutes,
                rules.buffer_before_minutes,
                rules.buffer_after_minutes,
            ],
        )
        .await?
        {
            return Err(BookingError::ServiceNotFound);
        }
        crate::services::admin::audit_admin(
            &mut tx,
            tenant.0,
            "service.rules_updated",
            "service",
            service,
            json!(rules),
        )
        .await?;
        tx.commit().await?;
        Ok(rules)
    }

    /// A service's booking rules.
    pub async fn service_rules(&self, tenant: TenantId, service: Uuid) -> Result<ServiceRules> {
        let s = tenants::get_service(self.pool(), tenant.0, service)
            .await?
            .ok_or(BookingError::ServiceNotFound)?;
        Ok(ServiceRules {
            max_per_day: s.max_per_day,
            min_notice_minutes: s.min_notice_minutes,
            buffer_before_minutes: s.buffer_before_minutes,
            buffer_after_minutes: s.buffer_after_minutes,
        })
    }

    /// Sets a resource's daily cap (None: none). Audited.
    pub async fn set_resource_cap(
        &self,
        tenant: TenantId,
        resource: Uuid,
        max_per_day: Option<i32>,
    ) -> Result<Option<i32>> {
        if let Some(v) = max_per_day {
            crate::services::admin::check_range("max_per_day", v, 1, 1000)?;
        }
        let mut tx = self.pool().begin().await?;
        if !db::set_resource_cap(&mut tx, tenant.0, resource, max_per_day).await? {
            return Err(BookingError::ResourceNotFound);
        }
        crate::services::admin::audit_admin(
            &mut tx,
            tenant.0,
            "resource.rules_updated",
            "resource",
            resource,
            json!({ "max_per_day": max_per_day }),
        )
        .await?;
        tx.commit().await?;
        Ok(max_per_day)
    }

    /// A resource's daily cap.
    pub async fn resource_cap(&self, tenant: TenantId, resource: Uuid) -> Result<Option<i32>> {
        db::resource_cap(self.pool(), tenant.0, resource)
            .await?
            .ok_or(BookingError::ResourceNotFound)
    }

    /// Sets the tenant's self-service cut-off (0: clients may change until the start).
    pub async fn set_self_service_cutoff(&self, tenant: TenantId, minutes: i32) -> Result<i32> {
        crate::services::admin::check_range("self_service_cutoff_minutes", minutes, 0, 43_200)?;
        let mut tx = self.pool().begin().await?;
        if !db::set_self_service_cutoff(&mut tx, tenant.0, minutes).await? {
            return Err(BookingError::TenantNotFound);
        }
        crate::services::admin::audit_admin(
            &mut tx,
            tenant.0,
            "tenant.rules_updated",
            "tenant",
            tenant.0,
            json!({ "self_service_cutoff_minutes": minutes }),
        )
        .await?;
        tx.commit().await?;
        Ok(minutes)
    }

    /// Staff cancel a booking by its reference alone, past the self-service cut-off if
    /// need be (the override is audited).
    pub async fn admin_cancel(
        &self,
        tenant: TenantId,
        reference: &crate::domain::ReferenceCode,
    ) -> Result<AppointmentRow> {
        let appt = q::appointment_by_reference(self.pool(), tenant.0, reference.as_str(), false)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        let email = Email::parse(&appt.client_email)?;
        self.cancel_by(tenant, reference, &email, super::ChangeBy::Admin)
            .await
    }
}
