//! The booking service: availability, holds, confirm, lookup, reschedule, cancel and the
//! hold sweep. The rules that keep a slot from being sold twice live here:
//!
//! - holds are created under transaction-scoped advisory locks on every (tenant, resource,
//!   local day) that the rules' window touches (the slot widened by the buffer either
//!   side, see [`RuleLocks`]), after which a fresh snapshot sees every committed hold and
//!   booking;
//! - confirm and reschedule run SERIALIZABLE (retried on serialization failures and
//!   deadlocks), take the same advisory locks, and the `appointments_no_overlap` exclusion
//!   constraint is the last guard: a lost race is [`BookingError::SlotTaken`], never a 500;
//! - every state change writes a redacted audit row and its domain events to the outbox in
//!   the same transaction.

mod attendance;
mod calendar_sync;
pub mod freebusy;
pub mod schedule;
mod staff;
mod waitlist;

pub use staff::StaffPlacement;
pub use waitlist::WaitlistOffer;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::bookings::{self as q, AppointmentRow, AppointmentStatus, HoldRow, HoldStatus};
use crate::db::schedule::{self as schedule_db, ScheduleExtras};
use crate::db::sessions as sessions_db;
use crate::db::tenants::{self, ServiceRow, TenantRow};
use crate::db::{audit, db_error_code, is_retryable, outbox, sqlstate};
use crate::domain::events::{self, DomainEvent};
use crate::domain::slots::{self, Busy, Slot, SlotRules, WeeklyHours};
use crate::domain::{
    ClientName, Email, Notes, ParseError, PhoneE164, ReferenceCode, SessionId, TenantId, TimeZone,
};
use crate::ports::clock::Clock;
use calendar_sync::CalendarOp;
use freebusy::ExternalBusy;

/// Attempts for a SERIALIZABLE transaction before giving up (each retry backs off a little).
const MAX_TX_ATTEMPTS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("tenant not found")]
    TenantNotFound,
    #[error("service not found")]
    ServiceNotFound,
    #[error("resource not found")]
    ResourceNotFound,
    #[error("hold not found")]
    HoldNotFound,
    #[error("the hold has expired; pick a time again")]
    HoldExpired,
    #[error("the hold belongs to another session")]
    HoldNotOwned,
    #[error("that time is not available")]
    SlotUnavailable,
    #[error("that time was just booked by someone else")]
    SlotTaken,
    /// The day already has the most bookings the service or the staff member takes.
    #[error("that day is fully booked for this service or staff member; please pick another day")]
    DailyLimitReached,
    /// Self-service changes close this long before the booking starts.
    #[error("bookings can be changed or cancelled by chat, text or online only until {} before they start; please call us", cutoff_words(*minutes))]
    ChangeCutoffPassed { minutes: i32 },
    /// The time falls in a closure or time off (or outside the resource's hours).
    #[error("that time is closed: the clinic is closed or the staff member is away then")]
    ScheduleClosed,
    #[error("booking not found")]
    BookingNotFound,
    #[error("schedule exception not found")]
    ExceptionNotFound,
    #[error("the booking is cancelled")]
    BookingCancelled,
    #[error("an attendance outcome can be recorded only once the appointment has started")]
    OutcomeTooEarly,
    #[error("no such waitlist offer")]
    OfferNotFound,
    #[error("the waitlist offer has run out")]
    OfferExpired,
    #[error("the waitlist offer is no longer open")]
    OfferClosed,
    #[error("invalid range: {0}")]
    InvalidRange(&'static str),
    #[error("the range goes past the booking window of {max_days_ahead} days")]
    RangeBeyondLookahead { max_days_ahead: i32 },
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("tenant configuration is invalid: {0}")]
    TenantConfig(String),
    #[error("the database is busy; try again")]
    Contention,
    /// `CALENDAR_SYNC_REQUIRED=true` and the calendar write failed: the booking was undone
    /// and the session holds the same slot again (`hold_id`, live until `expires_at`).
    #[error("the calendar could not be updated, so the booking was not made; please try again")]
    CalendarUnavailable {
        hold_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// What kind of refusal or failure a [`BookingError`] is: the stable snake_case code API
/// clients and the agent act on. Internal causes share `busy` (try again) and
/// `internal_error` (our fault; nothing to act on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingErrorKind {
    TenantNotFound,
    ServiceNotFound,
    ResourceNotFound,
    HoldNotFound,
    HoldExpired,
    HoldNotOwned,
    SlotUnavailable,
    SlotTaken,
    ScheduleClosed,
    DailyLimitReached,
    ChangeCutoffPassed,
    BookingNotFound,
    ExceptionNotFound,
    BookingCancelled,
    OutcomeTooEarly,
    OfferNotFound,
    OfferExpired,
    OfferClosed,
    InvalidRange,
    RangeBeyondLookahead,
    InvalidArgument,
    CalendarUnavailable,
    /// Contention or an exhausted connection pool: the same request may succeed shortly.
    Busy,
    /// A broken tenant configuration or a database failure.
    Internal,
}

impl BookingErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            Self::TenantNotFound => "tenant_not_found",
            Self::ServiceNotFound => "service_not_found",
            Self::ResourceNotFound => "resource_not_found",
            Self::HoldNotFound => "hold_not_found",
            Self::HoldExpired => "hold_expired",
            Self::HoldNotOwned => "hold_not_owned",
            Self::SlotUnavailable => "slot_unavailable",
            Self::SlotTaken => "slot_taken",
            Self::ScheduleClosed => "schedule_closed",
            Self::DailyLimitReached => "daily_limit_reached",
            Self::ChangeCutoffPassed => "change_cutoff_passed",
            Self::BookingNotFound => "booking_not_found",
            Self::ExceptionNotFound => "exception_not_found",
            Self::BookingCancelled => "booking_cancelled",
            Self::OutcomeTooEarly => "outcome_too_early",
            Self::OfferNotFound => "offer_not_found",
            Self::OfferExpired => "offer_expired",
            Self::OfferClosed => "offer_closed",
            Self::InvalidRange => "invalid_range",
            Self::RangeBeyondLookahead => "range_beyond_lookahead",
            Self::InvalidArgument => "invalid_argument",
            Self::CalendarUnavailable => "calendar_unavailable",
            Self::Busy => "busy",
            Self::Internal => "internal_error",
        }
    }
}

impl BookingError {
    pub fn kind(&self) -> BookingErrorKind {
        use BookingErrorKind as K;
        match self {
            Self::TenantNotFound => K::TenantNotFound,
            Self::ServiceNotFound => K::ServiceNotFound,
            Self::ResourceNotFound => K::ResourceNotFound,
            Self::HoldNotFound => K::HoldNotFound,
            Self::HoldExpired => K::HoldExpired,
            Self::HoldNotOwned => K::HoldNotOwned,
            Self::SlotUnavailable => K::SlotUnavailable,
            Self::SlotTaken => K::SlotTaken,
            Self::ScheduleClosed => K::ScheduleClosed,
            Self::DailyLimitReached => K::DailyLimitReached,
            Self::ChangeCutoffPassed { .. } => K::ChangeCutoffPassed,
            Self::BookingNotFound => K::BookingNotFound,
            Self::ExceptionNotFound => K::ExceptionNotFound,
            Self::BookingCancelled => K::BookingCancelled,
            Self::OutcomeTooEarly => K::OutcomeTooEarly,
            Self::OfferNotFound => K::OfferNotFound,
            Self::OfferExpired => K::OfferExpired,
            Self::OfferClosed => K::OfferClosed,
            Self::InvalidRange(_) => K::InvalidRange,
            Self::RangeBeyondLookahead { .. } => K::RangeBeyondLookahead,
            Self::Invalid(_) => K::InvalidArgument,
            Self::CalendarUnavailable { .. } => K::CalendarUnavailable,
            Self::Contention | Self::Database(sqlx::Error::PoolTimedOut) => K::Busy,
            Self::TenantConfig(_) | Self::Database(_) => K::Internal,
        }
    }

    /// The stable snake_case code of this error (see [`BookingErrorKind`]).
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }
}

pub type Result<T, E = BookingError> = std::result::Result<T, E>;

/// "24 hours", "90 minutes": a cut-off as people say it.
fn cutoff_words(minutes: i32) -> String {
    if minutes >= 60 && minutes % 60 == 0 {
        let h = minutes / 60;
        if h == 1 {
            "1 hour".into()
        } else {
            format!("{h} hours")
        }
    } else {
        format!("{minutes} minutes")
    }
}

/// Who asks for a change: a client (chat, SMS, voice, the public API), held to the
/// self-service rules, or staff through the admin API, who may override them (audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeBy {
    Client,
    Admin,
}

impl ChangeBy {
    /// The audit actor of the change (an admin's rows name the person or key in the end).
    fn actor(self) -> &'static str {
        match self {
            ChangeBy::Client => "client",
            ChangeBy::Admin => crate::db::audit::ADMIN,
        }
    }
}

/// A tenant's scheduling rules, loaded once per request.
#[derive(Debug, Clone)]
pub struct TenantSchedule {
    pub tenant: TenantRow,
    pub tz: Tz,
    pub hours: WeeklyHours,
    /// Own hours and date exceptions of the resources read with the schedule (empty when
    /// only the tenant was read).
    pub extras: ScheduleExtras,
}

