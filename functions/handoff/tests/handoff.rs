//! Handoff links and inbound SMS through the real routers on a real Postgres. Outbound SMS go
//! through the real Twilio adapter (reqwest, basic auth, form body) to a Twilio-shaped HTTP
//! server started inside the test on 127.0.0.1.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use gomomo::adapters::twilio_sms::TwilioSmsSender;
use gomomo::domain::{ClientName, Email, Locale, PhoneE164, SessionId, TenantId};
use gomomo::http::twilio::signature;
use gomomo::ports::SmsSender;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::booking::ClientDetails;
use gomomo::services::sms::SmsError;
use gomomo::services::{BookingService, Clock};
use gomomo_handoff::{router, HandoffState};
use gomomo_voice::VoiceState;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{config, march_2_8am, ny, BASE, CALLER, SID, TOKEN};
use tower::ServiceExt;

const OPTED_OUT_AT_TWILIO: &str = "+15555550666";

// ---- a Twilio-shaped Messages API on 127.0.0.1 --------------------------------------------

#[derive(Clone, Default)]
struct FakeTwilio {
    sent: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

async fn messages(
    State(f): State<FakeTwilio>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    use base64::Engine as _;
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    );
    if auth != want || account != SID {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        );
    }
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if form.get("To").map(String::as_str) == Some(OPTED_OUT_AT_TWILIO) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}),
            ),
        );
    }
    let mut sent = f.sent.lock().unwrap();
    sent.push(form);
    (
        StatusCode::CREATED,
        Json(json!({"sid": format!("SM{:032}", sent.len()), "status": "queued"})),
    )
}

async fn fake_twilio() -> (String, FakeTwilio) {
    let fake = FakeTwilio::default();
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(messages),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), fake)
}

// ---- the system under test ------------------------------------------------------------------

struct World {
    voice: Router,
    handoff: Router,
    state: HandoffState,
    pool: PgPool,
    clock: Clock,
    twilio: FakeTwilio,
}

async fn world(pool: PgPool) -> World {
    world_with(pool, &[]).await
}

/// [`world`] with more settings.
async fn world_with(pool: PgPool, extra: &[(&str, &str)]) -> World {
    seed_demo(&pool).await.unwrap();
    let (twilio_url, twilio) = fake_twilio().await;
    let mut settings = vec![("TWILIO_API_BASE_URL", twilio_url.as_str())];
    settings.extend_from_slice(extra);
    let config = config(&settings);
    assert!(config.telephony.twilio_sms_enabled());
    let clock = Clock::fixed(march_2_8am());
    let sms = gomomo::app::sms_sender(&config.telephony);
    let state = HandoffState::new(pool.clone(), &config, clock.clone(), sms.clone());
    let voice = gomomo_voice::router(VoiceState::new(pool.clone(), &config, clock.clone(), sms));
    World {
        voice,
        handoff: router(state.clone()),
        state,
        pool,
        clock,
        twilio,
    }
}

fn signed(path: &str, params: &[(&str, &str)]) -> Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature::sign(TOKEN, &format!("{BASE}{path}"), &owned);
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        ))
        .unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

