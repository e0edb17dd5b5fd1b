//! The domain-event outbox: rows written in the same transaction as the change.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::events::DomainEvent;

/// Appends an event; returns its id (consumers deduplicate by it).
pub async fn append(conn: &mut PgConnection, event: &DomainEvent) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO outbox (id, tenant_id, event_type, payload) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(event.tenant_id())
        .bind(event.name())
        .bind(event.detail())
        .execute(conn)
        .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, PartialEq)]
pub struct OutboxRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub attempts: i32,
}

/// Locks up to `limit` unpublished rows, oldest first, skipping rows another relay holds
/// (so two relays never publish the same row at the same time).
pub async fn lock_unpublished(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, event_type, payload, created_at, attempts FROM outbox
          WHERE published_at IS NULL ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn mark_published(
    conn: &mut PgConnection,
    ids: &[Uuid],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET published_at = $2, attempts = attempts + 1 WHERE id = ANY($1)")
        .bind(ids)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts a failed publish attempt (the row stays unpublished for the next sweep).
pub async fn note_failed(conn: &mut PgConnection, ids: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many rows wait to be published (health and tests).
pub async fn unpublished_count<'e>(db: impl sqlx::PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        .fetch_one(db)
        .await
}

/// Puts a row back in the queue (an in-process consumer failed after the row was marked
/// published), so the next sweep delivers it again.
pub async fn mark_unpublished<'e>(
    db: impl sqlx::PgExecutor<'e>,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET published_at = NULL WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes the not yet published `BookingCreated` of a booking; returns how many rows went
/// (0: it was already published).
pub async fn drop_unpublished_booking_created(
    conn: &mut PgConnection,
    booking_id: Uuid,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "DELETE FROM outbox WHERE published_at IS NULL AND event_type = 'BookingCreated'
          AND payload->>'booking_id' = $1",
    )
    .bind(booking_id.to_string())
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}
