//! What counts as undelivered, per tenant: the view behind the scheduler's metric, the
//! admin route and `gomomo status`.

#![allow(clippy::unwrap_used)]

use chrono::TimeZone as _;
use chrono::{DateTime, Duration, Utc};
use gomomo::domain::TenantId;
use gomomo::ports::Clock;
use gomomo::services::delivery::health::{DeliveryHealth, HealthReport, TenantHealth};
use sqlx::PgPool;
use uuid::Uuid;

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
