//! Attendance (admin: outcomes, a client's record, the tenant's attendance settings) and
//! the public side of waitlist offers (see an offer, accept it).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use gomomo::db::attendance::AttendancePolicy;
use gomomo::db::bookings::Outcome;
use gomomo::domain::{Email, Locale, ParseError, PhoneE164, ReferenceCode};
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery, ClientIp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::tenant_id;
use crate::auth::tenant_admin;
use crate::dto::{local_time, BookingView, ErrorBody};
use crate::AppState;

#[derive(Deserialize, ToSchema)]
pub struct OutcomeRequest {
    /// `attended` or `no_show` (a late cancellation is recorded by cancelling).
    #[schema(value_type = RecordedOutcome)]
    pub outcome: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// The client's email (any case).
    #[param(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: Option<String>,
    /// The client's phone, E.164.
    #[param(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub phone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AttendanceView {
    /// The client's email as asked for (lower case); null when asked by phone.
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: Option<String>,
    /// The client's phone, E.164; null when asked by email.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub phone: Option<String>,
    /// Bookings staff marked `no_show`.
    #[schema(minimum = 0, example = 1)]
    pub no_shows: i64,
    /// Cancellations inside the late-cancellation window.
    #[schema(minimum = 0, example = 0)]
    pub late_cancels: i64,
    /// Bookings staff marked `attended`.
    #[schema(minimum = 0, example = 4)]
    pub attended: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AttendancePolicyBody {
    /// A cancellation less than this many minutes before the start is late (0–43200;
    /// 0: none is). Default 1440.
    #[schema(minimum = 0, maximum = 43200, example = 1440)]
    pub late_cancel_minutes: i32,
    /// Clients with at least this many no-shows must confirm by reply (1–100); null: no
    /// confirmation rule (the default).
    #[schema(minimum = 1, maximum = 100, example = 2)]
    pub no_show_confirm_threshold: Option<i32>,
    /// How many hours before the start that confirmation is due (1–336). Default 24.
    #[schema(minimum = 1, maximum = 336, example = 24)]
    pub no_show_confirm_hours: i32,
}

impl From<AttendancePolicy> for AttendancePolicyBody {
    fn from(p: AttendancePolicy) -> Self {
        Self {
            late_cancel_minutes: p.late_cancel_minutes,
            no_show_confirm_threshold: p.no_show_confirm_threshold,
            no_show_confirm_hours: p.no_show_confirm_hours,
        }
    }
}

/// What staff record about a booking that has started.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordedOutcome {
    Attended,
    NoShow,
}

/// Where a waitlist offer stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Offered,
    Booked,
    Expired,
    Cancelled,
}

#[derive(Serialize, ToSchema)]
pub struct WaitlistOfferView {
    /// `offered` (open: accept before `expires_at`), `booked`, `expired` or `cancelled`.
    #[schema(value_type = OfferStatus)]
    pub status: String,
    #[schema(example = "b0dc1e29-85b3-48b1-80ee-0dd7baca7034")]
    pub service_id: Option<Uuid>,
    /// The time held, RFC 3339 in the tenant's zone.
    #[schema(format = DateTime, example = "2026-12-08T09:00:00-05:00")]
    pub start: Option<String>,
    #[schema(format = DateTime, example = "2026-12-08T09:30:00-05:00")]
    pub end: Option<String>,
    #[schema(format = DateTime, example = "2026-12-07T21:00:00-05:00")]
    pub expires_at: Option<String>,
    /// An IANA time zone.
    #[schema(max_length = 64, example = "America/New_York")]
    pub time_zone: String,
}

fn parse_outcome(raw: &str) -> Result<Outcome, ApiError> {
    match raw.trim() {
        "attended" => Ok(Outcome::Attended),
        "no_show" => Ok(Outcome::NoShow),
        _ => Err(ApiError::bad_request(
            "invalid_outcome",
            "outcome must be attended or no_show (a late cancellation is recorded by cancelling)",
        )),
    }
}

/// Mark a booking attended or no-show.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/bookings/{reference}/outcome",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("reference" = String, Path, description = "The booking's reference (any case, dash optional)", pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$", example = "K7QM-3XRP")), request_body = OutcomeRequest,
    security(("api_key" = [])),
    description = "Records what happened at a booking: `attended` or `no_show`, once the appointment has started. The same outcome again changes nothing; another one replaces it (audited). A no-show emits `NoShowRecorded`, whose follow-up (a message with open times to book again) goes through the policy engine (tool `send_no_show_followup`).",
    responses((status = 200, body = BookingView), (status = 400, description = "invalid_outcome, invalid_reference", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "booking_not_found", body = ErrorBody),
        (status = 409, description = "outcome_too_early (the appointment has not started), booking_cancelled", body = ErrorBody)))]
