//! Google Calendar v3 for the calendar port, and the OAuth 2.0 flow that connects a
//! resource's calendar (or every resource's of a tenant, with one consent).
//!
//! - **OAuth**: `connect` mints a one-time `state` (Postgres, 10 minutes, bound to the tenant
//!   and the resource)
//!   and the consent URL (offline access, `calendar.events` + `calendar.freebusy`); the
//!   callback consumes the state and exchanges the code at the token endpoint. Tokens are
//!   stored encrypted (AES-256-GCM, [`SecretBox`]), bound to the tenant by the AAD.
//! - **Refresh**: a token that expires within a minute is refreshed before the call; a 401
//!   answer refreshes once and retries once.
//! - **Events**: the event id is derived from the booking id (`gomomo<32 hex>`, inside
//!   Google's base32hex alphabet), so a retried insert cannot create a duplicate: 409 means
//!   the event exists, and it is then updated in place (a reschedule) — success either way.
//!   Deleting a missing event (404/410) is success.
//! - **Free/busy**: `freeBusy` for a connection's calendar, cached briefly in process (a
//!   cache only: losing it costs one request). Any failure is an error — the caller fails
//!   closed for that connection's resources.
//!
//! Calls go through one resource's connection (`calendar_connections`); the router in
//! [`super::calendars`] picks it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::delivery::GoogleSettings;
use crate::db::{audit, calendars, oauth};
use crate::domain::crypto::SecretBox;
use crate::ports::calendar::{BusyRange, CalendarError, CalendarEvent};
use crate::ports::clock::Clock;

use super::lazy_http::LazyClient;

pub const SCOPES: &str = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy";
const STATE_TTL: Duration = Duration::minutes(10);
/// A started OAuth flow.
pub struct Started {
    /// The consent page, with the state in its query.
    pub authorization_url: String,
    /// The one-time state (a bearer secret until the callback spends it).
    pub state: String,
}

/// Refresh this long before the access token's stated expiry.
const EXPIRY_MARGIN: Duration = Duration::seconds(60);

/// The Google event id of a booking (base32hex: a–v, 0–9; 5–1024 characters).
pub fn event_id(booking: Uuid) -> String {
    format!("gomomo{}", booking.simple())
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("Google Calendar is not configured (GOOGLE_CLIENT_ID)")]
    NotConfigured,
    #[error("the OAuth state is unknown, used or expired")]
    BadState,
    #[error("Google refused the authorization: {0}")]
    Refused(String),
    #[error("Google could not be reached: {0}")]
    Unreachable(String),
    #[error("token storage: {0}")]
    Crypto(#[from] crate::domain::crypto::CryptoError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    scope: Option<String>,
}

/// The OAuth client (consent URL, code exchange, refresh) and token storage.
#[derive(Clone)]
pub struct GoogleOAuth {
    settings: GoogleSettings,
    http: LazyClient,
    secrets: SecretBox,
    pool: PgPool,
    clock: Clock,
}

fn ctx_access(t: Uuid) -> String {
    format!("google:access:{t}")
}
fn ctx_refresh(t: Uuid) -> String {
    format!("google:refresh:{t}")
}

