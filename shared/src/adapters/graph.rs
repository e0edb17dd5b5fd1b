//! Microsoft 365 calendars through Microsoft Graph, and the OAuth 2.0 flow (authorization
//! code with PKCE) that connects one. The sibling of [`super::google`], without storage:
//! tokens are arguments and results, the caller seals and keeps them.
//!
//! - **OAuth**: [`pkce`] makes the verifier and its S256 challenge, [`authorize_url`] the
//!   consent page (`prompt=select_account`, so a shared browser does not silently connect
//!   the wrong account); [`GraphClient::exchange_code`] redeems the code with the verifier,
//!   [`GraphClient::refresh`] renews the access token. A token endpoint that refuses the
//!   grant (`invalid_grant`: consent revoked, password changed, refresh token expired) is
//!   [`CalendarError::Auth`], which the caller escalates to the admin.
//! - **Events**: a create carries a `transactionId` derived from the booking id, so a
//!   create retried after a lost answer returns the event already made instead of a second
//!   one; when the caller knows the event id, the event is patched in place (a reschedule)
//!   and re-created only when it is gone. Every event carries the booking id in a
//!   single-value extended property ([`BOOKING_PROPERTY`]). Deleting a missing event
//!   (404/410) is success.
//! - **Busy time**: `getSchedule` for the mailbox (busy, tentative, out of office and
//!   working elsewhere block; free does not); personal Microsoft accounts do not offer it,
//!   so its refusal (or no mailbox address at all) falls back to `calendarView`, followed
//!   through `@odata.nextLink`, free and cancelled events left out and all-day events
//!   covering their whole days in the calendar's time zone. Every time is asked for in
//!   UTC (`Prefer: outlook.timezone="UTC"`). Any other failure is an error: the caller
//!   fails closed.
//! - **Failures**: 401 and 403 are [`CalendarError::Auth`] ([`GraphClient::with_token`]
//!   refreshes once and retries once); throttling (429, 503) is [`CalendarError::Other`]
//!   with the server's `Retry-After` ([`retry_after`] reads it back); a request past the
//!   HTTP client's timeout is [`CalendarError::Timeout`], an unreachable server
//!   [`CalendarError::Network`].

use std::future::Future;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use crate::config::delivery::{GraphSettings, GRAPH_SCOPES};
use crate::ports::calendar::{BusyRange, CalendarError};
use crate::ports::clock::Clock;

use super::lazy_http::LazyClient;

/// The single-value extended property that marks an event as ours; its value is the
/// booking id. (A fixed property-set GUID of this application, a named string property.)
pub const BOOKING_PROPERTY: &str =
    "String {6b1d3e2a-9c4f-4f0e-8a57-2d6c9e1b7f30} Name gomomoBookingId";

/// Refresh this long before the access token's stated expiry.
const EXPIRY_MARGIN: Duration = Duration::seconds(60);
/// Busy time from `calendarView` is asked for this much wider on each side, so an all-day
/// event (stored in the owner's zone, reported as a bare date) is never missed.
const ALL_DAY_SLACK: Duration = Duration::days(1);
/// The most `calendarView` pages followed for one answer.
const MAX_PAGES: usize = 50;
/// The longest window one `getSchedule` asks about (Exchange refuses long free/busy
/// windows; longer ones are asked in parts).
const SCHEDULE_SPAN: Duration = Duration::days(31);
/// The `availabilityViewInterval` of `getSchedule`, minutes.
const VIEW_INTERVAL_MINUTES: i64 = 15;
const PREFER_UTC: &str = "outlook.timezone=\"UTC\"";

/// A PKCE pair (RFC 7636): the verifier stays with the flow, the challenge goes in the
/// consent URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    /// 43 characters of the unreserved set (256 random bits, base64url).
    pub verifier: String,
    /// `base64url(sha256(verifier))` without padding.
    pub challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

/// A fresh PKCE pair.
pub fn pkce() -> Pkce {
    let verifier = crate::domain::crypto::random_token::<32>();
    let challenge = pkce_challenge(&verifier);
    Pkce {
        verifier,
        challenge,
    }
}

