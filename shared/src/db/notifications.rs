//! `notification_outbox`: messages queued by the autonomous tools. Delivery drains it.
//! Also the reads the messages are written from: the tenant's admin address and the
//! contact details a chat session left.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// `notification_outbox.status`: `queued` until the dispatcher settles the row as `sent`,
/// `failed` (out of attempts or refused for good) or `skipped` (opted out, stale reminder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    Queued,
    Sent,
    Failed,
    Skipped,
}

impl NotificationStatus {
    pub const ALL: [NotificationStatus; 4] = [
        NotificationStatus::Queued,
        NotificationStatus::Sent,
        NotificationStatus::Failed,
        NotificationStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Queued => "queued",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Failed => "failed",
            NotificationStatus::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct NotificationRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub metadata: Value,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub idempotency_key: String,
    pub booking_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub tenant_id: Uuid,
    /// `email` | `sms` | `webhook`
    pub channel: &'static str,
    pub kind: &'static str,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub metadata: Value,
    pub idempotency_key: String,
    pub booking_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
}

/// Queues a message unless one with the same idempotency key exists; returns the new id or
/// `None` for a duplicate.
pub async fn enqueue(
    conn: &mut PgConnection,
    n: &NewNotification,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, subject, body,
                                          metadata, idempotency_key, booking_id, job_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(n.tenant_id)
    .bind(n.channel)
    .bind(n.kind)
    .bind(&n.recipient)
    .bind(n.subject.as_deref())
    .bind(&n.body)
    .bind(&n.metadata)
    .bind(&n.idempotency_key)
    .bind(n.booking_id)
    .bind(n.job_id)
    .fetch_optional(conn)
    .await
}

/// A tenant's notifications, oldest first (admin view and tests).
pub async fn list_for_tenant<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, channel, kind, recipient, subject, body, metadata, status, attempts,
                idempotency_key, booking_id, job_id, created_at
           FROM notification_outbox WHERE tenant_id = $1 ORDER BY created_at, kind, channel",
    )
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// Writes a proactive push for a chat session (`push_events`, delivered by the chat
/// WebSocket on connect or at once) unless one of the same type went to the session within
/// `cooldown`. Returns the new id, or `None` when the cooldown held.
pub async fn push_if_cool(
    conn: &mut PgConnection,
    tenant: Uuid,
    session: &str,
    kind: &str,
    payload: &Value,
    now: DateTime<Utc>,
    cooldown: chrono::Duration,
) -> Result<Option<Uuid>, sqlx::Error> {
    // One writer per (session, type) at a time, so two runners cannot both pass the check.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
        .bind(format!("push:{session}:{kind}"))
        .execute(&mut *conn)
        .await?;
    let recent: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM push_events WHERE session_id = $1 AND type = $2 AND created_at > $3)",
    )
    .bind(session)
    .bind(kind)
    .bind(now - cooldown)
    .fetch_one(&mut *conn)
    .await?;
    if recent {
        return Ok(None);
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO push_events (id, tenant_id, session_id, type, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(session)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Some(id))
}

// --- the dispatcher's side ---------------------------------------------------------------

/// A row claimed for sending.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedNotification {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub metadata: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    pub booking_id: Option<Uuid>,
}

