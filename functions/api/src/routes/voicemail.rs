//! A person to hand calls over to (the transfer and staff numbers) and the voicemails callers
//! left.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::db::voicemail::{HandoverRow, VoicemailRow};
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use gomomo::services::voice::transfer::{self, HandoverError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::tenant_id;
use crate::auth::{tenant_admin, tenant_owner};
use crate::dto::ErrorBody;
use crate::AppState;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PhoneHandover {
    /// Where a call is transferred (`<Dial>`) when the caller asks for a person or the call
    /// reaches its limits; E.164. `null` or `""`: no transfers (a caller who asks for a
    /// person leaves a voicemail).
    #[schema(example = "+15555550100", max_length = 16)]
    pub transfer_number: Option<String>,
    /// Where the staff is texted: the summary of a transferred call, a new voicemail; E.164,
    /// may be the same number. `null` or `""`: no texts (voicemails still go to the admin
    /// email).
    #[schema(example = "+15555550100", max_length = 16)]
    pub staff_number: Option<String>,
}

impl From<HandoverRow> for PhoneHandover {
    fn from(r: HandoverRow) -> Self {
        Self {
            transfer_number: r.transfer_number,
            staff_number: r.staff_number,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct VoicemailView {
    #[schema(example = "3f6c1a2b-8d4e-4f7a-9b0c-1d2e3f4a5b6c")]
    pub id: Uuid,
    #[schema(example = "CA0123456789abcdef0123456789abcdef")]
    pub call_sid: String,
    #[schema(example = "RE0123456789abcdef0123456789abcdef")]
    pub recording_sid: String,
    /// The caller's number (caller ID).
    #[schema(example = "+15555550123")]
    pub caller_number: String,
    /// The recording at Twilio (fetched with the account's credentials).
    #[schema(
        format = "uri",
        max_length = 500,
        example = "https://api.twilio.com/2010-04-01/Accounts/AC0123/Recordings/RE0123"
    )]
    pub recording_url: Option<String>,
    /// The recording's length in seconds.
    #[schema(example = 14)]
    pub duration_seconds: Option<i32>,
    /// Why the caller reached voicemail: `asked` (for a person), `misunderstood`,
    /// `time_limit`.
    #[schema(example = "asked")]
    pub reason: String,
    /// The transfer's outcome when one was tried first: `busy`, `no-answer`, `failed`,
    /// `canceled`.
    #[schema(example = "no-answer")]
    pub dial_status: Option<String>,
    /// The call's language (`en`, `es`).
    #[schema(example = "en")]
    pub locale: String,
    /// What the caller said, as Twilio transcribed it (English calls), up to 10000
    /// characters.
    #[schema(
        max_length = 10000,
        example = "Hi, this is Ana, please call me back about Thursday."
    )]
    pub transcription: Option<String>,
    /// `requested`, `completed`, `failed`, or `not_offered` (Twilio transcribes English
    /// only).
    #[schema(example = "completed")]
    pub transcription_status: Option<String>,
    #[schema(example = "2026-12-01T14:05:12Z")]
    pub created_at: DateTime<Utc>,
    /// When the transcription arrived.
    #[schema(example = "2026-12-01T14:06:40Z")]
    pub transcribed_at: Option<DateTime<Utc>>,
}

impl From<VoicemailRow> for VoicemailView {
    fn from(r: VoicemailRow) -> Self {
        Self {
            id: r.id,
            call_sid: r.call_sid,
            recording_sid: r.recording_sid,
            caller_number: r.caller_number,
            recording_url: r.recording_url,
            duration_seconds: r.duration_seconds,
            reason: r.reason,
            dial_status: r.dial_status,
            locale: r.locale,
            transcription: r.transcription,
            transcription_status: r.transcription_status,
            created_at: r.created_at,
            transcribed_at: r.transcribed_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VoicemailQuery {
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

fn handover_error(e: HandoverError) -> ApiError {
    match e {
        HandoverError::Invalid(p) => p.into(),
        HandoverError::TenantNotFound => {
            ApiError::not_found("tenant_not_found", "tenant not found")
        }
        HandoverError::Database(e) => ApiError::internal(&e),
    }
}

/// The numbers calls are handed over to.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/phone-handover", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    description = "The tenant's transfer number (a caller who asks for a person, or a call at its limits, is transferred there) and staff number (texted the call's summary and new voicemails). Both `null` until set.",
    responses((status = 200, body = PhoneHandover), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_phone_handover(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<PhoneHandover>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = transfer::handover_numbers(state.pool(), tenant)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(row.into()))
}

/// Set the numbers calls are handed over to.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/phone-handover", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = PhoneHandover, security(("api_key" = [])),
    description = "Sets both numbers (owners only), each in E.164 form (`+` and 8 to 15 digits) or `null`/`\"\"` to clear it. Audited as `tenant.phone_handover_set` (the numbers redacted).",
    responses((status = 200, body = PhoneHandover), (status = 400, description = "invalid_transfer_number, invalid_staff_number", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, description = "owner_required", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_phone_handover(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<PhoneHandover>,
) -> Result<Json<PhoneHandover>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    // Where calls go is an owner's decision, like the admin email.
    tenant_owner(&state, &headers, tenant).await?;
    let transfer_to = transfer::parse_number("transfer_number", req.transfer_number.as_deref())?;
    let staff = transfer::parse_number("staff_number", req.staff_number.as_deref())?;
    let row = transfer::set_handover_numbers(
        state.pool(),
        state.booking.clock().now(),
        tenant,
        transfer_to.as_ref(),
        staff.as_ref(),
    )
    .await
    .map_err(handover_error)?;
    Ok(Json(row.into()))
}

/// The voicemails callers left, newest first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/voicemails", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), VoicemailQuery),
    security(("api_key" = [])),
    description = "Each recording a caller left (after an unanswered transfer, or at once when the tenant has no transfer number): the caller's number, the recording's URL and length, why, and the transcription when Twilio offers one (English calls).",
    responses((status = 200, body = [VoicemailView]), (status = 400, description = "invalid_limit", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_voicemails(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<VoicemailQuery>,
) -> Result<Json<Vec<VoicemailView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1 to 500",
        ));
    }
    let rows = transfer::voicemails(state.pool(), tenant, limit)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
