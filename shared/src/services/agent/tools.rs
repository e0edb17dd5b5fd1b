//! The agent's 8 tools as typed calls over the booking service, shared by
//! the deterministic engine and the LLM path. Every call is audited (PII redacted).
//!
//! Guardrails are enforced here, in code, not left to the prompt:
//! - `check_availability` is refused while the user's message is a vague request ("the next
//!   24 available") — the agent must ask a clarifying question first;
//! - `hold_slot` (and a reschedule's new time) more than [`FAR_FUTURE_DAYS`] days out is
//!   refused unless the user confirmed that date in an earlier turn;
//! - `confirm_booking` only accepts the live hold of this session;
//! - `schedule_contact_followup` goes only to the client's own contact (the email or phone
//!   stored in this session's client details: given for their booking or waitlist entry, or
//!   typed by the client), never to a recipient the model names; then per-session limit →
//!   per-recipient cooldown → explicit confirmation (from an earlier turn) for an additional
//!   follow-up → the tenant's daily cap.

use std::net::IpAddr;

use crate::config::AgentLimits;
use crate::db::bookings::HoldRow;
use crate::services::budgets::{BudgetError, Budgets};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::state::{ActiveHold, SessionState};
use crate::db::bookings::{AppointmentRow, AppointmentStatus};
use crate::db::tenants::ServiceRow;
use crate::db::{audit, followups, outbox, waitlist};
use crate::domain::events::{DomainEvent, FollowupRequested};
use crate::domain::nlu;
use crate::domain::slots;
use crate::domain::{
    ClientName, Email, Notes, PhoneE164, ReferenceCode, SessionId, TenantId, TimeZone,
};
use crate::services::booking::{
    BookingError, BookingErrorKind, BookingService, ClientDetails, MoveOf, TenantSchedule,
};

/// Holds further out than this need a date the user confirmed in an earlier turn.
pub const FAR_FUTURE_DAYS: i64 = 30;
/// At most this many slots go back to the model in one result.
const MAX_SLOTS_IN_RESULT: usize = 24;

pub const TOOL_NAMES: [&str; 9] = [
    "check_availability",
    "hold_slot",
    "confirm_booking",
    "lookup_booking",
    "reschedule_booking",
    "cancel_booking",
    "create_inquiry",
    "schedule_contact_followup",
    "leave_waitlist",
];

/// What went wrong in a tool call; its code is what the model sees and the audit records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolErrorKind {
    /// The booking service refused (never `busy` or `internal_error`: those are
    /// [`ToolErrorKind::SystemError`]).
    Booking(BookingErrorKind),
    InvalidArgument,
    /// The user's request is vague; ask before checking availability.
    ClarificationRequired,
    /// A date far ahead that the user has not confirmed in an earlier turn.
    DateConfirmationRequired,
    /// `confirm_booking` without the live hold of this conversation.
    NoLiveHold,
    ContactRequired,
    FollowupLimitReached,
    FollowupCooldown,
    /// A follow-up to someone other than the client's own contact of this session.
    RecipientNotAllowed,
    /// The tenant's follow-ups for the last 24 hours are used up.
    FollowupDailyLimitReached,
    /// An additional follow-up needs the user's explicit yes.
    ConfirmationRequired,
    /// A cancel or reschedule needs the booking's email typed by the user for it.
    EmailRequired,
    /// The client's hold budget is used up for now.
    RateLimited,
    UnknownTool,
    /// Our side failed; nothing was changed.
    SystemError,
}

impl ToolErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Booking(k) => k.code(),
            Self::InvalidArgument => "invalid_argument",
            Self::ClarificationRequired => "clarification_required",
            Self::DateConfirmationRequired => "date_confirmation_required",
            Self::NoLiveHold => "no_live_hold",
            Self::ContactRequired => "contact_required",
            Self::FollowupLimitReached => "followup_limit_reached",
            Self::FollowupCooldown => "followup_cooldown",
            Self::RecipientNotAllowed => "recipient_not_allowed",
            Self::FollowupDailyLimitReached => "followup_daily_limit_reached",
            Self::ConfirmationRequired => "confirmation_required",
            Self::EmailRequired => "email_required",
            Self::RateLimited => "rate_limited",
            Self::UnknownTool => "unknown_tool",
            Self::SystemError => "system_error",
        }
    }
}

/// A tool refusal or failure: a stable code the model and the engine act on, and a message
/// for the model. Serializes as `{"code": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    pub kind: ToolErrorKind,
    pub message: String,
}