/// Claims up to `limit` queued rows due at `now` (a row never tried is due at once),
/// reserving them until `lease_until` and counting an attempt for each.
pub async fn claim_due<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ClaimedNotification>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE notification_outbox SET claimed_until = $2, attempts = attempts + 1
          WHERE id IN (SELECT id FROM notification_outbox
                        WHERE status = 'queued' AND (attempts = 0 OR next_attempt_at <= $1)
                          AND (claimed_until IS NULL OR claimed_until <= $1)
                        ORDER BY next_attempt_at, created_at LIMIT $3
                        FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, channel, kind, recipient, subject, body, metadata, attempts,
                max_attempts, booking_id",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_sent(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    provider_message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET status = 'sent', sent_at = $2, provider_message_id = $3,
                claimed_until = NULL, last_error = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(provider_message_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_skipped(conn: &mut PgConnection, id: Uuid, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET status = 'skipped', claimed_until = NULL, last_error = $2
          WHERE id = $1",
    )
    .bind(id)
    .bind(why)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET status = 'failed', failed_at = $2, claimed_until = NULL,
                last_error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases the row for another attempt at `next_attempt_at` (it stays `queued`).
pub async fn schedule_retry(
    conn: &mut PgConnection,
    id: Uuid,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE notification_outbox SET next_attempt_at = $2, claimed_until = NULL, last_error = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

// --- what the messages are written from --------------------------------------------------

/// Where the tenant's staff is told about what needs a person (none when unset).
pub async fn tenant_admin_email<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT admin_email FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

/// True when the session made a booking in the hour before `now`.
pub async fn session_booked_recently<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM appointments WHERE tenant_id = $1 AND session_id = $2
                          AND created_at >= $3 - interval '1 hour')",
    )
    .bind(tenant)
    .bind(session)
    .bind(now)
    .fetch_one(db)
    .await
}

/// How a chat session can be reached.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct SessionContact {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The newest contact details a session left, in its follow-up requests or waitlist
/// entries.
pub async fn session_contact<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
) -> Result<Option<SessionContact>, sqlx::Error> {
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
    .fetch_optional(db)
    .await
}

// --- delivery health ----------------------------------------------------------------------

/// One tenant's messages that should have left and did not (see [`undelivered_by_tenant`]).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct UndeliveredRow {
    pub tenant_id: Uuid,
    /// `failed` notifications that failed at or after `failed_since`.
    pub failed: i64,
    /// `queued` notifications whose next attempt was due before `overdue_before`.
    pub overdue: i64,
    /// `pending` or `claimed` jobs of the kinds `message_job_kinds` whose `run_at` is
    /// before `overdue_before`.
    pub jobs_overdue: i64,
    /// `failed` jobs of the kinds `message_job_kinds` that failed at or after `failed_since`.
    pub jobs_failed: i64,
    /// The earliest due time among the overdue notifications and jobs.
    pub oldest_overdue_at: Option<DateTime<Utc>>,
}

