//! The day-to-day admin actions beside bookings: sending a failed notification again, where
//! escalations go (the admin email), and which phone numbers reach the tenant. Each change
//! is audited with who made it.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::calls::{self, PhoneNumberRow};
use crate::db::notifications::{self, NotificationAdminRow};
use crate::domain::{Email, ParseError, PhoneE164};
use crate::services::admin::audit_admin;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("no such tenant")]
    TenantNotFound,
    #[error("no such notification")]
    NotificationNotFound,
    #[error("only a failed notification can be sent again (this one is {0})")]
    NotificationNotFailed(&'static str),
    #[error("this number belongs to another tenant")]
    NumberTaken,
    #[error("this tenant has no such number")]
    NumberNotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Queues a failed notification again (fresh attempts, due now); the dispatcher sends it on
/// its next pass.
pub async fn retry_notification(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<NotificationAdminRow, OpsError> {
    let mut tx = pool.begin().await?;
    let Some(row) = notifications::requeue_failed(&mut tx, tenant, id, now).await? else {
        return Err(
            match notifications::admin_row(&mut *tx, tenant, id).await? {
                None => OpsError::NotificationNotFound,
                Some(r) => OpsError::NotificationNotFailed(r.status.as_str()),
            },
        );
    };
    audit_admin(
        &mut tx,
        tenant,
        "notification.retried",
        "notification",
        id,
        json!({"kind": row.kind, "channel": row.channel, "last_error": row.last_error}),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Sets where escalations go; `None` (or an empty string) clears it.
pub async fn set_admin_email(
    pool: &PgPool,
    tenant: Uuid,
    raw: Option<&str>,
) -> Result<Option<String>, OpsError> {
    let email = match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(r) => Some(Email::parse(r)?),
        None => None,
    };
    let mut tx = pool.begin().await?;
    if !notifications::set_tenant_admin_email(&mut tx, tenant, email.as_ref().map(Email::as_str))
        .await?
    {
        return Err(OpsError::TenantNotFound);
    }
    audit_admin(
        &mut tx,
        tenant,
        "tenant.admin_email_set",
        "tenant",
        tenant,
        json!({"admin_email": email.as_ref().map(Email::as_str)}),
    )
    .await?;
    tx.commit().await?;
    Ok(email.map(|e| e.as_str().to_owned()))
}

pub async fn admin_email(pool: &PgPool, tenant: Uuid) -> Result<Option<String>, OpsError> {
    Ok(notifications::tenant_admin_email(pool, tenant).await?)
}

pub async fn numbers(pool: &PgPool, tenant: Uuid) -> Result<Vec<PhoneNumberRow>, OpsError> {
    Ok(calls::numbers_of(pool, tenant).await?)
}

/// Attaches a Twilio number (voice and SMS webhooks then find the tenant by it), or changes
/// which channels it answers. A number of another tenant is refused, never moved.
pub async fn attach_number(
    pool: &PgPool,
    tenant: Uuid,
    raw: &str,
    voice_enabled: bool,
    sms_enabled: bool,
) -> Result<PhoneNumberRow, OpsError> {
    let phone = PhoneE164::parse(raw)?;
    let mut tx = pool.begin().await?;
    let row = calls::attach_number(&mut tx, tenant, phone.as_str(), voice_enabled, sms_enabled)
        .await?
        .ok_or(OpsError::NumberTaken)?;
    audit_admin(
        &mut tx,
        tenant,
        "phone_number.attached",
        "tenant",
        tenant,
        json!({"phone_number": row.phone_number, "voice_enabled": voice_enabled, "sms_enabled": sms_enabled}),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn detach_number(pool: &PgPool, tenant: Uuid, raw: &str) -> Result<(), OpsError> {
    let phone = PhoneE164::parse(raw)?;
    let mut tx = pool.begin().await?;
    if !calls::detach_number(&mut tx, tenant, phone.as_str()).await? {
        return Err(OpsError::NumberNotFound);
    }
    audit_admin(
        &mut tx,
        tenant,
        "phone_number.detached",
        "tenant",
        tenant,
        json!({"phone_number": phone.as_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
