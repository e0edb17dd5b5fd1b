//! A Graph-shaped server on 127.0.0.1 that answers with the bodies of
//! `shared/tests/fixtures/graph/` (shapes from Microsoft's documentation) and checks what it
//! receives. Shared by the Graph client's tests and the API's Microsoft 365 calendar test.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub use std::collections::{HashMap, HashSet};
pub use std::sync::{Arc, Mutex};
pub use std::time::Duration as StdDuration;

pub use async_trait::async_trait;
pub use axum::extract::{Path, Query, State};
pub use axum::http::{HeaderMap, StatusCode};
pub use axum::response::{IntoResponse, Response};
pub use axum::routing::{get, post};
pub use axum::{Json, Router};
pub use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use base64::Engine;
pub use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
pub use chrono_tz::America::New_York;
pub use chrono_tz::Tz;
pub use gomomo::adapters::graph::{
    authorize_url, pkce, retry_after, transaction_id, GraphClient, GraphEventWrite, GraphSettings,
    GraphTokens, TokenStore, BOOKING_PROPERTY, GRAPH_SCOPES,
};
pub use gomomo::ports::calendar::{BusyRange, CalendarError};
pub use gomomo::ports::clock::Clock;
pub use serde_json::{json, Value};
pub use sha2::{Digest, Sha256};
pub use uuid::Uuid;

pub const CLIENT_ID: &str = "00001111-aaaa-2222-bbbb-3333cccc4444";
pub const CLIENT_SECRET: &str = "app-s3cret";
pub const REDIRECT: &str = "https://book.example.com/api/oauth/microsoft/callback";
pub const MAILBOX: &str = "dana@contoso.example";
/// The calendar owner's zone: the all-day event covers its whole day there.
pub const ZONE: Tz = New_York;

pub fn fixture(name: &str) -> Value {
    // From this crate's tests, or from another crate of the workspace.
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = [
        here.join("tests/fixtures/graph"),
        here.join("../../shared/tests/fixtures/graph"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
    .unwrap();
    let path = dir.join(format!("{name}.json"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        v["source"].as_str().unwrap().starts_with("https://"),
        "{name}"
    );
    v
}

pub fn body(name: &str) -> Value {
    fixture(name)["body"].clone()
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub fn parse_graph_time(v: &Value) -> DateTime<Utc> {
    assert_eq!(v["timeZone"], "UTC", "times are sent in UTC: {v}");
    let s = v["dateTime"].as_str().unwrap();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
}

pub fn graph_time(t: DateTime<Utc>) -> Value {
    json!({"dateTime": t.format("%Y-%m-%dT%H:%M:%S.0000000").to_string(), "timeZone": "UTC"})
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Account {
    Work,
    Personal,
}

#[derive(Clone, Debug)]
pub struct Event {
    pub id: String,
    pub subject: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// All-day: the bare dates (start, exclusive end).
    pub all_day: Option<(NaiveDate, NaiveDate)>,
    pub show_as: String,
    pub cancelled: bool,
    pub transaction_id: Option<String>,
    pub booking_marker: Option<String>,
}

impl Event {
    /// The instants it covers (an all-day event in the owner's zone, as Exchange stores it).
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
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
    pub fn json(&self) -> Value {
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
pub struct Graph {
    pub base: String,
    /// Codes issued by the consent page: code -> (challenge, redirect_uri).
    pub codes: HashMap<String, (String, String)>,
    pub access: HashMap<String, Account>,
    pub refresh: HashMap<String, Account>,
    pub revoked: HashSet<String>,
    pub issued: usize,
    pub token_grants: Vec<String>,
    pub events: Vec<Event>,
    pub next_id: usize,
    pub creates: Vec<String>,
    pub patches: usize,
    pub schedule_calls: usize,
    pub view_calls: usize,
    /// calendarView requests, counted before any check (a refused one included).
    pub view_requests: usize,
    /// Everything the server found wrong in a request (the tests assert it stays empty).
    pub violations: Vec<String>,
    pub fail_with: Option<u16>,
    pub throttle: bool,
    pub delay: Option<StdDuration>,
    pub foreign_next_link: bool,
    /// getSchedule answers 200 with an error for the mailbox (an address it cannot resolve).
    pub schedule_unresolvable: bool,
}

pub type G = Arc<Mutex<Graph>>;

pub fn error(status: u16, name: &str) -> Response {
    (StatusCode::from_u16(status).unwrap(), Json(body(name))).into_response()
}

impl Graph {
    pub fn mint(&mut self, account: Account, kind: &str) -> (String, String) {
        self.issued += 1;
        let access = format!("access-{kind}-{}", self.issued);
        let refresh = format!("refresh-{kind}-{}", self.issued);
        self.access.insert(access.clone(), account);
        self.refresh.insert(refresh.clone(), account);
        (access, refresh)
    }

    /// The checks every Graph call goes through; `Err` is the answer to send instead.
    pub fn gate(&mut self, h: &HeaderMap, what: &str) -> Result<Account, Box<Response>> {
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

    pub fn event_from_request(&mut self, what: &str, b: &Value, ev: &mut Event) {
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

pub async fn delay(g: &G) {
    let d = g.lock().unwrap().delay;
    if let Some(d) = d {
        tokio::time::sleep(d).await;
    }
}

pub async fn authorize(
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

pub async fn token(State(g): State<G>, Path(tenant): Path<String>, form: String) -> Response {
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

pub async fn me(
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

pub async fn create_event(State(g): State<G>, h: HeaderMap, Json(b): Json<Value>) -> Response {
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

pub async fn patch_event(
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

pub async fn delete_event(State(g): State<G>, Path(id): Path<String>, h: HeaderMap) -> Response {
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

pub async fn get_event(
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

pub async fn get_schedule(State(g): State<G>, h: HeaderMap, Json(b): Json<Value>) -> Response {
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

pub async fn calendar_view(
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

pub struct Server {
    pub g: G,
    pub settings: GraphSettings,
}

impl Server {
    pub async fn start() -> Self {
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

    pub fn client(&self) -> GraphClient {
        self.client_with_timeout(StdDuration::from_secs(5))
    }

    pub fn client_with_timeout(&self, timeout: StdDuration) -> GraphClient {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        GraphClient::new(http, self.settings.clone())
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, Graph> {
        self.g.lock().unwrap()
    }

    /// Tokens of an account as the code flow would have given them.
    pub fn tokens(&self, account: Account) -> (String, String) {
        self.state().mint(account, "seed")
    }

    pub fn assert_clean(&self) {
        let v = self.state().violations.clone();
        assert!(v.is_empty(), "the server saw bad requests: {v:#?}");
    }
}

/// Follows the consent URL to the redirect with its code, as the browser would.
pub async fn consent(server: &Server, url: &str) -> (String, String) {
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
    pub fn client_http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }
}
