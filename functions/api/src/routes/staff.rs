//! Staff at the desk: a booking for a client who phoned or walked in, moving a booking, and
//! one booking with its history. Owners and staff alike (the day's work); every audit row
//! names the person or key that acted.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gomomo::domain::ReferenceCode;
use gomomo::http::{ApiError, ApiJson, ApiPath};
use gomomo::services::booking::StaffPlacement;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::AuditView;
use super::{client_details, instant_field, tenant_id, uuid_field};
use crate::auth::tenant_admin;
use crate::dto::{BookingView, ErrorBody};
use crate::AppState;

/// The most history rows a booking's detail shows.
const HISTORY_LIMIT: i64 = 500;

/// A booking staff make for a client who phoned or walked in.
#[derive(Deserialize, ToSchema)]
pub struct StaffBookingRequest {
    /// The service booked.
    #[schema(value_type = String, format = Uuid, example = "6b1f0c1e-0000-4000-8000-000000000001")]
    pub service_id: String,
    /// The staff member or room to take (it must do the service); absent: the first free one.
    #[schema(value_type = Option<String>, format = Uuid, example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Option<String>,
    /// RFC 3339 with an offset; a slot start of the service (hours, closures and the slot
    /// step apply).
    #[schema(value_type = String, format = DateTime, example = "2026-12-01T09:00:00-05:00")]
    pub start: String,
    #[schema(min_length = 1, max_length = 200, example = "Ana Pérez")]
    pub client_name: String,
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub client_email: String,
    /// E.164, e.g. `+15555550123`.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub client_phone: Option<String>,
    #[schema(max_length = 2000, example = "Walk-in; prefers the morning.")]
    pub notes: Option<String>,
    /// The client's own IANA time zone, for their messages.
    #[schema(max_length = 64, example = "America/New_York")]
    pub client_time_zone: Option<String>,
    /// Pass the minimum notice, the booking window and the daily caps (audited as
    /// `booking.rule_overridden`); hours, closures and overlaps always hold. Default false.
    #[serde(default)]
    #[schema(example = false)]
    pub override_rules: bool,
}

/// Where staff move a booking.
#[derive(Deserialize, ToSchema)]
pub struct StaffRescheduleRequest {
    /// The new start, RFC 3339 with an offset.
    #[schema(value_type = String, format = DateTime, example = "2026-12-01T10:00:00-05:00")]
    pub start: String,
    /// The staff member or room to move to; absent: the first free one that does the
    /// service.
    #[schema(value_type = Option<String>, format = Uuid, example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Option<String>,
    /// As for a staff booking (the self-service cut-off never binds staff; passing it is
    /// audited). Default false.
    #[serde(default)]
    #[schema(example = false)]
    pub override_rules: bool,
}

/// A booking as staff see it: the list's view and its id.
#[derive(Serialize, ToSchema)]
pub struct StaffBookingView {
    #[schema(format = Uuid, example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[serde(flatten)]
    pub booking: BookingView,
}

/// One booking and what happened to it.
#[derive(Serialize, ToSchema)]
pub struct BookingDetail {
    pub booking: StaffBookingView,
    /// The audit rows about the booking (and the hold it was made from), oldest first.
    pub history: Vec<AuditView>,
}

fn resource_field(raw: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => uuid_field("resource_id", r).map(Some),
    }
}

