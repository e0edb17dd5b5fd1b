//! The notification dispatcher: drains `notification_outbox` through the [`Mailer`] and the
//! SMS gate (opt-out ledger → rate limit per tenant and phone → [`SmsSender`]).
//!
//! - Rows are claimed with a lease (`claimed_until`, `FOR UPDATE SKIP LOCKED`) and the
//!   attempt is counted at claim time, so two dispatchers never send one row at once and a
//!   dispatcher that dies mid-send leaves the row to be retried after the lease.
//! - Outcomes: `sent` (provider id kept); a transient failure goes back to `queued` with
//!   `next_attempt_at` = now + 30 s × 4ⁿ⁻¹ (capped at 2 h) until `max_attempts`, then
//!   `failed`; a permanent failure is `failed` at once; an opted-out SMS or a reminder for a
//!   moved or cancelled booking is `skipped`. Rows are never deleted: a failure never loses
//!   the notification. Every outcome is audited (without PII).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::db::bookings::{appointment_by_id as appointment, AppointmentRow};
use crate::db::notifications as q;
use crate::db::{audit, calls, tenants};

pub use crate::db::notifications::ClaimedNotification;
use crate::domain::ics::{Invite, Method};
use crate::domain::PhoneE164;
use crate::domain::TenantId;
use crate::ports::clock::Clock;
use crate::ports::{DeliveryError, Mailer, OutgoingEmail};
use crate::services::sms::{SmsError, SmsGate};
use crate::text::escape_html;

/// How long a claimed row is reserved for its dispatcher.
pub const LEASE: Duration = Duration::minutes(2);
const BACKOFF_BASE_SECONDS: i64 = 30;
/// How many notifications one run sends at the same time.
const CONCURRENT_SENDS: usize = 8;
const BACKOFF_CAP: Duration = Duration::hours(2);

/// 30 s, 2 min, 8 min, 32 min, 2 h, 2 h, …: the wait after the n-th failed attempt.
pub fn backoff(attempt: i32) -> Duration {
    let n = (attempt.max(1) - 1).min(10) as u32;
    let secs = BACKOFF_BASE_SECONDS.saturating_mul(4i64.saturating_pow(n));
    Duration::seconds(secs).min(BACKOFF_CAP)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl DispatchReport {
    fn add(&mut self, other: DispatchReport) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }

    pub fn total(&self) -> usize {
        self.sent + self.retried + self.failed + self.skipped
    }
}

enum Outcome {
    Sent(String),
    Skipped(String),
    Failed(DeliveryError),
}

#[derive(Clone)]
pub struct NotificationDispatcher {
    pool: PgPool,
    clock: Clock,
    mailer: Arc<dyn Mailer>,
    sms: SmsGate,
    mail_from: String,
    max_attempts: i32,
}

