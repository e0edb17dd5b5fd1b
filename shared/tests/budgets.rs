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

fn budgets_with(t: DateTime<Utc>, pool: &PgPool, vars: &[(&str, &str)]) -> Budgets {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_lookup(|k| {
        if k == "DATABASE_URL" {
            return Some("postgres://unused/db".into());
        }
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .unwrap();
    Budgets::new(pool.clone(), Clock::fixed(t), &config)
}

async fn hits(pool: &PgPool, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(sum(hits), 0)::int8 FROM rate_budgets WHERE kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_tenant_refusal_leaves_the_address_budgets_as_they_were(pool: PgPool) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 13, 7, 30).unwrap();
    let b = budgets_with(
        t0,
        &pool,
        &[
            ("BUDGET_LIVE_HOLDS_PER_IP", "3"),
            ("BUDGET_HOLDS_PER_TENANT_PER_HOUR", "4"),
        ],
    );
    let busy = uuid::Uuid::new_v4();
    let other = uuid::Uuid::new_v4();
    // The busy tenant's holds of the hour go to other clients.
    for n in 1..=4 {
        b.hold(busy, Some(format!("198.51.100.{n}").parse().unwrap()))
            .await
            .unwrap();
    }
    // GIVEN a client refused by the busy tenant's cap, again and again
    let ip: IpAddr = "192.0.2.20".parse().unwrap();
    for _ in 0..5 {
        let Err(BudgetError::Exceeded { .. }) = b.hold(busy, Some(ip)).await else {
            panic!("the tenant's cap refuses");
        };
    }
    // THEN the refusals cost the client nothing: its three live holds are still there
    assert_eq!(
        hits(&pool, "live_holds_ip").await,
        4,
        "only the other clients'"
    );
    assert_eq!(hits(&pool, "holds_ip").await, 4, "only the other clients'");
    for _ in 0..3 {
        b.hold(other, Some(ip)).await.unwrap();
    }
    let Err(BudgetError::Exceeded { kind, .. }) = b.hold(other, Some(ip)).await else {
        panic!("a fourth live hold is over the address's budget");
    };
    assert_eq!(kind.as_str(), "live_holds_ip");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_refusal_leaves_the_conversation_budget_as_it_was(pool: PgPool) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 13, 7, 30).unwrap();
    let b = budgets_with(
        t0,
        &pool,
        &[
            ("BUDGET_CHAT_TURNS_PER_IP", "1"),
            ("BUDGET_CHAT_TURNS_PER_SESSION", "2"),
        ],
    );
    let ip: IpAddr = "192.0.2.21".parse().unwrap();
    b.chat_turn(Some("gs_one"), Some(ip)).await.unwrap();
    for _ in 0..4 {
        assert!(b.chat_turn(Some("gs_two"), Some(ip)).await.is_err());
    }
    // The refused turns were not counted against the conversation.
    assert_eq!(hits(&pool, "chat_session").await, 1);
    b.chat_turn(Some("gs_two"), Some("192.0.2.22".parse().unwrap()))
        .await
        .unwrap();
    b.chat_turn(Some("gs_two"), Some("192.0.2.23".parse().unwrap()))
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_conversation_is_one_budget_however_its_id_is_padded(pool: PgPool) {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 13, 7, 30).unwrap();
    let b = budgets_with(t0, &pool, &[("BUDGET_CHAT_TURNS_PER_SESSION", "2")]);
    b.chat_turn(Some("gs_padded"), None).await.unwrap();
    b.chat_turn(Some(" gs_padded"), None).await.unwrap();
    for padded in ["gs_padded ", "\tgs_padded\n", "gs_padded"] {
        let Err(BudgetError::Exceeded { .. }) = b.chat_turn(Some(padded), None).await else {
            panic!("{padded:?} is the same conversation, over its budget");
        };
    }
}
