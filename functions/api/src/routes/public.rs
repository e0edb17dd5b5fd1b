//! Public routes: tenant info, availability, holds, bookings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use gomomo::db::tenants;
use gomomo::domain::{Email, ParseError, ReferenceCode};
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery, ClientIp};
use gomomo::services::booking::{HoldSession, MoveOf};
use gomomo::services::sessions;

use super::{client_details, date_field, instant_field, tenant_id, uuid_field};
use crate::dto::*;
use crate::AppState;

/// Liveness and database check.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    gomomo::db::ping(state.pool()).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is not reachable",
        )
    })?;
    Ok(Json(Health {
        status: "ok",
        database: "ok",
    }))
}

/// A tenant's public profile: services, hours, rules.
#[utoipa::path(get, path = "/api/tenants/{tenant}", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    responses((status = 200, body = TenantView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<TenantView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let sched = state.booking.schedule(tenant).await?;
    let pool = state.pool();
    let services = tenants::list_services(pool, tenant.0)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let hours = tenants::list_hours(pool, tenant.0)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(TenantView {
        id: sched.tenant.id,
        booking_rules: (&sched.tenant).into(),
        name: sched.tenant.name,
        time_zone: sched.tenant.time_zone,
        services: services
            .into_iter()
            .filter(|s| s.active)
            .map(Into::into)
            .collect(),
        business_hours: hours.into_iter().map(Into::into).collect(),
    }))
}