impl NotificationDispatcher {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        mailer: Arc<dyn Mailer>,
        sms: SmsGate,
        mail_from: &str,
        max_attempts: i32,
    ) -> Self {
        Self {
            pool,
            clock,
            mailer,
            sms,
            mail_from: mail_from.to_string(),
            max_attempts: max_attempts.max(1),
        }
    }

    /// Claims up to `limit` due rows. A row never tried is due at once (its
    /// `next_attempt_at` default is the database's clock, not the dispatcher's).
    async fn claim(&self, limit: i64) -> Result<Vec<ClaimedNotification>, sqlx::Error> {
        let now = self.clock.now();
        q::claim_due(&self.pool, now, now + LEASE, limit).await
    }

    /// Sends what is due; returns what happened. A database error stops the run (rows
    /// already claimed are retried after their lease).
    #[tracing::instrument(skip_all)]
    pub async fn run_once(&self, limit: usize) -> Result<DispatchReport, sqlx::Error> {
        let mut report = DispatchReport::default();
        let mut rows = self.claim(limit.min(1000) as i64).await?.into_iter();
        // Rows go out side by side (up to CONCURRENT_SENDS at once), so a provider that
        // stalls until its timeout holds up only its own rows.
        let mut running = tokio::task::JoinSet::new();
        let mut failure = None;
        loop {
            while failure.is_none() && running.len() < CONCURRENT_SENDS {
                let Some(row) = rows.next() else { break };
                let me = self.clone();
                running.spawn(async move { me.send_one(row).await });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            match done {
                Ok(Ok(one)) => report.add(one),
                Ok(Err(e)) => {
                    failure.get_or_insert(e);
                }
                Err(e) => tracing::error!(error = %e, "a notification send task failed"),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    async fn send_one(&self, row: ClaimedNotification) -> Result<DispatchReport, sqlx::Error> {
        let mut report = DispatchReport::default();
        let outcome = match self.deliver(&row).await {
            Ok(o) => o,
            Err(e) => Outcome::Failed(DeliveryError::Transient(format!("database: {e}"))),
        };
        self.finish(&row, outcome, &mut report).await?;
        Ok(report)
    }

    async fn deliver(&self, row: &ClaimedNotification) -> Result<Outcome, sqlx::Error> {
        if let Some(why) = self.stale(row).await? {
            return Ok(Outcome::Skipped(why));
        }
        match row.channel.as_str() {
            "email" => self.email(row).await,
            "sms" => self.text(row).await,
            other => Ok(Outcome::Failed(DeliveryError::Permanent(format!(
                "channel {other} is delivered through webhook endpoints, not the notification outbox"
            )))),
        }
    }

    /// A reminder whose booking was cancelled or moved since it was queued must not go out.
    async fn stale(&self, row: &ClaimedNotification) -> Result<Option<String>, sqlx::Error> {
        if !row.kind.starts_with("reminder") {
            return Ok(None);
        }
        let Some(b) = row.booking_id else {
            return Ok(None);
        };
        let appt = appointment(&self.pool, b).await?;
        let queued_start = row
            .metadata
            .get("start")
            .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok());
        Ok(match appt {
            None => Some("booking not found".into()),
            Some(a) if a.status != "confirmed" => Some("booking is cancelled".into()),
            Some(a) if queued_start.is_some_and(|s| s != a.start_at) => {
                Some("booking was moved; reminder is stale".into())
            }
            Some(_) => None,
        })
    }

    async fn email(&self, row: &ClaimedNotification) -> Result<Outcome, sqlx::Error> {
        let tenant = tenants::get_tenant(&self.pool, row.tenant_id).await?;
        // The message's language: its booking's, else the tenant's default.
        let booking = match row.booking_id {
            Some(id) => appointment(&self.pool, id).await?,
            None => None,
        };
        let locale = booking.as_ref().map_or_else(
            || {
                tenant
                    .as_ref()
                    .map(|t| t.default_locale())
                    .unwrap_or_default()
            },
            |a| a.locale(),
        );
        let words = &locale.text().mail;
        let tenant_name = tenant
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_else(|| words.default_sender.into());
        let subject = row
            .subject
            .clone()
            .unwrap_or_else(|| (words.default_subject)(&tenant_name));
        let ics = self.invite(row, booking, &tenant_name).await?;
        let email = OutgoingEmail {
            to: row.recipient.clone(),
            from_name: tenant_name.clone(),
            subject: subject.clone(),
            text: (words.signed)(row.body.trim_end(), &tenant_name),
            html: Some(render_html(locale, &tenant_name, &subject, &row.body)),
            ics,
        };
        Ok(match self.mailer.send_email(&email).await {
            Ok(id) => Outcome::Sent(id),
            Err(e) => Outcome::Failed(e),
        })
    }

    /// The .ics invite of a booking email: a confirmation (new or moved booking) is a
    /// REQUEST, a cancellation a CANCEL; the UID is the booking's, SEQUENCE its sequence.
    async fn invite(
        &self,
        row: &ClaimedNotification,
        booking: Option<AppointmentRow>,
        tenant_name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let method = match row.kind.as_str() {
            "confirmation" => Method::Request,
            "cancellation" => Method::Cancel,
            _ => return Ok(None),
        };
        let Some(a) = booking else {
            return Ok(None);
        };
        let words = a.locale().text();
        let meta_time = |k: &str| {
            row.metadata
                .get(k)
                .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok())
        };
        // The times and sequence the message was written for (a later reschedule sends
        // its own confirmation with a higher sequence).
        let start = meta_time("start").unwrap_or(a.start_at);
        let end = meta_time("end").unwrap_or(a.end_at);
        let sequence = row
            .metadata
            .get("sequence")
            .and_then(Value::as_i64)
            .map(|s| s as i32)
            .unwrap_or(a.sequence);
        let service = tenants::get_service(&self.pool, a.tenant_id, a.service_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_else(|| words.mail.appointment.into());
        // For a client in another zone the description names both times (the event's
        // DTSTART/DTEND stay in UTC, which every calendar shows in its own zone).
        let clinic_tz = tenants::get_tenant(&self.pool, a.tenant_id)
            .await?
            .and_then(|t| t.time_zone.parse::<chrono_tz::Tz>().ok());
        let client_tz = crate::text::client_zone(a.client_time_zone.as_deref());
        let both_times = match clinic_tz {
            Some(tz) if crate::text::client_time_differs(start, tz, client_tz) => {
                (words.client_time.invite_when)(&crate::text::beside_client_time(
                    a.locale(),
                    a.locale()
                        .at(&start.with_timezone(&tz), words.mail.when_format),
                    start,
                    tz,
                    client_tz,
                ))
            }
            _ => String::new(),
        };
        let inv = Invite {
            method,
            booking_id: a.id,
            sequence,
            start,
            end,
            stamp: self.clock.now(),
            summary: (words.mail.invite_summary)(&service, tenant_name),
            description: format!(
                "{}{both_times}",
                (words.mail.invite_description)(&service, tenant_name, &a.reference,)
            ),
            location: None,
            organizer_name: tenant_name.to_string(),
            organizer_email: self.mail_from.clone(),
            attendee_name: Some(a.client_name.clone()),
            attendee_email: row.recipient.clone(),
        };
        Ok(Some(inv.render()))
    }

    async fn text(&self, row: &ClaimedNotification) -> Result<Outcome, sqlx::Error> {
        let Ok(to) = PhoneE164::parse(&row.recipient) else {
            return Ok(Outcome::Failed(DeliveryError::Permanent(
                "recipient is not an E.164 number".into(),
            )));
        };
        let from = calls::sms_sender_number(&self.pool, row.tenant_id).await?;
        Ok(
            match self
                .sms
                .send(TenantId(row.tenant_id), from.as_deref(), &to, &row.body)
                .await
            {
                Ok(id) => Outcome::Sent(id),
                Err(SmsError::OptedOut) => Outcome::Skipped("recipient opted out".into()),
                Err(SmsError::RateLimited) => {
                    Outcome::Failed(DeliveryError::Transient("sms rate limit reached".into()))
                }
                Err(SmsError::Delivery(DeliveryError::OptedOut)) => {
                    Outcome::Skipped("recipient opted out".into())
                }
                Err(SmsError::Delivery(e)) => Outcome::Failed(e),
                Err(SmsError::Database(e)) => return Err(e),
            },
        )
    }

    async fn finish(
        &self,
        row: &ClaimedNotification,
        outcome: Outcome,
        report: &mut DispatchReport,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let (event, detail) = match outcome {
            Outcome::Sent(provider_id) => {
                q::mark_sent(&mut tx, row.id, now, &provider_id).await?;
                report.sent += 1;
                ("notification.sent", json!({}))
            }
            Outcome::Skipped(why) => {
                q::mark_skipped(&mut tx, row.id, &why).await?;
                report.skipped += 1;
                ("notification.skipped", json!({"reason": why}))
            }
            Outcome::Failed(e) => {
                let max = row.max_attempts.min(self.max_attempts);
                let permanent = !matches!(e, DeliveryError::Transient(_));
                if permanent || row.attempts >= max {
                    q::mark_failed(&mut tx, row.id, now, &e.to_string()).await?;
                    report.failed += 1;
                    (
                        "notification.failed",
                        json!({"error": e.to_string(), "permanent": permanent}),
                    )
                } else {
                    let next = now + backoff(row.attempts);
                    q::schedule_retry(&mut tx, row.id, next, &e.to_string()).await?;
                    report.retried += 1;
                    (
                        "notification.retry_scheduled",
                        json!({"error": e.to_string(), "next_attempt_at": next}),
                    )
                }
            }
        };
        let mut payload = json!({
            "channel": row.channel,
            "kind": row.kind,
            "attempt": row.attempts,
            "booking_id": row.booking_id,
        });
        if let (Some(p), Some(d)) = (payload.as_object_mut(), detail.as_object()) {
            p.extend(d.clone());
        }
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(row.tenant_id),
                event_type: event,
                entity_type: "notification",
                entity_id: Some(row.id.to_string()),
                actor: "dispatcher",
                payload,
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(notification_id = %row.id, channel = %row.channel, kind = %row.kind, attempt = row.attempts, event, "notification processed");
        Ok(())
    }
}

/// The HTML part: the same words as the plain text (escaped), one paragraph per blank-line
/// block, in the tenant's name.
pub fn render_html(
    locale: crate::domain::Locale,
    tenant_name: &str,
    subject: &str,
    body: &str,
) -> String {
    let paragraphs: String = body
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            format!(
                "<p style=\"margin:0 0 14px\">{}</p>",
                escape_html(p.trim()).replace('\n', "<br>")
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
<body style=\"font-family:Helvetica,Arial,sans-serif;color:#222;max-width:560px;margin:0 auto;padding:24px\">\
<h2 style=\"margin:0 0 18px;font-size:18px\">{tenant}</h2>{paragraphs}\
<p style=\"margin:24px 0 0;font-size:12px;color:#777\">{sent_by}</p></body></html>",
        subject = escape_html(subject),
        tenant = escape_html(tenant_name),
        sent_by = (locale.text().mail.sent_by)(&escape_html(tenant_name)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(120));
        assert_eq!(backoff(3), Duration::seconds(480));
        assert_eq!(backoff(9), Duration::hours(2));
    }

    #[test]
    fn html_escapes_everything_it_is_given() {
        let h = render_html(
            crate::domain::Locale::En,
            "A&B <Clinic>",
            "Hi <b>",
            "Hello <script>x</script>\n\nBye",
        );
        assert!(h.contains("A&amp;B &lt;Clinic&gt;"));
        assert!(h.contains("Hello &lt;script&gt;x&lt;/script&gt;"));
        assert!(!h.contains("<script>"));
        assert!(h.contains("<p style=\"margin:0 0 14px\">Bye</p>"));
    }
}
