//! The eight registered autonomous tools. Each reads what it needs, re-checks that its job
//! still makes sense (a cancelled or moved booking makes reminders stale), and writes
//! `notification_outbox` rows (and `push_events` for open chat sessions) in the runner's
//! transaction, keyed so a rerun writes nothing twice. Sending is the delivery
//! dispatcher's job: it drains `notification_outbox` through the `Mailer`/`SmsSender` ports.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::db::bookings::AppointmentRow;
use crate::db::jobs::JobRow;
use crate::db::notifications::{self, NewNotification};
use crate::db::{audit, tenants};
use crate::domain::{Email, PhoneE164, TenantId};
use crate::ports::calendar::{CalendarError, CalendarEvent};
use crate::services::autonomy::jobs::{JobSpec, ReminderKind};
use crate::services::autonomy::Autonomy;

/// A session gets at most one push of a type in this window.
pub const PUSH_COOLDOWN: Duration = Duration::minutes(10);

#[derive(Debug)]
pub enum ToolOutcome {
    /// Did its work; the summary goes to the audit log (no PII).
    Done(Value),
    /// Nothing to do any more (cancelled booking, moved booking, no contact, …).
    Skipped(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Worth another attempt after the backoff.
    #[error("{0}")]
    Retry(String),
    /// Will never succeed: the job fails at once.
    #[error("{0}")]
    Permanent(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The result of a tool's network call, made before the runner opens its transaction.
#[derive(Debug)]
pub enum External {
    None,
    Calendar(Result<String, CalendarError>),
    /// The booking is gone or cancelled: nothing was called.
    NotApplicable(String),
}

const APPT_COLS: &str = "id, tenant_id, service_id, resource_id, hold_id, session_id, reference,
    lower(during) AS start_at, upper(during) AS end_at, status, client_name, client_email,
    client_phone, notes, sequence, created_at, updated_at, cancelled_at";

pub async fn appointment<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Waiting waitlist entries that an opened slot at `start` suits: same service (or any),
/// the local date inside their preferred range, the local time of day they asked for.
pub async fn waitlist_matches(
    conn: &mut PgConnection,
    tenant: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT w.id FROM waitlist_entries w JOIN tenants t ON t.id = w.tenant_id,
                LATERAL (SELECT ($3::timestamptz AT TIME ZONE t.time_zone) AS local) l
          WHERE w.tenant_id = $1 AND w.status = 'waiting'
            AND (w.service_id IS NULL OR w.service_id = $2)
            AND (w.preferred_from IS NULL OR w.preferred_from <= l.local::date)
            AND (w.preferred_to IS NULL OR w.preferred_to >= l.local::date)
            AND (w.time_of_day IS NULL OR w.time_of_day =
                 CASE WHEN extract(hour FROM l.local) < 12 THEN 'morning'
                      WHEN extract(hour FROM l.local) < 17 THEN 'afternoon'
                      ELSE 'evening' END)
          ORDER BY w.created_at LIMIT 20",
    )
    .bind(tenant)
    .bind(service)
    .bind(start)
    .fetch_all(conn)
    .await
}

/// The only tool with a network call today: the calendar write of `retry_calendar_sync`.
pub async fn external_phase(ctx: &Autonomy, _job: &JobRow, spec: &JobSpec) -> External {
    let JobSpec::RetryCalendarSync { booking_id } = spec else {
        return External::None;
    };
    let appt = match appointment(&ctx.pool, *booking_id).await {
        Ok(Some(a)) if a.status == "confirmed" => a,
        // A cancelled booking must have no event: the retry deletes it (a missing event
        // counts as deleted), whichever write failed before.
        Ok(Some(a)) => {
            return External::Calendar(
                ctx.calendar
                    .delete_event(a.tenant_id, a.id)
                    .await
                    .map(|()| "deleted".to_string()),
            )
        }
        Ok(None) => return External::NotApplicable("booking is gone".into()),
        Err(e) => return External::Calendar(Err(CalendarError::Other(format!("database: {e}")))),
    };
    let service = tenants::get_service(&ctx.pool, appt.tenant_id, appt.service_id)
        .await
        .ok()
        .flatten()
        .map(|s| s.name)
        .unwrap_or_else(|| crate::text::current().mail.appointment.into());
    let event = CalendarEvent {
        tenant_id: appt.tenant_id,
        booking_id: appt.id,
        reference: appt.reference.clone(),
        summary: (crate::text::current().mail.calendar_summary)(&service, &appt.reference),
        start: appt.start_at,
        end: appt.end_at,
    };
    External::Calendar(ctx.calendar.create_event(&event).await)
}

/// Runs one tool inside the runner's transaction.
pub async fn run(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    spec: &JobSpec,
    external: External,
) -> Result<ToolOutcome, ToolError> {
    match spec {
        JobSpec::SendConfirmation {
            booking_id,
            sequence,
        } => send_confirmation(ctx, tx, job, *booking_id, *sequence).await,
        JobSpec::SendCancellation { booking_id } => {
            send_cancellation(ctx, tx, job, *booking_id).await
        }
        JobSpec::SendReminder {
            booking_id,
            which,
            start,
        } => send_reminder(ctx, tx, job, *booking_id, *which, *start).await,
        JobSpec::RetryCalendarSync { booking_id } => {
            retry_calendar_sync(ctx, tx, job, *booking_id, external).await
        }
        JobSpec::EscalateCalendarFailure {
            booking_id,
            attempts,
        } => escalate(ctx, tx, job, *booking_id, *attempts).await,
        JobSpec::SendHoldFollowup {
            hold_id,
            session_id,
            service_id,
            start,
        } => hold_followup(ctx, tx, job, *hold_id, session_id, *service_id, *start).await,
        JobSpec::SendWaitlistNotification {
            entry_id,
            service_id,
            start,
            end,
        } => waitlist(ctx, tx, job, *entry_id, *service_id, *start, *end).await,
        JobSpec::SendContactFollowup { followup_id } => {
            contact_followup(ctx, tx, job, *followup_id).await
        }
    }
}

// --- what every message needs -------------------------------------------------------------

struct Facts {
    tenant_name: String,
    tz: Tz,
    service_name: String,
}

async fn facts(tx: &mut PgConnection, tenant: Uuid, service: Uuid) -> Result<Facts, ToolError> {
    let t = tenants::get_tenant(&mut *tx, tenant)
        .await?
        .ok_or_else(|| ToolError::Permanent("tenant not found".into()))?;
    let tz: Tz = t
        .time_zone
        .parse()
        .map_err(|_| ToolError::Permanent("tenant time zone is invalid".into()))?;
    let service_name = tenants::get_service(&mut *tx, tenant, service)
        .await?
        .map(|s| s.name)
        .unwrap_or_else(|| "appointment".into());
    Ok(Facts {
        tenant_name: t.name,
        tz,
        service_name,
    })
}

fn when(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .format(crate::text::current().mail.when_format)
        .to_string()
}

fn first_name(full: &str) -> &str {
    full.split_whitespace()
        .next()
        .unwrap_or(crate::text::current().mail.there)
}

fn booking_meta(a: &AppointmentRow, f: &Facts) -> Value {
    json!({
        "reference": a.reference,
        "start": a.start_at,
        "end": a.end_at,
        "sequence": a.sequence,
        "time_zone": f.tz.name(),
        "service_id": a.service_id,
    })
}

struct Msg<'a> {
    kind: &'static str,
    key: String,
    subject: String,
    body: String,
    meta: Value,
    booking: Option<Uuid>,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    /// The SMS text when it should differ from "subject: reference" (opt-out tail added).
    sms: Option<String>,
}

/// Queues the message on every channel the client gave (a valid email; a valid E.164
/// phone for short texts). Returns the channels queued (duplicates count as queued).
async fn queue(
    tx: &mut PgConnection,
    job: &JobRow,
    m: Msg<'_>,
) -> Result<Vec<&'static str>, ToolError> {
    let mut channels = Vec::new();
    if let Some(email) = m.email.and_then(|e| Email::parse(e).ok()) {
        notifications::enqueue(
            tx,
            &NewNotification {
                tenant_id: job.tenant_id,
                channel: "email",
                kind: m.kind,
                recipient: email.as_str().to_string(),
                subject: Some(m.subject.clone()),
                body: m.body.clone(),
                metadata: m.meta.clone(),
                idempotency_key: format!("{}:email", m.key),
                booking_id: m.booking,
                job_id: Some(job.id),
            },
        )
        .await?;
        channels.push("email");
    }
    if let Some(phone) = m.phone.and_then(|p| PhoneE164::parse(p).ok()) {
        notifications::enqueue(
            tx,
            &NewNotification {
                tenant_id: job.tenant_id,
                channel: "sms",
                kind: m.kind,
                recipient: phone.as_str().to_string(),
                subject: None,
                body: format!(
                    "{} {}",
                    m.sms
                        .as_deref()
                        .unwrap_or(&(crate::text::current().sms.from_subject)(&m.subject)),
                    sms_tail(&m.meta)
                ),
                metadata: m.meta.clone(),
                idempotency_key: format!("{}:sms", m.key),
                booking_id: m.booking,
                job_id: Some(job.id),
            },
        )
        .await?;
        channels.push("sms");
    }
    Ok(channels)
}