impl TenantSchedule {
    fn new(row: TenantRow, hours: &[tenants::HoursRow]) -> Result<Self> {
        let tz: Tz = row.time_zone.parse().map_err(|_| {
            BookingError::TenantConfig(format!("unknown time zone {}", row.time_zone))
        })?;
        Ok(Self {
            hours: tenants::weekly_hours(hours),
            tenant: row,
            tz,
            extras: ScheduleExtras::default(),
        })
    }

    /// The engine's view of `resources` (in this order): their own hours and the
    /// exceptions of `extras` that concern them.
    pub fn engine(&self, extras: &ScheduleExtras, resources: &[Uuid]) -> slots::Schedule {
        let own_hours = resources.iter().map(|r| extras.own_hours(*r)).collect();
        let exceptions = extras
            .exceptions
            .iter()
            .filter_map(|x| match x.resource_id {
                None => x.to_domain(None),
                Some(rid) => resources
                    .iter()
                    .position(|r| *r == rid)
                    .and_then(|i| x.to_domain(Some(i))),
            })
            .collect();
        slots::Schedule {
            tenant: self.hours.clone(),
            own_hours,
            exceptions,
        }
    }

    /// The first local date whose exceptions matter at `now` (a day of margin for zones).
    pub fn since(now: DateTime<Utc>) -> NaiveDate {
        now.date_naive() - Duration::days(2)
    }

    pub fn rules(&self, service: &ServiceRow) -> SlotRules {
        SlotRules {
            step: Duration::minutes(self.tenant.slot_step_minutes.into()),
            duration: Duration::minutes(service.duration_minutes.into()),
            buffer: Duration::minutes(self.tenant.buffer_minutes.into()),
            min_notice: Duration::minutes(
                service
                    .min_notice_minutes
                    .unwrap_or(self.tenant.min_notice_minutes)
                    .into(),
            ),
            max_days_ahead: self.tenant.max_days_ahead.into(),
        }
    }

    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }
}

#[derive(Debug, Clone)]
pub struct Availability {
    pub time_zone: Tz,
    pub service_id: Uuid,
    pub slots: Vec<Slot>,
}

/// The booking a hold is taken to move, proven by its reference and email. Its own interval
/// is not busy for the hold, and only it can be moved onto the hold.
#[derive(Debug, Clone)]
pub struct MoveOf {
    pub reference: ReferenceCode,
    pub email: Email,
    /// Keep the booking's staff member (resource) rather than any free one.
    pub same_resource: bool,
}

/// Whose hold it is.
#[derive(Debug, Clone, Copy)]
pub enum HoldSession<'a> {
    /// A session issued earlier: its earlier hold at this tenant is released.
    Issued(&'a SessionId),
    /// A session issued with this hold (fresh from
    /// [`crate::services::sessions::new_token`]): recorded in the hold's transaction, so a
    /// refused hold leaves no session behind.
    New(&'a SessionId),
}

impl<'a> HoldSession<'a> {
    pub fn id(self) -> &'a SessionId {
        match self {
            Self::Issued(id) | Self::New(id) => id,
        }
    }
}

/// Where a hold may go: the resources it may take and the booking it moves, if any.
struct HoldTarget {
    resources: Vec<Uuid>,
    moves: Option<Uuid>,
}

/// What a client gives to confirm a hold; parsed at the edge.
#[derive(Debug, Clone)]
pub struct ClientDetails {
    pub name: ClientName,
    pub email: Email,
    pub phone: Option<PhoneE164>,
    pub notes: Option<Notes>,
    /// The client's own time zone, when known (the booking keeps it for its messages).
    pub time_zone: Option<TimeZone>,
    /// The language the client speaks (the booking's messages are written in it); None:
    /// the tenant's default.
    pub locale: Option<crate::domain::Locale>,
}

#[derive(Clone)]
pub struct BookingService {
    pool: PgPool,
    clock: Clock,
    hold_ttl: Duration,
    /// Publishes the outbox right after each commit (None: the scheduler's sweep does).
    relay: Option<crate::services::relay::OutboxRelay>,
    /// The tenant calendar read back into availability and holds; a read error makes the
    /// affected slots unavailable.
    calendar: Option<std::sync::Arc<dyn crate::ports::calendar::CalendarProvider>>,
    /// The calendar bookings are written to after each commit; None: no writes.
    calendar_writer: Option<std::sync::Arc<dyn crate::ports::calendar::CalendarProvider>>,
    /// `CALENDAR_SYNC_REQUIRED`: a failed write at confirm undoes the booking (strict).
    calendar_sync_required: bool,
    /// How long a waitlist offer keeps its hold (`WAITLIST_OFFER_MINUTES`).
    offer_ttl: Duration,
}

impl BookingService {
    pub fn new(pool: PgPool, clock: Clock, hold_ttl: StdDuration) -> Self {
        Self {
            pool,
            clock,
            hold_ttl: Duration::from_std(hold_ttl).unwrap_or(Duration::minutes(5)),
            relay: None,
            calendar: None,
            calendar_writer: None,
            calendar_sync_required: false,
            offer_ttl: Duration::minutes(15),
        }
    }

    /// How long a waitlist offer keeps its hold before it passes to the next entry.
    pub fn with_waitlist_offer_ttl(mut self, ttl: StdDuration) -> Self {
        self.offer_ttl = Duration::from_std(ttl).unwrap_or(Duration::minutes(15));
        self
    }

    pub fn waitlist_offer_ttl(&self) -> Duration {
        self.offer_ttl
    }

    /// Merges the tenant calendar's free/busy into availability and hold checks.
    pub fn with_calendar(
        mut self,
        calendar: std::sync::Arc<dyn crate::ports::calendar::CalendarProvider>,
    ) -> Self {
        self.calendar_writer = Some(calendar.clone());
        self.calendar = Some(calendar);
        self
    }

    /// Writes bookings to `calendar` after each commit, without reading it back (the mock
    /// calendar has no events to merge into availability).
    pub fn with_calendar_writes(
        mut self,
        calendar: std::sync::Arc<dyn crate::ports::calendar::CalendarProvider>,
    ) -> Self {
        self.calendar_writer = Some(calendar);
        self
    }

    /// `CALENDAR_SYNC_REQUIRED`: strict (`true`) undoes a booking whose calendar write
    /// failed; lenient (`false`, the default) keeps it and emits `CalendarWriteFailed`.
    pub fn with_calendar_sync_required(mut self, required: bool) -> Self {
        self.calendar_sync_required = required;
        self
    }

    /// The calendars' busy time of `resources` for local dates `from..=to` (a calendar that
    /// could not be read makes its resource busy throughout).
    async fn calendar_busy(
        &self,
        sched: &TenantSchedule,
        from: NaiveDate,
        to: NaiveDate,
        resources: &[Uuid],
    ) -> ExternalBusy {
        let Some(cal) = &self.calendar else {
            return ExternalBusy::default();
        };
        let midnight = chrono::NaiveTime::MIN;
        let lo = slots::local_to_utc(sched.tz, from, midnight, true);
        let hi = slots::local_to_utc(sched.tz, to + Duration::days(1), midnight, true);
        crate::services::booking::freebusy::external_busy(
            cal.as_ref(),
            sched.tenant.id,
            resources,
            lo,
            hi,
        )
        .await
    }

    /// Publishes domain events right after the transactions that write them.
    pub fn with_relay(mut self, relay: crate::services::relay::OutboxRelay) -> Self {
        self.relay = Some(relay);
        self
    }

    async fn after_commit<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_ok() {
            if let Some(relay) = &self.relay {
                relay.publish_after_commit().await;
            }
        }
        result
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub async fn schedule(&self, tenant: TenantId) -> Result<TenantSchedule> {
        let (row, hours) = tenants::get_tenant_with_hours(&self.pool, tenant.0)
            .await?
            .ok_or(BookingError::TenantNotFound)?;
        TenantSchedule::new(row, &hours)
    }

    /// The tenant's schedule and one of its active services, in one read.
    async fn schedule_and_service(
        &self,
        tenant: TenantId,
        service: Uuid,
    ) -> Result<(TenantSchedule, ServiceRow)> {
        let since = TenantSchedule::since(self.clock.now());
        let (row, hours, found, extras) =
            tenants::get_tenant_hours_and_service(&self.pool, tenant.0, service, since)
                .await?
                .ok_or(BookingError::TenantNotFound)?;
        let mut sched = TenantSchedule::new(row, &hours)?;
        sched.extras = extras;
        match found {
            Some(s) if s.active => Ok((sched, s)),
            _ => Err(BookingError::ServiceNotFound),
        }
    }

    /// Only the tenant's time zone (one indexed read), for rendering local times.
    pub async fn time_zone(&self, tenant: TenantId) -> Result<Tz> {
        let name = tenants::time_zone(&self.pool, tenant.0)
            .await?
            .ok_or(BookingError::TenantNotFound)?;
        name.parse()
            .map_err(|_| BookingError::TenantConfig(format!("unknown time zone {name}")))
    }

