//! Admin routes of the booking rules: a service's daily cap and minimum notice, a
//! resource's daily cap, the tenant's self-service cut-off, and staff's cancel (which may
//! pass the cut-off; audited).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use gomomo::domain::ReferenceCode;
use gomomo::http::{ApiError, ApiJson, ApiPath};
use gomomo::services::booking::schedule::ServiceRules;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{tenant_id, uuid_field};
use crate::auth::tenant_admin;
use crate::dto::{BookingView, ErrorBody};
use crate::AppState;

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ServiceRulesBody {
    /// At most this many confirmed bookings of the service on one local day (1–1000;
    /// null: no cap).
    #[schema(minimum = 1, maximum = 1000, example = 8)]
    pub max_per_day: Option<i32>,
    /// The service's minimum notice in minutes (0–43200; null: the tenant's).
    #[schema(minimum = 0, maximum = 43200, example = 120)]
    pub min_notice_minutes: Option<i32>,
    /// Minutes kept free before / after a booking of the service (0–240; null: the
    /// tenant's buffer). Between two bookings the larger of the first's "after" and the
    /// second's "before" is kept.
    #[schema(minimum = 0, maximum = 240, example = 10)]
    pub buffer_before_minutes: Option<i32>,
    #[schema(minimum = 0, maximum = 240, example = 15)]
    pub buffer_after_minutes: Option<i32>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct ResourceRulesBody {
    /// At most this many confirmed bookings of the resource on one local day (1–1000;
    /// null: no cap).
    #[schema(minimum = 1, maximum = 1000, example = 8)]
    pub max_per_day: Option<i32>,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct TenantRulesBody {
    /// Clients may cancel or move a booking by chat, SMS or the public API only until this
    /// many minutes before it starts (0–43200; 0: until it starts). Refusals are 409
    /// `change_cutoff_passed`; staff may still change it through the admin API.
    #[schema(minimum = 0, maximum = 43200, example = 1440)]
    pub self_service_cutoff_minutes: i32,
}

/// A service's booking rules.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/services/{service}/rules",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("service" = uuid::Uuid, Path, description = "A service's id", example = "6d0e0000-0000-4000-8000-0000000005e1")), security(("api_key" = [])),
    responses((status = 200, body = ServiceRulesBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "service_not_found", body = ErrorBody)))]
pub async fn get_service_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, service)): ApiPath<(String, String)>,
) -> Result<Json<ServiceRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let service = uuid_field("service_id", &service)?;
    let r = state.booking.service_rules(tenant, service).await?;
    Ok(Json(ServiceRulesBody {
        max_per_day: r.max_per_day,
        min_notice_minutes: r.min_notice_minutes,
        buffer_before_minutes: r.buffer_before_minutes,
        buffer_after_minutes: r.buffer_after_minutes,
    }))
}

/// Change a service's booking rules.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/services/{service}/rules",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("service" = uuid::Uuid, Path, description = "A service's id", example = "6d0e0000-0000-4000-8000-0000000005e1")), request_body = ServiceRulesBody, security(("api_key" = [])),
    description = "Replaces the service's booking rules (a field left out or null: no cap / the tenant's notice). Audited as `service.rules_updated`.",
    responses((status = 200, body = ServiceRulesBody), (status = 400, description = "invalid_max_per_day, invalid_min_notice_minutes", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "service_not_found", body = ErrorBody)))]
pub async fn put_service_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, service)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ServiceRulesBody>,
) -> Result<Json<ServiceRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let service = uuid_field("service_id", &service)?;
    let r = state
        .booking
        .set_service_rules(
            tenant,
            service,
            ServiceRules {
                max_per_day: req.max_per_day,
                min_notice_minutes: req.min_notice_minutes,
                buffer_before_minutes: req.buffer_before_minutes,
                buffer_after_minutes: req.buffer_after_minutes,
            },
        )
        .await?;
    Ok(Json(ServiceRulesBody {
        max_per_day: r.max_per_day,
        min_notice_minutes: r.min_notice_minutes,
        buffer_before_minutes: r.buffer_before_minutes,
        buffer_after_minutes: r.buffer_after_minutes,
    }))
}

/// A resource's booking rules.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/resources/{resource}/rules",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), security(("api_key" = [])),
    responses((status = 200, body = ResourceRulesBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn get_resource_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
) -> Result<Json<ResourceRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    let max_per_day = state.booking.resource_cap(tenant, resource).await?;
    Ok(Json(ResourceRulesBody { max_per_day }))
}

/// Change a resource's booking rules.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/resources/{resource}/rules",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), request_body = ResourceRulesBody, security(("api_key" = [])),
    description = "Replaces the resource's daily cap (null: none). Audited as `resource.rules_updated`.",
    responses((status = 200, body = ResourceRulesBody), (status = 400, description = "invalid_max_per_day", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn put_resource_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ResourceRulesBody>,
) -> Result<Json<ResourceRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    let max_per_day = state
        .booking
        .set_resource_cap(tenant, resource, req.max_per_day)
        .await?;
    Ok(Json(ResourceRulesBody { max_per_day }))
}

/// The tenant's self-service rules.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/rules", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = TenantRulesBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_tenant_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<TenantRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let sched = state.booking.schedule(tenant).await?;
    Ok(Json(TenantRulesBody {
        self_service_cutoff_minutes: sched.tenant.self_service_cutoff_minutes,
    }))
}

/// Change the tenant's self-service rules.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/rules", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = TenantRulesBody,
    security(("api_key" = [])),
    description = "Sets the tenant's self-service cut-off. Audited as `tenant.rules_updated`.",
    responses((status = 200, body = TenantRulesBody), (status = 400, description = "invalid_self_service_cutoff_minutes", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_tenant_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<TenantRulesBody>,
) -> Result<Json<TenantRulesBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let minutes = state
        .booking
        .set_self_service_cutoff(tenant, req.self_service_cutoff_minutes)
        .await?;
    Ok(Json(TenantRulesBody {
        self_service_cutoff_minutes: minutes,
    }))
}

/// Cancel a booking as staff.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/bookings/{reference}/cancel",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), security(("api_key" = [])),
    description = "Staff cancel a booking by its reference. The self-service cut-off does not apply; passing it is audited as `booking.rule_overridden`.",
    responses((status = 200, body = BookingView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "booking_not_found", body = ErrorBody)))]
pub async fn admin_cancel_booking(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
) -> Result<Json<BookingView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let reference = ReferenceCode::parse(&reference)?;
    let appt = state.booking.admin_cancel(tenant, &reference).await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(BookingView::new(appt, tz)))
}
