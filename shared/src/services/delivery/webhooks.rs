//! Outbound webhooks: per-tenant endpoints with their own signing secret (stored encrypted),
//! a delivery row per (endpoint, domain event), signed POSTs with retries and a dead-letter
//! state the tenant sees in the admin API.
//!
//! - **Fan-out** reads the domain-event `outbox` (PII-free payloads) independently of the
//!   EventBridge relay: each row gets its deliveries written once (`webhooks_at`), with
//!   `ON CONFLICT DO NOTHING`, so a re-run writes nothing twice.
//! - **Body**: `{"id": <delivery id>, "event_id", "type", "tenant_id", "created_at", "data"}`,
//!   the same bytes on every attempt (receivers deduplicate by `id`).
//! - **Signature**: `Gomomo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
//!   the timestamp lets receivers refuse replays. Also `Gomomo-Delivery`, `Gomomo-Event`,
//!   `Gomomo-Attempt`.
//! - **Retries**: any non-2xx answer, timeout or network error is retried after 30 s × 4ⁿ⁻¹
//!   (capped at 2 h); after `max_attempts` the delivery is `dead` (kept, visible, and can be
//!   sent again by the tenant).

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::db::audit;
use crate::domain::crypto::{CryptoError, SecretBox};
use crate::ports::clock::Clock;
use crate::services::delivery::dispatcher::{backoff, LEASE};

pub const SIGNATURE_HEADER: &str = "Gomomo-Signature";
pub const DELIVERY_HEADER: &str = "Gomomo-Delivery";
pub const EVENT_HEADER: &str = "Gomomo-Event";
pub const ATTEMPT_HEADER: &str = "Gomomo-Attempt";
/// At most this many endpoints per tenant (each event fans out to all of them).
pub const MAX_ENDPOINTS: i64 = 20;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("webhook endpoint not found")]
    NotFound,
    #[error("too many webhook endpoints (at most {MAX_ENDPOINTS})")]
    TooMany,
    #[error("secret cannot be decrypted")]
    Crypto(#[from] CryptoError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

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

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub dead_at: Option<DateTime<Utc>>,
}

/// Computes the signature header value for `body` sent at `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn secret_context(endpoint: Uuid) -> String {
    format!("webhook:{endpoint}")
}

fn new_secret() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut b[..]);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

const EVENT_TYPES: &[&str] = crate::domain::events::EVENT_NAMES;

/// Checks an endpoint URL: http(s) with a host; plain http only when `allow_http`
/// (development).
pub fn check_url(url: &str, allow_http: bool) -> Result<String, WebhookError> {
    let bad = |reason: &str| WebhookError::Invalid {
        field: "url",
        reason: reason.into(),
    };
    let u = reqwest::Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
    match u.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(bad("must be https")),
        _ => return Err(bad("must be an http(s) URL")),
    }
    if u.host_str().is_none_or(str::is_empty) || !u.username().is_empty() || u.password().is_some()
    {
        return Err(bad("needs a host and no credentials"));
    }
    if url.len() > 2000 {
        return Err(bad("is too long"));
    }
    Ok(u.to_string())
}

fn check_event_types(types: &[String]) -> Result<Vec<String>, WebhookError> {
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(WebhookError::Invalid {
                field: "event_types",
                reason: format!("{t:?} is not one of {}", EVENT_TYPES.join(", ")),
            });
        }
    }
    let mut v = types.to_vec();
    v.sort();
    v.dedup();
    Ok(v)
}

const ENDPOINT_COLS: &str =
    "id, tenant_id, url, event_types, enabled, description, created_at, updated_at";
const DELIVERY_COLS: &str = "id, endpoint_id, event_id, event_type, status, attempts, max_attempts,
    next_attempt_at, last_status_code, last_error, created_at, delivered_at, dead_at";

