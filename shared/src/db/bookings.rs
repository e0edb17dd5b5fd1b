//! Holds and appointments. Every query takes a connection so the booking service decides
//! the transaction and its isolation level.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::slots::Busy;

/// `appointments.status` (a text column with a CHECK on these values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum AppointmentStatus {
    Confirmed,
    Cancelled,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for AppointmentStatus {
    type Err = crate::domain::ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confirmed" => Ok(Self::Confirmed),
            "cancelled" => Ok(Self::Cancelled),
            _ => Err(crate::domain::ParseError::new(
                "status",
                "must be confirmed or cancelled",
            )),
        }
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the column's text value (`status == "confirmed"`).
impl PartialEq<&str> for AppointmentStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `availability_holds.status` (a text column with a CHECK on these values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum HoldStatus {
    Active,
    Expired,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for HoldStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct HoldRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub session_id: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub status: HoldStatus,
    pub expires_at: DateTime<Utc>,
    /// The booking this hold was taken to move (its own interval was not busy for it).
    pub moves_appointment_id: Option<Uuid>,
}

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct AppointmentRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub hold_id: Uuid,
    pub session_id: String,
    pub reference: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub client_name: String,
    pub client_email: String,
    pub client_phone: Option<String>,
    pub notes: Option<String>,
    pub sequence: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// What happened: `attended`, `no_show` or `late_cancel` (None until known).
    pub outcome: Option<Outcome>,
    /// When the client confirmed they will come (SMS "C").
    pub client_confirmed_at: Option<DateTime<Utc>>,
    /// The deadline the no-show policy set for the client's confirmation.
    pub confirm_by: Option<DateTime<Utc>>,
    /// The client's own time zone (IANA name) when the client gave one.
    pub client_time_zone: Option<String>,
    /// The language the client booked in ("en", "es"): the booking's messages speak it.
    pub locale: String,
}

impl AppointmentRow {
    /// The language of the booking's messages.
    pub fn locale(&self) -> crate::domain::Locale {
        crate::domain::Locale::from_code(&self.locale).unwrap_or_default()
    }
}

/// `appointments.outcome`: kept beside the status (the exclusion constraint reads the status;
/// a late cancellation is a cancellation whose slot is free again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Outcome {
    Attended,
    NoShow,
    LateCancel,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attended => "attended",
            Self::NoShow => "no_show",
            Self::LateCancel => "late_cancel",
        }
    }
}

pub(crate) const HOLD_COLS: &str = "id, tenant_id, service_id, resource_id, session_id,
    lower(during) AS start_at, upper(during) AS end_at, status, expires_at, moves_appointment_id";
/// The columns of an [`AppointmentRow`], for every query that reads appointments.
pub const APPT_COLS: &str =
    "id, tenant_id, service_id, resource_id, hold_id, session_id, reference,
    lower(during) AS start_at, upper(during) AS end_at, status, client_name, client_email,
    client_phone, notes, sequence, created_at, updated_at, cancelled_at, outcome,
    client_confirmed_at, confirm_by, client_time_zone, locale";

/// Busy intervals (live appointments and unexpired active holds) of the given resources that
/// touch [from, to), leaving out the appointment `except` (a booking being moved does not
/// block its own new time). Returns (resource_id, service_id, busy).
pub async fn busy_intervals(
    conn: &mut PgConnection,
    resources: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid, Busy)>, sqlx::Error> {
    let rows: Vec<(Uuid, Uuid, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT resource_id, service_id, lower(during), upper(during) FROM appointments
          WHERE resource_id = ANY($1) AND status <> 'cancelled' AND during && tstzrange($2, $3)
            AND id IS DISTINCT FROM $5
         UNION ALL
         SELECT resource_id, service_id, lower(during), upper(during) FROM availability_holds
          WHERE resource_id = ANY($1) AND status = 'active' AND expires_at > $4
            AND during && tstzrange($2, $3)",
    )
    .bind(resources)
    .bind(from)
    .bind(to)
    .bind(now)
    .bind(except)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(r, s, start, end)| (r, s, Busy { start, end }))
        .collect())
}

/// How many sessions wait for an advisory lock right now (lock contention, for status
/// and for tests that must know a transaction is queued on a lock).
pub async fn advisory_lock_waiters<'e>(db: impl PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        .fetch_one(db)
        .await
}