/// Book for a client who phoned or walked in.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/bookings",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = StaffBookingRequest, security(("api_key" = [])),
    description = "Staff (owners and staff) book for a client: a hold is taken and confirmed in one transaction, under the same locks and checks as a client's booking, so a taken time is refused and nothing is written. Audited as `booking.confirmed` with the acting person or key; the client is told as for any booking (`BookingCreated`). With `override_rules` the minimum notice, the booking window and the daily caps are passed (audited `booking.rule_overridden`).",
    responses((status = 201, body = StaffBookingView),
        (status = 400, description = "invalid_service_id, invalid_resource_id, invalid_start, invalid_client_name, invalid_email, invalid_phone, invalid_notes, invalid_client_time_zone, invalid_tenant_id, invalid_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "wrong_tenant", body = ErrorBody),
        (status = 404, description = "tenant_not_found, service_not_found, resource_not_found", body = ErrorBody),
        (status = 409, description = "slot_unavailable, slot_taken, schedule_closed, daily_limit_reached", body = ErrorBody),
        (status = 503, description = "busy, calendar_unavailable", body = ErrorBody)))]
pub async fn staff_create_booking(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<StaffBookingRequest>,
) -> Result<(StatusCode, Json<StaffBookingView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let service_id = uuid_field("service_id", &req.service_id)?;
    let at = StaffPlacement {
        start: instant_field("start", &req.start)?,
        resource: resource_field(req.resource_id.as_deref())?,
        override_rules: req.override_rules,
    };
    let client = client_details(
        &req.client_name,
        &req.client_email,
        req.client_phone.as_deref(),
        req.notes.as_deref(),
        req.client_time_zone.as_deref(),
    )?;
    let (appt, tz) = state
        .booking
        .staff_book(tenant, service_id, at, &client)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffBookingView {
            id: appt.id,
            booking: BookingView::new(appt, tz),
        }),
    ))
}

/// Move a booking as staff.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/bookings/{reference}/reschedule",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")),
    request_body = StaffRescheduleRequest, security(("api_key" = [])),
    description = "Moves the booking in one transaction (its own time does not block the move; the old time is freed only when the new one is taken). The reference stays, `sequence` grows, and the client is told as for their own reschedule (`BookingRescheduled`). The self-service cut-off does not bind staff (passing it is audited); `override_rules` as for a staff booking.",
    responses((status = 200, body = StaffBookingView),
        (status = 400, description = "invalid_reference, invalid_start, invalid_resource_id, invalid_tenant_id, invalid_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "wrong_tenant", body = ErrorBody),
        (status = 404, description = "booking_not_found, resource_not_found, service_not_found", body = ErrorBody),
        (status = 409, description = "slot_unavailable, slot_taken, schedule_closed, daily_limit_reached, booking_cancelled", body = ErrorBody),
        (status = 503, description = "busy", body = ErrorBody)))]
pub async fn staff_reschedule_booking(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<StaffRescheduleRequest>,
) -> Result<Json<StaffBookingView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let reference = ReferenceCode::parse(&reference)?;
    let at = StaffPlacement {
        start: instant_field("start", &req.start)?,
        resource: resource_field(req.resource_id.as_deref())?,
        override_rules: req.override_rules,
    };
    let (appt, tz) = state
        .booking
        .staff_reschedule(tenant, &reference, at)
        .await?;
    Ok(Json(StaffBookingView {
        id: appt.id,
        booking: BookingView::new(appt, tz),
    }))
}

/// One booking with its history.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/bookings/{reference}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")),
    security(("api_key" = [])),
    description = "The booking (with its id) and its audit history oldest first: the rows about it and about the hold it was made from, each naming who acted.",
    responses((status = 200, body = BookingDetail),
        (status = 400, description = "invalid_reference, invalid_tenant_id", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "wrong_tenant", body = ErrorBody),
        (status = 404, description = "booking_not_found, tenant_not_found", body = ErrorBody)))]
pub async fn booking_detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
) -> Result<Json<BookingDetail>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let reference = ReferenceCode::parse(&reference)?;
    let (appt, history, tz) = state
        .booking
        .booking_with_history(tenant, &reference, HISTORY_LIMIT)
        .await?;
    Ok(Json(BookingDetail {
        booking: StaffBookingView {
            id: appt.id,
            booking: BookingView::new(appt, tz),
        },
        history: history.into_iter().map(Into::into).collect(),
    }))
}
