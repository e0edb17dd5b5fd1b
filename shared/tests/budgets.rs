//! Request budgets over Postgres: a refused caller that waits its `retry_after` is let
//! through, and the scheduler's sweep removes counters that no longer count.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use gomomo::app::App;
use gomomo::config::Config;
use gomomo::services::budgets::{BudgetError, Budgets};
use gomomo::services::Clock;
use sqlx::PgPool;

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some("postgres://unused/db".into()),
        "BUDGET_LOOKUPS_PER_IP" => Some("2".into()),
        _ => None,
    })
    .unwrap()
}

fn at(t: DateTime<Utc>, pool: &PgPool) -> Budgets {
    Budgets::new(pool.clone(), Clock::fixed(t), &config())
}

async fn rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM rate_budgets")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_refused_caller_is_let_through_after_its_retry_after(pool: PgPool) {
    let ip: IpAddr = "192.0.2.7".parse().unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 13, 7, 30).unwrap();
    let b = at(t0, &pool);
    b.lookup(Some(ip)).await.unwrap();
    b.lookup(Some(ip)).await.unwrap();
    let Err(BudgetError::Exceeded { retry_after, .. }) = b.lookup(Some(ip)).await else {
        panic!("a third lookup in the window is refused");
    };
    assert!((1..=1200).contains(&retry_after), "{retry_after}");
    // A refusal is not counted: just before the time given, still refused; at it, let in.
    let early = at(t0 + Duration::seconds(retry_after as i64 - 5), &pool);
    assert!(early.lookup(Some(ip)).await.is_err());
    let later = at(t0 + Duration::seconds(retry_after as i64), &pool);
    later.lookup(Some(ip)).await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn the_scheduler_sweep_removes_expired_counters(pool: PgPool) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap();
    at(t0, &pool)
        .lookup(Some("192.0.2.8".parse().unwrap()))
        .await
        .unwrap();
    assert_eq!(rows(&pool).await, 1);
    // Still counting ten minutes later: kept.
    let app = App::configured(
        config(),
        pool.clone(),
        Clock::fixed(t0 + Duration::minutes(10)),
    );
    app.scheduler.tick().await;
    assert_eq!(rows(&pool).await, 1);
    // Past both windows: removed.
    let app = App::configured(
        config(),
        pool.clone(),
        Clock::fixed(t0 + Duration::minutes(25)),
    );
    let report = app.scheduler.tick().await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(rows(&pool).await, 0);
}