/// Transaction-scoped advisory locks, taken in ascending order so two transactions that
/// need overlapping sets cannot deadlock.
pub async fn advisory_locks(
    conn: &mut PgConnection,
    keys: &mut Vec<i64>,
) -> Result<(), sqlx::Error> {
    keys.sort_unstable();
    keys.dedup();
    // One round trip: unnest yields the sorted keys in order and each lock is taken in turn.
    sqlx::query("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k")
        .bind(&*keys)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub struct NewHold {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub session_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub moves_appointment_id: Option<Uuid>,
}

pub async fn insert_hold(conn: &mut PgConnection, h: &NewHold) -> Result<HoldRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO availability_holds (id, tenant_id, service_id, resource_id, session_id, during, expires_at,
                                         moves_appointment_id)
         VALUES ($1, $2, $3, $4, $5, tstzrange($6, $7), $8, $9) RETURNING {HOLD_COLS}"
    )))
    .bind(h.id)
    .bind(h.tenant_id)
    .bind(h.service_id)
    .bind(h.resource_id)
    .bind(&h.session_id)
    .bind(h.start)
    .bind(h.end)
    .bind(h.expires_at)
    .bind(h.moves_appointment_id)
    .fetch_one(conn)
    .await
}

/// Deletes a session's other active holds at a tenant (a session holds one slot at a time).
pub async fn release_session_holds(
    conn: &mut PgConnection,
    tenant: Uuid,
    session: &str,
) -> Result<Vec<HoldRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "DELETE FROM availability_holds WHERE tenant_id = $1 AND session_id = $2 AND status = 'active'
         RETURNING {HOLD_COLS}"
    )))
    .bind(tenant)
    .bind(session)
    .fetch_all(conn)
    .await
}

/// Gives the live hold `id` that a call took (session `call:…`) to the chat session `to`
/// that continues the call, lasting at least `until`; None when it is no longer live (run
/// out, released, booked).
pub async fn give_call_hold(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    to: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<HoldRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE availability_holds SET session_id = $3, expires_at = GREATEST(expires_at, $5)
          WHERE tenant_id = $1 AND id = $2 AND status = 'active' AND expires_at > $4
            AND session_id LIKE 'call:%'
          RETURNING {HOLD_COLS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(to)
    .bind(now)
    .bind(until)
    .fetch_optional(conn)
    .await
}

pub async fn hold_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<HoldRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {HOLD_COLS} FROM availability_holds WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
    // Looked up by primary key alone (the tenant is checked here, not in SQL) so the
    // planner always probes the primary key: under SERIALIZABLE a wider scan would take a
    // wide predicate lock and make unrelated confirms fail with serialization errors.
    .map(|h: Option<HoldRow>| h.filter(|h| h.tenant_id == tenant))
}

pub async fn delete_hold(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM availability_holds WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks due holds expired and returns them; removes expired rows older than a day.
pub async fn expire_due_holds(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<HoldRow>, sqlx::Error> {
    let rows = sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE availability_holds SET status = 'expired'
          WHERE id IN (SELECT id FROM availability_holds WHERE status = 'active' AND expires_at <= $1
                       ORDER BY expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
          RETURNING {HOLD_COLS}"
    )))
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM availability_holds WHERE status = 'expired' AND expires_at < $1 - interval '1 day'")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(rows)
}

/// A booking by id, whatever its status.
pub async fn appointment_by_id<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The chat session that made a booking (events carry the booking id, never the session).
pub async fn session_of_appointment<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT session_id FROM appointments WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(db)
        .await
}

/// The chat session a hold was made for, while the row exists (expired holds stay a day).
pub async fn session_of_hold<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT session_id FROM availability_holds WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant)
        .fetch_optional(db)
        .await
}

pub async fn appointment_by_hold<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    hold: Uuid,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments WHERE hold_id = $1"
    )))
    .bind(hold)
    .fetch_optional(db)
    .await
    // By the unique hold_id alone, for the same reason as `hold_for_update`.
    .map(|a: Option<AppointmentRow>| a.filter(|a| a.tenant_id == tenant))
}

pub async fn appointment_by_reference<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    reference: &str,
    for_update: bool,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments WHERE tenant_id = $1 AND reference = $2{lock}"
    )))
    .bind(tenant)
    .bind(reference)
    .fetch_optional(db)
    .await
}

pub struct NewAppointment<'a> {
    pub id: Uuid,
    pub hold: &'a HoldRow,
    pub reference: &'a str,
    pub client_name: &'a str,
    pub client_email: &'a str,
    pub client_phone: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub client_time_zone: Option<&'a str>,
    /// None: the tenant's default language.
    pub locale: Option<&'a str>,
}

