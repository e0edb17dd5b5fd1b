//! The `handoff` function as an axum [`Router`]:
//!
//! - `POST /twilio/sms` — inbound SMS (signature-checked): opt-out ledger, HELP, and C/R/X
//!   replies to reminders; duplicate MessageSids act once;
//! - `GET /handoff/resume?token=…` — a one-time link from a call or an SMS. The page says
//!   what the chat continues and offers "Continue in chat"; it spends nothing, so a link
//!   preview, a mail scanner or a HEAD request leaves the link working. Used or expired →
//!   410, tampered → 403, missing → 400, each with a page a person can read. A working
//!   link's page is in the language of the conversation it continues; the error pages come
//!   before that is known and are in English;
//! - `POST /handoff/resume` with `{"token"}` — the person's click: spends the token once and
//!   answers `{"tenant_id","session_id","context"}` (`Cache-Control: no-store`); the page
//!   keeps the session where the widget looks for it and opens the chat at `/?tenant=…`.
//!   Errors are JSON: `token_missing` 400, `token_invalid` 403, `token_used` and
//!   `token_expired` 410.
//!
//! The session id is a bearer secret: it is only ever in the POST's response body, never in
//! a URL, a header, a page or a log line.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{header, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gomomo::app::App;
use gomomo::domain::Locale;
use gomomo::http::twilio::{TwilioWebhook, WebhookVerifier};
use gomomo::http::web::{fill, message_page};
use gomomo::http::{ApiError, ApiJson, ApiQuery};
use gomomo::ports::SmsSender;
use gomomo::services::handoff::{Errand, HandoffContext, HandoffError, HandoffService};
use gomomo::services::sms_inbound::{InboundError, InboundService, InboundSms};
use gomomo::services::voice::twiml::CONTENT_TYPE;
use gomomo::services::Clock;
use gomomo::text::escape_html;
use gomomo::Config;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

#[derive(Clone)]
pub struct HandoffState {
    pub handoff: HandoffService,
    pub inbound: InboundService,
    pub verifier: WebhookVerifier,
}

impl FromRef<HandoffState> for WebhookVerifier {
    fn from_ref(s: &HandoffState) -> Self {
        s.verifier.clone()
    }
}

impl HandoffState {
    pub fn from_app(app: &App) -> Self {
        Self {
            handoff: app.handoff.clone(),
            inbound: app.inbound.clone(),
            verifier: app.webhook_verifier.clone(),
        }
    }

    /// The configured adapters over `pool` with `sms` as the SMS sender and no event bus.
    pub fn new(pool: PgPool, config: &Config, clock: Clock, sms: Arc<dyn SmsSender>) -> Self {
        Self::from_app(&App::configured_with_sms(config.clone(), pool, clock, sms))
    }
}

pub fn router(state: HandoffState) -> Router {
    Router::new()
        .route("/twilio/sms", post(inbound_sms))
        .route("/handoff/resume", get(resume_page).post(resume))
        .with_state(state)
}

