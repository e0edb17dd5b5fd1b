//! Request and response bodies of the HTTP contract. Raw strings come in; handlers parse
//! them into domain types so every bad field gets its own stable error code.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use gomomo::db::bookings::{AppointmentRow, HoldRow};
use gomomo::db::tenants::{HoursRow, ResourceRow, ServiceRow, TenantRow};
use gomomo::services::booking::Availability;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// RFC 3339 with the tenant's UTC offset, e.g. `2026-12-01T09:00:00-05:00`.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `slot_taken`.
    pub code: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub duration_minutes: i32,
    pub active: bool,
    pub resource_ids: Vec<Uuid>,
}

impl From<ServiceRow> for ServiceView {
    fn from(s: ServiceRow) -> Self {
        Self {
            id: s.id,
            name: s.name,
            description: s.description,
            duration_minutes: s.duration_minutes,
            active: s.active,
            resource_ids: s.resource_ids,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub struct HoursView {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i16,
    /// Local time `HH:MM`.
    pub opens: String,
    pub closes: String,
}

impl From<HoursRow> for HoursView {
    fn from(h: HoursRow) -> Self {
        Self {
            weekday: h.weekday,
            opens: h.opens.format("%H:%M").to_string(),
            closes: h.closes.format("%H:%M").to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BookingRules {
    pub slot_step_minutes: i32,
    pub min_notice_minutes: i32,
    pub max_days_ahead: i32,
    pub buffer_minutes: i32,
}

impl From<&TenantRow> for BookingRules {
    fn from(t: &TenantRow) -> Self {
        Self {
            slot_step_minutes: t.slot_step_minutes,
            min_notice_minutes: t.min_notice_minutes,
            max_days_ahead: t.max_days_ahead,
            buffer_minutes: t.buffer_minutes,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub services: Vec<ServiceView>,
    pub business_hours: Vec<HoursView>,
    pub booking_rules: BookingRules,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Service id (UUID).
    pub service: Option<String>,
    /// First local date, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last local date (inclusive), `YYYY-MM-DD`.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotView {
    pub start: String,
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityView {
    pub time_zone: String,
    pub service_id: Uuid,
    pub slots: Vec<SlotView>,
}

impl From<&Availability> for AvailabilityView {
    fn from(a: &Availability) -> Self {
        Self {
            time_zone: a.time_zone.name().to_string(),
            service_id: a.service_id,
            slots: a
                .slots
                .iter()
                .map(|s| SlotView {
                    start: local_time(s.start, a.time_zone),
                    end: local_time(s.end, a.time_zone),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct HoldRequest {
    pub service_id: String,
    /// RFC 3339 with an offset, exactly a slot start from availability.
    pub start: String,
    /// A session the server issued for this tenant (from `POST /api/tenants/{tenant}/sessions`,
    /// the chat, or an earlier hold); when absent the server issues one and returns it.
    /// Client-chosen ids are refused (404 `session_not_found`).
    pub session_id: Option<String>,
    /// Takes the hold to move this booking: its own current time is not busy for the hold
    /// (so it can move by less than its length), and the hold can only be used by
    /// `POST …/bookings/{reference}/reschedule` for that booking.
    pub reschedule: Option<HoldRescheduleOf>,
}

/// The booking a hold is for, proven by its reference and the email it was made with.
#[derive(Deserialize, ToSchema)]
pub struct HoldRescheduleOf {
    pub reference: String,
    pub email: String,
    /// Keep the booking's current staff member (resource); default false (any free one).
    #[serde(default)]
    pub same_resource: bool,
}

#[derive(Serialize, ToSchema)]
pub struct HoldView {
    pub hold_id: Uuid,
    /// The session that owns the hold (confirm the booking with it).
    pub session_id: String,
    pub service_id: Uuid,
    pub start: String,
    pub end: String,
    pub expires_at: String,
}

impl HoldView {
    pub fn new(h: &HoldRow, session_id: &str, tz: Tz) -> Self {
        Self {
            hold_id: h.id,
            session_id: session_id.to_string(),
            service_id: h.service_id,
            start: local_time(h.start_at, tz),
            end: local_time(h.end_at, tz),
            expires_at: h.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ConfirmRequest {
    pub hold_id: String,
    /// The session the hold was made under (server-issued).
    pub session_id: String,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: Option<String>,
    pub notes: Option<String>,
    /// The client's own time zone (IANA name, e.g. the browser's `Europe/Madrid`): emails,
    /// texts and the calendar entry then show the client's time beside the clinic's.
    /// Unknown names are refused (400 `invalid_client_time_zone`).
    pub client_time_zone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingView {
    pub reference: String,
    /// `confirmed` or `cancelled`.
    pub status: String,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: Option<String>,
    pub notes: Option<String>,
    /// Grows on every reschedule or cancellation.
    pub sequence: i32,
    pub created_at: String,
    /// What happened: `attended`, `no_show` (recorded by staff) or `late_cancel` (a
    /// cancellation inside the tenant's late-cancellation window); null until known.
    pub outcome: Option<String>,
    /// When the client confirmed they will come (SMS reply C), RFC 3339; null if not.
    pub client_confirmed_at: Option<String>,
    /// The deadline by which the client must confirm (the no-show policy), if one was set.
    pub confirm_by: Option<String>,
    /// The client's own time zone, when the booking keeps one.
    pub client_time_zone: Option<String>,
}

impl BookingView {
    pub fn new(a: AppointmentRow, tz: Tz) -> Self {
        Self {
            reference: a.reference,
            status: a.status.to_string(),
            start: local_time(a.start_at, tz),
            end: local_time(a.end_at, tz),
            time_zone: tz.name().to_string(),
            service_id: a.service_id,
            resource_id: a.resource_id,
            client_name: a.client_name,
            client_email: a.client_email,
            client_phone: a.client_phone,
            notes: a.notes,
            sequence: a.sequence,
            created_at: a.created_at.to_rfc3339(),
            outcome: a.outcome.map(|o| o.as_str().to_string()),
            client_confirmed_at: a.client_confirmed_at.map(|t| local_time(t, tz)),
            confirm_by: a.confirm_by.map(|t| local_time(t, tz)),
            client_time_zone: a.client_time_zone,
        }
    }
}

/// The query of the old lookup: an `email` here is refused (`400 email_in_url`), since URLs
/// end up in logs, histories and referrers.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EmailQuery {
    /// Refused: send it in the body of `POST …/bookings/{reference}/lookup`.
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LookupRequest {
    /// The email the booking was made with.
    pub email: String,
}

/// The times a booking can move to, proven by the email it was made with.
#[derive(Deserialize, ToSchema)]
pub struct MoveAvailabilityRequest {
    /// The email the booking was made with.
    pub email: String,
    /// First local date, YYYY-MM-DD.
    pub from: String,
    /// Last local date, YYYY-MM-DD.
    pub to: String,
    /// Only the booking's current staff member (resource); default false (any that does the
    /// service).
    #[serde(default)]
    pub same_resource: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RescheduleRequest {
    pub email: String,
    pub hold_id: String,
    /// When given, it must be a server-issued session of this tenant, and the hold must
    /// belong to it.
    pub session_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// A server-issued session id (`gs_` and 43 base64url characters): a bearer secret.
    pub session_id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CancelRequest {
    pub email: String,
}

// ---- admin ----

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WidgetOrigins {
    /// Browser origins (`scheme://host[:port]`, https only in production) allowed to open
    /// the chat widget's WebSocket besides the deployment's own; `*` allows any. Empty: the
    /// deployment's own origin only (the default for new tenants). At most 50.
    pub widget_origins: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicBookingUrl {
    /// The link every message that asks the client to act carries (reminders, no-show
    /// follow-ups, schedule-change notices, cancellations, follow-ups); `null` when none is
    /// set.
    pub public_booking_url: Option<String>,
    /// The link messages carry now: the URL above, or the tenant's hosted chat page
    /// (`/?tenant=`) without one.
    pub effective_link: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PublicBookingUrlRequest {
    /// An `https://` URL (plain `http://` outside production) of at most 500 characters;
    /// `null` or `""` clears it.
    pub public_booking_url: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTenantRequest {
    pub name: String,
    pub time_zone: String,
    pub slot_step_minutes: Option<i32>,
    pub min_notice_minutes: Option<i32>,
    pub max_days_ahead: Option<i32>,
    pub buffer_minutes: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct TenantAdminView {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub booking_rules: BookingRules,
}

impl From<TenantRow> for TenantAdminView {
    fn from(t: TenantRow) -> Self {
        Self {
            id: t.id,
            booking_rules: (&t).into(),
            name: t.name,
            time_zone: t.time_zone,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTenantView {
    pub tenant: TenantAdminView,
    /// Shown once; store it. Only its hash is kept.
    pub api_key: String,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct UpdateTenantRequest {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub slot_step_minutes: Option<i32>,
    pub min_notice_minutes: Option<i32>,
    pub max_days_ahead: Option<i32>,
    pub buffer_minutes: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
pub struct ServiceRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<i32>,
    pub active: Option<bool>,
    /// Resources that can do this service (replaces the list).
    pub resource_ids: Option<Vec<Uuid>>,
}

#[derive(Deserialize, ToSchema)]
pub struct ResourceRequest {
    pub name: Option<String>,
    /// `staff` or `room`.
    pub kind: Option<String>,
    pub active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub active: bool,
}

impl From<ResourceRow> for ResourceView {
    fn from(r: ResourceRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            kind: r.kind,
            active: r.active,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct HoursRequest {
    pub hours: Vec<HoursView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBookingsQuery {
    /// First local date, `YYYY-MM-DD` (default: today).
    pub from: Option<String>,
    /// Last local date, inclusive (default: from + 30 days).
    pub to: Option<String>,
    /// `confirmed` or `cancelled`.
    pub status: Option<String>,
    /// 1–500 (default 100).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingList {
    pub bookings: Vec<BookingView>,
}