pub async fn insert_appointment(
    conn: &mut PgConnection,
    a: &NewAppointment<'_>,
) -> Result<AppointmentRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO appointments (id, tenant_id, service_id, resource_id, hold_id, session_id, reference,
                                   during, client_name, client_email, client_phone, notes,
                                   client_time_zone, locale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, tstzrange($8, $9), $10, $11, $12, $13, $14,
                 COALESCE($15, (SELECT languages[1] FROM tenants WHERE id = $2)))
         RETURNING {APPT_COLS}"
    )))
    .bind(a.id)
    .bind(a.hold.tenant_id)
    .bind(a.hold.service_id)
    .bind(a.hold.resource_id)
    .bind(a.hold.id)
    .bind(&a.hold.session_id)
    .bind(a.reference)
    .bind(a.hold.start_at)
    .bind(a.hold.end_at)
    .bind(a.client_name)
    .bind(a.client_email)
    .bind(a.client_phone)
    .bind(a.notes)
    .bind(a.client_time_zone)
    .bind(a.locale)
    .fetch_one(conn)
    .await
}

/// Where an appointment is moved to.
pub struct Placement {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub resource_id: Uuid,
    pub service_id: Uuid,
    /// The hold the move used (remembered as the appointment's latest move), if any.
    pub hold_id: Option<Uuid>,
}

impl From<&HoldRow> for Placement {
    fn from(h: &HoldRow) -> Self {
        Self {
            start: h.start_at,
            end: h.end_at,
            resource_id: h.resource_id,
            service_id: h.service_id,
            hold_id: Some(h.id),
        }
    }
}

/// Moves a live appointment to `to`.
pub async fn move_appointment(
    conn: &mut PgConnection,
    id: Uuid,
    to: &Placement,
) -> Result<AppointmentRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE appointments SET during = tstzrange($2, $3), resource_id = $4, service_id = $5,
                last_move_hold_id = COALESCE($6, last_move_hold_id), sequence = sequence + 1, updated_at = now()
          WHERE id = $1 RETURNING {APPT_COLS}"
    )))
    .bind(id)
    .bind(to.start)
    .bind(to.end)
    .bind(to.resource_id)
    .bind(to.service_id)
    .bind(to.hold_id)
    .fetch_one(conn)
    .await
}

/// The hold of an appointment's latest move (None when it was never moved).
pub async fn last_move_hold<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT last_move_hold_id FROM appointments WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

pub async fn cancel_appointment(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<AppointmentRow, sqlx::Error> {
    cancel_appointment_as(conn, id, now, None, None).await
}

/// Cancels with an outcome (`late_cancel`) and the reason the system cancelled it, if any.
pub async fn cancel_appointment_as(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    outcome: Option<Outcome>,
    reason: Option<&str>,
) -> Result<AppointmentRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE appointments SET status = 'cancelled', cancelled_at = $2, updated_at = now(), sequence = sequence + 1,
                outcome = COALESCE($3, outcome), outcome_at = CASE WHEN $3::text IS NULL THEN outcome_at ELSE $2 END,
                cancel_reason = $4
          WHERE id = $1 RETURNING {APPT_COLS}"
    )))
    .bind(id)
    .bind(now)
    .bind(outcome)
    .bind(reason)
    .fetch_one(conn)
    .await
}

/// Records what happened at a booking (the row is the caller's, locked).
pub async fn set_outcome(
    conn: &mut PgConnection,
    id: Uuid,
    outcome: Outcome,
    now: DateTime<Utc>,
) -> Result<AppointmentRow, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE appointments SET outcome = $2, outcome_at = $3, updated_at = now()
          WHERE id = $1 RETURNING {APPT_COLS}"
    )))
    .bind(id)
    .bind(outcome)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The client confirmed they will come; the first confirmation's time is kept.
pub async fn mark_client_confirmed<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE appointments SET client_confirmed_at = COALESCE(client_confirmed_at, $2), updated_at = now()
          WHERE id = $1 RETURNING client_confirmed_at",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}

/// A client's attendance record at a tenant: bookings matched by email (any case) or by
/// phone; either may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow, Serialize)]
pub struct AttendanceCounts {
    pub no_shows: i64,
    pub late_cancels: i64,
    pub attended: i64,
}

