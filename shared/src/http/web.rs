//! The pages every deployment serves, one router for the api function and `gomomo serve`:
//!
//! - `GET /` — the landing page: the chat widget embedded for `?tenant=` (else the demo
//!   tenant), with the snippet a business pastes into its own site;
//! - `GET /widget.js` — the widget, cacheable, with a strong `ETag` from its content
//!   (`If-None-Match` → `304`).
//!
//! HEAD answers like GET without a body. The widget's WebSocket URL comes from
//! `CHAT_WS_URL` (`Config::chat_ws_url`); unset, the widget uses its own origin's `/ws`.
//! The only request input a page shows is the tenant id, after it parsed as a UUID; the
//! configured URL is HTML-escaped as well.

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

/// The widget script, as served.
pub const WIDGET_JS: &str = include_str!("../../../web/widget.js");
const INDEX_HTML: &str = include_str!("../../../web/index.html");
/// How long browsers and CDNs may use `/widget.js` before asking again (with its ETag).
pub const WIDGET_CACHE_CONTROL: &str = "public, max-age=300";

/// The strong validator of [`WIDGET_JS`]: the first 128 bits of its SHA-256, quoted.
pub static WIDGET_ETAG: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(WIDGET_JS.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
});

/// What the pages need to know about the deployment. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct WebPages {
    ws_url: Option<Arc<str>>,
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

    /// The landing page for `tenant`.
    pub fn index(&self, tenant: TenantId) -> String {
        let (attr, shown) = match &self.ws_url {
            Some(u) => (
                format!(" data-ws=\"{}\"", escape_html(u)),
                format!(" data-ws=\"{u}\""),
            ),
            None => (String::new(), String::new()),
        };
        INDEX_HTML
            .replace("{{TENANT}}", &tenant.to_string())
            .replace("{{WS_ATTR}}", &attr)
            .replace("{{WS_SNIPPET}}", &escape_html(&shown))
    }
}

/// `GET /` and `GET /widget.js` (HEAD too) over `pages`, for any outer router state.
pub fn router<S>(pages: WebPages) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(index))
        .route("/widget.js", get(widget))
        .with_state(pages)
}

#[derive(Deserialize)]
struct PageQuery {
    tenant: Option<String>,
}

async fn index(
    State(pages): State<WebPages>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let tenant = match q.tenant.as_deref() {
        Some(t) => TenantId::parse(t)?,
        None => TenantId(DEMO_TENANT_ID),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        ],
        pages.index(tenant),
    )
        .into_response())
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

/// `s` safe inside HTML text and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

    #[test]
    fn the_page_escapes_the_configured_url() {
        let pages = WebPages::new(Some("wss://x.test/prod\"><script>alert(1)</script>"));
        let html = pages.index(TenantId(DEMO_TENANT_ID));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("data-ws=\"wss://x.test/prod&quot;&gt;&lt;script&gt;"));
        assert!(!html.contains("{{"), "every placeholder is filled");
        let plain = WebPages::new(None).index(TenantId(DEMO_TENANT_ID));
        assert!(!plain.contains("data-ws"), "{plain}");
        assert!(plain.contains(&DEMO_TENANT_ID.to_string()));
    }
}
