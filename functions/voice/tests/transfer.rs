//! A person to hand a call over to, and voicemail, through the real doors: the admin API sets
//! the numbers, every Twilio request is a signed form post to the voice router, answers are
//! parsed back as XML; the voicemail shows up in the admin API, its notices in the outbox.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::Duration;
use gomomo::db::calls;
use gomomo::db::notifications::{self, NotificationRow};
use gomomo::http::twilio::signature;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_TENANT_ID};
use gomomo::services::Clock;
use gomomo_voice::{router, VoiceState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, config, march_2_8am, Outbox, Published, BASE, CALLER, TOKEN};
use tower::ServiceExt;

const TRANSFER_TO: &str = "+15555550100";
const STAFF: &str = "+15555550111";
const ADMIN: &str = "frontdesk@clinic.example";
const RECORDING: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Recordings/RE0000000000000000000000000000aa01";
const RECORDING_SID: &str = "RE0000000000000000000000000000aa01";

struct World {
    voice: Router,
    api: Router,
    pool: PgPool,
    clock: Clock,
    outbox: Outbox,
    key: String,
}

/// One TwiML answer, element by element.
#[derive(Debug, Default)]
struct Twiml {
    says: Vec<String>,
    gather: bool,
    hangup: bool,
    /// (attributes, number)
    dial: Option<(Vec<(String, String)>, String)>,
    record: Option<Vec<(String, String)>>,
}

impl Twiml {
    fn text(&self) -> String {
        self.says.join(" ")
    }

    fn dial_attr(&self, k: &str) -> Option<String> {
        let (attrs, _) = self.dial.as_ref()?;
        attrs.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone())
    }

    fn record_attr(&self, k: &str) -> Option<String> {
        self.record
            .as_ref()?
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.clone())
    }
}

fn parse(xml: &str) -> Twiml {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("bad TwiML {e}: {xml}"));
    assert_eq!(doc.root_element().tag_name().name(), "Response");
    let attrs = |n: roxmltree::Node| -> Vec<(String, String)> {
        n.attributes()
            .map(|a| (a.name().to_string(), a.value().to_string()))
            .collect()
    };
    let mut t = Twiml::default();
    for n in doc.root_element().descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "Say" => t.says.push(n.text().unwrap_or_default().to_string()),
            "Gather" => t.gather = true,
            "Hangup" => t.hangup = true,
            "Dial" => t.dial = Some((attrs(n), n.text().unwrap_or_default().to_string())),
            "Record" => t.record = Some(attrs(n)),
            _ => {}
        }
    }
    t
}

/// A form post signed for `signed_path` with `token`, sent to `path`.
fn post(
    path: &str,
    signed_path: &str,
    params: &[(&str, &str)],
    token: Option<&str>,
) -> Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let mut req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "i-twilio-idempotency-token",
            uuid::Uuid::new_v4().to_string(),
        );
    if let Some(token) = token {
        req = req.header(
            "x-twilio-signature",
            signature::sign(token, &format!("{BASE}{signed_path}"), &owned),
        );
    }
    req.body(Body::from(body)).unwrap()
}

fn signed(path: &str, params: &[(&str, &str)]) -> Request<Body> {
    post(path, path, params, Some(TOKEN))
}

