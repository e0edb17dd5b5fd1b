//! The pages every deployment serves, one router for the api function and `gomomo serve`:
//!
//! - `GET /` — the landing page of `?tenant=` (else the demo tenant) with its chat widget
//!   open. A business's page is a plain "chat with us" page under the tenant's name; the
//!   demo tenant's page also has the embed snippet and the developer notes, and any
//!   tenant's page shows the snippet with `?embed=1`. A well-formed id of no tenant → 404,
//!   a malformed one → 400: an HTML page for a browser (`Accept: text/html`), the JSON
//!   error otherwise;
//! - `GET /widget.js` — the widget, cacheable, with a strong `ETag` from its content
//!   (`If-None-Match` → `304`);
//! - `GET /admin` (also `/admin/` and any path under it) — the business's console, one
//!   static page; its script and style at `/admin/app.js` and `/admin/app.css`. The three
//!   carry strong ETags, a Content-Security-Policy that allows only the same origin (no
//!   inline script or style, no framing) and `X-Frame-Options: DENY`. The console talks to
//!   the admin JSON API of the same origin only.
//!
//! Every `/` answer carries `Vary: Accept` and `Cache-Control: no-cache` (the JSON errors
//! too). HEAD answers like GET without a body. The widget's WebSocket URL comes from
//! `CHAT_WS_URL` (`Config::chat_ws_url`); unset, the widget uses its own origin's `/ws`.
//! The tenant's name comes from the booking service. What a page shows is HTML-escaped
//! (the name, the configured URL); the tenant id is shown only after it parsed as a UUID.

use std::sync::{Arc, LazyLock};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::domain::TenantId;
use crate::http::{ApiError, ApiQuery};
use crate::services::admin::DEMO_TENANT_ID;
use crate::services::BookingService;
use crate::text::escape_html;

/// The widget script, as served.
pub const WIDGET_JS: &str = include_str!("../../../web/widget.js");
const INDEX_HTML: &str = include_str!("../../../web/index.html");
/// How long browsers and CDNs may use `/widget.js` before asking again (with its ETag).
pub const WIDGET_CACHE_CONTROL: &str = "public, max-age=300";

/// The console's page, script and style, as served.
pub const ADMIN_HTML: &str = include_str!("../../../web/admin.html");
pub const ADMIN_JS: &str = include_str!("../../../web/admin.js");
pub const ADMIN_CSS: &str = include_str!("../../../web/admin.css");
/// The console's page is revalidated on every load (its ETag makes that cheap), so a new
/// deployment's script and style are picked up at once.
pub const ADMIN_HTML_CACHE_CONTROL: &str = "no-cache";
/// The console's script and style: fresh for a minute, then revalidated with their ETags.
pub const ADMIN_ASSET_CACHE_CONTROL: &str = "public, max-age=60";
/// Only the same origin: scripts, styles, images and API calls; no inline code, no
/// plugins, no framing, forms post nowhere else.
pub const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

fn strong_etag(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

static ADMIN_HTML_ETAG: LazyLock<String> = LazyLock::new(|| strong_etag(ADMIN_HTML));
static ADMIN_JS_ETAG: LazyLock<String> = LazyLock::new(|| strong_etag(ADMIN_JS));
static ADMIN_CSS_ETAG: LazyLock<String> = LazyLock::new(|| strong_etag(ADMIN_CSS));

/// The strong validator of [`WIDGET_JS`]: the first 128 bits of its SHA-256, quoted.
pub static WIDGET_ETAG: LazyLock<String> = LazyLock::new(|| strong_etag(WIDGET_JS));

/// What the pages need to know about the deployment. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct WebPages {
    ws_url: Option<Arc<str>>,
}

/// Whose landing page to render, and which parts it has.
#[derive(Debug, Clone, Copy)]
pub struct Landing<'a> {
    pub tenant: TenantId,
    /// The tenant's name: the page's title and heading.
    pub name: &'a str,
    /// The demo tenant's page: the demo's words and the developer notes.
    pub demo: bool,
    /// The snippet that embeds the widget in another site.
    pub embed: bool,
}

impl WebPages {
    /// `chat_ws_url`: the widget's WebSocket URL; `None` = the page's own origin `/ws`.
    pub fn new(chat_ws_url: Option<&str>) -> Self {
        Self {
            ws_url: chat_ws_url
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(Arc::from),
        }
    }

    pub fn from_config(config: &Config) -> Self {
        Self::new(config.chat_ws_url.as_deref())
    }

    /// The landing page of `page.tenant`.
    pub fn landing(&self, page: &Landing<'_>) -> String {
        let (attr, shown) = match &self.ws_url {
            Some(u) => (
                format!(" data-ws=\"{}\"", escape_html(u)),
                escape_html(&format!(" data-ws=\"{u}\"")),
            ),
            None => (String::new(), String::new()),
        };
        let name = escape_html(page.name);
        let title = if page.demo {
            format!("gomomo demo — {name}")
        } else {
            format!("{name} — chat with us")
        };
        let html = section(INDEX_HTML, "demo", page.demo);
        let html = section(&html, "tenant", !page.demo);
        let html = section(&html, "embed", page.embed);
        fill(
            &html,
            &[
                ("TITLE", &title),
                ("NAME", &name),
                ("TENANT", &page.tenant.to_string()),
                ("WS_ATTR", &attr),
                ("WS_SNIPPET", &shown),
            ],
        )
    }
}

