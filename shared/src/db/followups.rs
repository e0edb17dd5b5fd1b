//! `followup_contacts`: asynchronous follow-up messages the chat agent scheduled.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Follow-ups of one chat session that are not cancelled.
pub async fn count_for_session<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM followup_contacts
          WHERE tenant_id = $1 AND session_id = $2 AND status <> 'cancelled'",
    )
    .bind(tenant)
    .bind(session_id)
    .fetch_one(db)
    .await
}

/// When the latest follow-up to `recipient` that is not cancelled was scheduled.
pub async fn latest_for_recipient<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    recipient: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT max(created_at) FROM followup_contacts
          WHERE tenant_id = $1 AND recipient = $2 AND status <> 'cancelled'",
    )
    .bind(tenant)
    .bind(recipient)
    .fetch_one(db)
    .await
}

pub struct NewFollowup<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub session_id: &'a str,
    /// `email` or `sms`.
    pub channel: &'a str,
    pub recipient: &'a str,
    pub reason: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, f: &NewFollowup<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(f.id)
    .bind(f.tenant_id)
    .bind(f.session_id)
    .bind(f.channel)
    .bind(f.recipient)
    .bind(f.reason)
    .bind(f.created_at)
    .execute(conn)
    .await?;
    Ok(())
}