fn sms_tail(meta: &Value) -> String {
    (crate::text::current().sms.opt_out_tail)(meta.get("reference").and_then(Value::as_str))
}

async fn live_booking(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AppointmentRow>, ToolError> {
    Ok(appointment(&mut *tx, id).await?)
}

// --- the tools ---------------------------------------------------------------------------

async fn send_confirmation(
    _ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    sequence: i32,
) -> Result<ToolOutcome, ToolError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ToolOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ToolOutcome::Skipped("booking is cancelled".into()));
    }
    if a.sequence != sequence {
        return Ok(ToolOutcome::Skipped(
            "booking changed since; a newer confirmation follows".into(),
        ));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let (verb, kind) = if sequence == 0 {
        (crate::text::current().mail.confirmed, "confirmation")
    } else {
        (crate::text::current().mail.rescheduled, "confirmation")
    };
    let subject = (crate::text::current().mail.confirmation_subject)(
        &f.service_name,
        verb,
        &when(f.tz, a.start_at),
        &a.reference,
    );
    let body = (crate::text::current().mail.confirmation_body)(
        first_name(&a.client_name),
        &f.service_name,
        &f.tenant_name,
        verb,
        &when(f.tz, a.start_at),
        &a.reference,
    );
    let channels = queue(
        tx,
        job,
        Msg {
            kind,
            key: format!("confirmation:{}:{}", a.id, sequence),
            subject,
            body,
            meta: booking_meta(&a, &f),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: None,
            sms: None,
        },
    )
    .await?;
    Ok(ToolOutcome::Done(
        json!({"reference": a.reference, "channels": channels}),
    ))
}

