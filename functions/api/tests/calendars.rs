//! The resources' calendars through the admin API: connecting one resource's Google
//! calendar, the list with each connection's health, and disconnecting with the choice of
//! removing or leaving our future events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::{seed_demo, DEMO_RESOURCES};
use gomomo::services::Clock;
use sqlx::PgPool;
use support::{app, call};

#[sqlx::test(migrations = "../../migrations")]
async fn a_resource_connects_its_own_google_calendar_and_disconnects(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = Some(seed.api_key.as_str());
    let base = format!("/api/admin/tenants/{}", seed.tenant_id);
    let (lee, other) = (DEMO_RESOURCES[0].0, DEMO_RESOURCES[1].0);
    let app = app(
        pool.clone(),
        Clock::system(),
        &[
            ("GOOGLE_CLIENT_ID", "cid"),
            ("GOOGLE_CLIENT_SECRET", "cs"),
            ("GOOGLE_AUTH_URL", "https://accounts.example/auth"),
        ],
    );
    // Nothing connected yet.
    let (s, v) = call(&app, "GET", &format!("{base}/calendars"), None, key).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let (s, _) = call(&app, "GET", &format!("{base}/calendars"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The consent URL for one resource; its state is bound to that resource.
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/resources/{lee}/calendar/google/connect"),
        None,
        key,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["authorization_url"]
        .as_str()
        .unwrap()
        .starts_with("https://accounts.example/auth?"));
    let bound: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT resource_id FROM oauth_states WHERE tenant_id = $1 AND provider = 'google'",
    )
    .bind(seed.tenant_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(bound, Some(lee));
    // Another tenant's or an unknown resource: 404.
    for r in ["6d0e0000-0000-4000-8000-00000000dead", "nope"] {
        let (s, v) = call(
            &app,
            "POST",
            &format!("{base}/resources/{r}/calendar/google/connect"),
            None,
            key,
        )
        .await;
        assert_eq!(s.as_u16() / 100, 4, "{r}: {v}");
    }
    // Disconnecting needs the choice, and a calendar to disconnect.
    let (s, v) = call(
        &app,
        "DELETE",
        &format!("{base}/resources/{other}/calendar"),
        None,
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_future_events"))
    );
    let (s, v) = call(
        &app,
        "DELETE",
        &format!("{base}/resources/{other}/calendar?future_events=keep"),
        None,
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("calendar_not_connected"))
    );
}
