//! Tenants and their configuration: services, resources, business hours, API keys.

use chrono::{DateTime, NaiveTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::slots::WeeklyHours;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TenantRow {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub slot_step_minutes: i32,
    pub min_notice_minutes: i32,
    pub max_days_ahead: i32,
    pub buffer_minutes: i32,
    /// Clients may cancel or move a booking until this many minutes before it (0: until
    /// it starts).
    pub self_service_cutoff_minutes: i32,
    /// The languages the receptionist speaks ("en", "es"), the first its default.
    pub languages: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Stored language codes as locales, in order, repeats and codes the service does not
/// speak left out; the default locale when none is left.
fn locales_of(codes: &[String]) -> Vec<crate::domain::Locale> {
    let mut out: Vec<crate::domain::Locale> = Vec::new();
    for l in codes
        .iter()
        .filter_map(|c| crate::domain::Locale::from_code(c))
    {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    if out.is_empty() {
        out.push(crate::domain::Locale::default());
    }
    out
}

impl TenantRow {
    /// The languages offered, the default first; codes the service no longer speaks are
    /// skipped, and English stands in when none is left.
    pub fn locales(&self) -> Vec<crate::domain::Locale> {
        locales_of(&self.languages)
    }

    /// The language a client is spoken to when nothing tells another.
    pub fn default_locale(&self) -> crate::domain::Locale {
        self.locales()[0]
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ServiceRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub description: String,
    pub duration_minutes: i32,
    pub active: bool,
    /// Active resources that can do this service, sorted by id.
    pub resource_ids: Vec<Uuid>,
    /// At most this many confirmed bookings of the service on one local day.
    pub max_per_day: Option<i32>,
    /// The service's minimum notice (None: the tenant's).
    pub min_notice_minutes: Option<i32>,
    /// Minutes kept free before / after a booking of the service (None: the tenant's buffer).
    pub buffer_before_minutes: Option<i32>,
    pub buffer_after_minutes: Option<i32>,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ResourceRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub kind: String,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, FromRow, Serialize, PartialEq, Eq)]
pub struct HoursRow {
    pub weekday: i16,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

pub async fn get_tenant<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<TenantRow>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

#[derive(FromRow)]
struct TenantWithHours {
    #[sqlx(flatten)]
    tenant: TenantRow,
    h_weekday: Vec<i16>,
    h_opens: Vec<NaiveTime>,
    h_closes: Vec<NaiveTime>,
}

#[derive(FromRow)]
struct TenantHoursService {
    #[sqlx(flatten)]
    with_hours: TenantWithHours,
    s_id: Option<Uuid>,
    s_name: Option<String>,
    s_description: Option<String>,
    s_duration_minutes: Option<i32>,
    s_active: Option<bool>,
    s_resource_ids: Option<Vec<Uuid>>,
    s_max_per_day: Option<i32>,
    s_min_notice_minutes: Option<i32>,
    s_buffer_before_minutes: Option<i32>,
    s_buffer_after_minutes: Option<i32>,
    x_buffers: sqlx::types::Json<Vec<super::schedule::ServiceBuffers>>,
    x_caps: sqlx::types::Json<Vec<super::schedule::ResourceCap>>,
    x_hours: sqlx::types::Json<Vec<super::schedule::ResourceHoursRow>>,
    x_exceptions: sqlx::types::Json<Vec<super::schedule::ExceptionRow>>,
    x_version: i64,
}

fn hours_of(r: &TenantWithHours) -> Vec<HoursRow> {
    r.h_weekday
        .iter()
        .zip(r.h_opens.iter().zip(r.h_closes.iter()))
        .map(|(w, (o, c))| HoursRow {
            weekday: *w,
            opens: *o,
            closes: *c,
        })
        .collect()
}

/// A tenant, its weekly hours, one of its services (`None` when it has no such service) and
/// the schedule extras of the service's resources from `since` on, in one round trip: what
/// availability and a hold read before anything else.
pub async fn get_tenant_hours_and_service<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    service: Uuid,
    since: chrono::NaiveDate,
) -> Result<
    Option<(
        TenantRow,
        Vec<HoursRow>,
        Option<ServiceRow>,
        super::schedule::ScheduleExtras,
    )>,
    sqlx::Error,
> {
    let row: Option<TenantHoursService> = sqlx::query_as(
        "SELECT t.*,
                ARRAY(SELECT weekday FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_weekday,
                ARRAY(SELECT opens FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_opens,
                ARRAY(SELECT closes FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_closes,
                s.id AS s_id, s.name AS s_name, s.description AS s_description,
                s.duration_minutes AS s_duration_minutes, s.active AS s_active,
                s.max_per_day AS s_max_per_day, s.min_notice_minutes AS s_min_notice_minutes,
                s.buffer_before_minutes AS s_buffer_before_minutes,
                s.buffer_after_minutes AS s_buffer_after_minutes,
                COALESCE((SELECT json_agg(json_build_object('service_id', b.id,
                                 'before', b.buffer_before_minutes, 'after', b.buffer_after_minutes))
                            FROM services b WHERE b.tenant_id = t.id
                             AND (b.buffer_before_minutes IS NOT NULL OR b.buffer_after_minutes IS NOT NULL)),
                         '[]'::json) AS x_buffers,
                COALESCE((SELECT json_agg(json_build_object('resource_id', r.id, 'max_per_day', r.max_per_day))
                            FROM resources r JOIN service_resources sr
                              ON sr.resource_id = r.id AND sr.service_id = s.id
                           WHERE r.max_per_day IS NOT NULL), '[]'::json) AS x_caps,
                CASE WHEN s.id IS NULL THEN NULL ELSE
                  ARRAY(SELECT r.id FROM service_resources sr
                          JOIN resources r ON r.id = sr.resource_id AND r.active
                         WHERE sr.service_id = s.id ORDER BY r.id) END AS s_resource_ids,
                COALESCE((SELECT json_agg(rh ORDER BY rh.resource_id, rh.weekday, rh.opens)
                            FROM resource_hours rh JOIN service_resources sr
                              ON sr.resource_id = rh.resource_id AND sr.service_id = s.id),
                         '[]'::json) AS x_hours,
                COALESCE((SELECT json_agg(e ORDER BY e.start_date, e.id) FROM schedule_exceptions e
                           WHERE e.tenant_id = t.id AND (e.recurring_yearly OR e.end_date >= $3)
                             AND (e.resource_id IS NULL OR e.resource_id IN
                                  (SELECT sr.resource_id FROM service_resources sr
                                    WHERE sr.service_id = s.id))),
                         '[]'::json) AS x_exceptions,
                t.schedule_version AS x_version
           FROM tenants t LEFT JOIN services s ON s.tenant_id = t.id AND s.id = $2
          WHERE t.id = $1",
    )
    .bind(id)
    .bind(service)
    .bind(since)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let hours = hours_of(&r.with_hours);
        let service = match (
            r.s_id,
            r.s_name,
            r.s_description,
            r.s_duration_minutes,
            r.s_active,
        ) {
            (Some(id), Some(name), Some(description), Some(duration_minutes), Some(active)) => {
                Some(ServiceRow {
                    id,
                    tenant_id: r.with_hours.tenant.id,
                    name,
                    description,
                    duration_minutes,
                    active,
                    resource_ids: r.s_resource_ids.unwrap_or_default(),
                    max_per_day: r.s_max_per_day,
                    min_notice_minutes: r.s_min_notice_minutes,
                    buffer_before_minutes: r.s_buffer_before_minutes,
                    buffer_after_minutes: r.s_buffer_after_minutes,
                })
            }
            _ => None,
        };
        let extras = super::schedule::ScheduleExtras {
            service_buffers: r.x_buffers.0,
            resource_caps: r.x_caps.0,
            resource_hours: r.x_hours.0,
            exceptions: r.x_exceptions.0,
            version: Some(r.x_version),
        };
        (r.with_hours.tenant, hours, service, extras)
    }))
}

/// A tenant and its weekly hours in one round trip.
pub async fn get_tenant_with_hours<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<(TenantRow, Vec<HoursRow>)>, sqlx::Error> {
    let row: Option<TenantWithHours> = sqlx::query_as(
        "SELECT t.*,
                ARRAY(SELECT weekday FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_weekday,
                ARRAY(SELECT opens FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_opens,
                ARRAY(SELECT closes FROM business_hours h WHERE h.tenant_id = t.id ORDER BY weekday, opens) AS h_closes
           FROM tenants t WHERE t.id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| {
        let hours = hours_of(&r);
        (r.tenant, hours)
    }))
}

const SERVICE_SELECT: &str = "
    SELECT s.id, s.tenant_id, s.name, s.description, s.duration_minutes, s.active,
           s.max_per_day, s.min_notice_minutes, s.buffer_before_minutes, s.buffer_after_minutes,
           COALESCE(array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL), '{}') AS resource_ids
    FROM services s
    LEFT JOIN service_resources sr ON sr.service_id = s.id
    LEFT JOIN resources r ON r.id = sr.resource_id AND r.active";

pub async fn list_services<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<ServiceRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "{SERVICE_SELECT} WHERE s.tenant_id = $1 GROUP BY s.id ORDER BY s.name, s.id"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

pub async fn get_service<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    service: Uuid,
) -> Result<Option<ServiceRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "{SERVICE_SELECT} WHERE s.tenant_id = $1 AND s.id = $2 GROUP BY s.id"
    )))
    .bind(tenant)
    .bind(service)
    .fetch_optional(db)
    .await
}