impl ToolError {
    fn new(kind: ToolErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn booking(kind: BookingErrorKind, message: impl Into<String>) -> Self {
        Self::new(ToolErrorKind::Booking(kind), message)
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The booking service's refusal, if this is one.
    pub fn booking_kind(&self) -> Option<BookingErrorKind> {
        match self.kind {
            ToolErrorKind::Booking(k) => Some(k),
            _ => None,
        }
    }
}

impl Serialize for ToolError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("ToolError", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

impl From<BookingError> for ToolError {
    fn from(e: BookingError) -> Self {
        use BookingErrorKind as K;
        let msg = e.to_string();
        match e.kind() {
            K::InvalidArgument => Self::new(ToolErrorKind::InvalidArgument, msg),
            K::CalendarUnavailable => {
                let held = match &e {
                    BookingError::CalendarUnavailable { hold_id, .. } => {
                        format!(" (the same time is held again: hold_id {hold_id})")
                    }
                    _ => String::new(),
                };
                Self::booking(K::CalendarUnavailable, format!("{msg}{held}"))
            }
            K::Busy | K::Internal => {
                tracing::error!(error = %e, "tool failed on our side");
                Self::new(
                    ToolErrorKind::SystemError,
                    "a system error occurred; nothing was changed",
                )
            }
            kind => Self::booking(kind, msg),
        }
    }
}

impl From<sqlx::Error> for ToolError {
    fn from(e: sqlx::Error) -> Self {
        BookingError::Database(e).into()
    }
}

/// What the UI shows for a tool outcome (toasts, cards, slot buttons).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentEvent {
    Slots {
        service_id: Uuid,
        slots: Vec<SlotView>,
    },
    HoldPlaced {
        hold_id: Uuid,
        label: String,
        expires_at: DateTime<Utc>,
    },
    BookingConfirmed {
        reference: String,
        service: String,
        start: DateTime<Utc>,
        label: String,
    },
    BookingCancelled {
        reference: String,
        label: String,
    },
    BookingRescheduled {
        reference: String,
        label: String,
    },
    SlotUnavailable,
    HoldExpired,
    WaitlistJoined {
        inquiry_id: Uuid,
    },
    FollowupScheduled {
        channel: String,
        expected: String,
    },
    SystemIssue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotView {
    pub start: String,
    pub end: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvailabilityResult {
    pub service_id: Uuid,
    pub service: String,
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub slots: Vec<SlotView>,
    pub more_available: usize,
    #[serde(skip)]
    pub starts: Vec<DateTime<Utc>>,
    /// The end of each slot in `starts` (same order).
    #[serde(skip)]
    pub ends: Vec<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HoldResult {
    pub hold_id: Uuid,
    pub start: String,
    pub end: String,
    pub label: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookingSummary {
    pub reference: String,
    pub status: AppointmentStatus,
    pub service: String,
    pub start: String,
    pub end: String,
    pub label: String,
}

/// One turn's context: the tenant, the session, its state, and what happened so far.
pub struct TurnCtx {
    pub tenant: TenantId,
    pub session: SessionId,
    pub sched: TenantSchedule,
    pub services: Vec<ServiceRow>,
    pub state: SessionState,
    pub now: DateTime<Utc>,
    /// The user's message of this turn is a vague request (no availability until clarified).
    pub vague: bool,
    /// Tools that succeeded in this turn (the reply guard reads this).
    pub succeeded: Vec<&'static str>,
    pub events: Vec<AgentEvent>,
    /// The language of this turn's replies.
    pub locale: crate::domain::Locale,
}

impl TurnCtx {
    pub fn tz(&self) -> Tz {
        self.sched.tz
    }

    pub fn today(&self) -> NaiveDate {
        self.sched.local_date(self.now)
    }

    pub fn service(&self, id: Uuid) -> Option<&ServiceRow> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The client's own zone, when the session knows one (the browser's, or one the client
    /// named).
    /// The chat's words in its language.
    pub fn chat(&self) -> &'static crate::text::Chat {
        &self.locale.text().chat
    }

    pub fn client_tz(&self) -> Option<Tz> {
        crate::text::client_zone(self.state.time_zone.as_deref())
    }

    /// "Tue, Dec 15 at 10:30 AM" in the tenant's zone, with the client's own time beside it
    /// when the client's zone reads another clock.
    pub fn label(&self, t: DateTime<Utc>) -> String {
        crate::text::beside_client_time(
            self.locale,
            label(self.locale, t, self.tz()),
            t,
            self.tz(),
            self.client_tz(),
        )
    }

    /// [`Self::label`] without the day (for a list of one day's times).
    pub fn time_label(&self, t: DateTime<Utc>) -> String {
        let full = label(self.locale, t, self.tz());
        let time = full
            .rsplit(self.chat().slot_label_time_after)
            .next()
            .unwrap_or(&full)
            .to_string();
        crate::text::beside_client_time(self.locale, time, t, self.tz(), self.client_tz())
    }

    fn local_rfc3339(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.tz()).to_rfc3339()
    }
}

/// "Tue, Dec 15 at 10:30 AM" in the tenant's zone, in `locale`.
pub fn label(locale: crate::domain::Locale, t: DateTime<Utc>, tz: Tz) -> String {
    locale.at(&t.with_timezone(&tz), locale.text().chat.slot_label_format)
}

#[derive(Clone)]
pub struct ToolExecutor {
    booking: BookingService,
    limits: AgentLimits,
    /// The hold budgets of the client this turn answers (the same as `POST …/holds`).
    hold_budget: Option<(Budgets, Option<IpAddr>)>,
}

/// How many of the user's next messages may carry the email a change of booking asked for.
const CHANGE_EMAIL_TURNS: u32 = 6;

// --- arguments (what the model sends; the engine fills them directly) ------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct CheckAvailabilityArgs {
    pub service_id: String,
    /// ISO date or words ("tomorrow", "next Tuesday"), resolved in the tenant's zone.
    pub start_date: String,
    pub end_date: Option<String>,
    /// For a new time for an existing booking: its reference and email, so that times
    /// overlapping its own current time are offered too.
    pub reschedule_reference: Option<String>,
    pub reschedule_email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HoldSlotArgs {
    pub service_id: String,
    /// A slot start exactly as check_availability returned it.
    pub start_time: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConfirmBookingArgs {
    pub hold_id: String,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BookingRefArgs {
    pub reference: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RescheduleArgs {
    pub reference: String,
    pub email: String,
    pub new_start_time: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InquiryArgs {
    pub service_id: Option<String>,
    pub preferred_from: Option<String>,
    pub preferred_to: Option<String>,
    pub time_of_day: Option<String>,
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub client_phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FollowupArgs {
    pub channel: String,
    pub recipient: Option<String>,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub confirmed_additional: bool,
}

fn bad(field: &str, why: &str) -> ToolError {
    ToolError::new(ToolErrorKind::InvalidArgument, format!("{field}: {why}"))
}

fn parse_uuid(field: &str, raw: &str) -> Result<Uuid, ToolError> {
    Uuid::parse_str(raw.trim()).map_err(|_| bad(field, "expected an id from an earlier result"))
}

impl ToolExecutor {
    pub fn new(booking: BookingService, limits: AgentLimits) -> Self {
        Self {
            booking,
            limits,
            hold_budget: None,
        }
    }

    /// The same executor; the holds it places count against `budgets` for `client`.
    pub fn for_client(&self, budgets: &Budgets, client: Option<IpAddr>) -> Self {
        Self {
            hold_budget: Some((budgets.clone(), client)),
            ..self.clone()
        }
    }

    /// A hold through the booking service, within the client's hold budgets.
    async fn budgeted_hold(
        &self,
        ctx: &TurnCtx,
        service_id: Uuid,
        start: DateTime<Utc>,
        moving: Option<&MoveOf>,
    ) -> Result<HoldRow, ToolError> {
        if let Some((budgets, client)) = &self.hold_budget {
            if let Err(e) = budgets.hold(ctx.tenant.0, *client).await {
                return Err(hold_budget_refusal(e));
            }
        }
        let out = match moving {
            Some(m) => {
                self.booking
                    .create_move_hold(ctx.tenant, service_id, start, &ctx.session, m)
                    .await
            }
            None => {
                self.booking
                    .create_hold(ctx.tenant, service_id, start, &ctx.session)
                    .await
            }
        };
        if out.is_err() {
            if let Some((budgets, client)) = &self.hold_budget {
                budgets.hold_not_created(*client).await;
            }
        }
        Ok(out?)
    }

    pub fn booking(&self) -> &BookingService {
        &self.booking
    }

    pub fn limits(&self) -> &AgentLimits {
        &self.limits
    }

    /// A date from the model or the engine: ISO, or words resolved on the server.
    pub fn resolve_date(ctx: &TurnCtx, raw: &str) -> Result<NaiveDate, ToolError> {
        let raw = raw.trim();
        if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return Ok(d);
        }
        nlu::parse_date(raw, ctx.today()).ok_or_else(|| {
            bad(
                "date",
                "give a date as YYYY-MM-DD or words like 'next Tuesday'",
            )
        })
    }

    /// A slot start: RFC 3339 with offset, or a local `YYYY-MM-DDTHH:MM` in the tenant's zone.
    pub fn resolve_instant(ctx: &TurnCtx, raw: &str) -> Result<DateTime<Utc>, ToolError> {
        let raw = raw.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            return Ok(t.with_timezone(&Utc));
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
            if let Ok(n) = NaiveDateTime::parse_from_str(raw, fmt) {
                return Ok(slots::local_to_utc(ctx.tz(), n.date(), n.time(), true));
            }
        }
        Err(bad(
            "start_time",
            "use a slot start exactly as check_availability returned it",
        ))
    }

    fn far_future_guard(ctx: &mut TurnCtx, start: DateTime<Utc>) -> Result<(), ToolError> {
        let date = ctx.sched.local_date(start);
        if date > ctx.today() + Duration::days(FAR_FUTURE_DAYS)
            && !ctx.state.confirmed_dates.contains(&date)
        {
            ctx.state.pending_date_confirmation = Some(date);
            return Err(ToolError::new(ToolErrorKind::DateConfirmationRequired,
                format!(
                    "{} is more than {FAR_FUTURE_DAYS} days away: ask the user to confirm this exact date first ({})",
                    date,
                    date.format("%A, %B %-d, %Y")
                ),
            ));
        }
        Ok(())
    }

    async fn audit(
        &self,
        ctx: &TurnCtx,
        tool: &str,
        args: Value,
        outcome: &Result<Value, ToolError>,
    ) {
        let payload = json!({
            "tool": tool,
            "args": args,
            "ok": outcome.is_ok(),
            "error_code": outcome.as_ref().err().map(ToolError::code),
        });
        let res = async {
            let mut conn = self.booking.pool().acquire().await?;
            audit::record(
                &mut conn,
                audit::AuditEntry {
                    tenant_id: Some(ctx.tenant.0),
                    event_type: "agent.tool",
                    entity_type: "chat_session",
                    entity_id: Some(ctx.session.audit_ref()),
                    actor: "agent",
                    payload,
                },
            )
            .await
        }
        .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, tool, "could not audit a tool call");
        }
    }

    /// Runs a tool by name with JSON arguments (the LLM path). Unknown tools and malformed
    /// arguments are errors the model sees, never panics.
    pub async fn dispatch(&self, ctx: &mut TurnCtx, name: &str, args: &Value) -> Value {
        macro_rules! typed {
            ($t:ty) => {
                match serde_json::from_value::<$t>(args.clone()) {
                    Ok(a) => a,
                    Err(e) => {
                        let err = bad("arguments", &e.to_string());
                        let out = Err(err.clone());
                        self.audit(ctx, name, args.clone(), &out).await;
                        return json!({"ok": false, "error": err});
                    }
                }
            };
        }
        let outcome: Result<Value, ToolError> = match name {
            "check_availability" => {
                let a = typed!(CheckAvailabilityArgs);
                self.check_availability_args(ctx, &a).await.map(to_json)
            }
            "hold_slot" => {
                let a = typed!(HoldSlotArgs);
                self.hold_slot_args(ctx, &a).await.map(to_json)
            }
            "confirm_booking" => {
                let a = typed!(ConfirmBookingArgs);
                self.confirm_booking_args(ctx, &a).await.map(to_json)
            }
            "lookup_booking" => {
                let a = typed!(BookingRefArgs);
                self.lookup_booking_args(ctx, &a).await.map(to_json)
            }
            "reschedule_booking" => {
                let a = typed!(RescheduleArgs);
                self.reschedule_args(ctx, &a).await.map(to_json)
            }
            "cancel_booking" => {
                let a = typed!(BookingRefArgs);
                self.cancel_args(ctx, &a).await.map(to_json)
            }
            "create_inquiry" => {
                let a = typed!(InquiryArgs);
                self.create_inquiry(ctx, &a).await
            }
            "schedule_contact_followup" => {
                let a = typed!(FollowupArgs);
                self.schedule_followup(ctx, &a).await
            }
            "leave_waitlist" => self.leave_waitlist(ctx).await,
            other => Err(ToolError::new(
                ToolErrorKind::UnknownTool,
                format!("{other} is not one of the available tools"),
            )),
        };
        match outcome {
            Ok(v) => json!({"ok": true, "result": v}),
            Err(e) => json!({"ok": false, "error": e}),
        }
    }

    // --- the tools, typed -----------------------------------------------------------------

    pub async fn check_availability_args(
        &self,
        ctx: &mut TurnCtx,
        a: &CheckAvailabilityArgs,
    ) -> Result<AvailabilityResult, ToolError> {
        let service = parse_uuid("service_id", &a.service_id)?;
        let from = Self::resolve_date(ctx, &a.start_date)?;
        let to = match &a.end_date {
            Some(e) if !e.trim().is_empty() => Self::resolve_date(ctx, e)?,
            _ => from,
        };
        let moving = match (&a.reschedule_reference, &a.reschedule_email) {
            (Some(r), Some(e)) if !r.trim().is_empty() => {
                let (reference, email) = Self::parse_ref(r, e)?;
                Some(MoveOf {
                    reference,
                    email,
                    same_resource: false,
                })
            }
            _ => None,
        };
        self.check_availability(ctx, service, from, to, moving.as_ref())
            .await
    }

    /// Open slots of the service; for `moving`, the times that booking can move to (its own
    /// current time not busy), as its reschedule hold will accept them.
    pub async fn check_availability(
        &self,
        ctx: &mut TurnCtx,
        service_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        moving: Option<&MoveOf>,
    ) -> Result<AvailabilityResult, ToolError> {
        let args = json!({"service_id": service_id, "from": from, "to": to,
                          "reschedule": moving.map(|m| m.reference.as_str())});
        let out: Result<_, ToolError> = async {
            if ctx.vague {
                return Err(ToolError::new(ToolErrorKind::ClarificationRequired,
                    "the request is vague: ask the user which day(s) or time of day they want before checking availability",
                ));
            }
            let service = ctx
                .service(service_id)
                .cloned()
                .ok_or_else(|| ToolError::booking(BookingErrorKind::ServiceNotFound, "no such service"))?;
            let avail = match moving {
                Some(m) => self.booking.move_availability(ctx.tenant, m, from, to).await?,
                None => {
                    self.booking
                        .availability(ctx.tenant, service_id, from, to)
                        .await?
                }
            };
            if avail.service_id != service_id {
                return Err(ToolError::booking(
                    BookingErrorKind::ServiceNotFound,
                    "a booking keeps its service when it moves: use the booking's service_id",
                ));
            }
            let total = avail.slots.len();
            let starts: Vec<DateTime<Utc>> = avail.slots.iter().map(|s| s.start).collect();
            let ends: Vec<DateTime<Utc>> = avail.slots.iter().map(|s| s.end).collect();
            let slots: Vec<SlotView> = avail
                .slots
                .iter()
                .take(MAX_SLOTS_IN_RESULT)
                .map(|s| SlotView {
                    start: ctx.local_rfc3339(s.start),
                    end: ctx.local_rfc3339(s.end),
                    label: ctx.label(s.start),
                })
                .collect();
            Ok(AvailabilityResult {
                service_id,
                service: service.name,
                time_zone: ctx.tz().name().to_string(),
                from,
                to,
                more_available: total.saturating_sub(slots.len()),
                slots,
                starts,
                ends,
            })
        }
        .await;
        self.finish(ctx, "check_availability", args, out).await
    }

    pub async fn hold_slot_args(
        &self,
        ctx: &mut TurnCtx,
        a: &HoldSlotArgs,
    ) -> Result<HoldResult, ToolError> {
        let service = parse_uuid("service_id", &a.service_id)?;
        let start = Self::resolve_instant(ctx, &a.start_time)?;
        self.hold_slot(ctx, service, start).await
    }

    pub async fn hold_slot(
        &self,
        ctx: &mut TurnCtx,
        service_id: Uuid,
        start: DateTime<Utc>,
    ) -> Result<HoldResult, ToolError> {
        let args = json!({"service_id": service_id, "start": start});
        let out: Result<_, ToolError> = async {
            Self::far_future_guard(ctx, start)?;
            let hold = self.budgeted_hold(ctx, service_id, start, None).await?;
            ctx.state.active_hold = Some(ActiveHold {
                hold_id: hold.id,
                service_id,
                start: hold.start_at,
                end: hold.end_at,
                expires_at: hold.expires_at,
            });
            let label = ctx.label(hold.start_at);
            ctx.events.push(AgentEvent::HoldPlaced {
                hold_id: hold.id,
                label: label.clone(),
                expires_at: hold.expires_at,
            });
            Ok(HoldResult {
                hold_id: hold.id,
                start: ctx.local_rfc3339(hold.start_at),
                end: ctx.local_rfc3339(hold.end_at),
                label,
                expires_at: hold.expires_at,
            })
        }
        .await;
        if matches!(
            out.as_ref().map_err(ToolError::booking_kind),
            Err(Some(
                BookingErrorKind::SlotUnavailable
                    | BookingErrorKind::SlotTaken
                    | BookingErrorKind::ScheduleClosed
                    | BookingErrorKind::DailyLimitReached
            ))
        ) {
            ctx.events.push(AgentEvent::SlotUnavailable);
        }
        self.finish(ctx, "hold_slot", args, out).await
    }

    pub async fn confirm_booking_args(
        &self,
        ctx: &mut TurnCtx,
        a: &ConfirmBookingArgs,
    ) -> Result<BookingSummary, ToolError> {
        let hold = parse_uuid("hold_id", &a.hold_id)?;
        let details = ClientDetails {
            name: ClientName::parse(&a.client_name).map_err(|e| bad("client_name", &e.reason))?,
            email: Email::parse(&a.client_email).map_err(|e| bad("client_email", &e.reason))?,
            phone: match a.client_phone.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(p) => Some(PhoneE164::parse(p).map_err(|e| bad("client_phone", &e.reason))?),
            },
            notes: a.notes.as_deref().and_then(Notes::from_free_text),
            time_zone: None,
            locale: Some(ctx.locale),
        };
        self.confirm_booking(ctx, hold, &details).await
    }

    pub async fn confirm_booking(
        &self,
        ctx: &mut TurnCtx,
        hold_id: Uuid,
        details: &ClientDetails,
    ) -> Result<BookingSummary, ToolError> {
        let args = json!({"hold_id": hold_id, "client_name": details.name.as_str(), "client_email": details.email.as_str()});
        let out: Result<_, ToolError> =
            async {
                match &ctx.state.active_hold {
                Some(h) if h.hold_id == hold_id && h.expires_at > ctx.now => {}
                Some(h) if h.hold_id == hold_id => {
                    ctx.state.active_hold = None;
                    ctx.events.push(AgentEvent::HoldExpired);
                    return Err(ToolError::booking(BookingErrorKind::HoldExpired,
                        "the hold has expired; check availability and hold a time again",
                    ));
                }
                _ => return Err(ToolError::new(ToolErrorKind::NoLiveHold,
                    "confirm_booking needs the live hold this conversation placed with hold_slot",
                )),
            }
                // The booking keeps the client's zone the session knows (the browser's or
                // one the client named) unless the caller gave one.
                let mut details = details.clone();
                if details.time_zone.is_none() {
                    details.time_zone = ctx.client_tz().map(TimeZone);
                }
                let details = &details;
                let res = self
                    .booking
                    .confirm(ctx.tenant, hold_id, &ctx.session, details)
                    .await;
                let (appt, _) = match res {
                    Ok(x) => x,
                    Err(e) => {
                        use BookingErrorKind as K;
                        let kind = e.kind();
                        match kind {
                            K::HoldExpired => ctx.events.push(AgentEvent::HoldExpired),
                            K::SlotTaken => ctx.events.push(AgentEvent::SlotUnavailable),
                            _ => {}
                        }
                        if matches!(kind, K::HoldExpired | K::SlotTaken | K::HoldNotFound) {
                            ctx.state.active_hold = None;
                        }
                        return Err(ToolError::from(e));
                    }
                };
                ctx.state.active_hold = None;
                ctx.state.client_name = Some(details.name.as_str().to_string());
                ctx.state.client_email = Some(details.email.as_str().to_string());
                if let Some(p) = &details.phone {
                    ctx.state.client_phone = Some(p.as_str().to_string());
                }
                let view = self.view(ctx, &appt);
                ctx.events.push(AgentEvent::BookingConfirmed {
                    reference: view.reference.clone(),
                    service: view.service.clone(),
                    start: appt.start_at,
                    label: view.label.clone(),
                });
                Ok(view)
            }
            .await;
        self.finish(ctx, "confirm_booking", args, out).await
    }

    fn view(&self, ctx: &TurnCtx, a: &AppointmentRow) -> BookingSummary {
        BookingSummary {
            reference: a.reference.clone(),
            status: a.status,
            service: ctx
                .service(a.service_id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "appointment".into()),
            start: ctx.local_rfc3339(a.start_at),
            end: ctx.local_rfc3339(a.end_at),
            label: match ctx.client_tz() {
                Some(_) => ctx.label(a.start_at),
                None => crate::text::beside_client_time(
                    ctx.locale,
                    label(ctx.locale, a.start_at, ctx.tz()),
                    a.start_at,
                    ctx.tz(),
                    crate::text::client_zone(a.client_time_zone.as_deref()),
                ),
            },
        }
    }

    fn parse_ref(a: &str, email: &str) -> Result<(ReferenceCode, Email), ToolError> {
        let r = ReferenceCode::parse(a)
            .ok()
            .or_else(|| nlu::extract_reference(a))
            .ok_or_else(|| bad("reference", "reference codes look like ABCD-EFGH"))?;
        let e = Email::parse(email).map_err(|e| bad("email", &e.reason))?;
        Ok((r, e))
    }

    pub async fn lookup_booking_args(
        &self,
        ctx: &mut TurnCtx,
        a: &BookingRefArgs,
    ) -> Result<BookingSummary, ToolError> {
        let (r, e) = Self::parse_ref(&a.reference, &a.email)?;
        self.lookup_booking(ctx, &r, &e).await
    }

    /// The model's way in: what only the client decides is checked against the client's
    /// own messages first (see [`Self::client_consent`]), then the tool runs as
    /// [`Self::dispatch`] runs it.
    pub async fn dispatch_for_model(&self, ctx: &mut TurnCtx, name: &str, args: &Value) -> Value {
        if let Err(e) = Self::client_consent(ctx, name, args) {
            let out: Result<Value, ToolError> = Err(e.clone());
            self.audit(ctx, name, args.clone(), &out).await;
            return json!({"ok": false, "error": e});
        }
        self.dispatch(ctx, name, args).await
    }

    /// A model's call that changes or shows a booking needs the client's word for it: a
    /// booking is confirmed only in the message where the client says yes, and under an
    /// email the client typed; a booking is looked up only with an email the client typed;
    /// a cancel or reschedule only when the client asked for one and says yes now.
    fn client_consent(ctx: &mut TurnCtx, name: &str, args: &Value) -> Result<(), ToolError> {
        let email = |key: &str| args[key].as_str().and_then(|e| Email::parse(e).ok());
        match name {
            "confirm_booking" => {
                if !ctx.state.turn_yes {
                    return Err(ToolError::new(
                        ToolErrorKind::ConfirmationRequired,
                        "ask the user to confirm the service, time, name and email (yes/no); call confirm_booking only with the message in which they say yes",
                    ));
                }
                match email("client_email") {
                    Some(e) => Self::typed_by_client(ctx, &e),
                    None => Ok(()),
                }
            }
            "lookup_booking" => match email("email") {
                Some(e) => Self::typed_by_client(ctx, &e),
                None => Ok(()),
            },
            // The booking's email first (a refusal asks for it, and arms the messages in
            // which the client may type it), then the client's yes to the change.
            "cancel_booking" => {
                if let Some(e) = email("email") {
                    Self::typed_for_change(ctx, &e)?;
                }
                Self::asked_for(
                    ctx,
                    ctx.state.asked_cancel,
                    ctx.state.turn_asks_cancel,
                    "cancel",
                )
            }
            "reschedule_booking" => {
                if let Some(e) = email("email") {
                    Self::typed_for_change(ctx, &e)?;
                }
                Self::asked_for(
                    ctx,
                    ctx.state.asked_reschedule,
                    ctx.state.turn_asks_reschedule,
                    "reschedule",
                )
            }
            _ => Ok(()),
        }
    }

    /// A booking is made or shown only under an email the client typed in this
    /// conversation (or the one a booking of this conversation already has): never one the
    /// model supplies on its own.
    fn typed_by_client(ctx: &TurnCtx, email: &Email) -> Result<(), ToolError> {
        let e = email.as_str();
        if ctx.state.turn_email.as_deref() == Some(e)
            || ctx.state.typed_emails.iter().any(|x| x == e)
            || ctx.state.client_email.as_deref() == Some(e)
        {
            return Ok(());
        }
        Err(ToolError::new(
            ToolErrorKind::EmailRequired,
            "use only an email address the user typed in this conversation; ask them for it",
        ))
    }

    /// A cancel or reschedule only in the message that asks for it (with no "no": "I don't
    /// want to cancel" is no request), or in one that says yes after the client asked for
    /// it earlier in this conversation.
    fn asked_for(ctx: &TurnCtx, asked: bool, asks_now: bool, what: &str) -> Result<(), ToolError> {
        if asks_now || (asked && ctx.state.turn_yes) {
            return Ok(());
        }
        Err(ToolError::new(
            ToolErrorKind::ConfirmationRequired,
            format!("ask the user to confirm they want to {what} this booking (yes/no); call the tool only with the message in which they say yes"),
        ))
    }

    pub async fn lookup_booking(
        &self,
        ctx: &mut TurnCtx,
        reference: &ReferenceCode,
        email: &Email,
    ) -> Result<BookingSummary, ToolError> {
        let args = json!({"reference": reference.as_str(), "email": email.as_str()});
        let out: Result<_, ToolError> = async {
            let appt = self.booking.lookup(ctx.tenant, reference, email).await?;
            Ok(self.view(ctx, &appt))
        }
        .await;
        self.finish(ctx, "lookup_booking", args, out).await
    }

    /// A change of booking goes by an email the user typed for it: in this message, or in
    /// one of the messages after a change asked for it. The email the conversation
    /// remembers is never enough (whoever holds the session could use it).
    fn typed_for_change(ctx: &mut TurnCtx, email: &Email) -> Result<(), ToolError> {
        let e = email.as_str();
        if ctx.state.turn_email.as_deref() == Some(e)
            || ctx.state.change_emails.iter().any(|x| x == e)
        {
            return Ok(());
        }
        ctx.state.change_email_turns = CHANGE_EMAIL_TURNS;
        Err(ToolError::new(
            ToolErrorKind::EmailRequired,
            "ask the user to type the email address the booking was made with, then call again with it; an email remembered from earlier in the conversation is not enough to change a booking",
        ))
    }

    fn change_done(ctx: &mut TurnCtx) {
        ctx.state.change_email_turns = 0;
        ctx.state.change_emails.clear();
    }

    pub async fn reschedule_args(
        &self,
        ctx: &mut TurnCtx,
        a: &RescheduleArgs,
    ) -> Result<BookingSummary, ToolError> {
        let (r, e) = Self::parse_ref(&a.reference, &a.email)?;
        let start = Self::resolve_instant(ctx, &a.new_start_time)?;
        Self::typed_for_change(ctx, &e)?;
        let out = self.reschedule(ctx, &r, &e, start).await;
        if out.is_ok() {
            Self::change_done(ctx);
        }
        out
    }

    /// Holds the new time for this session (its own current time is not busy for the hold),
    /// then moves the booking onto it in one transaction.
    pub async fn reschedule(
        &self,
        ctx: &mut TurnCtx,
        reference: &ReferenceCode,
        email: &Email,
        new_start: DateTime<Utc>,
    ) -> Result<BookingSummary, ToolError> {
        let args = json!({"reference": reference.as_str(), "email": email.as_str(), "new_start": new_start});
        let out: Result<_, ToolError> = async {
            Self::far_future_guard(ctx, new_start)?;
            let current = self.booking.lookup(ctx.tenant, reference, email).await?;
            if current.status == AppointmentStatus::Cancelled {
                return Err(ToolError::booking(
                    BookingErrorKind::BookingCancelled,
                    "the booking is cancelled",
                ));
            }
            let hold = self
                .budgeted_hold(
                    ctx,
                    current.service_id,
                    new_start,
                    Some(&MoveOf {
                        reference: reference.clone(),
                        email: email.clone(),
                        same_resource: false,
                    }),
                )
                .await
                .inspect_err(|e| {
                    if matches!(
                        e.booking_kind(),
                        Some(BookingErrorKind::SlotUnavailable | BookingErrorKind::ScheduleClosed)
                    ) {
                        ctx.events.push(AgentEvent::SlotUnavailable);
                    }
                })?;
            let moved = self
                .booking
                .reschedule(ctx.tenant, reference, email, hold.id, Some(&ctx.session))
                .await?;
            let view = self.view(ctx, &moved);
            ctx.events.push(AgentEvent::BookingRescheduled {
                reference: view.reference.clone(),
                label: view.label.clone(),
            });
            Ok(view)
        }
        .await;
        self.finish(ctx, "reschedule_booking", args, out).await
    }

    pub async fn cancel_args(
        &self,
        ctx: &mut TurnCtx,
        a: &BookingRefArgs,
    ) -> Result<BookingSummary, ToolError> {
        let (r, e) = Self::parse_ref(&a.reference, &a.email)?;
        Self::typed_for_change(ctx, &e)?;
        let out = self.cancel(ctx, &r, &e).await;
        if out.is_ok() {
            Self::change_done(ctx);
        }
        out
    }

    pub async fn cancel(
        &self,
        ctx: &mut TurnCtx,
        reference: &ReferenceCode,
        email: &Email,
    ) -> Result<BookingSummary, ToolError> {
        let args = json!({"reference": reference.as_str(), "email": email.as_str()});
        let out: Result<_, ToolError> = async {
            let appt = self.booking.cancel(ctx.tenant, reference, email).await?;
            let view = self.view(ctx, &appt);
            ctx.events.push(AgentEvent::BookingCancelled {
                reference: view.reference.clone(),
                label: view.label.clone(),
            });
            Ok(view)
        }
        .await;
        self.finish(ctx, "cancel_booking", args, out).await
    }

    /// The waitlist (`create_inquiry`): a `waitlist_entries` row the autonomy side matches
    /// against opened slots.
    pub async fn create_inquiry(
        &self,
        ctx: &mut TurnCtx,
        a: &InquiryArgs,
    ) -> Result<Value, ToolError> {
        let args = json!({
            "service_id": a.service_id, "preferred_from": a.preferred_from,
            "preferred_to": a.preferred_to, "time_of_day": a.time_of_day,
            "client_email": a.client_email, "client_phone": a.client_phone, "client_name": a.client_name,
        });
        let out: Result<_, ToolError> = async {
            let service_id = match a.service_id.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => {
                    let id = parse_uuid("service_id", s)?;
                    ctx.service(id)
                        .ok_or_else(|| ToolError::booking(BookingErrorKind::ServiceNotFound, "no such service"))?;
                    Some(id)
                }
            };
            let date = |v: &Option<String>| -> Result<Option<NaiveDate>, ToolError> {
                match v.as_deref().map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(s) => Self::resolve_date(ctx, s).map(Some),
                }
            };
            let from = date(&a.preferred_from)?;
            let to = date(&a.preferred_to)?;
            if let (Some(f), Some(t)) = (from, to) {
                if f > t {
                    return Err(bad("preferred_to", "is before preferred_from"));
                }
            }
            let tod = match a.time_of_day.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
                None => None,
                Some(s) if s.is_empty() || s == "any" => None,
                Some(s) if ["morning", "afternoon", "evening"].contains(&s.as_str()) => Some(s),
                Some(_) => return Err(bad("time_of_day", "morning, afternoon, evening or any")),
            };
            let email = match a.client_email.as_deref().or(ctx.state.client_email.as_deref()) {
                Some(e) => Some(Email::parse(e).map_err(|e| bad("client_email", &e.reason))?),
                None => None,
            };
            let phone = match a.client_phone.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(p) => Some(PhoneE164::parse(p).map_err(|e| bad("client_phone", &e.reason))?),
            };
            if email.is_none() && phone.is_none() {
                return Err(ToolError::new(ToolErrorKind::ContactRequired,
                    "ask the user for an email address (or a phone number) to contact them",
                ));
            }
            let name = a.client_name.clone().or_else(|| ctx.state.client_name.clone());
            let id = Uuid::new_v4();
            let mut tx = self.booking.pool().begin().await?;
            waitlist::insert(
                &mut tx,
                &waitlist::NewWaitlistEntry {
                    id,
                    tenant_id: ctx.tenant.0,
                    session_id: ctx.session.as_str(),
                    service_id,
                    preferred_from: from,
                    preferred_to: to,
                    time_of_day: tod.as_deref(),
                    client_name: name.as_deref(),
                    client_email: email.as_ref().map(Email::as_str),
                    client_phone: phone.as_ref().map(PhoneE164::as_str),
                    locale: ctx.locale.code(),
                },
            )
            .await?;
            audit::record(
                &mut tx,
                audit::AuditEntry {
                    tenant_id: Some(ctx.tenant.0),
                    event_type: "waitlist.created",
                    entity_type: "waitlist_entry",
                    entity_id: Some(id.to_string()),
                    actor: "client",
                    payload: json!({"service_id": service_id, "preferred_from": from, "preferred_to": to,
                        "time_of_day": tod, "client_email": email.as_ref().map(Email::as_str)}),
                },
            )
            .await?;
            tx.commit().await?;
            if let Some(e) = &email {
                ctx.state.client_email = Some(e.as_str().to_string());
            }
            if let Some(p) = &phone {
                ctx.state.client_phone = Some(p.as_str().to_string());
            }
            ctx.events.push(AgentEvent::WaitlistJoined { inquiry_id: id });
            Ok(json!({"inquiry_id": id, "status": "waiting", "service_id": service_id,
                      "preferred_from": from, "preferred_to": to, "time_of_day": tod}))
        }
        .await;
        self.finish(ctx, "create_inquiry", args, out).await
    }

