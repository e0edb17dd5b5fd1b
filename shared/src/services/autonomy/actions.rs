//! The nine registered autonomous tools. Each reads what it needs, re-checks that its job
//! still makes sense (a cancelled or moved booking makes reminders stale), and writes
//! `notification_outbox` rows (and `push_events` for open chat sessions) in the runner's
//! transaction, keyed so a rerun writes nothing twice. Sending is the delivery
//! dispatcher's job: it drains `notification_outbox` through the `Mailer`/`SmsSender` ports.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::bookings::appointment_by_id as appointment;
use crate::db::bookings::AppointmentRow;
use crate::db::followups::{self, FollowupStatus};
use crate::db::jobs::JobRow;
use crate::db::notifications::{self, NewNotification};
use crate::db::waitlist::WaitlistStatus;
use crate::db::{audit, tenants, waitlist as wl};
use crate::domain::Locale;
use crate::domain::{Email, PhoneE164, TenantId};
use crate::ports::calendar::{CalendarError, CalendarEvent, CalendarProvider};
use crate::ports::clock::Clock;
use crate::services::autonomy::jobs::{JobSpec, ReminderKind};
use crate::services::booking::{BookingService, WaitlistOffer};

/// A session gets at most one push of a type in this window.
pub const PUSH_COOLDOWN: Duration = Duration::minutes(10);

/// What the actions work with: the pool (reads before the runner's transaction), the
/// clock, the tenant calendar and the booking service (what is free for waitlist offers).
#[derive(Clone)]
pub struct ActionCtx {
    pub pool: PgPool,
    pub clock: Clock,
    pub calendar: Arc<dyn CalendarProvider>,
    pub booking: BookingService,
    /// Where links in messages point (`PUBLIC_BASE_URL`), without a trailing slash.
    pub public_base_url: String,
}

#[derive(Debug)]
pub enum ActionOutcome {
    /// Did its work; the summary goes to the audit log (no PII).
    Done(Value),
    /// Did its work and wrote a push for this chat session, posted to the session's open
    /// connections once the transaction commits (the session id stays out of the audit log).
    Pushed { summary: Value, session: String },
    /// Nothing to do any more (cancelled booking, moved booking, no contact, …).
    Skipped(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
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
    /// The waitlist offer made for the job: None when the entry no longer waits or the
    /// opened time is taken again.
    Offer(Result<Option<WaitlistOffer>, String>),
}

/// What a tool does outside the runner's transaction: the calendar write of
/// `retry_calendar_sync`, and the hold a waitlist offer takes (its own transaction under
/// the booking rules' locks).
pub async fn external_phase(ctx: &ActionCtx, job: &JobRow, spec: &JobSpec) -> External {
    if let JobSpec::SendWaitlistNotification {
        entry_id,
        service_id,
        start,
        ..
    } = spec
    {
        if *start <= ctx.clock.now() {
            return External::Offer(Ok(None));
        }
        return External::Offer(
            ctx.booking
                .offer_to_waitlist(TenantId(job.tenant_id), *entry_id, *service_id, *start)
                .await
                .map_err(|e| e.to_string()),
        );
    }
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
    // The entry in the business's own calendar is read by its staff: English, like the console.
    let event = CalendarEvent {
        tenant_id: appt.tenant_id,
        resource_id: appt.resource_id,
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
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    spec: &JobSpec,
    external: External,
) -> Result<ActionOutcome, ActionError> {
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
        } => waitlist(ctx, tx, job, *entry_id, *service_id, *start, *end, external).await,
        JobSpec::SendContactFollowup { followup_id } => {
            contact_followup(ctx, tx, job, *followup_id).await
        }
        JobSpec::SendNoShowFollowup { booking_id } => {
            no_show_followup(ctx, tx, job, *booking_id).await
        }
    }
}

// --- what every message needs -------------------------------------------------------------

struct Facts {
    tenant_name: String,
    tz: Tz,
    service_name: String,
    /// The tenant's default language (for messages with no client language to follow).
    locale: Locale,
}

