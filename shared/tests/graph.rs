//! The Microsoft Graph client against a Graph-shaped server on 127.0.0.1 that answers with
//! the bodies of `tests/fixtures/graph/` (shapes from Microsoft's documentation) and checks
//! what it receives: the PKCE verifier against the challenge of the consent request, the
//! client credentials, bearer tokens, `Prefer: outlook.timezone="UTC"`, the create's
//! `transactionId` (stable across a retried create, never sent on a patch), the booking
//! marker, `getSchedule` and `calendarView` parameters. Its calendar lives in memory, so the
//! tests see what a retry, an update or a delete left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use chrono_tz::Tz;
use gomomo::adapters::graph::{
    authorize_url, pkce, retry_after, transaction_id, GraphClient, GraphEventWrite, GraphSettings,
    GraphTokens, TokenStore, BOOKING_PROPERTY, GRAPH_SCOPES,
};
use gomomo::ports::calendar::{BusyRange, CalendarError};
use gomomo::ports::clock::Clock;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const CLIENT_ID: &str = "00001111-aaaa-2222-bbbb-3333cccc4444";
const CLIENT_SECRET: &str = "app-s3cret";
const REDIRECT: &str = "https://book.example.com/api/oauth/microsoft/callback";
const MAILBOX: &str = "dana@contoso.example";
/// The calendar owner's zone: the all-day event covers its whole day there.
const ZONE: Tz = New_York;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/graph/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        v["source"].as_str().unwrap().starts_with("https://"),
        "{name}"
    );
    v
}

fn body(name: &str) -> Value {
    fixture(name)["body"].clone()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn parse_graph_time(v: &Value) -> DateTime<Utc> {
    assert_eq!(v["timeZone"], "UTC", "times are sent in UTC: {v}");
    let s = v["dateTime"].as_str().unwrap();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
}

fn graph_time(t: DateTime<Utc>) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"})
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Account {
    Work,
    Personal,
}

#[derive(Clone, Debug)]
struct Event {
    id: String,
    subject: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// All-day: the bare dates (start, exclusive end).
    all_day: Option<(NaiveDate, NaiveDate)>,
    show_as: String,
    cancelled: bool,
    transaction_id: Option<String>,
    booking_marker: Option<String>,
}

impl Event {
    /// The instants it covers (an all-day event in the owner's zone, as Exchange stores it).
    fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.all_day {
            None => (self.start, self.end),
            Some((a, b)) => {
                let at = |d: NaiveDate| {
                    ZONE.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
                        .unwrap()
                        .with_timezone(&Utc)
                };
                (at(a), at(b))
            }
        }
    }

    /// The Graph event object (the created-event fixture's shape), times in UTC and
    /// all-day events as bare midnights.
    fn json(&self) -> Value {
        let mut v = body("event_created");
        v["id"] = json!(self.id);
        v["subject"] = json!(self.subject);
        v["showAs"] = json!(self.show_as);
        v["isCancelled"] = json!(self.cancelled);
        v["isAllDay"] = json!(self.all_day.is_some());
        match self.all_day {
            None => {
                v["start"] = graph_time(self.start);
                v["end"] = graph_time(self.end);
            }
            Some((a, b)) => {
                v["start"] = graph_time(a.and_hms_opt(0, 0, 0).unwrap().and_utc());
                v["end"] = graph_time(b.and_hms_opt(0, 0, 0).unwrap().and_utc());
            }
        }
        match &self.transaction_id {
            Some(t) => v["transactionId"] = json!(t),
            None => {
                v.as_object_mut().unwrap().remove("transactionId");
            }
        }
        v
    }
}

#[derive(Default)]
struct Graph {
    base: String,
    /// Codes issued by the consent page: code -> (challenge, redirect_uri).
    codes: HashMap<String, (String, String)>,
    access: HashMap<String, Account>,
    refresh: HashMap<String, Account>,
    revoked: HashSet<String>,
    issued: usize,
    token_grants: Vec<String>,
    events: Vec<Event>,
    next_id: usize,
    creates: Vec<String>,
    patches: usize,
    schedule_calls: usize,
    view_calls: usize,
    /// calendarView requests, counted before any check (a refused one included).
    view_requests: usize,
    /// Everything the server found wrong in a request (the tests assert it stays empty).
    violations: Vec<String>,
    fail_with: Option<u16>,
    throttle: bool,
    delay: Option<StdDuration>,
    foreign_next_link: bool,
    /// getSchedule answers 200 with an error for the mailbox (an address it cannot resolve).
    schedule_unresolvable: bool,
}

