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

#[allow(clippy::unwrap_used)]
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap()
    }

    async fn tenant(pool: &PgPool) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        id
    }

    /// A notification in `status`, due (`next_attempt_at`) at `due`, failed at `failed_at`.
    async fn notification(
        pool: &PgPool,
        tenant: Uuid,
        status: &str,
        due: DateTime<Utc>,
        failed_at: Option<DateTime<Utc>>,
    ) {
        sqlx::query(
            "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, body,
                                              idempotency_key, status, created_at,
                                              next_attempt_at, failed_at)
             VALUES ($1, $2, 'email', 'reminder_24h', 'a@example.com', 'hi', $1::text, $3, $4,
                     $4, $5)",
        )
        .bind(Uuid::new_v4())
        .bind(tenant)
        .bind(status)
        .bind(due)
        .bind(failed_at)
        .execute(pool)
        .await
        .unwrap();
    }

    async fn job(pool: &PgPool, tenant: Uuid, kind: &str, status: &str, run_at: DateTime<Utc>) {
        sqlx::query(
            "INSERT INTO jobs (id, tenant_id, kind, status, run_at, idempotency_key, updated_at)
             VALUES ($1, $2, $3, $4, $5, $1::text, $5)",
        )
        .bind(Uuid::new_v4())
        .bind(tenant)
        .bind(kind)
        .bind(status)
        .bind(run_at)
        .execute(pool)
        .await
        .unwrap();
    }

    fn health(pool: &PgPool) -> DeliveryHealth {
        DeliveryHealth::new(pool.clone(), Clock::fixed(now()))
    }

    #[sqlx::test(migrations = "../migrations")]
    async fn queued_past_due_and_failed_count_the_rest_does_not(pool: PgPool) {
        let t = tenant(&pool).await;
        let quiet = tenant(&pool).await;
        let min = Duration::minutes;
        // Nothing yet: zeros, and no tenant listed.
        assert_eq!(
            health(&pool).report().await.unwrap(),
            HealthReport::default()
        );
        // Not counted: queued within the grace or due later, sent, skipped, a failure older
        // than the window.
        notification(&pool, t, "queued", now() - min(4), None).await;
        notification(&pool, t, "queued", now() + min(60), None).await;
        notification(&pool, t, "sent", now() - min(600), None).await;
        notification(&pool, t, "skipped", now() - min(600), None).await;
        notification(
            &pool,
            t,
            "failed",
            now() - min(2000),
            Some(now() - min(1500)),
        )
        .await;
        notification(&pool, quiet, "queued", now() - min(1), None).await;
        assert_eq!(
            health(&pool).report().await.unwrap(),
            HealthReport::default()
        );
        let zero = health(&pool).tenant(TenantId(t)).await.unwrap();
        assert_eq!((zero.tenant_id, zero.undelivered), (t, 0));

        // Counted: queued 6 and 30 minutes past due, failed an hour ago.
        notification(&pool, t, "queued", now() - min(6), None).await;
        notification(&pool, t, "queued", now() - min(30), None).await;
        notification(&pool, t, "failed", now() - min(90), Some(now() - min(60))).await;
        let expected = TenantHealth {
            tenant_id: t,
            undelivered: 3,
            failed: 1,
            overdue: 2,
            jobs_overdue: 0,
            jobs_failed: 0,
            oldest_overdue_seconds: Some(30 * 60),
        };
        let report = health(&pool).report().await.unwrap();
        assert_eq!(
            report,
            HealthReport {
                undelivered: 3,
                tenants: vec![expected.clone()]
            }
        );
        assert_eq!(health(&pool).tenant(TenantId(t)).await.unwrap(), expected);
        assert_eq!(
            health(&pool)
                .tenant(TenantId(quiet))
                .await
                .unwrap()
                .undelivered,
            0
        );
    }

    #[sqlx::test(migrations = "../migrations")]
    async fn overdue_and_failed_jobs_count_per_tenant(pool: PgPool) {
        let a = tenant(&pool).await;
        let b = tenant(&pool).await;
        let min = Duration::minutes;
        // Not counted: a job due within the grace, one completed, a calendar retry that gave
        // up (its escalation is what tells people) and one that is late (it sends nothing).
        job(&pool, a, "send_reminder", "pending", now() - min(2)).await;
        job(&pool, a, "send_reminder", "completed", now() - min(300)).await;
        job(&pool, a, "retry_calendar_sync", "failed", now() - min(10)).await;
        job(&pool, a, "retry_calendar_sync", "pending", now() - min(30)).await;
        assert_eq!(
            health(&pool).report().await.unwrap(),
            HealthReport::default()
        );

        // Counted: a reminder 45 minutes late, a claimed confirmation 10 minutes late, a
        // failed follow-up; and in tenant b one failed notification.
        job(&pool, a, "send_reminder", "pending", now() - min(45)).await;
        job(&pool, a, "send_confirmation", "claimed", now() - min(10)).await;
        job(&pool, a, "send_hold_followup", "failed", now() - min(20)).await;
        notification(&pool, a, "queued", now() - min(20), None).await;
        notification(&pool, b, "failed", now() - min(5), Some(now() - min(1))).await;

        let report = health(&pool).report().await.unwrap();
        assert_eq!(report.undelivered, 5);
        let mut tenants = report.tenants;
        tenants.sort_by_key(|t| t.tenant_id != a);
        assert_eq!(
            tenants,
            vec![
                TenantHealth {
                    tenant_id: a,
                    undelivered: 4,
                    failed: 0,
                    overdue: 1,
                    jobs_overdue: 2,
                    jobs_failed: 1,
                    oldest_overdue_seconds: Some(45 * 60),
                },
                TenantHealth {
                    tenant_id: b,
                    undelivered: 1,
                    failed: 1,
                    overdue: 0,
                    jobs_overdue: 0,
                    jobs_failed: 0,
                    oldest_overdue_seconds: None,
                },
            ]
        );
        assert_eq!(health(&pool).tenant(TenantId(b)).await.unwrap(), tenants[1]);
    }
}
