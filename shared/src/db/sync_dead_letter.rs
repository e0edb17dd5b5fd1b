//! `sync_dead_letter`: rows of an import that could not be applied, with the reason.

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