async fn send_cancellation(
    _ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
) -> Result<ToolOutcome, ToolError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ToolOutcome::Skipped("booking not found".into()));
    };
    if a.status != "cancelled" {
        return Ok(ToolOutcome::Skipped("booking is not cancelled".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let subject = (crate::text::current().mail.cancellation_subject)(
        &f.service_name,
        &when(f.tz, a.start_at),
        &a.reference,
    );
    let body = (crate::text::current().mail.cancellation_body)(
        first_name(&a.client_name),
        &f.service_name,
        &f.tenant_name,
        &when(f.tz, a.start_at),
        &a.reference,
    );
    let channels = queue(
        tx,
        job,
        Msg {
            kind: "cancellation",
            key: format!("cancellation:{}", a.id),
            subject,
            body,
            meta: booking_meta(&a, &f),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: None,
            sms: None,
        },
    )
    .await?;
    Ok(ToolOutcome::Done(
        json!({"reference": a.reference, "channels": channels}),
    ))
}

async fn send_reminder(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    which: ReminderKind,
    start: DateTime<Utc>,
) -> Result<ToolOutcome, ToolError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ToolOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ToolOutcome::Skipped("booking is cancelled".into()));
    }
    if a.start_at != start {
        return Ok(ToolOutcome::Skipped(
            "booking was moved; this reminder is stale".into(),
        ));
    }
    if a.start_at <= ctx.clock.now() {
        return Ok(ToolOutcome::Skipped("the appointment has started".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let lead = match which {
        ReminderKind::H24 => crate::text::current().mail.lead_tomorrow,
        ReminderKind::H2 => crate::text::current().mail.lead_two_hours,
    };
    let subject = (crate::text::current().mail.reminder_subject)(
        &f.service_name,
        lead,
        &when(f.tz, a.start_at),
    );
    let body = (crate::text::current().mail.reminder_body)(
        first_name(&a.client_name),
        &f.service_name,
        &f.tenant_name,
        lead,
        &when(f.tz, a.start_at),
        &a.reference,
    );
    let kind = match which {
        ReminderKind::H24 => "reminder_24h",
        ReminderKind::H2 => "reminder_2h",
    };
    let channels = queue(
        tx,
        job,
        Msg {
            kind,
            key: format!("reminder:{}:{}:{}", a.id, which.as_str(), a.sequence),
            subject,
            body,
            meta: booking_meta(&a, &f),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: a.client_phone.as_deref(),
            sms: None,
        },
    )
    .await?;
    Ok(ToolOutcome::Done(
        json!({"reference": a.reference, "reminder": which.as_str(), "channels": channels}),
    ))
}

async fn retry_calendar_sync(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    external: External,
) -> Result<ToolOutcome, ToolError> {
    match external {
        External::NotApplicable(why) => Ok(ToolOutcome::Skipped(why)),
        External::None => Err(ToolError::Permanent("calendar call was not made".into())),
        External::Calendar(Err(e)) => {
            // Audited by the runner with the attempt (this transaction is rolled back).
            Err(ToolError::Retry(format!(
                "calendar write failed: {}",
                e.kind()
            )))
        }
        External::Calendar(Ok(external_id)) => {
            let Some(a) = live_booking(tx, id).await? else {
                return Ok(ToolOutcome::Skipped("booking not found".into()));
            };
            let deleted = a.status == "cancelled";
            audit::record(
                tx,
                audit::AuditEntry {
                    tenant_id: Some(job.tenant_id),
                    event_type: "calendar.sync_succeeded",
                    entity_type: "appointment",
                    entity_id: Some(id.to_string()),
                    actor: "job_runner",
                    payload: json!({
                        "attempt": job.attempts,
                        "external_id": external_id,
                        "operation": if deleted { "delete" } else { "create" },
                    }),
                },
            )
            .await?;
            if deleted {
                // The event of a cancelled booking is gone; nothing to tell the client.
                return Ok(ToolOutcome::Done(
                    json!({"reference": a.reference, "deleted": true}),
                ));
            }
            let pushed = notifications::push_if_cool(
                tx,
                job.tenant_id,
                &a.session_id,
                "calendar_retry_success",
                &json!({
                    "reference": a.reference,
                    "start": a.start_at,
                    "message": (crate::text::current().mail.on_calendar)(&a.reference),
                }),
                ctx.clock.now(),
                PUSH_COOLDOWN,
            )
            .await?;
            Ok(ToolOutcome::Done(
                json!({"reference": a.reference, "pushed": pushed.is_some()}),
            ))
        }
    }
}

async fn escalate(
    _ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    attempts: i32,
) -> Result<ToolOutcome, ToolError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ToolOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ToolOutcome::Skipped("booking is cancelled".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let admin: Option<String> = sqlx::query_scalar("SELECT admin_email FROM tenants WHERE id = $1")
        .bind(a.tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
    let meta = booking_meta(&a, &f);
    let mut channels = queue(
        tx,
        job,
        Msg {
            kind: "calendar_escalation",
            key: format!("calendar_escalation:{}:{}", a.id, job.id),
            subject: (crate::text::current().mail.escalation_subject)(
                &f.service_name,
                &when(f.tz, a.start_at),
                &a.reference,
            ),
            body: (crate::text::current().mail.escalation_body)(
                first_name(&a.client_name),
                &f.service_name,
                &f.tenant_name,
                &when(f.tz, a.start_at),
                &a.reference,
            ),
            meta: meta.clone(),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: None,
            sms: None,
        },
    )
    .await?;
    if let Some(admin) = admin.as_deref() {
        let admin_channels = queue(
            tx,
            job,
            Msg {
                kind: "calendar_escalation_admin",
                key: format!("calendar_escalation_admin:{}:{}", a.id, job.id),
                subject: (crate::text::current().mail.escalation_admin_subject)(&a.reference),
                body: (crate::text::current().mail.escalation_admin_body)(
                    &a.reference,
                    &f.service_name,
                    &when(f.tz, a.start_at),
                    attempts,
                ),
                meta,
                booking: Some(a.id),
                email: Some(admin),
                phone: None,
                sms: None,
            },
        )
        .await?;
        channels.extend(admin_channels);
    }
    audit::record(
        tx,
        audit::AuditEntry {
            tenant_id: Some(job.tenant_id),
            event_type: "calendar.escalated",
            entity_type: "appointment",
            entity_id: Some(a.id.to_string()),
            actor: "job_runner",
            payload: json!({"attempts": attempts, "admin_notified": admin.is_some()}),
        },
    )
    .await?;
    Ok(ToolOutcome::Done(
        json!({"reference": a.reference, "channels": channels, "admin_notified": admin.is_some()}),
    ))
}

#[derive(FromRow)]
struct Contact {
    email: Option<String>,
    phone: Option<String>,
}

/// Contact details a session left: its follow-up requests and waitlist entries.
async fn session_contact(
    tx: &mut PgConnection,
    tenant: Uuid,
    session: &str,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as(
        "SELECT email, phone FROM (
            SELECT CASE WHEN channel = 'email' THEN recipient END AS email,
                   CASE WHEN channel = 'sms' THEN recipient END AS phone, created_at
              FROM followup_contacts WHERE tenant_id = $1 AND session_id = $2
            UNION ALL
            SELECT client_email, client_phone, created_at FROM waitlist_entries
             WHERE tenant_id = $1 AND session_id = $2
         ) c WHERE email IS NOT NULL OR phone IS NOT NULL
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(session)
    .fetch_optional(tx)
    .await
}

#[allow(clippy::too_many_arguments)]
async fn hold_followup(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    hold: Uuid,
    session: &str,
    service: Uuid,
    start: DateTime<Utc>,
) -> Result<ToolOutcome, ToolError> {
    let booked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM appointments WHERE tenant_id = $1 AND session_id = $2 AND created_at >= $3 - interval '1 hour')",
    )
    .bind(job.tenant_id)
    .bind(session)
    .bind(ctx.clock.now())
    .fetch_one(&mut *tx)
    .await?;
    if booked {
        return Ok(ToolOutcome::Skipped("the session booked meanwhile".into()));
    }
    let Some(contact) = session_contact(tx, job.tenant_id, session).await? else {
        return Ok(ToolOutcome::Skipped(
            "the session left no contact details".into(),
        ));
    };
    let f = facts(tx, job.tenant_id, service).await?;
    let subject =
        (crate::text::current().mail.hold_released_subject)(&f.service_name, &when(f.tz, start));
    let body = (crate::text::current().mail.hold_released_body)(
        &f.tenant_name,
        &f.service_name,
        &when(f.tz, start),
    );
    let channels = queue(tx, job, Msg {
        kind: "hold_followup",
        key: format!("hold_followup:{hold}"),
        subject,
        body,
        meta: json!({"hold_id": hold, "service_id": service, "start": start, "time_zone": f.tz.name()}),
        booking: None,
        email: contact.email.as_deref(),
        phone: contact.phone.as_deref(),
        sms: Some((crate::text::current().sms.hold_released)(&f.tenant_name, &when(f.tz, start))),
    })
    .await?;
    Ok(ToolOutcome::Done(json!({"channels": channels})))
}

#[derive(FromRow)]
struct WaitlistRow {
    session_id: Option<String>,
    client_name: Option<String>,
    client_email: Option<String>,
    client_phone: Option<String>,
    status: String,
}

#[allow(clippy::too_many_arguments)]
async fn waitlist(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    entry: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<ToolOutcome, ToolError> {
    let row: Option<WaitlistRow> = sqlx::query_as(
        "SELECT session_id, client_name, client_email, client_phone, status FROM waitlist_entries
          WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(entry)
    .bind(job.tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(w) = row else {
        return Ok(ToolOutcome::Skipped("waitlist entry not found".into()));
    };
    if w.status != "waiting" {
        return Ok(ToolOutcome::Skipped(format!(
            "waitlist entry is {}",
            w.status
        )));
    }
    let f = facts(tx, job.tenant_id, service).await?;
    // Offer only what is really free now: the opened slot and up to two more that day.
    let date = start.with_timezone(&f.tz).date_naive();
    let free = match ctx
        .booking
        .availability(TenantId(job.tenant_id), service, date, date)
        .await
    {
        Ok(av) => av.slots,
        Err(e) => {
            return Ok(ToolOutcome::Skipped(format!(
                "availability unavailable: {e}"
            )))
        }
    };
    if !free.iter().any(|s| s.start == start) {
        return Ok(ToolOutcome::Skipped(
            "the opened slot is taken again".into(),
        ));
    }
    let mut offered: Vec<_> = free.iter().filter(|s| s.start == start).collect();
    offered.extend(
        free.iter()
            .filter(|s| s.start != start && s.start > start)
            .take(2),
    );
    let slots: Vec<Value> = offered.iter().map(|s| json!({"start": s.start.with_timezone(&f.tz).to_rfc3339(), "end": s.end.with_timezone(&f.tz).to_rfc3339()})).collect();
    let mut pushed = false;
    if let Some(session) = w.session_id.as_deref() {
        pushed = notifications::push_if_cool(
            tx,
            job.tenant_id,
            session,
            "waitlist_match",
            &json!({
                "entry_id": entry,
                "service_id": service,
                "service_name": f.service_name,
                "time_zone": f.tz.name(),
                "slots": slots,
                "message": (crate::text::current().mail.waitlist_notice)(&f.service_name, &when(f.tz, start)),
            }),
            ctx.clock.now(),
            PUSH_COOLDOWN,
        )
        .await?
        .is_some();
    }
    let name = w
        .client_name
        .as_deref()
        .map(first_name)
        .unwrap_or(crate::text::current().mail.there);
    let channels = queue(tx, job, Msg {
        kind: "waitlist_match",
        key: format!("waitlist:{entry}:{}", start.timestamp()),
        subject: (crate::text::current().mail.waitlist_subject)(&f.service_name, &when(f.tz, start)),
        body: (crate::text::current().mail.waitlist_body)(
            name, &f.tenant_name, &when(f.tz, start), &f.service_name, &end.with_timezone(&f.tz).format(crate::text::current().mail.time_format).to_string()
        ),
        meta: json!({"entry_id": entry, "service_id": service, "start": start, "end": end, "time_zone": f.tz.name()}),
        booking: None,
        email: w.client_email.as_deref(),
        phone: w.client_phone.as_deref(),
        sms: Some((crate::text::current().sms.waitlist_match)(&f.tenant_name, &f.service_name, &when(f.tz, start))),
    })
    .await?;
    if channels.is_empty() && !pushed {
        return Ok(ToolOutcome::Skipped("no way to reach the client".into()));
    }
    sqlx::query("UPDATE waitlist_entries SET status = 'notified', notified_at = $2 WHERE id = $1")
        .bind(entry)
        .bind(ctx.clock.now())
        .execute(&mut *tx)
        .await?;
    Ok(ToolOutcome::Done(
        json!({"channels": channels, "pushed": pushed, "slots": slots.len()}),
    ))
}

#[derive(FromRow)]
struct FollowupRow {
    channel: String,
    recipient: String,
    reason: String,
    status: String,
}

async fn contact_followup(
    ctx: &Autonomy,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
) -> Result<ToolOutcome, ToolError> {
    let row: Option<FollowupRow> = sqlx::query_as(
        "SELECT channel, recipient, reason, status FROM followup_contacts WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(job.tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(fu) = row else {
        return Ok(ToolOutcome::Skipped("follow-up not found".into()));
    };
    if fu.status != "scheduled" {
        return Ok(ToolOutcome::Skipped(format!("follow-up is {}", fu.status)));
    }
    let tenant = tenants::get_tenant(&mut *tx, job.tenant_id)
        .await?
        .ok_or_else(|| ToolError::Permanent("tenant not found".into()))?;
    let about = if fu.reason.trim().is_empty() {
        String::new()
    } else {
        (crate::text::current().mail.about)(fu.reason.trim())
    };
    let subject = (crate::text::current().mail.followup_subject)(&tenant.name);
    let body = (crate::text::current().mail.followup_body)(&tenant.name, &about);
    let (email, phone) = match fu.channel.as_str() {
        "sms" => (None, Some(fu.recipient.as_str())),
        _ => (Some(fu.recipient.as_str()), None),
    };
    let channels = queue(
        tx,
        job,
        Msg {
            kind: "contact_followup",
            key: format!("contact_followup:{id}"),
            subject,
            body,
            meta: json!({"followup_id": id}),
            booking: None,
            email,
            phone,
            sms: Some((crate::text::current().sms.contact_followup)(
                &tenant.name,
                &about,
            )),
        },
    )
    .await?;
    if channels.is_empty() {
        return Err(ToolError::Permanent(
            "the follow-up recipient is not a valid address".into(),
        ));
    }
    sqlx::query("UPDATE followup_contacts SET status = 'sent', sent_at = $2 WHERE id = $1")
        .bind(id)
        .bind(ctx.clock.now())
        .execute(&mut *tx)
        .await?;
    Ok(ToolOutcome::Done(json!({"channels": channels})))
}
