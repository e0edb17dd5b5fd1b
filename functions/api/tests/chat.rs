//! The REST chat fallback (`POST /api/tenants/{tenant}/chat`) through the real router on a
//! real Postgres, with the deterministic engine (no OPENAI_API_KEY).
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, december_7_8am, post};

#[sqlx::test(migrations = "../../migrations")]
async fn rest_chat_books_and_reports_pushes(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}/chat");
    let (s, r) = post(
        &app,
        &uri,
        r#"{"message": "I'd like to book a consultation tomorrow"}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["engine"], "rules");
    let session = r["session_id"].as_str().unwrap().to_string();
    assert!(session.starts_with("gs_"), "{session}");
    assert!(
        r["reply"].as_str().unwrap().contains("Here are open times"),
        "{r}"
    );
    assert_eq!(r["events"][0]["kind"], "slots");
    let slots = r["events"][0]["slots"].as_array().unwrap();
    assert!(!slots.is_empty(), "{r}");
    for slot in slots {
        let start = chrono::DateTime::parse_from_rfc3339(slot["start"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("slot start {slot}: {e}"));
        let end = chrono::DateTime::parse_from_rfc3339(slot["end"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("slot end {slot}: {e}"));
        assert!(end > start, "slot ends after it starts: {slot}");
    }
    // a push waiting for the session comes back with the next answer, once
    sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, $3, 'calendar_retry_success', '{}')")
        .bind(uuid::Uuid::new_v4())
        .bind(DEMO_TENANT_ID)
        .bind(&session)
        .execute(&pool)
        .await
        .unwrap();
    let steps = ["1", "Ana Lopez", "ana@example.org", "yes"];
    let mut last = Value::Null;
    for (i, text) in steps.iter().enumerate() {
        let (s, r) = post(
            &app,
            &uri,
            &json!({"session_id": session, "message": text}).to_string(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        if i == 0 {
            assert_eq!(r["pushes"][0]["push_type"], "calendar_retry_success");
        } else {
            assert_eq!(r["pushes"], json!([]));
        }
        last = r;
    }
    assert!(
        last["reply"].as_str().unwrap().contains("You're all set"),
        "{last}"
    );
    let reference = last["events"][0]["reference"].as_str().unwrap();
    let (email,): (String,) =
        sqlx::query_as("SELECT client_email FROM appointments WHERE reference = $1")
            .bind(reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email, "ana@example.org");
}

#[sqlx::test(migrations = "../../migrations")]
async fn rest_chat_bad_input_is_a_4xx_with_a_stable_code(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}/chat");
    let long = "x".repeat(2001);
    let cases: Vec<(String, String, StatusCode, &str)> = vec![
        (
            uri.clone(),
            r#"{"message": ""}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_message",
        ),
        (
            uri.clone(),
            json!({"message": long}).to_string(),
            StatusCode::BAD_REQUEST,
            "invalid_message",
        ),
        (
            uri.clone(),
            r#"{"message": "hi", "session_id": "bad id!"}"#.into(),
            StatusCode::NOT_FOUND,
            "session_not_found",
        ),
        (
            uri.clone(),
            r#"{"message": "#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            uri.clone(),
            r#"{"session_id": "x"}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "/api/tenants/not-a-uuid/chat".into(),
            r#"{"message": "hi"}"#.into(),
            StatusCode::BAD_REQUEST,
            "invalid_tenant_id",
        ),
        (
            "/api/tenants/6d0e0000-0000-4000-8000-0000000000ff/chat".into(),
            r#"{"message": "hi"}"#.into(),
            StatusCode::NOT_FOUND,
            "tenant_not_found",
        ),
    ];
    for (u, body, want, code) in cases {
        let (s, r) = post(&app, &u, &body).await;
        if want == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(s.is_client_error(), "{body}: {s} {r}");
            continue;
        }
        assert_eq!(s, want, "{body}: {r}");
        assert_eq!(r["error"]["code"], code, "{body}: {r}");
    }
    // a session busy with another turn
    let (_, v) = post(&app, &format!("/api/tenants/{DEMO_TENANT_ID}/sessions"), "").await;
    let busy = v["session_id"].as_str().unwrap().to_string();
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, busy_until) VALUES ($1, $2, now() + interval '1 minute')")
        .bind(DEMO_TENANT_ID)
        .bind(&busy)
        .execute(&pool)
        .await
        .unwrap();
    let (s, r) = post(
        &app,
        &uri,
        &json!({"session_id": busy, "message": "hi"}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(r["error"]["code"], "session_busy");
}
