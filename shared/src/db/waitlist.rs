//! `waitlist_entries`: clients waiting for a time to open up.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// `waitlist_entries.status`: `waiting` until an opened time is offered (`offered`, with a
/// hold kept for the entry); then `booked` (the client took it), `expired` (the offer ran
/// out) or `cancelled` (the client left the waitlist). The old one-shot `notified` was
/// migrated to `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum WaitlistStatus {
    Waiting,
    Offered,
    Booked,
    Expired,
    Cancelled,
}

impl WaitlistStatus {
    /// Every status the column accepts.
    pub const ALL: [WaitlistStatus; 5] = [
        WaitlistStatus::Waiting,
        WaitlistStatus::Offered,
        WaitlistStatus::Booked,
        WaitlistStatus::Expired,
        WaitlistStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistStatus::Waiting => "waiting",
            WaitlistStatus::Offered => "offered",
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
    pub offer_hold_id: Option<Uuid>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub booked_appointment_id: Option<Uuid>,
    /// The language the client asked in ("en", "es").
    pub locale: String,
}

const ENTRY_COLS: &str = "session_id, client_name, client_email, client_phone, status,
    offer_hold_id, offer_expires_at, booked_appointment_id, locale";

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
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ENTRY_COLS} FROM waitlist_entries WHERE id = $1 AND tenant_id = $2 FOR UPDATE"
    )))
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// The offer made to an entry: the hold kept for it and how to accept it.
pub struct Offer<'a> {
    pub hold_id: Uuid,
    pub service_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 (hex) of the token the client accepts with.
    pub token_hash: &'a str,
}

/// A waiting entry is offered a time (the row is the caller's, locked).
pub async fn mark_offered(
    conn: &mut PgConnection,
    id: Uuid,
    offer: &Offer<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE waitlist_entries SET status = 'offered', notified_at = $2, offer_hold_id = $3,
                offer_service_id = $4, offer_start = $5, offer_end = $6, offer_expires_at = $7,
                offer_token_hash = $8
          WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(offer.hold_id)
    .bind(offer.service_id)
    .bind(offer.start)
    .bind(offer.end)
    .bind(offer.expires_at)
    .bind(offer.token_hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry leaves the lifecycle: `booked` (with its booking), `expired` or `cancelled`.
/// The offer's token stays, so its holder learns what became of it.
pub async fn close(
    conn: &mut PgConnection,
    id: Uuid,
    status: WaitlistStatus,
    booking: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE waitlist_entries SET status = $2, booked_appointment_id = COALESCE($3, booked_appointment_id),
                closed_at = $4
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(booking)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The entry an offer token names (its tenant and id), whatever its status.
pub async fn by_token_hash<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    token_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM waitlist_entries WHERE tenant_id = $1 AND offer_token_hash = $2",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// What an offer token shows its holder: the entry's status and the time held.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct OfferView {
    pub status: WaitlistStatus,
    pub service_id: Option<Uuid>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn offer_by_token_hash<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    token_hash: &str,
) -> Result<Option<OfferView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status, offer_service_id AS service_id, offer_start AS start, offer_end AS \"end\",
                offer_expires_at AS expires_at
           FROM waitlist_entries WHERE tenant_id = $1 AND offer_token_hash = $2",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Offers whose time ran out: (tenant, entry id), oldest first, at most `limit`.
pub async fn due_offers<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tenant_id, id FROM waitlist_entries
          WHERE status = 'offered' AND offer_expires_at <= $1
          ORDER BY offer_expires_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The open entries (waiting or offered) of a phone at a tenant.
pub async fn open_for_phone<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    phone: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM waitlist_entries
          WHERE tenant_id = $1 AND client_phone = $2 AND status IN ('waiting', 'offered')
          ORDER BY created_at",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_all(db)
    .await
}

/// The open entries (waiting or offered) a chat session made.
pub async fn open_for_session<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM waitlist_entries
          WHERE tenant_id = $1 AND session_id = $2 AND status IN ('waiting', 'offered')
          ORDER BY created_at",
    )
    .bind(tenant)
    .bind(session)
    .fetch_all(db)
    .await
}

/// The offered entry of a phone at a tenant (the newest), for an SMS reply accepting it.
pub async fn offered_for_phone<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    phone: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM waitlist_entries
          WHERE tenant_id = $1 AND client_phone = $2 AND status = 'offered'
          ORDER BY notified_at DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_optional(db)
    .await
}

/// An entry's status (tests and admin reads).
pub async fn status<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<WaitlistStatus>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM waitlist_entries WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(db)
        .await
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
    pub locale: &'a str,
}

pub async fn insert(conn: &mut PgConnection, e: &NewWaitlistEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from,
                preferred_to, time_of_day, client_name, client_email, client_phone, locale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
    .bind(e.locale)
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
        close(&mut conn, id, WaitlistStatus::Expired, None, Utc::now())
            .await
            .unwrap();
        let row = lock_entry(&mut conn, tenant, id).await.unwrap().unwrap();
        assert_eq!(row.status, WaitlistStatus::Expired);
    }
}

/// A waitlist entry as the admin sees it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct WaitlistAdminRow {
    pub id: Uuid,
    pub service_id: Option<Uuid>,
    pub preferred_from: Option<NaiveDate>,
    pub preferred_to: Option<NaiveDate>,
    pub time_of_day: Option<String>,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub client_phone: Option<String>,
    pub status: WaitlistStatus,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub booked_appointment_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A tenant's waitlist, oldest first (the order offers go in), by status when given.
pub async fn list_admin<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    status: Option<WaitlistStatus>,
    limit: i64,
) -> Result<Vec<WaitlistAdminRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, service_id, preferred_from, preferred_to, time_of_day, client_name,
                client_email, client_phone, status, offer_expires_at, booked_appointment_id,
                created_at
           FROM waitlist_entries
          WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
          ORDER BY created_at, id
          LIMIT $3",
    )
    .bind(tenant)
    .bind(status.map(WaitlistStatus::as_str))
    .bind(limit)
    .fetch_all(db)
    .await
}
