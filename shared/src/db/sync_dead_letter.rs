//! `sync_dead_letter`: rows of an import that could not be applied, with the reason.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

pub struct NewDeadLetter<'a> {
    pub tenant_id: Uuid,
    /// Where the row came from (`excel`).
    pub source: &'a str,
    pub row_number: i32,
    pub reference: Option<&'a str>,
    /// What applying the row attempted: `parse`, `update`, `cancel` or `reschedule`.
    pub operation: &'a str,
    /// The row as read, by column name.
    pub payload: &'a Value,
    pub error: &'a str,
}

pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    d: &NewDeadLetter<'_>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO sync_dead_letter (id, tenant_id, source, row_number, reference, operation, payload, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(d.tenant_id)
    .bind(d.source)
    .bind(d.row_number)
    .bind(d.reference)
    .bind(d.operation)
    .bind(d.payload)
    .bind(d.error)
    .execute(db)
    .await?;
    Ok(id)
}

/// A dead letter as the admin reads it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DeadLetterRow {
    pub id: Uuid,
    pub source: String,
    pub row_number: Option<i32>,
    pub reference: Option<String>,
    pub operation: String,
    pub payload: Value,
    pub error: String,
    pub attempts: i32,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, source, row_number, reference, operation, payload, error, attempts, resolved_at, created_at";

/// A tenant's dead letters of `source`, newest first; only open ones unless `resolved`.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    source: &str,
    resolved: bool,
    limit: i64,
) -> Result<Vec<DeadLetterRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sync_dead_letter
          WHERE tenant_id = $1 AND source = $2 AND ($3 OR resolved_at IS NULL)
          ORDER BY created_at DESC, id
          LIMIT $4"
    )))
    .bind(tenant)
    .bind(source)
    .bind(resolved)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One dead letter of the tenant, row-locked (a retry holds it while it runs).
pub async fn get_for_update(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<DeadLetterRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sync_dead_letter WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records a retry: one more attempt, resolved at `resolved_at` when it went through, or
/// the new reason when it did not.
pub async fn record_attempt(
    conn: &mut sqlx::PgConnection,
    id: Uuid,
    resolved_at: Option<DateTime<Utc>>,
    error: Option<&str>,
) -> Result<DeadLetterRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE sync_dead_letter
            SET attempts = attempts + 1,
                resolved_at = $2,
                error = coalesce($3, error)
          WHERE id = $1
      RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(resolved_at)
    .bind(error)
    .fetch_one(conn)
    .await
}