/// Creates an endpoint; returns it with its signing secret (shown this once).
pub async fn create_endpoint(
    pool: &PgPool,
    secrets: &SecretBox,
    tenant: Uuid,
    url: &str,
    event_types: &[String],
    description: &str,
    allow_http: bool,
) -> Result<(EndpointRow, String), WebhookError> {
    let url = check_url(url, allow_http)?;
    let types = check_event_types(event_types)?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))")
        .bind(format!("webhook_endpoints:{tenant}"))
        .execute(&mut *tx)
        .await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(&mut *tx)
        .await?;
    if n >= MAX_ENDPOINTS {
        return Err(WebhookError::TooMany);
    }
    let id = Uuid::new_v4();
    let secret = new_secret();
    let sealed = secrets.seal_str(&secret_context(id), &secret)?;
    let row: EndpointRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (id, tenant_id, url, secret_enc, event_types, description)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ENDPOINT_COLS}"
    )))
    .bind(id)
    .bind(tenant)
    .bind(&url)
    .bind(&sealed)
    .bind(&types)
    .bind(description.chars().take(500).collect::<String>())
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        audit::AuditEntry {
            tenant_id: Some(tenant),
            event_type: "webhook.endpoint_created",
            entity_type: "webhook_endpoint",
            entity_id: Some(id.to_string()),
            actor: "admin",
            payload: json!({"url": url, "event_types": types}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, secret))
}

pub async fn list_endpoints(pool: &PgPool, tenant: Uuid) -> Result<Vec<EndpointRow>, WebhookError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id"
    )))
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// Changes an endpoint (`None` leaves a field as it is).
pub async fn update_endpoint(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    url: Option<&str>,
    event_types: Option<&[String]>,
    enabled: Option<bool>,
    allow_http: bool,
) -> Result<EndpointRow, WebhookError> {
    let url = url.map(|u| check_url(u, allow_http)).transpose()?;
    let types = event_types.map(check_event_types).transpose()?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET url = COALESCE($3, url), event_types = COALESCE($4, event_types),
                enabled = COALESCE($5, enabled), updated_at = now()
          WHERE tenant_id = $1 AND id = $2 RETURNING {ENDPOINT_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(url)
    .bind(types)
    .bind(enabled)
    .fetch_optional(pool)
    .await?
    .ok_or(WebhookError::NotFound)
}

pub async fn delete_endpoint(pool: &PgPool, tenant: Uuid, id: Uuid) -> Result<(), WebhookError> {
    let n = sqlx::query("DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(WebhookError::NotFound);
    }
    Ok(())
}

/// A tenant's deliveries, newest first; `status` filters (`pending`, `delivered`, `dead`).
pub async fn list_deliveries(
    pool: &PgPool,
    tenant: Uuid,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, WebhookError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLS} FROM webhook_deliveries
          WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
          ORDER BY created_at DESC, id LIMIT $3"
    )))
    .bind(tenant)
    .bind(status)
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await?)
}

