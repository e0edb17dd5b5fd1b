//! Privacy: the retention sweep the scheduler runs, and one client's data exported or
//! erased at a tenant's request (the admin routes). What each touches is described in
//! [`crate::db::privacy`].

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use crate::config::telephony::SMS_RATE_WINDOW_MAX_MINUTES;
pub use crate::db::privacy::{ClientExport, ErasureCounts, PurgeCounts};
use crate::domain::{Email, ParseError, PhoneE164, TenantId};

/// At most this many rows of each kind per retention pass (one scheduler tick).
pub const PURGE_BATCH: i64 = 500;

/// The client an export or an erasure is about: an email address, a phone number, or both.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub email: Option<Email>,
    pub phone: Option<PhoneE164>,
}

impl ClientIdentity {
    /// Parses what the admin sent; at least one of the two is needed.
    pub fn parse(email: Option<&str>, phone: Option<&str>) -> Result<Self, ParseError> {
        let email = email
            .filter(|e| !e.trim().is_empty())
            .map(Email::parse)
            .transpose()?;
        let phone = phone
            .filter(|p| !p.trim().is_empty())
            .map(PhoneE164::parse)
            .transpose()?;
        if email.is_none() && phone.is_none() {
            return Err(ParseError::new(
                "client",
                "give an email, a phone number or both",
            ));
        }
        Ok(Self { email, phone })
    }
}

/// Who asked: the person or key that called the route.
pub use crate::services::people::Principal as Requester;

/// Deletes what is older than `days` before `now` (a bounded batch; the next tick goes on).
pub async fn purge(
    pool: &PgPool,
    now: DateTime<Utc>,
    days: u32,
) -> Result<PurgeCounts, sqlx::Error> {
    let cutoff = now - Duration::days(i64::from(days));
    let windows_over = now - Duration::minutes(SMS_RATE_WINDOW_MAX_MINUTES as i64);
    crate::db::privacy::purge_before(pool, cutoff, cutoff.min(windows_over), PURGE_BATCH).await
}

/// Everything still kept about the client at this tenant; audited with who asked.
pub async fn export(
    pool: &PgPool,
    tenant: TenantId,
    who: &ClientIdentity,
    requester: &Requester,
) -> Result<ClientExport, sqlx::Error> {
    crate::db::privacy::export(
        pool,
        tenant.0,
        who.email.as_ref().map(Email::as_str),
        who.phone.as_ref().map(PhoneE164::as_str),
        &requester.label(),
        requester.audit_extra(),
    )
    .await
}

/// Erases the client's data at this tenant (one transaction, idempotent); audited with who
/// asked and the counts.
pub async fn erase(
    pool: &PgPool,
    tenant: TenantId,
    who: &ClientIdentity,
    requester: &Requester,
    now: DateTime<Utc>,
) -> Result<ErasureCounts, sqlx::Error> {
    crate::db::privacy::erase(
        pool,
        tenant.0,
        who.email.as_ref().map(Email::as_str),
        who.phone.as_ref().map(PhoneE164::as_str),
        &requester.label(),
        requester.audit_extra(),
        now,
    )
    .await
}
