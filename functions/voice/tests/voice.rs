//! Whole phone calls through the real router (`oneshot`) on a real Postgres: every request is
//! a form post signed with the real HMAC-SHA1 algorithm, every answer is parsed back as XML
//! and checked state by state.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use gomomo::http::twilio::signature;
use gomomo::ports::{EventPublisher, OutboundEvent};
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER};
use gomomo::services::Clock;
use gomomo_voice::{router, VoiceState};
use http_body_util::BodyExt;
use sqlx::PgPool;
use support::{app, config, march_2_8am, ny, Outbox, Published, BASE, CALLER, TOKEN};
use tower::ServiceExt;

struct Phone {
    app: Router,
    pool: PgPool,
    clock: Clock,
    outbox: Outbox,
}

#[derive(Debug)]
struct Twiml {
    says: Vec<String>,
    gather_action: Option<String>,
    hangup: bool,
}

impl Twiml {
    fn text(&self) -> String {
        self.says.join(" ")
    }
}

fn parse(xml: &str) -> Twiml {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("bad TwiML {e}: {xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "Response");
    let mut t = Twiml {
        says: Vec::new(),
        gather_action: None,
        hangup: false,
    };
    for n in root.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "Say" => {
                assert_eq!(n.attribute("voice"), Some("Polly.Joanna"));
                t.says.push(n.text().unwrap_or_default().to_string());
            }
            "Gather" => {
                assert_eq!(n.attribute("input"), Some("speech"));
                assert_eq!(n.attribute("speechTimeout"), Some("auto"));
                t.gather_action = n.attribute("action").map(str::to_string);
            }
            "Hangup" => t.hangup = true,
            _ => {}
        }
    }
    t
}

fn signed(path: &str, params: &[(&str, &str)], token: &str) -> Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature::sign(token, &format!("{BASE}{path}"), &owned);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .header(
            "i-twilio-idempotency-token",
            uuid::Uuid::new_v4().to_string(),
        )
        .body(Body::from(body))
        .unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

impl Phone {
    async fn new(pool: PgPool, extra: &[(&str, &str)]) -> Self {
        seed_demo(&pool).await.unwrap();
        let clock = Clock::fixed(march_2_8am());
        let outbox = Outbox::default();
        let state = VoiceState::new(
            pool.clone(),
            &config(extra),
            clock.clone(),
            Arc::new(outbox.clone()),
        );
        Self {
            app: router(state),
            pool,
            clock,
            outbox,
        }
    }

    /// The voice router of `App::build` with `publisher` as the event bus.
    async fn with_publisher(pool: PgPool, publisher: Arc<dyn EventPublisher>) -> Self {
        seed_demo(&pool).await.unwrap();
        let clock = Clock::fixed(march_2_8am());
        let outbox = Outbox::default();
        let app = app(
            config(&[]),
            pool.clone(),
            clock.clone(),
            Arc::new(outbox.clone()),
            publisher,
        );
        Self {
            app: router(VoiceState::from_app(&app)),
            pool,
            clock,
            outbox,
        }
    }

    async fn start(&self, sid: &str) -> Twiml {
        self.start_from(sid, CALLER).await
    }