/// Puts a dead (or pending) delivery back in the queue, due now, with a fresh budget.
pub async fn redeliver(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DeliveryRow, WebhookError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3,
                claimed_until = NULL, dead_at = NULL
          WHERE tenant_id = $1 AND id = $2 AND status <> 'delivered' RETURNING {DELIVERY_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await?
    .ok_or(WebhookError::NotFound)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookReport {
    pub fanned_out: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
}

#[derive(FromRow)]
struct Claimed {
    id: Uuid,
    tenant_id: Uuid,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: String,
    payload: Value,
    attempts: i32,
    max_attempts: i32,
    created_at: DateTime<Utc>,
    url: String,
    secret_enc: Vec<u8>,
}

#[derive(Clone)]
pub struct WebhookDispatcher {
    pool: PgPool,
    clock: Clock,
    secrets: SecretBox,
    http: reqwest::Client,
    max_attempts: i32,
}

impl WebhookDispatcher {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        secrets: SecretBox,
        timeout: StdDuration,
        max_attempts: i32,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(StdDuration::from_secs(5)))
            // A receiver's redirect is an answer, not an instruction to post elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("gomomo-webhooks/1")
            .build()
            .unwrap_or_default();
        Self {
            pool,
            clock,
            secrets,
            http,
            max_attempts: max_attempts.max(1),
        }
    }

    /// Writes the deliveries of up to `limit` new domain events.
    pub async fn fan_out(&self, limit: i64) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE webhooks_at IS NULL ORDER BY created_at
              LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let written = sqlx::query(
            "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload,
                                             max_attempts, next_attempt_at, created_at)
             SELECT gen_random_uuid(), o.tenant_id, e.id, o.id, o.event_type, o.payload, $2, $3, $3
               FROM outbox o JOIN webhook_endpoints e ON e.tenant_id = o.tenant_id AND e.enabled
                    AND (cardinality(e.event_types) = 0 OR o.event_type = ANY(e.event_types))
              WHERE o.id = ANY($1)
             ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(self.max_attempts)
        .bind(self.clock.now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE outbox SET webhooks_at = $2 WHERE id = ANY($1)")
            .bind(&ids)
            .bind(self.clock.now())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(written as usize)
    }

    async fn claim(&self, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = self.clock.now();
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
        .bind(now + LEASE)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Fans out new events, then sends what is due.
    #[tracing::instrument(skip_all)]
    pub async fn run_once(&self, limit: usize) -> Result<WebhookReport, sqlx::Error> {
        let mut report = WebhookReport {
            fanned_out: self.fan_out(limit as i64).await?,
            ..Default::default()
        };
        for d in self.claim(limit.min(500) as i64).await? {
            let result = self.send(&d).await;
            self.finish(&d, result, &mut report).await?;
        }
        Ok(report)
    }

    async fn send(&self, d: &Claimed) -> Result<u16, (Option<u16>, String)> {
        let secret = self
            .secrets
            .open_str(&secret_context(d.endpoint_id), &d.secret_enc)
            .map_err(|e| (None, e.to_string()))?;
        let body = serde_json::to_vec(&json!({
            "id": d.id,
            "event_id": d.event_id,
            "type": d.event_type,
            "tenant_id": d.tenant_id,
            "created_at": d.created_at,
            "data": d.payload,
        }))
        .map_err(|e| (None, e.to_string()))?;
        let t = self.clock.now().timestamp();
        let res = self
            .http
            .post(&d.url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, sign(&secret, t, &body))
            .header(DELIVERY_HEADER, d.id.to_string())
            .header(EVENT_HEADER, &d.event_type)
            .header(ATTEMPT_HEADER, d.attempts.to_string())
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Ok(r.status().as_u16()),
            Ok(r) => Err((Some(r.status().as_u16()), format!("HTTP {}", r.status()))),
            Err(e) if e.is_timeout() => Err((None, "timed out".into())),
            Err(e) => Err((None, format!("request failed: {e}"))),
        }
    }

    async fn finish(
        &self,
        d: &Claimed,
        result: Result<u16, (Option<u16>, String)>,
        report: &mut WebhookReport,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let (event, payload) = match result {
            Ok(code) => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status_code = $3,
                            last_error = NULL, claimed_until = NULL WHERE id = $1",
                )
                .bind(d.id)
                .bind(now)
                .bind(i32::from(code))
                .execute(&mut *tx)
                .await?;
                report.delivered += 1;
                ("webhook.delivered", json!({"status": code}))
            }
            Err((code, err)) if d.attempts >= d.max_attempts => {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'dead', dead_at = $2, last_status_code = $3,
                            last_error = $4, claimed_until = NULL WHERE id = $1",
                )
                .bind(d.id)
                .bind(now)
                .bind(code.map(i32::from))
                .bind(&err)
                .execute(&mut *tx)
                .await?;
                report.dead += 1;
                (
                    "webhook.dead_lettered",
                    json!({"status": code, "error": err}),
                )
            }
            Err((code, err)) => {
                let next = now + backoff(d.attempts);
                sqlx::query(
                    "UPDATE webhook_deliveries SET next_attempt_at = $2, last_status_code = $3,
                            last_error = $4, claimed_until = NULL WHERE id = $1",
                )
                .bind(d.id)
                .bind(next)
                .bind(code.map(i32::from))
                .bind(&err)
                .execute(&mut *tx)
                .await?;
                report.retried += 1;
                (
                    "webhook.retry_scheduled",
                    json!({"status": code, "error": err, "next_attempt_at": next}),
                )
            }
        };
        let mut p = json!({"endpoint_id": d.endpoint_id, "event_type": d.event_type, "attempt": d.attempts});
        if let (Some(p), Some(x)) = (p.as_object_mut(), payload.as_object()) {
            p.extend(x.clone());
        }
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(d.tenant_id),
                event_type: event,
                entity_type: "webhook_delivery",
                entity_id: Some(d.id.to_string()),
                actor: "dispatcher",
                payload: p,
            },
        )
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(check_url("https://hooks.example.com/x", false).is_ok());
        assert!(check_url("http://hooks.example.com/x", false).is_err());
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_url("ftp://x", true).is_err());
        assert!(check_url("https://u:p@x.com", true).is_err());
        assert!(check_event_types(&["BookingCreated".into()]).is_ok());
        assert!(check_event_types(&["Nope".into()]).is_err());
    }

    #[test]
    fn signature_format() {
        let s = sign("whsec_x", 1700000000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
    }
}