pub async fn list_resources<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<ResourceRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, tenant_id, name, kind, active FROM resources WHERE tenant_id = $1 ORDER BY name, id")
        .bind(tenant)
        .fetch_all(db)
        .await
}

pub async fn list_hours<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<HoursRow>, sqlx::Error> {
    sqlx::query_as("SELECT weekday, opens, closes FROM business_hours WHERE tenant_id = $1 ORDER BY weekday, opens")
        .bind(tenant)
        .fetch_all(db)
        .await
}

pub fn weekly_hours(rows: &[HoursRow]) -> WeeklyHours {
    let mut w = WeeklyHours::default();
    for r in rows {
        if (1..=7).contains(&r.weekday) {
            w.days[(r.weekday - 1) as usize].push((r.opens, r.closes));
        }
    }
    w
}

pub struct NewTenant<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub time_zone: &'a str,
    pub slot_step_minutes: i32,
    pub min_notice_minutes: i32,
    pub max_days_ahead: i32,
    pub buffer_minutes: i32,
}

pub async fn insert_tenant(
    conn: &mut PgConnection,
    t: &NewTenant<'_>,
) -> Result<TenantRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO tenants (id, name, time_zone, slot_step_minutes, min_notice_minutes, max_days_ahead, buffer_minutes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(t.id)
    .bind(t.name)
    .bind(t.time_zone)
    .bind(t.slot_step_minutes)
    .bind(t.min_notice_minutes)
    .bind(t.max_days_ahead)
    .bind(t.buffer_minutes)
    .fetch_one(conn)
    .await
}

