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

/// Several rows in one statement (one round trip), in order; each payload is redacted like
/// [`record`]'s.
pub async fn record_many(
    conn: &mut PgConnection,
    entries: &[AuditEntry<'_>],
) -> Result<(), sqlx::Error> {
    match entries {
        [] => return Ok(()),
        [one] => {
            return record(
                conn,
                AuditEntry {
                    tenant_id: one.tenant_id,
                    event_type: one.event_type,
                    entity_type: one.entity_type,
                    entity_id: one.entity_id.clone(),
                    actor: one.actor,
                    payload: one.payload.clone(),
                },
            )
            .await
        }
        _ => {}
    }
    let tenants: Vec<Option<Uuid>> = entries.iter().map(|e| e.tenant_id).collect();
    let events: Vec<&str> = entries.iter().map(|e| e.event_type).collect();
    let entity_types: Vec<&str> = entries.iter().map(|e| e.entity_type).collect();
    let entity_ids: Vec<Option<String>> = entries.iter().map(|e| e.entity_id.clone()).collect();
    let actors: Vec<&str> = entries.iter().map(|e| e.actor).collect();
    let payloads: Vec<Value> = entries.iter().map(|e| redact(&e.payload)).collect();
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, event_type, entity_type, entity_id, actor, payload)
         SELECT t, ev, et, ei, a, p FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
             WITH ORDINALITY AS e(t, ev, et, ei, a, p, n)
          ORDER BY n",
    )
    .bind(tenants)
    .bind(events)
    .bind(entity_types)
    .bind(entity_ids)
    .bind(actors)
    .bind(payloads)
    .execute(conn)
    .await?;
    Ok(())
}

/// With [`record_many`], the only way rows reach `audit_log`: the payload always passes
/// through [`redact`].
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