/// The S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether a verifier has the form RFC 7636 requires (43–128 unreserved characters).
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The consent page for one flow: `state` comes back with the code; `challenge` is
/// [`Pkce::challenge`].
pub fn authorize_url(settings: &GraphSettings, state: &str, challenge: &str) -> String {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &settings.client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &settings.redirect_url)
        .append_pair("response_mode", "query")
        .append_pair("scope", &settings.scopes)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("prompt", "select_account")
        .finish();
    format!(
        "{}/{}/oauth2/v2.0/authorize?{q}",
        settings.authority_base_url, settings.tenant
    )
}

/// The `transactionId` of a booking's event: the same for every create of that booking.
pub fn transaction_id(booking: Uuid) -> String {
    format!("gomomo-{}", booking.simple())
}

/// The tokens of one connection.
#[derive(Clone, PartialEq, Eq)]
pub struct GraphTokens {
    pub access_token: String,
    /// Present when `offline_access` was granted. After a refresh it is the token to keep
    /// from then on (the new one when Microsoft sent one, otherwise the one used).
    pub refresh_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The scopes granted, space-separated.
    pub scope: String,
}

impl std::fmt::Debug for GraphTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphTokens")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<set>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// The booking as written to the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphEventWrite {
    pub booking_id: Uuid,
    pub subject: String,
    /// Plain text for the event's body.
    pub body_text: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl GraphEventWrite {
    /// The event of a booking as the calendar port describes it.
    pub fn from_booking(event: &crate::ports::calendar::CalendarEvent) -> Self {
        Self {
            booking_id: event.booking_id,
            subject: event.summary.clone(),
            body_text: format!("Booked with gomomo. Reference {}.", event.reference),
            start: event.start,
            end: event.end,
        }
    }
}

/// An event of ours as the calendar holds it now (to notice one moved or cancelled
/// outside gomomo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenEvent {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    /// Turned into an all-day event (its times are then midnights of bare dates).
    pub all_day: bool,
}

/// The signed-in account (`GET /me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphProfile {
    pub id: String,
    pub display_name: Option<String>,
    /// The Exchange mailbox address; `None` for personal Microsoft accounts.
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
}

impl GraphProfile {
    /// The address `getSchedule` is asked about: the mailbox of a work or school account.
    /// `None` (personal accounts) means busy time is read from `calendarView`.
    pub fn schedule_address(&self) -> Option<&str> {
        self.mail.as_deref().filter(|m| m.contains('@'))
    }
}

/// Where a connection's tokens live (the caller's encrypted storage).
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored tokens; `None` when nothing is connected.
    async fn load(&self) -> Result<Option<GraphTokens>, CalendarError>;
    /// Keeps refreshed tokens (the refresh token included: Microsoft may rotate it).
    async fn save(&self, tokens: &GraphTokens) -> Result<(), CalendarError>;
}

/// The `Retry-After` a throttled Graph answer carried, if the error is one.
pub fn retry_after(err: &CalendarError) -> Option<StdDuration> {
    let CalendarError::Other(msg) = err else {
        return None;
    };
    let rest = &msg[msg.find("[retry-after ")? + "[retry-after ".len()..];
    let secs = rest.get(..rest.find("s]")?)?;
    secs.parse().ok().map(StdDuration::from_secs)
}

#[derive(Clone)]
enum Http {
    Ready(reqwest::Client),
    Lazy(LazyClient),
}

/// The Graph client of one app registration (shared by every connection).
#[derive(Clone)]
pub struct GraphClient {
    http: Http,
    settings: GraphSettings,
    clock: Clock,
}

/// One answer, read whole.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn error_code(&self) -> &str {
        self.body
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The error this answer means (called for non-success answers).
    fn error(&self, what: &str) -> CalendarError {
        if matches!(self.status, 401 | 403) {
            tracing::warn!(
                status = self.status,
                code = self.error_code(),
                what,
                "graph refused the token"
            );
            return CalendarError::Auth;
        }
        let message = self
            .body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut text = format!(
            "graph {what}: {} {}: {message}",
            self.status,
            self.error_code()
        );
        if let Some(secs) = self.retry_after {
            text.push_str(&format!(" [retry-after {secs}s]"));
        }
        CalendarError::Other(text)
    }
}

