//! `followup_contacts`: asynchronous follow-up messages the chat agent scheduled.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, PgExecutor};
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

/// The chat session that asked for a follow-up.
pub async fn session_of<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT session_id FROM followup_contacts WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(db)
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

/// Serialises the follow-ups one tenant schedules, for the rest of the transaction (so the
/// per-session limit, the cooldown and the daily cap hold when two turns schedule at once).
pub async fn lock_tenant(conn: &mut PgConnection, tenant: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 13))")
        .bind(format!("followup_contacts:{tenant}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Follow-ups of one tenant scheduled after `since`, whatever became of them.
pub async fn count_for_tenant_since<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    since: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM followup_contacts WHERE tenant_id = $1 AND created_at > $2",
    )
    .bind(tenant)
    .bind(since)
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
    pub locale: &'a str,
}

pub async fn insert(conn: &mut PgConnection, f: &NewFollowup<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient, reason, created_at, locale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(f.id)
    .bind(f.tenant_id)
    .bind(f.session_id)
    .bind(f.channel)
    .bind(f.recipient)
    .bind(f.reason)
    .bind(f.created_at)
    .bind(f.locale)
    .execute(conn)
    .await?;
    Ok(())
}

/// `followup_contacts.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FollowupStatus {
    Scheduled,
    Sent,
    Failed,
    Cancelled,
}

impl FollowupStatus {
    pub const ALL: [FollowupStatus; 4] = [
        FollowupStatus::Scheduled,
        FollowupStatus::Sent,
        FollowupStatus::Failed,
        FollowupStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FollowupStatus::Scheduled => "scheduled",
            FollowupStatus::Sent => "sent",
            FollowupStatus::Failed => "failed",
            FollowupStatus::Cancelled => "cancelled",
        }
    }
}

/// A follow-up a client asked for.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct FollowupRow {
    /// `email` | `sms`
    pub channel: String,
    pub recipient: String,
    pub reason: String,
    pub status: FollowupStatus,
    /// The language the client asked in ("en", "es").
    pub locale: String,
}

/// The tenant's follow-up request, locked for the rest of the transaction.
pub async fn lock(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<FollowupRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, recipient, reason, status, locale FROM followup_contacts
          WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// The follow-up went out.
pub async fn mark_sent(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE followup_contacts SET status = 'sent', sent_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlx::PgPool;

    #[sqlx::test(migrations = "../migrations")]
    async fn status_round_trips_through_postgres(pool: PgPool) {
        let t = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(t)
            .execute(&pool)
            .await
            .unwrap();
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient)
             VALUES ($1, $2, 's', 'email', 'a@example.com')",
        )
        .bind(id)
        .bind(t)
        .execute(&pool)
        .await
        .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        for status in FollowupStatus::ALL {
            sqlx::query("UPDATE followup_contacts SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            let row = lock(&mut conn, t, id).await.unwrap().unwrap();
            assert_eq!(row.status, status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        mark_sent(&mut conn, id, Utc::now()).await.unwrap();
        let row = lock(&mut conn, t, id).await.unwrap().unwrap();
        assert_eq!(row.status, FollowupStatus::Sent);
    }
}
