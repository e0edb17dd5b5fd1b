//! `waitlist_entries`: clients waiting for a time to open up.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

/// `waitlist_entries.status`: `waiting` until the client is told of an opened time
/// (`notified`), books, or the entry lapses or is withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WaitlistStatus {
    Waiting,
    Notified,
    Booked,
    Expired,
    Cancelled,
}

impl WaitlistStatus {
    pub const ALL: [WaitlistStatus; 5] = [
        WaitlistStatus::Waiting,
        WaitlistStatus::Notified,
        WaitlistStatus::Booked,
        WaitlistStatus::Expired,
        WaitlistStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistStatus::Waiting => "waiting",
            WaitlistStatus::Notified => "notified",
            WaitlistStatus::Booked => "booked",
            WaitlistStatus::Expired => "expired",
            WaitlistStatus::Cancelled => "cancelled",
        }
    }
}

/// What an offer to a waiting client needs from its entry.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct WaitlistEntryRow {
    pub session_id: Option<String>,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub client_phone: Option<String>,
    pub status: WaitlistStatus,
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

/// A new entry, as the chat agent writes it: the dates and time of day the client prefers.
pub struct NewWaitlistEntry<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub session_id: &'a str,
    pub service_id: Option<Uuid>,
    pub preferred_from: Option<NaiveDate>,
    pub preferred_to: Option<NaiveDate>,
    /// `morning`, `afternoon` or `evening`; None for any time.
    pub time_of_day: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub client_email: Option<&'a str>,
    pub client_phone: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, e: &NewWaitlistEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from,
                preferred_to, time_of_day, client_name, client_email, client_phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id)
    .bind(e.tenant_id)
    .bind(e.session_id)
    .bind(e.service_id)
    .bind(e.preferred_from)
    .bind(e.preferred_to)
    .bind(e.time_of_day)
    .bind(e.client_name)
    .bind(e.client_email)
    .bind(e.client_phone)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlx::PgPool;

    /// Every status is written to and read back from `waitlist_entries.status` (its CHECK
    /// accepts each name), and serializes to the same string.
    #[sqlx::test(migrations = "../migrations")]
    async fn status_round_trips_through_postgres(pool: PgPool) {
        let (tenant, id) = (Uuid::new_v4(), Uuid::new_v4());
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO waitlist_entries (id, tenant_id) VALUES ($1, $2)")
            .bind(id)
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let row = lock_entry(&mut conn, tenant, id).await.unwrap().unwrap();
        assert_eq!(row.status, WaitlistStatus::Waiting);
        for status in WaitlistStatus::ALL {
            sqlx::query("UPDATE waitlist_entries SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            let row = lock_entry(&mut conn, tenant, id).await.unwrap().unwrap();
            assert_eq!(row.status, status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        mark_notified(&mut conn, id, Utc::now()).await.unwrap();
        let row = lock_entry(&mut conn, tenant, id).await.unwrap().unwrap();
        assert_eq!(row.status, WaitlistStatus::Notified);
    }
}