    async fn service(&self, tenant: TenantId, service: Uuid) -> Result<ServiceRow> {
        match tenants::get_service(&self.pool, tenant.0, service).await? {
            Some(s) if s.active => Ok(s),
            _ => Err(BookingError::ServiceNotFound),
        }
    }

    /// Slots for the local dates `from..=to`. Dates in the past simply have no slots; a
    /// range reaching past the booking window is refused.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %service_id, %from, %to))]
    pub async fn availability(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Availability> {
        self.availability_for(tenant, service_id, from, to, None)
            .await
    }

    /// Slots for moving the booking `moving` names, in its own service: its own interval is
    /// not busy (so times overlapping it are offered), and with `same_resource` only its
    /// staff member is considered. These are the starts [`Self::create_move_hold`] accepts.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %from, %to))]
    pub async fn move_availability(
        &self,
        tenant: TenantId,
        moving: &MoveOf,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Availability> {
        let appt = self
            .lookup(tenant, &moving.reference, &moving.email)
            .await?;
        self.availability_for(tenant, appt.service_id, from, to, Some(moving))
            .await
    }

    async fn availability_for(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        moving: Option<&MoveOf>,
    ) -> Result<Availability> {
        if from > to {
            return Err(BookingError::InvalidRange("from is after to"));
        }
        let (sched, service) = self.schedule_and_service(tenant, service_id).await?;
        let target = self.hold_target(tenant, &sched, &service, moving).await?;
        let now = self.clock.now();
        let today = sched.local_date(now);
        if to > today + Duration::days(sched.tenant.max_days_ahead.into()) {
            return Err(BookingError::RangeBeyondLookahead {
                max_days_ahead: sched.tenant.max_days_ahead,
            });
        }
        // Past days have no slots: clamp the start so an old `from` neither scans the whole
        // booking history nor reaches date arithmetic at the ends of the calendar.
        let from = from.max(today - Duration::days(1));
        if from > to {
            return Ok(Availability {
                time_zone: sched.tz,
                service_id,
                slots: Vec::new(),
            });
        }
        let rules = sched.rules(&service);
        let external = self
            .calendar_busy(&sched, from, to, &target.resources)
            .await;
        let mut conn = self.pool.acquire().await?;
        let pads = Pads::new(&sched, &sched.extras, &service);
        let rules = pads.rules(rules);
        let busy = load_busy(
            &mut conn,
            &sched,
            &target.resources,
            (from, to),
            now,
            target.moves,
            &pads,
            &rules,
            &external,
        )
        .await?;
        let mut engine = sched.engine(&sched.extras, &target.resources);
        let caps = daily_caps(
            &mut conn,
            &sched,
            &service,
            &sched.extras,
            &target.resources,
            (from, to),
            target.moves,
        )
        .await?;
        engine.exceptions.extend(caps);
        let slots = slots::compute_schedule_slots(sched.tz, &engine, &rules, now, from, to, &busy)
            .map_err(|e| BookingError::TenantConfig(e.to_string()))?;
        Ok(Availability {
            time_zone: sched.tz,
            service_id,
            slots,
        })
    }

    /// Holds `start` for the session for the hold TTL on a free resource that does the
    /// service. Any earlier active hold of the same session at this tenant is released.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %service_id, %start))]
    pub async fn create_hold(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        start: DateTime<Utc>,
        session: &SessionId,
    ) -> Result<HoldRow> {
        self.create_hold_with_zone(
            tenant,
            service_id,
            start,
            HoldSession::Issued(session),
            None,
        )
        .await
        .map(|(hold, _)| hold)
    }

    /// Like [`Self::create_hold`], for moving the booking `moving` names: its own interval is
    /// not busy (a booking can move by less than its length), and with `same_resource` only
    /// its current staff member is considered. Reschedule the booking onto the hold.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %service_id, %start))]
    pub async fn create_move_hold(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        start: DateTime<Utc>,
        session: &SessionId,
        moving: &MoveOf,
    ) -> Result<HoldRow> {
        self.create_hold_with_zone(
            tenant,
            service_id,
            start,
            HoldSession::Issued(session),
            Some(moving),
        )
        .await
        .map(|(hold, _)| hold)
    }

    /// The resources a hold (or the slots offered for one) may take, and the booking it
    /// moves: every resource of the service, or for a move the booking proven by its
    /// reference and email (not cancelled), kept on its staff member with `same_resource`.
    async fn hold_target(
        &self,
        tenant: TenantId,
        sched: &TenantSchedule,
        service: &ServiceRow,
        moving: Option<&MoveOf>,
    ) -> Result<HoldTarget> {
        let Some(m) = moving else {
            return Ok(HoldTarget {
                resources: service.resource_ids.clone(),
                moves: None,
            });
        };
        let appt = self.lookup(tenant, &m.reference, &m.email).await?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        check_cutoff(sched, &appt, self.clock.now(), ChangeBy::Client)?;
        let resources = if m.same_resource {
            if !service.resource_ids.contains(&appt.resource_id) {
                return Err(BookingError::ResourceNotFound);
            }
            vec![appt.resource_id]
        } else {
            service.resource_ids.clone()
        };
        Ok(HoldTarget {
            resources,
            moves: Some(appt.id),
        })
    }

    /// [`Self::create_hold`] (or [`Self::create_move_hold`] with `moving`), with the
    /// tenant's time zone read on the way, for rendering the answer without reading it again.
    /// With [`HoldSession::New`] the session is recorded in the hold's own transaction.
    pub async fn create_hold_with_zone(
        &self,
        tenant: TenantId,
        service_id: Uuid,
        start: DateTime<Utc>,
        session: HoldSession<'_>,
        moving: Option<&MoveOf>,
    ) -> Result<(HoldRow, Tz)> {
        let (sched, service) = self.schedule_and_service(tenant, service_id).await?;
        let rules = sched.rules(&service);
        let target = self.hold_target(tenant, &sched, &service, moving).await?;
        let date = sched.local_date(start);
        // The calendar is read before any lock is taken (no network call under a lock).
        let external = self
            .calendar_busy(&sched, date, date, &target.resources)
            .await;
        // Fast refusal without touching the locks: when no resource is free for this start
        // in a plain snapshot, it cannot be free under the lock either. Losers of a race on a
        // popular slot leave here instead of queueing behind the winner's lock.
        {
            let now = self.clock.now();
            let mut conn = self.pool.acquire().await?;
            let pads = Pads::new(&sched, &sched.extras, &service);
            let rules = pads.rules(rules);
            let (lo, hi) = slot_window(start, rules.duration, pads.reach(&rules));
            let rows =
                q::busy_intervals(&mut conn, &target.resources, lo, hi, now, target.moves).await?;
            let busy = busy_per_resource(&target.resources, rows, &pads, &external);
            let engine = sched.engine(&sched.extras, &target.resources);
            let caps = daily_caps(
                &mut conn,
                &sched,
                &service,
                &sched.extras,
                &target.resources,
                (date, date),
                target.moves,
            )
            .await?;
            let offered = offered_with_caps(&sched, &engine, caps, &rules, now, start, &busy)?;
            if !offered.iter().any(|s| s.start == start) {
                return Err(refusal(&sched, &engine, &rules, start));
            }
        }
        let hold = retry_transaction(is_retryable, || {
            self.create_hold_once(&sched, &service, &rules, &target, start, session, &external)
        })
        .await?;
        Ok((hold, sched.tz))
    }

    #[allow(clippy::too_many_arguments)]
    async fn create_hold_once(
        &self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        rules: &SlotRules,
        target: &HoldTarget,
        start: DateTime<Utc>,
        session: HoldSession<'_>,
        external: &ExternalBusy,
    ) -> Result<HoldRow> {
        let tenant_id = sched.tenant.id;
        // READ COMMITTED on purpose: after the advisory locks, each statement's fresh
        // snapshot sees every hold and booking committed by the previous lock holder.
        let mut tx = self.pool.begin().await?;
        // Row locks on holds before advisory locks, in every path (confirm does the same),
        // so the two kinds of lock are always taken in one order.
        // One hold per session: concurrent holds of one session queue on this lock, so each
        // sees (and releases) the one before it. Lock order everywhere: session lock, hold
        // rows, then resource-day locks.
        let released = match session {
            HoldSession::Issued(id) => {
                let mut session_key = vec![session_lock_key(tenant_id, id.as_str())];
                q::advisory_locks(&mut tx, &mut session_key).await?;
                q::release_session_holds(&mut tx, tenant_id, id.as_str()).await?
            }
            // Nobody else knows this session yet: it has no hold to release, and no other
            // request can hold for it concurrently.
            HoldSession::New(id) => {
                sessions_db::insert(&mut *tx, tenant_id, id.as_str()).await?;
                Vec::new()
            }
        };
        let session = session.id();
        let mut locks = RuleLocks::new();
        locks.booking(sched, service, &target.resources, start, rules.duration);
        let now = self.clock.now();
        // A hold runs READ COMMITTED: whether the rules read with the schedule still hold is
        // checked after the locks, with the busy time, so that snapshot follows the lock
        // wait (in one statement with the locks it would predate it). SERIALIZABLE paths
        // use `take_reading`.
        locks.take(&mut tx).await?;
        let (slot, resource) = offered_slot(
            &mut tx,
            sched,
            service,
            rules,
            &target.resources,
            start,
            now,
            target.moves,
            external,
            false,
            LockedRules::Known(&sched.extras),
        )
        .await?;
        let hold = q::insert_hold(
            &mut tx,
            &q::NewHold {
                id: Uuid::new_v4(),
                tenant_id,
                service_id: service.id,
                resource_id: resource,
                session_id: session.as_str().to_string(),
                start: slot.start,
                end: slot.end,
                expires_at: now + self.hold_ttl,
                moves_appointment_id: target.moves,
            },
        )
        .await?;
        for old in &released {
            audit_hold(&mut tx, old, "hold.released", "system").await?;
        }
        audit_hold(&mut tx, &hold, "hold.created", "client").await?;
        tx.commit().await?;
        Ok(hold)
    }

    /// Gives up a hold of this session (the plan that needed it fell through), so its time
    /// is free again at once. False when the hold is gone or is another session's.
    pub async fn release_hold(
        &self,
        tenant: TenantId,
        hold_id: Uuid,
        session: &SessionId,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // Lock order as everywhere: session lock, then the hold row.
        let mut session_key = vec![session_lock_key(tenant.0, session.as_str())];
        q::advisory_locks(&mut tx, &mut session_key).await?;
        let Some(hold) = q::hold_for_update(&mut tx, tenant.0, hold_id).await? else {
            return Ok(false);
        };
        if hold.session_id != session.as_str() {
            return Ok(false);
        }
        q::delete_hold(&mut tx, hold.id).await?;
        audit_hold(&mut tx, &hold, "hold.released", "system").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Turns a live hold of this session into a booking. Idempotent by hold id: a second
    /// call returns the same booking with `created = false`.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %hold_id))]
    pub async fn confirm(
        &self,
        tenant: TenantId,
        hold_id: Uuid,
        session: &SessionId,
        client: &ClientDetails,
    ) -> Result<(AppointmentRow, bool)> {
        self.confirm_with_zone(tenant, hold_id, session, client)
            .await
            .map(|(appt, created, _)| (appt, created))
    }

    /// [`Self::confirm`], with the tenant's time zone read on the way.
    pub async fn confirm_with_zone(
        &self,
        tenant: TenantId,
        hold_id: Uuid,
        session: &SessionId,
        client: &ClientDetails,
    ) -> Result<(AppointmentRow, bool, Tz)> {
        let sched = self.schedule(tenant).await?;
        let done = retry_transaction(confirm_retryable, || {
            self.confirm_once(&sched, hold_id, session, client)
        })
        .await;
        self.after_confirm(&sched, done).await
    }

    /// After a confirm's transaction (a hold made a booking): the calendar write of a new
    /// booking, then its events published; the booking, whether it is new, and the zone.
    async fn after_confirm(
        &self,
        sched: &TenantSchedule,
        done: Result<(AppointmentRow, bool)>,
    ) -> Result<(AppointmentRow, bool, Tz)> {
        let done = match done {
            Ok((appt, true)) => {
                let synced = self.sync_confirmed(sched, appt).await;
                self.after_commit(synced).await
            }
            other => self.after_commit(other).await,
        };
        done.map(|(appt, created)| (appt, created, sched.tz))
    }

    async fn confirm_once(
        &self,
        sched: &TenantSchedule,
        hold_id: Uuid,
        session: &SessionId,
        client: &ClientDetails,
    ) -> Result<(AppointmentRow, bool)> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        match self
            .confirm_in(&mut tx, sched, hold_id, session, client)
            .await
        {
            Ok(done) => {
                tx.commit().await?;
                Ok(done)
            }
            // Roll back before answering, so the row and advisory locks are gone when the
            // caller sees the refusal (a dropped transaction releases them only later).
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a refused confirm failed");
                }
                Err(e)
            }
        }
    }