pub async fn record_outcome(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, reference)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<OutcomeRequest>,
) -> Result<Json<BookingView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let reference = ReferenceCode::parse(&reference)?;
    let outcome = parse_outcome(&req.outcome)?;
    let appt = state
        .booking
        .record_outcome(tenant, &reference, outcome)
        .await?;
    let tz = state.booking.time_zone(tenant).await?;
    Ok(Json(BookingView::new(appt, tz)))
}

/// One client's attendance record.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/attendance",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), AttendanceQuery), security(("api_key" = [])),
    description = "A client's attendance at the tenant: no-shows, late cancellations and attended bookings, matched by email (any case) or phone (E.164); give either or both.",
    responses((status = 200, body = AttendanceView), (status = 400, description = "client_required, invalid_email, invalid_phone", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn attendance(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttendanceQuery>,
) -> Result<Json<AttendanceView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let email = q
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(Email::parse)
        .transpose()?;
    let phone = q
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(PhoneE164::parse)
        .transpose()?;
    if email.is_none() && phone.is_none() {
        return Err(ApiError::bad_request(
            "client_required",
            "give the client's email or phone",
        ));
    }
    let counts = state
        .booking
        .attendance_of(tenant, email.as_ref(), phone.as_ref())
        .await?;
    Ok(Json(AttendanceView {
        email: email.map(|e| e.as_str().to_string()),
        phone: phone.map(|p| p.as_str().to_string()),
        no_shows: counts.no_shows,
        late_cancels: counts.late_cancels,
        attended: counts.attended,
    }))
}

/// The attendance policy.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/attendance-policy",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    description = "The tenant's attendance settings: when a cancellation is late, and whether clients with repeated no-shows must confirm by reply (C) before a deadline or lose the booking.",
    responses((status = 200, body = AttendancePolicyBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_attendance_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<AttendancePolicyBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    Ok(Json(state.booking.attendance_policy(tenant).await?.into()))
}

/// Change the attendance policy.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/attendance-policy",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = AttendancePolicyBody, security(("api_key" = [])),
    description = "Replaces the tenant's attendance settings. With `no_show_confirm_threshold` set, each future booking of a client with at least that many no-shows gets a deadline `no_show_confirm_hours` before its start and a message asking for a reply C; unconfirmed at the deadline, the scheduler releases it (cancelled, audited `booking.released_unconfirmed`, the client told, the time offered to the waitlist).",
    responses((status = 200, body = AttendancePolicyBody), (status = 400, description = "invalid_late_cancel_minutes, invalid_no_show_confirm_threshold, invalid_no_show_confirm_hours", body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_attendance_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<AttendancePolicyBody>,
) -> Result<Json<AttendancePolicyBody>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let p = AttendancePolicy {
        late_cancel_minutes: req.late_cancel_minutes,
        no_show_confirm_threshold: req.no_show_confirm_threshold,
        no_show_confirm_hours: req.no_show_confirm_hours,
    };
    Ok(Json(
        state
            .booking
            .set_attendance_policy(tenant, &p)
            .await?
            .into(),
    ))
}

fn offer_token(raw: &str) -> Result<&str, ApiError> {
    let t = raw.trim();
    if t.is_empty() || t.len() > 100 || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(ParseError::new("token", "is not an offer token").into());
    }
    Ok(t)
}

/// Read a waitlist offer.
#[utoipa::path(get, path = "/api/tenants/{tenant}/waitlist/offers/{token}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("token" = String, Path, description = "The offer's token (from its link)", pattern = "^[A-Za-z0-9_]{1,100}$", example = "wo_5d41402abc4b2a76b9719d911017c592ae2b7c1d3e4f5a6b")),
    description = "The time a waitlist offer holds for its client (the link in the offer's message). Reading it changes nothing.",
    responses((status = 200, body = WaitlistOfferView), (status = 400, body = ErrorBody), (status = 404, description = "offer_not_found", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn get_offer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, token)): ApiPath<(String, String)>,
) -> Result<Json<WaitlistOfferView>, ApiError> {
    state.budgets.lookup(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let token = offer_token(&token)?;
    let (v, tz) = state
        .booking
        .waitlist_offer(tenant, token)
        .await?
        .ok_or_else(|| ApiError::not_found("offer_not_found", "no such waitlist offer"))?;
    Ok(Json(WaitlistOfferView {
        status: v.status.as_str().to_string(),
        service_id: v.service_id,
        start: v.start.map(|t| local_time(t, tz)),
        end: v.end.map(|t| local_time(t, tz)),
        expires_at: v.expires_at.map(|t| local_time(t, tz)),
        time_zone: tz.name().to_string(),
    }))
}

/// Book the time a waitlist offer holds.
#[utoipa::path(post, path = "/api/tenants/{tenant}/waitlist/offers/{token}/accept",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("token" = String, Path, description = "The offer's token (from its link)", pattern = "^[A-Za-z0-9_]{1,100}$", example = "wo_5d41402abc4b2a76b9719d911017c592ae2b7c1d3e4f5a6b")),
    description = "Takes the time a waitlist offer holds: the offer's hold becomes a booking for the waitlisted client (201). Accepting again answers the same booking (200). By text, the client replies BOOK instead.",
    responses((status = 201, body = BookingView), (status = 200, body = BookingView), (status = 400, body = ErrorBody),
        (status = 404, description = "offer_not_found", body = ErrorBody),
        (status = 409, description = "offer_closed (the client left the waitlist), slot_taken", body = ErrorBody),
        (status = 410, description = "offer_expired (the time passed to the next client)", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
pub async fn accept_offer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiPath((tenant, token)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    state.budgets.lookup(ip).await?;
    let tenant = tenant_id(&tenant)?;
    let token = offer_token(&token)?;
    let (appt, created, tz) = state.booking.accept_waitlist_offer(tenant, token).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(BookingView::new(appt, tz))))
}

// --- the page of an offer's link ---------------------------------------------------------

#[derive(Deserialize)]
pub struct OfferPageQuery {
    pub tenant: Option<String>,
    pub token: Option<String>,
}

/// The headers of an offer page: never cached, never indexed, the link (with its token)
/// never sent on as a referrer.
fn page_headers() -> [(axum::http::HeaderName, &'static str); 5] {
    use axum::http::header;
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            axum::http::HeaderName::from_static("x-robots-tag"),
            "noindex",
        ),
    ]
}

