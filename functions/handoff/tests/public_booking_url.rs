//! The tenant's public booking URL and the messages that ask the client to act, through the
//! real doors of one composed app: the admin route sets the URL, the booking's reminders
//! (email and SMS, with how to reply C, R or X) and the no-show follow-up carry it, an SMS
//! "C" confirms, and without a URL the messages link to the tenant's chat page, which the
//! server under test serves. The REST chat takes a note that lands on the booking.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use gomomo::adapters::local::InProcessPublisher;
use gomomo::app::{Adapters, App};
use gomomo::db::bookings;
use gomomo::db::notifications::{self, NotificationRow};
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

const ANA: &str = "ana@example.com";
const URL: &str = "https://clinic.example/book";

struct World {
    api: Router,
    sms: Router,
    app: App,
    rx: mpsc::Receiver<EventEnvelope>,
    clock: Clock,
    pool: PgPool,
    key: String,
}

async fn world(pool: PgPool) -> World {
    let seed = seed_demo(&pool).await.unwrap();
    let config = config(&[
        ("AUTONOMY_ENABLED", "true"),
        ("TWILIO_API_BASE_URL", "http://127.0.0.1:9"),
    ]);
    let clock = Clock::fixed(march_2_8am());
    let (publisher, rx) = InProcessPublisher::channel(1024);
    let adapters =
        Adapters::without_mail(&pool, &config, &clock).with_publisher(Arc::new(publisher));
    let app = App::build(config, pool.clone(), clock.clone(), adapters);
    World {
        api: gomomo_api::function_router(gomomo_api::AppState::from_app(&app)),
        sms: gomomo_handoff::router(gomomo_handoff::HandoffState::from_app(&app)),
        app,
        rx,
        clock,
        pool,
        key: seed.api_key,
    }
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

    fn admin(&self, p: &str) -> String {
        format!("/api/admin/tenants/{DEMO_TENANT_ID}{p}")
    }

    async fn put_url(&self, url: Value) -> (StatusCode, Value) {
        self.call(
            "PUT",
            &self.admin("/public-booking-url"),
            Some(json!({ "public_booking_url": url })),
            true,
        )
        .await
    }

    /// Holds and books `start` for `email` (with `phone`): the booking's JSON.
    async fn book(&self, start: DateTime<Utc>, email: &str, phone: Option<&str>) -> Value {
        let (s, hold) = self
            .call(
                "POST",
                &format!("/api/tenants/{DEMO_TENANT_ID}/holds"),
                Some(json!({"service_id": DEMO_SERVICES[0].0, "start": start.to_rfc3339()})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{hold}");
        let (s, b) = self
            .call(
                "POST",
                &format!("/api/tenants/{DEMO_TENANT_ID}/bookings"),
                Some(json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
                            "client_name": "Ana Lopez", "client_email": email, "client_phone": phone})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        b
    }

    /// What the worker does: publish, hand events to the orchestrator, run due jobs.
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
                self.app.autonomy.handle_event(&env).await.unwrap();
            }
            self.app.autonomy.run_due_jobs(100).await.unwrap();
        }
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

    async fn sent(&self, kind: &str, channel: &str) -> Vec<NotificationRow> {
        notifications::list_for_tenant(&self.pool, DEMO_TENANT_ID)
            .await
            .unwrap()
            .into_iter()
            .filter(|n| n.kind == kind && n.channel == channel)
            .collect()
    }

    /// GET `link` (a link to this server) through the server under test: its status.
    async fn get_own(&self, link: &str) -> StatusCode {
        let path = link.strip_prefix(BASE).unwrap_or_else(|| panic!("{link}"));
        let req = Request::get(path)
            .header("accept", "text/html")
            .body(Body::empty())
            .unwrap();
        self.api.clone().oneshot(req).await.unwrap().status()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_public_booking_url_is_read_set_and_checked_by_the_admin_route(pool: PgPool) {
    let w = world(pool).await;
    let path = w.admin("/public-booking-url");
    // Unset: messages go to the tenant's hosted chat page, which this server serves.
    let (s, v) = w.call("GET", &path, None, true).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["public_booking_url"], Value::Null);
    let page = format!("{BASE}/?tenant={DEMO_TENANT_ID}");
    assert_eq!(v["effective_link"], page.as_str());
    assert_eq!(w.get_own(&page).await, StatusCode::OK);

    let (s, _) = w.call("GET", &path, None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let long = format!("https://clinic.example/{}", "a".repeat(500));
    for bad in [
        "javascript:alert(1)",
        "ftp://clinic.example/book",
        "https://",
        "https://user:secret@clinic.example/book",
        "https://clinic.example/a b",
        "clinic.example/book",
        long.as_str(),
    ] {
        let (s, v) = w.put_url(json!(bad)).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_public_booking_url"),
            "{bad}: {v}"
        );
    }
    let (s, v) = w.put_url(json!(format!("  {URL}  "))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["public_booking_url"], URL);
    assert_eq!(v["effective_link"], URL);
    let (_, v) = w.call("GET", &path, None, true).await;
    assert_eq!(v["public_booking_url"], URL);
    // Cleared: back to the chat page.
    let (s, v) = w.put_url(Value::Null).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["public_booking_url"], Value::Null);
    assert_eq!(v["effective_link"], page.as_str());
    // In the OpenAPI document.
    let (_, doc) = w.call("GET", "/openapi.json", None, false).await;
    let entry = &doc["paths"]["/api/admin/tenants/{tenant}/public-booking-url"];
    assert!(
        entry["get"].is_object() && entry["put"].is_object(),
        "{entry}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn production_takes_only_reachable_https_booking_urls(pool: PgPool) {
    for bad in [
        "http://clinic.example/book",
        "https://localhost/book",
        "https://10.0.0.5/book",
        "https://clinic.internal/book",
    ] {
        assert!(
            gomomo::services::admin::parse_public_booking_url(bad, true).is_err(),
            "{bad}"
        );
        assert!(
            gomomo::services::admin::parse_public_booking_url(bad, false).is_ok(),
            "{bad}"
        );
    }
    assert!(gomomo::services::admin::parse_public_booking_url(URL, true).is_ok());
    let _ = pool;
}

#[sqlx::test(migrations = "../../migrations")]
async fn reminders_and_the_no_show_follow_up_carry_the_url_and_say_how_to_reply(pool: PgPool) {
    let mut w = world(pool).await;
    let (s, v) = w.put_url(json!(URL)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let start = ny(2026, 3, 4, 10, 0);
    let b = w.book(start, ANA, Some(CALLER)).await;
    let reference = b["reference"].as_str().unwrap().to_string();
    w.work().await;

    // 24 hours before: the reminder, by email and SMS.
    w.clock.set(ny(2026, 3, 3, 10, 1));
    w.work().await;
    let sms = w.sent("reminder_24h", "sms").await;
    assert_eq!(sms.len(), 1);
    let text = &sms[0].body;
    assert!(
        text.contains("Reply C to confirm, R to reschedule or X to cancel"),
        "{text}"
    );
    assert!(text.contains(URL), "{text}");
    assert!(text.contains(&reference), "{text}");
    let email = w.sent("reminder_24h", "email").await;
    assert_eq!(email.len(), 1);
    let body = &email[0].body;
    assert!(body.contains(URL), "{body}");
    assert!(
        body.contains("reply C to confirm, R to reschedule or X to cancel"),
        "{body}"
    );

    // What the reminder says works: "C" confirms the booking.
    let r = w
        .text("SM30000000000000000000000000000001", CALLER, "C")
        .await;
    assert!(r[0].contains("is confirmed"), "{r:?}");
    let row = bookings::appointment_by_reference(&w.pool, DEMO_TENANT_ID, &reference, false)
        .await
        .unwrap()
        .unwrap();
    assert!(row.client_confirmed_at.is_some());

    // A no-show: the follow-up carries the link on both channels.
    w.clock.set(ny(2026, 3, 4, 10, 45));
    let (s, v) = w
        .call(
            "POST",
            &w.admin(&format!("/bookings/{reference}/outcome")),
            Some(json!({"outcome": "no_show"})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    w.work().await;
    for channel in ["email", "sms"] {
        let sent = w.sent("no_show_followup", channel).await;
        assert_eq!(sent.len(), 1, "{channel}");
        assert!(sent[0].body.contains(URL), "{channel}: {}", sent[0].body);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_a_url_messages_link_to_the_chat_page_that_this_server_serves(pool: PgPool) {
    let mut w = world(pool).await;
    let b = w.book(ny(2026, 3, 4, 11, 0), ANA, None).await;
    let reference = b["reference"].as_str().unwrap().to_string();
    w.work().await;
    w.clock.set(ny(2026, 3, 3, 11, 1));
    w.work().await;
    let email = w.sent("reminder_24h", "email").await;
    assert_eq!(email.len(), 1);
    let body = &email[0].body;
    let page = format!("{BASE}/?tenant={DEMO_TENANT_ID}");
    assert!(body.contains(&page), "{body}");
    // No phone on the booking: no promise of a text reply.
    assert!(!body.contains("reply C"), "{body}");
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with(BASE))
        .unwrap();
    assert_eq!(w.get_own(link).await, StatusCode::OK, "{link}");

    // A cancellation notice carries it too.
    let (s, v) = w
        .call(
            "POST",
            &format!("/api/tenants/{DEMO_TENANT_ID}/bookings/{reference}/cancel"),
            Some(json!({"email": ANA})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    w.work().await;
    let sent = w.sent("cancellation", "email").await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains(&page), "{}", sent[0].body);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_rest_chat_takes_a_note_that_lands_on_the_booking(pool: PgPool) {
    let w = world(pool).await;
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}/chat");
    let (s, r) = w
        .call(
            "POST",
            &uri,
            Some(json!({"message": "I'd like to book a consultation on Wednesday morning"})),
            false,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["engine"], "rules");
    let session = r["session_id"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for text in [
        "please note I'm allergic to latex",
        "1",
        "Ana Lopez",
        "ana@example.org",
        "yes",
    ] {
        let (s, r) = w
            .call(
                "POST",
                &uri,
                Some(json!({"session_id": session, "message": text})),
                false,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        last = r;
    }
    let reference = last["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "booking_confirmed")
        .map(|e| e["reference"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{last}"));
    let row = bookings::appointment_by_reference(&w.pool, DEMO_TENANT_ID, &reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.notes.as_deref(), Some("I'm allergic to latex"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_sms_cancellation_reply_links_to_booking_again(pool: PgPool) {
    let w = world(pool).await;
    let (s, v) = w.put_url(json!(URL)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    w.book(ny(2026, 3, 5, 10, 0), ANA, Some(CALLER)).await;
    let r = w
        .text("SM30000000000000000000000000000011", CALLER, "X")
        .await;
    assert!(r[0].contains("reply X again"), "{r:?}");
    let r = w
        .text("SM30000000000000000000000000000012", CALLER, "X")
        .await;
    assert!(r[0].contains("is cancelled"), "{r:?}");
    assert!(r[0].contains(URL), "{r:?}");
    // It no longer tells the client to reply R, which finds no upcoming booking now.
    assert!(!r[0].contains("Reply R"), "{r:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn seed_demo_gives_the_demo_tenant_its_chat_page_and_keeps_an_admins_url(pool: PgPool) {
    let w = world(pool.clone()).await;
    gomomo::services::admin::seed_demo_booking_url(&pool, BASE)
        .await
        .unwrap();
    let page = format!("{BASE}/?tenant={DEMO_TENANT_ID}");
    let (_, v) = w
        .call("GET", &w.admin("/public-booking-url"), None, true)
        .await;
    assert_eq!(v["public_booking_url"], page.as_str(), "{v}");
    assert_eq!(w.get_own(&page).await, StatusCode::OK);
    let (s, _) = w.put_url(json!(URL)).await;
    assert_eq!(s, StatusCode::OK);
    gomomo::services::admin::seed_demo_booking_url(&pool, BASE)
        .await
        .unwrap();
    let (_, v) = w
        .call("GET", &w.admin("/public-booking-url"), None, true)
        .await;
    assert_eq!(v["public_booking_url"], URL, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_schedule_change_notice_without_a_link_uses_the_tenants_url(pool: PgPool) {
    let w = world(pool).await;
    let (s, v) = w.put_url(json!(URL)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let b = w.book(ny(2026, 3, 4, 10, 0), ANA, Some(CALLER)).await;
    let reference = b["reference"].as_str().unwrap().to_string();
    let (s, v) = w
        .call(
            "POST",
            &w.admin("/exceptions"),
            Some(json!({"kind": "closed", "start_date": "2026-03-04"})),
            true,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["exception"]["id"].as_str().unwrap().to_string();
    let (s, v) = w
        .call(
            "POST",
            &w.admin(&format!("/exceptions/{id}/notify")),
            None,
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["notified"][0]["reference"], reference.as_str(), "{v}");
    for channel in ["email", "sms"] {
        let sent = w.sent("schedule_change", channel).await;
        assert_eq!(sent.len(), 1, "{channel}");
        assert!(sent[0].body.contains(URL), "{channel}: {}", sent[0].body);
    }
}
