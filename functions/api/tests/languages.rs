//! Languages through the real router on a real Postgres: the tenant's languages (admin
//! route), and a chat in Spanish over the REST route with the deterministic engine — the
//! client's choice, the language read from a message, and the booking keeping it.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, december_7_8am, demo, post};

async fn put_languages(app: &axum::Router, key: &str, langs: Value) -> (StatusCode, Value) {
    call(
        app,
        "PUT",
        &admin("/languages"),
        Some(&json!({ "languages": langs }).to_string()),
        Some(key),
    )
    .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_tenants_languages_are_read_and_set_by_its_admin(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    let key = seed.api_key.as_str();
    let (s, v) = call(&app, "GET", &admin("/languages"), None, Some(key)).await;
    assert_eq!((s, v["languages"].clone()), (StatusCode::OK, json!(["en"])));
    let (s, v) = put_languages(&app, key, json!(["es", "en"])).await;
    assert_eq!(
        (s, v["languages"].clone()),
        (StatusCode::OK, json!(["es", "en"]))
    );
    let (_, v) = call(&app, "GET", &admin("/languages"), None, Some(key)).await;
    assert_eq!(v["languages"], json!(["es", "en"]));
    // refused, and nothing changes
    for bad in [json!([]), json!(["en", "en"])] {
        let (s, v) = put_languages(&app, key, bad.clone()).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_languages"),
            "{bad}"
        );
    }
    let (s, v) = put_languages(&app, key, json!(["fr"])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _) = call(&app, "GET", &admin("/languages"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, v) = call(&app, "GET", &admin("/languages"), None, Some(key)).await;
    assert_eq!(v["languages"], json!(["es", "en"]));
}

/// One chat turn; the reply and its language.
async fn say(app: &axum::Router, body: Value) -> Value {
    let (s, r) = post(app, &demo("/chat"), body.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    r
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_client_who_chooses_spanish_books_in_spanish(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    // An English-only tenant answers in English whatever the client asks for.
    let r = say(&app, json!({"message": "hello", "locale": "es"})).await;
    assert_eq!(r["locale"], "en", "{r}");
    let (s, v) = post(
        &app,
        &demo("/chat"),
        json!({"message": "hi", "locale": "xx"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_locale"));

    put_languages(&app, &seed.api_key, json!(["en", "es"])).await;
    // The widget's switch: Spanish chosen, a message the engine reads in any language.
    let r = say(&app, json!({"message": "1", "locale": "es"})).await;
    assert_eq!(r["locale"], "es", "{r}");
    let session = r["session_id"].as_str().unwrap().to_string();
    let mut last = r;
    for text in ["mañana", "1", "Ana López", "ana@example.org"] {
        last = say(
            &app,
            json!({"session_id": session, "message": text, "locale": "es"}),
        )
        .await;
        assert_eq!(last["locale"], "es", "{last}");
    }
    let summary = last["reply"].as_str().unwrap();
    assert!(summary.contains("diciembre"), "{summary}");
    assert!(!summary.contains("December"), "{summary}");
    let done = say(
        &app,
        json!({"session_id": session, "message": "sí", "locale": "es"}),
    )
    .await;
    let reference = done["events"][0]["reference"].as_str().unwrap();
    let reply = done["reply"].as_str().unwrap();
    assert!(
        reply.contains(reference) && reply.contains("diciembre"),
        "{reply}"
    );
    let (locale,): (String,) =
        sqlx::query_as("SELECT locale FROM appointments WHERE reference = $1")
            .bind(reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(locale, "es");
}
