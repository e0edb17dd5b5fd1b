//! The Google Calendar adapter against a local HTTP server that follows Google's public
//! request/response formats (OAuth 2.0 token endpoint; Calendar v3 events.insert / update /
//! delete and freeBusy): the OAuth flow, tokens encrypted at rest, refresh before expiry and
//! after a 401, a deterministic event id (409 on a retry = success), free/busy removing
//! slots from availability and holds, and a timeout failing closed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use gomomo::adapters::calendars::ConnectedCalendars;
use gomomo::adapters::google::{event_id, GoogleCalendar, GoogleOAuth, OAuthError};
use gomomo::config::delivery::GoogleSettings;
use gomomo::domain::crypto::SecretBox;
use gomomo::domain::{ClientName, Email, SessionId, TenantId};
use gomomo::ports::calendar::{CalendarError, CalendarEvent, CalendarProvider};
use gomomo::services::booking::{BookingError, ClientDetails};
use gomomo::services::{admin, BookingService, Clock};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{ny, CONSULT};
use uuid::Uuid;

#[derive(Default)]
struct Google {
    valid_tokens: HashSet<String>,
    refreshes: usize,
    events: HashMap<String, Value>,
    inserts: usize,
    updates: usize,
    busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    freebusy_delay: Option<StdDuration>,
    freebusy_calls: usize,
}

type G = Arc<Mutex<Google>>;

fn authorized(g: &G, h: &HeaderMap) -> bool {
    let tok = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    g.lock().unwrap().valid_tokens.contains(tok)
}

fn unauthorized() -> (StatusCode, Json<Value>) {
    (
        StatusCode::UNAUTHORIZED,
        Json(
            json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}),
        ),
    )
}

async fn token(State(g): State<G>, body: String) -> (StatusCode, Json<Value>) {
    let f: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if f.get("client_id").map(String::as_str) != Some("cid")
        || f.get("client_secret").map(String::as_str) != Some("csecret")
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    let mut g = g.lock().unwrap();
    match (
        f["grant_type"].as_str(),
        f.get("code"),
        f.get("refresh_token"),
    ) {
        ("authorization_code", Some(c), _) if c == "good-code" => {
            g.valid_tokens.insert("tok-1".into());
            (
                StatusCode::OK,
                Json(
                    json!({"access_token": "tok-1", "expires_in": 3599, "refresh_token": "ref-1",
                            "scope": "https://www.googleapis.com/auth/calendar.events", "token_type": "Bearer"}),
                ),
            )
        }
        ("refresh_token", _, Some(r)) if r == "ref-1" => {
            g.refreshes += 1;
            let t = format!("tok-r{}", g.refreshes);
            g.valid_tokens.insert(t.clone());
            (
                StatusCode::OK,
                Json(json!({"access_token": t, "expires_in": 3599, "token_type": "Bearer"})),
            )
        }
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Bad Request"})),
        ),
    }
}

async fn insert(
    State(g): State<G>,
    h: HeaderMap,
    Json(ev): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&g, &h) {
        return unauthorized();
    }
    let mut g = g.lock().unwrap();
    let id = ev["id"].as_str().unwrap().to_string();
    if g.events.contains_key(&id) {
        return (
            StatusCode::CONFLICT,
            Json(
                json!({"error": {"code": 409, "message": "The requested identifier already exists.", "errors": [{"reason": "duplicate"}]}}),
            ),
        );
    }
    g.inserts += 1;
    g.events.insert(id, ev.clone());
    (StatusCode::OK, Json(ev))
}

async fn update(
    State(g): State<G>,
    Path(id): Path<String>,
    h: HeaderMap,
    Json(ev): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&g, &h) {
        return unauthorized();
    }
    let mut g = g.lock().unwrap();
    if !g.events.contains_key(&id) {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"code": 404}})));
    }
    g.updates += 1;
    g.events.insert(id, ev.clone());
    (StatusCode::OK, Json(ev))
}

