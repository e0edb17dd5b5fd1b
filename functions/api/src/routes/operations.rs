//! Notifications (and sending a failed one again), the waitlist, the admin email that
//! escalations go to, and the phone numbers that reach the tenant.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use gomomo::db::calls::PhoneNumberRow;
use gomomo::db::notifications::{NotificationAdminRow, NotificationStatus};
use gomomo::db::waitlist::{self, WaitlistAdminRow, WaitlistStatus};
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use gomomo::services::operations::{self, OpsError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{tenant_id, uuid_field};
use crate::auth::{tenant_admin, tenant_owner};
use crate::dto::ErrorBody;
use crate::AppState;

fn ops_error(e: OpsError) -> ApiError {
    match e {
        OpsError::Invalid(p) => p.into(),
        OpsError::TenantNotFound => ApiError::not_found("tenant_not_found", e.to_string()),
        OpsError::NotificationNotFound => {
            ApiError::not_found("notification_not_found", e.to_string())
        }
        OpsError::NotificationNotFailed(_) => ApiError::new(
            StatusCode::CONFLICT,
            "notification_not_failed",
            e.to_string(),
        ),
        OpsError::NumberTaken => ApiError::new(StatusCode::CONFLICT, "number_taken", e.to_string()),
        OpsError::NumberNotFound => ApiError::not_found("number_not_found", e.to_string()),
        OpsError::Database(_) => ApiError::internal(&e),
    }
}

fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    let n = raw.unwrap_or(100);
    if !(1..=500).contains(&n) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1 to 500",
        ));
    }
    Ok(n)
}

/// A notification's delivery state.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationState {
    Queued,
    Sent,
    Failed,
    Skipped,
}

impl From<NotificationState> for NotificationStatus {
    fn from(s: NotificationState) -> Self {
        match s {
            NotificationState::Queued => NotificationStatus::Queued,
            NotificationState::Sent => NotificationStatus::Sent,
            NotificationState::Failed => NotificationStatus::Failed,
            NotificationState::Skipped => NotificationStatus::Skipped,
        }
    }
}

