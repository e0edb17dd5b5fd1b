//! Sessions are issued by the server: the REST chat, holds, bookings and reschedules accept
//! only a session issued for the tenant they name. Client-chosen ids, another tenant's
//! sessions and internal ones (a call's `call:<CallSid>`) are refused with 404
//! `session_not_found`. Also the admin route of the widget's allowed origins.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use gomomo::services::admin::{seed_demo, DEMO_SERVICES, DEMO_TENANT_ID, DEMO_WIDGET_ORIGINS};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, call, march_2_8am, post, PLATFORM, PLATFORM_KEY};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn demo(path: &str) -> String {
    format!("/api/tenants/{DEMO_TENANT_ID}{path}")
}

async fn issue(app: &Router, tenant: &str) -> String {
    let (s, v) = post(app, &format!("/api/tenants/{tenant}/sessions"), "").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["session_id"].as_str().unwrap().to_string()
}

/// A second tenant through the platform route; its id and admin key.
async fn other_tenant(app: &Router) -> (String, String) {
    let (s, v) = call(
        app,
        "POST",
        "/api/admin/tenants",
        Some(&json!({"name": "Other", "time_zone": "UTC"}).to_string()),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    (
        v["tenant"]["id"].as_str().unwrap().to_string(),
        v["api_key"].as_str().unwrap().to_string(),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn only_sessions_issued_for_the_tenant_are_accepted(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);

    // the sessions route issues unguessable tokens
    let a = issue(&app, &DEMO_TENANT_ID.to_string()).await;
    let b = issue(&app, &DEMO_TENANT_ID.to_string()).await;
    assert_ne!(a, b);
    assert!(a.starts_with("gs_") && a.len() == 46, "{a}");
    let (s, v) = post(
        &app,
        "/api/tenants/6d0e0000-0000-4000-8000-0000000000ff/sessions",
        "",
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "tenant_not_found"));

    // a voice call's session exists in the chat tables, but is not public
    let call_session = "call:CA0123456789abcdef0123456789abcdef";
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, channel) VALUES ($1, $2, 'voice')")
        .bind(DEMO_TENANT_ID)
        .bind(call_session)
        .execute(&pool)
        .await
        .unwrap();
    let (other, _) = other_tenant(&app).await;
    let theirs = issue(&app, &other).await;

    let chat = demo("/chat");
    for refused in [
        "web-abc",
        "rest-1",
        call_session,
        "gs_madeup",
        theirs.as_str(),
    ] {
        let (s, v) = post(&app, &chat, json!({"session_id": refused, "message": "hi"})).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::NOT_FOUND, "session_not_found"),
            "{refused}: {v}"
        );
        assert!(
            v["error"]["message"].as_str().unwrap().contains("sessions"),
            "{v}"
        );
        let (s, v) = post(&app, &demo("/holds"), json!({"service_id": DEMO_SERVICES[0].0, "start": "2026-03-03T09:00:00-05:00", "session_id": refused})).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::NOT_FOUND, "session_not_found"),
            "{refused}: {v}"
        );
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM availability_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "no hold under a refused session");

    // an issued session works, and a chat without one is issued one
    let (s, v) = post(&app, &chat, json!({"session_id": a, "message": "hi"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["session_id"], a.as_str());
    let (s, v) = post(&app, &chat, json!({"message": "hi"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let fresh = v["session_id"].as_str().unwrap();
    assert!(
        fresh.starts_with("gs_") && fresh != a && fresh != b,
        "{fresh}"
    );
    let (s, v) = post(
        &app,
        &chat,
        json!({"session_id": fresh, "message": "hello again"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // a hold without a session is issued one; confirming needs that one
    let (s, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": DEMO_SERVICES[0].0, "start": "2026-03-03T09:00:00-05:00"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let owner = hold["session_id"].as_str().unwrap().to_string();
    assert!(owner.starts_with("gs_"));
    let confirm = |session: &str| json!({"hold_id": hold["hold_id"], "session_id": session, "client_name": "Ana", "client_email": "ana@example.com"});
    let (s, v) = post(&app, &demo("/bookings"), confirm(&theirs)).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "session_not_found"));
    let (s, v) = post(&app, &demo("/bookings"), confirm(&b)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "hold_not_owned"));
    let (s, booked) = post(&app, &demo("/bookings"), confirm(&owner)).await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");

    // a reschedule's optional session must be issued too
    let reference = booked["reference"].as_str().unwrap();
    let (_, h2) = post(&app, &demo("/holds"), json!({"service_id": DEMO_SERVICES[0].0, "start": "2026-03-03T10:00:00-05:00", "session_id": owner})).await;
    assert_eq!(h2["session_id"], owner.as_str());
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        json!({"email": "ana@example.com", "hold_id": h2["hold_id"], "session_id": "web-abc"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "session_not_found"));
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        json!({"email": "ana@example.com", "hold_id": h2["hold_id"], "session_id": owner}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // the OpenAPI document has the route and says sessions are server-issued
    let (_, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    assert!(doc["paths"].get("/api/tenants/{tenant}/sessions").is_some());
    assert!(doc["paths"]
        .get("/api/admin/tenants/{tenant}/widget-origins")
        .is_some());
    let chat_doc = doc["paths"]["/api/tenants/{tenant}/chat"].to_string();
    assert!(chat_doc.contains("issued by the server"), "{chat_doc}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn widget_origins_are_read_and_set_by_the_tenants_admin(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);
    let uri = format!("/api/admin/tenants/{DEMO_TENANT_ID}/widget-origins");

    // the demo seed lists the local origins it needs
    let (s, v) = call(&app, "GET", &uri, None, Some(&seed.api_key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["widget_origins"], json!(DEMO_WIDGET_ORIGINS));
    // a new tenant: its deployment's own origin only
    let (other, other_key) = other_tenant(&app).await;
    let other_uri = format!("/api/admin/tenants/{other}/widget-origins");
    let (s, v) = call(&app, "GET", &other_uri, None, Some(&other_key)).await;
    assert_eq!(
        (s, v["widget_origins"].clone()),
        (StatusCode::OK, json!([]))
    );

    // another tenant's key, or none, is refused
    let (s, _) = call(&app, "GET", &uri, None, Some(&other_key)).await;
    assert!(
        s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED || s == StatusCode::NOT_FOUND,
        "{s}"
    );
    let (s, _) = call(&app, "GET", &uri, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    let put = |body: Value| {
        let (app, uri, key) = (app.clone(), uri.clone(), seed.api_key.clone());
        async move { call(&app, "PUT", &uri, Some(&body.to_string()), Some(&key)).await }
    };
    for bad in [
        "shop.example.com",
        "https://shop.example.com/",
        "https://shop.example.com/x",
        "javascript:alert(1)",
        "https://a b",
    ] {
        let (s, v) = put(json!({"widget_origins": [bad]})).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_widget_origins"),
            "{bad}: {v}"
        );
    }
    let (s, v) = put(json!({"widget_origins": ["https://Shop.example.com", "http://localhost:5173", "https://shop.example.com"]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["widget_origins"],
        json!(["https://shop.example.com", "http://localhost:5173"])
    );
    let (_, v) = call(&app, "GET", &uri, None, Some(&seed.api_key)).await;
    assert_eq!(
        v["widget_origins"],
        json!(["https://shop.example.com", "http://localhost:5173"])
    );
    let (s, v) = put(json!({"widget_origins": ["*"]})).await;
    assert_eq!(
        (s, v["widget_origins"].clone()),
        (StatusCode::OK, json!(["*"]))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn production_accepts_https_widget_origins_only(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let mut state = gomomo_api::AppState::new(
        pool,
        &support::config(PLATFORM),
        Clock::fixed(march_2_8am()),
    );
    state.production = true;
    let app = gomomo_api::router(state);
    let uri = format!("/api/admin/tenants/{DEMO_TENANT_ID}/widget-origins");
    let (s, v) = call(
        &app,
        "PUT",
        &uri,
        Some(&json!({"widget_origins": ["http://shop.example.com"]}).to_string()),
        Some(&seed.api_key),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_widget_origins"),
        "{v}"
    );
    let (s, _) = call(
        &app,
        "PUT",
        &uri,
        Some(&json!({"widget_origins": ["https://shop.example.com", "*"]}).to_string()),
        Some(&seed.api_key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_hold_without_a_session_issues_one_only_when_it_is_granted(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);
    let sessions = || gomomo::db::sessions::issued_summary(&pool, DEMO_TENANT_ID);
    let start = "2026-03-03T10:00:00-05:00";
    let hold = json!({"service_id": DEMO_SERVICES[0].0, "start": start});

    let (s, first) = post(&app, &demo("/holds"), &hold).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let issued = first["session_id"].as_str().unwrap().to_string();
    assert!(issued.starts_with("gs_"), "{issued}");
    assert_eq!(sessions().await.unwrap(), (1, Some(issued.clone())));

    // The session issued with the hold is a real one: it confirms the booking.
    let (s, b) = post(
        &app,
        &demo("/bookings"),
        json!({"hold_id": first["hold_id"], "session_id": issued,
               "client_name": "Ana Lopez", "client_email": "ana@example.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    // Refused holds (both doctors taken at 10:00 once a second booking is made; an unknown
    // service) leave no session behind.
    let (s, second) = post(&app, &demo("/holds"), &hold).await;
    assert_eq!(s, StatusCode::CREATED, "{second}");
    let before = sessions().await.unwrap().0;
    let (s, v) = post(&app, &demo("/holds"), &hold).await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));
    let (s, v) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": uuid::Uuid::new_v4(), "start": start}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "service_not_found"));
    assert_eq!(sessions().await.unwrap().0, before);
}