fn page(status: StatusCode, title: &str, text: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        page_headers(),
        gomomo::http::web::message_page(title, text),
    )
        .into_response()
}

fn mail_words() -> &'static gomomo::text::Mail {
    &gomomo::text::current().mail
}

/// The language of an offer's client.
fn offer_locale(code: &str) -> Locale {
    Locale::from_code(code).unwrap_or_default()
}

/// The tenant and token of a link, checked; None for anything else.
fn link_parts(
    tenant: Option<&str>,
    token: Option<&str>,
) -> Option<(gomomo::domain::TenantId, String)> {
    let tenant = tenant_id(tenant?).ok()?;
    let token = offer_token(token?).ok()?.to_string();
    Some((tenant, token))
}

fn when_text(locale: Locale, t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    locale.at(&t.with_timezone(&tz), locale.text().mail.when_format)
}

async fn service_name(state: &AppState, tenant: gomomo::domain::TenantId, id: Uuid) -> String {
    gomomo::db::tenants::get_service(state.pool(), tenant.0, id)
        .await
        .ok()
        .flatten()
        .map(|s| s.name)
        .unwrap_or_else(|| mail_words().appointment.to_string())
}

async fn tenant_name(state: &AppState, tenant: gomomo::domain::TenantId) -> String {
    state
        .booking
        .schedule(tenant)
        .await
        .map(|s| s.tenant.name)
        .unwrap_or_default()
}

