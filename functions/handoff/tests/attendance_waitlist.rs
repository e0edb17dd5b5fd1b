//! Attendance and the waitlist lifecycle through the real doors of one composed app (the
//! composition root with an in-process bus): the REST API (public and admin), the signed
//! inbound SMS webhook, the orchestrator and its jobs, and the scheduler's tick.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use gomomo::adapters::local::InProcessPublisher;
use gomomo::app::{Adapters, App};
use gomomo::db::notifications::{self, NotificationRow};
use gomomo::db::waitlist::{self, NewWaitlistEntry, WaitlistStatus};
use gomomo::http::twilio::signature;
use gomomo::ports::events::EventEnvelope;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{config, march_2_8am, ny, BASE, CALLER, TOKEN};
use tokio::sync::mpsc;
use tower::ServiceExt;
use uuid::Uuid;

const ANA: &str = "ana@example.com";
const LEE_PHONE: &str = "+15555550161";
const KIM_PHONE: &str = "+15555550162";
const MAX_PHONE: &str = "+15555550163";

struct World {
    api: Router,
    sms: Router,
    app: App,
    rx: mpsc::Receiver<EventEnvelope>,
    clock: Clock,
    pool: PgPool,
    key: String,
    /// Names of the events delivered so far.
    seen: Vec<&'static str>,
}

async fn world(pool: PgPool) -> World {
    let seed = seed_demo(&pool).await.unwrap();
    let config = config(&[
        ("AUTONOMY_ENABLED", "true"),
        ("TWILIO_API_BASE_URL", "http://127.0.0.1:9"),
        ("WAITLIST_OFFER_MINUTES", "15"),
    ]);
    let clock = Clock::fixed(march_2_8am());
    let (publisher, rx) = InProcessPublisher::channel(1024);
    let adapters =
        Adapters::without_mail(&pool, &config, &clock).with_publisher(Arc::new(publisher));
    let app = App::build(config, pool.clone(), clock.clone(), adapters);
    World {
        api: gomomo_api::router(gomomo_api::AppState::from_app(&app)),
        sms: gomomo_handoff::router(gomomo_handoff::HandoffState::from_app(&app)),
        app,
        rx,
        clock,
        pool,
        key: seed.api_key,
        seen: Vec::new(),
    }
}