async fn delete(State(g): State<G>, Path(id): Path<String>, h: HeaderMap) -> StatusCode {
    if !authorized(&g, &h) {
        return StatusCode::UNAUTHORIZED;
    }
    match g.lock().unwrap().events.remove(&id) {
        Some(_) => StatusCode::NO_CONTENT,
        None => StatusCode::GONE,
    }
}

async fn get_event(
    State(g): State<G>,
    Path(id): Path<String>,
    h: HeaderMap,
) -> (StatusCode, Json<Value>) {
    if !authorized(&g, &h) {
        return unauthorized();
    }
    match g.lock().unwrap().events.get(&id) {
        Some(e) => (StatusCode::OK, Json(e.clone())),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "Not Found"}})),
        ),
    }
}

async fn freebusy(
    State(g): State<G>,
    h: HeaderMap,
    Json(req): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&g, &h) {
        return unauthorized();
    }
    let delay = {
        let mut g = g.lock().unwrap();
        g.freebusy_calls += 1;
        g.freebusy_delay
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let g = g.lock().unwrap();
    let busy: Vec<Value> = g
        .busy
        .iter()
        .map(|(s, e)| json!({"start": s.to_rfc3339(), "end": e.to_rfc3339()}))
        .collect();
    (
        StatusCode::OK,
        Json(json!({
            "kind": "calendar#freeBusy",
            "timeMin": req["timeMin"], "timeMax": req["timeMax"],
            "calendars": {"primary": {"busy": busy}}
        })),
    )
}

async fn fake_google() -> (String, G) {
    let g: G = Arc::default();
    let app = Router::new()
        .route("/token", post(token))
        .route("/calendar/v3/calendars/primary/events", post(insert))
        .route(
            "/calendar/v3/calendars/primary/events/{id}",
            get(get_event).put(update).delete(delete),
        )
        .route("/calendar/v3/freeBusy", post(freebusy))
        .with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), g)
}

struct Env {
    pool: PgPool,
    clock: Clock,
    tenant: TenantId,
    oauth: GoogleOAuth,
    google: G,
}

async fn env(pool: &PgPool, timeout: StdDuration) -> Env {
    let seed = admin::seed_demo(pool).await.unwrap();
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    let (base, google) = fake_google().await;
    let settings = GoogleSettings {
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        redirect_url: "http://127.0.0.1:3000/api/oauth/google/callback".into(),
        api_base_url: base.clone(),
        oauth_base_url: base.clone(),
        auth_url: format!("{base}/o/oauth2/v2/auth"),
    };
    let oauth = GoogleOAuth::new(
        pool.clone(),
        settings,
        SecretBox::new(&[9u8; 32]),
        clock.clone(),
        timeout,
    );
    Env {
        pool: pool.clone(),
        clock,
        tenant: TenantId(seed.tenant_id),
        oauth,
        google,
    }
}

impl Env {
    async fn connect(&self) {
        self.connect_resource(None).await;
    }

    /// Goes through the consent for `resource` (None: every resource of the tenant).
    async fn connect_resource(&self, resource: Option<Uuid>) {
        let url = self
            .oauth
            .connect_url(self.tenant.0, resource)
            .await
            .unwrap();
        let state = reqwest::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .to_string();
        assert_eq!(
            self.oauth.callback(&state, "good-code").await.unwrap(),
            self.tenant.0
        );
    }

    /// The router over the tenant's connections, with this Google.
    fn calendars(&self, cache: StdDuration) -> ConnectedCalendars {
        ConnectedCalendars::new(
            self.pool.clone(),
            self.clock.clone(),
            SecretBox::new(&[9u8; 32]),
        )
        .with_google(GoogleCalendar::new(self.oauth.clone(), cache))
    }

