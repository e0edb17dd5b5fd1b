//! The schedule beyond the tenant's weekly hours: `resource_hours` (a resource's own week)
//! and `schedule_exceptions` (closures, time off, extra hours by local date).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::slots::{DateException, ExceptionKind, WeeklyHours};

#[derive(Debug, Clone, Copy, FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceHoursRow {
    pub resource_id: Uuid,
    pub weekday: i16,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// A service's own buffers (minutes; None: the tenant's buffer).
#[derive(Debug, Clone, Copy, FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceBuffers {
    pub service_id: Uuid,
    pub before: Option<i32>,
    pub after: Option<i32>,
}

/// A resource's daily cap: at most `max_per_day` confirmed bookings on one local day.
#[derive(Debug, Clone, Copy, FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct ResourceCap {
    pub resource_id: Uuid,
    pub max_per_day: i32,
}

#[derive(Debug, Clone, FromRow, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExceptionRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub resource_id: Option<Uuid>,
    pub kind: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub recurring_yearly: bool,
    pub note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ExceptionRow {
    /// The exception for the engine, naming resource `index` of the call (`None` when it
    /// is tenant-wide); `None` for a kind this build does not know.
    pub fn to_domain(&self, index: Option<usize>) -> Option<DateException> {
        Some(DateException {
            kind: ExceptionKind::parse(&self.kind)?,
            resource: index,
            start_date: self.start_date,
            end_date: self.end_date,
            times: self.start_time.zip(self.end_time),
            recurring_yearly: self.recurring_yearly,
        })
    }
}

/// What an exception is made of (create and change).
#[derive(Debug, Clone)]
pub struct ExceptionInput {
    pub resource_id: Option<Uuid>,
    pub kind: ExceptionKind,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub times: Option<(NaiveTime, NaiveTime)>,
    pub recurring_yearly: bool,
    pub note: String,
}

/// The own hours of some resources and the exceptions that can touch them from `since`
/// on (tenant-wide ones included), in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleExtras {
    /// The tenant's services with buffers of their own (empty: the tenant's buffer for all).
    pub service_buffers: Vec<ServiceBuffers>,
    pub resource_caps: Vec<ResourceCap>,
    pub resource_hours: Vec<ResourceHoursRow>,
    pub exceptions: Vec<ExceptionRow>,
    /// The tenant's `schedule_version` in the snapshot these were read from (None when
    /// nothing was read): a later read of the same number means they still hold.
    pub version: Option<i64>,
}

impl ScheduleExtras {
    /// The weekly hours of `resource`, when it has its own.
    pub fn own_hours(&self, resource: Uuid) -> Option<WeeklyHours> {
        let mut found = false;
        let mut h = WeeklyHours::default();
        for r in self
            .resource_hours
            .iter()
            .filter(|r| r.resource_id == resource)
        {
            if let Some(day) = usize::try_from(r.weekday - 1)
                .ok()
                .and_then(|i| h.days.get_mut(i))
            {
                day.push((r.opens, r.closes));
                found = true;
            }
        }
        found.then_some(h)
    }
}

#[derive(FromRow)]
struct ExtrasRow {
    buffers: Json<Vec<ServiceBuffers>>,
    caps: Json<Vec<ResourceCap>>,
    hours: Json<Vec<ResourceHoursRow>>,
    exceptions: Json<Vec<ExceptionRow>>,
    version: Option<i64>,
}

impl From<ExtrasRow> for ScheduleExtras {
    fn from(row: ExtrasRow) -> Self {
        Self {
            service_buffers: row.buffers.0,
            resource_caps: row.caps.0,
            resource_hours: row.hours.0,
            exceptions: row.exceptions.0,
            version: row.version,
        }
    }
}

/// The SQL of [`ScheduleExtras`] over `$1` tenant, `$2` resources, `$3` since: json
/// columns `buffers`, `caps`, `hours` and `exceptions`, and the tenant's `version`.
pub(crate) const EXTRAS_COLUMNS: &str = "
    COALESCE((SELECT json_agg(json_build_object('service_id', b.id,
                     'before', b.buffer_before_minutes, 'after', b.buffer_after_minutes))
                FROM services b WHERE b.tenant_id = $1
                 AND (b.buffer_before_minutes IS NOT NULL OR b.buffer_after_minutes IS NOT NULL)),
             '[]'::json) AS buffers,
    COALESCE((SELECT json_agg(json_build_object('resource_id', r.id, 'max_per_day', r.max_per_day))
                FROM resources r WHERE r.id = ANY($2) AND r.max_per_day IS NOT NULL),
             '[]'::json) AS caps,
    COALESCE((SELECT json_agg(rh ORDER BY rh.resource_id, rh.weekday, rh.opens)
                FROM resource_hours rh WHERE rh.resource_id = ANY($2)), '[]'::json) AS hours,
    COALESCE((SELECT json_agg(e ORDER BY e.start_date, e.id) FROM schedule_exceptions e
               WHERE e.tenant_id = $1 AND (e.resource_id IS NULL OR e.resource_id = ANY($2))
                 AND (e.recurring_yearly OR e.end_date >= $3)), '[]'::json) AS exceptions,
    (SELECT schedule_version FROM tenants WHERE id = $1) AS version";

