//! `audit_log`: every state change, redacted before it is written.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::redact::redact;

tokio::task_local! {
    /// Who is acting in this request, once the admin auth has said so.
    static ACTING: std::cell::RefCell<Option<String>>;
}

/// The generic actor of admin changes; inside [`acting_scope`], after [`set_acting`], rows
/// written with it name the signed-in person or the key instead.
pub const ADMIN: &str = "admin";

/// Runs `fut` (one request) with a place for who is acting; admin routes fill it in when
/// they authenticate.
pub async fn acting_scope<F: std::future::Future>(fut: F) -> F::Output {
    ACTING.scope(std::cell::RefCell::new(None), fut).await
}

/// Names who acts for the rest of this request (e.g. `admin_user:<id>`); outside an
/// [`acting_scope`] it does nothing.
pub fn set_acting(label: String) {
    let _ = ACTING.try_with(|cell| *cell.borrow_mut() = Some(label));
}

/// The actor a row is written with: [`ADMIN`] becomes the request's named actor when there
/// is one.
fn effective_actor(actor: &str) -> String {
    if actor == ADMIN {
        if let Ok(Some(named)) = ACTING.try_with(|cell| cell.borrow().clone()) {
            return named;
        }
    }
    actor.to_owned()
}

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
    let actors: Vec<String> = entries.iter().map(|e| effective_actor(e.actor)).collect();
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
    .bind(effective_actor(entry.actor))
    .bind(redact(&entry.payload))
    .execute(conn)
    .await?;
    Ok(())
}

/// An audit row as the admin reads it, with the acting person's email or key's prefix.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub actor: String,
    /// The person's email or the key's prefix when the actor is one of them.
    pub actor_label: Option<String>,
    pub payload: Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What [`list`] filters by; `None` does not filter.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter<'a> {
    pub entity_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// Rows with an id below this (the next page of a newest-first listing).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// The tail of an [`AuditRow`] query: `actor_label` (the acting person's email or key's
/// prefix), `payload`, `created_at`, and the FROM of `audit_log a` with the two joins.
const ACTOR_LABEL: &str = "coalesce(u.email, k.key_prefix) AS actor_label, a.payload, a.created_at
           FROM audit_log a
           LEFT JOIN admin_users u
                  ON a.actor LIKE 'admin\\_user:%' AND u.id::text = substr(a.actor, 12)
           LEFT JOIN tenant_api_keys k
                  ON a.actor LIKE 'admin\\_key:%' AND k.id::text = substr(a.actor, 11)";

/// A tenant's audit rows, newest first.
pub async fn list<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    f: &AuditFilter<'_>,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT a.id, a.event_type, a.entity_type, a.entity_id, a.actor,
                {ACTOR_LABEL}
          WHERE a.tenant_id = $1
            AND ($2::text IS NULL OR a.entity_id = $2)
            AND ($3::text IS NULL OR a.event_type = $3)
            AND ($4::text IS NULL OR a.actor = $4)
            AND ($5::timestamptz IS NULL OR a.created_at >= $5)
            AND ($6::timestamptz IS NULL OR a.created_at < $6)
            AND ($7::bigint IS NULL OR a.id < $7)
          ORDER BY a.created_at DESC, a.id DESC
          LIMIT $8"
    )))
    .bind(tenant)
    .bind(f.entity_id)
    .bind(f.event_type)
    .bind(f.actor)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before_id)
    .bind(f.limit)
    .fetch_all(db)
    .await
}

/// The history of one booking, oldest first: the rows about the appointment and about the
/// holds it was made or moved from (named by `hold_id` in its rows), at most `limit`.
pub async fn booking_history<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    appointment: Uuid,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH own AS (
             SELECT id, payload FROM audit_log WHERE tenant_id = $1 AND entity_id = $2
         ), holds AS (
             SELECT DISTINCT payload ->> 'hold_id' AS hold_id FROM own
              WHERE payload ->> 'hold_id' IS NOT NULL
         )
         SELECT a.id, a.event_type, a.entity_type, a.entity_id, a.actor,
                {ACTOR_LABEL}
          WHERE a.tenant_id = $1
            AND (a.entity_id = $2 OR a.entity_id IN (SELECT hold_id FROM holds))
          ORDER BY a.created_at, a.id
          LIMIT $3"
    )))
    .bind(tenant)
    .bind(appointment.to_string())
    .bind(limit)
    .fetch_all(db)
    .await
}