    fn event(&self, booking: Uuid, start: DateTime<Utc>) -> CalendarEvent {
        CalendarEvent {
            tenant_id: self.tenant.0,
            resource_id: admin::DEMO_RESOURCES[0].0,
            booking_id: booking,
            reference: "ABCD-EFGH".into(),
            summary: "Consultation (ABCD-EFGH)".into(),
            start,
            end: start + Duration::minutes(30),
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn oauth_connects_a_tenant_with_tokens_encrypted_at_rest(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(5)).await;
    let url = e.oauth.connect_url(e.tenant.0, None).await.unwrap();
    let u = reqwest::Url::parse(&url).unwrap();
    let q: HashMap<String, String> = u.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "cid");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["response_type"], "code");
    assert!(q["scope"].contains("calendar.events") && q["scope"].contains("calendar.freebusy"));
    let state = q["state"].clone();
    // A wrong code is refused by Google; the state is then used up.
    assert!(matches!(
        e.oauth.callback(&state, "bad-code").await,
        Err(OAuthError::Refused(_))
    ));
    assert!(matches!(
        e.oauth.callback(&state, "good-code").await,
        Err(OAuthError::BadState)
    ));
    assert!(matches!(
        e.oauth.callback("made-up-state", "good-code").await,
        Err(OAuthError::BadState)
    ));
    // An expired state is refused.
    let url = e.oauth.connect_url(e.tenant.0, None).await.unwrap();
    let old = reqwest::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .to_string();
    e.clock.advance(Duration::minutes(11));
    assert!(matches!(
        e.oauth.callback(&old, "good-code").await,
        Err(OAuthError::BadState)
    ));
    e.connect().await;
    let (access, refresh): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT access_token_enc, refresh_token_enc FROM calendar_connections WHERE tenant_id = $1",
    )
    .bind(e.tenant.0)
    .fetch_one(&e.pool)
    .await
    .unwrap();
    for blob in [&access, &refresh] {
        assert!(!blob.windows(4).any(|w| w == b"tok-" || w == b"ref-"));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn events_use_a_deterministic_id_refresh_tokens_and_treat_409_as_success(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(5)).await;
    e.connect().await;
    let cal = e.calendars(StdDuration::from_secs(30));
    let booking = Uuid::new_v4();
    let start = ny(2026, 3, 4, 10, 0);
    // insert
    let id = cal.create_event(&e.event(booking, start)).await.unwrap();
    assert_eq!(id, event_id(booking));
    assert!(id.chars().all(|c| matches!(c, 'a'..='v' | '0'..='9')));
    // A retry: 409 → the event is brought up to date, not duplicated.
    let moved = ny(2026, 3, 5, 11, 0);
    assert_eq!(
        cal.create_event(&e.event(booking, moved)).await.unwrap(),
        id
    );
    {
        let g = e.google.lock().unwrap();
        assert_eq!((g.inserts, g.updates, g.events.len()), (1, 1, 1));
        assert_eq!(
            g.events[&id]["start"]["dateTime"].as_str().unwrap(),
            moved.to_rfc3339()
        );
        assert_eq!(g.refreshes, 0);
    }
    // Google revokes the access token: 401 → refresh → retry, once.
    e.google.lock().unwrap().valid_tokens.remove("tok-1");
    cal.delete_event(e.tenant.0, booking).await.unwrap();
    assert_eq!(e.google.lock().unwrap().refreshes, 1);
    assert!(e.google.lock().unwrap().events.is_empty());
    // Deleting again (410 Gone) is success.
    cal.delete_event(e.tenant.0, booking).await.unwrap();
    // Near expiry the token is refreshed before the call.
    e.clock
        .advance(Duration::minutes(59) + Duration::seconds(30));
    cal.create_event(&e.event(booking, start)).await.unwrap();
    assert_eq!(e.google.lock().unwrap().refreshes, 2);
    // A refresh token Google no longer accepts is an auth error (retries then escalate).
    sqlx::query("UPDATE calendar_connections SET refresh_token_enc = $2, expires_at = $3 WHERE tenant_id = $1")
        .bind(e.tenant.0)
        .bind(SecretBox::new(&[9u8; 32]).seal_str(&format!("google:refresh:{}", e.tenant.0), "revoked").unwrap())
        .bind(e.clock.now())
        .execute(&e.pool)
        .await
        .unwrap();
    assert_eq!(
        cal.create_event(&e.event(Uuid::new_v4(), start))
            .await
            .unwrap_err(),
        CalendarError::Auth
    );
    // The refusal is noticed on the connection and audited once, not on every retry.
    assert_eq!(
        cal.create_event(&e.event(Uuid::new_v4(), start))
            .await
            .unwrap_err(),
        CalendarError::Auth
    );
    let revoked: Vec<Uuid> = sqlx::query_scalar(
        "SELECT resource_id FROM calendar_connections WHERE revoked_at IS NOT NULL",
    )
    .fetch_all(&e.pool)
    .await
    .unwrap();
    assert_eq!(revoked, vec![admin::DEMO_RESOURCES[0].0]);
    let notices: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE event_type = 'calendar.revoked'")
            .fetch_one(&e.pool)
            .await
            .unwrap();
    assert_eq!(notices, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_failing_calendar_withholds_only_its_own_resource(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(1)).await;
    // GIVEN only the first resource has a calendar, and it stops answering in time
    let (first, second) = (admin::DEMO_RESOURCES[0].0, admin::DEMO_RESOURCES[1].0);
    e.connect_resource(Some(first)).await;
    let connected: Vec<Uuid> = sqlx::query_scalar("SELECT resource_id FROM calendar_connections")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(connected, vec![first]);
    e.google.lock().unwrap().freebusy_delay = Some(StdDuration::from_secs(3));
    let booking = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(Arc::new(e.calendars(StdDuration::from_secs(30))));
    let thu = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    // WHEN availability is asked THEN the slots stay, each with only the second resource
    let av = booking
        .availability(e.tenant, CONSULT, thu, thu)
        .await
        .unwrap();
    assert!(!av.slots.is_empty());
    // AND a hold lands on the resource whose calendar is not in doubt
    let s = SessionId::parse("web-2").unwrap();
    let hold = booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 5, 14, 0), &s)
        .await
        .unwrap();
    assert_eq!(hold.resource_id, second);
    // AND the failure is on the connection's health
    let error: Option<String> =
        sqlx::query_scalar("SELECT last_error FROM calendar_connections WHERE resource_id = $1")
            .bind(first)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(error.as_deref(), Some("calendar request timed out"));
}

