//! `phone_codes`: one-time codes texted to a keypad-only caller (stored as a MAC only).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow)]
pub struct CodeRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_sid: String,
    pub phone: String,
    pub code_hash: Vec<u8>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
}

const COLS: &str = "id, tenant_id, call_sid, phone, code_hash, attempts, max_attempts, \
                    created_at, expires_at, verified_at";

pub struct NewCode<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_sid: &'a str,
    pub phone: &'a str,
    pub code_hash: &'a [u8],
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert<'e>(db: impl PgExecutor<'e>, c: &NewCode<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO phone_codes (id, tenant_id, call_sid, phone, code_hash, max_attempts,
                                  created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id)
    .bind(c.tenant_id)
    .bind(c.call_sid)
    .bind(c.phone)
    .bind(c.code_hash)
    .bind(c.max_attempts)
    .bind(c.created_at)
    .bind(c.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest code of a call, row-locked when read inside a transaction.
pub async fn latest_for_call<'e>(
    db: impl PgExecutor<'e>,
    call_sid: &str,
) -> Result<Option<CodeRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM phone_codes WHERE call_sid = $1
          ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE"
    )))
    .bind(call_sid)
    .fetch_optional(db)
    .await
}

/// How many codes a call has been sent.
pub async fn count_for_call<'e>(
    db: impl PgExecutor<'e>,
    call_sid: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM phone_codes WHERE call_sid = $1")
        .bind(call_sid)
        .fetch_one(db)
        .await
}

/// Counts one try of a code; returns the tries made so far.
pub async fn record_attempt<'e>(db: impl PgExecutor<'e>, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE phone_codes SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// Spends a code: it verified the phone and works no more.
pub async fn mark_verified<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE phone_codes SET verified_at = $2 WHERE id = $1 AND verified_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