fn transport_error(e: reqwest::Error) -> CalendarError {
    if e.is_timeout() {
        CalendarError::Timeout
    } else {
        CalendarError::Network
    }
}

/// A path segment, percent-encoded (event ids are opaque strings).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn graph_time(t: DateTime<Utc>) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"})
}

fn naive(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// A Graph `dateTimeTimeZone` as an instant (UTC, or an IANA zone; Windows zone names are
/// not expected, every request asks for UTC).
fn instant(v: &Value) -> Option<DateTime<Utc>> {
    let local = naive(v.get("dateTime")?.as_str()?)?;
    let zone = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
    match zone {
        "UTC" | "Etc/UTC" | "Etc/GMT" | "GMT" | "tzone://Microsoft/Utc" => Some(local.and_utc()),
        other => Tz::from_str(other)
            .ok()?
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// The first instant of `date` in `zone` (a midnight skipped by a DST change starts the
/// day at the first hour that exists).
fn day_start(zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    (0..3).find_map(|h| {
        zone.from_local_datetime(&date.and_hms_opt(h, 0, 0)?)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// Ranges clipped to `[from, to)`, sorted, overlapping and touching ones merged.
fn normalize(mut ranges: Vec<BusyRange>, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<BusyRange> {
    ranges.retain(|r| r.end > from && r.start < to && r.end > r.start);
    for r in &mut ranges {
        r.start = r.start.max(from);
        r.end = r.end.min(to);
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<BusyRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// The busy ranges of one `scheduleInformation` (no error in it): its schedule items (all
/// but free), or, when only the merged view came back, its non-free intervals counted from
/// `from`.
fn schedule_ranges(info: &Value, from: DateTime<Utc>) -> Result<Vec<BusyRange>, CalendarError> {
    let malformed = || CalendarError::Other("getSchedule: a malformed schedule item".into());
    let mut ranges = Vec::new();
    if let Some(items) = info.get("scheduleItems").and_then(Value::as_array) {
        for item in items {
            let status = item
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("busy")
                .to_ascii_lowercase();
            if status == "free" {
                continue;
            }
            let start = item.get("start").and_then(instant).ok_or_else(malformed)?;
            let end = item.get("end").and_then(instant).ok_or_else(malformed)?;
            if end > start {
                ranges.push(BusyRange { start, end });
            }
        }
    } else if let Some(view) = info.get("availabilityView").and_then(Value::as_str) {
        // Only the merged view: one digit per interval, 0 = free.
        let step = Duration::minutes(VIEW_INTERVAL_MINUTES);
        for (i, c) in view.chars().enumerate() {
            if c != '0' {
                let start = from + step * i as i32;
                ranges.push(BusyRange {
                    start,
                    end: start + step,
                });
            }
        }
    } else {
        return Err(CalendarError::Other(
            "getSchedule: neither schedule items nor an availability view".into(),
        ));
    }
    Ok(ranges)
}

impl GraphClient {
    /// A client on `http` (its timeout bounds every call).
    pub fn new(http: reqwest::Client, settings: GraphSettings) -> Self {
        Self {
            http: Http::Ready(http),
            settings,
            clock: Clock::system(),
        }
    }

    /// A client whose HTTP client is built on first use (see [`LazyClient`]).
    pub fn lazy(http: LazyClient, settings: GraphSettings) -> Self {
        Self {
            http: Http::Lazy(http),
            settings,
            clock: Clock::system(),
        }
    }

    /// Token expiry is computed and checked on `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.settings
    }

    fn http(&self) -> Result<&reqwest::Client, CalendarError> {
        match &self.http {
            Http::Ready(c) => Ok(c),
            Http::Lazy(l) => l
                .get()
                .ok_or_else(|| CalendarError::Other("the HTTP client cannot be built".into())),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.graph_base_url)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Answer, CalendarError> {
        let res = req.send().await.map_err(transport_error)?;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = res.bytes().await.map_err(transport_error)?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// An authorized Graph request, every time in UTC.
    fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &str,
    ) -> Result<reqwest::RequestBuilder, CalendarError> {
        Ok(self
            .http()?
            .request(method, url)
            .bearer_auth(token)
            .header("Prefer", PREFER_UTC))
    }

    // ---- OAuth ----------------------------------------------------------------------

    async fn token_request(
        &self,
        params: &[(&str, &str)],
        keep_refresh: Option<&str>,
    ) -> Result<GraphTokens, CalendarError> {
        let body = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("client_id", &self.settings.client_id);
            if let Some(secret) = &self.settings.client_secret {
                form.append_pair("client_secret", secret);
            }
            form.append_pair("scope", &self.settings.scopes);
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.settings.authority_base_url, self.settings.tenant
        );
        let answer = self
            .send(
                self.http()?
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await?;
        if !answer.ok() {
            let error = answer
                .body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("");
            let codes = answer
                .body
                .get("error_codes")
                .cloned()
                .unwrap_or(Value::Null);
            tracing::warn!(status = answer.status, error, %codes, "microsoft token endpoint refused");
            return Err(match error {
                "invalid_grant"
                | "interaction_required"
                | "consent_required"
                | "invalid_client"
                | "unauthorized_client"
                | "invalid_scope" => CalendarError::Auth,
                _ if answer.status == 401 => CalendarError::Auth,
                _ => {
                    let mut text = format!("microsoft token endpoint: {} {error}", answer.status);
                    if let Some(secs) = answer.retry_after {
                        text.push_str(&format!(" [retry-after {secs}s]"));
                    }
                    CalendarError::Other(text)
                }
            });
        }
        let access_token = answer
            .body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| CalendarError::Other("token endpoint: no access_token".into()))?
            .to_string();
        let expires_in = answer
            .body
            .get("expires_in")
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(3600);
        let refresh_token = answer
            .body
            .get("refresh_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .or_else(|| keep_refresh.map(str::to_string));
        Ok(GraphTokens {
            access_token,
            refresh_token,
            expires_at: self.clock.now() + Duration::seconds(expires_in),
            scope: answer
                .body
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Redeems the code of the callback with the flow's PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
    ) -> Result<GraphTokens, CalendarError> {
        self.token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.settings.redirect_url),
                ("code_verifier", verifier),
            ],
            None,
        )
        .await
    }

    /// A new access token. A refused grant (revoked or expired consent) is
    /// [`CalendarError::Auth`]. The result's refresh token is the one to keep.
    pub async fn refresh(&self, refresh_token: &str) -> Result<GraphTokens, CalendarError> {
        self.token_request(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            Some(refresh_token),
        )
        .await
    }

    /// Runs `op` with a valid access token from `store`: refreshed (and saved) when it
    /// expires within a minute, and once more after `op` answers [`CalendarError::Auth`],
    /// `op` then being retried once. Nothing connected is an error.
    pub async fn with_token<T, F, Fut>(
        &self,
        store: &dyn TokenStore,
        op: F,
    ) -> Result<T, CalendarError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, CalendarError>>,
    {
        let tokens = store
            .load()
            .await?
            .ok_or_else(|| CalendarError::Other("no Microsoft calendar connected".into()))?;
        let (tokens, refreshed) = if tokens.expires_at - EXPIRY_MARGIN <= self.clock.now() {
            (self.refresh_into(store, &tokens).await?, true)
        } else {
            (tokens, false)
        };
        match op(tokens.access_token.clone()).await {
            Err(CalendarError::Auth) if !refreshed => {
                let fresh = self.refresh_into(store, &tokens).await?;
                op(fresh.access_token).await
            }
            other => other,
        }
    }

    async fn refresh_into(
        &self,
        store: &dyn TokenStore,
        tokens: &GraphTokens,
    ) -> Result<GraphTokens, CalendarError> {
        let refresh = tokens.refresh_token.as_deref().ok_or(CalendarError::Auth)?;
        let fresh = self.refresh(refresh).await?;
        store.save(&fresh).await?;
        tracing::info!("microsoft access token refreshed");
        Ok(fresh)
    }

    /// The signed-in account (its mailbox address is what `getSchedule` asks about).
    pub async fn me(&self, token: &str) -> Result<GraphProfile, CalendarError> {
        let url = self.url("/me?$select=id,displayName,mail,userPrincipalName");
        let answer = self
            .send(self.request(reqwest::Method::GET, &url, token)?)
            .await?;
        if !answer.ok() {
            return Err(answer.error("me"));
        }
        let s = |k: &str| {
            answer
                .body
                .get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(GraphProfile {
            id: s("id").ok_or_else(|| CalendarError::Other("graph me: no id".into()))?,
            display_name: s("displayName"),
            mail: s("mail"),
            user_principal_name: s("userPrincipalName"),
        })
    }

    // ---- Events ---------------------------------------------------------------------

    fn event_body(event: &GraphEventWrite) -> Value {
        json!({
            "subject": event.subject,
            "body": {"contentType": "text", "content": event.body_text},
            "start": graph_time(event.start),
            "end": graph_time(event.end),
            "showAs": "busy",
            "singleValueExtendedProperties": [
                {"id": BOOKING_PROPERTY, "value": event.booking_id.to_string()}
            ],
        })
    }

    fn event_url(&self, id: &str) -> String {
        self.url(&format!("/me/events/{}", segment(id)))
    }

    async fn patch(
        &self,
        token: &str,
        id: &str,
        body: &Value,
    ) -> Result<Option<String>, CalendarError> {
        let answer = self
            .send(
                self.request(reqwest::Method::PATCH, &self.event_url(id), token)?
                    .json(body),
            )
            .await?;
        match answer.status {
            200..=299 => Ok(Some(
                answer
                    .body
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_string(),
            )),
            404 | 410 => Ok(None),
            _ => Err(answer.error("update event")),
        }
    }

    /// Writes the booking's event and returns its id: patched in place when `known_id`
    /// names one that still exists, created otherwise (a retried create finds the event
    /// made by the first through the booking's `transactionId`, and brings it up to date).
    pub async fn upsert_event(
        &self,
        token: &str,
        known_id: Option<&str>,
        event: &GraphEventWrite,
    ) -> Result<String, CalendarError> {
        let body = Self::event_body(event);
        if let Some(id) = known_id {
            if let Some(id) = self.patch(token, id, &body).await? {
                return Ok(id);
            }
        }
        let mut create = body.clone();
        create["transactionId"] = Value::String(transaction_id(event.booking_id));
        let answer = self
            .send(
                self.request(reqwest::Method::POST, &self.url("/me/events"), token)?
                    .json(&create),
            )
            .await?;
        if !answer.ok() {
            return Err(answer.error("create event"));
        }
        let id = answer
            .body
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CalendarError::Other("graph create event: no id".into()))?
            .to_string();
        let current = (
            answer.body.get("start").and_then(instant),
            answer.body.get("end").and_then(instant),
            answer.body.get("subject").and_then(Value::as_str),
        );
        if current
            != (
                Some(event.start),
                Some(event.end),
                Some(event.subject.as_str()),
            )
        {
            // The answer is an event made by an earlier create of this booking.
            self.patch(token, &id, &body).await?.ok_or_else(|| {
                CalendarError::Other(
                    "graph create event: the event of this transaction was deleted".into(),
                )
            })?;
        }
        Ok(id)
    }

    /// Deletes the event; one already gone is success.
    pub async fn delete_event(&self, token: &str, id: &str) -> Result<(), CalendarError> {
        let answer = self
            .send(self.request(reqwest::Method::DELETE, &self.event_url(id), token)?)
            .await?;
        match answer.status {
            200..=299 | 404 | 410 => Ok(()),
            _ => Err(answer.error("delete event")),
        }
    }

    /// The event as the calendar holds it; `None` when it was deleted.
    pub async fn get_event(
        &self,
        token: &str,
        id: &str,
    ) -> Result<Option<SeenEvent>, CalendarError> {
        let url = format!(
            "{}?$select=start,end,isCancelled,isAllDay",
            self.event_url(id)
        );
        let answer = self
            .send(self.request(reqwest::Method::GET, &url, token)?)
            .await?;
        match answer.status {
            200..=299 => {}
            404 | 410 => return Ok(None),
            _ => return Err(answer.error("get event")),
        }
        let b = &answer.body;
        match (
            b.get("start").and_then(instant),
            b.get("end").and_then(instant),
        ) {
            (Some(start), Some(end)) => Ok(Some(SeenEvent {
                start,
                end,
                cancelled: b
                    .get("isCancelled")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                all_day: b.get("isAllDay").and_then(Value::as_bool).unwrap_or(false),
            })),
            _ => Err(CalendarError::Other(
                "graph get event: no start or end".into(),
            )),
        }
    }

    // ---- Busy time ------------------------------------------------------------------

    /// Busy ranges of the connected calendar within `[from, to)`, clipped, sorted and
    /// merged. `mailbox` is the account's address for `getSchedule`; without one, or when
    /// `getSchedule` is refused (personal accounts), `calendarView` is read, its all-day
    /// events covering whole days in `zone` (the calendar owner's time zone). Any other
    /// failure is an error (the caller fails closed).
    pub async fn busy(
        &self,
        token: &str,
        mailbox: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        if to <= from {
            return Ok(Vec::new());
        }
        if let Some(address) = mailbox {
            let mut ranges = Vec::new();
            let mut start = from;
            while start < to {
                let end = (start + SCHEDULE_SPAN).min(to);
                match self.schedule(token, address, start, end).await? {
                    Some(part) => ranges.extend(part),
                    None => break,
                }
                start = end;
            }
            if start >= to {
                return Ok(normalize(ranges, from, to));
            }
        }
        let ranges = self.calendar_view(token, from, to, zone).await?;
        Ok(normalize(ranges, from, to))
    }

    /// `getSchedule` for one mailbox; `Ok(None)` when the mailbox cannot be asked that way
    /// (the API refused, or it answered with an error for the mailbox).
    async fn schedule(
        &self,
        token: &str,
        address: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Option<Vec<BusyRange>>, CalendarError> {
        let body = json!({
            "schedules": [address],
            "startTime": graph_time(from),
            "endTime": graph_time(to),
            "availabilityViewInterval": VIEW_INTERVAL_MINUTES,
        });
        let answer = self
            .send(
                self.request(
                    reqwest::Method::POST,
                    &self.url("/me/calendar/getSchedule"),
                    token,
                )?
                .json(&body),
            )
            .await?;
        match answer.status {
            200..=299 => {}
            // Not offered for this account (personal Microsoft accounts): read the
            // calendar itself. A token problem shows again there.
            400 | 403 | 404 | 405 | 501 => {
                tracing::info!(
                    status = answer.status,
                    code = answer.error_code(),
                    "getSchedule refused, reading calendarView"
                );
                return Ok(None);
            }
            _ => return Err(answer.error("getSchedule")),
        }
        let info = answer
            .body
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| {
                v.iter()
                    .find(|s| {
                        s.get("scheduleId")
                            .and_then(Value::as_str)
                            .is_some_and(|id| id.eq_ignore_ascii_case(address))
                    })
                    .or_else(|| v.first())
            })
            .ok_or_else(|| CalendarError::Other("getSchedule: no schedule in the answer".into()))?;
        if info.get("error").is_some_and(|e| !e.is_null()) {
            tracing::info!(error = %info["error"], "getSchedule could not read the mailbox, reading calendarView");
            return Ok(None);
        }
        schedule_ranges(info, from).map(Some)
    }

    /// The events of `[from, to)` (with a day of slack each side) through every page,
    /// free and cancelled ones left out.
    async fn calendar_view(
        &self,
        token: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("startDateTime", &fmt(from - ALL_DAY_SLACK))
            .append_pair("endDateTime", &fmt(to + ALL_DAY_SLACK))
            .append_pair("$select", "start,end,showAs,isAllDay,isCancelled")
            .append_pair("$top", "100")
            .finish();
        let mut url = self.url(&format!("/me/calendarView?{query}"));
        let base = format!("{}/", self.settings.graph_base_url);
        let malformed = || CalendarError::Other("calendarView: a malformed event".into());
        let mut ranges = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self
                .send(self.request(reqwest::Method::GET, &url, token)?)
                .await?;
            if !answer.ok() {
                return Err(answer.error("calendarView"));
            }
            let events = answer
                .body
                .get("value")
                .and_then(Value::as_array)
                .ok_or_else(|| CalendarError::Other("calendarView: no value".into()))?;
            for ev in events {
                let flag = |k: &str| ev.get(k).and_then(Value::as_bool).unwrap_or(false);
                let show_as = ev.get("showAs").and_then(Value::as_str).unwrap_or("busy");
                if flag("isCancelled") || show_as.eq_ignore_ascii_case("free") {
                    continue;
                }
                if flag("isAllDay") {
                    // Bare dates, whatever the time zone asked for: whole days of the
                    // owner's zone.
                    let date = |k: &str| {
                        ev.get(k)
                            .and_then(|v| v.get("dateTime"))
                            .and_then(Value::as_str)
                            .and_then(naive)
                            .map(|n| n.date())
                    };
                    let (Some(first), Some(last)) = (date("start"), date("end")) else {
                        return Err(malformed());
                    };
                    let last = last.max(first.succ_opt().ok_or_else(malformed)?);
                    let start = day_start(zone, first).ok_or_else(malformed)?;
                    let end = day_start(zone, last).ok_or_else(malformed)?;
                    ranges.push(BusyRange { start, end });
                } else {
                    let start = ev.get("start").and_then(instant).ok_or_else(malformed)?;
                    let end = ev.get("end").and_then(instant).ok_or_else(malformed)?;
                    ranges.push(BusyRange { start, end });
                }
            }
            match answer.body.get("@odata.nextLink").and_then(Value::as_str) {
                None => return Ok(ranges),
                // The bearer token goes to the Graph base only.
                Some(next) if next.starts_with(&base) => url = next.to_string(),
                Some(_) => {
                    return Err(CalendarError::Other(
                        "calendarView: a next page outside the Graph base URL".into(),
                    ))
                }
            }
        }
        Err(CalendarError::Other(
            "calendarView: too many pages for one window".into(),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn settings() -> GraphSettings {
        GraphSettings {
            client_id: "11112222-bbbb-3333-cccc-4444dddd5555".into(),
            client_secret: Some("s".into()),
            tenant: "common".into(),
            authority_base_url: "https://login.microsoftonline.com".into(),
            graph_base_url: "https://graph.microsoft.com/v1.0".into(),
            redirect_url: "https://book.example.com/api/oauth/microsoft/callback".into(),
            scopes: GRAPH_SCOPES.into(),
        }
    }

    #[test]
    fn pkce_follows_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let a = pkce();
        assert!(valid_verifier(&a.verifier), "{}", a.verifier);
        assert_eq!(a.challenge, pkce_challenge(&a.verifier));
        assert_eq!(a.challenge.len(), 43);
        assert!(!a.challenge.contains('='));
        assert_ne!(a.verifier, pkce().verifier);
        assert!(!format!("{a:?}").contains(&a.verifier));
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn the_consent_url() {
        let url = authorize_url(
            &settings(),
            "st&te",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        );
        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(
            base,
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
        );
        let q: std::collections::HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(q["client_id"], "11112222-bbbb-3333-cccc-4444dddd5555");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["response_mode"], "query");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["prompt"], "select_account");
        assert_eq!(q["state"], "st&te");
        assert_eq!(q["scope"], "offline_access Calendars.ReadWrite User.Read");
        assert_eq!(
            q["redirect_uri"],
            "https://book.example.com/api/oauth/microsoft/callback"
        );
        assert!(!q.contains_key("client_secret"));
    }

    #[test]
    fn transaction_ids_are_stable_per_booking() {
        let b = Uuid::from_u128(0x1234);
        assert_eq!(transaction_id(b), transaction_id(b));
        assert_ne!(transaction_id(b), transaction_id(Uuid::from_u128(0x1235)));
    }

    #[test]
    fn a_booking_becomes_an_event() {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).unwrap();
        let ev = GraphEventWrite::from_booking(&crate::ports::calendar::CalendarEvent {
            resource_id: Uuid::nil(),
            tenant_id: Uuid::from_u128(1),
            booking_id: Uuid::from_u128(2),
            reference: "GM-7Q2K".into(),
            summary: "Consultation".into(),
            start,
            end: start + Duration::minutes(30),
        });
        assert_eq!(ev.booking_id, Uuid::from_u128(2));
        assert_eq!(ev.subject, "Consultation");
        assert!(ev.body_text.contains("GM-7Q2K"));
        let body = GraphClient::event_body(&ev);
        assert_eq!(body["start"]["dateTime"], "2026-12-07T15:00:00");
        assert_eq!(body["end"]["timeZone"], "UTC");
        assert_eq!(
            body["singleValueExtendedProperties"][0]["id"],
            BOOKING_PROPERTY
        );
        assert_eq!(
            body["singleValueExtendedProperties"][0]["value"],
            Uuid::from_u128(2).to_string()
        );
        assert!(body.get("transactionId").is_none());
    }

    #[test]
    fn schedule_items_and_the_merged_view() {
        let from = Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap();
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap();
        let item = |status: &str, a: &str, b: &str| {
            json!({"status": status,
                   "start": {"dateTime": format!("2026-12-07T{a}:00.0000000"), "timeZone": "UTC"},
                   "end": {"dateTime": format!("2026-12-07T{b}:00.0000000"), "timeZone": "UTC"}})
        };
        let info = json!({"scheduleItems": [
            item("busy", "15:00", "16:00"), item("Tentative", "16:00", "16:30"),
            item("free", "17:00", "18:00"), item("oof", "18:00", "19:00"),
            item("workingElsewhere", "19:00", "19:15"),
        ]});
        let got: Vec<_> = schedule_ranges(&info, from)
            .unwrap()
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect();
        assert_eq!(
            got,
            vec![
                (at(15, 0), at(16, 0)),
                (at(16, 0), at(16, 30)),
                (at(18, 0), at(19, 0)),
                (at(19, 0), at(19, 15))
            ]
        );
        // Only the merged view (15-minute digits from `from`): 0 free, 1 tentative, 2 busy,
        // 3 out of office.
        let info = json!({"availabilityView": "0021003"});
        let got: Vec<_> = schedule_ranges(&info, from)
            .unwrap()
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect();
        assert_eq!(
            got,
            vec![
                (at(14, 30), at(14, 45)),
                (at(14, 45), at(15, 0)),
                (at(15, 30), at(15, 45))
            ]
        );
        assert!(schedule_ranges(&json!({}), from).is_err());
        assert!(schedule_ranges(
            &json!({"scheduleItems": [{"status": "busy", "start": {"dateTime": "soon"}}]}),
            from
        )
        .is_err());
    }

    #[test]
    fn graph_times() {
        let v = json!({"dateTime": "2019-03-15T12:00:00.0000000", "timeZone": "UTC"});
        assert_eq!(
            instant(&v).unwrap(),
            Utc.with_ymd_and_hms(2019, 3, 15, 12, 0, 0).unwrap()
        );
        let v = json!({"dateTime": "2019-03-15T12:00:00", "timeZone": "America/New_York"});
        assert_eq!(
            instant(&v).unwrap(),
            Utc.with_ymd_and_hms(2019, 3, 15, 16, 0, 0).unwrap()
        );
        assert!(instant(&json!({"dateTime": "x", "timeZone": "UTC"})).is_none());
        assert!(instant(
            &json!({"dateTime": "2019-03-15T12:00:00", "timeZone": "Pacific Standard Time"})
        )
        .is_none());
        assert_eq!(
            graph_time(Utc.with_ymd_and_hms(2019, 3, 15, 9, 5, 0).unwrap())["dateTime"],
            "2019-03-15T09:05:00"
        );
    }

    #[test]
    fn ranges_are_clipped_and_merged() {
        let t = |h| Utc.with_ymd_and_hms(2026, 1, 5, h, 0, 0).unwrap();
        let r = |a, b| BusyRange {
            start: t(a),
            end: t(b),
        };
        assert_eq!(
            normalize(
                vec![r(12, 14), r(7, 9), r(13, 15), r(15, 16), r(20, 23), r(1, 2)],
                t(8),
                t(22)
            ),
            vec![r(8, 9), r(12, 16), r(20, 22)]
        );
    }

    #[test]
    fn retry_after_is_read_back() {
        let e = CalendarError::Other(
            "graph calendarView: 429 TooManyRequests: slow down [retry-after 17s]".into(),
        );
        assert_eq!(retry_after(&e), Some(StdDuration::from_secs(17)));
        assert_eq!(retry_after(&CalendarError::Other("graph 500".into())), None);
        assert_eq!(retry_after(&CalendarError::Timeout), None);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("AAMk/AG+I1="), "AAMk%2FAG%2BI1=");
    }
}
