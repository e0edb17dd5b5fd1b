//! Admin routes: behind `Authorization: Bearer <tenant API key>` (tenant creation behind the
//! platform key).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{Duration, NaiveDate, NaiveTime};
use gomomo::db::bookings::AppointmentStatus;
use gomomo::db::tenants::{self, HoursRow, TenantPatch};
use gomomo::domain::slots::local_to_utc;
use gomomo::domain::{ParseError, TimeZone};
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use gomomo::services::admin::{self, ServiceInput, TenantSettings};
use gomomo::services::sessions;
use uuid::Uuid;

use super::{date_field, tenant_id, uuid_field};
use crate::auth::{platform_admin, tenant_admin};
use crate::dto::*;
use crate::AppState;

/// Create a tenant (platform key); answers its first, owner API key.
#[utoipa::path(post, path = "/api/admin/tenants", request_body = CreateTenantRequest, security(("api_key" = [])),
    responses((status = 201, body = CreatedTenantView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateTenantRequest>,
) -> Result<(StatusCode, Json<CreatedTenantView>), ApiError> {
    platform_admin(&state, &headers)?;
    let settings = TenantSettings {
        name: admin::check_name("name", &req.name)?,
        time_zone: TimeZone::parse(&req.time_zone)?,
        slot_step_minutes: req.slot_step_minutes.unwrap_or(30),
        min_notice_minutes: req.min_notice_minutes.unwrap_or(60),
        max_days_ahead: req.max_days_ahead.unwrap_or(30),
        buffer_minutes: req.buffer_minutes.unwrap_or(0),
    };
    let created = admin::create_tenant(state.pool(), Uuid::new_v4(), &settings).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTenantView {
            tenant: created.tenant.into(),
            api_key: created.api_key,
        }),
    ))
}

