//! Admin routes of the schedule beyond the weekly hours: a resource's own hours and the
//! date exceptions (closures, time off, extra hours), the bookings a change catches and the
//! notice to their clients.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use gomomo::db::bookings::AppointmentRow;
use gomomo::db::schedule::ExceptionRow;
use gomomo::domain::ParseError;
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use gomomo::services::admin;
use gomomo::services::booking::schedule::{ExceptionChange, ExceptionDraft};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{date_field, tenant_id, uuid_field};
use crate::auth::tenant_admin;
use crate::dto::{BookingView, ErrorBody, HoursView};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
pub struct ResourceHoursRequest {
    /// The resource's own weekly intervals; an empty list: it works the tenant's hours.
    pub hours: Vec<HoursView>,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceHoursView {
    #[schema(example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Uuid,
    /// True when the resource has no hours of its own and works the tenant's.
    #[schema(example = true)]
    pub uses_tenant_hours: bool,
    pub hours: Vec<HoursView>,
    /// Live bookings of the resource that the new hours leave out (kept, not cancelled);
    /// empty on GET.
    pub affected: Vec<BookingView>,
}

#[derive(Deserialize, ToSchema)]
pub struct ExceptionRequest {
    /// `closed` (the whole tenant), `time_off` (one resource) or `extra_hours` (a one-off
    /// opening, tenant-wide or of one resource).
    #[schema(value_type = ExceptionKind)]
    pub kind: String,
    /// Required for `time_off`, refused for `closed`.
    #[schema(value_type = Option<String>, format = Uuid, example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Option<String>,
    /// First local date, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-24")]
    pub start_date: String,
    /// Last local date, inclusive (default: `start_date`); at most 366 days after it.
    #[schema(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-26")]
    pub end_date: Option<String>,
    /// `HH:MM` local, with `end_time`: the part of each day (none: the whole day; required
    /// for `extra_hours`).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "12:00")]
    pub start_time: Option<String>,
    /// `HH:MM` local, after `start_time`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub end_time: Option<String>,
    /// Repeat every year on the same dates (e.g. December 25).
    #[schema(example = false)]
    pub recurring_yearly: Option<bool>,
    #[schema(max_length = 500, example = "Holidays")]
    pub note: Option<String>,
}

/// What a date exception does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    /// The whole tenant is closed.
    Closed,
    /// One resource is away.
    TimeOff,
    /// A one-off opening, tenant-wide or of one resource.
    ExtraHours,
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(value_type = ExceptionKind)]
    pub kind: String,
    #[schema(example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Option<Uuid>,
    #[schema(example = "2026-12-24")]
    pub start_date: NaiveDate,
    #[schema(example = "2026-12-26")]
    pub end_date: NaiveDate,
    /// Local time `HH:MM`; null: from the start of the day.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "13:00")]
    pub start_time: Option<String>,
    /// Local time `HH:MM`; null: to the end of the day.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub end_time: Option<String>,
    #[schema(example = false)]
    pub recurring_yearly: bool,
    #[schema(max_length = 500, example = "Staff training")]
    pub note: String,
    #[schema(format = DateTime, example = "2026-12-01T14:05:12.345+00:00")]
    pub created_at: String,
    #[schema(format = DateTime, example = "2026-12-01T14:05:12.345+00:00")]
    pub updated_at: String,
}