/// Per tenant (ordered by id; tenants with nothing to report are left out, `tenant` narrows
/// to one), what should have been delivered and was not:
///
/// - a notification `queued` whose due time (`next_attempt_at`: its insertion time until the
///   first attempt, then the retry time) is before `overdue_before`;
/// - a notification `failed` (out of attempts or refused for good) since `failed_since`
///   (`failed_at`, or its creation for rows that have none);
/// - a job of one of `message_job_kinds` `pending` or `claimed` whose `run_at` is before
///   `overdue_before` (a reminder that never ran queues no notification at all);
/// - a job of one of `message_job_kinds` `failed` since `failed_since` (its last update).
///
/// `sent` and `skipped` notifications, and completed or cancelled jobs, never count.
pub async fn undelivered_by_tenant<'e>(
    db: impl PgExecutor<'e>,
    overdue_before: DateTime<Utc>,
    failed_since: DateTime<Utc>,
    message_job_kinds: &[String],
    tenant: Option<Uuid>,
) -> Result<Vec<UndeliveredRow>, sqlx::Error> {
    sqlx::query_as(
        "WITH n AS (
            SELECT tenant_id,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   count(*) FILTER (WHERE status = 'queued') AS overdue,
                   min(next_attempt_at) FILTER (WHERE status = 'queued') AS oldest
              FROM notification_outbox
             WHERE ((status = 'queued' AND next_attempt_at < $1)
                    OR (status = 'failed' AND coalesce(failed_at, created_at) >= $2))
               AND ($4::uuid IS NULL OR tenant_id = $4)
             GROUP BY tenant_id
         ), j AS (
            SELECT tenant_id,
                   count(*) FILTER (WHERE status IN ('pending', 'claimed')) AS overdue,
                   count(*) FILTER (WHERE status = 'failed') AS failed,
                   min(run_at) FILTER (WHERE status IN ('pending', 'claimed')) AS oldest
              FROM jobs
             WHERE kind = ANY($3)
               AND ((status IN ('pending', 'claimed') AND run_at < $1)
                    OR (status = 'failed' AND updated_at >= $2))
               AND ($4::uuid IS NULL OR tenant_id = $4)
             GROUP BY tenant_id
         )
         SELECT tenant_id,
                coalesce(n.failed, 0) AS failed,
                coalesce(n.overdue, 0) AS overdue,
                coalesce(j.overdue, 0) AS jobs_overdue,
                coalesce(j.failed, 0) AS jobs_failed,
                least(n.oldest, j.oldest) AS oldest_overdue_at
           FROM n FULL JOIN j USING (tenant_id)
          ORDER BY tenant_id",
    )
    .bind(overdue_before)
    .bind(failed_since)
    .bind(message_job_kinds)
    .bind(tenant)
    .fetch_all(db)
    .await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlx::PgPool;

    async fn tenant(pool: &PgPool) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        id
    }

    /// Every status is written to and read back from `notification_outbox.status` (its
    /// CHECK accepts each name), and serializes to the same string.
    #[sqlx::test(migrations = "../migrations")]
    async fn notification_status_round_trips_through_postgres(pool: PgPool) {
        let t = tenant(&pool).await;
        let mut conn = pool.acquire().await.unwrap();
        let id = enqueue(
            &mut conn,
            &NewNotification {
                tenant_id: t,
                channel: "email",
                kind: "confirmation",
                recipient: "a@example.com".into(),
                subject: None,
                body: "hi".into(),
                metadata: serde_json::json!({}),
                idempotency_key: "k".into(),
                booking_id: None,
                job_id: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
        let status_of = |rows: Vec<NotificationRow>| rows[0].status;
        assert_eq!(
            status_of(list_for_tenant(&pool, t).await.unwrap()),
            NotificationStatus::Queued
        );
        for status in NotificationStatus::ALL {
            sqlx::query("UPDATE notification_outbox SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(status_of(list_for_tenant(&pool, t).await.unwrap()), status);
            let stored: String =
                sqlx::query_scalar("SELECT status FROM notification_outbox WHERE id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            assert_eq!(stored, status.as_str());
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}

/// A notification as the admin sees it: the row and its delivery bookkeeping.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct NotificationAdminRow {
    pub id: Uuid,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    pub status: NotificationStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub booking_id: Option<Uuid>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

const ADMIN_COLS: &str =
    "id, channel, kind, recipient, subject, body, status, attempts, max_attempts,
    booking_id, last_error, next_attempt_at, created_at, sent_at, failed_at";

/// A tenant's notifications, newest first, by status and booking when given.
pub async fn list_admin<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    status: Option<NotificationStatus>,
    booking: Option<Uuid>,
    limit: i64,
) -> Result<Vec<NotificationAdminRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ADMIN_COLS} FROM notification_outbox
          WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
            AND ($3::uuid IS NULL OR booking_id = $3)
          ORDER BY created_at DESC, id
          LIMIT $4"
    )))
    .bind(tenant)
    .bind(status.map(NotificationStatus::as_str))
    .bind(booking)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn admin_row<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<NotificationAdminRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ADMIN_COLS} FROM notification_outbox WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Puts a failed notification back in the queue with a fresh set of attempts, due now.
/// `None` when the tenant has no such failed row.
pub async fn requeue_failed(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<NotificationAdminRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE notification_outbox
            SET status = 'queued', attempts = 0, next_attempt_at = $3, failed_at = NULL,
                claimed_until = NULL
          WHERE tenant_id = $1 AND id = $2 AND status = 'failed'
      RETURNING {ADMIN_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Sets (or clears) where the tenant's staff is told about what needs a person.
pub async fn set_tenant_admin_email(
    conn: &mut PgConnection,
    tenant: Uuid,
    email: Option<&str>,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE tenants SET admin_email = $2, updated_at = now() WHERE id = $1")
            .bind(tenant)
            .bind(email)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}
