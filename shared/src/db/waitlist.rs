//! `waitlist_entries`: clients waiting for a time to open up.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// What an offer to a waiting client needs from its entry.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct WaitlistEntryRow {
    pub session_id: Option<String>,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub client_phone: Option<String>,
    pub status: String,
}

/// Waiting entries that an opened slot at `start` suits: same service (or any), the local
/// date inside their preferred range, the local time of day they asked for. Oldest first,
/// at most 20.
pub async fn matching_entries(
    conn: &mut PgConnection,
    tenant: Uuid,
    service: Uuid,
    start: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT w.id FROM waitlist_entries w JOIN tenants t ON t.id = w.tenant_id,
                LATERAL (SELECT ($3::timestamptz AT TIME ZONE t.time_zone) AS local) l
          WHERE w.tenant_id = $1 AND w.status = 'waiting'
            AND (w.service_id IS NULL OR w.service_id = $2)
            AND (w.preferred_from IS NULL OR w.preferred_from <= l.local::date)
            AND (w.preferred_to IS NULL OR w.preferred_to >= l.local::date)
            AND (w.time_of_day IS NULL OR w.time_of_day =
                 CASE WHEN extract(hour FROM l.local) < 12 THEN 'morning'
                      WHEN extract(hour FROM l.local) < 17 THEN 'afternoon'
                      ELSE 'evening' END)
          ORDER BY w.created_at LIMIT 20",
    )
    .bind(tenant)
    .bind(service)
    .bind(start)
    .fetch_all(conn)
    .await
}

/// The tenant's entry, locked for the rest of the transaction.
pub async fn lock_entry(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<WaitlistEntryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT session_id, client_name, client_email, client_phone, status FROM waitlist_entries
          WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// The client has been told about an opened time.
pub async fn mark_notified(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE waitlist_entries SET status = 'notified', notified_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}