/// Partial update: `None` keeps the current value.
#[derive(Debug, Default, Clone)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub slot_step_minutes: Option<i32>,
    pub min_notice_minutes: Option<i32>,
    pub max_days_ahead: Option<i32>,
    pub buffer_minutes: Option<i32>,
}

pub async fn update_tenant(
    conn: &mut PgConnection,
    id: Uuid,
    p: &TenantPatch,
) -> Result<Option<TenantRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE tenants SET
            name = COALESCE($2, name),
            time_zone = COALESCE($3, time_zone),
            slot_step_minutes = COALESCE($4, slot_step_minutes),
            min_notice_minutes = COALESCE($5, min_notice_minutes),
            max_days_ahead = COALESCE($6, max_days_ahead),
            buffer_minutes = COALESCE($7, buffer_minutes),
            updated_at = now()
         WHERE id = $1 RETURNING *",
    )
    .bind(id)
    .bind(&p.name)
    .bind(&p.time_zone)
    .bind(p.slot_step_minutes)
    .bind(p.min_notice_minutes)
    .bind(p.max_days_ahead)
    .bind(p.buffer_minutes)
    .fetch_optional(conn)
    .await
}

pub async fn insert_resource(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    kind: &str,
) -> Result<ResourceRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO resources (id, tenant_id, name, kind) VALUES ($1, $2, $3, $4)
         RETURNING id, tenant_id, name, kind, active",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(kind)
    .fetch_one(conn)
    .await
}