pub async fn extras<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resources: &[Uuid],
    since: NaiveDate,
) -> Result<ScheduleExtras, sqlx::Error> {
    let row: ExtrasRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {EXTRAS_COLUMNS}")))
        .bind(tenant)
        .bind(resources)
        .bind(since)
        .fetch_one(db)
        .await?;
    Ok(ScheduleExtras::from(row))
}

/// What [`super::bookings::busy_intervals`] reads over `resources` between `from` and
/// `to` (holds live at `now`, the booking `except` left out), and the `schedule_version` of
/// `tenant`, in one statement: a hold's read under its locks. READ COMMITTED callers run it
/// after the lock statement, so its snapshot follows the lock wait.
pub async fn busy_and_version(
    conn: &mut PgConnection,
    tenant: Uuid,
    resources: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<(Vec<(Uuid, Uuid, crate::domain::slots::Busy)>, Option<i64>), sqlx::Error> {
    // The version rides on every busy row (a scalar subquery, evaluated once); a second
    // branch gives it when nothing is busy.
    #[derive(FromRow)]
    struct Row {
        resource_id: Option<Uuid>,
        service_id: Option<Uuid>,
        start_at: Option<DateTime<Utc>>,
        end_at: Option<DateTime<Utc>>,
        version: Option<i64>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "WITH v AS (SELECT schedule_version FROM tenants WHERE id = $1)
             SELECT resource_id, service_id, lower(during) AS start_at, upper(during) AS end_at,
                    (SELECT * FROM v) AS version
               FROM appointments
              WHERE resource_id = ANY($2) AND status <> 'cancelled'
                AND during && tstzrange($3, $4) AND id IS DISTINCT FROM $6
             UNION ALL
             SELECT resource_id, service_id, lower(during), upper(during), (SELECT * FROM v)
               FROM availability_holds
              WHERE resource_id = ANY($2) AND status = 'active' AND expires_at > $5
                AND during && tstzrange($3, $4)
             UNION ALL
             SELECT NULL, NULL, NULL, NULL, (SELECT * FROM v)",
    )
    .bind(tenant)
    .bind(resources)
    .bind(from)
    .bind(to)
    .bind(now)
    .bind(except)
    .fetch_all(conn)
    .await?;
    let version = rows.first().and_then(|r| r.version);
    let busy = rows
        .into_iter()
        .filter_map(|r| {
            let busy = crate::domain::slots::Busy {
                start: r.start_at?,
                end: r.end_at?,
            };
            Some((r.resource_id?, r.service_id?, busy))
        })
        .collect();
    Ok((busy, version))
}

/// Takes the advisory locks `keys` (sorted and deduplicated here, each in turn) and then
/// reads [`extras`] in the same statement: one round trip where the locks and the read
/// under them were two. For SERIALIZABLE transactions: the statement's snapshot is taken
/// before the lock wait, which is the transaction's snapshot there anyway.
pub async fn lock_then_extras(
    conn: &mut sqlx::PgConnection,
    keys: &mut Vec<i64>,
    tenant: Uuid,
    resources: &[Uuid],
    since: NaiveDate,
) -> Result<ScheduleExtras, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        // Read so that the locking CTE runs; its value (how many keys) is not needed.
        #[allow(dead_code)]
        locked: i64,
        #[sqlx(flatten)]
        extras: ExtrasRow,
    }
    keys.sort_unstable();
    keys.dedup();
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH l AS MATERIALIZED (
             SELECT count(pg_advisory_xact_lock(k)) AS n FROM unnest($4::bigint[]) AS k)
         SELECT (SELECT n FROM l) AS locked, {EXTRAS_COLUMNS}"
    )))
    .bind(tenant)
    .bind(resources)
    .bind(since)
    .bind(&*keys)
    .fetch_one(conn)
    .await?;
    Ok(ScheduleExtras::from(row.extras))
}

