//! `webhook_endpoints` (a tenant's receivers, each with its sealed signing secret) and
//! `webhook_deliveries` (one row per endpoint and domain event, claimed with a lease).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct EndpointRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `webhook_deliveries.status`: `pending` (queued or between retries), `delivered`, or
/// `dead` (out of attempts; the tenant may send it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// The status named `s`, if there is one.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub dead_at: Option<DateTime<Utc>>,
}

/// A delivery claimed for sending, with its event and its endpoint's address and secret.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
    pub created_at: DateTime<Utc>,
    pub url: String,
    pub secret_enc: Vec<u8>,
}

const ENDPOINT_COLS: &str =
    "id, tenant_id, url, event_types, enabled, description, created_at, updated_at";
const DELIVERY_COLS: &str = "id, endpoint_id, event_id, event_type, status, attempts, max_attempts,
    next_attempt_at, last_status_code, last_error, created_at, delivered_at, dead_at";

// --- endpoints ---------------------------------------------------------------------------

/// Serializes endpoint creation per tenant for the rest of the transaction (the count
/// limit holds under concurrency).
pub async fn lock_tenant_endpoints(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))")
        .bind(format!("webhook_endpoints:{tenant}"))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn count_endpoints<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(db)
        .await
}

pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: &'a str,
    pub secret_enc: &'a [u8],
    pub event_types: &'a [String],
    pub description: &'a str,
}

pub async fn insert_endpoint(
    conn: &mut PgConnection,
    e: &NewEndpoint<'_>,
) -> Result<EndpointRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (id, tenant_id, url, secret_enc, event_types, description)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ENDPOINT_COLS}"
    )))
    .bind(e.id)
    .bind(e.tenant_id)
    .bind(e.url)
    .bind(e.secret_enc)
    .bind(e.event_types)
    .bind(e.description)
    .fetch_one(conn)
    .await
}

pub async fn list_endpoints<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<EndpointRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// Changes an endpoint (`None` leaves a field as it is); `None` when the tenant has no such
/// endpoint.
pub async fn update_endpoint<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
    url: Option<&str>,
    event_types: Option<&[String]>,
    enabled: Option<bool>,
) -> Result<Option<EndpointRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), event_types = COALESCE($4, event_types),
                enabled = COALESCE($5, enabled), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING {ENDPOINT_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(url)
    .bind(event_types)
    .bind(enabled)
    .fetch_optional(db)
    .await
}

/// Deletes an endpoint (its deliveries go with it); false when there was none.
pub async fn delete_endpoint<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected();
    Ok(n > 0)
}

// --- deliveries --------------------------------------------------------------------------

/// A tenant's deliveries, newest first, optionally of one status.
pub async fn list_deliveries<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    status: Option<DeliveryStatus>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLS} FROM webhook_deliveries
          WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
          ORDER BY created_at DESC, id LIMIT $3"
    )))
    .bind(tenant)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Puts a not yet delivered delivery back in the queue, due at `now`, with a fresh
/// attempt budget; `None` when the tenant has no such undelivered delivery.
pub async fn redeliver<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<DeliveryRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3,
                claimed_until = NULL, dead_at = NULL
          WHERE tenant_id = $1 AND id = $2 AND status <> 'delivered' RETURNING {DELIVERY_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// In one statement: takes up to `limit` outbox rows whose deliveries are not written yet
/// (oldest first, skipping rows another dispatcher holds), writes a delivery for each
/// enabled endpoint of the row's tenant that wants its event type, and marks the rows done.
/// Returns the deliveries written.
pub async fn fan_out_new<'e>(
    db: impl PgExecutor<'e>,
    limit: i64,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "WITH picked AS (
             SELECT id FROM outbox WHERE webhooks_at IS NULL ORDER BY created_at
              LIMIT $1 FOR UPDATE SKIP LOCKED
         ), written AS (
             INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type,
                                             payload, max_attempts, next_attempt_at, created_at)
             SELECT gen_random_uuid(), o.tenant_id, e.id, o.id, o.event_type, o.payload, $2, $3, $3
               FROM picked p JOIN outbox o ON o.id = p.id
               JOIN webhook_endpoints e ON e.tenant_id = o.tenant_id AND e.enabled
                    AND (cardinality(e.event_types) = 0 OR o.event_type = ANY(e.event_types))
             ON CONFLICT (endpoint_id, event_id) DO NOTHING
             RETURNING 1
         ), marked AS (
             -- A data-modifying WITH runs once whether or not the query reads it.
             UPDATE outbox SET webhooks_at = $3 FROM picked WHERE outbox.id = picked.id
         )
         SELECT count(*) FROM written",
    )
    .bind(limit)
    .bind(max_attempts)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Claims up to `limit` pending deliveries due at `now`, reserving them until
/// `lease_until` and counting an attempt for each.
pub async fn claim_due<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
    sqlx::query_as(
        "WITH c AS (
            UPDATE webhook_deliveries SET claimed_until = $2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM webhook_deliveries
                           WHERE status = 'pending' AND next_attempt_at <= $1
                             AND (claimed_until IS NULL OR claimed_until <= $1)
                           ORDER BY next_attempt_at, created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, endpoint_id, event_id, event_type, payload, attempts,
                      max_attempts, created_at)
         SELECT c.*, e.url, e.secret_enc FROM c JOIN webhook_endpoints e ON e.id = c.endpoint_id",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn mark_delivered(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    status_code: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status_code = $3,
                last_error = NULL, claimed_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(status_code)
    .execute(conn)
    .await?;
    Ok(())
}

/// Out of attempts: kept as a dead letter the tenant can send again.
pub async fn mark_dead(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    status_code: Option<i32>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'dead', dead_at = $2, last_status_code = $3,
                last_error = $4, claimed_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(status_code)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases the delivery for another attempt at `next_attempt_at` (it stays `pending`).
pub async fn schedule_retry(
    conn: &mut PgConnection,
    id: Uuid,
    next_attempt_at: DateTime<Utc>,
    status_code: Option<i32>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $2, last_status_code = $3,
                last_error = $4, claimed_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(status_code)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlx::PgPool;

    /// Every status is written to and read back from `webhook_deliveries.status` (its CHECK
    /// accepts each name), filters the listing when bound as a parameter, and serializes
    /// and parses as the same string.
    #[sqlx::test(migrations = "../migrations")]
    async fn status_round_trips_through_postgres(pool: PgPool) {
        let tenant = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let endpoint = insert_endpoint(
            &mut conn,
            &NewEndpoint {
                id: Uuid::new_v4(),
                tenant_id: tenant,
                url: "https://hooks.example.com/x",
                secret_enc: b"sealed",
                event_types: &[],
                description: "",
            },
        )
        .await
        .unwrap();
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload)
             VALUES ($1, $2, $3, $4, 'BookingCreated', '{}')",
        )
        .bind(id)
        .bind(tenant)
        .bind(endpoint.id)
        .bind(Uuid::new_v4())
        .execute(&pool)
        .await
        .unwrap();
        for status in DeliveryStatus::ALL {
            sqlx::query("UPDATE webhook_deliveries SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            let all = list_deliveries(&pool, tenant, None, 10).await.unwrap();
            assert_eq!(all[0].status, status);
            for other in DeliveryStatus::ALL {
                let n = list_deliveries(&pool, tenant, Some(other), 10)
                    .await
                    .unwrap()
                    .len();
                assert_eq!(n, usize::from(other == status));
            }
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DeliveryStatus::parse("gone"), None);
    }
}