impl GoogleOAuth {
    pub fn new(
        pool: PgPool,
        settings: GoogleSettings,
        secrets: SecretBox,
        clock: Clock,
        timeout: StdDuration,
    ) -> Self {
        let http = LazyClient::new("google", move || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
        });
        Self {
            settings,
            http,
            secrets,
            pool,
            clock,
        }
    }

    pub fn settings(&self) -> &GoogleSettings {
        &self.settings
    }

    /// Starts the flow: a one-time state for `tenant` and the consent URL to send them to.
    /// The calendar becomes `resource`'s, or with `None` every resource's of the tenant.
    pub async fn connect_url(
        &self,
        tenant: Uuid,
        resource: Option<Uuid>,
    ) -> Result<String, OAuthError> {
        Ok(self.start(tenant, resource).await?.authorization_url)
    }

    /// [`GoogleOAuth::connect_url`] with the state it minted, for the caller to bind to the
    /// browser that started the flow.
    pub async fn start(&self, tenant: Uuid, resource: Option<Uuid>) -> Result<Started, OAuthError> {
        let state = crate::domain::crypto::random_token::<32>();
        let now = self.clock.now();
        oauth::insert_state(
            &self.pool,
            &state,
            "google",
            tenant,
            resource,
            None,
            now,
            now + STATE_TTL,
        )
        .await?;
        let q = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_url)
            .append_pair("response_type", "code")
            .append_pair("scope", SCOPES)
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("include_granted_scopes", "true")
            .append_pair("state", &state)
            .finish();
        Ok(Started {
            authorization_url: format!("{}?{q}", self.settings.auth_url),
            state,
        })
    }

    /// The callback: consumes the state, exchanges the code, stores the tokens for the
    /// resource the flow began for (or every resource of the tenant). Returns the tenant.
    pub async fn callback(&self, state: &str, code: &str) -> Result<Uuid, OAuthError> {
        let now = self.clock.now();
        let started = oauth::consume_state(&self.pool, state, "google", now)
            .await?
            .ok_or(OAuthError::BadState)?;
        let tenant = started.tenant_id;
        let tokens = self
            .token_request(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.settings.redirect_url),
            ])
            .await?;
        let refresh = tokens
            .refresh_token
            .as_deref()
            .map(|r| self.secrets.seal_str(&ctx_refresh(tenant), r))
            .transpose()?;
        let access = self
            .secrets
            .seal_str(&ctx_access(tenant), &tokens.access_token)?;
        let expires = now + Duration::seconds(tokens.expires_in.unwrap_or(3600));
        let mut tx = self.pool.begin().await?;
        // One consent for the whole tenant fills the resources that have no calendar or a
        // Google one; a resource connected to another provider keeps it.
        let resources = match started.resource_id {
            Some(r) => vec![r],
            None => {
                let all: Vec<Uuid> = crate::db::tenants::list_resources(&mut *tx, tenant)
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                let other: Vec<Uuid> = calendars::for_resources(&mut *tx, tenant, &all)
                    .await?
                    .into_iter()
                    .filter(|c| c.provider != "google")
                    .map(|c| c.resource_id)
                    .collect();
                all.into_iter().filter(|r| !other.contains(r)).collect()
            }
        };
        for resource in &resources {
            calendars::save_oauth(
                &mut *tx,
                tenant,
                *resource,
                "google",
                &access,
                refresh.as_deref(),
                expires,
                tokens.scope.as_deref().unwrap_or_default(),
                None,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant),
                event_type: "calendar.connected",
                entity_type: "calendar_connection",
                entity_id: Some(started.resource_id.unwrap_or(tenant).to_string()),
                actor: crate::db::audit::ADMIN,
                payload: json!({"provider": "google", "resource_ids": resources}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    async fn token_request(&self, params: &[(&str, &str)]) -> Result<TokenResponse, OAuthError> {
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("client_id", &self.settings.client_id)
                .append_pair("client_secret", &self.settings.client_secret);
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let http = self
            .http
            .get()
            .ok_or_else(|| OAuthError::Unreachable("the HTTP client cannot be built".into()))?;
        let res = http
            .post(format!("{}/token", self.settings.oauth_base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| OAuthError::Unreachable(e.to_string()))?;
        let status = res.status();
        let body: Value = res
            .json()
            .await
            .map_err(|e| OAuthError::Unreachable(e.to_string()))?;
        if !status.is_success() {
            return Err(OAuthError::Refused(
                body.get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_string(),
            ));
        }
        serde_json::from_value(body).map_err(|e| OAuthError::Unreachable(e.to_string()))
    }

    /// A valid access token of the connection (refreshed when it is about to expire or
    /// when `force`). Tokens are sealed for the tenant (a tenant-wide consent is shared by its
    /// resources' connections).
    async fn access_token(
        &self,
        conn: &calendars::ConnectionRow,
        force: bool,
    ) -> Result<String, CalendarError> {
        let tenant = conn.tenant_id;
        let now = self.clock.now();
        if let (false, Some(access), Some(expires)) =
            (force, &conn.access_token_enc, conn.expires_at)
        {
            if expires - EXPIRY_MARGIN > now {
                return self
                    .secrets
                    .open_str(&ctx_access(tenant), access)
                    .map_err(|_| CalendarError::Auth);
            }
        }
        let refresh = conn
            .refresh_token_enc
            .as_ref()
            .and_then(|r| self.secrets.open_str(&ctx_refresh(tenant), r).ok())
            .ok_or(CalendarError::Auth)?;
        let tokens = match self
            .token_request(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
            .await
        {
            Ok(t) => t,
            Err(OAuthError::Refused(_)) => return Err(CalendarError::Auth),
            Err(e) => return Err(CalendarError::Other(e.to_string())),
        };
        let sealed = self
            .secrets
            .seal_str(&ctx_access(tenant), &tokens.access_token)
            .map_err(|e| CalendarError::Other(e.to_string()))?;
        calendars::update_tokens(
            &self.pool,
            conn.id,
            &sealed,
            None,
            now + Duration::seconds(tokens.expires_in.unwrap_or(3600)),
        )
        .await
        .map_err(|e| CalendarError::Other(format!("database: {e}")))?;
        tracing::info!(tenant_id = %tenant, connection_id = %conn.id, "google access token refreshed");
        Ok(tokens.access_token)
    }
}

/// The Google Calendar adapter: calls on one resource's connection (the router in
/// [`super::calendars`] picks it).
#[derive(Clone)]
pub struct GoogleCalendar {
    oauth: GoogleOAuth,
    cache_ttl: StdDuration,
    #[allow(clippy::type_complexity)]
    cache: Arc<Mutex<HashMap<(Uuid, i64, i64), (Instant, Vec<BusyRange>)>>>,
}

enum Call<'a> {
    Get(&'a str),
    Insert(&'a Value),
    Update(&'a str, &'a Value),
    Delete(&'a str),
    FreeBusy(&'a Value),
}

impl GoogleCalendar {
    pub fn new(oauth: GoogleOAuth, cache_ttl: StdDuration) -> Self {
        Self {
            oauth,
            cache_ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn oauth(&self) -> &GoogleOAuth {
        &self.oauth
    }

    fn calendar_path(&self) -> String {
        format!(
            "{}/calendar/v3/calendars/primary/events",
            self.oauth.settings.api_base_url
        )
    }

    /// One API call with the connection's token; a 401 refreshes the token and retries once.
    async fn call(
        &self,
        conn: &calendars::ConnectionRow,
        call: Call<'_>,
    ) -> Result<(u16, Value), CalendarError> {
        let mut force = false;
        for _ in 0..2 {
            let token = self.oauth.access_token(conn, force).await?;
            let http =
                self.oauth.http.get().ok_or_else(|| {
                    CalendarError::Other("the HTTP client cannot be built".into())
                })?;
            let req = match &call {
                Call::Get(id) => http.get(format!("{}/{id}", self.calendar_path())),
                Call::Insert(body) => http.post(self.calendar_path()).json(body),
                Call::Update(id, body) => http
                    .put(format!("{}/{id}", self.calendar_path()))
                    .json(body),
                Call::Delete(id) => http.delete(format!("{}/{id}", self.calendar_path())),
                Call::FreeBusy(body) => http
                    .post(format!(
                        "{}/calendar/v3/freeBusy",
                        self.oauth.settings.api_base_url
                    ))
                    .json(body),
            };
            let res = req.bearer_auth(&token).send().await.map_err(|e| {
                if e.is_timeout() {
                    CalendarError::Timeout
                } else {
                    CalendarError::Network
                }
            })?;
            let status = res.status().as_u16();
            if status == 401 && !force {
                force = true;
                continue;
            }
            let body: Value = res.json().await.unwrap_or(Value::Null);
            return match status {
                401 | 403 => Err(CalendarError::Auth),
                _ => Ok((status, body)),
            };
        }
        Err(CalendarError::Auth)
    }

    fn event_body(event: &CalendarEvent) -> Value {
        json!({
            "id": event_id(event.booking_id),
            "summary": event.summary,
            "description": format!("Booked with gomomo. Reference {}.", event.reference),
            "start": {"dateTime": event.start.to_rfc3339()},
            "end": {"dateTime": event.end.to_rfc3339()},
            "extendedProperties": {"private": {"gomomo_booking_id": event.booking_id.to_string()}},
        })
    }

    /// Creates the booking's event on the connection's calendar, or updates it in place
    /// (its id derives from the booking id). Returns the event id.
    pub async fn upsert(
        &self,
        conn: &calendars::ConnectionRow,
        event: &CalendarEvent,
    ) -> Result<String, CalendarError> {
        let body = Self::event_body(event);
        let id = event_id(event.booking_id);
        let (status, resp) = self.call(conn, Call::Insert(&body)).await?;
        match status {
            200..=299 => Ok(id),
            // The event exists (a retry, or the booking moved): bring it up to date.
            409 => {
                let (status, resp) = self.call(conn, Call::Update(&id, &body)).await?;
                if (200..300).contains(&status) {
                    Ok(id)
                } else {
                    Err(api_error(status, &resp))
                }
            }
            _ => Err(api_error(status, &resp)),
        }
    }

    /// The booking's event as the calendar has it: `(start, end, cancelled)`, or `None` when
    /// it is gone.
    pub async fn get(
        &self,
        conn: &calendars::ConnectionRow,
        booking: Uuid,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>, bool)>, CalendarError> {
        let id = event_id(booking);
        let (status, resp) = self.call(conn, Call::Get(&id)).await?;
        match status {
            404 | 410 => return Ok(None),
            200..=299 => {}
            _ => return Err(api_error(status, &resp)),
        }
        let time = |k: &str| {
            resp.pointer(&format!("/{k}/dateTime"))
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let cancelled = resp.get("status").and_then(Value::as_str) == Some("cancelled");
        match (time("start"), time("end")) {
            (Some(start), Some(end)) => Ok(Some((start, end, cancelled))),
            // An event made all-day (or otherwise without times): no longer at our time.
            _ => Ok(Some((
                DateTime::<Utc>::MIN_UTC,
                DateTime::<Utc>::MIN_UTC,
                cancelled,
            ))),
        }
    }

    /// Deletes the booking's event; a missing one is success.
    pub async fn delete(
        &self,
        conn: &calendars::ConnectionRow,
        booking: Uuid,
    ) -> Result<(), CalendarError> {
        let id = event_id(booking);
        let (status, resp) = self.call(conn, Call::Delete(&id)).await?;
        match status {
            200..=299 | 404 | 410 => Ok(()),
            _ => Err(api_error(status, &resp)),
        }
    }

    /// The connection's busy ranges within `[from, to)` (`freeBusy` of its primary calendar,
    /// cached briefly). Any failure is an error: the caller fails closed.
    pub async fn busy(
        &self,
        conn: &calendars::ConnectionRow,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        let key = (conn.id, from.timestamp(), to.timestamp());
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, ranges)) = cache.get(&key) {
                if at.elapsed() < self.cache_ttl {
                    return Ok(ranges.clone());
                }
            }
        }
        let body = json!({
            "timeMin": from.to_rfc3339(),
            "timeMax": to.to_rfc3339(),
            "items": [{"id": "primary"}],
        });
        let (status, resp) = self.call(conn, Call::FreeBusy(&body)).await?;
        if !(200..300).contains(&status) {
            return Err(api_error(status, &resp));
        }
        let ranges = parse_free_busy(&resp)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), ranges.clone()));
        }
        Ok(ranges)
    }
}

fn api_error(status: u16, body: &Value) -> CalendarError {
    let msg = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("");
    CalendarError::Other(format!("google {status}: {msg}"))
}

/// The busy ranges of the primary calendar in a `freeBusy` answer; anything malformed or
/// an error reported for the calendar is an error.
fn parse_free_busy(resp: &Value) -> Result<Vec<BusyRange>, CalendarError> {
    let cal = resp
        .pointer("/calendars/primary")
        .ok_or_else(|| CalendarError::Other("freeBusy: no calendar in the answer".into()))?;
    if cal
        .get("errors")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
    {
        return Err(CalendarError::Other(format!("freeBusy: {}", cal["errors"])));
    }
    let mut ranges = Vec::new();
    for b in cal
        .get("busy")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let parse = |k: &str| {
            b.get(k)
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        match (parse("start"), parse("end")) {
            (Some(start), Some(end)) if end > start => ranges.push(BusyRange { start, end }),
            _ => {
                return Err(CalendarError::Other(
                    "freeBusy: a malformed busy range".into(),
                ))
            }
        }
    }
    Ok(ranges)
}
