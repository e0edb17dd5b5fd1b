//! The scheduler handler with the sample schedule events (EventBridge rule: `detail` {},
//! EventBridge Scheduler: `detail` the string "{}"), on a real Postgres.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use gomomo::adapters::local::InProcessPublisher;
use gomomo::adapters::local::MockCalendar;
use gomomo::db::outbox;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::autonomy::Autonomy;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::scheduler::Scheduler;
use gomomo::services::{admin, BookingService, Clock};
use serde_json::Value;
use sqlx::PgPool;
use support::{march_2_8am, ny, CONSULT};

fn sample(name: &str) -> EventBridgeEvent<Value> {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn each_tick_expires_holds_publishes_and_runs_due_jobs(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let clock = Clock::fixed(march_2_8am());
    let booking = BookingService::new(pool.clone(), clock.clone(), Duration::from_secs(300));
    let (publisher, mut rx) = InProcessPublisher::channel(64);
    let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
    let autonomy = Autonomy::new(booking.clone(), true, Arc::new(MockCalendar::default()))
        .with_relay(relay.clone());
    let scheduler = Scheduler::new(booking.clone(), autonomy.clone(), Some(relay));

    let s = SessionId::parse("web-s").unwrap();
    let start = ny(2026, 3, 4, 10, 0);
    booking
        .create_hold(tenant, CONSULT, start, &s)
        .await
        .unwrap();
    clock.advance(chrono::Duration::minutes(6));

    // GIVEN the EventBridge rule's schedule event THEN the hold expires and HoldExpired is
    // published
    let mut metrics = Vec::new();
    let report =
        gomomo_scheduler::handle_to(&scheduler, sample("scheduler-tick.json"), &mut metrics)
            .await
            .unwrap();
    assert_eq!(lines(&metrics).len(), 1);
    assert_eq!(report.holds_expired, 1);
    assert_eq!(report.events_published, 1);
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
    let env = rx.try_recv().unwrap();
    assert_eq!(env.event.name(), "HoldExpired");
    autonomy.handle_event(&env).await.unwrap();

    // GIVEN the Scheduler's event with the string detail THEN the due follow-up job runs
    let report = gomomo_scheduler::handle_to(
        &scheduler,
        sample("scheduler-tick-scheduler-string-detail.json"),
        &mut Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(report.holds_expired, 0);
    assert_eq!(report.jobs_run, 1, "{report:?}");
    let status: String =
        sqlx::query_scalar("SELECT status FROM jobs WHERE kind = 'send_hold_followup'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "completed");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_step_fails_the_invocation(pool: PgPool) {
    let booking = BookingService::new(pool.clone(), Clock::system(), Duration::from_secs(300));
    let autonomy = Autonomy::new(booking.clone(), true, Arc::new(MockCalendar::default()));
    let scheduler = Scheduler::new(booking, autonomy, None);
    pool.close().await;
    let mut metrics = Vec::new();
    let err = gomomo_scheduler::handle_to(&scheduler, sample("scheduler-tick.json"), &mut metrics)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expire holds"), "{err}");
    // Nothing could be counted: no data point, which the alarm treats as breaching.
    assert!(err.to_string().contains("count undelivered"), "{err}");
    assert!(metrics.is_empty());
}

/// The metric lines a tick wrote, parsed.
fn lines(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn metric(dimensions: Value, value: u64, tenant: Option<&str>) -> Value {
    let mut v = serde_json::json!({
        "_aws": {
            "Timestamp": march_2_8am().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": "Gomomo",
                "Dimensions": dimensions,
                "Metrics": [{"Name": "UndeliveredNotifications", "Unit": "Count"}],
            }],
        },
        "UndeliveredNotifications": value,
    });
    if let Some(t) = tenant {
        v["TenantId"] = Value::from(t);
    }
    v
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_tick_writes_the_undelivered_count_as_an_emf_metric(pool: PgPool) {
    let tenant = admin::seed_demo(&pool).await.unwrap().tenant_id;
    let clock = Clock::fixed(march_2_8am());
    let booking = BookingService::new(pool.clone(), clock.clone(), Duration::from_secs(300));
    let autonomy = Autonomy::new(booking.clone(), true, Arc::new(MockCalendar::default()));
    let scheduler = Scheduler::new(booking, autonomy, None);

    // GIVEN nothing undelivered THEN the total is still written, as 0, and no tenant line
    let mut out = Vec::new();
    let report = gomomo_scheduler::handle_to(&scheduler, sample("scheduler-tick.json"), &mut out)
        .await
        .unwrap();
    assert_eq!(report.undelivered, Some(0));
    assert_eq!(lines(&out), vec![metric(serde_json::json!([[]]), 0, None)]);

    // GIVEN a reminder queued ten minutes ago that nothing sent (this scheduler has no
    // delivery) THEN the total and the tenant's line say 1
    sqlx::query(
        "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, body,
                                          idempotency_key, created_at, next_attempt_at)
         VALUES ($1, $2, 'sms', 'reminder_24h', '+15555550100', 'hi', 'k', $3, $3)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(tenant)
    .bind(march_2_8am() - chrono::Duration::minutes(10))
    .execute(&pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    let report = gomomo_scheduler::handle_to(&scheduler, sample("scheduler-tick.json"), &mut out)
        .await
        .unwrap();
    assert_eq!(report.undelivered, Some(1));
    assert_eq!(report.undelivered_tenants.len(), 1);
    assert_eq!(report.undelivered_tenants[0].overdue, 1);
    let t = tenant.to_string();
    assert_eq!(
        lines(&out),
        vec![
            metric(serde_json::json!([[]]), 1, None),
            metric(serde_json::json!([["TenantId"]]), 1, Some(&t)),
        ]
    );
    // The Lambda's answer carries the count.
    let answer = serde_json::to_value(&report).unwrap();
    assert_eq!(answer["undelivered"], 1);
}