/// The path and query of an absolute callback URL of ours.
fn local(url: &str) -> String {
    url.strip_prefix(BASE)
        .unwrap_or_else(|| panic!("{url} is not under {BASE}"))
        .to_string()
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn world(pool: PgPool) -> World {
    let seed = seed_demo(&pool).await.unwrap();
    let clock = Clock::fixed(march_2_8am());
    let outbox = Outbox::default();
    let app = app(
        config(&[]),
        pool.clone(),
        clock.clone(),
        Arc::new(outbox.clone()),
        Arc::new(Published::default()),
    );
    World {
        voice: router(VoiceState::from_app(&app)),
        api: gomomo_api::function_router(gomomo_api::AppState::from_app(&app)),
        pool,
        clock,
        outbox,
        key: seed.api_key,
    }
}

impl World {
    async fn api(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        auth: bool,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/api/admin/tenants/{DEMO_TENANT_ID}{path}"));
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        if auth {
            req = req.header("authorization", format!("Bearer {}", self.key));
        }
        let req = req
            .body(
                body.map(|b| Body::from(b.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let res = self.api.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// The transfer and staff numbers and the admin email, through the admin API.
    async fn set_up_person(&self) {
        let (s, v) = self
            .api(
                "PUT",
                "/phone-handover",
                Some(json!({"transfer_number": TRANSFER_TO, "staff_number": STAFF})),
                true,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        self.set_admin_email().await;
    }

    async fn set_admin_email(&self) {
        let (s, v) = self
            .api(
                "PUT",
                "/admin-email",
                Some(json!({"admin_email": ADMIN})),
                true,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    async fn start(&self, sid: &str) -> Twiml {
        let (s, body) = send(
            &self.voice,
            signed(
                "/twilio/voice",
                &[
                    ("CallSid", sid),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                    ("CallStatus", "ringing"),
                ],
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        parse(&body)
    }

    async fn say(&self, sid: &str, speech: &str) -> Twiml {
        let (s, body) = send(
            &self.voice,
            signed(
                "/twilio/voice/gather",
                &[
                    ("CallSid", sid),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                    ("SpeechResult", speech),
                    ("Confidence", "0.9"),
                ],
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        parse(&body)
    }

    /// Twilio posting a callback URL we gave it (`url` absolute), signed.
    async fn callback(&self, url: &str, params: &[(&str, &str)]) -> (StatusCode, String) {
        send(&self.voice, signed(&local(url), params)).await
    }

    async fn dial_outcome(&self, t: &Twiml, sid: &str, status: &str) -> Twiml {
        let action = t.dial_attr("action").expect("a Dial with an action");
        let (s, body) = self
            .callback(
                &action,
                &[
                    ("CallSid", sid),
                    ("DialCallStatus", status),
                    ("From", CALLER),
                    ("To", DEMO_PHONE_NUMBER),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        parse(&body)
    }

    async fn outbox(&self) -> Vec<NotificationRow> {
        notifications::list_for_tenant(&self.pool, DEMO_TENANT_ID)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == "voicemail")
            .collect()
    }

    async fn audit(&self, event: &str) -> Vec<Value> {
        let (s, v) = self
            .api("GET", &format!("/audit?event_type={event}"), None, true)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v.as_array().unwrap().clone()
    }

    async fn voicemails(&self) -> Vec<Value> {
        let (s, v) = self.api("GET", "/voicemails", None, true).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v.as_array().unwrap().clone()
    }

    async fn call_row(&self, sid: &str) -> calls::CallRow {
        let mut conn = self.pool.acquire().await.unwrap();
        calls::load_call(&mut conn, sid).await.unwrap().unwrap()
    }
}

fn assert_dials(t: &Twiml, why: &str) {
    assert!(t.text().contains("Connecting you to a person now"), "{t:?}");
    assert!(!t.gather, "a transfer does not listen any more: {t:?}");
    let (_, number) = t.dial.as_ref().unwrap_or_else(|| panic!("no Dial: {t:?}"));
    assert_eq!(number, TRANSFER_TO);
    assert_eq!(
        t.dial_attr("action").unwrap(),
        format!("{BASE}/twilio/voice/dial?why={why}&lang=en")
    );
    assert_eq!(t.dial_attr("timeout").as_deref(), Some("20"));
    assert_eq!(t.dial_attr("callerId").as_deref(), Some(DEMO_PHONE_NUMBER));
}

#[sqlx::test(migrations = "../../migrations")]
async fn asking_for_a_person_transfers_the_call_and_texts_the_staff_its_summary(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    let sid = "CA20000000000000000000000000000001";
    w.start(sid).await;
    let t = w
        .say(sid, "I'd like to book a consultation for tomorrow")
        .await;
    assert!(t.gather, "{t:?}");
    assert!(w.outbox.0.lock().unwrap().is_empty());

    // WHEN the caller asks for a person
    let t = w.say(sid, "Can I speak to a real person please?").await;
    // THEN the same answer says so and dials the transfer number
    assert_dials(&t, "asked");
    // AND the staff got the call's summary: why, the caller's number, what was gathered
    let sent = w.outbox.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, STAFF);
    for part in [
        "asked for a person",
        CALLER,
        "book an appointment",
        "Consultation",
        "Tuesday, March 3",
    ] {
        assert!(
            sent[0].1.contains(part),
            "{part} missing from {:?}",
            sent[0].1
        );
    }
    let call = w.call_row(sid).await;
    assert_eq!(
        (call.status.as_str(), call.end_reason.as_deref()),
        ("ended", Some("transferred"))
    );
    // AND the transfer is audited, the numbers redacted
    let audit = w.audit("voice.transferred").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["payload"]["staff_texted"], true);
    assert!(!audit[0].to_string().contains(CALLER));

    // WHEN the person answered and the call ended, THEN a polite goodbye
    let t = w.dial_outcome(&t, sid, "completed").await;
    assert!(
        t.hangup && t.text().contains("Thank you for calling"),
        "{t:?}"
    );
    assert!(t.record.is_none());
    assert!(w.voicemails().await.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_limits_transfer_the_call_when_the_tenant_has_a_number(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    // three misunderstandings in a row
    let sid = "CA20000000000000000000000000000002";
    w.start(sid).await;
    w.say(sid, "purple monkey dishwasher").await;
    w.say(sid, "").await;
    let t = w.say(sid, "banana").await;
    assert_dials(&t, "misunderstood");
    assert!(t.text().contains("couldn't understand"), "{t:?}");

    // the call's time limit
    let sid = "CA20000000000000000000000000000003";
    w.start(sid).await;
    w.say(sid, "I want to book").await;
    w.clock.advance(Duration::minutes(10));
    let t = w.say(sid, "a consultation").await;
    assert_dials(&t, "time_limit");
    assert!(t.text().contains("time limit"), "{t:?}");
    assert_eq!(
        w.outbox.0.lock().unwrap().len(),
        2,
        "one summary per transfer"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unanswered_transfer_takes_a_voicemail_that_reaches_the_staff(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    let sid = "CA20000000000000000000000000000004";
    w.start(sid).await;
    let t = w.say(sid, "operator").await;
    assert_dials(&t, "asked");

    // WHEN nobody answers, THEN voicemail: the prompt, then Record with the callbacks
    let t = w.dial_outcome(&t, sid, "no-answer").await;
    assert!(t.text().contains("after the tone"), "{t:?}");
    let recorded = format!("{BASE}/twilio/voice/recorded?why=asked&lang=en&dial=no-answer");
    assert_eq!(t.record_attr("action"), Some(recorded.clone()));
    assert_eq!(
        t.record_attr("recordingStatusCallback"),
        Some(recorded.clone())
    );
    assert_eq!(t.record_attr("playBeep").as_deref(), Some("true"));
    assert_eq!(t.record_attr("maxLength").as_deref(), Some("120"));
    // an English call asks for the transcription
    assert_eq!(t.record_attr("transcribe").as_deref(), Some("true"));
    let transcribed = t.record_attr("transcribeCallback").unwrap();
    assert_eq!(
        transcribed,
        format!("{BASE}/twilio/voice/transcribed?why=asked&lang=en&dial=no-answer")
    );
    assert!(t.dial.is_none());

    // WHEN the recording ends (the Record's action), THEN thanks and goodbye
    let (s, body) = w
        .callback(
            &recorded,
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", DEMO_PHONE_NUMBER),
                ("RecordingUrl", RECORDING),
                ("RecordingSid", RECORDING_SID),
                ("RecordingDuration", "14"),
                ("Digits", "hangup"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let t = parse(&body);
    assert!(
        t.hangup && t.text().contains("passed on to the staff"),
        "{t:?}"
    );

    // AND the voicemail is listed by the admin route
    let vms = w.voicemails().await;
    assert_eq!(vms.len(), 1, "{vms:?}");
    let vm = &vms[0];
    assert_eq!(vm["call_sid"], sid);
    assert_eq!(vm["caller_number"], CALLER);
    assert_eq!(vm["recording_url"], RECORDING);
    assert_eq!(vm["duration_seconds"], 14);
    assert_eq!(vm["reason"], "asked");
    assert_eq!(vm["dial_status"], "no-answer");
    assert_eq!(vm["transcription_status"], "requested");
    assert_eq!(vm["transcription"], Value::Null);

    // AND the admin email and the staff text are queued with the caller and the link
    let notes = w.outbox().await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    let email = notes.iter().find(|n| n.channel == "email").unwrap();
    assert_eq!(email.recipient, ADMIN);
    assert!(email.subject.as_deref().unwrap().contains(CALLER));
    assert!(
        email.body.contains(RECORDING) && email.body.contains("14 seconds"),
        "{}",
        email.body
    );
    let text = notes.iter().find(|n| n.channel == "sms").unwrap();
    assert_eq!(text.recipient, STAFF);
    assert!(
        text.body.contains(RECORDING) && text.body.contains(CALLER),
        "{}",
        text.body
    );

    // AND the audit entry keeps the number and the link out
    let audit = w.audit("voicemail.recorded").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["payload"]["phone"], "[REDACTED]");
    assert_eq!(audit[0]["payload"]["recording_url"], "[REDACTED]");
    assert_eq!(audit[0]["payload"]["dial_status"], "no-answer");
    assert!(!audit[0].to_string().contains(CALLER));

    // WHEN the recording's status callback arrives too, THEN no second voicemail or notice
    let (s, body) = w
        .callback(
            &recorded,
            &[
                ("AccountSid", "AC00000000000000000000000000000000"),
                ("CallSid", sid),
                ("RecordingSid", RECORDING_SID),
                ("RecordingUrl", RECORDING),
                ("RecordingStatus", "completed"),
                ("RecordingDuration", "14"),
                ("RecordingSource", "RecordVerb"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(w.voicemails().await.len(), 1);
    assert_eq!(w.outbox().await.len(), 2);

    // WHEN the transcription arrives, THEN the voicemail carries its text
    let words = "Hi, this is Ana, please call me back about Thursday.";
    let (s, body) = w
        .callback(
            &transcribed,
            &[
                ("CallSid", sid),
                ("RecordingSid", RECORDING_SID),
                ("RecordingUrl", RECORDING),
                ("TranscriptionSid", "TR0000000000000000000000000000aa01"),
                ("TranscriptionStatus", "completed"),
                ("TranscriptionText", words),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let vm = &w.voicemails().await[0];
    assert_eq!(vm["transcription"], words);
    assert_eq!(vm["transcription_status"], "completed");
    assert!(vm["transcribed_at"].is_string());
    let audit = w.audit("voicemail.transcribed").await;
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].to_string().contains("Ana"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_a_transfer_number_a_person_request_goes_to_voicemail(pool: PgPool) {
    let w = world(pool).await;
    w.set_admin_email().await;
    let sid = "CA20000000000000000000000000000005";
    w.start(sid).await;
    let t = w.say(sid, "I want to talk to a human").await;
    assert!(t.dial.is_none(), "{t:?}");
    assert!(t.text().contains("leave a message"), "{t:?}");
    let recorded = t.record_attr("action").unwrap();
    assert_eq!(
        recorded,
        format!("{BASE}/twilio/voice/recorded?why=asked&lang=en")
    );
    assert_eq!(
        w.call_row(sid).await.end_reason.as_deref(),
        Some("voicemail")
    );
    assert!(
        w.outbox.0.lock().unwrap().is_empty(),
        "no staff number: nothing texted"
    );

    let (s, _) = w
        .callback(
            &recorded,
            &[
                ("CallSid", sid),
                ("RecordingUrl", RECORDING),
                ("RecordingSid", RECORDING_SID),
                ("RecordingDuration", "9"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let vms = w.voicemails().await;
    assert_eq!((vms.len(), &vms[0]["dial_status"]), (1, &Value::Null));
    let notes = w.outbox().await;
    assert_eq!(notes.len(), 1, "the admin email only: {notes:?}");
    assert_eq!(notes[0].channel, "email");

    // the limits keep the text-link offer when nobody can take the call
    let sid = "CA20000000000000000000000000000006";
    w.start(sid).await;
    w.say(sid, "purple monkey dishwasher").await;
    w.say(sid, "").await;
    let t = w.say(sid, "banana").await;
    assert!(t.dial.is_none() && t.record.is_none(), "{t:?}");
    assert!(t.text().contains("text you a link"), "{t:?}");

    // and a call nothing was recorded for ends politely
    let (s, body) = w
        .callback(&recorded, &[("CallSid", sid), ("Digits", "hangup")])
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = parse(&body);
    assert!(
        t.hangup && t.text().contains("didn't get a message"),
        "{t:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_spanish_call_is_not_sent_for_transcription(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    let sid = "CA20000000000000000000000000000007";
    w.start(sid).await;
    // The Dial's action of a Spanish call carries lang=es (signed with the URL).
    let (s, body) = w
        .callback(
            &format!("{BASE}/twilio/voice/dial?why=asked&lang=es"),
            &[("CallSid", sid), ("DialCallStatus", "busy")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let t = parse(&body);
    assert!(t.text().contains("después del tono"), "{t:?}");
    assert!(body.contains("language=\"es-US\""), "{body}");
    assert_eq!(
        t.record_attr("transcribe"),
        None,
        "Twilio transcribes English only"
    );
    assert_eq!(t.record_attr("transcribeCallback"), None);
    let recorded = t.record_attr("action").unwrap();
    let (s, _) = w
        .callback(
            &recorded,
            &[
                ("CallSid", sid),
                ("RecordingUrl", RECORDING),
                ("RecordingSid", RECORDING_SID),
                ("RecordingDuration", "5"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let vm = &w.voicemails().await[0];
    assert_eq!(
        (vm["locale"].as_str(), vm["transcription_status"].as_str()),
        (Some("es"), Some("not_offered"))
    );
    assert_eq!(vm["dial_status"], "busy");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_callbacks_must_be_signed(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    let sid = "CA20000000000000000000000000000008";
    w.start(sid).await;
    let rec: &[(&str, &str)] = &[
        ("CallSid", sid),
        ("RecordingUrl", RECORDING),
        ("RecordingSid", RECORDING_SID),
        ("RecordingDuration", "3"),
    ];
    let dial: &[(&str, &str)] = &[("CallSid", sid), ("DialCallStatus", "no-answer")];
    let tr: &[(&str, &str)] = &[
        ("CallSid", sid),
        ("RecordingSid", RECORDING_SID),
        ("TranscriptionStatus", "completed"),
        ("TranscriptionText", "hello"),
    ];
    for (path, params) in [
        ("/twilio/voice/dial?why=asked&lang=en", dial),
        ("/twilio/voice/recorded?why=asked&lang=en", rec),
        ("/twilio/voice/transcribed?why=asked&lang=en", tr),
    ] {
        // unsigned
        let (s, _) = send(&w.voice, post(path, path, params, None)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path} unsigned");
        // signed with another token
        let (s, _) = send(&w.voice, post(path, path, params, Some("not-the-token"))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path} mis-signed");
        // signed, then the query changed (the reason is part of what is signed)
        let changed = path.replace("why=asked", "why=time_limit");
        let (s, _) = send(&w.voice, post(&changed, path, params, Some(TOKEN))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path} with a changed query");
    }
    assert!(w.voicemails().await.is_empty());
    assert!(w.outbox().await.is_empty());
    // signed but with an unknown reason: a client mistake, not a voicemail
    let path = "/twilio/voice/recorded?why=bored&lang=en";
    let (s, body) = send(&w.voice, signed(path, rec)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("invalid_why"), "{body}");
    assert!(w.voicemails().await.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_admin_route_checks_the_numbers(pool: PgPool) {
    let w = world(pool).await;
    let (s, v) = w.api("GET", "/phone-handover", None, true).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"transfer_number": null, "staff_number": null}));
    let (s, _) = w.api("GET", "/phone-handover", None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = w
        .api(
            "PUT",
            "/phone-handover",
            Some(json!({"transfer_number": TRANSFER_TO})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // staff may read, only an owner may change where calls go
    let (s, v) = w
        .api(
            "POST",
            "/keys",
            Some(json!({"name": "desk", "role": "staff"})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let staff = v["key"].as_str().unwrap().to_string();
    let desk = World {
        key: staff,
        voice: w.voice.clone(),
        api: w.api.clone(),
        pool: w.pool.clone(),
        clock: w.clock.clone(),
        outbox: w.outbox.clone(),
    };
    let (s, _) = desk.api("GET", "/phone-handover", None, true).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = desk
        .api(
            "PUT",
            "/phone-handover",
            Some(json!({"transfer_number": TRANSFER_TO})),
            true,
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("owner_required"))
    );
    let (s, _) = desk.api("GET", "/voicemails", None, true).await;
    assert_eq!(s, StatusCode::OK);
    for (body, code) in [
        (
            json!({"transfer_number": "555-1234"}),
            "invalid_transfer_number",
        ),
        (
            json!({"transfer_number": "+1 (555) 555-0100", "staff_number": "call me"}),
            "invalid_staff_number",
        ),
        (
            json!({"transfer_number": "+0123456789"}),
            "invalid_transfer_number",
        ),
    ] {
        let (s, v) = w.api("PUT", "/phone-handover", Some(body), true).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{v}"
        );
    }
    // spaces and brackets are read as the digits they hold; the same number may serve both
    let (s, v) = w
        .api(
            "PUT",
            "/phone-handover",
            Some(json!({"transfer_number": "+1 (555) 555-0100", "staff_number": TRANSFER_TO})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"transfer_number": TRANSFER_TO, "staff_number": TRANSFER_TO})
    );
    let (_, v) = w.api("GET", "/phone-handover", None, true).await;
    assert_eq!(v["transfer_number"], TRANSFER_TO);
    let audit = w.audit("tenant.phone_handover_set").await;
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].to_string().contains("555"), "{}", audit[0]);
    // "" clears
    let (s, v) = w
        .api(
            "PUT",
            "/phone-handover",
            Some(json!({"transfer_number": "", "staff_number": null})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"transfer_number": null, "staff_number": null}));
    let (s, v) = w.api("GET", "/voicemails?limit=0", None, true).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_limit"))
    );
    let (s, _) = w.api("GET", "/voicemails", None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn erasing_the_caller_erases_their_voicemail_and_its_notices(pool: PgPool) {
    let w = world(pool).await;
    w.set_up_person().await;
    let sid = "CA20000000000000000000000000000009";
    w.start(sid).await;
    let t = w.say(sid, "representative").await;
    let t = w.dial_outcome(&t, sid, "busy").await;
    let (s, _) = w
        .callback(
            &t.record_attr("action").unwrap(),
            &[
                ("CallSid", sid),
                ("RecordingUrl", RECORDING),
                ("RecordingSid", RECORDING_SID),
                ("RecordingDuration", "7"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(w.voicemails().await.len(), 1);
    assert_eq!(w.outbox().await.len(), 2);

    let (s, v) = w
        .api(
            "POST",
            "/privacy/erase",
            Some(json!({"phone": CALLER})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        w.voicemails().await.is_empty(),
        "the voicemail goes with its call"
    );
    for n in w.outbox().await {
        assert!(
            !n.body.contains(CALLER) && !n.body.contains(RECORDING),
            "{n:?}"
        );
    }
}