/// The hold `id` locked for update (`None` when it is gone or another tenant's) with
/// [`extras_and_cap`] of its resource and service, in one round trip: the confirm's first
/// statement. The hold is found by its primary key alone, as in
/// [`super::bookings::hold_for_update`].
pub async fn hold_for_update_with_extras(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    id: Uuid,
    since: NaiveDate,
) -> Result<Option<(super::bookings::HoldRow, ScheduleExtras, Option<i32>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        hold: super::bookings::HoldRow,
        #[sqlx(flatten)]
        extras: ExtrasRow,
        cap: Option<i32>,
    }
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let extras = EXTRAS_COLUMNS
            .replace("ANY($2)", "ANY(ARRAY[h.resource_id])")
            .replace("$1", "h.tenant_id")
            .replace("$3", "$2");
        format!(
            "WITH h AS (SELECT {} FROM availability_holds WHERE id = $1 FOR UPDATE)
             SELECT h.*, {extras},
                    (SELECT max_per_day FROM services WHERE id = h.service_id) AS cap
               FROM h",
            super::bookings::HOLD_COLS
        )
    });
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(SQL.as_str()))
        .bind(id)
        .bind(since)
        .fetch_optional(conn)
        .await?;
    Ok(row
        .filter(|r| r.hold.tenant_id == tenant)
        .map(|r| (r.hold, ScheduleExtras::from(r.extras), r.cap)))
}

/// [`extras`] and the daily cap of `service` (None: none), in one round trip.
pub async fn extras_and_cap<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resources: &[Uuid],
    since: NaiveDate,
    service: Uuid,
) -> Result<(ScheduleExtras, Option<i32>), sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        extras: ExtrasRow,
        cap: Option<i32>,
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXTRAS_COLUMNS}, (SELECT max_per_day FROM services WHERE id = $4) AS cap"
    )))
    .bind(tenant)
    .bind(resources)
    .bind(since)
    .bind(service)
    .fetch_one(db)
    .await?;
    Ok((ScheduleExtras::from(row.extras), row.cap))
}

/// Whether `resource` is one of the tenant's resources.
pub async fn resource_of_tenant<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM resources WHERE id = $1 AND tenant_id = $2)")
        .bind(resource)
        .bind(tenant)
        .fetch_one(db)
        .await
}

/// Every resource id of the tenant (active or not).
pub async fn tenant_resource_ids<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM resources WHERE tenant_id = $1 ORDER BY id")
        .bind(tenant)
        .fetch_all(db)
        .await
}

pub async fn resource_hours<'e>(
    db: impl PgExecutor<'e>,
    resource: Uuid,
) -> Result<Vec<ResourceHoursRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT resource_id, weekday, opens, closes FROM resource_hours
          WHERE resource_id = $1 ORDER BY weekday, opens",
    )
    .bind(resource)
    .fetch_all(db)
    .await
}

/// Replaces a resource's own week (an empty list: it works the tenant's hours again).
pub async fn replace_resource_hours(
    conn: &mut PgConnection,
    resource: Uuid,
    rows: &[ResourceHoursRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM resource_hours WHERE resource_id = $1")
        .bind(resource)
        .execute(&mut *conn)
        .await?;
    let weekdays: Vec<i16> = rows.iter().map(|r| r.weekday).collect();
    let opens: Vec<NaiveTime> = rows.iter().map(|r| r.opens).collect();
    let closes: Vec<NaiveTime> = rows.iter().map(|r| r.closes).collect();
    sqlx::query(
        "INSERT INTO resource_hours (resource_id, weekday, opens, closes)
         SELECT $1, * FROM unnest($2::smallint[], $3::time[], $4::time[])",
    )
    .bind(resource)
    .bind(&weekdays)
    .bind(&opens)
    .bind(&closes)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

const EXC_COLS: &str = "id, tenant_id, resource_id, kind, start_date, end_date, start_time,
    end_time, recurring_yearly, note, created_at, updated_at";

pub async fn insert_exception(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    x: &ExceptionInput,
) -> Result<ExceptionRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO schedule_exceptions (id, tenant_id, resource_id, kind, start_date, end_date,
                                          start_time, end_time, recurring_yearly, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {EXC_COLS}"
    )))
    .bind(id)
    .bind(tenant)
    .bind(x.resource_id)
    .bind(x.kind.as_str())
    .bind(x.start_date)
    .bind(x.end_date)
    .bind(x.times.map(|t| t.0))
    .bind(x.times.map(|t| t.1))
    .bind(x.recurring_yearly)
    .bind(&x.note)
    .fetch_one(conn)
    .await
}