pub async fn update_resource(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: Option<&str>,
    kind: Option<&str>,
    active: Option<bool>,
) -> Result<Option<ResourceRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE resources SET name = COALESCE($3, name), kind = COALESCE($4, kind), active = COALESCE($5, active)
         WHERE tenant_id = $1 AND id = $2 RETURNING id, tenant_id, name, kind, active",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(kind)
    .bind(active)
    .fetch_optional(conn)
    .await
}

pub async fn insert_service(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    description: &str,
    duration_minutes: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO services (id, tenant_id, name, description, duration_minutes) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(description)
    .bind(duration_minutes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_service(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: Option<&str>,
    description: Option<&str>,
    duration_minutes: Option<i32>,
    active: Option<bool>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE services SET name = COALESCE($3, name), description = COALESCE($4, description),
            duration_minutes = COALESCE($5, duration_minutes), active = COALESCE($6, active)
         WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(name)
    .bind(description)
    .bind(duration_minutes)
    .bind(active)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Replaces which resources do a service. Returns false when a resource is not the tenant's.
pub async fn set_service_resources(
    conn: &mut PgConnection,
    tenant: Uuid,
    service: Uuid,
    resources: &[Uuid],
) -> Result<bool, sqlx::Error> {
    let owned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM resources WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(resources)
            .fetch_one(&mut *conn)
            .await?;
    let mut distinct = resources.to_vec();
    distinct.sort();
    distinct.dedup();
    if owned != distinct.len() as i64 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM service_resources WHERE service_id = $1")
        .bind(service)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO service_resources (service_id, resource_id) SELECT $1, unnest($2::uuid[])",
    )
    .bind(service)
    .bind(&distinct)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

pub async fn replace_hours(
    conn: &mut PgConnection,
    tenant: Uuid,
    rows: &[HoursRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM business_hours WHERE tenant_id = $1")
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    for r in rows {
        sqlx::query("INSERT INTO business_hours (tenant_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)")
            .bind(tenant)
            .bind(r.weekday)
            .bind(r.opens)
            .bind(r.closes)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// SHA-256 of an API key. Keys are 192-bit random strings, so a fast hash is enough:
/// there is nothing to brute-force that a slow hash would protect.
pub fn hash_api_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// A new random admin key: `gmk_` + 32 base62 characters. Only its hash is stored.
pub fn generate_api_key() -> String {
    use rand::Rng;
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..32)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    format!("gmk_{body}")
}

pub async fn insert_api_key(
    conn: &mut PgConnection,
    tenant: Uuid,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenant_api_keys (id, tenant_id, key_hash, key_prefix) VALUES ($1, $2, $3, $4)",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(hash_api_key(key))
    .bind(key.chars().take(8).collect::<String>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The tenant a live key belongs to ([`api_key_owner`] without the key's own fields).
pub async fn tenant_for_api_key<'e>(
    db: impl PgExecutor<'e>,
    key: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(api_key_owner(db, key).await?.map(|(tenant, _, _)| tenant))
}

/// A live key's (tenant, key id, public prefix): who is asking, for audit rows.
pub async fn api_key_owner<'e>(
    db: impl PgExecutor<'e>,
    key: &str,
) -> Result<Option<(Uuid, Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT tenant_id, id, key_prefix FROM tenant_api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_api_key(key))
    .fetch_optional(db)
    .await
}

/// Only the tenant's time zone name (one primary-key probe).
pub async fn time_zone<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_optional(db)
        .await
}

/// Row-locks the tenant until the transaction ends; false when it does not exist.
pub async fn lock_tenant(conn: &mut PgConnection, tenant: Uuid) -> Result<bool, sqlx::Error> {
    let locked: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(tenant)
            .fetch_optional(conn)
            .await?;
    Ok(locked.is_some())
}

// --- idempotent inserts with fixed ids (the demo tenant) ---------------------------------

/// Serializes concurrent writers of the fixed-id rows below until the transaction ends.
pub async fn lock_fixed_rows(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(7243001)")
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts the tenant unless a tenant with its id exists (that one is left as it is).
pub async fn insert_tenant_if_absent(
    conn: &mut PgConnection,
    t: &NewTenant<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenants (id, name, time_zone, slot_step_minutes, min_notice_minutes, max_days_ahead, buffer_minutes)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(t.id)
    .bind(t.name)
    .bind(t.time_zone)
    .bind(t.slot_step_minutes)
    .bind(t.min_notice_minutes)
    .bind(t.max_days_ahead)
    .bind(t.buffer_minutes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_resource_if_absent(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    kind: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO resources (id, tenant_id, name, kind) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(kind)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_service_if_absent(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    description: &str,
    duration_minutes: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO services (id, tenant_id, name, description, duration_minutes) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(description)
    .bind(duration_minutes)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets `resource` do `service` (no-op when it already does).
pub async fn add_service_resource(
    conn: &mut PgConnection,
    service: Uuid,
    resource: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO service_resources (service_id, resource_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(service)
    .bind(resource)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds one opening interval unless the same one is already there.
pub async fn add_hours_if_absent(
    conn: &mut PgConnection,
    tenant: Uuid,
    weekday: i16,
    opens: NaiveTime,
    closes: NaiveTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO business_hours (tenant_id, weekday, opens, closes) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(weekday)
    .bind(opens)
    .bind(closes)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores `key` for the tenant unless that exact key is already stored.
pub async fn insert_api_key_if_absent(
    conn: &mut PgConnection,
    tenant: Uuid,
    key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenant_api_keys (id, tenant_id, key_hash, key_prefix) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .bind(hash_api_key(key))
    .bind(key.chars().take(8).collect::<String>())
    .execute(conn)
    .await?;
    Ok(())
}

/// The tenant's public booking URL: `None` when the tenant does not exist, `Some(None)`
/// when it has none set.
pub async fn public_booking_url<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar("SELECT public_booking_url FROM tenants WHERE id = $1")
        .bind(tenant)
        .fetch_optional(db)
        .await
}

/// Sets (or clears, with `None`) the tenant's public booking URL; false when the tenant does
/// not exist.
pub async fn set_public_booking_url<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    url: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r =
        sqlx::query("UPDATE tenants SET public_booking_url = $2, updated_at = now() WHERE id = $1")
            .bind(tenant)
            .bind(url)
            .execute(db)
            .await?;
    Ok(r.rows_affected() > 0)
}

/// Sets the tenant's public booking URL while it has none (a URL an admin set is kept).
pub async fn seed_public_booking_url<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    url: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tenants SET public_booking_url = $2 WHERE id = $1 AND public_booking_url IS NULL",
    )
    .bind(tenant)
    .bind(url)
    .execute(db)
    .await?;
    Ok(())
}

/// The languages a tenant speaks, its default first (`tenants.languages`); codes the service
/// does not speak are left out, and a tenant with none left (or none found) speaks the
/// default locale.
pub async fn languages<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<crate::domain::Locale>, sqlx::Error> {
    let codes: Option<Vec<String>> =
        sqlx::query_scalar("SELECT languages FROM tenants WHERE id = $1")
            .bind(tenant)
            .fetch_optional(db)
            .await?;
    Ok(locales_of(&codes.unwrap_or_default()))
}

/// Sets the languages a tenant's receptionist speaks (the first is its default).
pub async fn set_languages<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    languages: &[crate::domain::Locale],
) -> Result<bool, sqlx::Error> {
    let codes: Vec<&str> = languages.iter().map(|l| l.code()).collect();
    let done = sqlx::query("UPDATE tenants SET languages = $2, updated_at = now() WHERE id = $1")
        .bind(tenant)
        .bind(&codes)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
