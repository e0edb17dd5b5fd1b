//! Privacy routes (tenant admin key): export or erase one client's data, the client named by
//! email and/or phone in the JSON body (never in the URL, which proxies and logs keep).
//! Both are audited with the key that asked and the counts, never the contact itself.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use gomomo::http::{ApiError, ApiJson, ApiPath};
use gomomo::services::privacy::{self, ClientIdentity, ErasureCounts};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::tenant_id;
use crate::auth::tenant_admin;
use crate::dto::ErrorBody;
use crate::AppState;

/// The client: an email address, an E.164 phone number, or both (at least one). Their
/// bookings and waitlist entries bring the other contact along.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: Option<String>,
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub phone: Option<String>,
}

/// Everything kept about the client at this tenant, one list of JSON objects per kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientExportView {
    /// Bookings (reference, slot, status, contact fields, notes).
    #[schema(value_type = Vec<Object>)]
    pub bookings: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub waitlist_entries: Vec<Value>,
    /// Emails and texts sent or queued to the client.
    #[schema(value_type = Vec<Object>)]
    pub notifications: Vec<Value>,
    /// Follow-up contacts the client asked for in a chat.
    #[schema(value_type = Vec<Object>)]
    pub followups: Vec<Value>,
    /// Chat sessions still kept (within the retention period), with their messages.
    #[schema(value_type = Vec<Object>)]
    pub chat_sessions: Vec<Value>,
    /// Calls still kept, with their transcripts.
    #[schema(value_type = Vec<Object>)]
    pub calls: Vec<Value>,
    /// Inbound texts still kept (what each asked for and the reply sent).
    #[schema(value_type = Vec<Object>)]
    pub sms_messages: Vec<Value>,
    /// The SMS consent of each of the client's numbers at this tenant.
    #[schema(value_type = Vec<Object>)]
    pub sms_opt_outs: Vec<Value>,
}

/// What the erasure changed (0 everywhere when the client was already erased).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureView {
    #[schema(example = 1)]
    pub bookings_anonymised: u64,
    #[schema(example = 0)]
    pub jobs_cancelled: u64,
    #[schema(example = 0)]
    pub waitlist_entries_deleted: u64,
    #[schema(example = 0)]
    pub followups_deleted: u64,
    #[schema(example = 0)]
    pub notifications_deleted: u64,
    #[schema(example = 0)]
    pub notifications_redacted: u64,
    #[schema(example = 0)]
    pub chat_sessions_deleted: u64,
    #[schema(example = 0)]
    pub calls_deleted: u64,
    #[schema(example = 0)]
    pub handoff_tokens_deleted: u64,
    #[schema(example = 0)]
    pub sms_records_deleted: u64,
    /// The client's numbers kept opted out (as digests: never texted again).
    #[schema(example = 1)]
    pub opt_outs_kept: u64,
    #[schema(example = 0)]
    pub audit_rows_redacted: u64,
    #[schema(example = 0)]
    pub other_rows_redacted: u64,
    #[schema(example = 0)]
    pub other_rows_deleted: u64,
}

impl From<ErasureCounts> for ErasureView {
    fn from(c: ErasureCounts) -> Self {
        Self {
            bookings_anonymised: c.bookings_anonymised,
            jobs_cancelled: c.jobs_cancelled,
            waitlist_entries_deleted: c.waitlist_entries_deleted,
            followups_deleted: c.followups_deleted,
            notifications_deleted: c.notifications_deleted,
            notifications_redacted: c.notifications_redacted,
            chat_sessions_deleted: c.chat_sessions_deleted,
            calls_deleted: c.calls_deleted,
            handoff_tokens_deleted: c.handoff_tokens_deleted,
            sms_records_deleted: c.sms_records_deleted,
            opt_outs_kept: c.opt_outs_kept,
            audit_rows_redacted: c.audit_rows_redacted,
            other_rows_redacted: c.other_rows_redacted,
            other_rows_deleted: c.other_rows_deleted,
        }
    }
}

fn identity(req: &ClientRequest) -> Result<ClientIdentity, ApiError> {
    Ok(ClientIdentity::parse(
        req.email.as_deref(),
        req.phone.as_deref(),
    )?)
}

/// Export one client's data.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/privacy/export", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = ClientRequest, security(("api_key" = [])),
    responses((status = 200, body = ClientExportView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn export_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ClientRequest>,
) -> Result<Json<ClientExportView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let requester = tenant_admin(&state, &headers, tenant).await?;
    let who = identity(&req)?;
    let out = privacy::export(state.pool(), tenant, &who, &requester)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(ClientExportView {
        bookings: out.bookings,
        waitlist_entries: out.waitlist_entries,
        notifications: out.notifications,
        followups: out.followups,
        chat_sessions: out.chat_sessions,
        calls: out.calls,
        sms_messages: out.sms_messages,
        sms_opt_outs: out.sms_opt_outs,
    }))
}

/// Erase one client's data.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/privacy/erase", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = ClientRequest, security(("api_key" = [])),
    responses((status = 200, body = ErasureView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody)))]
pub async fn erase_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ClientRequest>,
) -> Result<Json<ErasureView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let requester = tenant_admin(&state, &headers, tenant).await?;
    let who = identity(&req)?;
    let now = state.booking.clock().now();
    let counts = privacy::erase(state.pool(), tenant, &who, &requester, now)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(counts.into()))
}
