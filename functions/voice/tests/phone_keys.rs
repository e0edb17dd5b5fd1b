//! The phone in the caller's language and by keypad, through the real router on a real
//! Postgres with signed webhooks: a Spanish call (key 2) that books, moves and cancels; a
//! caller who only presses keys, verified by a code texted to the caller ID; the limits of
//! those codes; and, on every answer any of these calls got, the barge-in shape (each
//! question a `<Say>` nested in its `<Gather>`, never `bargeIn="false"`).
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::Duration;
use gomomo::db::{bookings, phone_codes, tenants};
use gomomo::domain::{ClientName, Email, Locale, PhoneE164, SessionId, TenantId};
use gomomo::http::twilio::signature;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::booking::ClientDetails;
use gomomo::services::{BookingService, Clock};
use gomomo_voice::{router, VoiceState};
use http_body_util::BodyExt;
use sqlx::PgPool;
use support::{config, march_2_8am, ny, Outbox, BASE, CALLER, TOKEN};
use tower::ServiceExt;

/// One answer, parsed: what was said (in order), in which language and voice, and how the
/// call listens.
#[derive(Debug, Default)]
struct Twiml {
    /// (language, voice, text) of every `<Say>`.
    says: Vec<(String, String, String)>,
    gather_language: Option<String>,
    num_digits: Option<String>,
    hangup: bool,
}

impl Twiml {
    fn text(&self) -> String {
        self.says
            .iter()
            .map(|s| s.2.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The barge-in shape of one answer: every `<Gather>` listens to keys and speech, holds its
/// question as a nested `<Say>` and never turns barge-in off; outside a `<Gather>` words are
/// said only before a hang-up (nothing is asked that cannot be interrupted).
fn assert_interruptible(xml: &str) {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let root = doc.root_element();
    let mut gathers = 0;
    for n in root.descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "Gather" => {
                gathers += 1;
                assert_eq!(n.attribute("input"), Some("dtmf speech"), "{xml}");
                assert_ne!(n.attribute("bargeIn"), Some("false"), "{xml}");
                assert_eq!(n.attribute("finishOnKey"), Some("#"), "{xml}");
                let says = n
                    .children()
                    .filter(|c| c.is_element() && c.tag_name().name() == "Say")
                    .count();
                assert!(says >= 1, "a question nested in its Gather: {xml}");
                assert!(
                    n.children()
                        .filter(|c| c.is_element())
                        .all(|c| c.tag_name().name() == "Say"),
                    "{xml}"
                );
            }
            "Say" => {
                let in_gather = n.parent_element().map(|p| p.tag_name().name()) == Some("Gather");
                if !in_gather {
                    let hangs_up = root
                        .children()
                        .any(|c| c.is_element() && c.tag_name().name() == "Hangup");
                    assert!(
                        hangs_up,
                        "a Say outside a Gather only before a hang-up: {xml}"
                    );
                }
            }
            _ => {}
        }
    }
    let hangs_up = root
        .children()
        .any(|c| c.is_element() && c.tag_name().name() == "Hangup");
    assert!(gathers == 1 || hangs_up, "{xml}");
}

fn parse(xml: &str) -> Twiml {
    assert_interruptible(xml);
    let doc = roxmltree::Document::parse(xml).unwrap();
    let mut t = Twiml::default();
    for n in doc.root_element().descendants().filter(|n| n.is_element()) {
        match n.tag_name().name() {
            "Say" => t.says.push((
                n.attribute("language").unwrap_or_default().to_string(),
                n.attribute("voice").unwrap_or_default().to_string(),
                n.text().unwrap_or_default().to_string(),
            )),
            "Gather" => {
                t.gather_language = n.attribute("language").map(str::to_string);
                t.num_digits = n.attribute("numDigits").map(str::to_string);
            }
            "Hangup" => t.hangup = true,
            _ => {}
        }
    }
    t
}

fn signed(path: &str, params: &[(&str, &str)]) -> Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature::sign(TOKEN, &format!("{BASE}{path}"), &owned);
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

struct Phone {
    app: Router,
    /// The links the calls text, redeemed as the client's browser would.
    handoff: gomomo::services::handoff::HandoffService,
    pool: PgPool,
    clock: Clock,
    outbox: Outbox,
    /// Every TwiML answer of every call, in order.
    answers: Arc<Mutex<Vec<String>>>,
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
            handoff: state.voice.handoff().clone(),
            app: router(state),
            pool,
            clock,
            outbox,
            answers: Arc::default(),
        }
    }

    async fn post(&self, path: &str, params: &[(&str, &str)]) -> Twiml {
        let res = self
            .app
            .clone()
            .oneshot(signed(path, params))
            .await
            .unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        assert_eq!(status, StatusCode::OK, "{body}");
        self.answers.lock().unwrap().push(body.clone());
        parse(&body)
    }

    async fn start(&self, sid: &str) -> Twiml {
        self.post(
            "/twilio/voice",
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", DEMO_PHONE_NUMBER),
                ("CallStatus", "ringing"),
                ("Direction", "inbound"),
            ],
        )
        .await
    }

    /// Keys pressed: Twilio posts `Digits` and no speech.
    async fn press(&self, sid: &str, digits: &str) -> Twiml {
        self.post(
            "/twilio/voice/gather",
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", DEMO_PHONE_NUMBER),
                ("Digits", digits),
            ],
        )
        .await
    }

    async fn say(&self, sid: &str, speech: &str) -> Twiml {
        self.post(
            "/twilio/voice/gather",
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", DEMO_PHONE_NUMBER),
                ("SpeechResult", speech),
                ("Confidence", "0.9"),
            ],
        )
        .await
    }

    async fn state(&self, sid: &str) -> String {
        gomomo::db::calls::load_call(&mut self.pool.acquire().await.unwrap(), sid)
            .await
            .unwrap()
            .unwrap()
            .state
    }

    /// The six-digit code in the last text sent to the caller.
    fn last_code(&self) -> String {
        let sent = self.outbox.0.lock().unwrap();
        let (to, body) = sent.last().unwrap();
        assert_eq!(to, CALLER);
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_string()
    }

    async fn booking(&self, reference: &str) -> bookings::AppointmentRow {
        bookings::appointment_by_reference(&self.pool, DEMO_TENANT_ID, reference, false)
            .await
            .unwrap()
            .unwrap()
    }

    async fn booked_in(&self, sid: &str) -> bookings::AppointmentRow {
        let all = bookings::list_appointments(
            &self.pool,
            DEMO_TENANT_ID,
            ny(2026, 3, 2, 0, 0),
            ny(2026, 4, 1, 0, 0),
            None,
            50,
        )
        .await
        .unwrap();
        all.into_iter()
            .find(|a| a.session_id == format!("call:{sid}"))
            .unwrap()
    }
}

