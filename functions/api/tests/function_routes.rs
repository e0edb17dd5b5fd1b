//! Which routes each Lambda function's router serves: the `api` function leaves the REST chat
//! and the workbook to the `chat-http` and `excel` functions (so its binary links neither
//! the model client nor the workbook code), and those serve only their own routes. A route
//! a function does not serve answers the JSON `404 route_not_found`; one it serves answers
//! anything else (here: the route's own refusal of a request without a key or a tenant).
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use gomomo_api::{
    api_function_router, chat_function_router, excel_function_router, function_router, AppState,
};
use sqlx::PgPool;
use support::{call, config, march_2_8am};

/// The requests: (name, method, path, body).
fn requests() -> Vec<(&'static str, &'static str, String, Option<&'static str>)> {
    let t = DEMO_TENANT_ID;
    vec![
        ("healthz", "GET", "/healthz".into(), None),
        ("tenant", "GET", format!("/api/tenants/{t}"), None),
        (
            "chat",
            "POST",
            format!("/api/tenants/{t}/chat"),
            Some(r#"{"message":"hello"}"#),
        ),
        (
            "export",
            "GET",
            format!("/api/admin/tenants/{t}/appointments.xlsx"),
            None,
        ),
        (
            "import",
            "POST",
            format!("/api/admin/tenants/{t}/appointments.xlsx"),
            Some("{}"),
        ),
        (
            "bookings",
            "GET",
            format!("/api/admin/tenants/{t}/bookings"),
            None,
        ),
        (
            "dead-letters",
            "GET",
            format!("/api/admin/tenants/{t}/excel/dead-letters"),
            None,
        ),
        (
            "dead-letter-retry",
            "POST",
            format!("/api/admin/tenants/{t}/excel/dead-letters/{t}/retry"),
            None,
        ),
        (
            "staff-booking",
            "POST",
            format!("/api/admin/tenants/{t}/bookings"),
            Some("{}"),
        ),
    ]
}

/// The names of the requests `router` serves (anything but `404 route_not_found`).
async fn served(router: &Router) -> Vec<&'static str> {
    let mut names = Vec::new();
    for (name, method, path, body) in requests() {
        let (status, body) = call(router, method, &path, body, None).await;
        let unrouted =
            status == StatusCode::NOT_FOUND && body["error"]["code"] == "route_not_found";
        if !unrouted {
            names.push(name);
        }
    }
    names
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_function_serves_its_own_routes(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let state = AppState::new(pool, &config(&[]), Clock::fixed(march_2_8am()));

    assert_eq!(
        served(&api_function_router(state.clone())).await,
        ["healthz", "tenant", "bookings", "staff-booking"],
        "the api function"
    );
    assert_eq!(
        served(&chat_function_router(state.clone())).await,
        ["healthz", "chat"],
        "the chat-http function"
    );
    assert_eq!(
        served(&excel_function_router(state.clone())).await,
        [
            "healthz",
            "export",
            "import",
            "dead-letters",
            "dead-letter-retry"
        ],
        "the excel function"
    );
    // `gomomo serve` (one process) serves them all.
    assert_eq!(
        served(&function_router(state)).await,
        [
            "healthz",
            "tenant",
            "chat",
            "export",
            "import",
            "bookings",
            "dead-letters",
            "dead-letter-retry",
            "staff-booking"
        ],
        "gomomo serve"
    );
}