type G = Arc<Mutex<Graph>>;

fn error(status: u16, name: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(body(name))).into_response()
}

impl Graph {
    fn mint(&mut self, account: Account, kind: &str) -> (String, String) {
        self.issued += 1;
        let access = format!("access-{kind}-{}", self.issued);
        let refresh = format!("refresh-{kind}-{}", self.issued);
        self.access.insert(access.clone(), account);
        self.refresh.insert(refresh.clone(), account);
        (access, refresh)
    }

    /// The checks every Graph call goes through; `Err` is the answer to send instead.
    fn gate(&mut self, h: &HeaderMap, what: &str) -> Result<Account, Box<Response>> {
        let prefer = h.get("prefer").and_then(|v| v.to_str().ok()).unwrap_or("");
        if prefer != "outlook.timezone=\"UTC\"" {
            self.violations
                .push(format!("{what}: Prefer header {prefer:?}"));
        }
        let token = h
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let Some(account) = self.access.get(token).copied() else {
            return Err(Box::new(error(401, "error_unauthorized")));
        };
        if self.throttle {
            let mut r = error(429, "error_throttled");
            r.headers_mut().insert("retry-after", "7".parse().unwrap());
            return Err(Box::new(r));
        }
        if let Some(status) = self.fail_with {
            return Err(Box::new((
                StatusCode::from_u16(status).unwrap(),
                Json(json!({"error": {"code": "generalException", "message": "An unspecified error has occurred."}})),
            )
                .into_response()));
        }
        Ok(account)
    }

    fn event_from_request(&mut self, what: &str, b: &Value, ev: &mut Event) {
        if let Some(s) = b.get("subject").and_then(Value::as_str) {
            ev.subject = s.to_string();
        }
        if let Some(s) = b.get("start") {
            ev.start = parse_graph_time(s);
        }
        if let Some(s) = b.get("end") {
            ev.end = parse_graph_time(s);
        }
        if b.pointer("/body/contentType").and_then(Value::as_str) != Some("text") {
            self.violations.push(format!("{what}: body is not text"));
        }
        let marker = b
            .get("singleValueExtendedProperties")
            .and_then(Value::as_array)
            .and_then(|p| p.iter().find(|p| p["id"] == BOOKING_PROPERTY))
            .and_then(|p| p["value"].as_str());
        match marker {
            Some(m) if Uuid::parse_str(m).is_ok() => ev.booking_marker = Some(m.to_string()),
            _ => self.violations.push(format!("{what}: no booking marker")),
        }
    }
}

async fn delay(g: &G) {
    let d = g.lock().unwrap().delay;
    if let Some(d) = d {
        tokio::time::sleep(d).await;
    }
}

async fn authorize(
    State(g): State<G>,
    Path(tenant): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut g = g.lock().unwrap();
    let ok = tenant == "common"
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("response_type").map(String::as_str) == Some("code")
        && q.get("response_mode").map(String::as_str) == Some("query")
        && q.get("code_challenge_method").map(String::as_str) == Some("S256")
        && q.get("prompt").map(String::as_str) == Some("select_account")
        && q.get("code_challenge").is_some_and(|c| c.len() == 43)
        && q.get("scope")
            .is_some_and(|s| s.split(' ').any(|x| x == "offline_access"));
    if !ok {
        g.violations.push(format!("authorize: {q:?}"));
        return StatusCode::BAD_REQUEST.into_response();
    }
    let code = format!("code-{}", g.codes.len() + 1);
    let redirect = q["redirect_uri"].clone();
    g.codes.insert(
        code.clone(),
        (q["code_challenge"].clone(), redirect.clone()),
    );
    let location = format!(
        "{redirect}?code={code}&state={}",
        form_urlencoded::byte_serialize(q["state"].as_bytes()).collect::<String>()
    );
    (StatusCode::FOUND, [("location", location)]).into_response()
}