fn client(email: &str) -> ClientDetails {
    ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    }
}

fn starts(av: &gomomo::services::booking::Availability) -> Vec<DateTime<Utc>> {
    av.slots.iter().map(|s| s.start).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn free_busy_removes_slots_and_a_read_failure_fails_closed(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(1)).await;
    e.connect().await;
    let cal = Arc::new(e.calendars(StdDuration::from_secs(30)));
    let booking = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(cal.clone());
    let wed = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    // GIVEN the clinic's calendar is busy Wednesday 10:00–11:00 (an outside meeting) and has
    // our own booking at 9:00
    let s = SessionId::parse("web-1").unwrap();
    let hold = booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 9, 0), &s)
        .await
        .unwrap();
    let client = client("ana@example.com");
    booking
        .confirm(e.tenant, hold.id, &s, &client)
        .await
        .unwrap();
    e.google.lock().unwrap().busy = vec![
        (ny(2026, 3, 4, 9, 0), ny(2026, 3, 4, 9, 30)),
        (ny(2026, 3, 4, 10, 0), ny(2026, 3, 4, 11, 0)),
    ];
    // WHEN availability is asked (after the cache of the first reads expires)
    e.clock.advance(Duration::seconds(1));
    let plain = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300));
    let fresh = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(Arc::new(e.calendars(StdDuration::from_secs(30))));
    let without = starts(
        &plain
            .availability(e.tenant, CONSULT, wed, wed)
            .await
            .unwrap(),
    );
    let with = starts(
        &fresh
            .availability(e.tenant, CONSULT, wed, wed)
            .await
            .unwrap(),
    );
    // THEN 10:00 and 10:30 are gone; 9:00 stays (our own booking took one of two resources)
    for t in [ny(2026, 3, 4, 10, 0), ny(2026, 3, 4, 10, 30)] {
        assert!(without.contains(&t));
        assert!(!with.contains(&t), "{t} should be busy in the calendar");
    }
    assert!(with.contains(&ny(2026, 3, 4, 9, 0)));
    assert!(with.contains(&ny(2026, 3, 4, 11, 0)));
    // AND a hold there is refused, next to it accepted
    assert!(matches!(
        fresh
            .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 10, 30), &s)
            .await,
        Err(BookingError::SlotUnavailable)
    ));
    fresh
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 11, 0), &s)
        .await
        .unwrap();
    // The short cache: a second question within 30 s does not call Google again.
    let calls = e.google.lock().unwrap().freebusy_calls;
    fresh
        .availability(e.tenant, CONSULT, wed, wed)
        .await
        .unwrap();
    assert_eq!(e.google.lock().unwrap().freebusy_calls, calls);

    // WHEN Google stops answering in time THEN nothing is offered and holds are refused —
    // never an error to the client
    e.google.lock().unwrap().freebusy_delay = Some(StdDuration::from_secs(3));
    let slow = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(Arc::new(e.calendars(StdDuration::from_secs(30))));
    let thu = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
    let av = slow
        .availability(e.tenant, CONSULT, thu, thu)
        .await
        .unwrap();
    assert!(av.slots.is_empty());
    assert!(matches!(
        slow.create_hold(e.tenant, CONSULT, ny(2026, 3, 5, 14, 0), &s)
            .await,
        Err(BookingError::SlotUnavailable)
    ));
    // A tenant without a connected calendar is not affected.
    sqlx::query("DELETE FROM calendar_connections")
        .execute(&pool)
        .await
        .unwrap();
    let av = slow
        .availability(e.tenant, CONSULT, thu, thu)
        .await
        .unwrap();
    assert!(!av.slots.is_empty());
}