fn consult() -> Uuid {
    DEMO_SERVICES[0].0
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

impl World {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
        admin: bool,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        if admin {
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

    fn public(&self, p: &str) -> String {
        format!("/api/tenants/{DEMO_TENANT_ID}{p}")
    }

    fn admin(&self, p: &str) -> String {
        format!("/api/admin/tenants/{DEMO_TENANT_ID}{p}")
    }

    /// A hold at `start`: (status, body).
    async fn hold(&self, start: DateTime<Utc>) -> (StatusCode, Value) {
        self.call(
            "POST",
            &self.public("/holds"),
            Some(json!({"service_id": consult(), "start": start.to_rfc3339()})),
            false,
        )
        .await
    }

    /// Holds and books `start` for `email` (with `phone`): the booking's JSON.
    async fn book(&self, start: DateTime<Utc>, email: &str, phone: Option<&str>) -> Value {
        let (s, hold) = self.hold(start).await;
        assert_eq!(s, StatusCode::CREATED, "{hold}");
        let (s, b) = self
            .call(
                "POST",
                &self.public("/bookings"),
                Some(json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
                            "client_name": "Ana Lopez", "client_email": email, "client_phone": phone})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    /// A page of the api (GET, or POST of a form): status and HTML.
    async fn page(&self, uri: &str, form: Option<&str>) -> (StatusCode, String) {
        let req = match form {
            None => Request::get(uri).body(Body::empty()).unwrap(),
            Some(f) => Request::post(uri)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(f.to_string()))
                .unwrap(),
        };
        let res = self.api.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn lookup(&self, reference: &str, email: &str) -> Value {
        let (s, b) = self
            .call(
                "POST",
                &self.public(&format!("/bookings/{reference}/lookup")),
                Some(json!({"email": email})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }

    /// Publishes what is pending and hands every event to the orchestrator, then runs the
    /// jobs that are due: what the worker does.
    async fn work(&mut self) {
        for _ in 0..3 {
            self.app
                .relay
                .as_ref()
                .unwrap()
                .publish_pending(1000)
                .await
                .unwrap();
            while let Ok(env) = self.rx.try_recv() {
                self.seen.push(env.event.name());
                self.app.autonomy.handle_event(&env).await.unwrap();
            }
            self.app.autonomy.run_due_jobs(100).await.unwrap();
        }
    }

    /// One scheduler tick, then the worker.
    async fn tick(&mut self) -> gomomo::services::scheduler::TickReport {
        let r = self.app.scheduler.tick().await;
        assert!(r.errors.is_empty(), "{r:?}");
        self.work().await;
        r
    }

    /// An inbound text from `from`, signed like Twilio's: the reply texts.
    async fn text(&self, sid: &str, from: &str, body: &str) -> Vec<String> {
        let params = [
            ("MessageSid", sid),
            ("From", from),
            ("To", DEMO_PHONE_NUMBER),
            ("Body", body),
            ("NumMedia", "0"),
        ];
        let owned: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sig = signature::sign(TOKEN, &format!("{BASE}/twilio/sms"), &owned);
        let req = Request::post("/twilio/sms")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(Body::from(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(params)
                    .finish(),
            ))
            .unwrap();
        let res = self.sms.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let xml = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("Message"))
            .map(|n| n.text().unwrap_or_default().to_string())
            .collect()
    }

    async fn notes(&self) -> Vec<NotificationRow> {
        notifications::list_for_tenant(&self.pool, DEMO_TENANT_ID)
            .await
            .unwrap()
    }

    /// A waitlist entry for a Monday-to-Friday consultation, any time of day.
    async fn waits(&self, name: &str, email: &str, phone: &str) -> Uuid {
        self.waits_in(name, email, phone, "en").await
    }

    /// A waitlist entry of a client who asked in `locale`.
    async fn waits_in(&self, name: &str, email: &str, phone: &str, locale: &str) -> Uuid {
        let id = Uuid::new_v4();
        let session = format!("web-{}", id.simple());
        let mut conn = self.pool.acquire().await.unwrap();
        waitlist::insert(
            &mut conn,
            &NewWaitlistEntry {
                id,
                tenant_id: DEMO_TENANT_ID,
                session_id: &session,
                service_id: Some(consult()),
                preferred_from: NaiveDate::from_ymd_opt(2026, 3, 2),
                preferred_to: NaiveDate::from_ymd_opt(2026, 3, 6),
                time_of_day: None,
                client_name: Some(name),
                client_email: Some(email),
                client_phone: Some(phone),
                locale,
            },
        )
        .await
        .unwrap();
        id
    }

    async fn entry(&self, id: Uuid) -> WaitlistStatus {
        waitlist::status(&self.pool, DEMO_TENANT_ID, id)
            .await
            .unwrap()
            .unwrap()
    }

    /// The token in the newest offer email to `email`.
    async fn offer_token(&self, email: &str) -> String {
        let notes = self.notes().await;
        let n = notes
            .iter()
            .rev()
            .find(|n| n.kind == "waitlist_match" && n.channel == "email" && n.recipient == email)
            .unwrap_or_else(|| panic!("no offer to {email}: {notes:?}"));
        let link = format!("{BASE}/waitlist/offer?tenant={DEMO_TENANT_ID}&token=");
        let i = n
            .body
            .find(&link)
            .unwrap_or_else(|| panic!("{link} in {}", n.body))
            + link.len();
        n.body[i..].split_whitespace().next().unwrap().to_string()
    }

    async fn cancel(&self, reference: &str, email: &str) -> Value {
        let (s, b) = self
            .call(
                "POST",
                &self.public(&format!("/bookings/{reference}/cancel")),
                Some(json!({"email": email})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b
    }
}

fn reference(b: &Value) -> String {
    b["reference"].as_str().unwrap().to_string()
}

#[sqlx::test(migrations = "../../migrations")]
async fn staff_mark_outcomes_and_a_no_show_gets_a_rebooking_offer(pool: PgPool) {
    let mut w = world(pool).await;
    let b = w.book(ny(2026, 3, 4, 10, 0), ANA, Some(CALLER)).await;
    let r = reference(&b);
    assert_eq!(b["outcome"], Value::Null);
    w.work().await;
    let outcome = |o: &str| json!({"outcome": o});
    let path = w.admin(&format!("/bookings/{r}/outcome"));

    // Before the start, nothing can be recorded; bad input is a 4xx with a code.
    let (s, v) = w.call("POST", &path, Some(outcome("no_show")), true).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "outcome_too_early"));
    let (s, v) = w
        .call("POST", &path, Some(outcome("late_cancel")), true)
        .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_outcome"));
    let (s, _) = w.call("POST", &path, Some(outcome("no_show")), false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = w
        .call(
            "POST",
            &w.admin("/bookings/ZZZZ-ZZZZ/outcome"),
            Some(outcome("no_show")),
            true,
        )
        .await;
    assert_eq!(s.as_u16() / 100, 4, "{v}");

    // After the start: a no-show.
    w.clock.set(ny(2026, 3, 4, 10, 45));
    let (s, v) = w.call("POST", &path, Some(outcome("no_show")), true).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"], "no_show");
    assert_eq!(w.lookup(&r, ANA).await["outcome"], "no_show");
    // The same outcome again changes nothing (no second event).
    let (s, _) = w.call("POST", &path, Some(outcome("no_show")), true).await;
    assert_eq!(s, StatusCode::OK);

    // The event goes through the outbox and the policy engine to the follow-up tool.
    w.work().await;
    assert_eq!(
        w.seen.iter().filter(|e| **e == "NoShowRecorded").count(),
        1,
        "{:?}",
        w.seen
    );
    let notes = w.notes().await;
    let follow: Vec<_> = notes
        .iter()
        .filter(|n| n.kind == "no_show_followup")
        .collect();
    assert_eq!(follow.len(), 2, "email and SMS: {notes:?}");
    let email = follow.iter().find(|n| n.channel == "email").unwrap();
    assert_eq!(email.recipient, ANA);
    assert!(email.body.contains("We missed you"), "{}", email.body);
    assert!(
        email.body.contains("These times are open now"),
        "a rebooking offer: {}",
        email.body
    );

    // The admin sees the client's no-shows by email (any case) or phone.
    let (s, v) = w
        .call(
            "GET",
            &w.admin("/attendance?email=ANA@Example.com"),
            None,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["no_shows"], 1);
    let (_, v) = w
        .call(
            "GET",
            &w.admin(&format!("/attendance?phone={}", CALLER.replace('+', "%2B"))),
            None,
            true,
        )
        .await;
    assert_eq!(v["no_shows"], 1, "{v}");
    let (s, v) = w.call("GET", &w.admin("/attendance"), None, true).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "client_required"));

    // A correction replaces the outcome.
    let (s, v) = w.call("POST", &path, Some(outcome("attended")), true).await;
    assert_eq!(
        (s, v["outcome"].as_str()),
        (StatusCode::OK, Some("attended"))
    );
    let (_, v) = w
        .call(
            "GET",
            &w.admin("/attendance?email=ana@example.com"),
            None,
            true,
        )
        .await;
    assert_eq!(
        (v["no_shows"].as_i64(), v["attended"].as_i64()),
        (Some(0), Some(1))
    );

    // A cancelled booking has no attendance to record.
    w.clock.set(march_2_8am());
    let c = w.book(ny(2026, 3, 4, 11, 0), ANA, None).await;
    w.cancel(&reference(&c), ANA).await;
    w.clock.set(ny(2026, 3, 4, 12, 0));
    let (s, v) = w
        .call(
            "POST",
            &w.admin(&format!("/bookings/{}/outcome", reference(&c))),
            Some(outcome("attended")),
            true,
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "booking_cancelled"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn sms_c_marks_the_confirmation_on_the_booking(pool: PgPool) {
    let w = world(pool).await;
    let b = w.book(ny(2026, 3, 4, 9, 30), ANA, Some(CALLER)).await;
    assert_eq!(b["client_confirmed_at"], Value::Null);
    let r = w
        .text("SM20000000000000000000000000000001", CALLER, "C")
        .await;
    assert!(r[0].contains("is confirmed"), "{r:?}");
    let seen = w.lookup(&reference(&b), ANA).await;
    assert_eq!(
        seen["client_confirmed_at"], "2026-03-02T08:00:00-05:00",
        "{seen}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn attendance_policy_settings_are_checked(pool: PgPool) {
    let w = world(pool).await;
    let path = w.admin("/attendance-policy");
    let (s, v) = w.call("GET", &path, None, true).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"late_cancel_minutes": 1440, "no_show_confirm_threshold": null, "no_show_confirm_hours": 24})
    );
    for (body, want) in [
        (
            json!({"late_cancel_minutes": -1, "no_show_confirm_threshold": null, "no_show_confirm_hours": 24}),
            "invalid_late_cancel_minutes",
        ),
        (
            json!({"late_cancel_minutes": 60, "no_show_confirm_threshold": 0, "no_show_confirm_hours": 24}),
            "invalid_no_show_confirm_threshold",
        ),
        (
            json!({"late_cancel_minutes": 60, "no_show_confirm_threshold": 2, "no_show_confirm_hours": 0}),
            "invalid_no_show_confirm_hours",
        ),
    ] {
        let (s, v) = w.call("PUT", &path, Some(body), true).await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, want));
    }
    let (s, _) = w
        .call("PUT", &path, Some(json!({"late_cancel_minutes": 60})), true)
        .await;
    assert_eq!(s.as_u16() / 100, 4);
    let good = json!({"late_cancel_minutes": 120, "no_show_confirm_threshold": 2, "no_show_confirm_hours": 48});
    let (s, v) = w.call("PUT", &path, Some(good.clone()), true).await;
    assert_eq!((s, &v), (StatusCode::OK, &good));
    let (_, v) = w.call("GET", &path, None, false).await;
    assert_eq!(code(&v), "unauthorized", "{v}");
    // Every new route is in the OpenAPI document.
    let (_, doc) = w.call("GET", "/openapi.json", None, false).await;
    for p in [
        "/api/admin/tenants/{tenant}/bookings/{reference}/outcome",
        "/api/admin/tenants/{tenant}/attendance",
        "/api/admin/tenants/{tenant}/attendance-policy",
        "/api/tenants/{tenant}/waitlist/offers/{token}",
        "/api/tenants/{tenant}/waitlist/offers/{token}/accept",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
}

/// Both staff members busy at `start`: Ana's booking (returned) and Bob's.
async fn both_booked(w: &World, start: DateTime<Utc>) -> String {
    let a = w.book(start, ANA, Some(CALLER)).await;
    w.book(start, "bob@example.com", None).await;
    let (s, v) = w.hold(start).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));
    reference(&a)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_late_cancellation_frees_the_slot_and_offers_it_to_the_waitlist_with_a_real_hold(
    pool: PgPool,
) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 2, 15, 0);
    let r = both_booked(&w, start).await;
    // An early cancellation (days ahead) is no late one.
    let early = w.book(ny(2026, 3, 5, 9, 0), ANA, None).await;
    assert_eq!(
        w.cancel(&reference(&early), ANA).await["outcome"],
        Value::Null
    );
    w.work().await;
    let lee = w.waits("Lee Park", "lee@example.com", LEE_PHONE).await;

    // Seven hours ahead is inside the default 24 h window: late, and the time is free.
    let cancelled = w.cancel(&r, ANA).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["outcome"], "late_cancel");
    let (_, v) = w
        .call(
            "GET",
            &w.admin("/attendance?email=ana@example.com"),
            None,
            true,
        )
        .await;
    assert_eq!(v["late_cancels"], 1);

    // The worker offers the freed time to Lee at once, with a hold that blocks others.
    w.work().await;
    assert_eq!(w.entry(lee).await, WaitlistStatus::Offered);
    let (s, v) = w.hold(start).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "the offer's hold keeps the time"
    );
    let (_, avail) = w
        .call(
            "GET",
            &w.public(&format!(
                "/availability?service={}&from=2026-03-02&to=2026-03-02",
                consult()
            )),
            None,
            false,
        )
        .await;
    let starts: Vec<&str> = avail["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["start"].as_str())
        .collect();
    assert!(!starts.is_empty(), "{avail}");
    assert!(
        !starts.contains(&"2026-03-02T15:00:00-05:00"),
        "the held time is not offered to anyone else: {starts:?}"
    );
    let notes = w.notes().await;
    let sms = notes
        .iter()
        .find(|n| n.kind == "waitlist_match" && n.channel == "sms")
        .unwrap();
    assert_eq!(sms.recipient, LEE_PHONE);
    assert!(sms.body.contains("Reply BOOK"), "{}", sms.body);

    // Lee follows the link: the offer, then the booking made from its hold.
    let token = w.offer_token("lee@example.com").await;
    let (s, v) = w
        .call(
            "GET",
            &w.public(&format!("/waitlist/offers/{token}")),
            None,
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "offered");
    assert_eq!(v["start"], "2026-03-02T15:00:00-05:00");
    let accept = w.public(&format!("/waitlist/offers/{token}/accept"));
    let (s, booked) = w.call("POST", &accept, None, false).await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["client_email"], "lee@example.com");
    assert_eq!(booked["start"], "2026-03-02T15:00:00-05:00");
    assert_eq!(w.entry(lee).await, WaitlistStatus::Booked);
    // Accepting again answers the same booking.
    let (s, again) = w.call("POST", &accept, None, false).await;
    assert_eq!(
        (s, &again["reference"]),
        (StatusCode::OK, &booked["reference"])
    );
    let (s, v) = w
        .call(
            "POST",
            &w.public("/waitlist/offers/wo_nope/accept"),
            None,
            false,
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "offer_not_found"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_offer_that_runs_out_passes_to_the_next_entry_and_clients_book_or_leave_by_text(
    pool: PgPool,
) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 4, 10, 0);
    let r = both_booked(&w, start).await;
    w.work().await;
    let lee = w.waits("Lee Park", "lee@example.com", LEE_PHONE).await;
    let kim = w.waits("Kim Ode", "kim@example.com", KIM_PHONE).await;
    let max = w.waits("Max Roe", "max@example.com", MAX_PHONE).await;

    w.cancel(&r, ANA).await;
    w.work().await;
    assert_eq!(w.entry(lee).await, WaitlistStatus::Offered);
    assert_eq!(
        w.entry(kim).await,
        WaitlistStatus::Waiting,
        "one offer at a time"
    );
    let lee_token = w.offer_token("lee@example.com").await;

    // Lee does not answer: after the offer's lifetime the tick releases the hold, and the
    // time goes to Kim, held for Kim alone.
    w.clock.advance(Duration::minutes(14));
    assert_eq!(w.tick().await.waitlist_offers_expired, 0);
    w.clock.advance(Duration::minutes(2));
    let report = w.tick().await;
    assert_eq!(report.waitlist_offers_expired, 1, "{report:?}");
    assert_eq!(w.entry(lee).await, WaitlistStatus::Expired);
    assert_eq!(w.entry(kim).await, WaitlistStatus::Offered);
    let (s, v) = w.hold(start).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));
    let (s, v) = w
        .call(
            "POST",
            &w.public(&format!("/waitlist/offers/{lee_token}/accept")),
            None,
            false,
        )
        .await;
    assert_eq!((s, code(&v)), (StatusCode::GONE, "offer_expired"));

    // Lee's late BOOK finds nothing held; Kim's BOOK takes the time.
    let r = w
        .text("SM30000000000000000000000000000001", LEE_PHONE, "BOOK")
        .await;
    assert!(r[0].contains("no time held"), "{r:?}");
    let r = w
        .text("SM30000000000000000000000000000002", KIM_PHONE, "book")
        .await;
    assert!(r[0].contains("is booked"), "{r:?}");
    assert_eq!(w.entry(kim).await, WaitlistStatus::Booked);

    // Max leaves the waitlist by text.
    let r = w
        .text("SM30000000000000000000000000000003", MAX_PHONE, "LEAVE")
        .await;
    assert!(r[0].contains("left the waitlist"), "{r:?}");
    assert_eq!(w.entry(max).await, WaitlistStatus::Cancelled);
    let r = w
        .text("SM30000000000000000000000000000004", MAX_PHONE, "LEAVE")
        .await;
    assert!(r[0].contains("not on our waitlist"), "{r:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_client_who_leaves_while_offered_releases_the_time_to_the_next(pool: PgPool) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 4, 10, 0);
    let r = both_booked(&w, start).await;
    w.work().await;
    let lee = w.waits("Lee Park", "lee@example.com", LEE_PHONE).await;
    let kim = w.waits("Kim Ode", "kim@example.com", KIM_PHONE).await;
    w.cancel(&r, ANA).await;
    w.work().await;
    assert_eq!(w.entry(lee).await, WaitlistStatus::Offered);
    let r = w
        .text("SM40000000000000000000000000000001", LEE_PHONE, "leave")
        .await;
    assert!(r[0].contains("left the waitlist"), "{r:?}");
    assert_eq!(w.entry(lee).await, WaitlistStatus::Cancelled);
    w.work().await;
    assert_eq!(
        w.entry(kim).await,
        WaitlistStatus::Offered,
        "the released time passed on at once"
    );
    let (s, v) = w.hold(start).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));
    // When the last waiting client leaves too, the time is free for anyone.
    let r = w
        .text("SM40000000000000000000000000000002", KIM_PHONE, "LEAVE")
        .await;
    assert!(r[0].contains("left the waitlist"), "{r:?}");
    w.work().await;
    let (s, v) = w.hold(start).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn repeat_no_shows_must_confirm_by_reply_or_the_booking_is_released(pool: PgPool) {
    let mut w = world(pool).await;
    let (s, v) = w
        .call(
            "PUT",
            &w.admin("/attendance-policy"),
            Some(json!({"late_cancel_minutes": 1440, "no_show_confirm_threshold": 1, "no_show_confirm_hours": 24})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Ana missed Monday's appointment.
    let missed = w.book(ny(2026, 3, 2, 10, 0), ANA, Some(CALLER)).await;
    w.clock.set(ny(2026, 3, 2, 10, 45));
    let (s, _) = w
        .call(
            "POST",
            &w.admin(&format!("/bookings/{}/outcome", reference(&missed))),
            Some(json!({"outcome": "no_show"})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Her next two bookings, and one of a client without no-shows.
    let thu = w.book(ny(2026, 3, 5, 10, 0), ANA, Some(CALLER)).await;
    let fri = w.book(ny(2026, 3, 6, 10, 0), ANA, Some(CALLER)).await;
    let bob = w.book(ny(2026, 3, 6, 11, 0), "bob@example.com", None).await;
    w.work().await;

    // The tick sets Ana's deadlines and asks her to confirm; Bob is not asked.
    let report = w.tick().await;
    assert_eq!(report.confirmations_asked, 2, "{report:?}");
    let thu_view = w.lookup(&reference(&thu), ANA).await;
    assert_eq!(thu_view["confirm_by"], "2026-03-04T10:00:00-05:00");
    assert_eq!(
        w.lookup(&reference(&bob), "bob@example.com").await["confirm_by"],
        Value::Null
    );
    let asked: Vec<_> = w
        .notes()
        .await
        .into_iter()
        .filter(|n| n.kind == "confirmation_required")
        .collect();
    assert_eq!(asked.len(), 4, "email and SMS for each booking");
    assert!(asked
        .iter()
        .any(|n| n.channel == "sms" && n.body.contains("reply C")));

    // Ana confirms Thursday by text; Friday stays unconfirmed.
    let r = w
        .text("SM50000000000000000000000000000001", CALLER, "C")
        .await;
    assert!(r[0].contains("is confirmed"), "{r:?}");
    w.clock.set(ny(2026, 3, 5, 10, 30));
    let report = w.tick().await;
    assert_eq!(report.bookings_released, 1, "{report:?}");
    let fri_view = w.lookup(&reference(&fri), ANA).await;
    assert_eq!(fri_view["status"], "cancelled", "{fri_view}");
    assert_eq!(w.lookup(&reference(&thu), ANA).await["status"], "confirmed");
    assert_eq!(
        w.lookup(&reference(&bob), "bob@example.com").await["status"],
        "confirmed"
    );
    // Ana is told why; the freed time is open again.
    let told = w.notes().await.into_iter().find(|n| {
        n.kind == "cancellation"
            && n.booking_id.is_some()
            && n.subject
                .as_deref()
                .is_some_and(|s| s.contains("was released"))
    });
    assert!(told.is_some(), "{:?}", w.notes().await);
    assert!(w.seen.contains(&"SlotOpened"));
    let (s, v) = w.hold(ny(2026, 3, 6, 10, 0)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Nothing is released twice.
    assert_eq!(w.tick().await.bookings_released, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_client_leaves_the_waitlist_by_chat_and_the_held_time_passes_on(pool: PgPool) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 4, 10, 0);
    let r = both_booked(&w, start).await;
    w.work().await;
    // Lee joins from the chat (the rules engine), Kim waits too.
    let chat = w.public("/chat");
    let (s, v) = w
        .call(
            "POST",
            &chat,
            Some(json!({"message": "Please put me on the waitlist for a consultation"})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let session = v["session_id"].as_str().unwrap().to_string();
    let mut reply = v["reply"].as_str().unwrap_or_default().to_string();
    for text in ["Lee Park", "lee@example.com"] {
        if reply.contains("You're on the waitlist") {
            break;
        }
        let (_, v) = w
            .call(
                "POST",
                &chat,
                Some(json!({"session_id": session, "message": text})),
                false,
            )
            .await;
        reply = v["reply"].as_str().unwrap_or_default().to_string();
    }
    assert!(reply.contains("You're on the waitlist"), "{reply}");
    let kim = w.waits("Kim Ode", "kim@example.com", KIM_PHONE).await;

    w.cancel(&r, ANA).await;
    w.work().await;
    assert_eq!(
        w.entry(kim).await,
        WaitlistStatus::Waiting,
        "Lee joined first and holds the offer"
    );
    let (s, v) = w.hold(start).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));

    // Lee leaves in the chat: the held time goes to Kim.
    let (_, v) = w
        .call(
            "POST",
            &chat,
            Some(json!({"session_id": session, "message": "actually, take me off the waitlist"})),
            false,
        )
        .await;
    assert!(
        v["reply"].as_str().unwrap().contains("off the waitlist"),
        "{v}"
    );
    w.work().await;
    assert_eq!(w.entry(kim).await, WaitlistStatus::Offered);
    // Saying it again finds nothing to remove.
    let (_, v) = w
        .call(
            "POST",
            &chat,
            Some(json!({"session_id": session, "message": "remove me from the waitlist"})),
            false,
        )
        .await;
    assert!(
        v["reply"].as_str().unwrap().contains("nothing to remove"),
        "{v}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_times_opening_at_once_go_to_two_entries(pool: PgPool) {
    let mut w = world(pool).await;
    let ten = both_booked(&w, ny(2026, 3, 4, 10, 0)).await;
    let eleven = both_booked(&w, ny(2026, 3, 4, 11, 0)).await;
    w.work().await;
    let lee = w.waits("Lee Park", "lee@example.com", LEE_PHONE).await;
    let kim = w.waits("Kim Ode", "kim@example.com", KIM_PHONE).await;
    // Both events plan the oldest entry; the second time goes to the next one that waits.
    w.cancel(&ten, ANA).await;
    w.cancel(&eleven, ANA).await;
    w.work().await;
    assert_eq!(w.entry(lee).await, WaitlistStatus::Offered);
    assert_eq!(w.entry(kim).await, WaitlistStatus::Offered);
    let kim_says = w
        .text("SM60000000000000000000000000000001", KIM_PHONE, "BOOK")
        .await;
    let lee_says = w
        .text("SM60000000000000000000000000000002", LEE_PHONE, "BOOK")
        .await;
    assert!(kim_says[0].contains("is booked"), "{kim_says:?}");
    assert!(lee_says[0].contains("is booked"), "{lee_says:?}");
    let at = |t: &str| if t.contains("10:00") { 10 } else { 11 };
    assert_ne!(at(&kim_says[0]), at(&lee_says[0]), "one time each");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_offer_link_opens_a_page_that_books_only_when_the_client_presses_the_button(
    pool: PgPool,
) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 4, 10, 0);
    let r = both_booked(&w, start).await;
    w.work().await;
    let lee = w.waits("Lee Park", "lee@example.com", LEE_PHONE).await;
    let kim = w.waits("Kim Ode", "kim@example.com", KIM_PHONE).await;
    w.cancel(&r, ANA).await;
    w.work().await;
    let lee_token = w.offer_token("lee@example.com").await;
    let link = |t: &str| format!("/waitlist/offer?tenant={DEMO_TENANT_ID}&token={t}");

    // Opening the page (as a link scanner would) books nothing.
    let (s, html) = w.page(&link(&lee_token), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("Book this time") && html.contains("10:00"),
        "{html}"
    );
    let (s, html) = w.page(&link(&lee_token), None).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert_eq!(w.entry(lee).await, WaitlistStatus::Offered);
    let (s, _) = w.page(&link("wo_0000"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = w.page("/waitlist/offer?tenant=nope&token=x", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Lee lets it run out: his page says so, and Kim's page books for Kim.
    w.clock.advance(Duration::minutes(16));
    w.tick().await;
    let (s, html) = w.page(&link(&lee_token), None).await;
    assert_eq!(s, StatusCode::GONE, "{html}");
    assert!(html.contains("next person"), "{html}");
    let form = |t: &str| format!("tenant={DEMO_TENANT_ID}&token={t}");
    let (s, _) = w.page("/waitlist/offer", Some(&form(&lee_token))).await;
    assert_eq!(s, StatusCode::GONE);
    let kim_token = w.offer_token("kim@example.com").await;
    let (s, html) = w.page("/waitlist/offer", Some(&form(&kim_token))).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("is booked"), "{html}");
    assert_eq!(w.entry(kim).await, WaitlistStatus::Booked);
    let (s, _) = w.page("/waitlist/offer", Some("garbage=%zz")).await;
    assert_eq!(s.as_u16() / 100, 4);
}

/// A client who joined the waitlist in Spanish gets the offer in Spanish: the email, the
/// page it links to, and the page that books it; the booking keeps the language.
#[sqlx::test(migrations = "../../migrations")]
async fn a_spanish_waitlist_offer_is_written_and_shown_in_spanish(pool: PgPool) {
    let mut w = world(pool).await;
    let start = ny(2026, 3, 4, 10, 0);
    let r = both_booked(&w, start).await;
    w.work().await;
    w.waits_in("Lucía Paz", "lucia@example.com", LEE_PHONE, "es")
        .await;
    w.cancel(&r, ANA).await;
    w.work().await;
    let offer = w
        .notes()
        .await
        .into_iter()
        .find(|n| n.kind == "waitlist_match" && n.channel == "email")
        .unwrap();
    assert!(
        offer.body.contains("miércoles 4 de marzo"),
        "{}",
        offer.body
    );
    let token = w.offer_token("lucia@example.com").await;
    let (s, html) = w
        .page(
            &format!("/waitlist/offer?tenant={DEMO_TENANT_ID}&token={token}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("lang=\"es\""), "{html}");
    assert!(
        html.contains("miércoles 4 de marzo") && !html.contains("Book this time"),
        "{html}"
    );
    let (s, html) = w
        .page(
            "/waitlist/offer",
            Some(&format!("tenant={DEMO_TENANT_ID}&token={token}")),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("miércoles 4 de marzo") && !html.contains("is booked"),
        "{html}"
    );
    let (locale,): (String,) =
        sqlx::query_as("SELECT locale FROM appointments WHERE client_email = 'lucia@example.com'")
            .fetch_one(&w.pool)
            .await
            .unwrap();
    assert_eq!(locale, "es");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_tenant_rule_can_turn_the_no_show_follow_up_off(pool: PgPool) {
    let mut w = world(pool).await;
    gomomo::db::policy::insert_rule(
        &w.pool,
        Some(DEMO_TENANT_ID),
        "send_no_show_followup",
        gomomo::domain::policy::Effect::Deny,
        &serde_json::Map::new(),
        0,
    )
    .await
    .unwrap();
    let b = w.book(ny(2026, 3, 4, 10, 0), ANA, Some(CALLER)).await;
    w.clock.set(ny(2026, 3, 4, 11, 0));
    let (s, _) = w
        .call(
            "POST",
            &w.admin(&format!("/bookings/{}/outcome", reference(&b))),
            Some(json!({"outcome": "no_show"})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    w.work().await;
    assert!(w.seen.contains(&"NoShowRecorded"));
    assert!(
        !w.notes().await.iter().any(|n| n.kind == "no_show_followup"),
        "the policy engine denied the tool"
    );
}