/// Every `<Say>` of a Spanish answer is Spanish, but for the offer of English.
fn assert_spanish(t: &Twiml) {
    assert_eq!(
        t.gather_language.as_deref().unwrap_or("es-US"),
        "es-US",
        "{t:?}"
    );
    for (lang, voice, text) in &t.says {
        if text.starts_with("For English") {
            assert_eq!(
                (lang.as_str(), voice.as_str()),
                ("en-US", "Polly.Joanna-Neural")
            );
        } else {
            assert_eq!(
                (lang.as_str(), voice.as_str()),
                ("es-US", "Polly.Lupe-Neural"),
                "{t:?}"
            );
        }
    }
}

async fn bilingual(pool: &PgPool) {
    tenants::set_languages(pool, DEMO_TENANT_ID, &[Locale::En, Locale::Es])
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_spanish_call_books_reschedules_and_cancels(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    bilingual(&phone.pool).await;
    let sid = "CA20000000000000000000000000000001";

    // GIVEN a clinic that speaks English and Spanish: the English greeting offers Spanish,
    // in Spanish
    let t = phone.start(sid).await;
    assert_eq!(t.gather_language.as_deref(), Some("en-US"));
    let offer = t.says.last().unwrap();
    assert_eq!(
        (offer.0.as_str(), offer.1.as_str(), offer.2.as_str()),
        (
            "es-US",
            "Polly.Lupe-Neural",
            "Para español, oprima 2 o diga español."
        )
    );
    assert!(t.text().contains("press 3 to book"), "{t:?}");

    // WHEN the caller presses 2, the call is in Spanish, with English offered back
    let t = phone.press(sid, "2").await;
    assert_spanish(&t);
    assert!(t.text().contains("oprimir 3 para reservar"), "{t:?}");
    assert!(
        t.text().contains("For English, press 1 or say English."),
        "{t:?}"
    );
    assert_eq!(t.num_digits.as_deref(), Some("1"));

    // AND books by key: service, date (four digits), time, then name and email said
    let t = phone.press(sid, "3").await;
    assert_spanish(&t);
    assert!(t.text().contains("Oprima 1 para Consultation"), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    assert!(t.text().contains("0 3 1 5 para el 15 de marzo"), "{t:?}");
    let t = phone.press(sid, "0303").await;
    assert_spanish(&t);
    assert!(
        t.text().contains("martes") && t.text().contains("marzo"),
        "{t:?}"
    );
    assert!(t.text().contains("Oprima 1 para 9:00 a. m."), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    assert_eq!(phone.state(sid).await, "name");
    phone.say(sid, "Ana López").await;
    let t = phone.say(sid, "ana.lopez@example.com").await;
    assert_spanish(&t);
    assert!(t.text().contains("Oprima 1 para sí, 2 para no."), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    let booked = phone.booked_in(sid).await;
    assert_eq!(booked.start_at, ny(2026, 3, 3, 9, 0));
    assert_eq!(booked.client_email, "ana.lopez@example.com");
    assert_eq!(booked.client_phone.as_deref(), Some(CALLER));
    assert!(
        t.text()
            .contains(&gomomo::services::voice::spell(&booked.reference)),
        "{t:?}"
    );

    // AND moves it, still in Spanish: reference and email said, the new day and time keyed
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    assert_eq!(phone.state(sid).await, "intent");
    phone.press(sid, "4").await;
    assert_eq!(phone.state(sid).await, "reference");
    phone.say(sid, &booked.reference).await;
    let t = phone.say(sid, "ana.lopez@example.com").await;
    assert_spanish(&t);
    assert_eq!(phone.state(sid).await, "date");
    let t = phone.press(sid, "0304").await;
    assert!(t.text().contains("miércoles"), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    assert_eq!(phone.state(sid).await, "reschedule_confirm");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    let moved = phone.booking(&booked.reference).await;
    assert_eq!((moved.start_at, moved.sequence), (ny(2026, 3, 4, 9, 0), 1));
    phone.press(sid, "2").await;

    // AND, calling again, switches by saying "español" and cancels it
    let sid = "CA20000000000000000000000000000002";
    phone.start(sid).await;
    let t = phone.say(sid, "español").await;
    assert_spanish(&t);
    phone.press(sid, "5").await;
    assert_eq!(phone.state(sid).await, "reference");
    phone.say(sid, &booked.reference).await;
    let t = phone.say(sid, "ana.lopez@example.com").await;
    assert_spanish(&t);
    assert_eq!(phone.state(sid).await, "cancel_confirm");
    let t = phone.press(sid, "1").await;
    assert_spanish(&t);
    assert_eq!(
        phone.booking(&booked.reference).await.status.as_str(),
        "cancelled"
    );

    // AND 1 switches a call back to English
    let sid = "CA20000000000000000000000000000003";
    phone.start(sid).await;
    phone.press(sid, "2").await;
    let t = phone.press(sid, "1").await;
    assert_eq!(t.gather_language.as_deref(), Some("en-US"));
    assert!(t.text().contains("Thank you for calling"), "{t:?}");
}

/// A booking made on the web earlier under the caller's number: its name and email are on
/// file for the phone.
async fn earlier_booking(phone: &Phone) -> String {
    let booking = BookingService::new(
        phone.pool.clone(),
        phone.clock.clone(),
        std::time::Duration::from_secs(300),
    );
    let tenant = TenantId(DEMO_TENANT_ID);
    let s = SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap();
    let hold = booking
        .create_hold(tenant, DEMO_SERVICES[0].0, ny(2026, 3, 4, 11, 0), &s)
        .await
        .unwrap();
    let details = ClientDetails {
        name: ClientName::parse("Kim Park").unwrap(),
        email: Email::parse("kim.park@example.com").unwrap(),
        phone: Some(PhoneE164::parse(CALLER).unwrap()),
        notes: None,
        time_zone: None,
        locale: None,
    };
    booking
        .confirm(tenant, hold.id, &s, &details)
        .await
        .unwrap()
        .0
        .reference
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_keypad_only_caller_books_reschedules_and_cancels(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let earlier = earlier_booking(&phone).await;

    // GIVEN a caller who only presses keys
    let sid = "CA21000000000000000000000000000001";
    let t = phone.start(sid).await;
    assert!(t.text().contains("press 1 to book"), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert!(
        t.text().contains("Press 1 for Consultation, 2 for"),
        "{t:?}"
    );
    phone.press(sid, "1").await;
    let t = phone.press(sid, "0303").await;
    assert!(t.text().contains("Tuesday, March 3"), "{t:?}");
    assert!(t.text().contains("Press 1 for 9:00 AM"), "{t:?}");
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("press 9"), "{t:?}");
    assert_eq!(phone.state(sid).await, "name");

    // WHEN they press 9, a code is texted to the caller ID
    let t = phone.press(sid, "9").await;
    assert!(t.text().contains("6-digit code"), "{t:?}");
    assert_eq!(t.num_digits.as_deref(), Some("6"));
    assert_eq!(phone.state(sid).await, "verify_code");
    let code = phone.last_code();

    // THEN keying it back reads the booking back with the details on file, and 1 books it
    let t = phone.press(sid, &format!("{code}#")).await;
    assert!(t.text().contains("this phone is verified"), "{t:?}");
    assert!(t.text().contains("Press 1 for yes, 2 for no."), "{t:?}");
    // only its first letter and its domain, so a caller can tell it is theirs
    assert!(
        t.text()
            .contains("the email starting with K, at example dot com"),
        "{t:?}"
    );
    assert!(
        !t.text().contains("kim"),
        "the email on file is not read out: {t:?}"
    );
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("You're all set"), "{t:?}");
    let booked = phone.booked_in(sid).await;
    assert_eq!(booked.start_at, ny(2026, 3, 3, 9, 0));
    assert_eq!(
        (booked.client_name.as_str(), booked.client_email.as_str()),
        ("Kim Park", "kim.park@example.com")
    );
    assert_eq!(booked.client_phone.as_deref(), Some(CALLER));
    // the code never reaches the transcript
    let lines = gomomo::db::calls::transcript(&phone.pool, sid)
        .await
        .unwrap();
    assert!(lines.iter().all(|l| !l.text.contains(&code)), "{lines:?}");
    phone.press(sid, "2").await;

    // AND in another call (a new code), moves it by key, to a time keyed in 24-hour form
    let sid = "CA21000000000000000000000000000002";
    phone.start(sid).await;
    let t = phone.press(sid, "2").await;
    assert!(t.text().contains("press 9"), "{t:?}");
    phone.press(sid, "9").await;
    let code = phone.last_code();
    let t = phone.press(sid, &code).await;
    assert_eq!(phone.state(sid).await, "choose_booking");
    assert!(
        t.text().contains(
            "Press 1 for your Consultation on Tuesday, March 3 at 9:00 AM, or 2 for your Consultation on Wednesday, March 4 at 11:00 AM."
        ),
        "{t:?}"
    );
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("move it to"), "{t:?}");
    phone.press(sid, "0305").await;
    let t = phone.press(sid, "1430").await;
    assert!(t.text().contains("Thursday, March 5 at 2:30 PM"), "{t:?}");
    assert_eq!(phone.state(sid).await, "reschedule_confirm");
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("Done"), "{t:?}");
    let moved = phone.booking(&booked.reference).await;
    assert_eq!(moved.start_at, ny(2026, 3, 5, 14, 30));

    // AND cancels the earlier booking in the same call, verified already
    phone.press(sid, "1").await;
    phone.press(sid, "3").await;
    let t = phone.press(sid, "9").await;
    assert!(
        t.text()
            .contains("2 for your Consultation on Thursday, March 5 at 2:30 PM"),
        "{t:?}"
    );
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("Wednesday, March 4 at 11:00 AM"), "{t:?}");
    assert_eq!(phone.state(sid).await, "cancel_confirm");
    let t = phone.press(sid, "1").await;
    assert!(t.text().contains("cancelled"), "{t:?}");
    assert_eq!(phone.booking(&earlier).await.status.as_str(), "cancelled");
    assert_eq!(
        phone.booking(&booked.reference).await.status.as_str(),
        "confirmed"
    );
    assert_eq!(phone.outbox.0.lock().unwrap().len(), 2, "one code per call");

    // AND keys that are no keys are a client error, not a turn
    let res = phone
        .app
        .clone()
        .oneshot(signed(
            "/twilio/voice/gather",
            &[
                ("CallSid", sid),
                ("From", CALLER),
                ("To", DEMO_PHONE_NUMBER),
                ("Digits", "12a"),
            ],
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_keypad_caller_with_no_email_on_file_is_texted_the_chat_link(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA22000000000000000000000000000001";
    phone.start(sid).await;
    for keys in ["1", "1", "0303", "1", "9"] {
        phone.press(sid, keys).await;
    }
    let code = phone.last_code();
    let t = phone.press(sid, &code).await;
    assert!(
        t.hangup && t.text().contains("add your name and email there"),
        "{t:?}"
    );
    let sent = phone.outbox.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1]
            .1
            .contains("https://voice.gomomo.test/handoff/resume?token="),
        "{}",
        sent[1].1
    );
    // nothing booked yet; the call still holds 9:00 (one of the two doctors)
    let march = |pool: PgPool| async move {
        bookings::list_appointments(
            &pool,
            DEMO_TENANT_ID,
            ny(2026, 3, 2, 0, 0),
            ny(2026, 4, 1, 0, 0),
            None,
            50,
        )
        .await
        .unwrap()
    };
    assert!(march(phone.pool.clone()).await.is_empty());
    let booking = BookingService::new(
        phone.pool.clone(),
        phone.clock.clone(),
        std::time::Duration::from_secs(300),
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let free_at_nine = || async {
        booking
            .availability(TenantId(DEMO_TENANT_ID), DEMO_SERVICES[0].0, day, day)
            .await
            .unwrap()
            .slots
            .iter()
            .find(|x| x.start == ny(2026, 3, 3, 9, 0))
            .map_or(0, |x| x.free.count_ones())
    };
    assert_eq!(free_at_nine().await, 1, "the call holds one doctor at 9:00");

    // WHEN the client opens the texted link, THEN the chat holds that time and books it
    // once it has a name and an email
    let token = sent[1]
        .1
        .rsplit("token=")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let opened = phone.handoff.redeem(&token).await.unwrap();
    let session = SessionId::parse(&opened.session_id).unwrap();
    let agent = gomomo::app::agent(booking.clone(), &config(&[]).agent);
    let tenant = TenantId(DEMO_TENANT_ID);
    let r = agent
        .handle_turn(tenant, &session, "web", "Kim Park", None)
        .await
        .unwrap();
    assert!(r.reply.to_lowercase().contains("email"), "{}", r.reply);
    let r = agent
        .handle_turn(tenant, &session, "web", "kim.park@example.com", None)
        .await
        .unwrap();
    assert!(r.reply.contains("9:00"), "{}", r.reply);
    agent
        .handle_turn(tenant, &session, "web", "yes", None)
        .await
        .unwrap();
    let booked = march(phone.pool.clone()).await;
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert_eq!(booked[0].start_at, ny(2026, 3, 3, 9, 0));
    assert_eq!(booked[0].client_email, "kim.park@example.com");
    assert_eq!(booked[0].client_phone.as_deref(), Some(CALLER));
}

#[sqlx::test(migrations = "../../migrations")]
async fn wrong_codes_are_limited_and_codes_expire(pool: PgPool) {
    let phone = Phone::new(pool, &[("VOICE_MAX_CALL_SECONDS", "3600")]).await;
    let sid = "CA23000000000000000000000000000001";
    phone.start(sid).await;
    for keys in ["1", "1", "0303", "1", "9"] {
        phone.press(sid, keys).await;
    }
    let code = phone.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // the code is stored as a MAC only
    let row = phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.code_hash.len(), 32);
    assert!(!row.code_hash.windows(6).any(|w| w == code.as_bytes()));

    // GIVEN two wrong codes: asked again each time
    for _ in 0..2 {
        let t = phone.press(sid, wrong).await;
        assert!(t.text().contains("isn't right"), "{t:?}");
        assert_eq!(phone.state(sid).await, "verify_code");
    }
    // WHEN a third is wrong, THEN the call ends unverified
    let t = phone.press(sid, wrong).await;
    assert!(t.hangup && t.text().contains("couldn't verify"), "{t:?}");
    let row = phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.attempts, row.verified_at), (3, None));
    // AND the right code, too late, is refused
    let t = phone.press(sid, &code).await;
    assert!(t.hangup, "{t:?}");
    assert!(phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .unwrap()
        .verified_at
        .is_none());

    // GIVEN a code keyed after it expired: a new one is texted, and it works
    earlier_booking(&phone).await;
    let sid = "CA23000000000000000000000000000002";
    phone.start(sid).await;
    for keys in ["1", "1", "0304", "1", "9"] {
        phone.press(sid, keys).await;
    }
    let old = phone.last_code();
    phone.clock.advance(Duration::minutes(11));
    let t = phone.press(sid, &old).await;
    assert!(t.text().contains("expired"), "{t:?}");
    let new = phone.last_code();
    let t = phone.press(sid, &new).await;
    assert!(t.text().contains("this phone is verified"), "{t:?}");
}

/// Barge-in, proven on the documents rather than assumed: every answer of a call that
/// walks the states (spoken and keyed, English and Spanish, misunderstandings, the SMS
/// offer) asks its question in a `<Say>` nested in its `<Gather>`, which Twilio lets the
/// caller interrupt by voice or key, and no `<Gather>` sets `bargeIn="false"`.
#[sqlx::test(migrations = "../../migrations")]
async fn every_question_can_be_interrupted(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    bilingual(&phone.pool).await;
    let sid = "CA24000000000000000000000000000001";
    phone.start(sid).await;
    phone.say(sid, "I'd like to book a consultation").await;
    phone.say(sid, "purple monkey").await;
    phone.say(sid, "tomorrow at 10 am").await;
    phone.say(sid, "10 am please").await;
    phone.say(sid, "Jane Doe").await;
    phone.say(sid, "jane dot doe at gmail dot com").await;
    phone.say(sid, "yes").await;
    phone.say(sid, "yes").await;
    phone.press(sid, "6").await; // look up
    phone.say(sid, "").await;
    phone.say(sid, "mmm").await;
    phone.say(sid, "hmm").await; // the SMS offer
    phone.say(sid, "no").await;
    let sid = "CA24000000000000000000000000000002";
    phone.start(sid).await;
    phone.press(sid, "2").await;
    for keys in ["3", "1", "0305", "1", "9"] {
        phone.press(sid, keys).await;
    }
    let code = phone.last_code();
    phone.press(sid, &code).await;
    let answers = phone.answers.lock().unwrap().clone();
    assert!(answers.len() >= 20);
    let mut states_asked = 0;
    for xml in &answers {
        assert_interruptible(xml);
        if xml.contains("<Gather") {
            states_asked += 1;
        }
    }
    assert!(states_asked >= 18, "{states_asked}");
}

/// A code carries the caller's number: it goes when the client is erased, and with its call
/// when the retention purge takes old calls.
#[sqlx::test(migrations = "../../migrations")]
async fn phone_codes_go_with_the_client_and_with_old_calls(pool: PgPool) {
    let phone = Phone::new(pool, &[]).await;
    let sid = "CA25000000000000000000000000000001";
    phone.start(sid).await;
    for keys in ["1", "1", "0303", "1", "9"] {
        phone.press(sid, keys).await;
    }
    assert!(phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .is_some());
    gomomo::db::privacy::erase(
        &phone.pool,
        DEMO_TENANT_ID,
        None,
        Some(CALLER),
        "test",
        serde_json::json!({}),
        phone.clock.now(),
    )
    .await
    .unwrap();
    assert!(phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .is_none());

    let sid = "CA25000000000000000000000000000002";
    phone.start(sid).await;
    for keys in ["1", "1", "0304", "1", "9"] {
        phone.press(sid, keys).await;
    }
    assert!(phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .is_some());
    gomomo::services::privacy::purge(&phone.pool, phone.clock.now() + Duration::days(400), 30)
        .await
        .unwrap();
    assert!(phone_codes::latest_for_call(&phone.pool, sid)
        .await
        .unwrap()
        .is_none());
}