/// Change a tenant's settings.
#[utoipa::path(patch, path = "/api/admin/tenants/{tenant}", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = UpdateTenantRequest,
    security(("api_key" = [])),
    responses((status = 200, body = TenantAdminView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_tenant(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateTenantRequest>,
) -> Result<Json<TenantAdminView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let patch = TenantPatch {
        name: req
            .name
            .as_deref()
            .map(|n| admin::check_name("name", n))
            .transpose()?,
        time_zone: req
            .time_zone
            .as_deref()
            .map(|z| TimeZone::parse(z).map(|z| z.name().to_string()))
            .transpose()?,
        slot_step_minutes: req.slot_step_minutes,
        min_notice_minutes: req.min_notice_minutes,
        max_days_ahead: req.max_days_ahead,
        buffer_minutes: req.buffer_minutes,
    };
    Ok(Json(
        admin::update_tenant(state.pool(), tenant, &patch)
            .await?
            .into(),
    ))
}

/// Add a service.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/services", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = ServiceRequest,
    security(("api_key" = [])),
    responses((status = 201, body = ServiceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ServiceRequest>,
) -> Result<(StatusCode, Json<ServiceView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = admin::upsert_service(state.pool(), tenant, None, &service_input(req)).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Change a service and the resources that do it.
#[utoipa::path(patch, path = "/api/admin/tenants/{tenant}/services/{service}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("service" = uuid::Uuid, Path, description = "A service's id", example = "6d0e0000-0000-4000-8000-0000000005e1")), request_body = ServiceRequest, security(("api_key" = [])),
    responses((status = 200, body = ServiceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, service)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ServiceRequest>,
) -> Result<Json<ServiceView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let service = uuid_field("service_id", &service)?;
    let row =
        admin::upsert_service(state.pool(), tenant, Some(service), &service_input(req)).await?;
    Ok(Json(row.into()))
}

fn service_input(req: ServiceRequest) -> ServiceInput {
    ServiceInput {
        name: req.name,
        description: req.description,
        duration_minutes: req.duration_minutes,
        active: req.active,
        resource_ids: req.resource_ids,
    }
}

/// List the staff and rooms.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/resources", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = [ResourceView]), (status = 401, body = ErrorBody)))]
pub async fn list_resources(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<ResourceView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = tenants::list_resources(state.pool(), tenant.0)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a staff member or a room.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/resources", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = ResourceRequest,
    security(("api_key" = [])),
    responses((status = 201, body = ResourceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn create_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ResourceRequest>,
) -> Result<(StatusCode, Json<ResourceView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = admin::upsert_resource(
        state.pool(),
        tenant,
        None,
        req.name.as_deref(),
        req.kind.as_deref(),
        req.active,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Change a resource.
#[utoipa::path(patch, path = "/api/admin/tenants/{tenant}/resources/{resource}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), request_body = ResourceRequest, security(("api_key" = [])),
    responses((status = 200, body = ResourceView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ResourceRequest>,
) -> Result<Json<ResourceView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    let row = admin::upsert_resource(
        state.pool(),
        tenant,
        Some(resource),
        req.name.as_deref(),
        req.kind.as_deref(),
        req.active,
    )
    .await?;
    Ok(Json(row.into()))
}

/// Replace the tenant's weekly hours.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/hours", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = HoursRequest,
    security(("api_key" = [])),
    responses((status = 200, body = [HoursView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn put_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<HoursRequest>,
) -> Result<Json<Vec<HoursView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let parse_time = |s: &str| {
        NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
            ApiError::from(ParseError::new(
                "hours",
                format!("{s:?} is not a time HH:MM"),
            ))
        })
    };
    let rows = req
        .hours
        .iter()
        .map(|h| {
            Ok(HoursRow {
                weekday: h.weekday,
                opens: parse_time(&h.opens)?,
                closes: parse_time(&h.closes)?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let saved = admin::replace_hours(state.pool(), tenant, &rows).await?;
    Ok(Json(saved.into_iter().map(Into::into).collect()))
}

/// The admin date window: `from` (default today) to `to` (default 30 days later), both
/// local dates of the tenant, `from` not after `to`.
pub(crate) fn date_window(
    today: NaiveDate,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = match from {
        None => today,
        Some(s) => date_field("from", Some(s))?,
    };
    let to = match to {
        None => from + Duration::days(30),
        Some(s) => date_field("to", Some(s))?,
    };
    if from > to {
        return Err(ApiError::bad_request("invalid_range", "from is after to"));
    }
    Ok((from, to))
}

/// List bookings between two local dates.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/bookings", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ListBookingsQuery),
    security(("api_key" = [])),
    responses((status = 200, body = BookingList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_bookings(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListBookingsQuery>,
) -> Result<Json<BookingList>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let sched = state.booking.schedule(tenant).await?;
    let today = sched.local_date(state.booking.clock().now());
    let (from, to) = date_window(today, q.from.as_deref(), q.to.as_deref())?;
    let status = q
        .status
        .as_deref()
        .map(str::parse::<AppointmentStatus>)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request("invalid_status", "status must be confirmed or cancelled")
        })?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be from 1 to 500",
        ));
    }
    let lo = local_to_utc(sched.tz, from, NaiveTime::MIN, true);
    let hi = local_to_utc(sched.tz, to + Duration::days(1), NaiveTime::MIN, true);
    let rows = state
        .booking
        .list_bookings(tenant, lo, hi, status, limit)
        .await?;
    Ok(Json(BookingList {
        bookings: rows
            .into_iter()
            .map(|a| BookingView::new(a, sched.tz))
            .collect(),
    }))
}

/// The web origins allowed to open the chat.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/widget-origins", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    description = "The browser origins allowed to open the chat widget's WebSocket for this tenant, besides the deployment's own (PUBLIC_BASE_URL). A socket opened from another origin is refused with 403 `origin_not_allowed`; clients that send no Origin (not browsers) are not limited.",
    responses((status = 200, body = WidgetOrigins), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_widget_origins(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<WidgetOrigins>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let widget_origins = sessions::widget_origins(state.pool(), tenant)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("tenant_not_found", "tenant not found"))?;
    Ok(Json(WidgetOrigins { widget_origins }))
}

/// Replace the web origins allowed to open the chat.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/widget-origins", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = WidgetOrigins, security(("api_key" = [])),
    description = "Replaces the tenant's widget origins: each `scheme://host[:port]` (no path; https only in production) or `*` for any; an empty list allows the deployment's own origin only.",
    responses((status = 200, body = WidgetOrigins), (status = 400, description = "invalid_widget_origins", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_widget_origins(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<WidgetOrigins>,
) -> Result<Json<WidgetOrigins>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let origins = sessions::parse_widget_origins(&req.widget_origins, state.production)?;
    if !sessions::set_widget_origins(state.pool(), tenant, &origins)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        return Err(ApiError::not_found("tenant_not_found", "tenant not found"));
    }
    Ok(Json(WidgetOrigins {
        widget_origins: origins,
    }))
}

/// The languages the receptionist speaks.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/languages", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    description = "The languages the tenant's receptionist speaks on every channel, its default first. The chat answers in the language a client writes or chooses (the widget's switch), a call offers the other language in its greeting (a key or a word switches), and a booking keeps its client's language for its confirmations, reminders and texts.",
    responses((status = 200, body = TenantLanguages), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_languages(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<TenantLanguages>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = tenants::get_tenant(state.pool(), tenant.0)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("tenant_not_found", "tenant not found"))?;
    Ok(Json(TenantLanguages {
        languages: row.locales().into_iter().map(Into::into).collect(),
    }))
}

/// Replace the languages the receptionist speaks.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/languages", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = TenantLanguages, security(("api_key" = [])),
    description = "Replaces the tenant's languages: at least one, no repeats, the first is the default (what a call and a chat start in). Bookings keep the language they were made in.",
    responses((status = 200, body = TenantLanguages), (status = 400, description = "invalid_languages", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_languages(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<TenantLanguages>,
) -> Result<Json<TenantLanguages>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let mut locales: Vec<gomomo::domain::Locale> = Vec::new();
    for l in req.languages.iter().copied().map(Into::into) {
        if locales.contains(&l) {
            return Err(ApiError::bad_request(
                "invalid_languages",
                "a language is listed twice",
            ));
        }
        locales.push(l);
    }
    if locales.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_languages",
            "at least one language is required",
        ));
    }
    if !tenants::set_languages(state.pool(), tenant.0, &locales)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        return Err(ApiError::not_found("tenant_not_found", "tenant not found"));
    }
    Ok(Json(TenantLanguages {
        languages: locales.into_iter().map(Into::into).collect(),
    }))
}

/// The link messages to clients carry.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/public-booking-url", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    description = "The tenant's public booking URL, which every message that asks the client to act carries (reminders, no-show follow-ups, schedule-change notices, cancellations, contact follow-ups), and `effective_link`, the link those messages use now (the hosted chat page `/?tenant=` when none is set).",
    responses((status = 200, body = PublicBookingUrl), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_public_booking_url(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<PublicBookingUrl>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let url = admin::public_booking_url(state.pool(), tenant).await?;
    let effective_link = admin::booking_link(url.as_deref(), &state.public_base_url, tenant.0);
    Ok(Json(PublicBookingUrl {
        public_booking_url: url,
        effective_link,
    }))
}

/// Set the link messages to clients carry.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/public-booking-url", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = PublicBookingUrlRequest, security(("api_key" = [])),
    description = "Sets the tenant's public booking URL: an absolute `https://` URL (plain `http://` outside production) of at most 500 characters, with a host, no credentials and no spaces; in production the host must be reachable from the internet (no localhost, private or reserved address). `null` or `\"\"` clears it. Audited as `tenant.public_booking_url_set`.",
    responses((status = 200, body = PublicBookingUrl), (status = 400, description = "invalid_public_booking_url", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_public_booking_url(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<PublicBookingUrlRequest>,
) -> Result<Json<PublicBookingUrl>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let url = admin::parse_public_booking_url(
        req.public_booking_url.as_deref().unwrap_or(""),
        state.production,
    )?;
    admin::set_public_booking_url(state.pool(), tenant, url.as_deref()).await?;
    let effective_link = admin::booking_link(url.as_deref(), &state.public_base_url, tenant.0);
    Ok(Json(PublicBookingUrl {
        public_booking_url: url,
        effective_link,
    }))
}