    /// `leave_waitlist`: this conversation's open waitlist entries are cancelled (a time held
    /// for one of them is released and passes to the next entry).
    pub async fn leave_waitlist(&self, ctx: &mut TurnCtx) -> Result<Value, ToolError> {
        let out: Result<_, ToolError> = self
            .booking
            .leave_waitlist_by_session(ctx.tenant, &ctx.session)
            .await
            .map(|n| json!({"entries_left": n}))
            .map_err(ToolError::from);
        self.finish(ctx, "leave_waitlist", json!({}), out).await
    }

    /// `schedule_contact_followup`: the recipient is the client's own contact of this session
    /// (a different one named by the model is refused), then the guards in order: limit →
    /// cooldown → explicit confirmation → the tenant's daily cap. Each refusal is audited
    /// under its own event type, without the recipient.
    pub async fn schedule_followup(
        &self,
        ctx: &mut TurnCtx,
        a: &FollowupArgs,
    ) -> Result<Value, ToolError> {
        let args = json!({"channel": a.channel, "recipient": a.recipient, "reason": a.reason,
                          "confirmed_additional": a.confirmed_additional});
        let out: Result<_, ToolError> = async {
            let channel = a.channel.trim().to_ascii_lowercase();
            let named = a.recipient.as_deref().map(str::trim).filter(|r| !r.is_empty());
            let (own, named) = match channel.as_str() {
                "email" => {
                    let own = ctx.state.client_email.as_deref().and_then(|e| Email::parse(e).ok());
                    let named = named
                        .map(|r| Email::parse(r).map_err(|e| bad("recipient", &e.reason)))
                        .transpose()?;
                    (own.map(|e| e.as_str().to_string()), named.map(|e| e.as_str().to_string()))
                }
                "sms" => {
                    let own = ctx.state.client_phone.as_deref().and_then(|p| PhoneE164::parse(p).ok());
                    let named = named
                        .map(|r| PhoneE164::parse(r).map_err(|e| bad("recipient", &e.reason)))
                        .transpose()?;
                    (own.map(|p| p.as_str().to_string()), named.map(|p| p.as_str().to_string()))
                }
                _ => return Err(bad("channel", "email or sms")),
            };
            let what = if channel == "email" { "email address" } else { "phone number" };
            let recipient = match (own, named) {
                (Some(own), Some(named)) if own != named => {
                    self.guard_audit(ctx, "followup.recipient_refused", &channel, 0).await;
                    return Err(ToolError::new(ToolErrorKind::RecipientNotAllowed,
                        format!("follow-ups go only to the {what} the client gave for their own booking or waitlist entry in this conversation, never to another recipient; nothing was scheduled. Tell the user so; omit recipient to use their own {what}"),
                    ));
                }
                (Some(own), _) => own,
                (None, named) => {
                    if named.is_some() {
                        self.guard_audit(ctx, "followup.recipient_refused", &channel, 0).await;
                    }
                    return Err(ToolError::new(ToolErrorKind::ContactRequired,
                        format!("follow-ups go only to the client's own {what}, given for their booking or waitlist entry in this conversation, and there is none yet; nothing was scheduled. Ask the user for their {what} and add them to the waitlist (create_inquiry) or finish their booking first"),
                    ));
                }
            };
            let pool = self.booking.pool();
            // Every guard reads under the tenant's lock, in the transaction that inserts, so
            // concurrent turns cannot both pass a limit that only one of them may use.
            let mut tx = pool.begin().await?;
            followups::lock_tenant(&mut tx, ctx.tenant.0).await?;
            let count =
                followups::count_for_session(&mut *tx, ctx.tenant.0, ctx.session.as_str()).await?;
            if count >= self.limits.followup_max_per_session {
                tx.rollback().await?;
                self.guard_audit(ctx, "followup.limit_reached", &channel, count).await;
                return Err(ToolError::new(ToolErrorKind::FollowupLimitReached,
                    format!("this conversation already has {count} follow-ups scheduled (the limit); do not schedule more"),
                ));
            }
            let recent = followups::latest_for_recipient(&mut *tx, ctx.tenant.0, &recipient).await?;
            if let Some(last) = recent {
                if ctx.now - last < self.limits.followup_cooldown {
                    tx.rollback().await?;
                    self.guard_audit(ctx, "followup.cooldown_blocked", &channel, count).await;
                    return Err(ToolError::new(ToolErrorKind::FollowupCooldown,
                        "a follow-up to this contact was scheduled recently; tell the user one is already on its way",
                    ));
                }
            }
            if count >= 1 && !ctx.state.followup_additional_confirmed {
                tx.rollback().await?;
                ctx.state.followup_confirmation_pending = true;
                self.guard_audit(ctx, "followup.additional_confirmation_required", &channel, count).await;
                return Err(ToolError::new(ToolErrorKind::ConfirmationRequired,
                    "a follow-up is already scheduled: ask the user whether they want an additional one, and call again only after they say yes",
                ));
            }
            let today =
                followups::count_for_tenant_since(&mut *tx, ctx.tenant.0, ctx.now - Duration::hours(24))
                    .await?;
            if today >= self.limits.followup_max_per_tenant_per_day {
                tx.rollback().await?;
                self.guard_audit(ctx, "followup.daily_limit_reached", &channel, count).await;
                return Err(ToolError::new(ToolErrorKind::FollowupDailyLimitReached,
                    "the business cannot schedule more follow-up messages today; nothing was scheduled. Tell the user no follow-up message can be sent now and that they can come back to this chat later",
                ));
            }
            let id = Uuid::new_v4();
            let reason: String = a.reason.chars().take(500).collect();
            followups::insert(
                &mut tx,
                &followups::NewFollowup {
                    id,
                    tenant_id: ctx.tenant.0,
                    session_id: ctx.session.as_str(),
                    channel: &channel,
                    recipient: &recipient,
                    reason: &reason,
                    created_at: ctx.now,
                    locale: ctx.locale.code(),
                },
            )
            .await?;
            audit::record(
                &mut tx,
                audit::AuditEntry {
                    tenant_id: Some(ctx.tenant.0),
                    event_type: "followup.scheduled",
                    entity_type: "followup_contact",
                    entity_id: Some(id.to_string()),
                    actor: "agent",
                    payload: json!({"channel": channel, "followup_id": id}),
                },
            )
            .await?;
            outbox::append(
                &mut tx,
                &DomainEvent::FollowupRequested(FollowupRequested {
                    tenant_id: ctx.tenant.0,
                    followup_id: id,
                    channel: channel.clone(),
                }),
            )
            .await?;
            tx.commit().await?;
            ctx.state.followup_additional_confirmed = false;
            ctx.state.followup_confirmation_pending = false;
            ctx.events.push(AgentEvent::FollowupScheduled {
                channel: channel.clone(),
                expected: ctx.chat().followup_sla.into(),
            });
            Ok(json!({"followup_id": id, "channel": channel, "expected": ctx.chat().followup_sla}))
        }
        .await;
        self.finish(ctx, "schedule_contact_followup", args, out)
            .await
    }

