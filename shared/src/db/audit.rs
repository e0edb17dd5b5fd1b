//! `audit_log`: every state change, redacted before it is written.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::redact::redact;

pub struct AuditEntry<'a> {
    pub tenant_id: Option<Uuid>,
    pub event_type: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<String>,
    pub actor: &'a str,
    pub payload: Value,
}

/// The only way rows reach `audit_log`: the payload always passes through [`redact`].
pub async fn record(conn: &mut PgConnection, entry: AuditEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, event_type, entity_type, entity_id, actor, payload)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(entry.tenant_id)
    .bind(entry.event_type)
    .bind(entry.entity_type)
    .bind(entry.entity_id)
    .bind(entry.actor)
    .bind(redact(&entry.payload))
    .execute(conn)
    .await?;
    Ok(())
}