/// A page of a heading and one paragraph, both escaped: what a person sees when a link
/// does not lead anywhere.
pub fn message_page(title: &str, text: &str) -> String {
    let (title, text) = (escape_html(title), escape_html(text));
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family: system-ui, sans-serif; \
         max-width: 32rem; margin: 3rem auto; padding: 0 1rem; overflow-wrap: anywhere\">\
         <h1>{title}</h1><p>{text}</p></body></html>"
    )
}

/// `html` with each `<!--name-->…<!--/name-->` block kept (without its markers) or dropped.
fn section(html: &str, name: &str, keep: bool) -> String {
    let open = format!("<!--{name}-->\n");
    let close = format!("<!--/{name}-->\n");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        out.push_str(&rest[..at]);
        let inner = &rest[at + open.len()..];
        let Some(end) = inner.find(&close) else {
            out.push_str(&rest[at..]);
            return out;
        };
        if keep {
            out.push_str(&inner[..end]);
        }
        rest = &inner[end + close.len()..];
    }
    out.push_str(rest);
    out
}

/// `template` with each `{{KEY}}` of `values` replaced, in one pass: a value is never
/// searched for placeholders itself.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let found = after.find("}}").and_then(|end| {
            values
                .iter()
                .find(|(key, _)| *key == &after[..end])
                .map(|(_, value)| (end, value))
        });
        match found {
            Some((end, value)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Clone)]
struct WebState {
    pages: WebPages,
    booking: BookingService,
}

/// `GET /`, `GET /widget.js` and the console under `/admin` (HEAD too) over `pages`, with
/// the tenants' names from `booking`, for any outer router state.
pub fn router<S>(pages: WebPages, booking: BookingService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(index))
        .route("/widget.js", get(widget))
        .route("/admin", get(admin_page))
        .route("/admin/", get(admin_page))
        .route("/admin/app.js", get(admin_js))
        .route("/admin/app.css", get(admin_css))
        .route("/admin/{*rest}", get(admin_page))
        .with_state(WebState { pages, booking })
}

#[derive(Deserialize)]
struct PageQuery {
    tenant: Option<String>,
    embed: Option<String>,
}

async fn index(
    State(s): State<WebState>,
    headers: HeaderMap,
    query: Result<ApiQuery<PageQuery>, ApiError>,
) -> Response {
    let mut res = match landing(&s, query).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
            ],
            html,
        )
            .into_response(),
        Err(e) if wants_html(&headers) => error_page(&e),
        Err(e) => e.into_response(),
    };
    // The answer depends on `Accept` (a page or JSON): caches must keep them apart, and
    // none may reuse an answer without asking (a tenant may appear or be renamed).
    let h = res.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    res
}

async fn landing(
    s: &WebState,
    query: Result<ApiQuery<PageQuery>, ApiError>,
) -> Result<String, ApiError> {
    let ApiQuery(q) = query?;
    let tenant = match q.tenant.as_deref() {
        Some(t) => TenantId::parse(t)?,
        None => TenantId(DEMO_TENANT_ID),
    };
    let name = s.booking.schedule(tenant).await?.tenant.name;
    let demo = tenant.0 == DEMO_TENANT_ID;
    Ok(s.pages.landing(&Landing {
        tenant,
        name: &name,
        demo,
        embed: demo || matches!(q.embed.as_deref(), Some("1" | "true")),
    }))
}

/// Whether the client asked for a page (a browser's navigation does).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// `e` as a page a person can read, with `e`'s status; nothing of the request in it.
fn error_page(e: &ApiError) -> Response {
    let (title, text) = if e.status == StatusCode::NOT_FOUND {
        (
            "Page not found",
            "There is no business at this address. Please check the link you were given.",
        )
    } else if e.status.is_client_error() {
        (
            "This link is not right",
            "The address of this page is incomplete or was changed. Please open the link \
             exactly as you were given it.",
        )
    } else {
        (
            "Something went wrong",
            "We couldn't open this page right now. Please try again in a moment.",
        )
    };
    (
        e.status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        message_page(title, text),
    )
        .into_response()
}

async fn widget(headers: HeaderMap) -> Response {
    let etag = WIDGET_ETAG.as_str();
    let common = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, WIDGET_CACHE_CONTROL),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    if none_match(headers.get(header::IF_NONE_MATCH), etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        WIDGET_JS,
    )
        .into_response()
}

async fn admin_page(headers: HeaderMap) -> Response {
    admin_file(
        &headers,
        ADMIN_HTML,
        &ADMIN_HTML_ETAG,
        "text/html; charset=utf-8",
        ADMIN_HTML_CACHE_CONTROL,
    )
}

async fn admin_js(headers: HeaderMap) -> Response {
    admin_file(
        &headers,
        ADMIN_JS,
        &ADMIN_JS_ETAG,
        "application/javascript; charset=utf-8",
        ADMIN_ASSET_CACHE_CONTROL,
    )
}

