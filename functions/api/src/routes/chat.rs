//! The REST fallback of the chat (`POST /api/tenants/{tenant}/chat`): one message in, the
//! agent's reply out, plus any proactive pushes waiting for the session. Same agent, same
//! tools and guardrails as the WebSocket channels.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gomomo::domain::{Locale, TimeZone};
use gomomo::http::{ApiError, ApiJson, ApiPath, ClientIp};
use gomomo::services::agent::{deliver_pending_pushes, AgentError, SendError, ServerMessage};
use gomomo::services::sessions;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::tenant_id;
use crate::dto::ErrorBody;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRequest {
    /// The conversation to continue: a session the server issued for this tenant. When
    /// absent, a new session is issued and returned in the response. Client-chosen ids are
    /// refused (404 `session_not_found`).
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "Can I book a consultation tomorrow morning?"
    )]
    pub message: String,
    /// The client's own time zone (IANA name; the widget sends the browser's). A session
    /// that knows no zone of the client's keeps it: replies, and the messages about a
    /// booking made in the conversation, show the client's time beside the clinic's when
    /// they differ. Unknown names are refused (400 `invalid_client_time_zone`).
    #[schema(max_length = 64, example = "Europe/Madrid")]
    pub client_time_zone: Option<String>,
    /// The language the client chose (`en`, `es`). The chat speaks it when the tenant
    /// offers it, and follows a message written clearly in another offered language;
    /// without it the chat reads the language of the first message, else speaks the
    /// tenant's default. Other values are refused (400 `invalid_locale`).
    #[schema(example = "es", pattern = "^[a-z]{2}$")]
    pub locale: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatResponse {
    /// The chat's session (server-issued): send it with the next message.
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: String,
    #[schema(example = "Tuesday 9:00 is free. Shall I hold it for you?")]
    pub reply: String,
    /// What the tools did (booking confirmed, slots offered, …) for the UI.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    /// Proactive messages that were waiting for this session (waitlist match, …).
    #[schema(value_type = Vec<Object>)]
    pub pushes: Vec<Value>,
    /// `rules` (deterministic engine) or `llm`.
    #[schema(value_type = ChatEngine)]
    pub engine: String,
    /// The language of the reply (`en`, `es`).
    #[schema(example = "en")]
    pub locale: String,
}

/// Which engine answered a chat turn.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatEngine {
    /// The deterministic engine.
    Rules,
    /// The language model.
    Llm,
}

pub(crate) fn agent_error(e: AgentError) -> ApiError {
    match e {
        AgentError::InvalidMessage(m) => ApiError::bad_request("invalid_message", m),
        AgentError::TenantNotFound => ApiError::not_found("tenant_not_found", "tenant not found"),
        AgentError::Busy => ApiError::new(
            StatusCode::CONFLICT,
            "session_busy",
            "this conversation is still answering the previous message",
        ),
        other => ApiError::internal(&other),
    }
}

/// One chat turn (the REST fallback of the widget).
#[utoipa::path(post, path = "/api/tenants/{tenant}/chat", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = ChatRequest,
    description = "One chat message. Sessions are issued by the server: send no `session_id` to start a conversation (the response carries the new one), then send that id back. A client-chosen id, another tenant's session or an internal one (a call's) is refused with 404 `session_not_found`. `client_time_zone` (the browser's IANA zone) is kept by the session: replies then show the client's time beside the clinic's; an unknown zone is 400 `invalid_client_time_zone`. `locale` (`en`, `es`) is the language the client chose; the response's `locale` is the language of the reply.",
    responses((status = 200, body = ChatResponse), (status = 400, body = ErrorBody),
              (status = 404, description = "tenant_not_found or session_not_found", body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn chat(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Result<Json<ChatResponse>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let zone = TimeZone::parse_client(req.client_time_zone.as_deref())?;
    let locale = match req.locale.as_deref() {
        None => None,
        Some(code) => Some(Locale::from_code(code).ok_or_else(|| {
            ApiError::bad_request("invalid_locale", "locale must be one of: en, es")
        })?),
    };
    state
        .budgets
        .chat_turn(req.session_id.as_deref(), ip)
        .await?;
    let (session, _) =
        sessions::accept_or_issue(state.pool(), tenant, req.session_id.as_deref()).await?;
    let agent = state
        .agent
        .with_booking(state.booking.clone())
        .for_client(&state.budgets, ip)
        .with_client_time_zone(zone)
        .with_locale(locale);
    let turn = agent
        .handle_turn(tenant, &session, "rest", &req.message, None)
        .await
        .map_err(agent_error)?;
    let pushes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = pushes.clone();
    let delivered =
        deliver_pending_pushes(state.pool(), tenant, &session, move |m: ServerMessage| {
            let ok = serde_json::to_value(&m)
                .map(|v| sink.lock().map(|mut p| p.push(v)).is_ok())
                .unwrap_or(false);
            async move {
                if ok {
                    Ok(())
                } else {
                    Err(SendError::Failed("could not encode a push".into()))
                }
            }
        })
        .await;
    if let Err(e) = delivered {
        tracing::warn!(error = %e, "pending pushes not delivered");
    }
    let pushes = pushes.lock().map(|p| p.clone()).unwrap_or_default();
    Ok(Json(ChatResponse {
        session_id: turn.session_id,
        reply: turn.reply,
        events: turn
            .events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        pushes,
        engine: turn.engine.to_string(),
        locale: turn.locale.code().to_string(),
    }))
}