async fn token(State(g): State<G>, Path(tenant): Path<String>, form: String) -> Response {
    delay(&g).await;
    let f: HashMap<String, String> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    let mut g = g.lock().unwrap();
    if tenant != "common"
        || f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        g.violations.push(format!("token: client {f:?}"));
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if f.get("scope").map(String::as_str) != Some(GRAPH_SCOPES) {
        g.violations
            .push(format!("token: scope {:?}", f.get("scope")));
    }
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    g.token_grants.push(grant.clone());
    let invalid = || error(400, "token_invalid_grant");
    match grant.as_str() {
        "authorization_code" => {
            let Some((challenge, redirect)) = f.get("code").and_then(|c| g.codes.remove(c)) else {
                return invalid();
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if computed != challenge
                || f.get("redirect_uri").map(String::as_str) != Some(redirect.as_str())
            {
                return invalid();
            }
            let (access, refresh) = g.mint(Account::Work, "code");
            let mut b = body("token_success");
            b["access_token"] = json!(access);
            b["refresh_token"] = json!(refresh);
            Json(b).into_response()
        }
        "refresh_token" => {
            let r = f.get("refresh_token").cloned().unwrap_or_default();
            if g.revoked.contains(&r) {
                return invalid();
            }
            let Some(account) = g.refresh.get(&r).copied() else {
                return invalid();
            };
            let (access, refresh) = g.mint(account, "refreshed");
            let mut b = body("token_refresh");
            b["access_token"] = json!(access);
            b["refresh_token"] = json!(refresh);
            Json(b).into_response()
        }
        _ => invalid(),
    }
}

async fn me(
    State(g): State<G>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut g = g.lock().unwrap();
    let account = match g.gate(&h, "me") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !q.contains_key("$select") {
        g.violations.push("me: no $select".into());
    }
    let mut b = body("me");
    if account == Account::Personal {
        b["mail"] = Value::Null;
        b["userPrincipalName"] = json!("someone@outlook.example");
    }
    Json(b).into_response()
}

async fn create_event(State(g): State<G>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    delay(&g).await;
    let mut g = g.lock().unwrap();
    if let Err(r) = g.gate(&h, "create") {
        return *r;
    }
    let Some(txn) = b.get("transactionId").and_then(Value::as_str) else {
        g.violations.push("create: no transactionId".into());
        return error(400, "error_not_found");
    };
    g.creates.push(txn.to_string());
    // A retried create: the event of this transaction, as it is.
    if let Some(ev) = g
        .events
        .iter()
        .find(|e| e.transaction_id.as_deref() == Some(txn))
    {
        return (StatusCode::CREATED, Json(ev.json())).into_response();
    }
    g.next_id += 1;
    let mut ev = Event {
        id: format!("AAMkAGI1-{}=", g.next_id),
        subject: String::new(),
        start: Utc::now(),
        end: Utc::now(),
        all_day: None,
        show_as: "busy".into(),
        cancelled: false,
        transaction_id: Some(txn.to_string()),
        booking_marker: None,
    };
    g.event_from_request("create", &b, &mut ev);
    if b.get("showAs").and_then(Value::as_str) != Some("busy") {
        g.violations.push("create: showAs is not busy".into());
    }
    let out = ev.json();
    g.events.push(ev);
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn patch_event(
    State(g): State<G>,
    Path(id): Path<String>,
    h: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let mut g = g.lock().unwrap();
    if let Err(r) = g.gate(&h, "patch") {
        return *r;
    }
    if b.get("transactionId").is_some() {
        g.violations
            .push("patch: transactionId cannot change after the create".into());
    }
    let Some(i) = g.events.iter().position(|e| e.id == id) else {
        return error(404, "error_not_found");
    };
    let mut ev = g.events[i].clone();
    g.event_from_request("patch", &b, &mut ev);
    g.patches += 1;
    let out = ev.json();
    g.events[i] = ev;
    Json(out).into_response()
}

async fn delete_event(State(g): State<G>, Path(id): Path<String>, h: HeaderMap) -> Response {
    let mut g = g.lock().unwrap();
    if let Err(r) = g.gate(&h, "delete") {
        return *r;
    }
    let Some(i) = g.events.iter().position(|e| e.id == id) else {
        return error(404, "error_not_found");
    };
    g.events.remove(i);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_event(
    State(g): State<G>,
    Path(id): Path<String>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut g = g.lock().unwrap();
    if let Err(r) = g.gate(&h, "get") {
        return *r;
    }
    if !q.get("$select").is_some_and(|s| s.contains("isCancelled")) {
        g.violations.push(format!("get: $select {q:?}"));
    }
    match g.events.iter().find(|e| e.id == id) {
        Some(ev) => Json(ev.json()).into_response(),
        None => error(404, "error_not_found"),
    }
}

async fn get_schedule(State(g): State<G>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    delay(&g).await;
    let mut g = g.lock().unwrap();
    let account = match g.gate(&h, "getSchedule") {
        Ok(a) => a,
        Err(r) => return *r,
    };
    g.schedule_calls += 1;
    if account == Account::Personal {
        return error(400, "schedule_personal_account");
    }
    if g.schedule_unresolvable {
        return Json(fixture("schedule_personal_account")["schedule_error_body"].clone())
            .into_response();
    }
    if b["schedules"] != json!([MAILBOX]) || !b["availabilityViewInterval"].is_i64() {
        g.violations.push(format!("getSchedule: body {b}"));
    }
    let from = parse_graph_time(&b["startTime"]);
    let to = parse_graph_time(&b["endTime"]);
    let items: Vec<Value> = g
        .events
        .iter()
        .filter(|e| !e.cancelled)
        .filter(|e| {
            let (s, t) = e.span();
            s < to && t > from
        })
        .map(|e| {
            let (s, t) = e.span();
            json!({"isPrivate": false, "status": e.show_as, "subject": e.subject,
                   "location": "", "start": graph_time(s), "end": graph_time(t)})
        })
        .collect();
    let mut out = body("schedule");
    out["value"][0]["scheduleId"] = json!(MAILBOX);
    out["value"][0]["scheduleItems"] = json!(items);
    out["value"][0]["availabilityView"] = json!("0");
    Json(out).into_response()
}

async fn calendar_view(
    State(g): State<G>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    delay(&g).await;
    let mut g = g.lock().unwrap();
    g.view_requests += 1;
    if let Err(r) = g.gate(&h, "calendarView") {
        return *r;
    }
    g.view_calls += 1;
    let (Some(from), Some(to)) = (q.get("startDateTime"), q.get("endDateTime")) else {
        g.violations.push(format!("calendarView: query {q:?}"));
        return error(400, "error_not_found");
    };
    let (from, to) = (utc(from), utc(to));
    let skip: usize = q.get("$skiptoken").map_or(0, |s| s.parse().unwrap());
    let mut all: Vec<&Event> = g
        .events
        .iter()
        .filter(|e| {
            let (s, t) = e.span();
            s < to && t > from
        })
        .collect();
    all.sort_by_key(|e| e.span().0);
    let page: Vec<Value> = all.iter().skip(skip).take(2).map(|e| e.json()).collect();
    let mut out = body("calendar_view");
    out["value"] = json!(page);
    if skip + 2 < all.len() {
        let base = if g.foreign_next_link {
            "https://elsewhere.example/v1.0".to_string()
        } else {
            g.base.clone()
        };
        out["@odata.nextLink"] = json!(format!(
            "{base}/me/calendarView?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair("startDateTime", &q["startDateTime"])
                .append_pair("endDateTime", &q["endDateTime"])
                .append_pair("$skiptoken", &(skip + 2).to_string())
                .finish()
        ));
    } else {
        out.as_object_mut().unwrap().remove("@odata.nextLink");
    }
    Json(out).into_response()
}

struct Server {
    g: G,
    settings: GraphSettings,
}

impl Server {
    async fn start() -> Self {
        let g: G = Arc::new(Mutex::new(Graph::default()));
        // The calendar's own events: those of the calendarView fixture.
        {
            let mut st = g.lock().unwrap();
            for e in body("calendar_view")["value"].as_array().unwrap() {
                let all_day = e["isAllDay"].as_bool().unwrap();
                let start = parse_graph_time(&e["start"]);
                let end = parse_graph_time(&e["end"]);
                st.events.push(Event {
                    id: e["id"].as_str().unwrap().into(),
                    subject: e["subject"].as_str().unwrap().into(),
                    start,
                    end,
                    all_day: all_day.then(|| (start.date_naive(), end.date_naive())),
                    show_as: e["showAs"].as_str().unwrap().into(),
                    cancelled: e["isCancelled"].as_bool().unwrap(),
                    transaction_id: None,
                    booking_marker: None,
                });
            }
        }
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/me", get(me))
            .route("/v1.0/me/events", post(create_event))
            .route(
                "/v1.0/me/events/{id}",
                get(get_event).patch(patch_event).delete(delete_event),
            )
            .route("/v1.0/me/calendar/getSchedule", post(get_schedule))
            .route("/v1.0/me/calendarView", get(calendar_view))
            .with_state(g.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let base = format!("http://{addr}");
        g.lock().unwrap().base = format!("{base}/v1.0");
        Self {
            g,
            settings: GraphSettings {
                client_id: CLIENT_ID.into(),
                client_secret: Some(CLIENT_SECRET.into()),
                tenant: "common".into(),
                authority_base_url: base.clone(),
                graph_base_url: format!("{base}/v1.0"),
                redirect_url: REDIRECT.into(),
                scopes: GRAPH_SCOPES.into(),
            },
        }
    }

    fn client(&self) -> GraphClient {
        self.client_with_timeout(StdDuration::from_secs(5))
    }

    fn client_with_timeout(&self, timeout: StdDuration) -> GraphClient {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        GraphClient::new(http, self.settings.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.g.lock().unwrap()
    }

    /// Tokens of an account as the code flow would have given them.
    fn tokens(&self, account: Account) -> (String, String) {
        self.state().mint(account, "seed")
    }

    fn assert_clean(&self) {
        let v = self.state().violations.clone();
        assert!(v.is_empty(), "the server saw bad requests: {v:#?}");
    }
}

/// Follows the consent URL to the redirect with its code, as the browser would.
async fn consent(server: &Server, url: &str) -> (String, String) {
    let res = server.client_http().get(url).send().await.unwrap();
    assert_eq!(res.status(), 302, "{url}");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let (back, query) = location.split_once('?').unwrap();
    assert_eq!(back, REDIRECT);
    let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (q["code"].clone(), q["state"].clone())
}

impl Server {
    fn client_http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }
}

#[tokio::test]
async fn graph_connects_with_pkce_exchanges_the_code_and_refreshes() {
    let server = Server::start().await;
    let client = server.client();
    let before = Utc::now();

    // A wrong verifier is refused at the token endpoint (the server recomputes the
    // challenge), and the code is spent.
    let flow = pkce();
    let url = authorize_url(&server.settings, "state-1", &flow.challenge);
    let (code, state) = consent(&server, &url).await;
    assert_eq!(state, "state-1");
    let other = pkce();
    assert_eq!(
        client
            .exchange_code(&code, &other.verifier)
            .await
            .unwrap_err(),
        CalendarError::Auth
    );
    assert_eq!(
        client
            .exchange_code(&code, &flow.verifier)
            .await
            .unwrap_err(),
        CalendarError::Auth,
        "a code is good once"
    );

    let flow = pkce();
    let (code, _) = consent(
        &server,
        &authorize_url(&server.settings, "state-2", &flow.challenge),
    )
    .await;
    let tokens = client.exchange_code(&code, &flow.verifier).await.unwrap();
    assert!(tokens.access_token.starts_with("access-code-"));
    let first_refresh = tokens.refresh_token.clone().unwrap();
    assert!(
        tokens.scope.contains("Calendars.ReadWrite"),
        "{}",
        tokens.scope
    );
    assert!(tokens.expires_at >= before + Duration::seconds(3590));
    assert!(tokens.expires_at <= Utc::now() + Duration::seconds(3600));
    assert!(!format!("{tokens:?}").contains(&tokens.access_token));

    // The token works: the profile names the mailbox getSchedule is asked about.
    let me = client.me(&tokens.access_token).await.unwrap();
    assert_eq!(me.schedule_address(), Some(MAILBOX));

    // Refresh: a new access token and the rotated refresh token to keep.
    let fresh = client.refresh(&first_refresh).await.unwrap();
    assert_ne!(fresh.access_token, tokens.access_token);
    let rotated = fresh.refresh_token.clone().unwrap();
    assert_ne!(rotated, first_refresh);
    client.me(&fresh.access_token).await.unwrap();

    // Consent revoked: the refresh token is refused, and that is an authorization error
    // (the caller escalates to the admin), not a transient one.
    server.state().revoked.insert(rotated.clone());
    assert_eq!(
        client.refresh(&rotated).await.unwrap_err(),
        CalendarError::Auth
    );
    assert_eq!(
        server.state().token_grants,
        [
            "authorization_code",
            "authorization_code",
            "authorization_code",
            "refresh_token",
            "refresh_token"
        ]
    );
    server.assert_clean();
}

fn booking(start: &str, minutes: i64) -> GraphEventWrite {
    let start = utc(start);
    GraphEventWrite {
        booking_id: Uuid::from_u128(0x6e0a_0000_0000_4000_8000_0000_0000_0001),
        subject: "Consultation: Ada Lovelace".into(),
        body_text: "Booked with gomomo. Reference GM-7Q2K.".into(),
        start,
        end: start + Duration::minutes(minutes),
    }
}

fn ours(server: &Server) -> Vec<Event> {
    server
        .state()
        .events
        .iter()
        .filter(|e| e.booking_marker.is_some())
        .cloned()
        .collect()
}

#[tokio::test]
async fn graph_events_are_created_once_updated_and_deleted() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    let ev = booking("2026-12-07T19:00:00Z", 30);

    let id = client.upsert_event(&token, None, &ev).await.unwrap();
    // The answer to the first create was lost: the retry carries the same transactionId
    // and gets the same event back; the calendar holds one.
    let again = client.upsert_event(&token, None, &ev).await.unwrap();
    assert_eq!(again, id);
    {
        let st = server.state();
        assert_eq!(st.creates.len(), 2);
        assert_eq!(st.creates[0], st.creates[1]);
        assert_eq!(st.creates[0], transaction_id(ev.booking_id));
        assert_eq!(st.patches, 0, "an unchanged retry needs no update");
    }
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, id);
    assert_eq!(
        held[0].booking_marker.as_deref(),
        Some(ev.booking_id.to_string().as_str())
    );
    assert_eq!((held[0].start, held[0].end), (ev.start, ev.end));
    assert_eq!(held[0].subject, ev.subject);

    // A create of the same booking with new times (the event id was never stored): still
    // one event, brought up to date.
    let moved = booking("2026-12-07T20:00:00Z", 45);
    assert_eq!(client.upsert_event(&token, None, &moved).await.unwrap(), id);
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].start, held[0].end), (moved.start, moved.end));

    // A reschedule with the known id patches in place.
    let later = booking("2026-12-08T14:00:00Z", 30);
    let patches = server.state().patches;
    let creates = server.state().creates.len();
    assert_eq!(
        client
            .upsert_event(&token, Some(&id), &later)
            .await
            .unwrap(),
        id
    );
    assert_eq!(server.state().patches, patches + 1);
    assert_eq!(
        server.state().creates.len(),
        creates,
        "no create on a patch"
    );
    let seen = client.get_event(&token, &id).await.unwrap().unwrap();
    assert_eq!((seen.start, seen.end), (later.start, later.end));
    assert!(!seen.cancelled && !seen.all_day);

    // Moved in Outlook: the caller sees it.
    {
        let mut st = server.state();
        let e = st.events.iter_mut().find(|e| e.id == id).unwrap();
        e.start += Duration::hours(2);
        e.end += Duration::hours(2);
    }
    let seen = client.get_event(&token, &id).await.unwrap().unwrap();
    assert_eq!(seen.start, later.start + Duration::hours(2));

    // Deleted in Outlook: gone for get_event, and an update with the stale id makes the
    // event again.
    server.state().events.retain(|e| e.id != id);
    assert_eq!(client.get_event(&token, &id).await.unwrap(), None);
    let new_id = client
        .upsert_event(&token, Some(&id), &later)
        .await
        .unwrap();
    assert_ne!(new_id, id);
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].start, held[0].end), (later.start, later.end));

    // Cancel: deleted; deleting again (404) is still success.
    client.delete_event(&token, &new_id).await.unwrap();
    assert!(ours(&server).is_empty());
    client.delete_event(&token, &new_id).await.unwrap();
    assert_eq!(client.get_event(&token, &new_id).await.unwrap(), None);
    server.assert_clean();
}