async fn inbound_sms(
    State(s): State<HandoffState>,
    hook: TwilioWebhook,
) -> Result<Response, ApiError> {
    let msg = InboundSms {
        message_sid: hook.require("MessageSid")?,
        from: hook.require("From")?,
        to: hook.require("To")?,
        body: hook.get("Body").unwrap_or_default(),
    };
    match s.inbound.handle(&msg).await {
        Ok(xml) => Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], xml).into_response()),
        Err(InboundError::Invalid(field)) => Err(ApiError::bad_request(
            match field {
                "from" => "invalid_from",
                _ => "invalid_message_sid",
            },
            format!("invalid {field}"),
        )),
        Err(InboundError::Database(e)) => Err(ApiError::internal(&e)),
        Err(InboundError::Booking(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct ResumeQuery {
    token: Option<String>,
}

const HANDOFF_HTML: &str = include_str!("../../../web/handoff.html");
/// The longest token accepted (ours are 22 + 1 + 43 characters).
const MAX_TOKEN_LEN: usize = 256;

/// The headers of every handoff page: never cached, never indexed, and the link (with its
/// token) never sent on as a referrer.
fn page_headers() -> [(HeaderName, &'static str); 5] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (HeaderName::from_static("x-robots-tag"), "noindex"),
    ]
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    // Fixed strings only: nothing from the request is echoed into the page.
    (status, page_headers(), message_page(title, text)).into_response()
}

// The pages below come before the link's context is known (no token, a token that does not
// verify, a used or expired one: its context is not read), so they cannot know the client's
// language and speak the default one.

fn missing_page() -> Response {
    let t = &Locale::default().text().handoff;
    page(StatusCode::BAD_REQUEST, t.missing_title, t.missing_text)
}

/// The page of a link that cannot be opened; `ttl_minutes`: how long links work.
fn error_page(e: &HandoffError, ttl_minutes: i64) -> Response {
    let t = &Locale::default().text().handoff;
    match e {
        HandoffError::Used | HandoffError::Expired => {
            page(StatusCode::GONE, t.gone_title, &(t.gone_text)(ttl_minutes))
        }
        HandoffError::Tampered => page(StatusCode::FORBIDDEN, t.invalid_title, t.invalid_text),
        e => {
            tracing::error!(error = %e, "handoff link check failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                t.failed_title,
                t.failed_text,
            )
        }
    }
}

/// The token of a request, when it has a non-blank one.
fn token_of(raw: Option<String>) -> Option<String> {
    raw.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// What the chat will continue, in words a person reads on the page, in the client's
/// language: the errand, where it started, the service and the day. Nothing else the call
/// gathered (no name, email, phone or transcript) is shown to whoever holds the link.
pub fn headline(ctx: &HandoffContext) -> String {
    let locale = ctx.locale.unwrap_or_default();
    let text = locale.text();
    let t = &text.handoff;
    let errand = match ctx.errand() {
        Some(Errand::Book) => t.doing_book,
        Some(Errand::Reschedule) => t.doing_reschedule,
        Some(Errand::Cancel) => t.doing_cancel,
        Some(Errand::Lookup) => t.doing_lookup,
        None => t.doing_talk,
    };
    let via = if ctx.channel == "sms" {
        t.by_text
    } else {
        t.on_phone
    };
    let mut details = Vec::new();
    if let Some(s) = &ctx.service_name {
        details.push(s.clone());
    }
    if let Some(d) = ctx.date {
        details.push(locale.date(d, text.chat.handoff_day_format));
    }
    (t.headline)(&format!("{errand}{via}"), &details)
}

/// `GET` (and `HEAD`) `/handoff/resume`: checks the link and shows what it continues;
/// spends nothing.
async fn resume_page(
    State(s): State<HandoffState>,
    ApiQuery(q): ApiQuery<ResumeQuery>,
) -> Response {
    let Some(token) = token_of(q.token) else {
        return missing_page();
    };
    let ttl = s.handoff.ttl_minutes();
    if token.len() > MAX_TOKEN_LEN {
        return error_page(&HandoffError::Tampered, ttl);
    }
    match s.handoff.inspect(&token).await {
        Ok(context) => (StatusCode::OK, page_headers(), resume_html(ttl, &context)).into_response(),
        Err(e) => error_page(&e, ttl),
    }
}

/// The page of a working link, in the context's language: what it continues, how long links
/// work and the page's messages, filled in one pass so nothing in the summary is ever taken
/// for a placeholder.
fn resume_html(ttl_minutes: i64, context: &HandoffContext) -> String {
    let locale = context.locale.unwrap_or_default();
    let t = &locale.text().handoff;
    let says = serde_json::json!({
        "token_used": t.said_used,
        "token_expired": t.said_expired,
        "token_invalid": t.said_invalid,
        "token_missing": t.said_missing,
        "storage": t.said_storage,
        "storage_after": t.said_storage_after,
        "other": t.said_other,
    });
    fill(
        HANDOFF_HTML,
        &[
            ("LANG", locale.code()),
            ("TITLE", &escape_html(t.title)),
            ("HEADING", &escape_html(t.heading)),
            ("BUTTON", &escape_html(t.button)),
            ("NOTE", &escape_html(&(t.note)(ttl_minutes))),
            ("SUMMARY", &escape_html(&headline(context))),
            ("SAYS", &script_safe(&says.to_string())),
        ],
    )
}

/// JSON made safe inside a `<script>` block: nothing in it can close the block, open a
/// comment or end a line of the script.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Deserialize)]
struct ResumeBody {
    token: Option<String>,
}

/// What a redeemed link tells the page (and the chat) about the conversation it continues.
#[derive(Serialize)]
struct ContextView {
    channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `YYYY-MM-DD`
    date: Option<String>,
    summary: String,
}

#[derive(Serialize)]
struct Resumed {
    tenant_id: String,
    session_id: String,
    context: ContextView,
}

/// `POST /handoff/resume`: the person's explicit "continue" spends the token, once.
async fn resume(
    State(s): State<HandoffState>,
    ApiJson(body): ApiJson<ResumeBody>,
) -> Result<Response, ApiError> {
    let Some(token) = token_of(body.token) else {
        return Err(ApiError::bad_request(
            "token_missing",
            "the body needs the link's token: {\"token\": \"…\"}",
        ));
    };
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    match s.handoff.redeem(&token).await {
        Ok(r) => {
            let context = ContextView {
                summary: headline(&r.context),
                channel: r.context.channel,
                intent: r.context.intent,
                service_name: r.context.service_name,
                date: r.context.date.map(|d| d.to_string()),
            };
            Ok((
                [(header::CACHE_CONTROL, "no-store")],
                axum::Json(Resumed {
                    tenant_id: r.tenant_id.to_string(),
                    session_id: r.session_id,
                    context,
                }),
            )
                .into_response())
        }
        Err(HandoffError::Used) => Err(ApiError::new(
            StatusCode::GONE,
            "token_used",
            "this link was already used",
        )),
        Err(HandoffError::Expired) => Err(ApiError::new(
            StatusCode::GONE,
            "token_expired",
            "this link has expired",
        )),
        Err(HandoffError::Tampered) => Err(invalid()),
        Err(e) => Err(ApiError::internal(&e)),
    }
}

fn invalid() -> ApiError {
    ApiError::forbidden("token_invalid", "this link could not be verified")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_never_filled_in_itself() {
        let context = HandoffContext {
            channel: "voice".into(),
            intent: Some("book".into()),
            service_name: Some("Cut {{TTL}} & {{SUMMARY}} {{X}}".into()),
            ..HandoffContext::default()
        };
        let html = resume_html(15, &context);
        assert!(
            html.contains(
                "You were booking an appointment on the phone: \
                 Cut {{TTL}} &amp; {{SUMMARY}} {{X}}. Continue in chat"
            ),
            "the service's name stays as it is: {html}"
        );
        assert!(html.contains("within 15 minutes of being sent"), "{html}");
        assert_eq!(html.matches("{{").count(), 3, "only the name's own: {html}");
    }

    #[test]
    fn the_messages_cannot_leave_their_script() {
        let safe = script_safe("{\"a\":\"</script><!-- & \u{2028}\u{2029}\"}");
        assert_eq!(
            safe,
            r#"{"a":"\u003c/script\u003e\u003c!-- \u0026 \u2028\u2029"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back["a"], "</script><!-- & \u{2028}\u{2029}");
    }
}
