//! `sync_dead_letter`: rows of a calendar or spreadsheet sync that could not be applied,
//! kept with why, for a person to resolve.

use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

/// One row that could not be applied.
#[derive(Debug, Clone)]
pub struct NewDeadLetter<'a> {
    pub tenant_id: Uuid,
    /// Where the row came from, e.g. `excel`.
    pub source: &'a str,
    /// The row's position in its source, when it has one.
    pub row_number: Option<i32>,
    pub reference: Option<&'a str>,
    /// What was attempted (`parse`, `create`, `reschedule`, …).
    pub operation: &'a str,
    /// The row as read.
    pub payload: Value,
    pub error: &'a str,
}

/// Keeps a row that could not be applied; returns its id.
pub async fn record<'e>(
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
    .bind(&d.payload)
    .bind(d.error)
    .execute(db)
    .await?;
    Ok(id)
}
