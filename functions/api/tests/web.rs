//! The web pages the api function serves (`gomomo::http::web` merged into its router): the
//! landing page of each tenant and the widget script, with their headers, the ETag round
//! trip, HEAD, the configured WebSocket URL, the 404/400 pages and what is never echoed
//! from the request.
#![allow(clippy::unwrap_used)]

mod support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use gomomo_api::{api_function_router, AppState};
use http_body_util::BodyExt;
use sqlx::PgPool;
use support::{config, march_2_8am};
use tower::ServiceExt;

/// The api function's router over `pool`.
fn api_on(pool: PgPool, extra: &[(&str, &str)]) -> Router {
    api_function_router(AppState::new(
        pool,
        &config(extra),
        Clock::fixed(march_2_8am()),
    ))
}

/// The api function's router where nothing needs the database: the pool never connects.
fn api(extra: &[(&str, &str)]) -> Router {
    api_on(
        PgPool::connect_lazy("postgres://unused@127.0.0.1:9/db").unwrap(),
        extra,
    )
}

/// The demo tenant (seeded) and a business of its own, "Rosa's <Salon> & Spa".
async fn tenants(pool: &PgPool) -> uuid::Uuid {
    seed_demo(pool).await.unwrap();
    let rosa = uuid::Uuid::parse_str("0b6f1c2e-1111-4222-8333-444455556666").unwrap();
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, $2, 'Europe/Paris')")
        .bind(rosa)
        .bind("Rosa's <Salon> & Spa")
        .execute(pool)
        .await
        .unwrap();
    rosa
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_widget_is_cacheable_with_a_strong_etag() {
    let app = api(&[]);
    let (code, h, js) = send(&app, get("/widget.js")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        h["content-type"].to_str().unwrap(),
        "application/javascript; charset=utf-8"
    );
    assert_eq!(h["cache-control"].to_str().unwrap(), "public, max-age=300");
    assert_eq!(h["x-content-type-options"].to_str().unwrap(), "nosniff");
    assert_eq!(js, gomomo::http::web::WIDGET_JS);
    let etag = h["etag"].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && !etag.starts_with("W/"),
        "a strong validator: {etag}"
    );

    // the same validator back → 304 without a body, with the validator and the caching rule
    let req = Request::get("/widget.js")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    let (code, h, body) = send(&app, req).await;
    assert_eq!(code, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(h["etag"].to_str().unwrap(), etag);
    assert_eq!(h["cache-control"].to_str().unwrap(), "public, max-age=300");

    // another validator → the script again
    let req = Request::get("/widget.js")
        .header("if-none-match", "\"0000\"")
        .body(Body::empty())
        .unwrap();
    let (code, _, body) = send(&app, req).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body.len(), gomomo::http::web::WIDGET_JS.len());

    // HEAD: the headers of GET, no body
    let req = Request::head("/widget.js").body(Body::empty()).unwrap();
    let (code, h, body) = send(&app, req).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(h["etag"].to_str().unwrap(), etag);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_demo_page_embeds_the_widget_with_the_snippet_and_the_notes(pool: PgPool) {
    tenants(&pool).await;
    let app = api_on(pool, &[]);
    let (code, h, html) = send(&app, get("/")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        h["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert!(
        html.contains(&format!(
            "<script src=\"/widget.js\" data-tenant=\"{DEMO_TENANT_ID}\" data-open=\"true\">"
        )),
        "the demo tenant, and no data-ws without CHAT_WS_URL (same-origin /ws): {html}"
    );
    assert!(
        html.contains("<title>gomomo demo — Gomomo Demo Clinic</title>"),
        "{html}"
    );
    assert!(html.contains("id=\"snippet\"") && html.contains("OPENAI_API_KEY"));
    assert!(!html.contains("{{"), "every placeholder is filled");
    // the embed snippet wraps on a phone instead of overflowing
    assert!(html.contains("white-space: pre-wrap"), "{html}");

    let req = Request::head("/").body(Body::empty()).unwrap();
    let (code, _, body) = send(&app, req).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.is_empty());
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_business_gets_its_own_chat_page(pool: PgPool) {
    let rosa = tenants(&pool).await;
    let app = api_on(pool, &[]);
    let (code, _, html) = send(&app, get(&format!("/?tenant={rosa}"))).await;
    assert_eq!(code, StatusCode::OK);
    assert!(html.contains(&format!("data-tenant=\"{rosa}\" data-open=\"true\"")));
    assert!(
        html.contains("<title>Rosa&#39;s &lt;Salon&gt; &amp; Spa — chat with us</title>"),
        "the tenant's name, escaped: {html}"
    );
    assert!(
        html.contains("<h1>Rosa&#39;s &lt;Salon&gt; &amp; Spa</h1>"),
        "{html}"
    );
    assert!(html.contains("Chat with us"), "{html}");
    for demo_only in [
        "gomomo",
        "Demo Clinic",
        "OPENAI_API_KEY",
        "id=\"snippet\"",
        &DEMO_TENANT_ID.to_string(),
    ] {
        assert!(
            !html.contains(demo_only),
            "{demo_only:?} on Rosa's page: {html}"
        );
    }

    // the business's owner asks for the snippet to paste into its own site
    let (code, _, html) = send(&app, get(&format!("/?tenant={rosa}&embed=1"))).await;
    assert_eq!(code, StatusCode::OK);
    assert!(html.contains("id=\"snippet\""), "{html}");
    assert!(
        html.contains(&format!("data-tenant=\"{rosa}\" defer&gt;")),
        "{html}"
    );
    assert!(!html.contains("OPENAI_API_KEY") && !html.contains("Demo Clinic"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unknown_tenant_is_a_404_and_a_bad_id_a_400(pool: PgPool) {
    tenants(&pool).await;
    let app = api_on(pool, &[]);
    let nobody = "/?tenant=0b6f1c2e-9999-4222-8333-444455556666";
    let (code, h, body) = send(&app, get(nobody)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(body.contains("tenant_not_found"), "{body}");

    // a browser gets pages a person can read
    let (code, h, html) = send(&app, browser(nobody)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        h["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    assert!(!html.contains("0b6f1c2e"), "nothing of the request: {html}");
    let (code, h, html) = send(&app, browser("/?tenant=not-a-uuid")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(
        h["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert!(html.contains("<h1>This link is not right</h1>"), "{html}");
    assert!(!html.contains("not-a-uuid"), "{html}");
}

/// `/` answers a page or JSON by `Accept`: every answer says so (`Vary: Accept`) and none is
/// reused without asking (`Cache-Control: no-cache`), the JSON errors included.
#[sqlx::test(migrations = "../../migrations")]
async fn every_landing_answer_varies_by_accept_and_is_revalidated(pool: PgPool) {
    let rosa = tenants(&pool).await;
    let app = api_on(pool, &[]);
    let nobody = "/?tenant=0b6f1c2e-9999-4222-8333-444455556666";
    let cases = [
        (get("/"), StatusCode::OK),
        (browser(&format!("/?tenant={rosa}")), StatusCode::OK),
        (
            Request::head("/").body(Body::empty()).unwrap(),
            StatusCode::OK,
        ),
        (get(nobody), StatusCode::NOT_FOUND),
        (browser(nobody), StatusCode::NOT_FOUND),
        (get("/?tenant=not-a-uuid"), StatusCode::BAD_REQUEST),
        (browser("/?tenant=not-a-uuid"), StatusCode::BAD_REQUEST),
        (get("/?tenant=a&tenant=b"), StatusCode::BAD_REQUEST),
    ];
    for (req, status) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (code, h, _) = send(&app, req).await;
        assert_eq!(code, status, "{what}");
        assert_eq!(
            h.get_all("vary").iter().collect::<Vec<_>>(),
            ["Accept"],
            "{what}"
        );
        assert_eq!(
            h.get_all("cache-control").iter().collect::<Vec<_>>(),
            ["no-cache"],
            "{what}"
        );
    }
}

/// A GET as a browser's navigation sends it.
fn browser(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
        .body(Body::empty())
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn chat_ws_url_reaches_the_page_and_the_snippet(pool: PgPool) {
    tenants(&pool).await;
    let ws = "wss://abc123.execute-api.eu-west-1.amazonaws.com/prod";
    let app = api_on(pool, &[("CHAT_WS_URL", ws)]);
    let (_, _, html) = send(&app, get("/")).await;
    assert!(
        html.contains(&format!(
            "data-tenant=\"{DEMO_TENANT_ID}\" data-ws=\"{ws}\" data-open=\"true\""
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("data-ws=&quot;{ws}&quot; defer&gt;")),
        "the snippet shows it too: {html}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn nothing_from_the_request_is_echoed(pool: PgPool) {
    tenants(&pool).await;
    let app = api_on(pool, &[]);
    let evil = "%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let (code, h, body) = send(&app, get(&format!("/?tenant={evil}"))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(body.contains("invalid_tenant_id"), "{body}");
    assert!(
        !body.contains("<script>") && !body.contains("alert"),
        "{body}"
    );
    let (code, _, html) = send(&app, browser(&format!("/?tenant={evil}"))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(!html.contains("alert"), "{html}");

    // a query the page does not know is ignored, not reflected
    let (code, _, html) = send(
        &app,
        get(&format!("/?x={evil}&session={evil}&embed={evil}")),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert!(!html.contains("alert(1)"), "{html}");
}

#[tokio::test]
async fn the_rest_api_is_still_there() {
    let app = api(&[]);
    let (code, _, body) = send(&app, get("/openapi.json")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.contains("gomomo API"), "{body}");
    let (code, _, body) = send(&app, get("/no/such/page")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(body.contains("\"code\""), "the JSON 404 fallback: {body}");
}

/// The console's security headers, the same on its page, script and style.
fn assert_console_headers(h: &HeaderMap, what: &str) {
    let csp = h["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, gomomo::http::web::ADMIN_CSP, "{what}");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{what}: {part} missing from {csp}");
    }
    assert!(
        !csp.contains("unsafe") && !csp.contains("http"),
        "{what}: nothing inline, no other origin: {csp}"
    );
    assert_eq!(h["x-frame-options"].to_str().unwrap(), "DENY", "{what}");
    assert_eq!(h["x-content-type-options"].to_str().unwrap(), "nosniff");
    assert_eq!(h["referrer-policy"].to_str().unwrap(), "no-referrer");
    let etag = h["etag"].to_str().unwrap();
    assert!(
        etag.starts_with('"') && etag.len() == 34,
        "{what}: a strong validator: {etag}"
    );
}

#[tokio::test]
async fn the_console_and_its_files_are_served_with_strict_headers() {
    use gomomo::http::web::{ADMIN_CSS, ADMIN_HTML, ADMIN_JS};
    let app = api(&[]);
    let files = [
        ("/admin", "text/html; charset=utf-8", "no-cache", ADMIN_HTML),
        (
            "/admin/",
            "text/html; charset=utf-8",
            "no-cache",
            ADMIN_HTML,
        ),
        (
            "/admin/bookings/K7QM-3XRP",
            "text/html; charset=utf-8",
            "no-cache",
            ADMIN_HTML,
        ),
        (
            "/admin/app.js",
            "application/javascript; charset=utf-8",
            "public, max-age=60",
            ADMIN_JS,
        ),
        (
            "/admin/app.css",
            "text/css; charset=utf-8",
            "public, max-age=60",
            ADMIN_CSS,
        ),
    ];
    for (uri, content_type, cache, content) in files {
        let (code, h, body) = send(&app, get(uri)).await;
        assert_eq!(code, StatusCode::OK, "{uri}");
        assert_eq!(h["content-type"].to_str().unwrap(), content_type, "{uri}");
        assert_eq!(h["cache-control"].to_str().unwrap(), cache, "{uri}");
        assert_console_headers(&h, uri);
        assert_eq!(body, content, "{uri}");
        let etag = h["etag"].to_str().unwrap().to_string();

        // its validator back → 304 with the headers and no body
        let req = Request::get(uri)
            .header("if-none-match", format!("\"other\", {etag}"))
            .body(Body::empty())
            .unwrap();
        let (code, h, body) = send(&app, req).await;
        assert_eq!(code, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(body.is_empty());
        assert_eq!(h["etag"].to_str().unwrap(), etag);
        assert_console_headers(&h, uri);

        // HEAD: the headers, no body
        let req = Request::head(uri).body(Body::empty()).unwrap();
        let (code, h, body) = send(&app, req).await;
        assert_eq!(code, StatusCode::OK, "{uri}");
        assert!(body.is_empty());
        assert_console_headers(&h, uri);
    }

    // the page, the script and the style each have their own validator
    let tag = |uri: &'static str| {
        let app = app.clone();
        async move { send(&app, get(uri)).await.1["etag"].clone() }
    };
    let (page, js, css) = (
        tag("/admin").await,
        tag("/admin/app.js").await,
        tag("/admin/app.css").await,
    );
    assert!(page != js && js != css && page != css);
}

#[tokio::test]
async fn the_console_needs_no_inline_code_and_no_other_origin() {
    use gomomo::http::web::{ADMIN_CSS, ADMIN_HTML, ADMIN_JS};
    // the page loads its script and style from the console's own paths, and has no code or
    // style of its own (the CSP would refuse it)
    assert!(ADMIN_HTML.contains("<script src=\"/admin/app.js\" defer></script>"));
    assert!(ADMIN_HTML.contains("<link rel=\"stylesheet\" href=\"/admin/app.css\">"));
    assert_eq!(ADMIN_HTML.matches("<script").count(), 1, "one script tag");
    let lower = ADMIN_HTML.to_lowercase();
    assert!(!lower.contains("<style") && !lower.contains(" style="));
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onerror=",
        "javascript:",
    ] {
        assert!(!lower.contains(handler), "{handler} in the page");
    }
    // nothing from another origin (no CDN), no markup built from strings, no eval
    for (name, text) in [
        ("page", ADMIN_HTML),
        ("script", ADMIN_JS),
        ("style", ADMIN_CSS),
    ] {
        assert!(!text.contains("http://"), "{name} names a plain-http URL");
        assert!(!text.contains("@import"), "{name} imports a stylesheet");
    }
    for forbidden in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "localStorage",
    ] {
        assert!(!ADMIN_JS.contains(forbidden), "{forbidden} in the console");
    }
    // the token lives for the tab only, and goes out as a bearer header
    assert!(ADMIN_JS.contains("sessionStorage") && ADMIN_JS.contains("\"Bearer \""));
    // every request goes to this origin's API
    assert!(ADMIN_JS.contains("\"/api/admin/tenants/\""));
    assert!(!ADMIN_JS.contains("https://\" +") && !ADMIN_JS.contains("fetch(\"http"));
}

#[tokio::test]
async fn the_console_does_not_shadow_the_admin_api() {
    let app = api(&[]);
    // an admin API route under /api/admin still answers as the API (401 JSON, no page)
    let (code, h, body) = send(
        &app,
        get("/api/admin/tenants/6d0e0000-0000-4000-8000-000000000001/me"),
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("\"code\""), "{body}");
    assert!(!body.contains("<html") && !h.contains_key("content-security-policy"));
    // and gomomo serve's router has the console too
    let serve = gomomo_api::function_router(AppState::new(
        PgPool::connect_lazy("postgres://unused@127.0.0.1:9/db").unwrap(),
        &config(&[]),
        Clock::fixed(march_2_8am()),
    ));
    let (code, h, body) = send(&serve, get("/admin")).await;
    assert_eq!(code, StatusCode::OK);
    assert_console_headers(&h, "/admin on gomomo serve");
    assert_eq!(body, gomomo::http::web::ADMIN_HTML);
    let (code, _, _) = send(&serve, get("/admin/app.js")).await;
    assert_eq!(code, StatusCode::OK);
}
