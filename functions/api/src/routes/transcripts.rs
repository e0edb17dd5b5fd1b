//! Call and chat transcripts: listed, and read with emails and phone numbers redacted;
//! `?unredacted=true` is for owners only and is audited.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::db::calls::CallSummaryRow;
use gomomo::db::chat::ChatSummaryRow;
use gomomo::http::{ApiError, ApiPath, ApiQuery};
use gomomo::services::transcripts::{self, Line, TranscriptError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::tenant_id;
use crate::auth::tenant_admin;
use crate::dto::ErrorBody;
use crate::AppState;

fn transcript_error(e: TranscriptError) -> ApiError {
    match e {
        TranscriptError::OwnerRequired => ApiError::forbidden("owner_required", e.to_string()),
        TranscriptError::CallNotFound => ApiError::not_found("call_not_found", e.to_string()),
        TranscriptError::ChatNotFound => ApiError::not_found("chat_not_found", e.to_string()),
        TranscriptError::Database(_) => ApiError::internal(&e),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1–500 (default 50).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// Owners only: the text as it was said (the reading is audited).
    #[param(example = false)]
    pub unredacted: Option<bool>,
}

fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    let n = raw.unwrap_or(50);
    if !(1..=500).contains(&n) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1 to 500",
        ));
    }
    Ok(n)
}

#[derive(Serialize, ToSchema)]
pub struct CallView {
    /// The telephony provider's id of the call.
    #[schema(max_length = 64, example = "CA0123456789abcdef0123456789abcdef")]
    pub call_sid: String,
    /// The caller's number: only its last two digits unless read unredacted.
    #[schema(example = "•••23")]
    pub from_number: String,
    /// The tenant's number that was called (E.164).
    #[schema(example = "+18005550100")]
    pub to_number: String,
    /// active, ended or rejected.
    #[schema(value_type = CallStatus)]
    pub status: String,
    #[schema(minimum = 0, example = 6)]
    pub turn_count: i32,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub started_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Why the call ended, when it has.
    #[schema(example = "completed_by_agent")]
    pub end_reason: Option<String>,
}

/// Where a call stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Active,
    Ended,
    /// Refused when it came in (too many calls at once).
    Rejected,
}

/// Who said a line.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Caller,
    Client,
    Agent,
}

impl CallView {
    fn new(c: CallSummaryRow, unredacted: bool) -> Self {
        Self {
            from_number: if unredacted {
                c.from_number
            } else {
                transcripts::mask_number(&c.from_number)
            },
            call_sid: c.call_sid,
            to_number: c.to_number,
            status: c.status,
            turn_count: c.turn_count,
            started_at: c.started_at,
            ended_at: c.ended_at,
            end_reason: c.end_reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LineView {
    /// `caller` or `agent` on a call; `client` or `agent` in a chat.
    #[schema(value_type = Speaker)]
    pub speaker: String,
    /// Emails and phone numbers scrubbed out unless read unredacted.
    #[schema(example = "I'd like to move my appointment to Friday.")]
    pub text: String,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub at: Option<DateTime<Utc>>,
}

impl From<Line> for LineView {
    fn from(l: Line) -> Self {
        Self {
            speaker: l.speaker,
            text: l.text,
            at: l.at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CallTranscriptView {
    pub call: CallView,
    pub lines: Vec<LineView>,
    #[schema(example = true)]
    pub redacted: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ChatView {
    /// Stands for the chat (the session id itself is the client's secret and is not shown).
    #[schema(
        pattern = "^[0-9a-f]{32}$",
        example = "9f86d081884c7d659a2feaa0c55ad015"
    )]
    pub handle: String,
    /// web, rest, voice or sms: where the chat started.
    #[schema(example = "web")]
    pub channel: String,
    #[schema(minimum = 0, example = 8)]
    pub messages: i64,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<ChatSummaryRow> for ChatView {
    fn from(c: ChatSummaryRow) -> Self {
        Self {
            handle: c.handle,
            channel: c.channel,
            messages: c.messages,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChatTranscriptView {
    pub chat: ChatView,
    pub lines: Vec<LineView>,
    #[schema(example = true)]
    pub redacted: bool,
}

/// Calls, newest first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/calls",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ListQuery), security(("api_key" = [])),
    responses((status = 200, body = [CallView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_calls(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<CallView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = transcripts::calls(state.pool(), tenant.0, limit(q.limit)?)
        .await
        .map_err(transcript_error)?;
    Ok(Json(
        rows.into_iter().map(|c| CallView::new(c, false)).collect(),
    ))
}

/// A call's transcript (redacted unless an owner asks otherwise).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/calls/{call_sid}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"),
        ("call_sid" = String, Path, description = "Twilio's CallSid", min_length = 1, max_length = 64, example = "CA0123456789abcdef0123456789abcdef"),
        ReadQuery),
    security(("api_key" = [])),
    responses((status = 200, body = CallTranscriptView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "owner_required (unredacted)"),
        (status = 404, body = ErrorBody, description = "call_not_found")))]
pub async fn get_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, call_sid)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> Result<Json<CallTranscriptView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let by = tenant_admin(&state, &headers, tenant).await?;
    if call_sid.is_empty() || call_sid.len() > 64 {
        return Err(ApiError::not_found("call_not_found", "no such call"));
    }
    let unredacted = q.unredacted.unwrap_or(false);
    let (call, lines) = transcripts::call(state.pool(), &by, &call_sid, unredacted)
        .await
        .map_err(transcript_error)?;
    Ok(Json(CallTranscriptView {
        call: CallView::new(call, unredacted),
        lines: lines.into_iter().map(Into::into).collect(),
        redacted: !unredacted,
    }))
}

/// Chats with messages, most recently active first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/chats",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ListQuery), security(("api_key" = [])),
    responses((status = 200, body = [ChatView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_chats(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ChatView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = transcripts::chats(state.pool(), tenant.0, limit(q.limit)?)
        .await
        .map_err(transcript_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// A chat's transcript (redacted unless an owner asks otherwise).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/chats/{handle}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"),
        ("handle" = String, Path, description = "The chat's handle from the list", pattern = "^[0-9a-f]{32}$", example = "9f86d081884c7d659a2feaa0c55ad015"),
        ReadQuery),
    security(("api_key" = [])),
    responses((status = 200, body = ChatTranscriptView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "owner_required (unredacted)"),
        (status = 404, body = ErrorBody, description = "chat_not_found")))]
pub async fn get_chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, handle)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> Result<Json<ChatTranscriptView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let by = tenant_admin(&state, &headers, tenant).await?;
    if handle.len() != 32 || !handle.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "chat_not_found",
            "no such chat",
        ));
    }
    let unredacted = q.unredacted.unwrap_or(false);
    let (chat, lines) =
        transcripts::chat(state.pool(), &by, &handle.to_ascii_lowercase(), unredacted)
            .await
            .map_err(transcript_error)?;
    Ok(Json(ChatTranscriptView {
        chat: chat.into(),
        lines: lines.into_iter().map(Into::into).collect(),
        redacted: !unredacted,
    }))
}
