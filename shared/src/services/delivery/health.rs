//! Delivery health: the messages that should have reached someone and have not, per tenant.
//! One view behind every place that shows it — the scheduler's CloudWatch metric
//! (`Gomomo/UndeliveredNotifications`), the admin route `…/delivery-health` and
//! `gomomo status` — so they always agree.
//!
//! Undelivered is the sum of four counts:
//!
//! - `overdue`: notifications still `queued` more than [`OVERDUE_GRACE`] after they were due
//!   (a new row is due at once; a retried one at its `next_attempt_at`). The scheduler
//!   drains the queue every minute, so a row this late means nothing is sending;
//! - `failed`: notifications that gave up (out of attempts, or refused for good) within the
//!   last [`FAILED_WINDOW`];
//! - `jobs_overdue`: jobs that would queue a message (reminders, confirmations, …) still
//!   `pending` or `claimed` more than [`OVERDUE_GRACE`] after their `run_at` — a reminder
//!   that never ran queues no notification, so the first two counts would not see it;
//! - `jobs_failed`: the same kinds of jobs that gave up within the last [`FAILED_WINDOW`].
//!   Calendar retries are left out of both: they queue no message themselves, and when
//!   they give up the escalation path tells the client and the staff (and those messages
//!   are counted themselves).
//!
//! Failures count for a window rather than forever: rows are never deleted, and an alarm
//! stuck in its alarm state would hide the next incident.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::notifications::{self as q, UndeliveredRow};
use crate::domain::TenantId;
use crate::ports::clock::Clock;
use crate::services::autonomy::jobs::Tool;

/// How late a due notification or job may be before it counts as undelivered.
pub const OVERDUE_GRACE: Duration = Duration::minutes(5);
/// How long a failure keeps counting.
pub const FAILED_WINDOW: Duration = Duration::hours(24);

/// One tenant's counts (all zero when nothing is undelivered).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TenantHealth {
    pub tenant_id: Uuid,
    /// `failed + overdue + jobs_overdue + jobs_failed`.
    pub undelivered: u64,
    pub failed: u64,
    pub overdue: u64,
    pub jobs_overdue: u64,
    pub jobs_failed: u64,
    /// How long ago the oldest overdue notification or job was due; `None` when none is.
    pub oldest_overdue_seconds: Option<i64>,
}

impl TenantHealth {
    fn from_row(r: UndeliveredRow, now: DateTime<Utc>) -> Self {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        let (failed, overdue, jobs_overdue, jobs_failed) = (
            n(r.failed),
            n(r.overdue),
            n(r.jobs_overdue),
            n(r.jobs_failed),
        );
        Self {
            tenant_id: r.tenant_id,
            undelivered: failed + overdue + jobs_overdue + jobs_failed,
            failed,
            overdue,
            jobs_overdue,
            jobs_failed,
            oldest_overdue_seconds: r
                .oldest_overdue_at
                .map(|at| (now - at).num_seconds().max(0)),
        }
    }
}

/// Every tenant with something undelivered, and the total.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct HealthReport {
    /// The sum of the tenants' `undelivered`.
    pub undelivered: u64,
    /// Tenants with `undelivered > 0`, ordered by id.
    pub tenants: Vec<TenantHealth>,
}

/// Counts undelivered messages at the service clock's `now`.
#[derive(Clone)]
pub struct DeliveryHealth {
    pool: PgPool,
    clock: Clock,
}

impl DeliveryHealth {
    pub fn new(pool: PgPool, clock: Clock) -> Self {
        Self { pool, clock }
    }

    /// The job kinds whose failure means a message was never queued.
    fn message_job_kinds() -> Vec<String> {
        Tool::ALL
            .into_iter()
            .filter(|t| *t != Tool::RetryCalendarSync)
            .map(|t| t.name().to_string())
            .collect()
    }

    async fn rows(
        &self,
        tenant: Option<Uuid>,
    ) -> Result<(DateTime<Utc>, Vec<UndeliveredRow>), sqlx::Error> {
        let now = self.clock.now();
        let rows = q::undelivered_by_tenant(
            &self.pool,
            now - OVERDUE_GRACE,
            now - FAILED_WINDOW,
            &Self::message_job_kinds(),
            tenant,
        )
        .await?;
        Ok((now, rows))
    }

    /// All tenants.
    pub async fn report(&self) -> Result<HealthReport, sqlx::Error> {
        let (now, rows) = self.rows(None).await?;
        let tenants: Vec<TenantHealth> = rows
            .into_iter()
            .map(|r| TenantHealth::from_row(r, now))
            .filter(|t| t.undelivered > 0)
            .collect();
        Ok(HealthReport {
            undelivered: tenants.iter().map(|t| t.undelivered).sum(),
            tenants,
        })
    }

    /// One tenant (zeros when it has nothing undelivered, or does not exist).
    pub async fn tenant(&self, tenant: TenantId) -> Result<TenantHealth, sqlx::Error> {
        let (now, rows) = self.rows(Some(tenant.0)).await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|r| TenantHealth::from_row(r, now))
            .unwrap_or(TenantHealth {
                tenant_id: tenant.0,
                ..TenantHealth::default()
            }))
    }
}