#[sqlx::test(migrations = false)]
async fn a_tenant_wide_connection_becomes_one_per_resource(pool: PgPool) {
    // GIVEN a database before calendars were per resource, with a tenant of two resources
    // whose Google calendar was connected for the whole tenant
    gomomo::db::MIGRATOR.run_to(20, &pool).await.unwrap();
    let tenant = Uuid::new_v4();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();
    for r in [a, b] {
        sqlx::query("INSERT INTO resources (id, tenant_id, name) VALUES ($1, $2, 'R')")
            .bind(r)
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO calendar_connections (tenant_id, access_token_enc, refresh_token_enc, expires_at)
         VALUES ($1, '\\x0102', '\\x0304', now())",
    )
    .bind(tenant)
    .execute(&pool)
    .await
    .unwrap();
    // WHEN the schema moves on
    gomomo::db::MIGRATOR.run(&pool).await.unwrap();
    // THEN each resource has its own Google connection with the tokens it had
    type Row = (Uuid, String, Vec<u8>, Option<Vec<u8>>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT resource_id, provider, access_token_enc, refresh_token_enc
           FROM calendar_connections WHERE tenant_id = $1 ORDER BY resource_id",
    )
    .bind(tenant)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), want);
    for (_, provider, access, refresh) in rows {
        assert_eq!(provider, "google");
        assert_eq!(access, vec![1, 2]);
        assert_eq!(refresh, Some(vec![3, 4]));
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn our_events_changed_in_google_are_reported_once_and_the_booking_stays(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(5)).await;
    e.connect().await;
    let cal = e.calendars(StdDuration::from_secs(30));
    let booking = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(Arc::new(cal.clone()));
    // GIVEN two bookings written to the calendar
    let mut ids = Vec::new();
    for (i, hour) in [9, 11].into_iter().enumerate() {
        let s = SessionId::parse(&format!("web-{i}")).unwrap();
        let hold = booking
            .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, hour, 0), &s)
            .await
            .unwrap();
        let (appt, _) = booking
            .confirm(e.tenant, hold.id, &s, &client(&format!("c{i}@example.com")))
            .await
            .unwrap();
        ids.push(appt.id);
    }
    // Read back unchanged: nothing to report.
    let every = Duration::minutes(15);
    assert_eq!(
        cal.check_events(every, 100, StdDuration::from_secs(30))
            .await
            .unwrap(),
        2
    );
    // WHEN one is moved and the other deleted in Google
    {
        let mut g = e.google.lock().unwrap();
        let moved = g.events.get_mut(&event_id(ids[0])).unwrap();
        moved["start"]["dateTime"] = json!(ny(2026, 3, 4, 15, 0).to_rfc3339());
        moved["end"]["dateTime"] = json!(ny(2026, 3, 4, 15, 30).to_rfc3339());
        g.events.remove(&event_id(ids[1]));
    }
    // THEN nothing is read again before its time; after it, both are reported once
    assert_eq!(
        cal.check_events(every, 100, StdDuration::from_secs(30))
            .await
            .unwrap(),
        0
    );
    e.clock.advance(Duration::minutes(16));
    assert_eq!(
        cal.check_events(every, 100, StdDuration::from_secs(30))
            .await
            .unwrap(),
        2
    );
    e.clock.advance(Duration::minutes(16));
    assert_eq!(
        cal.check_events(every, 100, StdDuration::from_secs(30))
            .await
            .unwrap(),
        0
    );
    let found: Vec<(String, String)> = sqlx::query_as(
        "SELECT entity_id, payload->>'found' FROM audit_log
          WHERE event_type = 'calendar.event_changed_outside' ORDER BY payload->>'found'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        found,
        vec![
            (ids[1].to_string(), "missing".to_string()),
            (ids[0].to_string(), "moved".to_string())
        ]
    );
    // AND the bookings are as they were
    let statuses: Vec<String> =
        sqlx::query_scalar("SELECT status FROM appointments ORDER BY lower(during)")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(statuses, vec!["confirmed", "confirmed"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn one_resources_booking_does_not_hide_another_resources_meeting(pool: PgPool) {
    let e = env(&pool, StdDuration::from_secs(5)).await;
    // GIVEN each resource connected its own calendar (two consents)
    for (resource, _) in admin::DEMO_RESOURCES {
        let url = e
            .oauth
            .connect_url(e.tenant.0, Some(resource))
            .await
            .unwrap();
        let state = reqwest::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .to_string();
        e.oauth.callback(&state, "good-code").await.unwrap();
    }
    let booking = BookingService::new(pool.clone(), e.clock.clone(), StdDuration::from_secs(300))
        .with_calendar(Arc::new(e.calendars(StdDuration::from_millis(1))));
    // AND one resource has a booking at 10:00
    let s = SessionId::parse("web-1").unwrap();
    let hold = booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 10, 0), &s)
        .await
        .unwrap();
    let client = client("ana@example.com");
    booking
        .confirm(e.tenant, hold.id, &s, &client)
        .await
        .unwrap();
    // WHEN both calendars show 10:00–10:30 busy: the first's is that booking, the other's
    // is a meeting of its own
    e.google.lock().unwrap().busy = vec![(ny(2026, 3, 4, 10, 0), ny(2026, 3, 4, 10, 30))];
    e.clock.advance(Duration::seconds(1));
    let wed = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
    let offered = starts(
        &booking
            .availability(e.tenant, CONSULT, wed, wed)
            .await
            .unwrap(),
    );
    // THEN 10:00 is not offered: the booking takes one resource, the meeting the other
    assert!(!offered.contains(&ny(2026, 3, 4, 10, 0)), "{offered:?}");
    assert!(offered.contains(&ny(2026, 3, 4, 10, 30)));
}
