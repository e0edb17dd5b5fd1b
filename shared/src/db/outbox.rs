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