    async fn guard_audit(&self, ctx: &TurnCtx, event: &str, channel: &str, count: i64) {
        let res = async {
            let mut conn = self.booking.pool().acquire().await?;
            audit::record(
                &mut conn,
                audit::AuditEntry {
                    tenant_id: Some(ctx.tenant.0),
                    event_type: event,
                    entity_type: "chat_session",
                    entity_id: Some(ctx.session.audit_ref()),
                    actor: "agent",
                    payload: json!({"channel": channel, "existing": count}),
                },
            )
            .await
        }
        .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "could not audit a follow-up guard");
        }
    }

    async fn finish<T: Serialize + Clone>(
        &self,
        ctx: &mut TurnCtx,
        tool: &'static str,
        args: Value,
        out: Result<T, ToolError>,
    ) -> Result<T, ToolError> {
        let as_json = out
            .as_ref()
            .map(|v| to_json(v.clone()))
            .map_err(Clone::clone);
        self.audit(ctx, tool, args, &as_json).await;
        if out.is_ok() {
            ctx.succeeded.push(tool);
        } else if matches!(&out, Err(e) if e.kind == ToolErrorKind::SystemError) {
            ctx.events.push(AgentEvent::SystemIssue);
        }
        out
    }
}

fn to_json<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Midnight helper for engines that work in dates.
pub fn local_midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    slots::local_to_utc(tz, d, NaiveTime::MIN, true)
}