    async fn confirm_in(
        &self,
        tx: &mut PgConnection,
        sched: &TenantSchedule,
        hold_id: Uuid,
        session: &SessionId,
        client: &ClientDetails,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        q::index_probes_only(tx).await?;
        // The hold row first (a primary-key probe). Only when it is gone do we look for the
        // booking it became: the common path then reads nothing that concurrent confirms
        // write, so SERIALIZABLE does not turn unrelated bookings into retries.
        // SERIALIZABLE: every read sees the snapshot of the first, before or after the
        // locks alike; a schedule change committed meanwhile makes one of the two retry.
        // The hold's rules (buffers, caps, hours, exceptions) come with the hold row.
        let found = schedule_db::hold_for_update_with_extras(
            tx,
            tenant_id,
            hold_id,
            TenantSchedule::since(self.clock.now()),
        )
        .await?;
        let Some((hold, extras, service_cap)) = found else {
            return match q::appointment_by_hold(&mut *tx, tenant_id, hold_id).await? {
                Some(existing) if existing.session_id == session.as_str() => Ok((existing, false)),
                Some(_) => Err(BookingError::HoldNotOwned),
                None => Err(BookingError::HoldNotFound),
            };
        };
        // A hold taken to move a booking may overlap that booking: it is not a new booking.
        if hold.session_id != session.as_str() || hold.moves_appointment_id.is_some() {
            return Err(BookingError::HoldNotOwned);
        }
        if hold.status != HoldStatus::Active {
            return Err(BookingError::HoldExpired);
        }
        let mut locks = RuleLocks::new();
        let (before, after) = own_buffers(sched, hold.service_id, &extras);
        locks.window(
            sched,
            hold.resource_id,
            hold.start_at - before,
            hold.end_at + after,
        );
        if service_cap.is_some() {
            locks.service_day(sched, hold.service_id, sched.local_date(hold.start_at));
        }
        locks.take(tx).await?;
        // Expiry is judged after the lock wait: a hold that ran out while we waited may
        // already have been given to someone else by create_hold.
        let now = self.clock.now();
        hold_still_good(&hold, now)?;
        check_hold_schedule(tx, sched, &hold, &extras, service_cap, None).await?;
        let appt = book_hold(tx, &hold, client, "client").await?;
        outbox::append(tx, &DomainEvent::BookingCreated(booking_event(&appt))).await?;
        Ok((appt, true))
    }

    /// A booking by reference, only for the email it was made with (any other email is
    /// "not found", so a reference alone reveals nothing).
    pub async fn lookup(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        email: &Email,
    ) -> Result<AppointmentRow> {
        self.schedule(tenant).await?;
        let appt = q::appointment_by_reference(&self.pool, tenant.0, reference.as_str(), false)
            .await?
            .ok_or(BookingError::BookingNotFound)?;
        if !appt.client_email.eq_ignore_ascii_case(email.as_str()) {
            return Err(BookingError::BookingNotFound);
        }
        Ok(appt)
    }

    /// Moves a booking onto a held slot in one transaction: the old time is released only
    /// if the new one is secured. The reference code stays; `sequence` grows. The same move
    /// again (the hold already used by this booking's latest move) answers the booking as it
    /// is, so a client whose response was lost gets it back.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %reference, %hold_id))]
    pub async fn reschedule(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        email: &Email,
        hold_id: Uuid,
        session: Option<&SessionId>,
    ) -> Result<AppointmentRow> {
        let sched = self.schedule(tenant).await?;
        match retry_transaction(is_retryable, || {
            self.reschedule_once(&sched, reference, email, hold_id, session)
        })
        .await
        {
            Ok((same, false)) => self.after_commit(Ok(same)).await,
            Ok((moved, true)) => {
                self.sync_write(&moved, CalendarOp::Upsert).await;
                self.after_commit(Ok(moved)).await
            }
            Err(e) => self.after_commit(Err(e)).await,
        }
    }