fn range(a: &str, b: &str) -> BusyRange {
    BusyRange {
        start: utc(a),
        end: utc(b),
    }
}

/// The window: Monday to Wednesday, New York days.
fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2026-12-07T05:00:00Z"), utc("2026-12-10T05:00:00Z"))
}

/// What the fixture's calendar plus one booking of ours blocks in [`window`]: the dentist
/// (busy), our booking, the training day (all day, out of office: the whole New York
/// day), the tentative call; not the lunch shown as free, not the cancelled stand-up.
fn expected() -> Vec<BusyRange> {
    vec![
        range("2026-12-07T15:00:00Z", "2026-12-07T16:00:00Z"),
        range("2026-12-07T19:00:00Z", "2026-12-07T19:30:00Z"),
        range("2026-12-08T05:00:00Z", "2026-12-09T05:00:00Z"),
        range("2026-12-09T20:00:00Z", "2026-12-09T20:30:00Z"),
    ]
}

#[tokio::test]
async fn graph_busy_time_comes_from_get_schedule() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap();
    let (from, to) = window();
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(server.state().view_calls, 0);

    // A window of ten weeks is asked in parts of at most 31 days, and merged.
    let busy = client
        .busy(
            &token,
            Some(MAILBOX),
            utc("2026-11-20T05:00:00Z"),
            utc("2027-01-29T05:00:00Z"),
            ZONE,
        )
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 4);
    assert_eq!(server.state().view_calls, 0);

    // Clipped to the window asked for.
    let busy = client
        .busy(
            &token,
            Some(MAILBOX),
            utc("2026-12-07T15:30:00Z"),
            utc("2026-12-08T12:00:00Z"),
            ZONE,
        )
        .await
        .unwrap();
    assert_eq!(
        busy,
        vec![
            range("2026-12-07T15:30:00Z", "2026-12-07T16:00:00Z"),
            range("2026-12-07T19:00:00Z", "2026-12-07T19:30:00Z"),
            range("2026-12-08T05:00:00Z", "2026-12-08T12:00:00Z"),
        ]
    );
    // getSchedule cannot resolve the mailbox (its answer carries an error for it): the
    // calendar view is read instead.
    server.state().schedule_unresolvable = true;
    let (from, to) = window();
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 6);
    assert_eq!(server.state().view_calls, 3);
    server.assert_clean();
}