impl From<ExceptionRow> for ExceptionView {
    fn from(x: ExceptionRow) -> Self {
        let hm = |t: NaiveTime| t.format("%H:%M").to_string();
        Self {
            id: x.id,
            kind: x.kind,
            resource_id: x.resource_id,
            start_date: x.start_date,
            end_date: x.end_date,
            start_time: x.start_time.map(hm),
            end_time: x.end_time.map(hm),
            recurring_yearly: x.recurring_yearly,
            note: x.note,
            created_at: x.created_at.to_rfc3339(),
            updated_at: x.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionChangeView {
    pub exception: ExceptionView,
    /// Live bookings inside the closure or time off: kept, never cancelled. Notify their
    /// clients with `POST …/exceptions/{id}/notify`.
    pub affected: Vec<BookingView>,
}

#[derive(Serialize, ToSchema)]
pub struct ExceptionList {
    pub exceptions: Vec<ExceptionView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExceptionListQuery {
    /// Only exceptions ending on or after this local date, `YYYY-MM-DD` (default: today);
    /// yearly ones are always listed.
    #[param(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-01")]
    pub since: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct NotifyRequest {
    /// Where clients can book a new time (`https://…`), put in the messages.
    #[schema(
        format = "uri",
        max_length = 500,
        example = "https://clinic.example/book"
    )]
    pub booking_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NotifiedView {
    #[schema(
        pattern = "^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$",
        example = "K7QM-3XRP"
    )]
    pub reference: String,
    #[schema(example = "b0060af7-bf5b-4556-83d4-534876175db1")]
    pub booking_id: Uuid,
    /// Channels queued now (`email`, `sms`); empty when this version of the exception was
    /// notified before.
    #[schema(value_type = Vec<NotifyChannel>)]
    pub channels: Vec<String>,
}

/// A channel a message goes out on.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    Email,
    Sms,
}

#[derive(Serialize, ToSchema)]
pub struct NotifyView {
    pub notified: Vec<NotifiedView>,
}

fn bookings(rows: Vec<AppointmentRow>, tz: Tz) -> Vec<BookingView> {
    rows.into_iter().map(|a| BookingView::new(a, tz)).collect()
}

fn hhmm(field: &'static str, s: &str) -> Result<NaiveTime, ApiError> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| ParseError::new(field, format!("{s:?} is not a time HH:MM")).into())
}

fn hours_rows(hours: &[HoursView]) -> Result<Vec<(i16, NaiveTime, NaiveTime)>, ApiError> {
    hours
        .iter()
        .map(|h| {
            Ok((
                h.weekday,
                hhmm("hours", &h.opens)?,
                hhmm("hours", &h.closes)?,
            ))
        })
        .collect()
}

fn draft(req: &ExceptionRequest) -> Result<ExceptionDraft, ApiError> {
    Ok(ExceptionDraft {
        kind: req.kind.clone(),
        resource_id: req
            .resource_id
            .as_deref()
            .map(|r| uuid_field("resource_id", r))
            .transpose()?,
        start_date: date_field("start_date", Some(&req.start_date))?,
        end_date: req
            .end_date
            .as_deref()
            .map(|d| date_field("end_date", Some(d)))
            .transpose()?,
        start_time: req
            .start_time
            .as_deref()
            .map(|t| hhmm("times", t))
            .transpose()?,
        end_time: req
            .end_time
            .as_deref()
            .map(|t| hhmm("times", t))
            .transpose()?,
        recurring_yearly: req.recurring_yearly.unwrap_or(false),
        note: req.note.clone(),
    })
}

async fn change_view(
    state: &AppState,
    tenant: gomomo::domain::TenantId,
    c: ExceptionChange,
) -> Result<ExceptionChangeView, ApiError> {
    let tz = state.booking.time_zone(tenant).await?;
    Ok(ExceptionChangeView {
        exception: c.exception.into(),
        affected: bookings(c.affected, tz),
    })
}

/// A resource's own weekly hours.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/resources/{resource}/hours",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), security(("api_key" = [])),
    description = "The resource's own weekly hours; `uses_tenant_hours` when it has none and works the tenant's business hours.",
    responses((status = 200, body = ResourceHoursView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn get_resource_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
) -> Result<Json<ResourceHoursView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    let rows = state.booking.resource_hours(tenant, resource).await?;
    Ok(Json(ResourceHoursView {
        resource_id: resource,
        uses_tenant_hours: rows.is_empty(),
        hours: rows
            .into_iter()
            .map(|r| HoursView {
                weekday: r.weekday,
                opens: r.opens.format("%H:%M").to_string(),
                closes: r.closes.format("%H:%M").to_string(),
            })
            .collect(),
        affected: Vec::new(),
    }))
}

/// Replace a resource's own weekly hours.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/resources/{resource}/hours",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), request_body = ResourceHoursRequest, security(("api_key" = [])),
    description = "Replaces the resource's own weekly hours (an empty list: back to the tenant's). Validated like the tenant's hours. Taken under the day locks of the booking window; live bookings the new hours leave out are listed in `affected` and kept.",
    responses((status = 200, body = ResourceHoursView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn put_resource_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ResourceHoursRequest>,
) -> Result<Json<ResourceHoursView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    let rows = hours_rows(&req.hours)?;
    replace_hours(&state, tenant, resource, &rows).await
}

/// Return a resource to the tenant's hours.
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/resources/{resource}/hours",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")), security(("api_key" = [])),
    description = "Removes the resource's own hours: it works the tenant's again. Lists the live bookings left out, like PUT.",
    responses((status = 200, body = ResourceHoursView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn delete_resource_hours(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
) -> Result<Json<ResourceHoursView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = uuid_field("resource_id", &resource)?;
    replace_hours(&state, tenant, resource, &[]).await
}

async fn replace_hours(
    state: &AppState,
    tenant: gomomo::domain::TenantId,
    resource: Uuid,
    rows: &[(i16, NaiveTime, NaiveTime)],
) -> Result<Json<ResourceHoursView>, ApiError> {
    let (saved, affected) = state
        .booking
        .replace_resource_hours(tenant, resource, rows)
        .await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(ResourceHoursView {
        resource_id: resource,
        uses_tenant_hours: saved.is_empty(),
        hours: saved
            .into_iter()
            .map(|r| HoursView {
                weekday: r.weekday,
                opens: r.opens.format("%H:%M").to_string(),
                closes: r.closes.format("%H:%M").to_string(),
            })
            .collect(),
        affected: bookings(affected, tz),
    }))
}

