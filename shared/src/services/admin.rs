//! Tenant administration: tenants, services, resources, hours, API keys, and the demo
//! tenant with its fixed ids.

use chrono::NaiveTime;
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::{uuid, Uuid};

use crate::db::audit;
use crate::db::tenants::{self, HoursRow, ResourceRow, ServiceRow, TenantPatch, TenantRow};
use crate::domain::{is_invisible_format, ParseError, TenantId, TimeZone};
use crate::services::booking::{BookingError, Result};

pub const DEMO_TENANT_ID: Uuid = uuid!("6d0e0000-0000-4000-8000-000000000001");
/// The demo tenant's Twilio number (voice and SMS webhooks find the tenant by it).
pub const DEMO_PHONE_NUMBER: &str = "+18005550100";
pub const DEMO_RESOURCES: [(Uuid, &str); 2] = [
    (uuid!("6d0e0000-0000-4000-8000-0000000000a1"), "Dr. Rivera"),
    (uuid!("6d0e0000-0000-4000-8000-0000000000a2"), "Dr. Chen"),
];
pub const DEMO_SERVICES: [(Uuid, &str, &str, i32); 3] = [
    (
        uuid!("6d0e0000-0000-4000-8000-0000000005e1"),
        "Consultation",
        "A first 30-minute visit",
        30,
    ),
    (
        uuid!("6d0e0000-0000-4000-8000-0000000005e2"),
        "Follow-up Visit",
        "A 60-minute follow-up",
        60,
    ),
    (
        uuid!("6d0e0000-0000-4000-8000-0000000005e3"),
        "Therapy Session",
        "A 45-minute session",
        45,
    ),
];

/// Validated settings for a new tenant.
#[derive(Debug, Clone)]
pub struct TenantSettings {
    pub name: String,
    pub time_zone: TimeZone,
    pub slot_step_minutes: i32,
    pub min_notice_minutes: i32,
    pub max_days_ahead: i32,
    pub buffer_minutes: i32,
}

pub fn check_name(field: &'static str, s: &str) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(ParseError::new(
            field,
            "must be 1 to 200 printable characters",
        ));
    }
    if t.chars().any(is_invisible_format) {
        return Err(ParseError::new(
            field,
            "may not contain invisible formatting characters (bidirectional or zero-width)",
        ));
    }
    Ok(t.to_string())
}

pub fn check_range(field: &'static str, v: i32, min: i32, max: i32) -> Result<i32, ParseError> {
    if (min..=max).contains(&v) {
        Ok(v)
    } else {
        Err(ParseError::new(
            field,
            format!("must be from {min} to {max}"),
        ))
    }
}

