//! What the api crate's tests share: the router over a test configuration, requests
//! through it (`oneshot`, no socket), the fixed clocks and the keys.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::services::admin::{DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use gomomo::Config;
use gomomo_api::{router, AppState};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;

/// The platform key of [`PLATFORM`].
pub const PLATFORM_KEY: &str = "test-platform-key-0123456789abcdef";
/// The environment that enables the platform routes with [`PLATFORM_KEY`].
pub const PLATFORM: &[(&str, &str)] = &[("GOMOMO_PLATFORM_KEY", PLATFORM_KEY)];

/// Monday 2 March 2026, 08:00 in New York (the demo tenant's zone).
pub fn march_2_8am() -> DateTime<Utc> {
    ny(2026, 3, 2, 8, 0)
}

/// Monday 7 December 2026, 08:00 in New York.
pub fn december_7_8am() -> DateTime<Utc> {
    ny(2026, 12, 7, 8, 0)
}

/// A New York wall-clock time.
pub fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The configuration from `DATABASE_URL` (unused: the pool is given) and `extra`.
pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<&str, &str> = HashMap::from([("DATABASE_URL", "postgres://unused/db")]);
    env.extend(extra.iter().copied());
    Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap()
}

/// The api router over `pool` with `clock` and the configuration of [`config`].
pub fn app(pool: PgPool, clock: Clock, extra: &[(&str, &str)]) -> Router {
    router(AppState::new(pool, &config(extra), clock))
}

/// One request: a JSON body when given, a bearer key when given. The answer's body as JSON
/// (`Null` when empty, a string when it is not JSON).
pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
    bearer: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(k) = bearer {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, v)
}

/// A POST of `body` (a JSON value, or raw text to send as is) without a key.
pub async fn post(app: &Router, uri: &str, body: impl std::fmt::Display) -> (StatusCode, Value) {
    call(app, "POST", uri, Some(&body.to_string()), None).await
}

/// The code of a JSON error answer.
pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

/// A public path of the demo tenant.
pub fn demo(path: &str) -> String {
    format!("/api/tenants/{DEMO_TENANT_ID}{path}")
}

/// An admin path of the demo tenant.
pub fn admin(path: &str) -> String {
    format!("/api/admin/tenants/{DEMO_TENANT_ID}{path}")
}

/// The demo tenant's consultation service.
pub fn consult() -> String {
    DEMO_SERVICES[0].0.to_string()
}

/// The slot starts `GET …/availability` offers for `service` on one local date.
pub async fn starts(app: &Router, service: &str, date: &str) -> Vec<String> {
    let (s, v) = call(
        app,
        "GET",
        &demo(&format!(
            "/availability?service={service}&from={date}&to={date}"
        )),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

/// Books a consultation tomorrow through the REST chat (the deterministic engine, the first
/// time offered) for `email`; returns the booking's reference.
pub async fn book_by_chat(app: &Router, pool: &PgPool, email: &str) -> String {
    let uri = demo("/chat");
    let (s, r) = post(
        app,
        &uri,
        r#"{"message": "I'd like to book a consultation tomorrow"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let session = r["session_id"].as_str().unwrap().to_string();
    for text in ["1", "Ana Lopez", email, "yes"] {
        let (s, r) = post(
            app,
            &uri,
            &serde_json::json!({"session_id": session, "message": text}).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
    }
    sqlx::query_scalar(
        "SELECT reference FROM appointments WHERE client_email = $1 AND status = 'confirmed'",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// A booking's id and times, by reference.
pub async fn booking_times(
    pool: &PgPool,
    reference: &str,
) -> (uuid::Uuid, DateTime<Utc>, DateTime<Utc>) {
    sqlx::query_as("SELECT id, lower(during), upper(during) FROM appointments WHERE reference = $1")
        .bind(reference)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Moves the demo consultation `reference` of `email` to `start` through the public routes
/// (a move hold, then the reschedule).
pub async fn move_booking(app: &Router, reference: &str, email: &str, start: &str) {
    let (s, hold) = post(
        app,
        &demo("/holds"),
        serde_json::json!({"service_id": consult(), "start": start,
               "reschedule": {"reference": reference, "email": email}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let (s, moved) = post(
        app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        serde_json::json!({"email": email, "hold_id": hold["hold_id"],
               "session_id": hold["session_id"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
}

/// Cancels `reference` of `email` through the public route.
pub async fn cancel_booking(app: &Router, reference: &str, email: &str) {
    let (s, v) = post(
        app,
        &demo(&format!("/bookings/{reference}/cancel")),
        serde_json::json!({"email": email}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
