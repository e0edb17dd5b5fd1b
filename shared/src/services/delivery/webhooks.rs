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
//! - **Outbound rule** ([`OutboundPolicy`]): an endpoint's host must resolve to public
//!   addresses only — checked when the URL is set (refused with [`WebhookError::Refused`])
//!   and again at each delivery, where the request goes to the addresses just checked
//!   ([`crate::adapters::outbound`]). A delivery refused by the rule is dead at once, with
//!   the reason as its error and no status code: nothing was sent.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

use crate::adapters::lazy_http::LazyClient;
use crate::adapters::outbound;
use crate::db::audit;
use crate::db::webhooks::{self as q, ClaimedDelivery, NewEndpoint};
use crate::domain::crypto::{CryptoError, SecretBox};
use crate::domain::is_invisible_format;
use crate::domain::outbound::{OutboundPolicy, Refusal};
use crate::ports::clock::Clock;
use crate::services::delivery::dispatcher::{backoff, LEASE};

pub const SIGNATURE_HEADER: &str = "Gomomo-Signature";
pub const DELIVERY_HEADER: &str = "Gomomo-Delivery";
pub const EVENT_HEADER: &str = "Gomomo-Event";
pub const ATTEMPT_HEADER: &str = "Gomomo-Attempt";
/// At most this many endpoints per tenant (each event fans out to all of them).
pub const MAX_ENDPOINTS: i64 = 20;

pub use crate::db::webhooks::{DeliveryRow, DeliveryStatus, EndpointRow};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("webhook endpoint not found")]
    NotFound,
    #[error("too many webhook endpoints (at most {MAX_ENDPOINTS})")]
    TooMany,
    /// The URL leads to an address tenant URLs may not reach (loopback, private, link-local,
    /// metadata, …) or does not resolve.
    #[error("url refused: {0}")]
    Refused(Refusal),
    #[error("secret cannot be decrypted")]
    Crypto(#[from] CryptoError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
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
    format!("whsec_{}", crate::domain::crypto::random_token::<32>())
}

const EVENT_TYPES: &[&str] = crate::domain::events::EVENT_NAMES;

/// Checks an endpoint URL's form: http(s) with a host; plain http only when `allow_http`
/// (development). Where it leads is [`check_destination`]'s part.
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

