//! Input the api routes refuse, each case as the request an attacker would send: text Postgres
//! cannot store, invisible formatting in names, one `payload_too_large` code for oversized
//! bodies, the booking lookup's email out of the URL, the Google OAuth state bound to the
//! browser that started the flow, and the callback without Google configured.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use gomomo::services::admin::seed_demo;
use gomomo::services::Clock;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, call, march_2_8am};
use tower::ServiceExt;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

/// One request with raw headers; the answer's status, headers and JSON body.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, v)
}

#[sqlx::test(migrations = "../../migrations")]
async fn control_characters_in_a_webhook_description_are_a_400(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::system(), &[]);
    let hooks = format!("/api/admin/tenants/{}/webhooks", seed.tenant_id);
    let key = Some(seed.api_key.as_str());
    for description in ["nul\u{0}byte", "bell\u{7}", "evil\u{202E}txt.exe"] {
        let body = json!({"url": "https://203.0.113.10/x", "description": description}).to_string();
        let (s, v) = call(&app, "POST", &hooks, Some(&body), key).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_description"),
            "{description:?}: {v}"
        );
    }
    // Line breaks and tabs are fine.
    let body =
        json!({"url": "https://203.0.113.10/x", "description": "line one\n\tline two"}).to_string();
    let (s, v) = call(&app, "POST", &hooks, Some(&body), key).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn text_postgres_cannot_store_is_the_clients_mistake(pool: PgPool) {
    // Whatever field lets a NUL reach Postgres unchecked, the answer is a 400, not a 500.
    let e = sqlx::query_scalar::<_, String>("SELECT $1::text")
        .bind("a\u{0}b")
        .fetch_one(&pool)
        .await
        .unwrap_err();
    let api = gomomo::http::ApiError::internal(&e);
    assert_eq!(
        (api.status, api.code.as_ref()),
        (StatusCode::BAD_REQUEST, "invalid_text")
    );
    let booking = gomomo::services::booking::BookingError::from(e);
    let api = gomomo::http::ApiError::from(booking);
    assert_eq!(
        (api.status, api.code.as_ref()),
        (StatusCode::BAD_REQUEST, "invalid_text")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn names_refuse_bidirectional_and_zero_width_characters(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let t = seed.tenant_id;
    let key = Some(seed.api_key.as_str());
    let (s, issued) = call(
        &app,
        "POST",
        &format!("/api/tenants/{t}/sessions"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{issued}");
    let sid = issued["session_id"].as_str().unwrap().to_string();
    for name in [
        "Dr. Smith\u{202E}htims",
        "Ana\u{200B}",
        "\u{2066}Ana\u{2069}",
        "A\u{200D}na",
        "\u{FEFF}Ana",
    ] {
        let cases = [
            (
                "PATCH",
                format!("/api/admin/tenants/{t}"),
                json!({"name": name}),
                "invalid_name",
            ),
            (
                "POST",
                format!("/api/admin/tenants/{t}/services"),
                json!({"name": name, "duration_minutes": 30}),
                "invalid_name",
            ),
            (
                "POST",
                format!("/api/admin/tenants/{t}/resources"),
                json!({"name": name, "kind": "staff"}),
                "invalid_name",
            ),
            (
                "POST",
                format!("/api/admin/tenants/{t}/services"),
                json!({"name": "Cut", "description": format!("x{name}"), "duration_minutes": 30}),
                "invalid_description",
            ),
            (
                "POST",
                format!("/api/tenants/{t}/bookings"),
                json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": name, "client_email": "a@example.com"}),
                "invalid_client_name",
            ),
        ];
        for (method, uri, body, want) in cases {
            let (s, v) = call(&app, method, &uri, Some(&body.to_string()), key).await;
            assert_eq!(
                (s, code(&v)),
                (StatusCode::BAD_REQUEST, want),
                "{method} {uri} {name:?}: {v}"
            );
        }
    }
    // Letters of every script still pass.
    let (s, v) = call(
        &app,
        "PATCH",
        &format!("/api/admin/tenants/{t}"),
        Some(&json!({"name": "Zoë's Salon — 美容院 صالون"}).to_string()),
        key,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn oversized_bodies_are_payload_too_large_on_every_json_and_excel_route(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let t = seed.tenant_id;
    let auth = format!("Bearer {}", seed.api_key);
    let big_json = format!("{{\"notes\": \"{}\"}}", "x".repeat(3 * 1024 * 1024)).into_bytes();
    for uri in [
        format!("/api/tenants/{t}/holds"),
        format!("/api/tenants/{t}/bookings"),
        format!("/api/tenants/{t}/chat"),
        format!("/api/tenants/{t}/bookings/ABCD-EFGH/lookup"),
        format!("/api/admin/tenants/{t}/webhooks"),
    ] {
        let (s, _, v) = send(
            &app,
            "POST",
            &uri,
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            big_json.clone(),
        )
        .await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            "{uri}: {v}"
        );
    }
    let (s, _, v) = send(
        &app,
        "POST",
        &format!("/api/admin/tenants/{t}/appointments.xlsx"),
        &[("authorization", &auth)],
        vec![0u8; 6 * 1024 * 1024],
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        "{v}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_lookup_takes_the_email_in_the_body_never_in_the_url(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let base = format!("/api/tenants/{}/bookings/ABCD-EFGH", seed.tenant_id);
    let (s, v) = call(
        &app,
        "GET",
        &format!("{base}?email=a@example.com"),
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "email_in_url"),
        "{v}"
    );
    let (s, v) = call(
        &app,
        "POST",
        &format!("{base}/lookup"),
        Some(&json!({"email": "a@example.com"}).to_string()),
        None,
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "booking_not_found"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_google_callback_without_google_is_a_404(pool: PgPool) {
    let app = app(pool, Clock::system(), &[]);
    let (s, v) = call(
        &app,
        "GET",
        "/api/oauth/google/callback?state=abc&code=x",
        None,
        None,
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "google_not_configured"),
        "{v}"
    );
}

/// The `name=value` of the state cookie in a `Set-Cookie` answer, and its attributes.
fn set_cookie(headers: &HeaderMap) -> (String, String) {
    let v = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("gomomo_oauth_state="))
        .expect("a state cookie");
    let (pair, attrs) = v.split_once(';').unwrap();
    (pair.to_string(), attrs.to_string())
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_google_oauth_state_is_bound_to_the_browser_that_started_it(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let google = [
        ("GOOGLE_CLIENT_ID", "cid"),
        ("GOOGLE_CLIENT_SECRET", "cs"),
        ("GOOGLE_AUTH_URL", "https://accounts.example/auth"),
        // Nothing listens here: a callback that gets past the state fails at the exchange.
        ("GOOGLE_OAUTH_BASE_URL", "http://127.0.0.1:9"),
        (
            "GOOGLE_REDIRECT_URL",
            "https://admin.example.com/api/oauth/google/callback",
        ),
    ];
    let app = app(pool.clone(), Clock::system(), &google);
    let auth = format!("Bearer {}", seed.api_key);
    let connect = format!(
        "/api/admin/tenants/{}/calendar/google/connect",
        seed.tenant_id
    );
    let start = || async {
        let (s, h, v) = send(&app, "POST", &connect, &[("authorization", &auth)], vec![]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let url = v["authorization_url"].as_str().unwrap().to_string();
        let state = url.split("state=").nth(1).unwrap().to_string();
        (state, set_cookie(&h))
    };
    let (state, (cookie, attrs)) = start().await;
    assert_eq!(cookie, format!("gomomo_oauth_state={state}"));
    for a in [
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/api/oauth/google/callback",
    ] {
        assert!(attrs.contains(a), "{a} missing from {attrs}");
    }
    let callback = format!("/api/oauth/google/callback?state={state}&code=c");

    // Another browser (no cookie, or another flow's cookie) holding the URL is refused.
    let (other, _) = start().await;
    for cookies in [
        vec![],
        vec![("cookie", format!("gomomo_oauth_state={other}"))],
        vec![("cookie", "gomomo_oauth_state=".to_string())],
    ] {
        let h: Vec<(&str, &str)> = cookies.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, headers, v) = send(&app, "GET", &callback, &h, vec![]).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_oauth_state"),
            "{cookies:?}: {v}"
        );
        // The binding is cleared either way.
        assert!(set_cookie(&headers).1.contains("Max-Age=0"));
    }
    // The browser that started it gets past the state (to the code exchange, which fails here).
    let jar = format!("theme=dark; gomomo_oauth_state={state}");
    let (s, _, v) = send(&app, "GET", &callback, &[("cookie", &jar)], vec![]).await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_GATEWAY, "calendar_unreachable"),
        "{v}"
    );

    // The browser redirect start sets the same cookie.
    let (s, h, _) = send(
        &app,
        "GET",
        &format!("/api/oauth/google/connect?tenant={}", seed.tenant_id),
        &[("authorization", &auth)],
        vec![],
    )
    .await;
    assert!(s.is_redirection(), "{s}");
    let location = h[header::LOCATION].to_str().unwrap();
    let (cookie, _) = set_cookie(&h);
    assert_eq!(
        cookie,
        format!(
            "gomomo_oauth_state={}",
            location.split("state=").nth(1).unwrap()
        )
    );
}
