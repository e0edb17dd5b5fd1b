//! `handoff_tokens`: one-time links from a call (or an SMS reply) into the web chat.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub tenant_id: Uuid,
    pub purpose: String,
    pub call_sid: Option<String>,
    pub phone: Option<String>,
    pub context: Json<Value>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
    pub chat_session_id: Option<String>,
}

const COLS: &str =
    "id, tenant_id, purpose, call_sid, phone, context, created_at, expires_at, consumed_at, chat_session_id";

pub struct NewToken<'a> {
    pub id: &'a str,
    pub tenant_id: Uuid,
    pub purpose: &'a str,
    pub call_sid: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub context: &'a Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(pool: &PgPool, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO handoff_tokens (id, tenant_id, purpose, call_sid, phone, context, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id)
    .bind(t.tenant_id)
    .bind(t.purpose)
    .bind(t.call_sid)
    .bind(t.phone)
    .bind(Json(t.context))
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn get(pool: &PgPool, id: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM handoff_tokens WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Consumes the token if it is unused and unexpired — one statement, so two clicks on the
/// same link cannot both succeed (inside a transaction, a second click waits for the first to
/// commit or roll back). `None` when it was used or has expired.
pub async fn consume<'e>(
    db: impl PgExecutor<'e>,
    id: &str,
    chat_session_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE handoff_tokens SET consumed_at = $3, chat_session_id = $2
         WHERE id = $1 AND consumed_at IS NULL AND expires_at > $3
         RETURNING {COLS}"
    )))
    .bind(id)
    .bind(chat_session_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The tenant and context of the token that opened a chat session (None for sessions that
/// did not start from a handoff link).
pub async fn context_of_chat_session(
    pool: &PgPool,
    chat_session_id: &str,
) -> Result<Option<(Uuid, Value)>, sqlx::Error> {
    let row: Option<(Uuid, Json<Value>)> =
        sqlx::query_as("SELECT tenant_id, context FROM handoff_tokens WHERE chat_session_id = $1")
            .bind(chat_session_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(t, c)| (t, c.0)))
}
