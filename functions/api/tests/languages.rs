//! Languages through the real router on a real Postgres: the tenant's languages (admin
//! route), and a chat in Spanish over the REST route with the deterministic engine — the
//! client's choice, the language read from a message, and the booking keeping it.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::seed_demo;
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
    // The widget's switch: Spanish chosen; the client writes Spanish.
    let r = say(
        &app,
        json!({"message": "Hola, quiero reservar una consulta para mañana", "locale": "es"}),
    )
    .await;
    assert_eq!(r["locale"], "es", "{r}");
    assert!(r["reply"].as_str().unwrap().contains("diciembre"), "{r}");
    assert!(!r["reply"].as_str().unwrap().contains("December"), "{r}");
    let session = r["session_id"].as_str().unwrap().to_string();
    let mut last = r;
    for text in ["la primera", "Ana López", "ana@example.org"] {
        last = say(
            &app,
            json!({"session_id": session, "message": text, "locale": "es"}),
        )
        .await;
        assert_eq!(last["locale"], "es", "{last}");
    }
    let summary = last["reply"].as_str().unwrap();
    assert!(summary.contains("mar 8 de dic, 9:00 a. m."), "{summary}");
    assert!(!summary.contains("Dec"), "{summary}");
    let done = say(
        &app,
        json!({"session_id": session, "message": "sí", "locale": "es"}),
    )
    .await;
    let reference = done["events"][0]["reference"].as_str().unwrap().to_string();
    let reply = done["reply"].as_str().unwrap();
    assert!(
        reply.contains(&reference) && reply.contains("8 de dic"),
        "{reply}"
    );
    let (locale,): (String,) =
        sqlx::query_as("SELECT locale FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(locale, "es");

    // A new chat, no language chosen: the first message is read as Spanish, and the
    // client moves, then cancels, the booking in Spanish.
    let r = say(
        &app,
        json!({"message": "Buenas tardes, necesito cambiar mi cita"}),
    )
    .await;
    assert_eq!(r["locale"], "es", "{r}");
    let session = r["session_id"].as_str().unwrap().to_string();
    let turn = |text: &str| json!({"session_id": session, "message": text});
    let mut replies = vec![r["reply"].as_str().unwrap().to_string()];
    for text in [
        reference.as_str(),
        "ana@example.org",
        "pasado mañana por la mañana",
        "a las 10",
        "sí",
    ] {
        let r = say(&app, turn(text)).await;
        assert_eq!(r["locale"], "es", "{r}");
        replies.push(r["reply"].as_str().unwrap().to_string());
    }
    let (start,): (chrono::DateTime<chrono::Utc>,) =
        sqlx::query_as("SELECT lower(during) FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    // 9 December 10:00 in New York (EST) is 15:00 UTC.
    assert_eq!(
        start.to_rfc3339(),
        "2026-12-09T15:00:00+00:00",
        "{replies:#?}"
    );
    assert!(
        replies.last().unwrap().contains("miércoles 9 de diciembre")
            || replies.last().unwrap().contains("mié 9 de dic"),
        "{replies:#?}"
    );

    let r = say(&app, json!({"message": "quiero cancelar mi cita"})).await;
    let session = r["session_id"].as_str().unwrap().to_string();
    let turn = |text: &str| json!({"session_id": session, "message": text});
    let mut replies = vec![r["reply"].as_str().unwrap().to_string()];
    for text in [reference.as_str(), "ana@example.org", "sí"] {
        let r = say(&app, turn(text)).await;
        assert_eq!(r["locale"], "es", "{r}");
        replies.push(r["reply"].as_str().unwrap().to_string());
    }
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "cancelled", "{replies:#?}");
    assert!(
        replies.last().unwrap().contains("cancelada"),
        "{replies:#?}"
    );
}
