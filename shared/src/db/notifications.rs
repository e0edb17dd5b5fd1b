//! `notification_outbox`: messages queued by the autonomous tools. Delivery drains it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

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
    pub status: String,
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
