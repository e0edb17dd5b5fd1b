//! The `handoff` function as an axum [`Router`]:
//!
//! - `POST /twilio/sms` — inbound SMS (signature-checked): opt-out ledger, HELP, and C/R/X
//!   replies to reminders; duplicate MessageSids act once;
//! - `GET /handoff/resume?token=…` — a one-time link from a call or an SMS: valid → a chat
//!   session seeded with what was gathered, then `303` to the chat page; used or expired →
//!   410, tampered → 403, each with a page a person can read.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use gomomo::app::App;
use gomomo::http::twilio::{TwilioWebhook, WebhookVerifier};
use gomomo::http::{ApiError, ApiQuery};
use gomomo::ports::SmsSender;
use gomomo::services::handoff::{HandoffError, HandoffService};
use gomomo::services::sms_inbound::{InboundError, InboundService, InboundSms};
use gomomo::services::voice::twiml::CONTENT_TYPE;
use gomomo::services::Clock;
use gomomo::Config;
use serde::Deserialize;
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
        .route("/handoff/resume", get(resume))
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

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    // Fixed strings only: nothing from the request is echoed into the page.
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body style=\"font-family: system-ui, sans-serif; \
         max-width: 32rem; margin: 3rem auto; padding: 0 1rem\"><h1>{title}</h1><p>{text}</p>\
         </body></html>"
    );
    (status, Html(body)).into_response()
}

async fn resume(State(s): State<HandoffState>, ApiQuery(q): ApiQuery<ResumeQuery>) -> Response {
    let Some(token) = q.token.filter(|t| !t.trim().is_empty() && t.len() <= 256) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Link incomplete",
            "This link is missing its code. Please open the link exactly as it was sent to you.",
        );
    };
    match s.handoff.redeem(&token).await {
        Ok(r) => {
            let location = format!("/?tenant={}&session={}", r.tenant_id, r.session_id);
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
            )
                .into_response()
        }
        Err(HandoffError::Gone) => page(
            StatusCode::GONE,
            "This link has expired",
            "Links from our text messages work once, for 15 minutes. Please call us again or \
             start a new chat on our website — it only takes a moment.",
        ),
        Err(HandoffError::Tampered) => page(
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "We couldn't verify this link. Please open the link exactly as it was sent to you.",
        ),
        Err(e) => {
            tracing::error!(error = %e, "handoff resume failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "We couldn't open your conversation right now. Please try the link again in a moment.",
            )
        }
    }
}
