//! The `voice` function: Twilio's voice webhooks as an axum [`Router`].
//!
//! - `POST /twilio/voice` — a call starts (tenant found by the called number);
//! - `POST /twilio/voice/gather` — one answer: spoken (`SpeechResult`, `Confidence`) or
//!   keyed (`Digits`);
//! - `POST /twilio/voice/status` — call status callbacks (frees the call's place);
//! - `POST /twilio/voice/dial` — the outcome of a transfer to a person (`DialCallStatus`):
//!   answered → goodbye, not answered → voicemail;
//! - `POST /twilio/voice/recorded` — a voicemail's recording (the `<Record>` action and its
//!   `recordingStatusCallback`): the voicemail row, its audit entry and the staff's notice;
//! - `POST /twilio/voice/transcribed` — a voicemail's transcription (English calls).
//!
//! Every route goes through the [`TwilioWebhook`] extractor first: no valid
//! `X-Twilio-Signature`, no processing (403). Answers are TwiML (`application/xml`). When
//! something fails on our side the caller hears an apology instead of Twilio's generic
//! "application error", and the cause is logged.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use gomomo::app::App;
use gomomo::http::twilio::{TwilioWebhook, WebhookVerifier};
use gomomo::http::ApiError;
use gomomo::ports::SmsSender;
use gomomo::services::voice::transfer::{self, Recording, Transcription};
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
        .route("/twilio/voice/dial", post(dial))
        .route("/twilio/voice/recorded", post(recorded))
        .route("/twilio/voice/transcribed", post(transcribed))
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

/// The reason, language and dial outcome a callback URL carries (signed with it).
fn callback_query(
    q: &HashMap<String, String>,
) -> Result<(transfer::Why, gomomo::domain::Locale, Option<String>), ApiError> {
    Ok(transfer::parse_callback_query(
        q.get("why").map(String::as_str),
        q.get("lang").map(String::as_str),
        q.get("dial").map(String::as_str),
    )?)
}

fn db_error(e: VoiceError) -> ApiError {
    match e {
        VoiceError::Database(e) => ApiError::internal(&e),
        VoiceError::Booking(e) => e.into(),
    }
}

async fn dial(
    State(s): State<VoiceState>,
    Query(q): Query<HashMap<String, String>>,
    hook: TwilioWebhook,
) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let (why, locale, _) = callback_query(&q)?;
    let outcome = hook.get("DialCallStatus").unwrap_or("failed");
    Ok(match s.voice.dial_result(sid, outcome, why, locale).await {
        Ok(body) => xml(body),
        Err(e) => apology(&e),
    })
}

/// A recording id (`RE` + 32 hex digits), or the last segment of the recording's URL.
fn recording_sid<'a>(hook: &'a TwilioWebhook, url: Option<&'a str>) -> Result<&'a str, ApiError> {
    let sid = hook
        .get("RecordingSid")
        .filter(|v| !v.trim().is_empty())
        .or_else(|| url.and_then(|u| u.rsplit('/').next()))
        .unwrap_or_default();
    if !voice::valid_call_sid(sid) {
        return Err(ApiError::bad_request(
            "invalid_recording_sid",
            "RecordingSid must be 2 to 64 letters or digits",
        ));
    }
    Ok(sid)
}

fn recording_url(hook: &TwilioWebhook) -> Result<Option<&str>, ApiError> {
    match hook
        .get("RecordingUrl")
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        None => Ok(None),
        Some(u)
            if u.starts_with("https://") && u.len() <= 500 && !u.contains(char::is_whitespace) =>
        {
            Ok(Some(u))
        }
        Some(_) => Err(ApiError::bad_request(
            "invalid_recording_url",
            "RecordingUrl must be an https URL of at most 500 characters",
        )),
    }
}

async fn recorded(
    State(s): State<VoiceState>,
    Query(q): Query<HashMap<String, String>>,
    hook: TwilioWebhook,
) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let (why, locale, dial) = callback_query(&q)?;
    // The status callback says RecordingStatus; the Record's action expects TwiML.
    let status_callback = hook.get("RecordingStatus");
    let words = &locale.text().voice;
    let url = recording_url(&hook)?;
    if url.is_none() && hook.get("RecordingSid").is_none() {
        // Nothing was recorded: say goodbye.
        return Ok(match status_callback {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => xml(TwiML::new()
                .verb(twiml::say_in(locale, words.voicemail_nothing))
                .verb(twiml::hangup())
                .to_xml()),
        });
    }
    if matches!(status_callback, Some(st) if st != "completed") {
        // A recording that failed or is still in progress has nothing to keep yet.
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let recording = Recording {
        call_sid: sid,
        recording_sid: recording_sid(&hook, url)?,
        recording_url: url,
        duration_seconds: hook
            .get("RecordingDuration")
            .and_then(|d| d.trim().parse::<i32>().ok())
            .filter(|d| (0..=86_400).contains(d)),
        why,
        dial: dial.as_deref(),
        locale,
    };
    let saved = s.voice.recorded(&recording).await;
    if status_callback.is_some() {
        saved.map_err(db_error)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(match saved {
        Ok(Some(_)) => xml(TwiML::new()
            .verb(twiml::say_in(locale, words.voicemail_saved))
            .verb(twiml::hangup())
            .to_xml()),
        Ok(None) => xml(TwiML::new()
            .verb(twiml::say_in(locale, words.lost_track))
            .verb(twiml::hangup())
            .to_xml()),
        Err(e) => apology(&e),
    })
}

async fn transcribed(
    State(s): State<VoiceState>,
    Query(q): Query<HashMap<String, String>>,
    hook: TwilioWebhook,
) -> Result<Response, ApiError> {
    let sid = call_sid(&hook)?;
    let (why, locale, dial) = callback_query(&q)?;
    let url = recording_url(&hook)?;
    let text = hook.get("TranscriptionText");
    if text.is_some_and(|t| t.chars().count() > 10_000) {
        return Err(ApiError::bad_request(
            "invalid_transcription_text",
            "TranscriptionText is longer than 10000 characters",
        ));
    }
    let t = Transcription {
        call_sid: sid,
        recording_sid: recording_sid(&hook, url)?,
        recording_url: url,
        status: hook.get("TranscriptionStatus").unwrap_or("failed"),
        text,
        why,
        dial: dial.as_deref(),
        locale,
    };
    match s.voice.transcribed(&t).await.map_err(db_error)? {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(ApiError::not_found("call_not_found", "no such call")),
    }
}
