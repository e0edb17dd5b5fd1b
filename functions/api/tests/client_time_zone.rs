//! The client's own time zone through the REST routes on a real Postgres: the chat takes the
//! browser's zone, the booking made in the conversation keeps it and the replies show the
//! client's time beside the clinic's; the booking route takes it too; unknown zones are 400.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use chrono::Duration;
use gomomo::db::bookings;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, call, code, consult, demo, march_2_8am, post};

async fn zone_of(pool: &PgPool, reference: &str) -> Option<String> {
    bookings::appointment_by_reference(pool, DEMO_TENANT_ID, reference, false)
        .await
        .unwrap()
        .unwrap()
        .client_time_zone
}

/// The demo clinic is in New York. On Tuesday 3 March (before New York's change to summer
/// time on the 8th) Madrid is 6 hours ahead; on Tuesday 10 March, 5.
#[sqlx::test(migrations = "../../migrations")]
async fn the_chat_keeps_the_browsers_zone_and_its_replies_show_both_times(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}/chat");
    let (s, r) = post(
        &app,
        &uri,
        json!({"message": "I'd like to book a consultation tomorrow", "client_time_zone": "Europe/Madrid"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let reply = r["reply"].as_str().unwrap();
    // The list of one day's times: each with the client's time beside it.
    assert!(
        reply.contains("9:00 AM (your time: 3:00 PM Europe/Madrid)"),
        "{reply}"
    );
    let label = r["events"][0]["slots"][0]["label"].as_str().unwrap();
    assert_eq!(
        label,
        "Tue, Mar 3 at 9:00 AM (your time: 3:00 PM Europe/Madrid)"
    );
    let session = r["session_id"].as_str().unwrap().to_string();
    // Later messages need not carry the zone: the session (in Postgres) keeps it.
    let mut last = Value::Null;
    for text in ["1", "Ana Lopez", "ana@example.org", "yes"] {
        let (s, r) = post(&app, &uri, json!({"session_id": session, "message": text})).await;
        assert_eq!(s, StatusCode::OK, "{r}");
        last = r;
    }
    let reply = last["reply"].as_str().unwrap();
    assert!(reply.contains("You're all set"), "{reply}");
    assert!(
        reply.contains("Tue, Mar 3 at 9:00 AM (your time: 3:00 PM Europe/Madrid)"),
        "{reply}"
    );
    let reference = last["events"][0]["reference"].as_str().unwrap();
    assert_eq!(
        zone_of(&pool, reference).await.as_deref(),
        Some("Europe/Madrid")
    );

    // After New York's change: 5 hours apart.
    let (s, r) = post(
        &app,
        &uri,
        json!({"session_id": session, "message": "book a consultation on March 10", "client_time_zone": "Europe/Madrid"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let reply = r["reply"].as_str().unwrap();
    assert!(
        reply.contains("9:00 AM (your time: 2:00 PM Europe/Madrid)"),
        "{reply}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_browser_in_the_clinics_zone_changes_nothing(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}/chat");
    for zone in ["America/New_York", "America/Toronto"] {
        let (s, r) = post(
            &app,
            &uri,
            json!({"message": "I'd like to book a consultation tomorrow", "client_time_zone": zone}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(
            r["events"][0]["slots"][0]["label"], "Tue, Mar 3 at 9:00 AM",
            "{r}"
        );
        assert!(!r["reply"].as_str().unwrap().contains("your time"), "{r}");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_booking_route_keeps_the_clients_zone_and_a_move_keeps_it(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let (s, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-03T09:00:00-05:00"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let sid = hold["session_id"].as_str().unwrap();
    let (s, b) = post(
        &app,
        &demo("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": sid, "client_name": "Ana Lopez",
               "client_email": "ana@example.com", "client_time_zone": "Asia/Tokyo"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["client_time_zone"], "Asia/Tokyo");
    let reference = b["reference"].as_str().unwrap().to_string();
    let (s, h2) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-04T15:00:00Z", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{h2}");
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        json!({"email": "ana@example.com", "hold_id": h2["hold_id"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["client_time_zone"], "Asia/Tokyo");
    assert_eq!(
        zone_of(&pool, &reference).await.as_deref(),
        Some("Asia/Tokyo")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unknown_zone_is_a_400_and_writes_nothing(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let (s, r) = post(
        &app,
        &format!("/api/tenants/{DEMO_TENANT_ID}/chat"),
        json!({"message": "hi", "client_time_zone": "Mars/Olympus_Mons"}),
    )
    .await;
    assert_eq!(
        (s, code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_client_time_zone"),
        "{r}"
    );

    let (_, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-03T09:00:00-05:00"}),
    )
    .await;
    let (s, r) = post(
        &app,
        &demo("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": "Ana Lopez",
               "client_email": "ana@example.com", "client_time_zone": "EST5EDT-ish"}),
    )
    .await;
    assert_eq!(
        (s, code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_client_time_zone"),
        "{r}"
    );
    let from = march_2_8am();
    let all = bookings::list_appointments(
        &pool,
        DEMO_TENANT_ID,
        from,
        from + Duration::days(30),
        None,
        10,
    )
    .await
    .unwrap();
    assert!(all.is_empty(), "{all:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_openapi_documents_the_client_time_zone(pool: PgPool) {
    let app = app(pool, Clock::fixed(march_2_8am()), &[]);
    let (s, v) = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let schemas = &v["components"]["schemas"];
    for schema in ["ChatRequest", "ConfirmRequest", "BookingView"] {
        assert!(
            schemas[schema]["properties"]["client_time_zone"].is_object(),
            "{schema}: {}",
            schemas[schema]
        );
    }
}