/// `GET /waitlist/offer?tenant=&token=`: what the offer holds and a button that books it.
/// Opening the page changes nothing (link scanners open it too); the button's POST books.
pub async fn offer_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiQuery(q): ApiQuery<OfferPageQuery>,
) -> axum::response::Response {
    let w = mail_words();
    if state.budgets.lookup(ip).await.is_err() {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            w.offer_gone_title,
            w.offer_unknown_text,
        );
    }
    let Some((tenant, token)) = link_parts(q.tenant.as_deref(), q.token.as_deref()) else {
        return page(
            StatusCode::NOT_FOUND,
            w.offer_gone_title,
            w.offer_unknown_text,
        );
    };
    let (view, tz) = match state.booking.waitlist_offer(tenant, &token).await {
        Ok(Some(found)) => found,
        Ok(None) | Err(_) => {
            return page(
                StatusCode::NOT_FOUND,
                w.offer_gone_title,
                w.offer_unknown_text,
            )
        }
    };
    let now = state.booking.clock().now();
    let locale = offer_locale(&view.locale);
    let w = &locale.text().mail;
    use gomomo::db::waitlist::WaitlistStatus as S;
    match (view.status, view.start, view.expires_at, view.service_id) {
        (S::Offered, Some(start), Some(until), Some(service)) if until > now => {
            let text = (w.offer_page_text)(
                &tenant_name(&state, tenant).await,
                &service_name(&state, tenant, service).await,
                &when_text(locale, start, tz),
                &locale.at(&until.with_timezone(&tz), w.time_format),
            );
            let esc = gomomo::text::escape_html;
            let html = format!(
                "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
                 <title>{title}</title></head><body style=\"font-family: system-ui, sans-serif; \
                 max-width: 32rem; margin: 3rem auto; padding: 0 1rem; overflow-wrap: anywhere\">\
                 <h1>{title}</h1><p>{text}</p>\
                 <form method=\"post\" action=\"/waitlist/offer\">\
                 <input type=\"hidden\" name=\"tenant\" value=\"{tenant}\">\
                 <input type=\"hidden\" name=\"token\" value=\"{token}\">\
                 <button type=\"submit\">{button}</button></form></body></html>",
                title = esc(w.offer_page_title),
                text = esc(&text),
                tenant = esc(&tenant.0.to_string()),
                token = esc(&token),
                button = esc(w.offer_page_button),
                lang = locale.code(),
            );
            use axum::response::IntoResponse;
            (StatusCode::OK, page_headers(), html).into_response()
        }
        (S::Booked, ..) => page(StatusCode::OK, w.offer_booked_title, w.offer_closed_text),
        (S::Expired, ..) | (S::Offered, ..) => {
            page(StatusCode::GONE, w.offer_gone_title, w.offer_expired_text)
        }
        _ => page(
            StatusCode::CONFLICT,
            w.offer_gone_title,
            w.offer_closed_text,
        ),
    }
}

/// `POST /waitlist/offer` (the page's form: `tenant`, `token`): books the held time and
/// answers a page saying so. Sent again, it shows the same booking.
pub async fn offer_page_accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    form: Result<axum::Form<OfferPageQuery>, axum::extract::rejection::FormRejection>,
) -> axum::response::Response {
    let w = mail_words();
    if state.budgets.lookup(ip).await.is_err() {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            w.offer_gone_title,
            w.offer_closed_text,
        );
    }
    let Ok(axum::Form(f)) = form else {
        return page(
            StatusCode::BAD_REQUEST,
            w.offer_gone_title,
            w.offer_unknown_text,
        );
    };
    let Some((tenant, token)) = link_parts(f.tenant.as_deref(), f.token.as_deref()) else {
        return page(
            StatusCode::NOT_FOUND,
            w.offer_gone_title,
            w.offer_unknown_text,
        );
    };
    use gomomo::services::booking::BookingError as E;
    match state.booking.accept_waitlist_offer(tenant, &token).await {
        Ok((appt, _, tz)) => {
            let w = &appt.locale().text().mail;
            let text = (w.offer_booked_text)(
                &tenant_name(&state, tenant).await,
                &service_name(&state, tenant, appt.service_id).await,
                &when_text(appt.locale(), appt.start_at, tz),
                &appt.reference,
            );
            page(StatusCode::OK, w.offer_booked_title, &text)
        }
        Err(E::OfferNotFound) => page(
            StatusCode::NOT_FOUND,
            w.offer_gone_title,
            w.offer_unknown_text,
        ),
        Err(E::OfferExpired) => page(StatusCode::GONE, w.offer_gone_title, w.offer_expired_text),
        Err(E::Contention | E::Database(_) | E::TenantConfig(_)) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            w.offer_gone_title,
            w.offer_closed_text,
        ),
        Err(_) => page(
            StatusCode::CONFLICT,
            w.offer_gone_title,
            w.offer_closed_text,
        ),
    }
}
