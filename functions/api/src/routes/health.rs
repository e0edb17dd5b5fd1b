//! `GET /api/admin/tenants/{tenant}/delivery-health`: the tenant's messages that should have
//! left and did not — the same counts as the scheduler's `UndeliveredNotifications` metric
//! and `gomomo status` (all three read [`DeliveryHealth`]).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use gomomo::http::{ApiError, ApiPath};
use gomomo::services::delivery::health::{
    DeliveryHealth, TenantHealth, FAILED_WINDOW, OVERDUE_GRACE,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::tenant_id;
use crate::auth::tenant_admin;
use crate::dto::ErrorBody;
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct DeliveryHealthView {
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Uuid,
    /// `failed + overdue + jobs_overdue + jobs_failed`; 0 when everything due has left.
    #[schema(example = 0)]
    pub undelivered: u64,
    /// Notifications that gave up (out of attempts or refused) within `failed_window_seconds`.
    #[schema(example = 0)]
    pub failed: u64,
    /// Notifications still queued more than `overdue_grace_seconds` after they were due.
    #[schema(example = 0)]
    pub overdue: u64,
    /// Jobs (reminders, confirmations, …) still waiting more than `overdue_grace_seconds`
    /// after their run time.
    #[schema(example = 0)]
    pub jobs_overdue: u64,
    /// Jobs that would have queued a message and gave up within `failed_window_seconds`.
    #[schema(example = 0)]
    pub jobs_failed: u64,
    /// How long ago the oldest overdue notification or job was due; null when none is.
    #[schema(minimum = 0, example = 420)]
    pub oldest_overdue_seconds: Option<i64>,
    #[schema(example = 300)]
    pub overdue_grace_seconds: i64,
    #[schema(example = 86400)]
    pub failed_window_seconds: i64,
}

impl From<TenantHealth> for DeliveryHealthView {
    fn from(h: TenantHealth) -> Self {
        Self {
            tenant_id: h.tenant_id,
            undelivered: h.undelivered,
            failed: h.failed,
            overdue: h.overdue,
            jobs_overdue: h.jobs_overdue,
            jobs_failed: h.jobs_failed,
            oldest_overdue_seconds: h.oldest_overdue_seconds,
            overdue_grace_seconds: OVERDUE_GRACE.num_seconds(),
            failed_window_seconds: FAILED_WINDOW.num_seconds(),
        }
    }
}

/// Messages due but not delivered.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/delivery-health", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    responses((status = 200, body = DeliveryHealthView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn delivery_health(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<DeliveryHealthView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let health = DeliveryHealth::new(state.pool().clone(), state.booking.clock().clone())
        .tenant(tenant)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(health.into()))
}