    /// A SERIALIZABLE transaction holding the row lock of the client's booking: the
    /// reference must name a booking of the tenant whose email matches.
    async fn lock_client_booking(
        &self,
        tenant_id: Uuid,
        reference: &ReferenceCode,
        email: &Email,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, AppointmentRow)> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL SERIALIZABLE")
            .await?;
        q::index_probes_only(&mut tx).await?;
        let appt = q::appointment_by_reference(&mut *tx, tenant_id, reference.as_str(), true)
            .await?
            .filter(|a| a.client_email.eq_ignore_ascii_case(email.as_str()))
            .ok_or(BookingError::BookingNotFound)?;
        Ok((tx, appt))
    }

    async fn reschedule_once(
        &self,
        sched: &TenantSchedule,
        reference: &ReferenceCode,
        email: &Email,
        hold_id: Uuid,
        session: Option<&SessionId>,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        let (mut tx, appt) = self
            .lock_client_booking(tenant_id, reference, email)
            .await?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        let Some(hold) = q::hold_for_update(&mut tx, tenant_id, hold_id).await? else {
            return if q::last_move_hold(&mut *tx, appt.id).await? == Some(hold_id) {
                Ok((appt, false))
            } else {
                Err(BookingError::HoldNotFound)
            };
        };
        if session.is_some_and(|s| s.as_str() != hold.session_id)
            || hold.moves_appointment_id.is_some_and(|m| m != appt.id)
        {
            return Err(BookingError::HoldNotOwned);
        }
        if hold.status != HoldStatus::Active {
            return Err(BookingError::HoldExpired);
        }
        check_cutoff(sched, &appt, self.clock.now(), ChangeBy::Client)?;
        let (extras, service_cap) = schedule_db::extras_and_cap(
            &mut *tx,
            tenant_id,
            &[hold.resource_id],
            TenantSchedule::since(self.clock.now()),
            hold.service_id,
        )
        .await?;
        let mut locks = RuleLocks::new();
        let (before, after) = own_buffers(sched, hold.service_id, &extras);
        locks
            .buffered(sched, appt.resource_id, appt.start_at, appt.end_at)
            .window(
                sched,
                hold.resource_id,
                hold.start_at - before,
                hold.end_at + after,
            );
        if service_cap.is_some() {
            locks.service_day(sched, hold.service_id, sched.local_date(hold.start_at));
        }
        locks.take(&mut tx).await?;
        let now = self.clock.now();
        hold_still_good(&hold, now)?;
        check_hold_schedule(&mut tx, sched, &hold, &extras, service_cap, Some(appt.id)).await?;
        let moved = q::move_appointment(&mut tx, appt.id, &q::Placement::from(&hold))
            .await
            .map_err(slot_taken_on_overlap)?;
        q::delete_hold(&mut tx, hold.id).await?;
        record_move(&mut tx, &appt, &moved, Some(hold.id)).await?;
        tx.commit().await?;
        Ok((moved, true))
    }

    /// Moves a booking to `start` in one transaction, without a hold: the new time is checked
    /// and taken under the same locks as a hold (the booking's own time does not block it) and
    /// the old one freed in the same commit, so a refusal leaves nothing behind. For callers
    /// that decide and move at once (the Excel import).
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %reference, %start))]
    pub async fn move_to(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        email: &Email,
        start: DateTime<Utc>,
    ) -> Result<AppointmentRow> {
        let sched = self.schedule(tenant).await?;
        let current = self.lookup(tenant, reference, email).await?;
        let service = self.service(tenant, current.service_id).await?;
        let date = sched.local_date(start);
        // The calendar is read before any lock is taken (no network call under a lock).
        let external = self
            .calendar_busy(&sched, date, date, &service.resource_ids)
            .await;
        match retry_transaction(is_retryable, || {
            self.move_to_once(&sched, &service, reference, email, start, &external)
        })
        .await
        {
            Ok(moved) => {
                self.sync_write(&moved, CalendarOp::Upsert).await;
                self.after_commit(Ok(moved)).await
            }
            Err(e) => self.after_commit(Err(e)).await,
        }
    }

    async fn move_to_once(
        &self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        reference: &ReferenceCode,
        email: &Email,
        start: DateTime<Utc>,
        external: &ExternalBusy,
    ) -> Result<AppointmentRow> {
        let tenant_id = sched.tenant.id;
        let (mut tx, appt) = self
            .lock_client_booking(tenant_id, reference, email)
            .await?;
        if appt.status == AppointmentStatus::Cancelled {
            return Err(BookingError::BookingCancelled);
        }
        if cutoff_passed(sched, &appt, self.clock.now()) {
            audit_override(&mut tx, &appt, "self_service_cutoff", "reschedule").await?;
        }
        let rules = sched.rules(service);
        let mut locks = RuleLocks::new();
        locks
            .booking(sched, service, &service.resource_ids, start, rules.duration)
            .buffered(sched, appt.resource_id, appt.start_at, appt.end_at);
        let now = self.clock.now();
        let extras = locks
            .take_reading(&mut tx, sched, &service.resource_ids, now)
            .await?;
        // Staff (this path serves the admin's import) may pass the minimum notice and the
        // daily caps; the override is audited. Hours, exceptions and overlaps still hold.
        let mut overridden = false;
        let mut found = None;
        for (relax, rules) in [
            (false, rules),
            (
                true,
                SlotRules {
                    min_notice: Duration::zero(),
                    ..rules
                },
            ),
        ] {
            match offered_slot(
                &mut tx,
                sched,
                service,
                &rules,
                &service.resource_ids,
                start,
                now,
                Some(appt.id),
                external,
                relax,
                LockedRules::Read(&extras),
            )
            .await
            {
                Ok(done) => {
                    overridden = relax;
                    found = Some(done);
                    break;
                }
                Err(BookingError::SlotUnavailable | BookingError::DailyLimitReached) if !relax => {}
                Err(e) => return Err(e),
            }
        }
        let (slot, resource) = found.ok_or(BookingError::SlotUnavailable)?;
        let moved = move_onto(&mut tx, &appt, service.id, &slot, resource, overridden).await?;
        record_move(&mut tx, &appt, &moved, None).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Cancels a booking and frees its slot. Cancelling a cancelled booking returns it
    /// unchanged (no second event).
    /// A client's cancel: refused with `ChangeCutoffPassed` inside the tenant's
    /// self-service cut-off.
    pub async fn cancel(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        email: &Email,
    ) -> Result<AppointmentRow> {
        self.cancel_by(tenant, reference, email, ChangeBy::Client)
            .await
    }

    /// [`Self::cancel`] by a client or by staff (who may pass the cut-off; audited).
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant, %reference))]
    pub async fn cancel_by(
        &self,
        tenant: TenantId,
        reference: &ReferenceCode,
        email: &Email,
        by: ChangeBy,
    ) -> Result<AppointmentRow> {
        let sched = self.schedule(tenant).await?;
        let late = self.late_cancel_window(tenant).await?;
        match retry_transaction(is_retryable, || {
            self.cancel_once(&sched, reference, email, by, late)
        })
        .await
        {
            Ok((cancelled, true)) => {
                self.sync_write(&cancelled, CalendarOp::Delete).await;
                self.after_commit(Ok(cancelled)).await
            }
            other => self.after_commit(other.map(|(a, _)| a)).await,
        }
    }

    async fn cancel_once(
        &self,
        sched: &TenantSchedule,
        reference: &ReferenceCode,
        email: &Email,
        by: ChangeBy,
        late: Duration,
    ) -> Result<(AppointmentRow, bool)> {
        let tenant_id = sched.tenant.id;
        let (mut tx, appt) = self
            .lock_client_booking(tenant_id, reference, email)
            .await?;
        if appt.status == AppointmentStatus::Cancelled {
            return Ok((appt, false));
        }
        let now = self.clock.now();
        check_cutoff(sched, &appt, now, by)?;
        if cutoff_passed(sched, &appt, now) {
            audit_override(&mut tx, &appt, "self_service_cutoff", "cancel").await?;
        }
        // Late: inside the tenant's window before the start. The booking is cancelled all
        // the same (its time is free again); the outcome records the lateness.
        let outcome = (late > Duration::zero() && appt.start_at - now < late)
            .then_some(q::Outcome::LateCancel);
        let cancelled = q::cancel_appointment_as(&mut tx, appt.id, now, outcome, None).await?;
        audit_appointment(
            &mut tx,
            tenant_id,
            "booking.cancelled",
            cancelled.id,
            by.actor(),
            json!({
                "reference": cancelled.reference,
                "start": cancelled.start_at,
                "end": cancelled.end_at,
                "client_email": cancelled.client_email,
                "outcome": outcome.map(q::Outcome::as_str),
            }),
        )
        .await?;
        outbox::append(
            &mut tx,
            &DomainEvent::BookingCancelled(booking_event(&cancelled)),
        )
        .await?;
        outbox::append(&mut tx, &slot_opened(&appt)).await?;
        tx.commit().await?;
        Ok((cancelled, true))
    }

    /// Admin listing of bookings whose time touches [from, to).
    pub async fn list_bookings(
        &self,
        tenant: TenantId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        status: Option<AppointmentStatus>,
        limit: i64,
    ) -> Result<Vec<AppointmentRow>> {
        Ok(q::list_appointments(&self.pool, tenant.0, from, to, status, limit).await?)
    }

    /// Expires due holds (emitting `HoldExpired`); the scheduler calls this every minute and
    /// the standalone server on a timer. Returns how many holds expired.
    pub async fn expire_holds(&self) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let expired = q::expire_due_holds(&mut tx, self.clock.now()).await?;
        for h in &expired {
            audit_hold(&mut tx, h, "hold.expired", "system").await?;
            outbox::append(
                &mut tx,
                &DomainEvent::HoldExpired(events::HoldExpired {
                    tenant_id: h.tenant_id,
                    hold_id: h.id,
                    service_id: h.service_id,
                    start: h.start_at,
                    end: h.end_at,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        if expired.is_empty() {
            return Ok(0);
        }
        self.after_commit(Ok(expired.len())).await
    }
}

/// A confirm's retry rule: besides serialization failures, a clash on the fresh reference
/// code or on a concurrent confirm of the same hold (the next attempt draws a new code or
/// finds the booking made).
fn confirm_retryable(e: &sqlx::Error) -> bool {
    is_retryable(e)
        || is_constraint(e, "appointments_reference_unique")
        || is_constraint(e, "appointments_hold_id_key")
}

/// Under the rule locks: the slot starting at `start` that the engine offers on
/// `resources` (the booking `moves`, if any, not counted as busy), and the first of them
/// free for it. `SlotUnavailable` when the start is not offered or nobody is free.
#[allow(clippy::too_many_arguments)]
async fn offered_slot(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    service: &ServiceRow,
    rules: &SlotRules,
    resources: &[Uuid],
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    moves: Option<Uuid>,
    external: &ExternalBusy,
    relax_caps: bool,
    locked: LockedRules<'_>,
) -> Result<(slots::Slot, Uuid)> {
    let date = sched.local_date(start);
    // Only `start`'s slot is judged here, so only the busy time that can touch it is read.
    let window = |extras: &ScheduleExtras| {
        let pads = Pads::new(sched, extras, service);
        slot_window(start, rules.duration, pads.reach(&pads.rules(*rules)))
    };
    let read;
    let (rows, extras) = match locked {
        LockedRules::Read(extras) => {
            let (lo, hi) = window(extras);
            (
                q::busy_intervals(conn, resources, lo, hi, now, moves).await?,
                extras,
            )
        }
        LockedRules::Known(known) => {
            let (lo, hi) = window(known);
            let (rows, version) =
                schedule_db::busy_and_version(conn, sched.tenant.id, resources, lo, hi, now, moves)
                    .await?;
            if version.is_some() && version == known.version {
                (rows, known)
            } else {
                // The rules changed since they were read: read them again, in a statement
                // begun after the locks, and the busy time again if they reach further.
                read = schedule_db::extras(
                    &mut *conn,
                    sched.tenant.id,
                    resources,
                    TenantSchedule::since(now),
                )
                .await?;
                let (new_lo, new_hi) = window(&read);
                let rows = if new_lo < lo || new_hi > hi {
                    q::busy_intervals(conn, resources, new_lo, new_hi, now, moves).await?
                } else {
                    rows
                };
                (rows, &read)
            }
        }
    };
    let pads = Pads::new(sched, extras, service);
    let rules = &pads.rules(*rules);
    let busy = busy_per_resource(resources, rows, &pads, external);
    let engine = sched.engine(extras, resources);
    let caps = if relax_caps {
        Vec::new()
    } else {
        daily_caps(
            &mut *conn,
            sched,
            service,
            extras,
            resources,
            (date, date),
            moves,
        )
        .await?
    };
    let offered = offered_with_caps(sched, &engine, caps, rules, now, start, &busy)?;
    let Some(slot) = offered.into_iter().find(|s| s.start == start) else {
        return Err(refusal(sched, &engine, rules, start));
    };
    let resource = slot
        .first_free()
        .and_then(|i| resources.get(i).copied())
        .ok_or(BookingError::SlotUnavailable)?;
    Ok((slot, resource))
}

/// Busy intervals per resource (bookings, holds, and `external` for every resource) that
/// can touch a slot of the local dates `days`, padded by the services' own buffers when
/// `pads` says so.
#[allow(clippy::too_many_arguments)]
async fn load_busy(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    resources: &[Uuid],
    days: (NaiveDate, NaiveDate),
    now: DateTime<Utc>,
    except: Option<Uuid>,
    pads: &Pads,
    rules: &SlotRules,
    external: &ExternalBusy,
) -> Result<Vec<Vec<Busy>>> {
    let (lo, hi) = busy_window(sched, days, pads.reach(rules));
    let rows = q::busy_intervals(conn, resources, lo, hi, now, except).await?;
    Ok(busy_per_resource(resources, rows, pads, external))
}

/// The instants between which busy time can touch a slot of the local dates `days`: the
/// days themselves (a slot lies within its day's opening hours) widened by `reach`.
fn busy_window(
    sched: &TenantSchedule,
    days: (NaiveDate, NaiveDate),
    reach: Duration,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = chrono::NaiveTime::MIN;
    (
        slots::local_to_utc(sched.tz, days.0, midnight, true) - reach,
        slots::local_to_utc(sched.tz, days.1 + Duration::days(1), midnight, true) + reach,
    )
}

/// The instants between which busy time can touch the slot `[start, start + duration)`:
/// what a hold reads to judge that one slot.
fn slot_window(
    start: DateTime<Utc>,
    duration: Duration,
    reach: Duration,
) -> (DateTime<Utc>, DateTime<Utc>) {
    (start - reach, start + duration + reach)
}

/// Busy rows `(resource, service, interval)` sorted per resource of `resources`, padded
/// by `pads`, with `external` added to every resource.
fn busy_per_resource(
    resources: &[Uuid],
    rows: Vec<(Uuid, Uuid, Busy)>,
    pads: &Pads,
    external: &ExternalBusy,
) -> Vec<Vec<Busy>> {
    let mut busy = vec![Vec::new(); resources.len()];
    for (rid, sid, b) in rows {
        if let Some(i) = resources.iter().position(|r| *r == rid) {
            busy[i].push(pads.pad(Some(sid), b));
        }
    }
    for (list, r) in busy.iter_mut().zip(resources) {
        list.extend(external.of(*r).iter().map(|b| pads.pad(None, *b)));
    }
    busy
}

/// How a hold knows its rules under its locks: read there already (SERIALIZABLE paths,
/// whose every statement shares one snapshot), or read with the schedule before the locks
/// and checked under them (READ COMMITTED paths): the statement that reads the busy time,
/// begun after the lock wait, also reads the tenant's `schedule_version`, which every change
/// of these rules increases; unchanged, the rules read before still hold, otherwise they are
/// read again there. The locked section then reads no more than the busy time.
enum LockedRules<'a> {
    Read(&'a ScheduleExtras),
    Known(&'a ScheduleExtras),
}

/// The buffers before and after a booking of `service`: its own, else the tenant's.
fn own_buffers(
    sched: &TenantSchedule,
    service: Uuid,
    extras: &ScheduleExtras,
) -> (Duration, Duration) {
    let tenant = sched.tenant.buffer_minutes.max(0);
    let own = extras
        .service_buffers
        .iter()
        .find(|b| b.service_id == service);
    let minutes = |m: Option<i32>| Duration::minutes(m.unwrap_or(tenant).max(0).into());
    (
        minutes(own.and_then(|b| b.before)),
        minutes(own.and_then(|b| b.after)),
    )
}

/// The services' own buffers. When a service of the tenant has its own, busy intervals
/// are padded before they reach the engine (whose buffer is then zero): a booking of
/// service X at `[a, b)` keeps `max(X.before, S.after)` free before it and
/// `max(X.after, S.before)` after it for a booking of service S. Without any, the engine's
/// symmetric tenant buffer does the same.
struct Pads {
    on: bool,
    tenant: Duration,
    before: Duration,
    after: Duration,
    by_service: Vec<(Uuid, Duration, Duration)>,
}

impl Pads {
    fn new(sched: &TenantSchedule, extras: &ScheduleExtras, service: &ServiceRow) -> Self {
        let tenant = Duration::minutes(sched.tenant.buffer_minutes.max(0).into());
        let minutes = |m: Option<i32>| m.map_or(tenant, |m| Duration::minutes(m.max(0).into()));
        let by_service = extras
            .service_buffers
            .iter()
            .map(|b| (b.service_id, minutes(b.before), minutes(b.after)))
            .collect();
        Self {
            on: !extras.service_buffers.is_empty(),
            tenant,
            before: minutes(service.buffer_before_minutes),
            after: minutes(service.buffer_after_minutes),
            by_service,
        }
    }

    fn rules(&self, mut rules: SlotRules) -> SlotRules {
        if self.on {
            rules.buffer = Duration::zero();
        }
        rules
    }

    /// How far from a slot busy time can still touch it: the widest pad of a busy
    /// interval plus the buffer the engine adds (`rules` as [`Pads::rules`] left them).
    /// Busy time further away than this cannot take the slot, so it need not be read.
    fn reach(&self, rules: &SlotRules) -> Duration {
        let widest = if self.on {
            self.by_service
                .iter()
                .flat_map(|&(_, before, after)| [before, after])
                .chain([self.tenant, self.before, self.after])
                .max()
                .unwrap_or_else(Duration::zero)
        } else {
            Duration::zero()
        };
        widest + rules.buffer
    }

    fn pad(&self, service: Option<Uuid>, b: Busy) -> Busy {
        if !self.on {
            return b;
        }
        let (xb, xa) = service
            .and_then(|s| self.by_service.iter().find(|x| x.0 == s))
            .map_or((self.tenant, self.tenant), |x| (x.1, x.2));
        Busy {
            start: b.start - xb.max(self.after),
            end: b.end + xa.max(self.before),
        }
    }
}

/// The slots of `start`'s day under `engine` with the daily caps added;
/// `DailyLimitReached` when only the caps keep `start` from being offered.
fn offered_with_caps(
    sched: &TenantSchedule,
    engine: &slots::Schedule,
    caps: Vec<slots::DateException>,
    rules: &SlotRules,
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    busy: &[Vec<Busy>],
) -> Result<Vec<Slot>> {
    let date = sched.local_date(start);
    let compute = |e: &slots::Schedule| {
        slots::compute_schedule_slots(sched.tz, e, rules, now, date, date, busy)
            .map_err(|e| BookingError::TenantConfig(e.to_string()))
    };
    if caps.is_empty() {
        return compute(engine);
    }
    let mut capped = engine.clone();
    capped.exceptions.extend(caps);
    let offered = compute(&capped)?;
    if !offered.iter().any(|s| s.start == start)
        && compute(engine)?.iter().any(|s| s.start == start)
    {
        return Err(BookingError::DailyLimitReached);
    }
    Ok(offered)
}

/// The daily caps as whole-day exceptions over the local dates `days`: a day on which the
/// service has its `max_per_day` confirmed bookings is closed for it, a day on which a
/// resource has its own is that resource's day off. The booking `except` (being moved) does
/// not count. Reads nothing when there is no cap.
async fn daily_caps(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    service: &ServiceRow,
    extras: &ScheduleExtras,
    resources: &[Uuid],
    days: (NaiveDate, NaiveDate),
    except: Option<Uuid>,
) -> Result<Vec<slots::DateException>> {
    let capped: Vec<(usize, i32)> = extras
        .resource_caps
        .iter()
        .filter_map(|c| {
            resources
                .iter()
                .position(|r| *r == c.resource_id)
                .map(|i| (i, c.max_per_day))
        })
        .collect();
    if service.max_per_day.is_none() && capped.is_empty() {
        return Ok(Vec::new());
    }
    let midnight = chrono::NaiveTime::MIN;
    let lo = slots::local_to_utc(sched.tz, days.0, midnight, true);
    let hi = slots::local_to_utc(sched.tz, days.1 + Duration::days(1), midnight, true);
    let rows = schedule_db::confirmed_starts(
        &mut *conn,
        sched.tenant.id,
        service.id,
        resources,
        lo,
        hi,
        except,
    )
    .await?;
    let mut out = Vec::new();
    let day_off = |resource: Option<usize>, date: NaiveDate| slots::DateException {
        kind: if resource.is_some() {
            slots::ExceptionKind::TimeOff
        } else {
            slots::ExceptionKind::Closed
        },
        resource,
        start_date: date,
        end_date: date,
        times: None,
        recurring_yearly: false,
    };
    let mut per_day: std::collections::BTreeMap<(Option<usize>, NaiveDate), i32> =
        Default::default();
    for (rid, sid, start) in rows {
        let date = sched.local_date(start);
        if sid == service.id {
            *per_day.entry((None, date)).or_default() += 1;
        }
        if let Some(&(i, _)) = capped.iter().find(|(i, _)| resources[*i] == rid) {
            *per_day.entry((Some(i), date)).or_default() += 1;
        }
    }
    for ((who, date), n) in per_day {
        let cap = match who {
            None => service.max_per_day,
            Some(i) => capped.iter().find(|(j, _)| *j == i).map(|(_, c)| *c),
        };
        if cap.is_some_and(|c| n >= c) {
            out.push(day_off(who, date));
        }
    }
    Ok(out)
}

/// Why `start` is not offered: `ScheduleClosed` when no resource works it and a closure or
/// time off took it from someone's weekly hours, else `SlotUnavailable`.
fn refusal(
    sched: &TenantSchedule,
    engine: &slots::Schedule,
    rules: &SlotRules,
    start: DateTime<Utc>,
) -> BookingError {
    let end = start + rules.duration;
    let n = engine.own_hours.len();
    let works = (0..n).any(|r| engine.fits(sched.tz, r, start, end));
    if !works && (0..n).any(|r| engine.closed_by_exception(sched.tz, r, start, end)) {
        BookingError::ScheduleClosed
    } else {
        BookingError::SlotUnavailable
    }
}

/// Moves `appt` onto `slot` of `resource` without a hold, in the caller's transaction (the
/// exclusion constraint the last guard); a rule staff passed is audited first.
async fn move_onto(
    tx: &mut PgConnection,
    appt: &AppointmentRow,
    service: Uuid,
    slot: &slots::Slot,
    resource: Uuid,
    overridden: bool,
) -> Result<AppointmentRow> {
    if overridden {
        audit_override(tx, appt, "min_notice_or_daily_limit", "reschedule").await?;
    }
    let to = q::Placement {
        start: slot.start,
        end: slot.end,
        resource_id: resource,
        service_id: service,
        hold_id: None,
    };
    q::move_appointment(tx, appt.id, &to)
        .await
        .map_err(slot_taken_on_overlap)
}

/// Turns `hold` into a booking for `client` in the caller's transaction: the appointment
/// (the exclusion constraint its last guard), the hold deleted, `booking.confirmed`
/// audited as `actor`. The caller appends the event.
async fn book_hold(
    tx: &mut PgConnection,
    hold: &HoldRow,
    client: &ClientDetails,
    actor: &str,
) -> Result<AppointmentRow> {
    let reference = ReferenceCode::generate();
    let appt = q::insert_appointment(
        tx,
        &q::NewAppointment {
            id: Uuid::new_v4(),
            hold,
            reference: reference.as_str(),
            client_name: client.name.as_str(),
            client_email: client.email.as_str(),
            client_phone: client.phone.as_ref().map(PhoneE164::as_str),
            notes: client.notes.as_ref().map(Notes::as_str),
            client_time_zone: client.time_zone.as_ref().map(TimeZone::name),
            locale: client.locale.map(crate::domain::Locale::code),
        },
    )
    .await
    .map_err(slot_taken_on_overlap)?;
    q::delete_hold(tx, hold.id).await?;
    audit_appointment(
        tx,
        hold.tenant_id,
        "booking.confirmed",
        appt.id,
        actor,
        json!({
            "reference": appt.reference,
            "hold_id": hold.id,
            "service_id": appt.service_id,
            "resource_id": appt.resource_id,
            "start": appt.start_at,
            "end": appt.end_at,
            "client_name": appt.client_name,
            "client_email": appt.client_email,
            "client_phone": appt.client_phone,
            "notes": appt.notes,
            "client_time_zone": appt.client_time_zone,
        }),
    )
    .await?;
    Ok(appt)
}

/// Under the rule locks: whether the held time is still worked by its resource (hours and
/// exceptions read in the caller's transaction).
async fn check_hold_schedule(
    conn: &mut PgConnection,
    sched: &TenantSchedule,
    hold: &HoldRow,
    extras: &ScheduleExtras,
    service_cap: Option<i32>,
    except: Option<Uuid>,
) -> Result<()> {
    let resources = [hold.resource_id];
    let engine = sched.engine(extras, &resources);
    if !engine.fits(sched.tz, 0, hold.start_at, hold.end_at) {
        return Err(BookingError::ScheduleClosed);
    }
    let resource_cap = extras.resource_caps.first().map(|c| c.max_per_day);
    if service_cap.is_none() && resource_cap.is_none() {
        return Ok(());
    }
    let date = sched.local_date(hold.start_at);
    let midnight = chrono::NaiveTime::MIN;
    let lo = slots::local_to_utc(sched.tz, date, midnight, true);
    let hi = slots::local_to_utc(sched.tz, date + Duration::days(1), midnight, true);
    let rows = schedule_db::confirmed_starts(
        &mut *conn,
        sched.tenant.id,
        hold.service_id,
        &resources,
        lo,
        hi,
        except,
    )
    .await?;
    let of_service = rows.iter().filter(|r| r.1 == hold.service_id).count();
    let of_resource = rows.iter().filter(|r| r.0 == hold.resource_id).count();
    let full =
        |cap: Option<i32>, n: usize| cap.is_some_and(|c| n >= usize::try_from(c).unwrap_or(0));
    if full(service_cap, of_service) || full(resource_cap, of_resource) {
        return Err(BookingError::DailyLimitReached);
    }
    Ok(())
}

/// The self-service cut-off: a client may not change a booking that starts sooner than
/// the tenant's `self_service_cutoff_minutes`; staff may (the caller audits the override).
fn check_cutoff(
    sched: &TenantSchedule,
    appt: &AppointmentRow,
    now: DateTime<Utc>,
    by: ChangeBy,
) -> Result<()> {
    if by == ChangeBy::Client && cutoff_passed(sched, appt, now) {
        return Err(BookingError::ChangeCutoffPassed {
            minutes: sched.tenant.self_service_cutoff_minutes,
        });
    }
    Ok(())
}

fn cutoff_passed(sched: &TenantSchedule, appt: &AppointmentRow, now: DateTime<Utc>) -> bool {
    let minutes = sched.tenant.self_service_cutoff_minutes;
    minutes > 0 && appt.start_at - now < Duration::minutes(minutes.into())
}

/// The audit row of staff overriding a client rule (in the change's transaction).
async fn audit_override(
    tx: &mut PgConnection,
    appt: &AppointmentRow,
    rule: &str,
    action: &str,
) -> Result<()> {
    audit::record(
        tx,
        audit::AuditEntry {
            tenant_id: Some(appt.tenant_id),
            event_type: "booking.rule_overridden",
            entity_type: "appointment",
            entity_id: Some(appt.id.to_string()),
            actor: crate::db::audit::ADMIN,
            payload: json!({"rule": rule, "action": action, "reference": appt.reference, "start": appt.start_at}),
        },
    )
    .await?;
    Ok(())
}

/// A hold can become a booking only while it is live and its slot has not started.
fn hold_still_good(hold: &HoldRow, now: DateTime<Utc>) -> Result<()> {
    if hold.expires_at <= now {
        return Err(BookingError::HoldExpired);
    }
    if hold.start_at <= now {
        return Err(BookingError::SlotUnavailable);
    }
    Ok(())
}

/// The advisory-lock key of one session's holds at a tenant.
fn session_lock_key(tenant: Uuid, session: &str) -> i64 {
    lock_key(&[b"session", tenant.as_bytes(), session.as_bytes()])
}

/// What the booking rules read, as the advisory locks that guard it: one key per
/// (resource, local day) that a rule's window touches. A rule's window is the interval it
/// checks widened by what the rule looks at around it (the buffer either side). Two
/// bookings that a rule could find in conflict overlap inside one of the windows, so they
/// share at least one key and their checks run one after the other. Every path that
/// writes or checks a booking (hold, confirm, reschedule, the calendar undo) adds its
/// windows here and takes the keys at once, in ascending order, so no two lock sets can
/// deadlock.
#[derive(Debug, Default)]
pub struct RuleLocks {
    keys: Vec<i64>,
}

impl RuleLocks {
    pub fn new() -> Self {
        Self::default()
    }

    /// The buffer rule: `[start, end)` on `resource` reads the busy times within the
    /// tenant's buffer either side.
    pub fn buffered(
        &mut self,
        sched: &TenantSchedule,
        resource: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> &mut Self {
        let buffer = Duration::minutes(sched.tenant.buffer_minutes.max(0).into());
        self.window(sched, resource, start - buffer, end + buffer)
    }

    /// Every local day of `resource` that the half-open window `[from, to)` touches.
    pub fn window(
        &mut self,
        sched: &TenantSchedule,
        resource: Uuid,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> &mut Self {
        let first = sched.local_date(from);
        // The last instant inside the window decides its last day (an end at local
        // midnight does not reach into the next day).
        let last = sched.local_date((to - Duration::microseconds(1)).max(from));
        let mut day = first;
        while day <= last {
            self.keys
                .push(slot_lock_key(sched.tenant.id, resource, day));
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        self
    }

    /// What a new booking of `service` at `start` reads: the days its buffered window
    /// touches on each of `resources`, and the service's day when it has a daily cap.
    pub fn booking(
        &mut self,
        sched: &TenantSchedule,
        service: &ServiceRow,
        resources: &[Uuid],
        start: DateTime<Utc>,
        duration: Duration,
    ) -> &mut Self {
        let (before, after) = own_buffers(sched, service.id, &sched.extras);
        for r in resources {
            self.window(sched, *r, start - before, start + duration + after);
        }
        if service.max_per_day.is_some() {
            self.service_day(sched, service.id, sched.local_date(start));
        }
        self
    }

    /// One local day of `resource` (a change of its schedule on that day).
    pub fn day(&mut self, sched: &TenantSchedule, resource: Uuid, day: NaiveDate) -> &mut Self {
        self.keys
            .push(slot_lock_key(sched.tenant.id, resource, day));
        self
    }

    /// The daily-cap rule of a service: every booking of the service on that local day.
    pub fn service_day(
        &mut self,
        sched: &TenantSchedule,
        service: Uuid,
        day: NaiveDate,
    ) -> &mut Self {
        self.keys.push(lock_key(&[
            b"service-day",
            sched.tenant.id.as_bytes(),
            service.as_bytes(),
            &day.num_days_from_ce().to_be_bytes(),
        ]));
        self
    }

    /// Takes every collected lock for the rest of the transaction.
    pub async fn take(mut self, conn: &mut PgConnection) -> Result<()> {
        q::advisory_locks(conn, &mut self.keys).await?;
        Ok(())
    }

    /// [`RuleLocks::take`], and then the schedule extras of `resources` read under the
    /// locks, in one round trip (a change of hours or exceptions takes the same day locks).
    /// SERIALIZABLE transactions only: every read there sees the transaction's snapshot
    /// anyway, while under READ COMMITTED this one statement's snapshot would predate the
    /// lock wait.
    pub async fn take_reading(
        mut self,
        conn: &mut PgConnection,
        sched: &TenantSchedule,
        resources: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<ScheduleExtras> {
        Ok(schedule_db::lock_then_extras(
            conn,
            &mut self.keys,
            sched.tenant.id,
            resources,
            TenantSchedule::since(now),
        )
        .await?)
    }
}

/// The advisory-lock key of one resource's local day at a tenant (see [`RuleLocks`]).
pub fn slot_lock_key(tenant: Uuid, resource: Uuid, date: NaiveDate) -> i64 {
    lock_key(&[
        tenant.as_bytes(),
        resource.as_bytes(),
        &date.num_days_from_ce().to_be_bytes(),
    ])
}

/// A 64-bit advisory-lock key: the first 8 bytes of SHA-256 over the parts.
fn lock_key(parts: &[&[u8]]) -> i64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Runs one transaction attempt after another while it fails with a database error that
/// `retry` accepts (serialization failures, deadlocks, ...), backing off a little more each
/// time; [`BookingError::Contention`] once [`MAX_TX_ATTEMPTS`] attempts have failed.
async fn retry_transaction<T, F, Fut>(
    retry: impl Fn(&sqlx::Error) -> bool,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    for n in 0..MAX_TX_ATTEMPTS {
        match attempt().await {
            Err(BookingError::Database(e)) if retry(&e) => backoff(n).await,
            other => return other,
        }
    }
    Err(BookingError::Contention)
}

async fn backoff(attempt: u32) {
    use rand::Rng;
    let base = 2u64.saturating_pow(attempt.min(6));
    let jitter = rand::rng().random_range(0..=base);
    tokio::time::sleep(StdDuration::from_millis(base + jitter)).await;
}

fn is_constraint(e: &sqlx::Error, name: &str) -> bool {
    matches!(db_error_code(e), Some((code, Some(c))) if code == sqlstate::UNIQUE_VIOLATION && c == name)
}

/// The exclusion constraint firing means another booking won the slot.
fn slot_taken_on_overlap(e: sqlx::Error) -> BookingError {
    match db_error_code(&e) {
        Some((code, _)) if code == sqlstate::EXCLUSION_VIOLATION => BookingError::SlotTaken,
        _ => BookingError::Database(e),
    }
}

fn booking_event(a: &AppointmentRow) -> events::BookingEvent {
    events::BookingEvent {
        tenant_id: a.tenant_id,
        booking_id: a.id,
        reference: a.reference.clone(),
        service_id: a.service_id,
        resource_id: a.resource_id,
        start: a.start_at,
        end: a.end_at,
    }
}

fn slot_opened(a: &AppointmentRow) -> DomainEvent {
    DomainEvent::SlotOpened(events::SlotOpened {
        tenant_id: a.tenant_id,
        service_id: a.service_id,
        resource_id: a.resource_id,
        start: a.start_at,
        end: a.end_at,
    })
}

async fn audit_hold(
    conn: &mut PgConnection,
    h: &HoldRow,
    event: &str,
    actor: &str,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        audit::AuditEntry {
            tenant_id: Some(h.tenant_id),
            event_type: event,
            entity_type: "hold",
            entity_id: Some(h.id.to_string()),
            actor,
            payload: json!({
                "service_id": h.service_id,
                "resource_id": h.resource_id,
                "start": h.start_at,
                "end": h.end_at,
                "expires_at": h.expires_at,
            }),
        },
    )
    .await
}

/// The audit row and events of a move from `old` to `moved` (in the move's transaction).
async fn record_move(
    tx: &mut PgConnection,
    old: &AppointmentRow,
    moved: &AppointmentRow,
    hold_id: Option<Uuid>,
) -> Result<()> {
    record_move_by(tx, old, moved, hold_id, "client").await
}

/// [`record_move`] with the actor of the audit row ([`audit::ADMIN`] for staff).
async fn record_move_by(
    tx: &mut PgConnection,
    old: &AppointmentRow,
    moved: &AppointmentRow,
    hold_id: Option<Uuid>,
    actor: &str,
) -> Result<()> {
    let tenant_id = moved.tenant_id;
    audit_appointment(
        tx,
        tenant_id,
        "booking.rescheduled",
        moved.id,
        actor,
        json!({
            "reference": moved.reference,
            "old_start": old.start_at,
            "old_end": old.end_at,
            "start": moved.start_at,
            "end": moved.end_at,
            "hold_id": hold_id,
            "client_email": moved.client_email,
        }),
    )
    .await?;
    outbox::append(
        tx,
        &DomainEvent::BookingRescheduled(events::BookingRescheduled {
            tenant_id,
            booking_id: moved.id,
            reference: moved.reference.clone(),
            service_id: moved.service_id,
            resource_id: moved.resource_id,
            old_start: old.start_at,
            old_end: old.end_at,
            start: moved.start_at,
            end: moved.end_at,
            sequence: moved.sequence,
        }),
    )
    .await?;
    outbox::append(tx, &slot_opened(old)).await?;
    Ok(())
}

/// The audit row of a change to an appointment.
async fn audit_appointment(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    event_type: &'static str,
    appointment: Uuid,
    actor: &str,
    payload: serde_json::Value,
) -> Result<()> {
    audit::record(
        tx,
        audit::AuditEntry {
            tenant_id: Some(tenant_id),
            event_type,
            entity_type: "appointment",
            entity_id: Some(appointment.to_string()),
            actor,
            payload,
        },
    )
    .await?;
    Ok(())
}