async fn facts(tx: &mut PgConnection, tenant: Uuid, service: Uuid) -> Result<Facts, ActionError> {
    let t = tenants::get_tenant(&mut *tx, tenant)
        .await?
        .ok_or_else(|| ActionError::Permanent("tenant not found".into()))?;
    let tz: Tz = t
        .time_zone
        .parse()
        .map_err(|_| ActionError::Permanent("tenant time zone is invalid".into()))?;
    let service_name = tenants::get_service(&mut *tx, tenant, service)
        .await?
        .map(|s| s.name)
        .unwrap_or_else(|| "appointment".into());
    Ok(Facts {
        locale: t.default_locale(),
        tenant_name: t.name,
        tz,
        service_name,
    })
}

fn when(locale: Locale, tz: Tz, t: DateTime<Utc>) -> String {
    locale.at(&t.with_timezone(&tz), locale.text().mail.when_format)
}

/// [`when`] for a message about booking `a`: the client's own time beside the clinic's when
/// the booking keeps a zone of the client's that reads another clock.
fn when_for(tz: Tz, a: &AppointmentRow, t: DateTime<Utc>) -> String {
    crate::text::beside_client_time(
        a.locale(),
        when(a.locale(), tz, t),
        t,
        tz,
        crate::text::client_zone(a.client_time_zone.as_deref()),
    )
}

/// The link a message that asks the client to act carries: the tenant's public booking URL,
/// else its hosted chat page.
async fn act_link(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    tenant: Uuid,
) -> Result<Option<String>, ActionError> {
    Ok(crate::services::admin::booking_link_for(&mut *tx, &ctx.public_base_url, tenant).await?)
}

/// `body` with the booking link line, when there is a link.
fn with_act_link(locale: Locale, mut body: String, link: Option<&str>) -> String {
    if let Some(l) = link {
        body.push_str(&(locale.text().mail.act_link)(l));
    }
    body
}

/// `sms` with the booking link, when there is a link.
fn sms_with_link(locale: Locale, sms: String, link: Option<&str>) -> String {
    match link {
        Some(l) => (locale.text().sms.with_link)(&sms, l),
        None => sms,
    }
}

fn first_name(locale: Locale, full: &str) -> &str {
    full.split_whitespace()
        .next()
        .unwrap_or(locale.text().mail.there)
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
    /// The language of the message.
    locale: Locale,
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
) -> Result<Vec<&'static str>, ActionError> {
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
                        .unwrap_or(&(m.locale.text().sms.from_subject)(&m.subject)),
                    sms_tail(m.locale, &m.meta)
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

fn sms_tail(locale: Locale, meta: &Value) -> String {
    (locale.text().sms.opt_out_tail)(meta.get("reference").and_then(Value::as_str))
}

async fn live_booking(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<AppointmentRow>, ActionError> {
    Ok(appointment(&mut *tx, id).await?)
}

// --- the tools ---------------------------------------------------------------------------

async fn send_confirmation(
    _ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    sequence: i32,
) -> Result<ActionOutcome, ActionError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ActionOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ActionOutcome::Skipped("booking is cancelled".into()));
    }
    if a.sequence != sequence {
        return Ok(ActionOutcome::Skipped(
            "booking changed since; a newer confirmation follows".into(),
        ));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let (verb, kind) = if sequence == 0 {
        (a.locale().text().mail.confirmed, "confirmation")
    } else {
        (a.locale().text().mail.rescheduled, "confirmation")
    };
    let subject = (a.locale().text().mail.confirmation_subject)(
        &f.service_name,
        verb,
        &when_for(f.tz, &a, a.start_at),
        &a.reference,
    );
    let body = (a.locale().text().mail.confirmation_body)(
        first_name(a.locale(), &a.client_name),
        &f.service_name,
        &f.tenant_name,
        verb,
        &when_for(f.tz, &a, a.start_at),
        &a.reference,
    );
    let key = format!("confirmation:{}:{}", a.id, sequence);
    email_about_booking(tx, job, kind, key, subject, body, &a, &f).await
}

/// Queues an email about booking `a` to its client; the outcome names the channels.
#[allow(clippy::too_many_arguments)]
async fn email_about_booking(
    tx: &mut PgConnection,
    job: &JobRow,
    kind: &'static str,
    key: String,
    subject: String,
    body: String,
    a: &AppointmentRow,
    f: &Facts,
) -> Result<ActionOutcome, ActionError> {
    let channels = queue(
        tx,
        job,
        Msg {
            locale: a.locale(),
            kind,
            key,
            subject,
            body,
            meta: booking_meta(a, f),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: None,
            sms: None,
        },
    )
    .await?;
    Ok(ActionOutcome::Done(
        json!({"reference": a.reference, "channels": channels}),
    ))
}