#[tokio::test]
async fn graph_busy_time_falls_back_to_calendar_view_for_personal_accounts() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Personal);
    let me = client.me(&token).await.unwrap();
    assert_eq!(me.mail, None);
    assert_eq!(me.schedule_address(), None);
    client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap();
    let (from, to) = window();

    // Asked with an address anyway: getSchedule answers with the personal-account error,
    // and the calendar view gives the same busy time, every page followed.
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    let pages = server.state().view_calls;
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(pages, 3, "6 events at 2 a page");

    // Without an address: straight to the calendar view.
    let busy = client.busy(&token, None, from, to, ZONE).await.unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(server.state().view_calls, 2 * pages);

    // The all-day event covers the whole day of the owner's zone: Tokyo's day is not
    // New York's.
    let tokyo = client
        .busy(&token, None, from, to, chrono_tz::Asia::Tokyo)
        .await
        .unwrap();
    assert!(tokyo.contains(&range("2026-12-07T15:00:00Z", "2026-12-08T15:00:00Z")));

    // A next page outside the Graph base would carry the token elsewhere: refused.
    server.state().foreign_next_link = true;
    let err = client.busy(&token, None, from, to, ZONE).await.unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("next page")),
        "{err:?}"
    );
    server.assert_clean();
}

/// Token storage as the caller keeps it (in memory here).
#[derive(Default)]
struct Store {
    tokens: Mutex<Option<GraphTokens>>,
    saves: Mutex<usize>,
}