/// The JSON schemas of the 9 tools, in OpenAI function format.
pub fn tool_schemas() -> Vec<Value> {
    let f = |name: &str, desc: &str, props: Value, required: &[&str]| {
        json!({"type": "function", "function": {
            "name": name, "description": desc,
            "parameters": {"type": "object", "properties": props, "required": required, "additionalProperties": false}
        }})
    };
    vec![
        f("check_availability",
          "Open slots for a service between two local dates (inclusive). Dates may be YYYY-MM-DD or the user's own words ('tomorrow', 'next Tuesday'); the server resolves them in the business's time zone. Present ONLY the times this returns.",
          json!({"service_id": {"type": "string", "description": "service id from the system prompt"},
                 "start_date": {"type": "string"}, "end_date": {"type": "string"},
                 "reschedule_reference": {"type": "string", "description": "when finding a new time for an existing booking: its reference (with reschedule_email), so times overlapping its current time are offered"},
                 "reschedule_email": {"type": "string", "description": "the email that booking was made with"}}),
          &["service_id", "start_date"]),
        f("hold_slot",
          "Hold one slot returned by check_availability for 5 minutes while details are collected. Dates more than 30 days out must have been confirmed by the user in an earlier message.",
          json!({"service_id": {"type": "string"}, "start_time": {"type": "string", "description": "the slot's start exactly as returned"}}),
          &["service_id", "start_time"]),
        f("confirm_booking",
          "Book the held slot. Call only after the user explicitly confirmed the details (service, time, name, email).",
          json!({"hold_id": {"type": "string"}, "client_name": {"type": "string"}, "client_email": {"type": "string"},
                 "client_phone": {"type": "string", "description": "E.164, optional"}, "notes": {"type": "string"}}),
          &["hold_id", "client_name", "client_email"]),
        f("lookup_booking",
          "Find a booking by its reference code and the email it was booked with.",
          json!({"reference": {"type": "string"}, "email": {"type": "string"}}),
          &["reference", "email"]),
        f("reschedule_booking",
          "Move a booking to a new slot (from check_availability). Call only after the user picked the new time and confirmed.",
          json!({"reference": {"type": "string"}, "email": {"type": "string"}, "new_start_time": {"type": "string"}}),
          &["reference", "email", "new_start_time"]),
        f("cancel_booking",
          "Cancel a booking. Call only after the user answered yes to 'are you sure?'.",
          json!({"reference": {"type": "string"}, "email": {"type": "string"}}),
          &["reference", "email"]),
        f("create_inquiry",
          "Add the user to the waitlist for a service (when nothing suitable is free).",
          json!({"service_id": {"type": "string"}, "preferred_from": {"type": "string"}, "preferred_to": {"type": "string"},
                 "time_of_day": {"type": "string", "enum": ["morning", "afternoon", "evening", "any"]},
                 "client_name": {"type": "string"}, "client_email": {"type": "string"}, "client_phone": {"type": "string"}}),
          &[]),
        f("schedule_contact_followup",
          "Schedule an asynchronous follow-up message (email or SMS) to the user. It goes only to the email or phone number the user gave for their own booking or waitlist entry in this conversation. A second follow-up needs the user's explicit yes.",
          json!({"channel": {"type": "string", "enum": ["email", "sms"]},
                 "recipient": {"type": "string", "description": "optional; omit it: the user's own contact of this conversation is used, and any other recipient is refused"},
                 "reason": {"type": "string"}, "confirmed_additional": {"type": "boolean"}}),
          &["channel"]),
        f("leave_waitlist",
          "Take the user off the waitlist: every waitlist entry made in this conversation is cancelled (a time held for them is released). Call when the user asks to leave the waitlist.",
          json!({}),
          &[]),
    ]
}