    async fn start_from(&self, sid: &str, caller: &str) -> Twiml {
        let (status, body) = send(
            &self.app,
            signed(
                "/twilio/voice",
                &[
                    ("CallSid", sid),
                    ("From", caller),
                    ("To", DEMO_PHONE_NUMBER),
                    ("CallStatus", "ringing"),
                    ("Direction", "inbound"),
                ],
                TOKEN,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        parse(&body)
    }

    async fn say(&self, sid: &str, speech: &str) -> Twiml {
        self.say_from(sid, CALLER, speech).await
    }

    async fn say_from(&self, sid: &str, caller: &str, speech: &str) -> Twiml {
        let (status, body) = send(&self.app, self.gather_from(sid, caller, speech)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        parse(&body)
    }

    fn gather_req(&self, sid: &str, speech: &str) -> Request<Body> {
        self.gather_from(sid, CALLER, speech)
    }

    fn gather_from(&self, sid: &str, caller: &str, speech: &str) -> Request<Body> {
        signed(
            "/twilio/voice/gather",
            &[
                ("CallSid", sid),
                ("From", caller),
                ("To", DEMO_PHONE_NUMBER),
                ("SpeechResult", speech),
                ("Confidence", "0.91"),
            ],
            TOKEN,
        )
    }

    async fn state(&self, sid: &str) -> (String, String, i32) {
        sqlx::query_as("SELECT state, status, version FROM voice_calls WHERE call_sid = $1")
            .bind(sid)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_whole_booking_call_lands_in_postgres(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000001";

    // GIVEN a caller reaching the demo tenant's number
    let t = phone.start(sid).await;
    assert!(t.text().contains("Gomomo Demo Clinic"), "{t:?}");
    assert_eq!(
        t.gather_action.as_deref(),
        Some("https://voice.gomomo.test/twilio/voice/gather")
    );
    assert_eq!(phone.state(sid).await.0, "intent");

    // WHEN they ask for a consultation, then a day and time
    let t = phone.say(sid, "I'd like to book a consultation").await;
    assert!(t.text().contains("What day"), "{t:?}");
    assert_eq!(phone.state(sid).await.0, "date");

    let t = phone.say(sid, "tomorrow at 10 am").await;
    assert!(t.text().contains("Tuesday, March 3"), "{t:?}");
    assert!(t.text().contains("10:00 AM"), "{t:?}");
    assert_eq!(phone.state(sid).await.0, "slots");

    let t = phone.say(sid, "10 am please").await;
    assert!(t.text().contains("name"), "{t:?}");
    assert_eq!(phone.state(sid).await.0, "name");
    let holds: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM availability_holds WHERE session_id = $1 AND status = 'active'",
    )
    .bind(format!("call:{sid}"))
    .fetch_one(&phone.pool)
    .await
    .unwrap();
    assert_eq!(holds, 1, "the chosen slot is held for the call");

    let t = phone.say(sid, "My name is Jane Doe").await;
    assert!(t.text().contains("email"), "{t:?}");
    let t = phone.say(sid, "jane dot doe at gmail dot com").await;
    assert!(
        t.text().contains("jane dot doe at gmail dot com") && t.text().contains("Shall I book it"),
        "{t:?}"
    );
    assert_eq!(phone.state(sid).await.0, "confirm");

    // THEN "yes" books it through the booking service
    let t = phone.say(sid, "yes please").await;
    assert!(t.text().contains("You're all set"), "{t:?}");
    let (reference, email, phone_no, start): (String, String, Option<String>, DateTime<Utc>) =
        sqlx::query_as(
            "SELECT reference, client_email, client_phone, lower(during) FROM appointments
             WHERE session_id = $1 AND status = 'confirmed'",
        )
        .bind(format!("call:{sid}"))
        .fetch_one(&phone.pool)
        .await
        .unwrap();
    assert_eq!(email, "jane.doe@gmail.com");
    assert_eq!(phone_no.as_deref(), Some(CALLER));
    assert_eq!(start, ny(2026, 3, 3, 10, 0));
    let spelled = gomomo::services::voice::spell(&reference);
    assert!(t.text().contains(&spelled), "reference read out: {t:?}");
    assert_eq!(phone.state(sid).await.0, "completed");

    // AND "no thanks" ends the call
    let t = phone.say(sid, "no thanks").await;
    assert!(t.hangup && t.gather_action.is_none(), "{t:?}");
    let (state, status, version) = phone.state(sid).await;
    assert_eq!((state.as_str(), status.as_str()), ("ended", "ended"));
    assert_eq!(
        version, 8,
        "one version per turn: the greeting and seven answers"
    );

    // AND every turn is in the transcript, in order
    let lines = gomomo::db::calls::transcript(&phone.pool, sid)
        .await
        .unwrap();
    assert_eq!(lines.len(), 1 + 2 * 7);
    assert_eq!(lines[1].speaker, "caller");
    assert_eq!(lines[1].text, "I'd like to book a consultation");
    assert_eq!(lines[1].confidence, Some(0.91));
    assert!(lines.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}

/// A caller from Spain to the New York clinic hears, once, that the times are the clinic's
/// local time and which; the times are never converted, and the booking keeps no zone of
/// the caller's (the number is a hint, not the client's word).
#[sqlx::test(migrations = "../../migrations")]
async fn a_caller_from_another_country_hears_the_times_are_the_clinics(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000034";
    let spain = "+34600111222";
    phone.start_from(sid, spain).await;
    phone
        .say_from(sid, spain, "I'd like to book a consultation")
        .await;
    let t = phone.say_from(sid, spain, "tomorrow at 10 am").await;
    assert!(
        t.text()
            .contains("The times I give are the clinic's local time, New York time."),
        "{t:?}"
    );
    assert!(t.text().contains("10:00 AM"), "{t:?}");
    assert!(!t.text().contains("4:00 PM"), "never converted: {t:?}");
    // Said once: another day's times come without it.
    let t = phone.say_from(sid, spain, "what about Wednesday").await;
    assert!(!t.text().contains("local time"), "{t:?}");
    phone.say_from(sid, spain, "10 am please").await;
    phone.say_from(sid, spain, "My name is Jane Doe").await;
    phone
        .say_from(sid, spain, "jane dot doe at gmail dot com")
        .await;
    let t = phone.say_from(sid, spain, "yes please").await;
    assert!(t.text().contains("You're all set"), "{t:?}");
    let booked = gomomo::db::bookings::list_appointments(
        &phone.pool,
        gomomo::services::admin::DEMO_TENANT_ID,
        ny(2026, 3, 2, 0, 0),
        ny(2026, 3, 9, 0, 0),
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(booked.len(), 1);
    assert_eq!(booked[0].client_phone.as_deref(), Some(spain));
    assert_eq!(booked[0].client_time_zone, None);

    // A caller from the clinic's own country hears no such note.
    let local = "CA00000000000000000000000000000001";
    phone.start(local).await;
    phone.say(local, "I'd like to book a consultation").await;
    let t = phone.say(local, "tomorrow at 10 am").await;
    assert!(!t.text().contains("local time"), "{t:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn three_misunderstandings_offer_an_sms_link(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000002";
    phone.start(sid).await;
    let t = phone.say(sid, "purple monkey dishwasher").await;
    assert!(t.text().starts_with("Sorry, I didn't catch that."), "{t:?}");
    let t = phone.say(sid, "").await;
    assert!(
        t.text().starts_with("Sorry, I didn't hear anything."),
        "{t:?}"
    );
    assert_eq!(phone.state(sid).await.0, "intent");
    // the third miss in a row: the SMS offer
    let t = phone.say(sid, "banana").await;
    assert!(t.text().contains("text you a link"), "{t:?}");
    assert_eq!(phone.state(sid).await.0, "handoff_offer");
    assert!(phone.outbox.0.lock().unwrap().is_empty());

    let t = phone.say(sid, "yes").await;
    assert!(t.hangup && t.text().contains("sent you a text"), "{t:?}");
    let sent = phone.outbox.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, CALLER);
    assert!(
        sent[0]
            .1
            .contains("https://voice.gomomo.test/handoff/resume?token="),
        "{}",
        sent[0].1
    );
    let tokens: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM handoff_tokens WHERE call_sid = $1 AND consumed_at IS NULL",
    )
    .bind(sid)
    .fetch_one(&phone.pool)
    .await
    .unwrap();
    assert_eq!(tokens, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn declining_the_offer_returns_to_the_question(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000003";
    phone.start(sid).await;
    phone.say(sid, "book a consultation").await;
    for _ in 0..3 {
        phone.say(sid, "mmm").await;
    }
    assert_eq!(phone.state(sid).await.0, "handoff_offer");
    let t = phone.say(sid, "no").await;
    assert!(t.text().contains("What day"), "{t:?}");
    assert_eq!(phone.state(sid).await.0, "date");
    let t = phone.say(sid, "text me a link").await;
    assert!(t.hangup, "a handoff request works in any state: {t:?}");
    assert_eq!(phone.outbox.0.lock().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn five_live_calls_per_tenant(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    for i in 0..5 {
        let t = phone
            .start(&format!("CA1000000000000000000000000000000{i}"))
            .await;
        assert!(t.gather_action.is_some(), "call {i} is answered");
    }
    // GIVEN five live calls, THEN the sixth hears that the lines are busy
    let t = phone.start("CA10000000000000000000000000000005").await;
    assert!(t.hangup && t.text().contains("lines are busy"), "{t:?}");
    let status: String = sqlx::query_scalar(
        "SELECT status FROM voice_calls WHERE call_sid = 'CA10000000000000000000000000000005'",
    )
    .fetch_one(&phone.pool)
    .await
    .unwrap();
    assert_eq!(status, "rejected");
    // WHEN one call ends (status callback), THEN a new call gets through
    let (code, _) = send(
        &phone.app,
        signed(
            "/twilio/voice/status",
            &[
                ("CallSid", "CA10000000000000000000000000000000"),
                ("CallStatus", "completed"),
            ],
            TOKEN,
        ),
    )
    .await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let t = phone.start("CA10000000000000000000000000000006").await;
    assert!(t.gather_action.is_some(), "{t:?}");
    // AND a call past the 10-minute limit no longer holds a place
    phone.clock.advance(Duration::minutes(12));
    for i in 7..9 {
        let t = phone
            .start(&format!("CA1000000000000000000000000000000{i}"))
            .await;
        assert!(t.gather_action.is_some(), "{t:?}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn twenty_turns_and_ten_minutes(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000004";
    phone.start(sid).await;
    for i in 0..20 {
        let t = phone.say(sid, "help").await;
        assert!(t.text().contains("I can book"), "turn {i}: {t:?}");
    }
    let t = phone.say(sid, "help").await;
    assert!(t.text().contains("time limit"), "turn 21: {t:?}");
    assert_eq!(phone.state(sid).await.0, "handoff_offer");
    let t = phone.say(sid, "no").await;
    assert!(t.hangup, "after a limit, the call ends: {t:?}");

    let sid = "CA00000000000000000000000000000005";
    phone.start(sid).await;
    phone.say(sid, "I want to book").await;
    phone.clock.advance(Duration::minutes(10));
    let t = phone.say(sid, "a consultation").await;
    assert!(t.text().contains("time limit"), "{t:?}");
    let t = phone.say(sid, "yes").await;
    assert!(t.hangup && t.text().contains("sent you a text"), "{t:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn signatures_are_required_and_checked(pool: PgPool) {
    let phone = Phone::new(pool.clone(), &[]).await;
    let params = [
        ("CallSid", "CA00000000000000000000000000000006"),
        ("From", CALLER),
        ("To", DEMO_PHONE_NUMBER),
    ];
    // wrong token
    let (code, body) = send(&phone.app, signed("/twilio/voice", &params, "other")).await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(body.contains("invalid_signature"), "{body}");
    // no signature
    let mut req = signed("/twilio/voice", &params, TOKEN);
    req.headers_mut().remove("x-twilio-signature");
    assert_eq!(send(&phone.app, req).await.0, StatusCode::FORBIDDEN);
    // signed for one path, posted to another
    let mut req = signed("/twilio/voice", &params, TOKEN);
    *req.uri_mut() = "/twilio/voice/gather".parse().unwrap();
    assert_eq!(send(&phone.app, req).await.0, StatusCode::FORBIDDEN);
    // a parameter changed after signing
    let sig = signed("/twilio/voice", &params, TOKEN)
        .headers()
        .get("x-twilio-signature")
        .unwrap()
        .clone();
    let tampered = Request::post("/twilio/voice")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(Body::from(format!(
            "CallSid=CA00000000000000000000000000000006&From=%2B15555550999&To={}",
            DEMO_PHONE_NUMBER.replace('+', "%2B")
        )))
        .unwrap();
    assert_eq!(send(&phone.app, tampered).await.0, StatusCode::FORBIDDEN);
    let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM voice_calls")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(calls, 0, "nothing was processed");

    // fail closed: no auth token configured → every request is refused
    let open = VoiceState::new(
        pool.clone(),
        &{
            let mut c = config(&[]);
            c.telephony.auth_token = None;
            c
        },
        Clock::fixed(march_2_8am()),
        Arc::new(Outbox::default()),
    );
    let (code, _) = send(&router(open), signed("/twilio/voice", &params, TOKEN)).await;
    assert_eq!(code, StatusCode::FORBIDDEN);

    // a signed request without a CallSid is a client error, not a crash
    let (code, body) = send(
        &phone.app,
        signed("/twilio/voice", &[("To", DEMO_PHONE_NUMBER)], TOKEN),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(body.contains("missing_callsid"), "{body}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn unknown_numbers_get_a_polite_answer(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let (code, body) = send(
        &phone.app,
        signed(
            "/twilio/voice",
            &[
                ("CallSid", "CA00000000000000000000000000000007"),
                ("From", CALLER),
                ("To", "+18005559999"),
            ],
            TOKEN,
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let t = parse(&body);
    assert!(t.hangup && t.text().contains("not set up"), "{t:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_retried_webhook_acts_once(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000008";
    phone.start(sid).await;
    phone.say(sid, "book a therapy session").await;
    phone.say(sid, "tomorrow at 2 pm").await;
    phone.say(sid, "the first one").await;
    phone.say(sid, "I'm Ana Lopez").await;
    phone.say(sid, "ana at example dot com").await;
    // GIVEN Twilio posts the same "yes" twice (same idempotency token)
    let req = phone.gather_req(sid, "yes");
    let key = req
        .headers()
        .get("i-twilio-idempotency-token")
        .unwrap()
        .clone();
    let sig = req.headers().get("x-twilio-signature").unwrap().clone();
    let (_, first) = send(&phone.app, req).await;
    let again = Request::post("/twilio/voice/gather")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .header("i-twilio-idempotency-token", key)
        .body(Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("CallSid", sid),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                    ("SpeechResult", "yes"),
                    ("Confidence", "0.91"),
                ])
                .finish(),
        ))
        .unwrap();
    let (_, second) = send(&phone.app, again).await;
    // THEN one booking, one version bump, the same answer twice
    assert_eq!(first, second);
    assert!(parse(&first).text().contains("You're all set"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments WHERE session_id = $1")
        .bind(format!("call:{sid}"))
        .fetch_one(&phone.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(phone.state(sid).await.2, 7);
}

#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_turns_never_corrupt_the_state(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA00000000000000000000000000000009";
    phone.start(sid).await;
    // GIVEN eight deliveries (distinct idempotency tokens) racing on one call
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let app = phone.app.clone();
        let req = phone.gather_req(sid, "help");
        tasks.push(tokio::spawn(async move { send(&app, req).await }));
    }
    for t in tasks {
        let (code, body) = t.await.unwrap();
        assert_eq!(code, StatusCode::OK);
        parse(&body);
    }
    // THEN each one was applied exactly once, in some order
    let (_, _, version) = phone.state(sid).await;
    assert_eq!(version, 9);
    let lines = gomomo::db::calls::transcript(&phone.pool, sid)
        .await
        .unwrap();
    assert_eq!(lines.len(), 1 + 16);
}

#[sqlx::test(migrations = "../../migrations")]
async fn cancel_and_reschedule_by_phone(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    // GIVEN a booking made by phone
    let sid = "CA0000000000000000000000000000000a";
    phone.start(sid).await;
    phone
        .say(sid, "book a consultation on Wednesday at 11 am")
        .await;
    phone.say(sid, "11 am").await;
    phone.say(sid, "Sam Green").await;
    phone.say(sid, "sam dot green at example dot org").await;
    phone.say(sid, "yes").await;
    let reference: String =
        sqlx::query_scalar("SELECT reference FROM appointments WHERE session_id = $1")
            .bind(format!("call:{sid}"))
            .fetch_one(&phone.pool)
            .await
            .unwrap();

    // WHEN the client calls back to move it, spelling the reference
    let sid = "CA0000000000000000000000000000000b";
    phone.start(sid).await;
    let t = phone.say(sid, "I need to reschedule my appointment").await;
    assert!(t.text().contains("reference code"), "{t:?}");
    let spoken: String = reference
        .chars()
        .filter(|c| *c != '-')
        .map(|c| format!("{c} "))
        .collect();
    let t = phone.say(sid, &spoken).await;
    assert!(t.text().contains("email"), "{t:?}");
    let t = phone.say(sid, "sam dot green at example dot org").await;
    assert!(t.text().contains("Wednesday, March 4"), "{t:?}");
    let t = phone.say(sid, "Thursday at 3 pm").await;
    assert!(t.text().contains("Thursday, March 5"), "{t:?}");
    let t = phone.say(sid, "3 pm").await;
    assert!(t.text().contains("move your appointment"), "{t:?}");
    let t = phone.say(sid, "yes").await;
    assert!(t.text().contains("Done"), "{t:?}");
    let (start, sequence): (DateTime<Utc>, i32) =
        sqlx::query_as("SELECT lower(during), sequence FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&phone.pool)
            .await
            .unwrap();
    assert_eq!(start, ny(2026, 3, 5, 15, 0));
    assert_eq!(sequence, 1);

    // AND then cancels it in the same call (asked once to be sure)
    let t = phone.say(sid, "yes").await;
    assert!(t.text().contains("What else"), "{t:?}");
    phone.say(sid, "cancel my appointment").await;
    phone.say(sid, &reference).await;
    let t = phone.say(sid, "sam.green@example.org").await;
    assert!(t.text().contains("Are you sure"), "{t:?}");
    let t = phone.say(sid, "yes").await;
    assert!(t.text().contains("cancelled"), "{t:?}");
    let status: String = sqlx::query_scalar("SELECT status FROM appointments WHERE reference = $1")
        .bind(&reference)
        .fetch_one(&phone.pool)
        .await
        .unwrap();
    assert_eq!(status, "cancelled");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_booking_reaches_the_event_publisher_before_the_webhook_returns(pool: PgPool) {
    let published = Published::default();
    let phone = Phone::with_publisher(pool, Arc::new(published.clone())).await;
    let sid = "CA00000000000000000000000000000077";
    // GIVEN a call up to the confirmation question
    phone.start(sid).await;
    for speech in [
        "I'd like to book a consultation",
        "tomorrow at 10 am",
        "10 am please",
        "My name is Jane Doe",
        "jane dot doe at gmail dot com",
    ] {
        phone.say(sid, speech).await;
    }
    assert_eq!(phone.state(sid).await.0, "confirm");
    assert!(published.0.lock().unwrap().is_empty(), "nothing booked yet");

    // WHEN the caller says yes
    let t = phone.say(sid, "yes please").await;
    assert!(t.text().contains("You're all set"), "{t:?}");

    // THEN, as soon as the webhook has answered, the booking's BookingCreated was published
    let (booking_id, reference): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT id, reference FROM appointments WHERE session_id = $1 AND status = 'confirmed'",
    )
    .bind(format!("call:{sid}"))
    .fetch_one(&phone.pool)
    .await
    .unwrap();
    let created: Vec<OutboundEvent> = published
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| {
            e.name == "BookingCreated" && e.detail["booking_id"] == serde_json::json!(booking_id)
        })
        .cloned()
        .collect();
    assert_eq!(created.len(), 1, "{:?}", published.0.lock().unwrap());
    assert_eq!(created[0].detail["reference"], serde_json::json!(reference));
    // AND its outbox row is marked published
    let published_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT published_at FROM outbox WHERE id = $1")
            .bind(created[0].event_id)
            .fetch_one(&phone.pool)
            .await
            .unwrap();
    assert!(published_at.is_some(), "the outbox row is marked published");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_reschedule_by_phone_moves_onto_time_overlapping_its_own(pool: PgPool) {
    use gomomo::domain::{ClientName, Email, SessionId, TenantId};
    use gomomo::services::admin::{DEMO_SERVICES, DEMO_TENANT_ID};
    use gomomo::services::booking::ClientDetails;
    use gomomo::services::BookingService;

    let phone = Phone::new(pool, &[]).await;
    let booking = BookingService::new(
        phone.pool.clone(),
        phone.clock.clone(),
        std::time::Duration::from_secs(300),
    );
    let tenant = TenantId(DEMO_TENANT_ID);
    let follow_up = DEMO_SERVICES[1].0; // 60 minutes, slots every 30
                                        // Bo 9:00–10:00 and Cy 10:00–11:00 on one doctor, Sam 9:00–10:00 on the other, Wednesday.
    let mut booked = Vec::new();
    for (who, email, h) in [
        ("Bo Li", "bo@example.com", 9),
        ("Sam Green", "sam.green@example.org", 9),
        ("Cy Ode", "cy@example.com", 10),
    ] {
        let s = SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap();
        let hold = booking
            .create_hold(tenant, follow_up, ny(2026, 3, 4, h, 0), &s)
            .await
            .unwrap();
        let details = ClientDetails {
            name: ClientName::parse(who).unwrap(),
            email: Email::parse(email).unwrap(),
            phone: None,
            notes: None,
            time_zone: None,
            locale: None,
        };
        booked.push(
            booking
                .confirm(tenant, hold.id, &s, &details)
                .await
                .unwrap()
                .0,
        );
    }
    assert_eq!(booked[0].resource_id, booked[2].resource_id);
    let reference = booked[1].reference.clone();

    let sid = "CA0000000000000000000000000000000c";
    phone.start(sid).await;
    phone.say(sid, "I need to reschedule my appointment").await;
    phone.say(sid, &reference).await;
    let t = phone.say(sid, "sam dot green at example dot org").await;
    assert!(t.text().contains("Wednesday, March 4"), "{t:?}");
    // 9:30 is open only for Sam's own move (his doctor is otherwise busy until 10).
    let t = phone.say(sid, "Wednesday at 9:30 am").await;
    assert!(t.text().contains("9:30"), "{t:?}");
    let t = phone.say(sid, "9:30").await;
    assert!(t.text().contains("move your appointment"), "{t:?}");
    let t = phone.say(sid, "yes").await;
    assert!(t.text().contains("Done"), "{t:?}");
    let (start, end, sequence): (DateTime<Utc>, DateTime<Utc>, i32) = sqlx::query_as(
        "SELECT lower(during), upper(during), sequence FROM appointments WHERE reference = $1",
    )
    .bind(&reference)
    .fetch_one(&phone.pool)
    .await
    .unwrap();
    assert_eq!(
        (start, end, sequence),
        (ny(2026, 3, 4, 9, 30), ny(2026, 3, 4, 10, 30), 1)
    );
}