#[async_trait]
impl TokenStore for Store {
    async fn load(&self) -> Result<Option<GraphTokens>, CalendarError> {
        Ok(self.tokens.lock().unwrap().clone())
    }
    async fn save(&self, tokens: &GraphTokens) -> Result<(), CalendarError> {
        *self.tokens.lock().unwrap() = Some(tokens.clone());
        *self.saves.lock().unwrap() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn graph_tokens_refresh_before_expiry_and_after_a_401_and_revoked_consent_escalates() {
    let server = Server::start().await;
    let clock = Clock::fixed(Utc::now());
    let client = server.client().with_clock(clock.clone());
    let (access, refresh) = server.tokens(Account::Work);
    let store = Store::default();

    // Nothing connected.
    let err = client
        .with_token(&store, |t| {
            let c = &client;
            async move { c.me(&t).await }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, CalendarError::Other(_)), "{err:?}");

    *store.tokens.lock().unwrap() = Some(GraphTokens {
        access_token: access.clone(),
        refresh_token: Some(refresh.clone()),
        expires_at: clock.now() + Duration::minutes(30),
        scope: String::new(),
    });
    let call = || {
        client.with_token(&store, |t| {
            let c = &client;
            async move { c.me(&t).await }
        })
    };
    // A valid token is used as it is.
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 0);

    // About to expire: refreshed first, the rotated refresh token kept.
    clock.advance(Duration::minutes(29) + Duration::seconds(30));
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 1);
    let kept = store.tokens.lock().unwrap().clone().unwrap();
    assert_ne!(kept.access_token, access);
    assert_ne!(kept.refresh_token.as_deref(), Some(refresh.as_str()));
    assert!(kept.expires_at > clock.now() + Duration::minutes(59));

