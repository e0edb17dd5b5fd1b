//! `GET /api/admin/tenants/{tenant}/delivery-health` through the router: the tenant key
//! guards it, it counts what should have left and did not, only for its tenant, and the
//! OpenAPI document lists it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use chrono::Duration;
use gomomo::services::admin::seed_demo;
use gomomo::services::Clock;
use serde_json::json;
use sqlx::PgPool;
use support::{app, call, march_2_8am, PLATFORM, PLATFORM_KEY};
use uuid::Uuid;

async fn notification(pool: &PgPool, tenant: &str, status: &str, minutes_ago: i64) {
    let at = march_2_8am() - Duration::minutes(minutes_ago);
    sqlx::query(
        "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, body,
                                          idempotency_key, status, created_at, next_attempt_at,
                                          failed_at)
         VALUES ($1, $2::uuid, 'email', 'reminder_2h', 'a@example.com', 'hi', $1::text, $3, $4,
                 $4, CASE WHEN $3 = 'failed' THEN $4 END)",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(status)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn delivery_health_counts_the_tenants_undelivered_messages(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);
    let t = seed.tenant_id.to_string();
    let url = |t: &str| format!("/api/admin/tenants/{t}/delivery-health");
    let key = Some(seed.api_key.as_str());

    // No key, an unknown key → 401; a malformed tenant id → 400.
    let (s, _) = call(&app, "GET", &url(&t), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, "GET", &url(&t), None, Some("gmk_wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(&app, "GET", &url("not-a-tenant"), None, key).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Nothing undelivered.
    let (s, v) = call(&app, "GET", &url(&t), None, key).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!({"tenant_id": t, "undelivered": 0, "failed": 0, "overdue": 0, "jobs_overdue": 0,
               "jobs_failed": 0, "oldest_overdue_seconds": null,
               "overdue_grace_seconds": 300, "failed_window_seconds": 86400})
    );

    // A reminder queued 20 minutes ago and never sent, one that failed, one sent, one queued
    // a minute ago (inside the grace); and another tenant's failure, which is not ours.
    notification(&pool, &t, "queued", 20).await;
    notification(&pool, &t, "failed", 30).await;
    notification(&pool, &t, "sent", 40).await;
    notification(&pool, &t, "queued", 1).await;
    let (s, other) = call(
        &app,
        "POST",
        "/api/admin/tenants",
        Some(&json!({"name": "Other", "time_zone": "UTC"}).to_string()),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");
    let t2 = other["tenant"]["id"].as_str().unwrap().to_string();
    notification(&pool, &t2, "failed", 5).await;

    let (s, v) = call(&app, "GET", &url(&t), None, key).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            &v["undelivered"],
            &v["failed"],
            &v["overdue"],
            &v["oldest_overdue_seconds"]
        ),
        (&json!(2), &json!(1), &json!(1), &json!(20 * 60))
    );
    // The other tenant's key sees its own count, and not ours (403).
    let k2 = other["api_key"].as_str();
    let (s, v) = call(&app, "GET", &url(&t2), None, k2).await;
    assert_eq!((s, &v["undelivered"]), (StatusCode::OK, &json!(1)));
    let (s, v) = call(&app, "GET", &url(&t), None, k2).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("wrong_tenant"))
    );

    let (_, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    let path = &doc["paths"]["/api/admin/tenants/{tenant}/delivery-health"]["get"];
    assert!(path.is_object(), "delivery-health missing from OpenAPI");
    assert!(path["responses"].get("401").is_some());
}