/// What the model hears when a hold's budget refuses it. A failure of the budget store is
/// logged with its cause; the tool message (stored with the conversation, shown to the
/// model) is fixed.
fn hold_budget_refusal(e: BudgetError) -> ToolError {
    match e {
        BudgetError::Exceeded { retry_after, .. } => ToolError::new(
            ToolErrorKind::RateLimited,
            format!(
                "too many times were held from this connection; try again in {} minutes",
                retry_after.div_ceil(60).max(1)
            ),
        ),
        BudgetError::Database(e) => {
            tracing::error!(error = %e, "the hold budget could not be read");
            ToolError::new(ToolErrorKind::SystemError, HOLD_BUDGET_UNAVAILABLE)
        }
    }
}

/// The tool message of a hold whose budget could not be checked.
const HOLD_BUDGET_UNAVAILABLE: &str =
    "the time could not be held just now because of a problem on our side; nothing was held";

#[cfg(test)]
mod budget_refusal_tests {
    use super::*;

    #[test]
    fn a_budget_store_failure_does_not_reach_the_model() {
        let e = BudgetError::Database(sqlx::Error::Protocol(
            "relation \"rate_budgets\" does not exist at 10.0.3.7:5432".into(),
        ));
        let t = hold_budget_refusal(e);
        assert_eq!(t.kind, ToolErrorKind::SystemError);
        assert_eq!(t.message, HOLD_BUDGET_UNAVAILABLE);
        assert!(!t.message.contains("rate_budgets"), "{}", t.message);
        assert!(!t.message.contains("10.0.3.7"), "{}", t.message);

        let t = hold_budget_refusal(BudgetError::Exceeded {
            kind: crate::services::budgets::Kind::LiveHoldsPerIp,
            retry_after: 61,
        });
        assert_eq!(t.kind, ToolErrorKind::RateLimited);
        assert!(t.message.contains("2 minutes"), "{}", t.message);
    }
}
