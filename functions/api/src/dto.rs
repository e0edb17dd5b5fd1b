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
    #[schema(pattern = "^[a-z][a-z0-9_]*$", example = "slot_taken")]
    pub code: String,
    /// A sentence for people; its wording may change (match on `code`).
    #[schema(example = "that time was just taken; pick another")]
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (an unreachable database answers 503 instead).
    #[schema(value_type = String, pattern = "^ok$", example = "ok")]
    pub status: &'static str,
    #[schema(value_type = String, pattern = "^ok$", example = "ok")]
    pub database: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(max_length = 200, example = "Consultation")]
    pub name: String,
    #[schema(max_length = 2000, example = "A first 30-minute visit.")]
    pub description: String,
    #[schema(minimum = 5, maximum = 720, example = 30)]
    pub duration_minutes: i32,
    #[schema(example = true)]
    pub active: bool,
    /// The resources (staff, rooms) that do the service.
    #[schema(example = json!(["e2f3ef5b-2d4b-4de7-8e63-73be861154ec"]))]
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
    #[schema(minimum = 1, maximum = 7, example = 1)]
    pub weekday: i16,
    /// Local time `HH:MM`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub opens: String,
    /// Local time `HH:MM`, after `opens`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
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
    #[schema(minimum = 5, maximum = 480, example = 30)]
    pub slot_step_minutes: i32,
    #[schema(minimum = 0, maximum = 43200, example = 60)]
    pub min_notice_minutes: i32,
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub max_days_ahead: i32,
    #[schema(minimum = 0, maximum = 240, example = 0)]
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
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(max_length = 200, example = "Riverside Clinic")]
    pub name: String,
    /// An IANA time zone.
    #[schema(max_length = 64, example = "America/New_York")]
    pub time_zone: String,
    pub services: Vec<ServiceView>,
    pub business_hours: Vec<HoursView>,
    pub booking_rules: BookingRules,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// Service id (UUID).
    #[param(value_type = String, format = Uuid, example = "6d0e0000-0000-4000-8000-0000000005e1")]
    pub service: Option<String>,
    /// First local date, `YYYY-MM-DD`.
    #[param(value_type = String, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-08")]
    pub from: Option<String>,
    /// Last local date (inclusive), `YYYY-MM-DD`.
    #[param(value_type = String, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-09")]
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SlotView {
    #[schema(format = DateTime, example = "2026-12-08T09:00:00-05:00")]
    pub start: String,
    #[schema(format = DateTime, example = "2026-12-08T09:30:00-05:00")]
    pub end: String,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityView {
    #[schema(example = "America/New_York")]
    pub time_zone: String,
    #[schema(example = "b0dc1e29-85b3-48b1-80ee-0dd7baca7034")]
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
    #[schema(format = Uuid, example = "6d0e0000-0000-4000-8000-0000000005e1")]
    pub service_id: String,
    /// RFC 3339 with an offset, exactly a slot start from availability.
    #[schema(format = DateTime, example = "2026-12-08T09:00:00-05:00")]
    pub start: String,
    /// A session the server issued for this tenant (from `POST /api/tenants/{tenant}/sessions`,
    /// the chat, or an earlier hold); when absent the server issues one and returns it.
    /// Client-chosen ids are refused (404 `session_not_found`).
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: Option<String>,
    /// Takes the hold to move this booking: its own current time is not busy for the hold
    /// (so it can move by less than its length), and the hold can only be used by
    /// `POST …/bookings/{reference}/reschedule` for that booking.
    pub reschedule: Option<HoldRescheduleOf>,
}

/// The booking a hold is for, proven by its reference and the email it was made with.
#[derive(Deserialize, ToSchema)]
pub struct HoldRescheduleOf {
    #[schema(
        pattern = "^[2-9A-HJKMNP-Za-hjkmnp-z]{4}-?[2-9A-HJKMNP-Za-hjkmnp-z]{4}$",
        example = "K7QM-3XRP"
    )]
    pub reference: String,
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: String,
    /// Keep the booking's current staff member (resource); default false (any free one).
    #[serde(default)]
    #[schema(example = false)]
    pub same_resource: bool,
}

