//! Delivery admin routes through the router (`oneshot`): webhook endpoints behind the tenant
//! API key (secret shown once), deliveries with the dead-letter filter, bad input → 4xx with
//! a stable code, the Google OAuth routes, and the OpenAPI document listing them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::seed_demo;
use gomomo::services::Clock;
use serde_json::json;
use sqlx::PgPool;
use support::{app, call};

#[sqlx::test(migrations = "../../migrations")]
async fn webhook_endpoints_and_deliveries_through_the_admin_api(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::system(), &[]);
    let base = format!("/api/admin/tenants/{}", seed.tenant_id);
    let key = Some(seed.api_key.as_str());
    // No key → 401; a bad URL or event type → 400 with its code.
    let (s, _) = call(&app, "GET", &format!("{base}/webhooks"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/webhooks"),
        Some(&json!({"url": "ftp://x"}).to_string()),
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_url"))
    );
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/webhooks"),
        Some(&json!({"url": "https://203.0.113.10/x", "event_types": ["Nope"]}).to_string()),
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_event_types"))
    );
    // Created: the secret once; never again in listings.
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/webhooks"),
        Some(
            &json!({"url": "https://203.0.113.10/x", "event_types": ["BookingCreated"]})
                .to_string(),
        ),
        key,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(v["secret"].as_str().unwrap().starts_with("whsec_"));
    let id = v["id"].as_str().unwrap().to_string();
    let (s, list) = call(&app, "GET", &format!("{base}/webhooks"), None, key).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none());
    let (s, v) = call(
        &app,
        "PATCH",
        &format!("{base}/webhooks/{id}"),
        Some(&json!({"enabled": false}).to_string()),
        key,
    )
    .await;
    assert_eq!((s, v["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    let (s, v) = call(
        &app,
        "PATCH",
        &format!("{base}/webhooks/not-a-uuid"),
        Some(&json!({}).to_string()),
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_webhook"))
    );
    // Deliveries: filtered by status; a bad filter is 400; retrying an unknown one is 404.
    let (s, v) = call(
        &app,
        "GET",
        &format!("{base}/webhook-deliveries?status=dead"),
        None,
        key,
    )
    .await;
    assert_eq!((s, v.as_array().map(Vec::len)), (StatusCode::OK, Some(0)));
    let (s, v) = call(
        &app,
        "GET",
        &format!("{base}/webhook-deliveries?status=lost"),
        None,
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_status"))
    );
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/webhook-deliveries/{}/retry", uuid::Uuid::new_v4()),
        None,
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("webhook_not_found"))
    );
    let (s, _) = call(&app, "DELETE", &format!("{base}/webhooks/{id}"), None, key).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(&app, "DELETE", &format!("{base}/webhooks/{id}"), None, key).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The OpenAPI document lists the new routes.
    let (_, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    for p in [
        "/api/admin/tenants/{tenant}/webhooks",
        "/api/admin/tenants/{tenant}/webhook-deliveries",
        "/api/oauth/google/callback",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn google_oauth_routes(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let base = format!(
        "/api/admin/tenants/{}/calendar/google/connect",
        seed.tenant_id
    );
    // Not configured → 503 with a stable code.
    let app0 = app(pool.clone(), Clock::system(), &[]);
    let (s, v) = call(&app0, "POST", &base, None, Some(&seed.api_key)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("calendar_not_configured")
        )
    );
    let app = app(
        pool.clone(),
        Clock::system(),
        &[
            ("GOOGLE_CLIENT_ID", "cid"),
            ("GOOGLE_CLIENT_SECRET", "cs"),
            ("GOOGLE_AUTH_URL", "https://accounts.example/auth"),
        ],
    );
    let (s, v) = call(&app, "POST", &base, None, None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, v) = call(&app, "POST", &base, None, Some(&seed.api_key)).await;
    assert_eq!(s, StatusCode::OK);
    let url = v["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://accounts.example/auth?client_id=cid"),
        "{url}"
    );
    // The callback refuses a made-up state, a missing code and a declined consent.
    for (q, code) in [
        ("state=abc&code=x", "invalid_oauth_state"),
        ("state=abc", "invalid_oauth_callback"),
        ("error=access_denied", "oauth_refused"),
    ] {
        let (s, v) = call(
            &app,
            "GET",
            &format!("/api/oauth/google/callback?{q}"),
            None,
            None,
        )
        .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{q}"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn webhook_urls_that_lead_inside_are_refused(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let base = format!("/api/admin/tenants/{}", seed.tenant_id);
    let key = Some(seed.api_key.as_str());
    // A server on this machine that records whatever reaches it.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "ok" }
        });
        axum::serve(listener, app).await.unwrap();
    });
    let hooks = format!("{base}/webhooks");
    let hooks = hooks.as_str();
    let create = |app: axum::Router, url: String| async move {
        call(
            &app,
            "POST",
            hooks,
            Some(&json!({ "url": url }).to_string()),
            key,
        )
        .await
    };
    // GIVEN no allow-list (development: plain http is accepted, internal addresses are not)
    let strict = app(pool.clone(), Clock::system(), &[]);
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/hook"),
        "http://[::1]/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.0.0.1/".to_string(),
        "http://172.16.5.4/".to_string(),
        "http://192.168.1.1/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://0.0.0.0/".to_string(),
        "http://[fe80::1]/".to_string(),
        "http://[fd00::1]/".to_string(),
        "http://[::ffff:127.0.0.1]/".to_string(),
        "http://[::ffff:a9fe:a9fe]/".to_string(),
        // 127.0.0.1 written as one number
        "http://2130706433/".to_string(),
        "https://224.0.0.1/".to_string(),
    ] {
        let (s, v) = create(strict.clone(), url.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("webhook_url_refused")),
            "{url}: {v}"
        );
    }
    // A public address is accepted; changing it to an internal one is refused too.
    let (s, v) = create(strict.clone(), "https://203.0.113.10/hook".into()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &strict,
        "PATCH",
        &format!("{base}/webhooks/{id}"),
        Some(&json!({"url": "http://169.254.169.254/"}).to_string()),
        key,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("webhook_url_refused")),
        "{v}"
    );
    let (_, list) = call(&strict, "GET", &format!("{base}/webhooks"), None, key).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["url"], "https://203.0.113.10/hook");

    // WITH the development allow-list, the listed host is accepted, and only it.
    let local = app(
        pool.clone(),
        Clock::system(),
        &[("OUTBOUND_ALLOW_HOSTS", "127.0.0.1")],
    );
    let (s, v) = create(local.clone(), format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = create(local.clone(), "http://[::1]/".into()).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("webhook_url_refused")),
        "{v}"
    );
    // Registering never sends anything.
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}