/// List date exceptions.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/exceptions", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ExceptionListQuery),
    security(("api_key" = [])),
    responses((status = 200, body = ExceptionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_exceptions(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExceptionListQuery>,
) -> Result<Json<ExceptionList>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let since = match q.since.as_deref() {
        Some(s) => date_field("since", Some(s))?,
        None => {
            let tz = state.booking.time_zone(tenant).await?;
            state.booking.clock().now().with_timezone(&tz).date_naive()
        }
    };
    let rows = state.booking.list_exceptions(tenant, since).await?;
    Ok(Json(ExceptionList {
        exceptions: rows.into_iter().map(Into::into).collect(),
    }))
}

/// Add a date exception (closure, time off, extra hours).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/exceptions", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = ExceptionRequest,
    security(("api_key" = [])),
    description = "Adds a closure, a resource's time off or extra hours. Taken under the day locks of the days it touches, so a booking racing it either lands first (and is listed in `affected`) or is refused with 409 `schedule_closed`. Bookings inside new time off or a closure are never cancelled.",
    responses((status = 201, body = ExceptionChangeView), (status = 400, description = "invalid_kind, invalid_resource_id, invalid_end_date, invalid_times, invalid_note, invalid_date", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "resource_not_found", body = ErrorBody)))]
pub async fn create_exception(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ExceptionRequest>,
) -> Result<(StatusCode, Json<ExceptionChangeView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let c = state
        .booking
        .create_exception(tenant, &draft(&req)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(change_view(&state, tenant, c).await?),
    ))
}