async fn get(app: &Router, uri: &str) -> (StatusCode, HeaderMap, String) {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// `POST /handoff/resume` with `body` as JSON; the answer's body parsed as JSON.
async fn post_resume(app: &Router, body: Value) -> (StatusCode, HeaderMap, Value) {
    let req = Request::post("/handoff/resume")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (code, headers, text) = send(app, req).await;
    (code, headers, serde_json::from_str(&text).unwrap())
}

/// Whether the token's row is spent.
async fn consumed(pool: &PgPool) -> bool {
    let at: Option<DateTime<Utc>> = sqlx::query_scalar("SELECT consumed_at FROM handoff_tokens")
        .fetch_one(pool)
        .await
        .unwrap();
    at.is_some()
}

/// No session id anywhere in a response's headers or body.
fn assert_no_session(headers: &HeaderMap, body: &str) {
    assert!(headers.get("location").is_none(), "{headers:?}");
    for (name, value) in headers {
        let v = value.to_str().unwrap_or_default();
        assert!(!v.contains("gs_") && !v.contains("session"), "{name}: {v}");
    }
    assert!(
        !body.contains("gs_") && !body.contains("session="),
        "{body}"
    );
}

/// The `<Message>` texts of a TwiML reply (parsed as XML).
fn messages_of(xml: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "Response");
    doc.descendants()
        .filter(|n| n.has_tag_name("Message"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

impl World {
    async fn call(&self, sid: &str, speech: Option<&str>) -> String {
        let req = match speech {
            None => signed(
                "/twilio/voice",
                &[
                    ("CallSid", sid),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                ],
            ),
            Some(s) => signed(
                "/twilio/voice/gather",
                &[
                    ("CallSid", sid),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                    ("SpeechResult", s),
                ],
            ),
        };
        let (code, _, body) = send(&self.voice, req).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        body
    }

    async fn sms(&self, message_sid: &str, from: &str, body: &str) -> (StatusCode, Vec<String>) {
        let (code, _, xml) = send(
            &self.handoff,
            signed(
                "/twilio/sms",
                &[
                    ("MessageSid", message_sid),
                    ("From", from),
                    ("To", DEMO_PHONE_NUMBER),
                    ("Body", body),
                    ("NumMedia", "0"),
                ],
            ),
        )
        .await;
        if code != StatusCode::OK {
            return (code, vec![xml]);
        }
        (code, messages_of(&xml))
    }

    fn texts(&self) -> Vec<HashMap<String, String>> {
        self.twilio.sent.lock().unwrap().clone()
    }

    async fn book_for_caller(&self) -> String {
        let booking = BookingService::new(
            self.pool.clone(),
            self.clock.clone(),
            std::time::Duration::from_secs(300),
        );
        let session = SessionId::parse("web-1").unwrap();
        let start = ny(2026, 3, 4, 9, 30);
        let hold = booking
            .create_hold(
                TenantId(DEMO_TENANT_ID),
                DEMO_SERVICES[0].0,
                start,
                &session,
            )
            .await
            .unwrap();
        let (appt, _) = booking
            .confirm(
                TenantId(DEMO_TENANT_ID),
                hold.id,
                &session,
                &ClientDetails {
                    name: ClientName::parse("Ana Lopez").unwrap(),
                    email: Email::parse("ana@example.com").unwrap(),
                    phone: Some(PhoneE164::parse(CALLER).unwrap()),
                    notes: None,
                    time_zone: None,
                    locale: None,
                },
            )
            .await
            .unwrap();
        appt.reference
    }
}

fn token_of(link_text: &str) -> String {
    let i = link_text.find("token=").unwrap() + "token=".len();
    link_text[i..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

// ---- handoff ------------------------------------------------------------------------------

#[sqlx::test(migrations = "../../migrations")]
async fn text_me_a_link_resumes_the_call_in_chat(pool: PgPool) {
    let w = world(pool).await;
    let sid = "CA20000000000000000000000000000001";
    // GIVEN a call that gathered a service and a name of sorts, then asked for a link
    w.call(sid, None).await;
    w.call(sid, Some("I'd like to book a follow-up visit"))
        .await;
    let xml = w.call(sid, Some("actually can you text me a link")).await;
    assert!(xml.contains("<Hangup/>"), "{xml}");

    // THEN the real Twilio adapter posted the SMS from the tenant's number
    let texts = w.texts();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0]["To"], CALLER);
    assert_eq!(texts[0]["From"], DEMO_PHONE_NUMBER);
    let body = &texts[0]["Body"];
    assert!(
        body.contains(&format!("{BASE}/handoff/resume?token=")),
        "{body}"
    );
    let token = token_of(body);

    // WHEN the link is opened (twice: a link preview, then the person), and HEAD is asked
    let uri = format!("/handoff/resume?token={token}");
    for _ in 0..2 {
        let (code, headers, page) = get(&w.handoff, &uri).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        assert_eq!(
            headers["content-type"].to_str().unwrap(),
            "text/html; charset=utf-8"
        );
        assert_eq!(headers["cache-control"].to_str().unwrap(), "no-store");
        assert_eq!(headers["referrer-policy"].to_str().unwrap(), "no-referrer");
        // THEN the page says what the chat continues and offers to continue, nothing more
        assert!(page.contains("Continue in chat"), "{page}");
        assert!(
            page.contains("You were booking an appointment on the phone: Follow-up Visit"),
            "{page}"
        );
        assert!(!page.contains(CALLER), "no phone number on the page");
        assert!(
            !page.contains(&token),
            "the token is read from the URL, not echoed"
        );
        assert_no_session(&headers, &page);
    }
    let head = Request::head(&uri).body(Body::empty()).unwrap();
    let (code, headers, body) = send(&w.handoff, head).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.is_empty());
    assert_no_session(&headers, &body);
    assert!(!consumed(&w.pool).await, "GET and HEAD spend nothing");

    // WHEN the person clicks "Continue in chat"
    let (code, headers, resumed) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::OK, "{resumed}");
    assert_eq!(headers["cache-control"].to_str().unwrap(), "no-store");
    assert!(consumed(&w.pool).await);
    assert_eq!(resumed["tenant_id"], DEMO_TENANT_ID.to_string());
    let session = resumed["session_id"].as_str().unwrap().to_string();
    // an issued session of the tenant, which the widget's socket accepts
    assert!(
        session.starts_with("gs_") && session.len() == 46,
        "{resumed}"
    );
    assert!(gomomo::services::sessions::accept(
        &w.pool,
        gomomo::domain::TenantId(DEMO_TENANT_ID),
        &session
    )
    .await
    .is_ok());
    assert_eq!(resumed["context"]["channel"], "voice");
    assert_eq!(resumed["context"]["service_name"], "Follow-up Visit");
    assert!(
        resumed["context"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("You were booking an appointment"),
        "{resumed}"
    );
    assert!(
        resumed["context"].get("client_email").is_none()
            && resumed["context"].get("transcript").is_none(),
        "only what the page shows: {resumed}"
    );
    let keys: Vec<&String> = resumed.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["context", "session_id", "tenant_id"]);

    // THEN the chat session exists with the call's context: the service in the dialogue
    // state, and the transcript as the history the agent reads
    let state = gomomo::db::chat::session_state(&w.pool, DEMO_TENANT_ID, &session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state["dialog"]["flow"], "book");
    assert_eq!(
        state["dialog"]["service_id"],
        DEMO_SERVICES[1].0.to_string()
    );
    assert_eq!(state["client_phone"], CALLER);
    let history = gomomo::db::chat::recent_messages(&w.pool, DEMO_TENANT_ID, &session, 40)
        .await
        .unwrap();
    let all: Vec<String> = history.iter().map(|m| m["content"].to_string()).collect();
    assert!(all[0].contains("Follow-up Visit"), "{all:?}");
    assert!(
        all.iter()
            .any(|m| m.contains("I'd like to book a follow-up visit")),
        "the caller's words are in the history: {all:?}"
    );
    assert!(all.last().unwrap().contains("Welcome back"), "{all:?}");
    let (ctx_tenant, ctx) = gomomo::services::handoff::context_for_session(&w.pool, &session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ctx_tenant, DEMO_TENANT_ID);
    assert_eq!(ctx.service_name.as_deref(), Some("Follow-up Visit"));

    // AND the session id went nowhere else: not in the audit log
    let audit: Vec<Value> = sqlx::query_scalar("SELECT payload FROM audit_log")
        .fetch_all(&w.pool)
        .await
        .unwrap();
    assert!(!audit.iter().any(|p| p.to_string().contains(&session)));

    // AND the link works once: a replay of the POST is 410, the page then says so
    let (code, headers, again) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(again["error"]["code"], "token_used");
    assert_no_session(&headers, &again.to_string());
    let (code, _, page) = get(&w.handoff, &uri).await;
    assert_eq!(code, StatusCode::GONE);
    assert!(page.contains("expired"), "{page}");
    assert!(!page.contains("Continue in chat"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn tampered_expired_and_missing_tokens(pool: PgPool) {
    let w = world(pool).await;
    let ctx = gomomo::services::handoff::HandoffContext {
        channel: "voice".into(),
        ..Default::default()
    };
    let token = w
        .state
        .handoff
        .create(TenantId(DEMO_TENANT_ID), "voice_handoff", None, None, &ctx)
        .await
        .unwrap();
    // tampered: one character of the MAC changed, or of the id
    let mut bad = token.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).unwrap();
    let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={bad}")).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(page.contains("not valid"), "{page}");
    let (code, _, e) = post_resume(&w.handoff, json!({"token": bad})).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(e["error"]["code"], "token_invalid");
    let (code, _, e) = post_resume(&w.handoff, json!({"token": "x".repeat(300)})).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert_eq!(e["error"]["code"], "token_invalid");
    // The id's first character changed (to one it does not already have).
    let other = if token.starts_with('x') { 'y' } else { 'x' };
    let swapped = format!("{other}{}", &token[1..]);
    assert_eq!(
        get(&w.handoff, &format!("/handoff/resume?token={swapped}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&w.handoff, "/handoff/resume?token=garbage").await.0,
        StatusCode::FORBIDDEN
    );
    let (code, _, page) = get(&w.handoff, "/handoff/resume").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(page.contains("missing its code"), "{page}");
    assert_eq!(
        get(&w.handoff, "/handoff/resume?token=%20").await.0,
        StatusCode::BAD_REQUEST
    );
    for body in [json!({}), json!({"token": ""}), json!({"token": null})] {
        let (code, _, e) = post_resume(&w.handoff, body).await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert_eq!(e["error"]["code"], "token_missing");
    }
    // a body that is not JSON is a client mistake too, never a 500
    let req = Request::post("/handoff/resume")
        .header("content-type", "application/json")
        .body(Body::from("token="))
        .unwrap();
    assert_eq!(send(&w.handoff, req).await.0, StatusCode::BAD_REQUEST);
    // a tampered page echoes nothing of the request
    let (code, _, page) = get(
        &w.handoff,
        "/handoff/resume?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E.x",
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(!page.contains("alert"), "{page}");
    assert!(!consumed(&w.pool).await);

    // still valid just before its time: the page shows, nothing is spent
    w.clock.advance(Duration::minutes(14));
    let (code, _, _) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
    assert_eq!(code, StatusCode::OK);
    // expired: 15 minutes after it was made the genuine token is gone, for GET and POST
    w.clock.advance(Duration::minutes(1) + Duration::seconds(1));
    let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
    assert_eq!(code, StatusCode::GONE);
    assert!(page.contains("expired"), "{page}");
    assert!(page.contains("work once, for 15 minutes"), "{page}");
    let (code, _, e) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(e["error"]["code"], "token_expired");
    assert!(
        !consumed(&w.pool).await,
        "an expired token is never consumed"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_pages_tell_the_configured_lifetime(pool: PgPool) {
    let w = world_with(pool, &[("HANDOFF_TTL_MINUTES", "45")]).await;
    let ctx = gomomo::services::handoff::HandoffContext {
        channel: "voice".into(),
        ..Default::default()
    };
    let token = w
        .state
        .handoff
        .create(TenantId(DEMO_TENANT_ID), "voice_handoff", None, None, &ctx)
        .await
        .unwrap();
    let uri = format!("/handoff/resume?token={token}");
    w.clock.advance(Duration::minutes(44));
    let (code, _, page) = get(&w.handoff, &uri).await;
    assert_eq!(code, StatusCode::OK, "still open after 44 of 45 minutes");
    assert!(page.contains("within 45 minutes of being sent"), "{page}");
    assert!(
        !page.contains("15 minutes") && !page.contains("{{"),
        "{page}"
    );
    w.clock.advance(Duration::minutes(1));
    let (code, _, page) = get(&w.handoff, &uri).await;
    assert_eq!(code, StatusCode::GONE);
    assert!(page.contains("work once, for 45 minutes"), "{page}");
    assert!(!page.contains("15 minutes"), "{page}");

    // The texted link says the same lifetime (an R reply to a reminder).
    w.book_for_caller().await;
    let (_, r) = w
        .sms("SM45000000000000000000000000000001", CALLER, "R")
        .await;
    assert!(r[0].contains("valid 45 minutes"), "{r:?}");
}

/// The `says` messages of a handoff page's script, parsed.
fn says_of(page: &str) -> Value {
    let start = page.find("var says = ").unwrap() + "var says = ".len();
    let end = start + page[start..].find(";\n").unwrap();
    serde_json::from_str(&page[start..end]).unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_page_speaks_the_language_of_the_link(pool: PgPool) {
    let w = world(pool).await;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let link = |locale, intent: &str| {
        let ctx = gomomo::services::handoff::HandoffContext {
            channel: "voice".into(),
            intent: Some(intent.into()),
            service_name: Some("Limpieza dental".into()),
            date: Some(day),
            locale,
            ..Default::default()
        };
        let state = w.state.clone();
        async move {
            state
                .handoff
                .create(TenantId(DEMO_TENANT_ID), "voice_handoff", None, None, &ctx)
                .await
                .unwrap()
        }
    };

    // GIVEN a call in Spanish about moving an appointment, handed off by a link
    let token = link(Some(Locale::Es), "cambiar una cita").await;
    // WHEN the link is opened
    let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
    assert_eq!(code, StatusCode::OK, "{page}");
    // THEN the page is in Spanish: its language, title, heading, button, note and line
    assert!(page.contains("<html lang=\"es\">"), "{page}");
    assert!(
        page.contains("<title>Continuar en el chat</title>"),
        "{page}"
    );
    assert!(
        page.contains("<h1>Retome la conversación donde la dejó</h1>"),
        "{page}"
    );
    assert!(page.contains(">Continuar en el chat</button>"), "{page}");
    assert!(
        page.contains("dentro de los 15 minutos posteriores a su envío"),
        "{page}"
    );
    let spanish = "Usted estaba cambiando una cita por teléfono: Limpieza dental, \
                   martes 3 de marzo. Continúe en el chat y seguiremos desde ahí.";
    assert!(page.contains(spanish), "{page}");
    // and so are the messages its script shows after the click
    let says = says_of(&page);
    assert_eq!(
        says["token_used"],
        "Este enlace ya se usó. Por favor, llámenos de nuevo o inicie un chat nuevo."
    );
    assert!(
        says["storage"]
            .as_str()
            .unwrap()
            .contains("Continuar en el chat"),
        "{says}"
    );
    for english in [
        "Continue in chat",
        "Pick up where",
        "You were",
        "Tuesday",
        "minutes",
    ] {
        assert!(
            !page.contains(english),
            "{english:?} on a Spanish page: {page}"
        );
    }
    // WHEN the person continues, THEN the answer's summary is the same Spanish line
    let (code, _, r) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::OK, "{r}");
    assert_eq!(r["context"]["summary"], spanish);
    assert_eq!(r["context"]["date"], "2026-03-03");

    // GIVEN the same errand from an English call (and from a link with no language)
    for locale in [Some(Locale::En), None] {
        let token = link(locale, "reschedule an appointment").await;
        let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
        assert_eq!(code, StatusCode::OK, "{page}");
        // THEN the page reads as it always did
        assert!(page.contains("<html lang=\"en\">"), "{page}");
        assert!(page.contains("<title>Continue in chat</title>"), "{page}");
        assert!(
            page.contains("<h1>Pick up where you left off</h1>"),
            "{page}"
        );
        assert!(page.contains(">Continue in chat</button>"), "{page}");
        assert!(
            page.contains(
                "This link works once, within 15 minutes of being sent. \
                 After you continue, the chat stays open in this browser."
            ),
            "{page}"
        );
        let english = "You were rescheduling an appointment on the phone: Limpieza dental, \
                       Tuesday, March 3. Continue in chat and we'll pick up from there.";
        assert!(page.contains(&english.replace('\'', "&#39;")), "{page}");
        assert_eq!(
            says_of(&page)["token_used"],
            "This link was already used. Please call us again or start a new chat."
        );
        assert!(
            !page.contains("Usted") && !page.contains("martes"),
            "{page}"
        );
        let (code, _, r) = post_resume(&w.handoff, json!({"token": token})).await;
        assert_eq!(code, StatusCode::OK, "{r}");
        assert_eq!(r["context"]["summary"], english);
    }

    // A used link's page comes before its context is read: it stays in English.
    let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
    assert_eq!(code, StatusCode::GONE);
    assert!(page.contains("This link has expired"), "{page}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_redemption_that_fails_part_way_leaves_the_link_unspent(pool: PgPool) {
    let w = world(pool).await;
    let ctx = gomomo::services::handoff::HandoffContext {
        channel: "voice".into(),
        client_name: Some("Ada".into()),
        ..Default::default()
    };
    let token = w
        .state
        .handoff
        .create(TenantId(DEMO_TENANT_ID), "voice_handoff", None, None, &ctx)
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let pool = w.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    // The last step (writing the session's first messages) fails.
    for sql in [
        "CREATE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$",
        "CREATE TRIGGER refuse_messages BEFORE INSERT ON chat_messages
           FOR EACH ROW EXECUTE FUNCTION refuse_row()",
    ] {
        sqlx::query(sql).execute(&w.pool).await.unwrap();
    }
    let (code, _, e) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR, "{e}");
    assert!(!consumed(&w.pool).await, "the link is still unspent");
    assert_eq!(count("SELECT count(*) FROM issued_sessions").await, 0);
    assert_eq!(count("SELECT count(*) FROM chat_sessions").await, 0);
    assert_eq!(
        count("SELECT count(*) FROM audit_log WHERE event_type = 'handoff.token_consumed'").await,
        0
    );

    // Once the fault is gone the same link works, once, and opens a seeded session.
    sqlx::query("DROP TRIGGER refuse_messages ON chat_messages")
        .execute(&w.pool)
        .await
        .unwrap();
    let (code, _, r) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::OK, "{r}");
    assert!(consumed(&w.pool).await);
    let session = r["session_id"].as_str().unwrap().to_string();
    let seeded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM chat_messages m JOIN issued_sessions s ON s.id = m.session_id
          WHERE s.id = $1",
    )
    .bind(&session)
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert!(seeded >= 2, "{seeded}");
    let (code, _, e) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(e["error"]["code"], "token_used");
}

// ---- inbound SMS ----------------------------------------------------------------------------

#[sqlx::test(migrations = "../../migrations")]
async fn stop_start_help_and_the_ledger(pool: PgPool) {
    let w = world(pool).await;
    let gate = w.state.handoff.sms().clone();
    let caller = PhoneE164::parse(CALLER).unwrap();

    let (code, replies) = w
        .sms("SM00000000000000000000000000000001", CALLER, "Stop")
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(replies.is_empty(), "Twilio confirms a STOP itself");
    assert!(
        gomomo::db::sms::is_opted_out(&w.pool, DEMO_TENANT_ID, CALLER)
            .await
            .unwrap()
    );

    // every outbound SMS checks the ledger first: nothing reaches Twilio
    let e = gate
        .send(
            TenantId(DEMO_TENANT_ID),
            Some(DEMO_PHONE_NUMBER),
            &caller,
            "hello",
        )
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::OptedOut), "{e:?}");
    let e = gate
        .send_sms(Some(DEMO_PHONE_NUMBER), &caller, "hello")
        .await
        .unwrap_err();
    assert_eq!(e, gomomo::ports::DeliveryError::OptedOut);
    // nor does a handoff from a call
    let sid = "CA20000000000000000000000000000002";
    w.call(sid, None).await;
    let xml = w.call(sid, Some("text me a link")).await;
    assert!(xml.contains("opted out"), "{xml}");
    assert!(w.texts().is_empty());
    // C/R/X while opted out: no reply
    let (_, replies) = w
        .sms("SM00000000000000000000000000000002", CALLER, "C")
        .await;
    assert!(replies.is_empty());

    let (_, replies) = w
        .sms("SM00000000000000000000000000000003", CALLER, "unstop")
        .await;
    assert!(replies[0].contains("subscribed"), "{replies:?}");
    assert!(
        !gomomo::db::sms::is_opted_out(&w.pool, DEMO_TENANT_ID, CALLER)
            .await
            .unwrap()
    );
    gate.send(
        TenantId(DEMO_TENANT_ID),
        Some(DEMO_PHONE_NUMBER),
        &caller,
        "hello",
    )
    .await
    .unwrap();
    assert_eq!(w.texts().len(), 1);

    let (_, replies) = w
        .sms("SM00000000000000000000000000000004", CALLER, "HELP")
        .await;
    assert!(replies[0].contains("Reply STOP"), "{replies:?}");
    // "stop please" is not a keyword
    w.sms("SM00000000000000000000000000000005", CALLER, "stop please")
        .await;
    assert!(
        !gomomo::db::sms::is_opted_out(&w.pool, DEMO_TENANT_ID, CALLER)
            .await
            .unwrap()
    );
    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM sms_opt_out_events")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(history, 2);

    // Twilio's own 21610 answer is written back to the ledger
    let other = PhoneE164::parse(OPTED_OUT_AT_TWILIO).unwrap();
    let e = gate
        .send(
            TenantId(DEMO_TENANT_ID),
            Some(DEMO_PHONE_NUMBER),
            &other,
            "hi",
        )
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::OptedOut), "{e:?}");
    assert!(
        gomomo::db::sms::is_opted_out(&w.pool, DEMO_TENANT_ID, OPTED_OUT_AT_TWILIO)
            .await
            .unwrap()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn c_r_x_replies_go_through_the_booking_service(pool: PgPool) {
    let w = world(pool).await;
    let reference = w.book_for_caller().await;

    let (_, r) = w
        .sms("SM10000000000000000000000000000001", CALLER, "c")
        .await;
    assert!(
        r[0].contains("is confirmed") && r[0].contains(&reference),
        "{r:?}"
    );
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE event_type = 'booking.attendance_confirmed'",
    )
    .fetch_one(&w.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    let (_, r) = w
        .sms("SM10000000000000000000000000000002", CALLER, "R")
        .await;
    assert!(
        r[0].contains(&format!("{BASE}/handoff/resume?token=")),
        "{r:?}"
    );
    let token = token_of(&r[0]);
    let (code, _, page) = get(&w.handoff, &format!("/handoff/resume?token={token}")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(
        page.contains("You were rescheduling an appointment by text message"),
        "{page}"
    );
    let (code, _, resumed) = post_resume(&w.handoff, json!({"token": token})).await;
    assert_eq!(code, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["context"]["channel"], "sms");
    let session = resumed["session_id"].as_str().unwrap().to_string();
    let state = gomomo::db::chat::session_state(&w.pool, DEMO_TENANT_ID, &session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state["dialog"]["flow"], "reschedule");
    assert_eq!(state["dialog"]["reference"], reference.as_str());
    assert_eq!(state["client_email"], "ana@example.com");

    // X asks once; a duplicate delivery of the same X acts once (same reply, no cancel)
    let (_, first) = w
        .sms("SM10000000000000000000000000000003", CALLER, "X")
        .await;
    assert!(first[0].contains("reply X again"), "{first:?}");
    let (_, dup) = w
        .sms("SM10000000000000000000000000000003", CALLER, "X")
        .await;
    assert_eq!(first, dup);
    let status = |pool: PgPool, r: String| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM appointments WHERE reference = $1")
            .bind(r)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(status(w.pool.clone(), reference.clone()).await, "confirmed");
    let (_, r) = w
        .sms("SM10000000000000000000000000000004", CALLER, "x")
        .await;
    assert!(r[0].contains("is cancelled"), "{r:?}");
    assert_eq!(status(w.pool.clone(), reference.clone()).await, "cancelled");
    let slot_opened: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE event_type = 'SlotOpened'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(
        slot_opened, 1,
        "the booking service's own events were written"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn replies_are_rate_limited_per_phone(pool: PgPool) {
    let w = world(pool).await;
    w.book_for_caller().await;
    for i in 1..=3 {
        let (_, r) = w
            .sms(
                &format!("SM3000000000000000000000000000000{i}"),
                CALLER,
                "R",
            )
            .await;
        assert!(r[0].contains("token="), "link {i}: {r:?}");
    }
    // the fourth link within the hour is not sent; HELP and C are always answered
    let (_, r) = w
        .sms("SM30000000000000000000000000000004", CALLER, "R")
        .await;
    assert!(r.is_empty(), "{r:?}");
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM handoff_tokens")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(tokens, 3);
    let (_, r) = w
        .sms("SM30000000000000000000000000000005", CALLER, "help")
        .await;
    assert_eq!(r.len(), 1);
    let (_, r) = w
        .sms("SM30000000000000000000000000000006", CALLER, "C")
        .await;
    assert_eq!(r.len(), 1);
    // an hour later the window has moved on
    w.clock.advance(Duration::minutes(61));
    let (_, r) = w
        .sms("SM30000000000000000000000000000007", CALLER, "R")
        .await;
    assert_eq!(r.len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_tenant_has_its_own_sms_budget_per_phone(pool: PgPool) {
    let w = world(pool).await;
    let gate = w.state.handoff.sms().clone();
    let caller = PhoneE164::parse(CALLER).unwrap();
    let a = TenantId(DEMO_TENANT_ID);
    // GIVEN a second tenant with its own number
    let b = TenantId(uuid::Uuid::new_v4());
    let other_number = "+18005550177";
    let mut conn = w.pool.acquire().await.unwrap();
    gomomo::db::tenants::insert_tenant(
        &mut conn,
        &gomomo::db::tenants::NewTenant {
            id: b.0,
            name: "Other Studio",
            time_zone: "America/New_York",
            slot_step_minutes: 30,
            min_notice_minutes: 60,
            max_days_ahead: 30,
            buffer_minutes: 0,
        },
    )
    .await
    .unwrap();
    gomomo::db::calls::assign_number(&mut conn, b.0, other_number)
        .await
        .unwrap();
    // WHEN tenant A sends the maximum (3 per hour) to the caller
    for i in 1..=3 {
        gate.send(a, Some(DEMO_PHONE_NUMBER), &caller, &format!("a{i}"))
            .await
            .unwrap();
    }
    let e = gate
        .send(a, Some(DEMO_PHONE_NUMBER), &caller, "a4")
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::RateLimited), "{e:?}");
    // THEN tenant B can still text the same number, up to its own maximum
    for i in 1..=3 {
        gate.send(b, Some(other_number), &caller, &format!("b{i}"))
            .await
            .unwrap();
    }
    let e = gate
        .send(b, Some(other_number), &caller, "b4")
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::RateLimited), "{e:?}");
    // and A is still limited, through the port as well (the tenant found by its number)
    let e = gate
        .send(a, Some(DEMO_PHONE_NUMBER), &caller, "a5")
        .await
        .unwrap_err();
    assert!(matches!(e, SmsError::RateLimited), "{e:?}");
    let e = gate
        .send_sms(Some(DEMO_PHONE_NUMBER), &caller, "a6")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, gomomo::ports::DeliveryError::Transient(m) if m.contains("rate limit")),
        "{e:?}"
    );
    let sent = w.texts();
    let from = |n: &str| sent.iter().filter(|t| t["From"] == n).count();
    assert_eq!(
        (from(DEMO_PHONE_NUMBER), from(other_number)),
        (3, 3),
        "{sent:?}"
    );
    // one count per tenant for the number
    let mut rows: Vec<(Option<uuid::Uuid>, String)> =
        sqlx::query_as("SELECT tenant_id, phone FROM sms_budgets")
            .fetch_all(&w.pool)
            .await
            .unwrap();
    rows.sort();
    let mut want = vec![
        (Some(a.0), CALLER.to_string()),
        (Some(b.0), CALLER.to_string()),
    ];
    want.sort();
    assert_eq!(rows, want);
    // after the window both may text again
    w.clock.advance(Duration::minutes(61));
    gate.send(a, Some(DEMO_PHONE_NUMBER), &caller, "later")
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn sms_webhook_input_checks(pool: PgPool) {
    let w = world(pool).await;
    // unsigned → 403 and nothing recorded
    let req = Request::post("/twilio/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(
            "MessageSid=SM1&From=%2B15555550123&To=%2B18005550100&Body=STOP",
        ))
        .unwrap();
    assert_eq!(send(&w.handoff, req).await.0, StatusCode::FORBIDDEN);
    assert!(
        !gomomo::db::sms::is_opted_out(&w.pool, DEMO_TENANT_ID, CALLER)
            .await
            .unwrap()
    );
    // not E.164 → 400 with a stable code
    let (code, body) = w
        .sms("SM40000000000000000000000000000001", "5555550123", "C")
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body[0].contains("invalid_from"), "{body:?}");
    // a number no tenant owns: acknowledged, nothing done
    let (code, _, xml) = send(
        &w.handoff,
        signed(
            "/twilio/sms",
            &[
                ("MessageSid", "SM40000000000000000000000000000002"),
                ("From", CALLER),
                ("To", "+18005559999"),
                ("Body", "STOP"),
            ],
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert!(messages_of(&xml).is_empty());
    // the real adapter refuses a sender it was not given and maps HTTP errors
    let sender = TwilioSmsSender::new("http://127.0.0.1:9", SID, TOKEN, None).unwrap();
    let e = sender
        .send_sms(None, &PhoneE164::parse(CALLER).unwrap(), "x")
        .await
        .unwrap_err();
    assert!(matches!(e, gomomo::ports::DeliveryError::Permanent(_)));
    let e = sender
        .send_sms(
            Some(DEMO_PHONE_NUMBER),
            &PhoneE164::parse(CALLER).unwrap(),
            "x",
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, gomomo::ports::DeliveryError::Transient(_)),
        "{e:?}"
    );
}