impl From<NotificationStatus> for NotificationState {
    fn from(s: NotificationStatus) -> Self {
        match s {
            NotificationStatus::Queued => NotificationState::Queued,
            NotificationStatus::Sent => NotificationState::Sent,
            NotificationStatus::Failed => NotificationState::Failed,
            NotificationStatus::Skipped => NotificationState::Skipped,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationsQuery {
    pub status: Option<NotificationState>,
    /// Only the messages about this booking (its id).
    #[param(example = "b0060af7-bf5b-4556-83d4-534876175db1")]
    pub booking_id: Option<Uuid>,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct NotificationView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    /// `email` or `sms`.
    #[schema(example = "email")]
    pub channel: String,
    /// confirmation, reminder_24h, cancellation, waitlist_match, …
    #[schema(example = "reminder_24h")]
    pub kind: String,
    /// The email address or E.164 number it goes to.
    #[schema(example = "ana@example.com")]
    pub recipient: String,
    /// Emails only.
    #[schema(example = "Your appointment tomorrow at 9:00")]
    pub subject: Option<String>,
    #[schema(example = "Hi Ana, a reminder of your consultation tomorrow at 9:00.")]
    pub body: String,
    pub status: NotificationState,
    #[schema(minimum = 0, example = 1)]
    pub attempts: i32,
    #[schema(minimum = 1, example = 5)]
    pub max_attempts: i32,
    #[schema(example = "b0060af7-bf5b-4556-83d4-534876175db1")]
    pub booking_id: Option<Uuid>,
    #[schema(example = "SMTP 451: try again later")]
    pub last_error: Option<String>,
    #[schema(example = "2026-12-01T14:10:00Z")]
    pub next_attempt_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub sent_at: Option<DateTime<Utc>>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<NotificationAdminRow> for NotificationView {
    fn from(r: NotificationAdminRow) -> Self {
        Self {
            id: r.id,
            channel: r.channel,
            kind: r.kind,
            recipient: r.recipient,
            subject: r.subject,
            body: r.body,
            status: r.status.into(),
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            booking_id: r.booking_id,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at,
            created_at: r.created_at,
            sent_at: r.sent_at,
            failed_at: r.failed_at,
        }
    }
}

/// Notifications, newest first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/notifications",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), NotificationsQuery), security(("api_key" = [])),
    responses((status = 200, body = [NotificationView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_notifications(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<NotificationsQuery>,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = gomomo::db::notifications::list_admin(
        state.pool(),
        tenant.0,
        q.status.map(Into::into),
        q.booking_id,
        limit(q.limit)?,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Send a failed notification again.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/notifications/{notification}/retry",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("notification" = uuid::Uuid, Path, description = "A notification's id", example = "0cfd653d-5d3e-4e9f-8bb6-44523d77971d")),
    security(("api_key" = [])),
    responses((status = 200, body = NotificationView, description = "queued again, due now"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "notification_not_found"),
        (status = 409, body = ErrorBody, description = "notification_not_failed")))]
pub async fn retry_notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, notification)): ApiPath<(String, String)>,
) -> Result<Json<NotificationView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let id = uuid_field("notification", &notification)?;
    tenant_admin(&state, &headers, tenant).await?;
    let now = state.booking.clock().now();
    let row = operations::retry_notification(state.pool(), tenant.0, id, now)
        .await
        .map_err(ops_error)?;
    Ok(Json(row.into()))
}

/// A waitlist entry's state.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitlistState {
    Waiting,
    Offered,
    Booked,
    Expired,
    Cancelled,
}

impl From<WaitlistState> for WaitlistStatus {
    fn from(s: WaitlistState) -> Self {
        match s {
            WaitlistState::Waiting => WaitlistStatus::Waiting,
            WaitlistState::Offered => WaitlistStatus::Offered,
            WaitlistState::Booked => WaitlistStatus::Booked,
            WaitlistState::Expired => WaitlistStatus::Expired,
            WaitlistState::Cancelled => WaitlistStatus::Cancelled,
        }
    }
}

impl From<WaitlistStatus> for WaitlistState {
    fn from(s: WaitlistStatus) -> Self {
        match s {
            WaitlistStatus::Waiting => WaitlistState::Waiting,
            WaitlistStatus::Offered => WaitlistState::Offered,
            WaitlistStatus::Booked => WaitlistState::Booked,
            WaitlistStatus::Expired => WaitlistState::Expired,
            WaitlistStatus::Cancelled => WaitlistState::Cancelled,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitlistQuery {
    pub status: Option<WaitlistState>,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

/// The part of the day a waitlist entry asks for.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeOfDay {
    Morning,
    Afternoon,
    Evening,
}

#[derive(Serialize, ToSchema)]
pub struct WaitlistEntryView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(example = "b0dc1e29-85b3-48b1-80ee-0dd7baca7034")]
    pub service_id: Option<Uuid>,
    #[schema(example = "2026-12-08")]
    pub preferred_from: Option<NaiveDate>,
    #[schema(example = "2026-12-12")]
    pub preferred_to: Option<NaiveDate>,
    /// `morning`, `afternoon`, `evening`, or null for any time.
    #[schema(value_type = Option<TimeOfDay>)]
    pub time_of_day: Option<String>,
    #[schema(example = "Ana Pérez")]
    pub client_name: Option<String>,
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub client_email: Option<String>,
    /// E.164.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub client_phone: Option<String>,
    pub status: WaitlistState,
    /// While `offered`: until when the time is held for this entry.
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub offer_expires_at: Option<DateTime<Utc>>,
    #[schema(example = "f00a5d72-0deb-478f-89a5-486de7588aad")]
    pub booked_appointment_id: Option<Uuid>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
}

impl From<WaitlistAdminRow> for WaitlistEntryView {
    fn from(r: WaitlistAdminRow) -> Self {
        Self {
            id: r.id,
            service_id: r.service_id,
            preferred_from: r.preferred_from,
            preferred_to: r.preferred_to,
            time_of_day: r.time_of_day,
            client_name: r.client_name,
            client_email: r.client_email,
            client_phone: r.client_phone,
            status: r.status.into(),
            offer_expires_at: r.offer_expires_at,
            booked_appointment_id: r.booked_appointment_id,
            created_at: r.created_at,
        }
    }
}

/// The waitlist, oldest first (the order offers go in).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/waitlist",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), WaitlistQuery), security(("api_key" = [])),
    responses((status = 200, body = [WaitlistEntryView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_waitlist(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<WaitlistQuery>,
) -> Result<Json<Vec<WaitlistEntryView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = waitlist::list_admin(
        state.pool(),
        tenant.0,
        q.status.map(Into::into),
        limit(q.limit)?,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AdminEmailBody {
    /// Where escalations go (calendar retries run out, a client asks for a person); null
    /// or empty: none (the client is told, the escalation is audited).
    #[schema(
        format = "email",
        max_length = 254,
        example = "frontdesk@clinic.example"
    )]
    pub admin_email: Option<String>,
}

/// Where escalations go.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/admin-email",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = AdminEmailBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_admin_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<AdminEmailBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let admin_email = operations::admin_email(state.pool(), tenant.0)
        .await
        .map_err(ops_error)?;
    Ok(Json(AdminEmailBody { admin_email }))
}

/// Set where escalations go (owners only).
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/admin-email",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = AdminEmailBody,
    security(("api_key" = [])),
    responses((status = 200, body = AdminEmailBody), (status = 400, body = ErrorBody, description = "invalid_email"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_required")))]
pub async fn put_admin_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<AdminEmailBody>,
) -> Result<Json<AdminEmailBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    let admin_email =
        operations::set_admin_email(state.pool(), tenant.0, req.admin_email.as_deref())
            .await
            .map_err(ops_error)?;
    Ok(Json(AdminEmailBody { admin_email }))
}

#[derive(Serialize, ToSchema)]
pub struct PhoneNumberView {
    /// E.164.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+18005550100")]
    pub phone_number: String,
    #[schema(example = true)]
    pub voice_enabled: bool,
    #[schema(example = true)]
    pub sms_enabled: bool,
}

impl From<PhoneNumberRow> for PhoneNumberView {
    fn from(r: PhoneNumberRow) -> Self {
        Self {
            phone_number: r.phone_number,
            voice_enabled: r.voice_enabled,
            sms_enabled: r.sms_enabled,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneNumberRequest {
    /// Answer calls on this number (default true).
    #[schema(example = true)]
    pub voice_enabled: Option<bool>,
    /// Answer and send texts on this number (default true).
    #[schema(example = true)]
    pub sms_enabled: Option<bool>,
}

/// The phone numbers that reach the tenant.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/phone-numbers",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = [PhoneNumberView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_numbers(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<PhoneNumberView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = operations::numbers(state.pool(), tenant.0)
        .await
        .map_err(ops_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Attach a Twilio number, or change its channels (owners only).
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/phone-numbers/{number}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"),
        ("number" = String, Path, description = "E.164, e.g. +18005550100", pattern = r"^\+[1-9][0-9]{7,14}$", example = "+18005550100")),
    request_body = PhoneNumberRequest, security(("api_key" = [])),
    responses((status = 200, body = PhoneNumberView), (status = 400, body = ErrorBody, description = "invalid_phone"),
        (status = 403, body = ErrorBody, description = "owner_required"),
        (status = 409, body = ErrorBody, description = "number_taken: another tenant has it")))]
pub async fn put_number(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, number)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<PhoneNumberRequest>,
) -> Result<Json<PhoneNumberView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    let row = operations::attach_number(
        state.pool(),
        tenant.0,
        &number,
        req.voice_enabled.unwrap_or(true),
        req.sms_enabled.unwrap_or(true),
    )
    .await
    .map_err(ops_error)?;
    Ok(Json(row.into()))
}

/// Detach a number (owners only).
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/phone-numbers/{number}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"),
        ("number" = String, Path, description = "E.164, e.g. +18005550100", pattern = r"^\+[1-9][0-9]{7,14}$", example = "+18005550100")),
    security(("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody, description = "owner_required"),
        (status = 404, body = ErrorBody, description = "number_not_found")))]
pub async fn delete_number(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, number)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    operations::detach_number(state.pool(), tenant.0, &number)
        .await
        .map_err(ops_error)?;
    Ok(StatusCode::NO_CONTENT)
}