/// Free slots of a service between two local dates.
#[utoipa::path(get, path = "/api/tenants/{tenant}/availability",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), AvailabilityQuery),
    responses((status = 200, body = AvailabilityView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn availability(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<Json<AvailabilityView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let service = q
        .service
        .as_deref()
        .ok_or_else(|| {
            ApiError::from(ParseError::new(
                "service_id",
                "the service query parameter is required",
            ))
        })
        .and_then(|s| uuid_field("service_id", s))?;
    let from = date_field("from", q.from.as_deref())?;
    let to = date_field("to", q.to.as_deref())?;
    let a = state
        .booking
        .availability(tenant, service, from, to)
        .await?;
    Ok(Json(AvailabilityView::from(&a)))
}

/// The times a booking can move to.
#[utoipa::path(post, path = "/api/tenants/{tenant}/bookings/{reference}/availability",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), request_body = MoveAvailabilityRequest,
    description = "The times this booking can move to, in its own service: its own current time does not count as busy, so times overlapping it are offered (take one with `reschedule` in `POST …/holds`). With `same_resource` only its staff member's times.",
    responses((status = 200, body = AvailabilityView), (status = 400, body = ErrorBody),
        (status = 404, description = "booking_not_found: no booking with that reference and email; resource_not_found (same_resource: the service is no longer done by the booking's staff member)", body = ErrorBody),
        (status = 409, description = "booking_cancelled", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn move_availability(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<MoveAvailabilityRequest>,
) -> Result<Json<AvailabilityView>, ApiError> {
    state.budgets.lookup(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let moving = MoveOf {
        reference: ReferenceCode::parse(&reference)?,
        email: Email::parse(&req.email)?,
        same_resource: req.same_resource,
    };
    let from = date_field("from", Some(&req.from))?;
    let to = date_field("to", Some(&req.to))?;
    let a = state
        .booking
        .move_availability(tenant, &moving, from, to)
        .await?;
    Ok(Json(AvailabilityView::from(&a)))
}

/// Hold a slot.
#[utoipa::path(post, path = "/api/tenants/{tenant}/holds", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = HoldRequest,
    description = "Holds a slot for a session. Sessions are issued by the server: without `session_id` a new one is issued and returned in the hold; a client-chosen or another tenant's id is refused with 404 `session_not_found`. With `reschedule` the hold is for moving that booking (reference and email): the booking's own time does not block it, `same_resource` keeps its staff member, and only that booking's reschedule can use the hold.",
    responses((status = 201, body = HoldView), (status = 400, body = ErrorBody), (status = 404, description = "tenant_not_found, service_not_found, session_not_found, booking_not_found (reschedule: no booking with that reference and email) or resource_not_found (same_resource: the service is not done by the booking's staff member)", body = ErrorBody),
        (status = 409, description = "slot_unavailable, or booking_cancelled (reschedule)", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn create_hold(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> Result<(StatusCode, Json<HoldView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    let service = uuid_field("service_id", &req.service_id)?;
    let start = instant_field("start", &req.start)?;
    let moving = match &req.reschedule {
        Some(m) => Some(MoveOf {
            reference: ReferenceCode::parse(&m.reference)?,
            email: Email::parse(&m.email)?,
            same_resource: m.same_resource,
        }),
        None => None,
    };
    state.budgets.hold(tenant.0, ip).await?;
    // Without a session, one is issued with the hold (recorded in its transaction): a
    // refused hold leaves no session behind.
    let (session, is_new) = match req.session_id.as_deref() {
        Some(raw) => match sessions::accept(state.pool(), tenant, raw).await {
            Ok(s) => (s, false),
            Err(e) => {
                state.budgets.hold_not_created(ip).await;
                return Err(e.into());
            }
        },
        None => (sessions::fresh()?, true),
    };
    let whose = if is_new {
        HoldSession::New(&session)
    } else {
        HoldSession::Issued(&session)
    };
    let held = state
        .booking
        .create_hold_with_zone(tenant, service, start, whose, moving.as_ref())
        .await;
    let (hold, tz) = match held {
        Ok(h) => h,
        Err(e) => {
            state.budgets.hold_not_created(ip).await;
            return Err(e.into());
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(HoldView::new(&hold, session.as_str(), tz)),
    ))
}

/// Confirm a held slot as a booking.
#[utoipa::path(post, path = "/api/tenants/{tenant}/bookings", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = ConfirmRequest,
    description = "Books a held slot. `session_id` must be the server-issued session the hold was made under (404 `session_not_found` otherwise).",
    responses((status = 201, description = "booked", body = BookingView), (status = 200, description = "the same hold again: the same booking", body = BookingView),
        (status = 400, body = ErrorBody), (status = 403, description = "hold_not_owned", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "slot_taken", body = ErrorBody), (status = 410, description = "hold_expired", body = ErrorBody)))]
pub async fn confirm_booking(
    State(state): State<AppState>,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<ConfirmRequest>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    let hold_id = uuid_field("hold_id", &req.hold_id)?;
    let session = sessions::accept(state.pool(), tenant, &req.session_id).await?;
    let client = client_details(
        &req.client_name,
        &req.client_email,
        req.client_phone.as_deref(),
        req.notes.as_deref(),
        req.client_time_zone.as_deref(),
    )?;
    let (appt, created, tz) = state
        .booking
        .confirm_with_zone(tenant, hold_id, &session, &client)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BookingView::new(appt, tz))))
}

/// Refused: the email does not go in a URL (use the lookup).
#[utoipa::path(get, path = "/api/tenants/{tenant}/bookings/{reference}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP"), EmailQuery),
    responses((status = 400, description = "email_in_url: the email goes in the body of POST …/lookup; invalid_email without it", body = ErrorBody)))]
pub async fn get_booking(ApiQuery(q): ApiQuery<EmailQuery>) -> Result<Json<BookingView>, ApiError> {
    if q.email.is_some() {
        return Err(ApiError::bad_request(
            "email_in_url",
            "an email in the URL is refused (URLs are logged and kept in histories); send {\"email\"} in the body of POST /api/tenants/{tenant}/bookings/{reference}/lookup",
        ));
    }
    Err(ParseError::new(
        "email",
        "is required in the body of POST /api/tenants/{tenant}/bookings/{reference}/lookup",
    )
    .into())
}

/// Look a booking up by reference and email.
#[utoipa::path(post, path = "/api/tenants/{tenant}/bookings/{reference}/lookup",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), request_body = LookupRequest,
    responses((status = 200, body = BookingView), (status = 400, body = ErrorBody), (status = 404, description = "booking_not_found: no booking with that reference and email", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn lookup_booking(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<BookingView>, ApiError> {
    state.budgets.lookup(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let reference = ReferenceCode::parse(&reference)?;
    let email = Email::parse(&req.email)?;
    let appt = state.booking.lookup(tenant, &reference, &email).await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(BookingView::new(appt, tz)))
}

/// Move a booking to a held time.
#[utoipa::path(post, path = "/api/tenants/{tenant}/bookings/{reference}/reschedule",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), request_body = RescheduleRequest,
    description = "Moves the booking onto a hold (take it with `reschedule` in `POST …/holds` to move by less than the booking's length). The same request again after it succeeded answers 200 with the booking as it is now, whatever the move changed.",
    responses((status = 200, description = "moved, or the same hold again: the booking", body = BookingView), (status = 400, body = ErrorBody), (status = 403, description = "hold_not_owned: another session's hold, or a hold taken to move another booking", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "slot_taken or booking_cancelled", body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn reschedule_booking(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<RescheduleRequest>,
) -> Result<Json<BookingView>, ApiError> {
    state.budgets.change(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let reference = ReferenceCode::parse(&reference)?;
    let email = Email::parse(&req.email)?;
    let hold_id = uuid_field("hold_id", &req.hold_id)?;
    let session = match req.session_id.as_deref() {
        Some(s) => Some(sessions::accept(state.pool(), tenant, s).await?),
        None => None,
    };
    let appt = state
        .booking
        .reschedule(tenant, &reference, &email, hold_id, session.as_ref())
        .await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(BookingView::new(appt, tz)))
}

/// Cancel a booking.
#[utoipa::path(post, path = "/api/tenants/{tenant}/bookings/{reference}/cancel",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), request_body = CancelRequest,
    responses((status = 200, body = BookingView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<CancelRequest>,
) -> Result<Json<BookingView>, ApiError> {
    state.budgets.change(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let reference = ReferenceCode::parse(&reference)?;
    let email = Email::parse(&req.email)?;
    let appt = state.booking.cancel(tenant, &reference, &email).await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(BookingView::new(appt, tz)))
}

/// Issue a chat and booking session.
#[utoipa::path(post, path = "/api/tenants/{tenant}/sessions", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    description = "Issues a chat session for this tenant: an unguessable token to send as `session_id` to the chat, holds and bookings, and in the WebSocket frames. Sessions are only issued by the server; client-chosen ids are refused with 404 `session_not_found`. The chat and holds also issue one when `session_id` is absent.",
    responses((status = 201, body = SessionView), (status = 400, body = ErrorBody), (status = 404, description = "tenant_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath(tenant): ApiPath<String>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    state.budgets.session(ip).await?;
    let session = sessions::issue(state.pool(), tenant).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionView {
            session_id: session.as_str().to_string(),
        }),
    ))
}
