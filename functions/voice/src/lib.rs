//! The `voice` function: Twilio's voice webhooks as an axum [`Router`].
//!
//! - `POST /twilio/voice` — a call starts (tenant found by the called number);
//! - `POST /twilio/voice/gather` — one answer: spoken (`SpeechResult`, `Confidence`) or
//!   keyed (`Digits`);
//! - `POST /twilio/voice/status` — call status callbacks (frees the call's place).
//!
//! Every route goes through the [`TwilioWebhook`] extractor first: no valid
//! `X-Twilio-Signature`, no processing (403). Answers are TwiML (`application/xml`). When
//! something fails on our side the caller hears an apology instead of Twilio's generic
//! "application error", and the cause is logged.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use gomomo::app::App;
use gomomo::http::twilio::{TwilioWebhook, WebhookVerifier};
use gomomo::http::ApiError;
use gomomo::ports::SmsSender;
use gomomo::services::voice::twiml::{self, Response as TwiML, CONTENT_TYPE};
use gomomo::services::voice::{self, VoiceError, VoiceService};
use gomomo::services::Clock;
use gomomo::Config;
use sqlx::PgPool;

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct VoiceState {
    pub voice: VoiceService,
    pub verifier: WebhookVerifier,
}

impl FromRef<VoiceState> for WebhookVerifier {
    fn from_ref(s: &VoiceState) -> Self {
        s.verifier.clone()
    }
}

impl VoiceState {
    pub fn from_app(app: &App) -> Self {
        Self {
            voice: app.voice.clone(),
            verifier: app.webhook_verifier.clone(),
        }
    }

    /// The configured adapters over `pool` with `sms` as the SMS sender and no event bus.
    pub fn new(pool: PgPool, config: &Config, clock: Clock, sms: Arc<dyn SmsSender>) -> Self {
        Self::from_app(&App::configured_with_sms(config.clone(), pool, clock, sms))
    }
}

pub fn router(state: VoiceState) -> Router {
    Router::new()
        .route("/twilio/voice", post(call_start))
        .route("/twilio/voice/gather", post(gather))
        .route("/twilio/voice/status", post(status))
        .with_state(state)
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

/// A failure on our side, told to the caller in words; the cause goes to the log.
fn apology(e: &VoiceError) -> Response {
    tracing::error!(error = %e, cause = ?std::error::Error::source(e), "voice turn failed");
    xml(TwiML::new()
        .verb(twiml::say(
            "I'm sorry, we're having technical trouble right now. Please call back in a few minutes. Goodbye.",
        ))
        .verb(twiml::hangup())
        .to_xml())
}

fn call_sid(hook: &TwilioWebhook) -> Result<&str, ApiError> {
    let sid = hook.require("CallSid")?;
    if !voice::valid_call_sid(sid) {
        return Err(ApiError::bad_request(
            "invalid_call_sid",
            "CallSid must be 2 to 64 letters or digits",
        ));
    }
    Ok(sid)
}

async fn call_start(
    State(s): State<VoiceState>,
    hook: TwilioWebhook,
) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let to = hook.require("To")?;
    let from = hook.get("From").unwrap_or_default();
    Ok(
        match s
            .voice
            .start_call(sid, from, to, hook.idempotency_token.as_deref())
            .await
        {
            Ok(body) => xml(body),
            Err(e) => apology(&e),
        },
    )
}

async fn gather(State(s): State<VoiceState>, hook: TwilioWebhook) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let speech = hook.get("SpeechResult").unwrap_or_default();
    if speech.chars().count() > 2000 {
        return Err(ApiError::bad_request(
            "invalid_speech_result",
            "SpeechResult is longer than 2000 characters",
        ));
    }
    // Keys pressed: at most a code's worth of digits, `*` and `#` (the finish key).
    let digits = hook.get("Digits").map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = digits {
        if d.len() > 16
            || !d
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        {
            return Err(ApiError::bad_request(
                "invalid_digits",
                "Digits must be at most 16 keys: 0-9, * or #",
            ));
        }
    }
    let confidence = hook
        .get("Confidence")
        .and_then(|c| c.parse::<f32>().ok())
        .filter(|c| c.is_finite());
    Ok(
        match s
            .voice
            .gather(
                sid,
                speech,
                digits,
                confidence,
                hook.idempotency_token.as_deref(),
            )
            .await
        {
            Ok(body) => xml(body),
            Err(e) => apology(&e),
        },
    )
}

async fn status(State(s): State<VoiceState>, hook: TwilioWebhook) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let call_status = hook.get("CallStatus").unwrap_or_default();
    match s.voice.status(sid, call_status).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(VoiceError::Database(e)) => Err(ApiError::internal(&e)),
        Err(VoiceError::Booking(e)) => Err(e.into()),
    }
}