pub async fn update_exception(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    x: &ExceptionInput,
) -> Result<Option<ExceptionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE schedule_exceptions
            SET resource_id = $3, kind = $4, start_date = $5, end_date = $6, start_time = $7,
                end_time = $8, recurring_yearly = $9, note = $10, updated_at = now()
          WHERE id = $1 AND tenant_id = $2 RETURNING {EXC_COLS}"
    )))
    .bind(id)
    .bind(tenant)
    .bind(x.resource_id)
    .bind(x.kind.as_str())
    .bind(x.start_date)
    .bind(x.end_date)
    .bind(x.times.map(|t| t.0))
    .bind(x.times.map(|t| t.1))
    .bind(x.recurring_yearly)
    .bind(&x.note)
    .fetch_optional(conn)
    .await
}

pub async fn delete_exception(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<ExceptionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM schedule_exceptions WHERE id = $1 AND tenant_id = $2 RETURNING {EXC_COLS}"
    )))
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// One exception, row-locked when `for_update`.
pub async fn get_exception(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    for_update: bool,
) -> Result<Option<ExceptionRow>, sqlx::Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXC_COLS} FROM schedule_exceptions WHERE id = $1 AND tenant_id = $2{lock}"
    )))
    .bind(id)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// The tenant's exceptions that end on or after `since` (yearly ones always), by date.
pub async fn list_exceptions<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    since: NaiveDate,
) -> Result<Vec<ExceptionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EXC_COLS} FROM schedule_exceptions
          WHERE tenant_id = $1 AND (recurring_yearly OR end_date >= $2)
          ORDER BY start_date, id"
    )))
    .bind(tenant)
    .bind(since)
    .fetch_all(db)
    .await
}

/// The audit event types written about one entity (`schedule_exception`, `appointment`,
/// …), oldest first.
pub async fn audit_events<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    entity_type: &str,
    id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT event_type FROM audit_log
          WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3
          ORDER BY id",
    )
    .bind(tenant)
    .bind(entity_type)
    .bind(id.to_string())
    .fetch_all(db)
    .await
}

/// The starts of the confirmed bookings in `[from, to)` that count against the daily
/// caps: those of `service`, and those of `resources`, leaving out `except`. Returns
/// (resource_id, service_id, start).
pub async fn confirmed_starts<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    service: Uuid,
    resources: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT resource_id, service_id, lower(during) FROM appointments
          WHERE tenant_id = $1 AND status = 'confirmed'
            AND (service_id = $2 OR resource_id = ANY($3))
            AND lower(during) >= $4 AND lower(during) < $5 AND id IS DISTINCT FROM $6",
    )
    .bind(tenant)
    .bind(service)
    .bind(resources)
    .bind(from)
    .bind(to)
    .bind(except)
    .fetch_all(db)
    .await
}

/// The booking rules of a service: its daily cap, minimum notice and buffers (None: no cap
/// / the tenant's).
pub async fn set_service_rules(
    conn: &mut PgConnection,
    tenant: Uuid,
    service: Uuid,
    rules: [Option<i32>; 4],
) -> Result<bool, sqlx::Error> {
    let [max_per_day, min_notice_minutes, before, after] = rules;
    let r = sqlx::query(
        "UPDATE services SET max_per_day = $3, min_notice_minutes = $4,
                buffer_before_minutes = $5, buffer_after_minutes = $6
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(service)
    .bind(max_per_day)
    .bind(min_notice_minutes)
    .bind(before)
    .bind(after)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A resource's daily cap (None: none). False when the resource is not the tenant's.
pub async fn set_resource_cap(
    conn: &mut PgConnection,
    tenant: Uuid,
    resource: Uuid,
    max_per_day: Option<i32>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE resources SET max_per_day = $3 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(resource)
        .bind(max_per_day)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A resource's daily cap, when it is the tenant's: `Some(cap)`; `None` when not found.
pub async fn resource_cap<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
) -> Result<Option<Option<i32>>, sqlx::Error> {
    sqlx::query_scalar("SELECT max_per_day FROM resources WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(resource)
        .fetch_optional(db)
        .await
}

/// The tenant's self-service cut-off; false when there is no such tenant.
pub async fn set_self_service_cutoff(
    conn: &mut PgConnection,
    tenant: Uuid,
    minutes: i32,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE tenants SET self_service_cutoff_minutes = $2, updated_at = now() WHERE id = $1",
    )
    .bind(tenant)
    .bind(minutes)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}