    // Graph no longer takes the access token (401): refreshed once, the call retried once.
    server.state().access.remove(&kept.access_token);
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 2);

    // Consent revoked: the 401 leads to a refused refresh, which is an authorization error.
    let now = store.tokens.lock().unwrap().clone().unwrap();
    server.state().access.remove(&now.access_token);
    server
        .state()
        .revoked
        .insert(now.refresh_token.clone().unwrap());
    assert_eq!(call().await.unwrap_err(), CalendarError::Auth);
    assert_eq!(*store.saves.lock().unwrap(), 2);
    server.assert_clean();
}

#[tokio::test]
async fn graph_failures_fail_closed() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    let (from, to) = window();

    // A server error is an error, never "no busy time" (and no fallback hides it).
    server.state().fail_with = Some(500);
    let err = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("500")),
        "{err:?}"
    );
    assert_eq!(
        server.state().view_requests,
        0,
        "a failing getSchedule is not a personal account"
    );
    let err = client.busy(&token, None, from, to, ZONE).await.unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("500")),
        "{err:?}"
    );
    assert_eq!(server.state().view_requests, 1);
    let err = client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap_err();
    assert!(matches!(err, CalendarError::Other(_)), "{err:?}");
    server.state().fail_with = None;

    // Throttled: the server's Retry-After travels with the error.
    server.state().throttle = true;
    let err = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap_err();
    assert_eq!(
        retry_after(&err),
        Some(StdDuration::from_secs(7)),
        "{err:?}"
    );
    server.state().throttle = false;

    // An unknown token: an authorization error.
    assert_eq!(
        client.delete_event("not-a-token", "x").await.unwrap_err(),
        CalendarError::Auth
    );

    // A slow server: a timeout.
    server.state().delay = Some(StdDuration::from_secs(3));
    let slow = server.client_with_timeout(StdDuration::from_millis(300));
    assert_eq!(
        slow.busy(&token, Some(MAILBOX), from, to, ZONE)
            .await
            .unwrap_err(),
        CalendarError::Timeout
    );
    assert_eq!(
        slow.refresh("anything").await.unwrap_err(),
        CalendarError::Timeout
    );
    server.state().delay = None;

    // Nobody listening: a network error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut gone = server.settings.clone();
    gone.graph_base_url = format!("http://127.0.0.1:{port}/v1.0");
    let gone = GraphClient::new(reqwest::Client::new(), gone);
    assert_eq!(
        gone.busy(&token, None, from, to, ZONE).await.unwrap_err(),
        CalendarError::Network
    );
    server.assert_clean();
}