/// Checks a URL's form and where it leads: the host, resolved now, must reach public
/// addresses only (or be on the development allow-list). Returns the normalised URL.
pub async fn check_destination(url: &str, policy: &OutboundPolicy) -> Result<String, WebhookError> {
    let url = check_url(url, policy.allow_http)?;
    let host = reqwest::Url::parse(&url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    outbound::check_host(policy, &host)
        .await
        .map_err(WebhookError::Refused)?;
    Ok(url)
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

/// The longest endpoint description kept.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// An endpoint's description, cut at [`MAX_DESCRIPTION_CHARS`]; control characters
/// other than line breaks and tabs (NUL among them, which Postgres text cannot hold) and
/// invisible formatting characters are refused.
fn check_description(raw: &str) -> Result<String, WebhookError> {
    if raw
        .chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || is_invisible_format(c))
    {
        return Err(WebhookError::Invalid {
            field: "description",
            reason: "may not contain control or invisible formatting characters".into(),
        });
    }
    Ok(raw.chars().take(MAX_DESCRIPTION_CHARS).collect())
}

/// Creates an endpoint; returns it with its signing secret (shown this once).
pub async fn create_endpoint(
    pool: &PgPool,
    secrets: &SecretBox,
    tenant: Uuid,
    url: &str,
    event_types: &[String],
    description: &str,
    policy: &OutboundPolicy,
) -> Result<(EndpointRow, String), WebhookError> {
    let types = check_event_types(event_types)?;
    let description = check_description(description)?;
    let url = check_destination(url, policy).await?;
    let mut tx = pool.begin().await?;
    q::lock_tenant_endpoints(&mut tx, tenant).await?;
    if q::count_endpoints(&mut *tx, tenant).await? >= MAX_ENDPOINTS {
        return Err(WebhookError::TooMany);
    }
    let id = Uuid::new_v4();
    let secret = new_secret();
    let sealed = secrets.seal_str(&secret_context(id), &secret)?;
    let row = q::insert_endpoint(
        &mut tx,
        &NewEndpoint {
            id,
            tenant_id: tenant,
            url: &url,
            secret_enc: &sealed,
            event_types: &types,
            description: &description,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        audit::AuditEntry {
            tenant_id: Some(tenant),
            event_type: "webhook.endpoint_created",
            entity_type: "webhook_endpoint",
            entity_id: Some(id.to_string()),
            actor: crate::db::audit::ADMIN,
            payload: json!({"url": url, "event_types": types}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((row, secret))
}

pub async fn list_endpoints(pool: &PgPool, tenant: Uuid) -> Result<Vec<EndpointRow>, WebhookError> {
    Ok(q::list_endpoints(pool, tenant).await?)
}

/// Changes an endpoint (`None` leaves a field as it is).
pub async fn update_endpoint(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    url: Option<&str>,
    event_types: Option<&[String]>,
    enabled: Option<bool>,
    policy: &OutboundPolicy,
) -> Result<EndpointRow, WebhookError> {
    let types = event_types.map(check_event_types).transpose()?;
    let url = match url {
        Some(u) => Some(check_destination(u, policy).await?),
        None => None,
    };
    q::update_endpoint(pool, tenant, id, url.as_deref(), types.as_deref(), enabled)
        .await?
        .ok_or(WebhookError::NotFound)
}

pub async fn delete_endpoint(pool: &PgPool, tenant: Uuid, id: Uuid) -> Result<(), WebhookError> {
    if !q::delete_endpoint(pool, tenant, id).await? {
        return Err(WebhookError::NotFound);
    }
    Ok(())
}

/// A tenant's deliveries, newest first; `status` filters (`pending`, `delivered`, `dead`).
pub async fn list_deliveries(
    pool: &PgPool,
    tenant: Uuid,
    status: Option<DeliveryStatus>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, WebhookError> {
    Ok(q::list_deliveries(pool, tenant, status, limit.clamp(1, 500)).await?)
}

/// Puts a dead (or pending) delivery back in the queue, due now, with a fresh budget.
pub async fn redeliver(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<DeliveryRow, WebhookError> {
    q::redeliver(pool, tenant, id, now)
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

/// Why an attempt failed.
enum Failure {
    /// A non-2xx answer (its status), a timeout or a network error: retried.
    Retry(Option<u16>, String),
    /// The outbound rule refused the URL: nothing was sent, and nothing will be.
    Refused(String),
}

#[derive(Clone)]
pub struct WebhookDispatcher {
    pool: PgPool,
    clock: Clock,
    secrets: SecretBox,
    /// The guarded client, built at the first delivery; when it cannot be built every
    /// attempt fails and is retried (an unguarded client is never used in its place).
    http: LazyClient,
    policy: OutboundPolicy,
    max_attempts: i32,
}

impl WebhookDispatcher {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        secrets: SecretBox,
        timeout: StdDuration,
        max_attempts: i32,
        policy: OutboundPolicy,
    ) -> Self {
        Self {
            pool,
            clock,
            secrets,
            http: {
                let policy = policy.clone();
                // A receiver's redirect is an answer, not an instruction to post elsewhere
                // (the guarded client follows none).
                LazyClient::new("webhooks", move || {
                    outbound::guarded_client(&policy)
                        .timeout(timeout)
                        .connect_timeout(timeout.min(StdDuration::from_secs(5)))
                        .user_agent("gomomo-webhooks/1")
                })
            },
            policy,
            max_attempts: max_attempts.max(1),
        }
    }

    /// Writes the deliveries of up to `limit` new domain events.
    pub async fn fan_out(&self, limit: i64) -> Result<usize, sqlx::Error> {
        let written =
            q::fan_out_new(&self.pool, limit, self.max_attempts, self.clock.now()).await?;
        Ok(usize::try_from(written).unwrap_or_default())
    }

    async fn claim(&self, limit: i64) -> Result<Vec<ClaimedDelivery>, sqlx::Error> {
        let now = self.clock.now();
        q::claim_due(&self.pool, now, now + LEASE, limit).await
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

    /// The outbound rule on a stored URL, before anything is sent: its form (https in
    /// production) and, for an address literal, the address. A name's addresses are
    /// checked by the client's resolver when it connects.
    fn refusal(&self, url: &str) -> Option<String> {
        let url = match check_url(url, self.policy.allow_http) {
            Ok(u) => u,
            Err(e) => return Some(e.to_string()),
        };
        let host = reqwest::Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        outbound::check_literal(&self.policy, &host)
            .err()
            .map(|r| r.to_string())
    }

    async fn send(&self, d: &ClaimedDelivery) -> Result<u16, Failure> {
        if let Some(why) = self.refusal(&d.url) {
            return Err(Failure::Refused(why));
        }
        let secret = self
            .secrets
            .open_str(&secret_context(d.endpoint_id), &d.secret_enc)
            .map_err(|e| Failure::Retry(None, e.to_string()))?;
        let body = serde_json::to_vec(&json!({
            "id": d.id,
            "event_id": d.event_id,
            "type": d.event_type,
            "tenant_id": d.tenant_id,
            "created_at": d.created_at,
            "data": d.payload,
        }))
        .map_err(|e| Failure::Retry(None, e.to_string()))?;
        let t = self.clock.now().timestamp();
        let Some(http) = self.http.get() else {
            return Err(Failure::Retry(
                None,
                "the webhook client is unavailable".into(),
            ));
        };
        let res = http
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
            Ok(r) => Err(Failure::Retry(
                Some(r.status().as_u16()),
                format!("HTTP {}", r.status()),
            )),
            Err(e) => match outbound::refusal(&e) {
                Some(r) => Err(Failure::Refused(r.to_string())),
                None if e.is_timeout() => Err(Failure::Retry(None, "timed out".into())),
                None => Err(Failure::Retry(None, format!("request failed: {e}"))),
            },
        }
    }

    async fn finish(
        &self,
        d: &ClaimedDelivery,
        result: Result<u16, Failure>,
        report: &mut WebhookReport,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let (event, payload) = match result {
            Ok(code) => {
                q::mark_delivered(&mut tx, d.id, now, i32::from(code)).await?;
                report.delivered += 1;
                ("webhook.delivered", json!({"status": code}))
            }
            Err(Failure::Refused(why)) => {
                tracing::warn!(delivery_id = %d.id, endpoint_id = %d.endpoint_id, reason = %why, "webhook refused by the outbound rule");
                let err = format!("refused: {why}");
                q::mark_dead(&mut tx, d.id, now, None, &err).await?;
                report.dead += 1;
                (
                    "webhook.dead_lettered",
                    json!({"status": null, "error": err, "refused": true}),
                )
            }
            Err(Failure::Retry(code, err)) if d.attempts >= d.max_attempts => {
                q::mark_dead(&mut tx, d.id, now, code.map(i32::from), &err).await?;
                report.dead += 1;
                (
                    "webhook.dead_lettered",
                    json!({"status": code, "error": err}),
                )
            }
            Err(Failure::Retry(code, err)) => {
                let next = now + backoff(d.attempts);
                q::schedule_retry(&mut tx, d.id, next, code.map(i32::from), &err).await?;
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