/// Change a date exception.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/exceptions/{exception}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("exception" = uuid::Uuid, Path, description = "A date exception's id", example = "42552b1f-133f-4f8e-8406-d4f306ea9fd1")), request_body = ExceptionRequest, security(("api_key" = [])),
    description = "Replaces an exception (validated like a new one), under the day locks of the days the old and the new version touch.",
    responses((status = 200, body = ExceptionChangeView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "exception_not_found, resource_not_found", body = ErrorBody)))]
pub async fn update_exception(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, exception)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<ExceptionRequest>,
) -> Result<Json<ExceptionChangeView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let id = uuid_field("exception_id", &exception)?;
    let c = state
        .booking
        .update_exception(tenant, id, &draft(&req)?)
        .await?;
    Ok(Json(change_view(&state, tenant, c).await?))
}

/// Remove a date exception.
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/exceptions/{exception}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("exception" = uuid::Uuid, Path, description = "A date exception's id", example = "42552b1f-133f-4f8e-8406-d4f306ea9fd1")), security(("api_key" = [])),
    responses((status = 200, body = ExceptionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "exception_not_found", body = ErrorBody)))]
pub async fn delete_exception(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, exception)): ApiPath<(String, String)>,
) -> Result<Json<ExceptionView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let id = uuid_field("exception_id", &exception)?;
    let row = state.booking.delete_exception(tenant, id).await?;
    Ok(Json(row.into()))
}

/// The live bookings inside a date exception.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/exceptions/{exception}/affected",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("exception" = uuid::Uuid, Path, description = "A date exception's id", example = "42552b1f-133f-4f8e-8406-d4f306ea9fd1")), security(("api_key" = [])),
    description = "The exception and the live bookings (not yet ended) that fall inside it now.",
    responses((status = 200, body = ExceptionChangeView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "exception_not_found", body = ErrorBody)))]
pub async fn exception_affected(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, exception)): ApiPath<(String, String)>,
) -> Result<Json<ExceptionChangeView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let id = uuid_field("exception_id", &exception)?;
    let c = state.booking.exception_affected(tenant, id).await?;
    Ok(Json(change_view(&state, tenant, c).await?))
}

/// Tell the clients inside a date exception, with new times.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/exceptions/{exception}/notify",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("exception" = uuid::Uuid, Path, description = "A date exception's id", example = "42552b1f-133f-4f8e-8406-d4f306ea9fd1")), request_body = NotifyRequest, security(("api_key" = [])),
    description = "Queues a notice to every client whose booking falls inside the exception (email, and SMS when the booking has a phone), offering new times of the same service and `booking_url` (by default the tenant's public booking URL, else its hosted chat page). The bookings are kept. The same version of the exception is notified once; audited as `schedule_exception.notified`.",
    responses((status = 200, body = NotifyView), (status = 400, description = "invalid_booking_url", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, description = "exception_not_found", body = ErrorBody)))]
pub async fn notify_affected(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, exception)): ApiPath<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<NotifyView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let id = uuid_field("exception_id", &exception)?;
    // The body is optional: no body notifies without a link.
    let req: NotifyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        NotifyRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))?
    };
    let url = req
        .booking_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    if let Some(u) = url {
        let ok = (u.starts_with("https://") || u.starts_with("http://"))
            && u.len() <= 500
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(ParseError::new(
                "booking_url",
                "must be an http(s) URL of at most 500 characters",
            )
            .into());
        }
    }
    // Without a link in the request, the tenant's public booking URL (or its chat page).
    let fallback = match url {
        Some(_) => None,
        None => admin::booking_link_for(state.pool(), &state.public_base_url, tenant.0)
            .await
            .map_err(|e| ApiError::internal(&e))?,
    };
    let out = state
        .booking
        .notify_affected(tenant, id, url.or(fallback.as_deref()))
        .await?;
    Ok(Json(NotifyView {
        notified: out
            .into_iter()
            .map(|n| NotifiedView {
                reference: n.reference,
                booking_id: n.booking_id,
                channels: n.channels.into_iter().map(str::to_string).collect(),
            })
            .collect(),
    }))
}