async fn admin_css(headers: HeaderMap) -> Response {
    admin_file(
        &headers,
        ADMIN_CSS,
        &ADMIN_CSS_ETAG,
        "text/css; charset=utf-8",
        ADMIN_ASSET_CACHE_CONTROL,
    )
}

/// One of the console's files with its validator and the console's security headers;
/// `304` without a body when the client already has it.
fn admin_file(
    headers: &HeaderMap,
    body: &'static str,
    etag: &str,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let mut res = if none_match(headers.get(header::IF_NONE_MATCH), etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ADMIN_CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Whether an `If-None-Match` header names `etag` (or is `*`). The comparison is the weak
/// one RFC 9110 asks of `If-None-Match`: a `W/` prefix is ignored.
fn none_match(header: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(value) = header.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_etag_is_strong_and_matches_only_itself() {
        let etag = WIDGET_ETAG.as_str();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34);
        let h = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(none_match(Some(&h(etag)), etag));
        assert!(none_match(Some(&h(&format!("\"x\", W/{etag}"))), etag));
        assert!(none_match(Some(&h("*")), etag));
        assert!(!none_match(Some(&h("\"0123\"")), etag));
        assert!(!none_match(None, etag));
    }

    fn demo() -> Landing<'static> {
        Landing {
            tenant: TenantId(DEMO_TENANT_ID),
            name: "Gomomo Demo Clinic",
            demo: true,
            embed: true,
        }
    }

    #[test]
    fn the_page_escapes_the_configured_url() {
        let pages = WebPages::new(Some("wss://x.test/prod\"><script>alert(1)</script>"));
        let html = pages.landing(&demo());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("data-ws=\"wss://x.test/prod&quot;&gt;&lt;script&gt;"));
        assert!(!html.contains("{{"), "every placeholder is filled");
        let plain = WebPages::new(None).landing(&demo());
        assert!(!plain.contains("data-ws"), "{plain}");
        assert!(plain.contains(&DEMO_TENANT_ID.to_string()));
    }

    #[test]
    fn a_business_page_is_the_business_s_own() {
        let tenant = TenantId(uuid::Uuid::from_u128(
            0x0b6f_1c2e_1111_4222_8333_4444_5555_6666,
        ));
        let page = Landing {
            tenant,
            name: "Rosa's <Salon> & Spa {{TENANT}}",
            demo: false,
            embed: false,
        };
        let html = WebPages::new(None).landing(&page);
        assert!(
            html.contains(
                "<title>Rosa&#39;s &lt;Salon&gt; &amp; Spa {{TENANT}} — chat with us</title>"
            ),
            "the name, escaped and never filled in itself: {html}"
        );
        assert!(html.contains("<h1>Rosa&#39;s &lt;Salon&gt; &amp; Spa {{TENANT}}</h1>"));
        assert!(html.contains("Chat with us"), "{html}");
        for demo_only in [
            "gomomo",
            "Demo",
            "OPENAI_API_KEY",
            "snippet",
            "paste this",
            "<!--",
        ] {
            assert!(
                !html.contains(demo_only),
                "{demo_only:?} on a business's page: {html}"
            );
        }
        assert!(html.contains(&format!("data-tenant=\"{tenant}\" data-open=\"true\"")));

        let embed = WebPages::new(None).landing(&Landing {
            embed: true,
            ..page
        });
        assert!(embed.contains("id=\"snippet\""), "{embed}");
        assert!(
            embed.contains(&format!("data-tenant=\"{tenant}\" defer&gt;")),
            "{embed}"
        );
        assert!(
            !embed.contains("OPENAI_API_KEY") && !embed.contains("<!--"),
            "{embed}"
        );
    }

    #[test]
    fn the_demo_page_keeps_the_snippet_and_the_notes() {
        let html = WebPages::new(None).landing(&demo());
        assert!(
            html.contains("<title>gomomo demo — Gomomo Demo Clinic</title>"),
            "{html}"
        );
        assert!(html.contains("id=\"snippet\"") && html.contains("OPENAI_API_KEY"));
        assert!(
            !html.contains("Chat with us") && !html.contains("<!--"),
            "{html}"
        );
    }

    #[test]
    fn placeholders_fill_once_and_unknown_ones_stay() {
        assert_eq!(
            fill("a{{X}}b{{Y}}c{{", &[("X", "{{Y}}"), ("Y", "2")]),
            "a{{Y}}b2c{{"
        );
        assert_eq!(section("a\n<!--s-->\nb\n<!--/s-->\nc", "s", false), "a\nc");
        assert_eq!(
            section("a\n<!--s-->\nb\n<!--/s-->\nc", "s", true),
            "a\nb\nc"
        );
    }

    #[test]
    fn a_message_page_escapes_what_it_shows() {
        let html = message_page("<b>", "x & \"y\"");
        assert!(
            html.contains("<h1>&lt;b&gt;</h1><p>x &amp; &quot;y&quot;</p>"),
            "{html}"
        );
    }
}