pub async fn attendance_counts<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<AttendanceCounts, sqlx::Error> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE outcome = 'no_show') AS no_shows,
                count(*) FILTER (WHERE outcome = 'late_cancel') AS late_cancels,
                count(*) FILTER (WHERE outcome = 'attended') AS attended
           FROM appointments
          WHERE tenant_id = $1 AND outcome IS NOT NULL
            AND (($2::text IS NOT NULL AND lower(client_email) = lower($2))
                 OR ($3::text IS NOT NULL AND client_phone = $3))",
    )
    .bind(tenant)
    .bind(email)
    .bind(phone)
    .fetch_one(db)
    .await
}

/// Live future bookings whose client has at least the tenant's no-show threshold and that
/// have no confirmation deadline yet, with the deadline (`no_show_confirm_hours` before the
/// start) still ahead: (booking id, deadline). At most `limit`.
pub async fn needing_confirmation<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, lower(a.during) - make_interval(hours => t.no_show_confirm_hours)
           FROM tenants t JOIN appointments a ON a.tenant_id = t.id
          WHERE t.no_show_confirm_threshold IS NOT NULL
            AND a.status = 'confirmed' AND a.confirm_by IS NULL AND a.client_confirmed_at IS NULL
            AND lower(a.during) - make_interval(hours => t.no_show_confirm_hours) > $1
            AND (SELECT count(*) FROM appointments n
                  WHERE n.tenant_id = a.tenant_id AND n.outcome = 'no_show'
                    AND (lower(n.client_email) = lower(a.client_email)
                         OR (a.client_phone IS NOT NULL AND n.client_phone = a.client_phone)))
                >= t.no_show_confirm_threshold
          ORDER BY lower(a.during) LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Sets the confirmation deadline of a live, unconfirmed booking; false when it changed meanwhile.
pub async fn set_confirm_by<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    by: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "UPDATE appointments SET confirm_by = $2
          WHERE id = $1 AND status = 'confirmed' AND confirm_by IS NULL AND client_confirmed_at IS NULL",
    )
    .bind(id)
    .bind(by)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Live bookings whose confirmation deadline passed without the client's confirmation.
pub async fn unconfirmed_past_deadline<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(Uuid, Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, reference FROM appointments
          WHERE confirm_by IS NOT NULL AND client_confirmed_at IS NULL AND status = 'confirmed'
            AND confirm_by <= $1
          ORDER BY confirm_by LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Why the system cancelled a booking (`unconfirmed`), if it did.
pub async fn cancel_reason<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT cancel_reason FROM appointments WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// A booking by id, row-locked, at a tenant.
pub async fn appointment_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map(|a: Option<AppointmentRow>| a.filter(|a| a.tenant_id == tenant))
}

pub async fn list_appointments<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Option<AppointmentStatus>,
    limit: i64,
) -> Result<Vec<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments
          WHERE tenant_id = $1 AND during && tstzrange($2, $3) AND ($4::text IS NULL OR status = $4)
          ORDER BY lower(during), id LIMIT $5"
    )))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .bind(status)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The busy ranges of a tenant's live appointments (any resource) touching [from, to): the
/// bookings gomomo itself wrote to the tenant calendar.
pub async fn live_appointment_ranges<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lower(during), upper(during) FROM appointments
          WHERE tenant_id = $1 AND status <> 'cancelled' AND during && tstzrange($2, $3)",
    )
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// The status and sequence of an appointment, row-locked (None when it does not exist).
pub async fn appointment_state_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<(AppointmentStatus, i32)>, sqlx::Error> {
    sqlx::query_as("SELECT status, sequence FROM appointments WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Makes every later read of the current SERIALIZABLE transaction an index probe. On the
/// small, hot `availability_holds` table the planner otherwise picks a sequential scan,
/// which takes a relation-wide predicate lock: every concurrent confirm then conflicts with
/// every other (Postgres cancels one "as a pivot") and unrelated bookings retry until they
/// give up.
pub async fn index_probes_only(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(conn)
        .await
        .map(|_| ())
}

/// A tenant's confirmed appointments under a phone number that start after `after`, soonest
/// first (a caller whose number was verified finds their bookings by it).
pub async fn upcoming_by_phone<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    phone: &str,
    after: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AppointmentRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {APPT_COLS} FROM appointments
          WHERE tenant_id = $1 AND client_phone = $2 AND status = 'confirmed'
            AND lower(during) > $3
          ORDER BY lower(during), id LIMIT $4"
    )))
    .bind(tenant)
    .bind(phone)
    .bind(after)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The name and email of the newest booking under a phone number at a tenant (any status):
/// what a verified caller has booked with before.
pub async fn last_client_by_phone<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    phone: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT client_name, client_email FROM appointments
          WHERE tenant_id = $1 AND client_phone = $2
          ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(phone)
    .fetch_optional(db)
    .await
}