async fn send_cancellation(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
) -> Result<ActionOutcome, ActionError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ActionOutcome::Skipped("booking not found".into()));
    };
    if a.status != "cancelled" {
        return Ok(ActionOutcome::Skipped("booking is not cancelled".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let words = &a.locale().text().mail;
    // A booking the no-show policy released says why.
    let released = crate::db::bookings::cancel_reason(&mut *tx, a.id)
        .await?
        .as_deref()
        == Some("unconfirmed");
    let (subject, body) = if released {
        (words.released_subject, words.released_body)
    } else {
        (words.cancellation_subject, words.cancellation_body)
    };
    let subject = subject(
        &f.service_name,
        &when_for(f.tz, &a, a.start_at),
        &a.reference,
    );
    let body = body(
        first_name(a.locale(), &a.client_name),
        &f.service_name,
        &f.tenant_name,
        &when_for(f.tz, &a, a.start_at),
        &a.reference,
    );
    let link = act_link(ctx, tx, a.tenant_id).await?;
    let body = with_act_link(a.locale(), body, link.as_deref());
    let key = format!("cancellation:{}", a.id);
    email_about_booking(tx, job, "cancellation", key, subject, body, &a, &f).await
}

async fn send_reminder(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    which: ReminderKind,
    start: DateTime<Utc>,
) -> Result<ActionOutcome, ActionError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ActionOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ActionOutcome::Skipped("booking is cancelled".into()));
    }
    if a.start_at != start {
        return Ok(ActionOutcome::Skipped(
            "booking was moved; this reminder is stale".into(),
        ));
    }
    if a.start_at <= ctx.clock.now() {
        return Ok(ActionOutcome::Skipped("the appointment has started".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let lead = match which {
        ReminderKind::H24 => a.locale().text().mail.lead_tomorrow,
        ReminderKind::H2 => a.locale().text().mail.lead_two_hours,
    };
    let subject = (a.locale().text().mail.reminder_subject)(
        &f.service_name,
        lead,
        &when_for(f.tz, &a, a.start_at),
    );
    let mut body = (a.locale().text().mail.reminder_body)(
        first_name(a.locale(), &a.client_name),
        &f.service_name,
        &f.tenant_name,
        lead,
        &when_for(f.tz, &a, a.start_at),
        &a.reference,
    );
    // C, R and X work by text from the booking's phone number (see sms_inbound).
    if a.client_phone.is_some() {
        body.push_str(a.locale().text().mail.reminder_reply);
    }
    let link = act_link(ctx, tx, a.tenant_id).await?;
    let body = with_act_link(a.locale(), body, link.as_deref());
    let sms = (a.locale().text().sms.reminder)(
        &f.tenant_name,
        &f.service_name,
        lead,
        &when_for(f.tz, &a, a.start_at),
        link.as_deref().unwrap_or(""),
    );
    let kind = match which {
        ReminderKind::H24 => "reminder_24h",
        ReminderKind::H2 => "reminder_2h",
    };
    let channels = queue(
        tx,
        job,
        Msg {
            locale: a.locale(),
            kind,
            key: format!("reminder:{}:{}:{}", a.id, which.as_str(), a.sequence),
            subject,
            body,
            meta: booking_meta(&a, &f),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: a.client_phone.as_deref(),
            sms: Some(sms),
        },
    )
    .await?;
    Ok(ActionOutcome::Done(
        json!({"reference": a.reference, "reminder": which.as_str(), "channels": channels}),
    ))
}

async fn retry_calendar_sync(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    external: External,
) -> Result<ActionOutcome, ActionError> {
    match external {
        External::NotApplicable(why) => Ok(ActionOutcome::Skipped(why)),
        External::None | External::Offer(_) => {
            Err(ActionError::Permanent("calendar call was not made".into()))
        }
        External::Calendar(Err(e)) => {
            // Audited by the runner with the attempt (this transaction is rolled back).
            Err(ActionError::Retry(format!(
                "calendar write failed: {}",
                e.kind()
            )))
        }
        External::Calendar(Ok(external_id)) => {
            let Some(a) = live_booking(tx, id).await? else {
                return Ok(ActionOutcome::Skipped("booking not found".into()));
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
                return Ok(ActionOutcome::Done(
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
                    "message": (a.locale().text().mail.on_calendar)(&a.reference),
                }),
                ctx.clock.now(),
                PUSH_COOLDOWN,
            )
            .await?;
            let summary = json!({"reference": a.reference, "pushed": pushed.is_some()});
            Ok(match pushed {
                Some(_) => ActionOutcome::Pushed {
                    summary,
                    session: a.session_id,
                },
                None => ActionOutcome::Done(summary),
            })
        }
    }
}

async fn escalate(
    _ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
    attempts: i32,
) -> Result<ActionOutcome, ActionError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ActionOutcome::Skipped("booking not found".into()));
    };
    if a.status != "confirmed" {
        return Ok(ActionOutcome::Skipped("booking is cancelled".into()));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let admin = notifications::tenant_admin_email(&mut *tx, a.tenant_id).await?;
    let meta = booking_meta(&a, &f);
    let mut channels = queue(
        tx,
        job,
        Msg {
            locale: a.locale(),
            kind: "calendar_escalation",
            key: format!("calendar_escalation:{}:{}", a.id, job.id),
            subject: (a.locale().text().mail.escalation_subject)(
                &f.service_name,
                &when_for(f.tz, &a, a.start_at),
                &a.reference,
            ),
            body: (a.locale().text().mail.escalation_body)(
                first_name(a.locale(), &a.client_name),
                &f.service_name,
                &f.tenant_name,
                &when_for(f.tz, &a, a.start_at),
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
                locale: f.locale,
                kind: "calendar_escalation_admin",
                key: format!("calendar_escalation_admin:{}:{}", a.id, job.id),
                subject: (f.locale.text().mail.escalation_admin_subject)(&a.reference),
                body: (f.locale.text().mail.escalation_admin_body)(
                    &a.reference,
                    &f.service_name,
                    &when_for(f.tz, &a, a.start_at),
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
    Ok(ActionOutcome::Done(
        json!({"reference": a.reference, "channels": channels, "admin_notified": admin.is_some()}),
    ))
}

#[allow(clippy::too_many_arguments)]
async fn hold_followup(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    hold: Uuid,
    session: &str,
    service: Uuid,
    start: DateTime<Utc>,
) -> Result<ActionOutcome, ActionError> {
    let booked =
        notifications::session_booked_recently(&mut *tx, job.tenant_id, session, ctx.clock.now())
            .await?;
    if booked {
        return Ok(ActionOutcome::Skipped(
            "the session booked meanwhile".into(),
        ));
    }
    let Some(contact) = notifications::session_contact(&mut *tx, job.tenant_id, session).await?
    else {
        return Ok(ActionOutcome::Skipped(
            "the session left no contact details".into(),
        ));
    };
    let f = facts(tx, job.tenant_id, service).await?;
    let subject =
        (f.locale.text().mail.hold_released_subject)(&f.service_name, &when(f.locale, f.tz, start));
    let link = act_link(ctx, tx, job.tenant_id).await?;
    let body = with_act_link(
        f.locale,
        (f.locale.text().mail.hold_released_body)(
            &f.tenant_name,
            &f.service_name,
            &when(f.locale, f.tz, start),
        ),
        link.as_deref(),
    );
    let channels = queue(tx, job, Msg {
            locale: f.locale,
        kind: "hold_followup",
        key: format!("hold_followup:{hold}"),
        subject,
        body,
        meta: json!({"hold_id": hold, "service_id": service, "start": start, "time_zone": f.tz.name()}),
        booking: None,
        email: contact.email.as_deref(),
        phone: contact.phone.as_deref(),
        sms: Some(sms_with_link(f.locale,
            (f.locale.text().sms.hold_released)(&f.tenant_name, &when(f.locale, f.tz, start)),
            link.as_deref(),
        )),
    })
    .await?;
    Ok(ActionOutcome::Done(json!({"channels": channels})))
}

#[allow(clippy::too_many_arguments)]
async fn waitlist(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    entry: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    external: External,
) -> Result<ActionOutcome, ActionError> {
    let offer = match external {
        External::Offer(Ok(Some(offer))) => offer,
        External::Offer(Ok(None)) => {
            return Ok(ActionOutcome::Skipped(
                "the entry no longer waits or the opened slot is taken again".into(),
            ))
        }
        External::Offer(Err(e)) => return Err(ActionError::Retry(format!("offer failed: {e}"))),
        _ => return Err(ActionError::Permanent("the offer was not made".into())),
    };
    // The offer may have gone to the next matching entry when the planned one no longer waited.
    let planned = entry;
    let entry = offer.entry_id;
    let Some(w) = wl::lock_entry(tx, job.tenant_id, entry).await? else {
        return Ok(ActionOutcome::Skipped("waitlist entry not found".into()));
    };
    if w.status != WaitlistStatus::Offered || w.offer_hold_id != Some(offer.hold.id) {
        return Ok(ActionOutcome::Skipped(format!(
            "waitlist entry is {}",
            w.status.as_str()
        )));
    }
    let f = facts(tx, job.tenant_id, service).await?;
    let locale = crate::domain::Locale::from_code(&w.locale).unwrap_or(f.locale);
    let held = &offer.hold;
    // The held time first, then up to two more free that day (the held one is not free for
    // anyone else, so availability no longer lists it).
    let date = start.with_timezone(&f.tz).date_naive();
    let free = ctx
        .booking
        .availability(TenantId(job.tenant_id), service, date, date)
        .await
        .map(|av| av.slots)
        .unwrap_or_default();
    let mut slots: Vec<Value> = vec![json!({
        "start": held.start_at.with_timezone(&f.tz).to_rfc3339(),
        "end": held.end_at.with_timezone(&f.tz).to_rfc3339(),
        "held": true,
    })];
    slots.extend(free.iter().filter(|s| s.start > held.start_at).take(2).map(|s| {
        json!({"start": s.start.with_timezone(&f.tz).to_rfc3339(), "end": s.end.with_timezone(&f.tz).to_rfc3339()})
    }));
    let minutes = (held.expires_at - ctx.clock.now()).num_minutes().max(1);
    let link = format!(
        "{}/waitlist/offer?tenant={}&token={}",
        ctx.public_base_url, job.tenant_id, offer.token
    );
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
                "hold_id": held.id,
                "offer_expires_at": held.expires_at,
                "message": (locale.text().mail.waitlist_notice)(&f.service_name, &when(locale, f.tz, start)),
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
        .map(|n| first_name(locale, n))
        .unwrap_or(locale.text().mail.there);
    let channels = queue(tx, job, Msg {
            locale: locale,
        kind: "waitlist_match",
        key: format!("waitlist:{entry}:{}:{}", start.timestamp(), held.id),
        subject: (locale.text().mail.waitlist_subject)(&f.service_name, &when(locale, f.tz, start)),
        body: (locale.text().mail.waitlist_offer_body)(
            name, &f.tenant_name, &when(locale, f.tz, start), &f.service_name, minutes, &link,
        ),
        meta: json!({"entry_id": entry, "service_id": service, "start": start, "end": end, "time_zone": f.tz.name(), "hold_id": held.id, "offer_expires_at": held.expires_at}),
        booking: None,
        email: w.client_email.as_deref(),
        phone: w.client_phone.as_deref(),
        sms: Some((locale.text().sms.waitlist_offer)(&f.tenant_name, &f.service_name, &when(locale, f.tz, start), minutes)),
    })
    .await?;
    if channels.is_empty() && !pushed {
        // The hold stays until the offer runs out; then the time passes to the next entry.
        return Ok(ActionOutcome::Skipped("no way to reach the client".into()));
    }
    let summary = json!({"channels": channels, "pushed": pushed, "slots": slots.len(), "hold_id": held.id,
                         "entry_id": entry, "planned_entry_id": planned});
    Ok(match w.session_id {
        Some(session) if pushed => ActionOutcome::Pushed { summary, session },
        _ => ActionOutcome::Done(summary),
    })
}

/// After a no-show: the client is told we missed them and offered open times of the same
/// service in the next days (what is really free now, up to three).
async fn no_show_followup(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
) -> Result<ActionOutcome, ActionError> {
    let Some(a) = live_booking(tx, id).await? else {
        return Ok(ActionOutcome::Skipped("booking not found".into()));
    };
    if a.outcome != Some(crate::db::bookings::Outcome::NoShow) {
        return Ok(ActionOutcome::Skipped(
            "the booking is no longer a no-show".into(),
        ));
    }
    let f = facts(tx, a.tenant_id, a.service_id).await?;
    let today = ctx.clock.now().with_timezone(&f.tz).date_naive();
    let options: Vec<String> = match ctx
        .booking
        .availability(
            TenantId(a.tenant_id),
            a.service_id,
            today,
            today + Duration::days(7),
        )
        .await
    {
        Ok(av) => av
            .slots
            .iter()
            .take(3)
            .map(|s| when_for(f.tz, &a, s.start))
            .collect(),
        Err(_) => Vec::new(),
    };
    let words = &a.locale().text();
    let link = act_link(ctx, tx, a.tenant_id).await?;
    let channels = queue(
        tx,
        job,
        Msg {
            locale: a.locale(),
            kind: "no_show_followup",
            key: format!("no_show_followup:{}", a.id),
            subject: (words.mail.no_show_subject)(&f.service_name, &f.tenant_name),
            body: with_act_link(a.locale(),
                (words.mail.no_show_body)(
                    first_name(a.locale(), &a.client_name),
                    &f.service_name,
                    &f.tenant_name,
                    &when_for(f.tz, &a, a.start_at),
                    &options.iter().map(|o| format!("- {o}\n")).collect::<String>(),
                ),
                link.as_deref(),
            ),
            meta: json!({"reference": a.reference, "start": a.start_at, "service_id": a.service_id, "time_zone": f.tz.name(), "offered": options.len()}),
            booking: Some(a.id),
            email: Some(&a.client_email),
            phone: a.client_phone.as_deref(),
            sms: Some(sms_with_link(a.locale(),
                (words.sms.no_show_followup)(&f.tenant_name, &f.service_name, &options.join("; ")),
                link.as_deref(),
            )),
        },
    )
    .await?;
    Ok(ActionOutcome::Done(
        json!({"reference": a.reference, "channels": channels, "offered": options.len()}),
    ))
}

async fn contact_followup(
    ctx: &ActionCtx,
    tx: &mut PgConnection,
    job: &JobRow,
    id: Uuid,
) -> Result<ActionOutcome, ActionError> {
    let Some(fu) = followups::lock(tx, job.tenant_id, id).await? else {
        return Ok(ActionOutcome::Skipped("follow-up not found".into()));
    };
    if fu.status != FollowupStatus::Scheduled {
        return Ok(ActionOutcome::Skipped(format!(
            "follow-up is {}",
            fu.status.as_str()
        )));
    }
    let tenant = tenants::get_tenant(&mut *tx, job.tenant_id)
        .await?
        .ok_or_else(|| ActionError::Permanent("tenant not found".into()))?;
    let locale = crate::domain::Locale::from_code(&fu.locale).unwrap_or(tenant.default_locale());
    let about = if fu.reason.trim().is_empty() {
        String::new()
    } else {
        (locale.text().mail.about)(fu.reason.trim())
    };
    let subject = (locale.text().mail.followup_subject)(&tenant.name);
    let link = act_link(ctx, tx, job.tenant_id).await?;
    let body = with_act_link(
        locale,
        (locale.text().mail.followup_body)(&tenant.name, &about),
        link.as_deref(),
    );
    let (email, phone) = match fu.channel.as_str() {
        "sms" => (None, Some(fu.recipient.as_str())),
        _ => (Some(fu.recipient.as_str()), None),
    };
    let channels = queue(
        tx,
        job,
        Msg {
            locale: locale,
            kind: "contact_followup",
            key: format!("contact_followup:{id}"),
            subject,
            body,
            meta: json!({"followup_id": id}),
            booking: None,
            email,
            phone,
            sms: Some(sms_with_link(
                locale,
                (locale.text().sms.contact_followup)(&tenant.name, &about),
                link.as_deref(),
            )),
        },
    )
    .await?;
    if channels.is_empty() {
        return Err(ActionError::Permanent(
            "the follow-up recipient is not a valid address".into(),
        ));
    }
    followups::mark_sent(tx, id, ctx.clock.now()).await?;
    Ok(ActionOutcome::Done(json!({"channels": channels})))
}