#[derive(Serialize, ToSchema)]
pub struct HoldView {
    #[schema(example = "1ba82e7a-2187-4e07-892a-f3d81f7b2315")]
    pub hold_id: Uuid,
    /// The session that owns the hold (confirm the booking with it).
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: String,
    #[schema(example = "b0dc1e29-85b3-48b1-80ee-0dd7baca7034")]
    pub service_id: Uuid,
    #[schema(format = DateTime, example = "2026-12-08T09:00:00-05:00")]
    pub start: String,
    #[schema(format = DateTime, example = "2026-12-08T09:30:00-05:00")]
    pub end: String,
    #[schema(format = DateTime, example = "2026-12-01T14:10:00+00:00")]
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
    #[schema(format = Uuid, example = "0b7c2d1e-5f3a-4c8e-9d6b-2a1f0e9c8b7a")]
    pub hold_id: String,
    /// The session the hold was made under (server-issued).
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: String,
    #[schema(min_length = 1, max_length = 200, example = "Ana Pérez")]
    pub client_name: String,
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub client_email: String,
    /// E.164 (spaces, dashes, dots and brackets are ignored when read).
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub client_phone: Option<String>,
    #[schema(max_length = 2000, example = "First visit; prefers the morning.")]
    pub notes: Option<String>,
    /// The client's own time zone (IANA name, e.g. the browser's `Europe/Madrid`): emails,
    /// texts and the calendar entry then show the client's time beside the clinic's.
    /// Unknown names are refused (400 `invalid_client_time_zone`).
    #[schema(max_length = 64, example = "Europe/Madrid")]
    pub client_time_zone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingView {
    #[schema(
        pattern = "^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$",
        example = "K7QM-3XRP"
    )]
    pub reference: String,
    /// `confirmed` or `cancelled`.
    #[schema(value_type = BookingStatus)]
    pub status: String,
    #[schema(format = DateTime, example = "2026-12-08T09:00:00-05:00")]
    pub start: String,
    #[schema(format = DateTime, example = "2026-12-08T09:30:00-05:00")]
    pub end: String,
    #[schema(example = "America/New_York")]
    pub time_zone: String,
    #[schema(example = "b0dc1e29-85b3-48b1-80ee-0dd7baca7034")]
    pub service_id: Uuid,
    #[schema(example = "e2f3ef5b-2d4b-4de7-8e63-73be861154ec")]
    pub resource_id: Uuid,
    #[schema(max_length = 200, example = "Ana Pérez")]
    pub client_name: String,
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub client_email: String,
    /// E.164.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+15555550123")]
    pub client_phone: Option<String>,
    #[schema(max_length = 2000, example = "First visit; prefers the morning.")]
    pub notes: Option<String>,
    /// Grows on every reschedule or cancellation.
    #[schema(minimum = 0, example = 1)]
    pub sequence: i32,
    #[schema(format = DateTime, example = "2026-12-01T14:05:12.345+00:00")]
    pub created_at: String,
    /// What happened: `attended`, `no_show` (recorded by staff) or `late_cancel` (a
    /// cancellation inside the tenant's late-cancellation window); null until known.
    #[schema(value_type = Option<BookingOutcome>)]
    pub outcome: Option<String>,
    /// When the client confirmed they will come (SMS reply C), RFC 3339; null if not.
    #[schema(format = DateTime, example = "2026-12-07T10:15:00-05:00")]
    pub client_confirmed_at: Option<String>,
    /// The deadline by which the client must confirm (the no-show policy), if one was set.
    #[schema(format = DateTime, example = "2026-12-07T09:00:00-05:00")]
    pub confirm_by: Option<String>,
    /// The client's own time zone, when the booking keeps one.
    #[schema(max_length = 64, example = "Europe/Madrid")]
    pub client_time_zone: Option<String>,
}

/// A booking's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Confirmed,
    Cancelled,
}

/// What became of a booking.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingOutcome {
    Attended,
    NoShow,
    LateCancel,
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
    #[param(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct LookupRequest {
    /// The email the booking was made with.
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: String,
}

/// The times a booking can move to, proven by the email it was made with.
#[derive(Deserialize, ToSchema)]
pub struct MoveAvailabilityRequest {
    /// The email the booking was made with.
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: String,
    /// First local date, YYYY-MM-DD.
    #[schema(format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-08")]
    pub from: String,
    /// Last local date, YYYY-MM-DD.
    #[schema(format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-09")]
    pub to: String,
    /// Only the booking's current staff member (resource); default false (any that does the
    /// service).
    #[serde(default)]
    #[schema(example = false)]
    pub same_resource: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RescheduleRequest {
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: String,
    #[schema(format = Uuid, example = "0b7c2d1e-5f3a-4c8e-9d6b-2a1f0e9c8b7a")]
    pub hold_id: String,
    /// When given, it must be a server-issued session of this tenant, and the hold must
    /// belong to it.
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// A server-issued session id (`gs_` and 43 base64url characters): a bearer secret.
    #[schema(
        pattern = "^gs_[A-Za-z0-9_-]{43}$",
        example = "gs_q3JxVb0mW7tYc2LhN9pZs4KdE1uRf8GaXo6iQyT5nMv"
    )]
    pub session_id: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CancelRequest {
    #[schema(format = "email", max_length = 254, example = "ana@example.com")]
    pub email: String,
}

// ---- admin ----

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TenantLanguages {
    /// The languages the receptionist speaks, its default first: chat, phone, texts and
    /// emails. A client who writes or chooses another offered language is answered in it.
    #[schema(min_items = 1, max_items = 2, example = json!(["en", "es"]))]
    pub languages: Vec<LanguageCode>,
}

/// A language the receptionist speaks.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LanguageCode {
    /// English.
    En,
    /// Spanish.
    Es,
}

impl From<LanguageCode> for gomomo::domain::Locale {
    fn from(c: LanguageCode) -> Self {
        match c {
            LanguageCode::En => gomomo::domain::Locale::En,
            LanguageCode::Es => gomomo::domain::Locale::Es,
        }
    }
}