/// Range checks shared by create and update (the database has the same CHECKs as a backstop).
pub fn check_rules(
    step: Option<i32>,
    notice: Option<i32>,
    ahead: Option<i32>,
    buffer: Option<i32>,
) -> Result<(), ParseError> {
    if let Some(v) = step {
        check_range("slot_step_minutes", v, 5, 480)?;
    }
    if let Some(v) = notice {
        check_range("min_notice_minutes", v, 0, 43_200)?;
    }
    if let Some(v) = ahead {
        check_range("max_days_ahead", v, 1, 365)?;
    }
    if let Some(v) = buffer {
        check_range("buffer_minutes", v, 0, 240)?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct CreatedTenant {
    pub tenant: TenantRow,
    /// Shown once; only its hash is stored.
    pub api_key: String,
}

pub async fn create_tenant(pool: &PgPool, id: Uuid, s: &TenantSettings) -> Result<CreatedTenant> {
    check_rules(
        Some(s.slot_step_minutes),
        Some(s.min_notice_minutes),
        Some(s.max_days_ahead),
        Some(s.buffer_minutes),
    )?;
    let mut tx = pool.begin().await?;
    let tenant = tenants::insert_tenant(
        &mut tx,
        &tenants::NewTenant {
            id,
            name: &s.name,
            time_zone: s.time_zone.name(),
            slot_step_minutes: s.slot_step_minutes,
            min_notice_minutes: s.min_notice_minutes,
            max_days_ahead: s.max_days_ahead,
            buffer_minutes: s.buffer_minutes,
        },
    )
    .await?;
    let api_key = tenants::generate_api_key();
    tenants::insert_api_key(&mut tx, id, &api_key).await?;
    audit_admin(
        &mut tx,
        id,
        "tenant.created",
        "tenant",
        id,
        json!({"name": tenant.name, "time_zone": tenant.time_zone}),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedTenant { tenant, api_key })
}

pub async fn update_tenant(
    pool: &PgPool,
    tenant: TenantId,
    patch: &TenantPatch,
) -> Result<TenantRow> {
    check_rules(
        patch.slot_step_minutes,
        patch.min_notice_minutes,
        patch.max_days_ahead,
        patch.buffer_minutes,
    )?;
    let mut tx = pool.begin().await?;
    let row = tenants::update_tenant(&mut tx, tenant.0, patch)
        .await?
        .ok_or(BookingError::TenantNotFound)?;
    audit_admin(
        &mut tx,
        tenant.0,
        "tenant.updated",
        "tenant",
        tenant.0,
        serde_json::to_value(&row).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub struct ServiceInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub duration_minutes: Option<i32>,
    pub active: Option<bool>,
    pub resource_ids: Option<Vec<Uuid>>,
}

pub async fn upsert_service(
    pool: &PgPool,
    tenant: TenantId,
    id: Option<Uuid>,
    input: &ServiceInput,
) -> Result<ServiceRow> {
    if let Some(d) = input.duration_minutes {
        check_range("duration_minutes", d, 5, 720)?;
    }
    let name = input
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    if let Some(d) = &input.description {
        if d.chars().count() > 2000
            || d.chars()
                .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_invisible_format(c))
        {
            return Err(ParseError::new("description", "at most 2000 printable characters").into());
        }
    }
    if input
        .resource_ids
        .as_ref()
        .is_some_and(|r| r.len() > crate::domain::slots::MAX_RESOURCES)
    {
        return Err(ParseError::new(
            "resource_ids",
            format!(
                "a service can list at most {} resources",
                crate::domain::slots::MAX_RESOURCES
            ),
        )
        .into());
    }
    let mut tx = pool.begin().await?;
    let service_id = match id {
        Some(id) => {
            let found = tenants::update_service(
                &mut tx,
                tenant.0,
                id,
                name.as_deref(),
                input.description.as_deref(),
                input.duration_minutes,
                input.active,
            )
            .await?;
            if !found {
                return Err(BookingError::ServiceNotFound);
            }
            id
        }
        None => {
            let name = name.ok_or_else(|| ParseError::new("name", "is required"))?;
            let duration = input
                .duration_minutes
                .ok_or_else(|| ParseError::new("duration_minutes", "is required"))?;
            let id = Uuid::new_v4();
            tenants::insert_service(
                &mut tx,
                tenant.0,
                id,
                &name,
                input.description.as_deref().unwrap_or(""),
                duration,
            )
            .await?;
            id
        }
    };
    if let Some(resources) = &input.resource_ids {
        if !tenants::set_service_resources(&mut tx, tenant.0, service_id, resources).await? {
            return Err(BookingError::ResourceNotFound);
        }
    }
    let row = tenants::get_service(&mut *tx, tenant.0, service_id)
        .await?
        .ok_or(BookingError::ServiceNotFound)?;
    audit_admin(
        &mut tx,
        tenant.0,
        if id.is_some() {
            "service.updated"
        } else {
            "service.created"
        },
        "service",
        service_id,
        serde_json::to_value(&row).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn upsert_resource(
    pool: &PgPool,
    tenant: TenantId,
    id: Option<Uuid>,
    name: Option<&str>,
    kind: Option<&str>,
    active: Option<bool>,
) -> Result<ResourceRow> {
    let name = name.map(|n| check_name("name", n)).transpose()?;
    if let Some(k) = kind {
        if k != "staff" && k != "room" {
            return Err(ParseError::new("kind", "must be staff or room").into());
        }
    }
    let mut tx = pool.begin().await?;
    let row = match id {
        Some(id) => tenants::update_resource(&mut tx, tenant.0, id, name.as_deref(), kind, active)
            .await?
            .ok_or(BookingError::ResourceNotFound)?,
        None => {
            let name = name.ok_or_else(|| ParseError::new("name", "is required"))?;
            tenants::insert_resource(
                &mut tx,
                tenant.0,
                Uuid::new_v4(),
                &name,
                kind.unwrap_or("staff"),
            )
            .await?
        }
    };
    audit_admin(
        &mut tx,
        tenant.0,
        if id.is_some() {
            "resource.updated"
        } else {
            "resource.created"
        },
        "resource",
        row.id,
        serde_json::to_value(&row).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Replaces the weekly hours. Intervals must satisfy opens < closes and not overlap within a day.
pub async fn replace_hours(
    pool: &PgPool,
    tenant: TenantId,
    rows: &[HoursRow],
) -> Result<Vec<HoursRow>> {
    let mut sorted = rows.to_vec();
    sorted.sort_by_key(|r| (r.weekday, r.opens));
    for (i, r) in sorted.iter().enumerate() {
        if !(1..=7).contains(&r.weekday) {
            return Err(ParseError::new("weekday", "must be 1 (Monday) to 7 (Sunday)").into());
        }
        if r.opens >= r.closes {
            return Err(ParseError::new("hours", "opens must be before closes").into());
        }
        if i > 0 && sorted[i - 1].weekday == r.weekday && sorted[i - 1].closes > r.opens {
            return Err(ParseError::new("hours", "intervals of one day overlap").into());
        }
    }
    let mut tx = pool.begin().await?;
    // The tenant row lock serialises concurrent replacements of the week.
    if !tenants::lock_tenant(&mut tx, tenant.0).await? {
        return Err(BookingError::TenantNotFound);
    }
    tenants::replace_hours(&mut tx, tenant.0, &sorted).await?;
    audit_admin(
        &mut tx,
        tenant.0,
        "hours.replaced",
        "tenant",
        tenant.0,
        json!({"hours": sorted}),
    )
    .await?;
    tx.commit().await?;
    Ok(sorted)
}

#[derive(Debug, Serialize)]
pub struct DemoSeed {
    pub tenant_id: Uuid,
    pub api_key: String,
    pub services: Vec<DemoService>,
    pub phone_number: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DemoService {
    pub id: Uuid,
    pub name: String,
    pub duration_minutes: i32,
}

/// The demo tenant (America/New_York, Mon–Fri 9:00–17:00, 30-minute slots, two resources,
/// three services) with fixed ids, and a freshly minted API key. Running it again changes
/// nothing but minting a new key.
pub async fn seed_demo(pool: &PgPool) -> Result<DemoSeed> {
    seed_demo_with_key(pool, None).await
}

/// The demo tenant's owner, who signs in to the console (`seed-demo`, not in production).
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.gomomo.local";

/// The browser origins the demo tenant's widget may be opened from besides the server's own
/// (a page served by `gomomo serve` on its default address, under either name).
pub const DEMO_WIDGET_ORIGINS: &[&str] = &["http://localhost:3000", "http://127.0.0.1:3000"];

/// [`seed_demo`] with a chosen API key (`GOMOMO_DEMO_API_KEY`, read by the configuration):
/// a key of at least 16 characters is stored and returned; `None` or a shorter one mints a
/// new random key.
pub async fn seed_demo_with_key(pool: &PgPool, api_key: Option<&str>) -> Result<DemoSeed> {
    let mut tx = pool.begin().await?;
    // Serialize concurrent seeders.
    tenants::lock_fixed_rows(&mut tx).await?;
    tenants::insert_tenant_if_absent(
        &mut tx,
        &tenants::NewTenant {
            id: DEMO_TENANT_ID,
            name: "Gomomo Demo Clinic",
            time_zone: "America/New_York",
            slot_step_minutes: 30,
            min_notice_minutes: 60,
            max_days_ahead: 14,
            buffer_minutes: 0,
        },
    )
    .await?;
    for (id, name) in DEMO_RESOURCES {
        tenants::insert_resource_if_absent(&mut tx, DEMO_TENANT_ID, id, name, "staff").await?;
    }
    for (id, name, description, minutes) in DEMO_SERVICES {
        tenants::insert_service_if_absent(&mut tx, DEMO_TENANT_ID, id, name, description, minutes)
            .await?;
        for (rid, _) in DEMO_RESOURCES {
            tenants::add_service_resource(&mut tx, id, rid).await?;
        }
    }
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
    let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default();
    for weekday in 1..=5i16 {
        tenants::add_hours_if_absent(&mut tx, DEMO_TENANT_ID, weekday, nine, five).await?;
    }
    let api_key = match api_key {
        Some(k) if k.len() >= 16 => k.to_string(),
        _ => tenants::generate_api_key(),
    };
    tenants::insert_api_key_if_absent(&mut tx, DEMO_TENANT_ID, &api_key).await?;
    crate::db::calls::assign_number(&mut tx, DEMO_TENANT_ID, DEMO_PHONE_NUMBER).await?;
    let origins: Vec<String> = DEMO_WIDGET_ORIGINS.iter().map(|o| o.to_string()).collect();
    crate::db::sessions::seed_widget_origins(&mut *tx, DEMO_TENANT_ID, &origins).await?;
    tx.commit().await?;
    let services = tenants::list_services(pool, DEMO_TENANT_ID)
        .await?
        .into_iter()
        .map(|s| DemoService {
            id: s.id,
            name: s.name,
            duration_minutes: s.duration_minutes,
        })
        .collect();
    Ok(DemoSeed {
        tenant_id: DEMO_TENANT_ID,
        api_key,
        services,
        phone_number: DEMO_PHONE_NUMBER,
    })
}

/// An audit row of an admin change to `entity` `id` (actor `admin`: the request's person or
/// key once the admin auth has named them).
pub(crate) async fn audit_admin(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    event: &str,
    entity: &str,
    id: Uuid,
    payload: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit_as(conn, tenant, event, entity, id, audit::ADMIN, payload).await
}

/// An audit row about `entity` `id` of the tenant, written with `actor`.
pub(crate) async fn audit_as(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    event: &str,
    entity: &str,
    id: Uuid,
    actor: &str,
    payload: serde_json::Value,
) -> Result<(), sqlx::Error> {
    audit::record(
        conn,
        audit::AuditEntry {
            tenant_id: Some(tenant),
            event_type: event,
            entity_type: entity,
            entity_id: Some(id.to_string()),
            actor,
            payload,
        },
    )
    .await
}

/// The longest public booking URL a tenant may set.
pub const MAX_BOOKING_URL_CHARS: usize = 500;

/// A tenant's public booking URL as an admin typed it: blank clears it (`None`); otherwise
/// an absolute `https://` URL (plain `http://` outside production) of at most
/// [`MAX_BOOKING_URL_CHARS`] characters, with a host, no credentials, no spaces or control
/// characters, and in production a host others can reach (no `localhost`, private or
/// reserved address).
pub fn parse_public_booking_url(
    raw: &str,
    production: bool,
) -> std::result::Result<Option<String>, ParseError> {
    let bad = |why: &str| ParseError::new("public_booking_url", why.to_string());
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > MAX_BOOKING_URL_CHARS {
        return Err(bad("at most 500 characters"));
    }
    if s.chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_invisible_format(c))
    {
        return Err(bad("no spaces or control characters"));
    }
    let lower = s.to_ascii_lowercase();
    let rest = if let Some(r) = lower.strip_prefix("https://") {
        r
    } else if let Some(r) = lower.strip_prefix("http://") {
        if production {
            return Err(bad("production accepts https URLs only"));
        }
        r
    } else {
        return Err(bad("an https URL, like https://clinic.example.com/book"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("no user name or password in the URL"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    if !host_ok {
        return Err(bad(
            "the URL needs a host name of letters, digits, '.' and '-'",
        ));
    }
    if production && !crate::domain::outbound::is_public_host(host) {
        return Err(bad(
            "the host must be reachable from the internet (no localhost, private or reserved address)",
        ));
    }
    Ok(Some(s.to_string()))
}

/// The tenant's public booking URL (`None` when none is set).
pub async fn public_booking_url(pool: &PgPool, tenant: TenantId) -> Result<Option<String>> {
    tenants::public_booking_url(pool, tenant.0)
        .await?
        .ok_or(BookingError::TenantNotFound)
}

/// Sets (or clears) the tenant's public booking URL, already validated; audited as
/// `tenant.public_booking_url_set`.
pub async fn set_public_booking_url(
    pool: &PgPool,
    tenant: TenantId,
    url: Option<&str>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    if !tenants::set_public_booking_url(&mut *tx, tenant.0, url).await? {
        return Err(BookingError::TenantNotFound);
    }
    audit_admin(
        &mut tx,
        tenant.0,
        "tenant.public_booking_url_set",
        "tenant",
        tenant.0,
        json!({"public_booking_url": url}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the demo tenant its hosted chat page under `public_base_url` as its public booking
/// URL, unless it has one already.
pub async fn seed_demo_booking_url(pool: &PgPool, public_base_url: &str) -> Result<()> {
    if let Some(link) = hosted_chat_page(public_base_url, DEMO_TENANT_ID) {
        tenants::seed_public_booking_url(pool, DEMO_TENANT_ID, &link).await?;
    }
    Ok(())
}

/// The tenant's hosted chat page (`GET /?tenant=`) under `public_base_url`; `None` without
/// a base URL.
pub fn hosted_chat_page(public_base_url: &str, tenant: Uuid) -> Option<String> {
    let base = public_base_url.trim().trim_end_matches('/');
    (!base.is_empty()).then(|| format!("{base}/?tenant={tenant}"))
}

/// The link a message that asks the client to act carries: the tenant's public booking URL
/// when it has one, else its hosted chat page; `None` only with neither.
pub fn booking_link(setting: Option<&str>, public_base_url: &str, tenant: Uuid) -> Option<String> {
    match setting.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.to_string()),
        None => hosted_chat_page(public_base_url, tenant),
    }
}

/// [`booking_link`] for `tenant`, read on `db`.
pub async fn booking_link_for<'e>(
    db: impl sqlx::PgExecutor<'e>,
    public_base_url: &str,
    tenant: Uuid,
) -> std::result::Result<Option<String>, sqlx::Error> {
    let setting = tenants::public_booking_url(db, tenant).await?.flatten();
    Ok(booking_link(setting.as_deref(), public_base_url, tenant))
}