impl From<gomomo::domain::Locale> for LanguageCode {
    fn from(l: gomomo::domain::Locale) -> Self {
        match l {
            gomomo::domain::Locale::En => LanguageCode::En,
            gomomo::domain::Locale::Es => LanguageCode::Es,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct WidgetOrigins {
    /// Browser origins (`scheme://host[:port]`, https only in production) allowed to open
    /// the chat widget's WebSocket besides the deployment's own; `*` allows any. Empty: the
    /// deployment's own origin only (the default for new tenants). At most 50.
    #[schema(max_items = 50, example = json!(["https://clinic.example"]))]
    pub widget_origins: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PublicBookingUrl {
    /// The link every message that asks the client to act carries (reminders, no-show
    /// follow-ups, schedule-change notices, cancellations, follow-ups); `null` when none is
    /// set.
    #[schema(
        format = "uri",
        max_length = 500,
        example = "https://clinic.example/book"
    )]
    pub public_booking_url: Option<String>,
    /// The link messages carry now: the URL above, or the tenant's hosted chat page
    /// (`/?tenant=`) without one.
    #[schema(format = "uri", example = "https://clinic.example/book")]
    pub effective_link: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct PublicBookingUrlRequest {
    /// An `https://` URL (plain `http://` outside production) of at most 500 characters;
    /// `null` or `""` clears it.
    #[schema(
        format = "uri",
        max_length = 500,
        example = "https://clinic.example/book"
    )]
    pub public_booking_url: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateTenantRequest {
    #[schema(min_length = 1, max_length = 200, example = "Riverside Clinic")]
    pub name: String,
    /// An IANA time zone.
    #[schema(max_length = 64, example = "America/New_York")]
    pub time_zone: String,
    #[schema(minimum = 5, maximum = 480, example = 30)]
    pub slot_step_minutes: Option<i32>,
    #[schema(minimum = 0, maximum = 43200, example = 60)]
    pub min_notice_minutes: Option<i32>,
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub max_days_ahead: Option<i32>,
    #[schema(minimum = 0, maximum = 240, example = 0)]
    pub buffer_minutes: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct TenantAdminView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(max_length = 200, example = "Riverside Clinic")]
    pub name: String,
    /// An IANA time zone.
    #[schema(max_length = 64, example = "America/New_York")]
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
    #[schema(
        pattern = "^gmk_[A-Za-z0-9]{32}$",
        example = "gmk_3fJ9kQ2mX7pL0vB8nR4tY6wZ1cD5hG2s"
    )]
    pub api_key: String,
}

#[derive(Deserialize, ToSchema, Default)]
pub struct UpdateTenantRequest {
    #[schema(min_length = 1, max_length = 200, example = "Riverside Clinic")]
    pub name: Option<String>,
    /// An IANA time zone.
    #[schema(max_length = 64, example = "America/New_York")]
    pub time_zone: Option<String>,
    #[schema(minimum = 5, maximum = 480, example = 30)]
    pub slot_step_minutes: Option<i32>,
    #[schema(minimum = 0, maximum = 43200, example = 60)]
    pub min_notice_minutes: Option<i32>,
    #[schema(minimum = 1, maximum = 365, example = 30)]
    pub max_days_ahead: Option<i32>,
    #[schema(minimum = 0, maximum = 240, example = 0)]
    pub buffer_minutes: Option<i32>,
}

#[derive(Deserialize, ToSchema)]
pub struct ServiceRequest {
    #[schema(min_length = 1, max_length = 200, example = "Consultation")]
    pub name: Option<String>,
    #[schema(max_length = 2000, example = "A first 30-minute visit.")]
    pub description: Option<String>,
    #[schema(minimum = 5, maximum = 720, example = 30)]
    pub duration_minutes: Option<i32>,
    #[schema(example = true)]
    pub active: Option<bool>,
    /// Resources that can do this service (replaces the list).
    #[schema(example = json!(["e2f3ef5b-2d4b-4de7-8e63-73be861154ec"]))]
    pub resource_ids: Option<Vec<Uuid>>,
}

#[derive(Deserialize, ToSchema)]
pub struct ResourceRequest {
    #[schema(min_length = 1, max_length = 200, example = "Dr. Rivera")]
    pub name: Option<String>,
    /// `staff` or `room`.
    #[schema(value_type = Option<ResourceKind>)]
    pub kind: Option<String>,
    #[schema(example = true)]
    pub active: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(max_length = 200, example = "Dr. Rivera")]
    pub name: String,
    #[schema(value_type = ResourceKind)]
    pub kind: String,
    #[schema(example = true)]
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

/// What a resource is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Staff,
    Room,
}

#[derive(Deserialize, ToSchema)]
pub struct HoursRequest {
    pub hours: Vec<HoursView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListBookingsQuery {
    /// First local date, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-08")]
    pub from: Option<String>,
    /// Last local date, inclusive (default: from + 30 days).
    #[param(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-14")]
    pub to: Option<String>,
    /// `confirmed` or `cancelled`.
    #[param(value_type = Option<BookingStatus>)]
    pub status: Option<String>,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct BookingList {
    pub bookings: Vec<BookingView>,
}
