//! How long a warm worker takes for one event, excluding external calls (no relay, the
//! built-in calendar): SQS body parse → dedup → audit → policy for each planned job →
//! enqueue, and then the due confirmation job runs (claim, policy again, tool, complete).
//!
//! Needs DATABASE_URL (a server where it may create and drop a scratch database):
//!   DATABASE_URL=$(cat .pgdata/url) cargo bench -p gomomo-worker --bench worker
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use gomomo::adapters::local::MockCalendar;
use gomomo::services::autonomy::Autonomy;
use gomomo::services::{admin, BookingService, Clock};
use gomomo_worker::Worker;
use serde_json::json;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

fn body(tenant: Uuid) -> String {
    let start = Utc::now() + chrono::Duration::days(3);
    json!({
        "version": "0", "id": Uuid::new_v4(), "detail-type": "BookingCreated",
        "source": "gomomo.booking", "account": "000000000000", "time": Utc::now(),
        "region": "us-east-1", "resources": [],
        "detail": {
            "event_id": Uuid::new_v4(), "tenant_id": tenant, "booking_id": Uuid::new_v4(),
            "reference": "BNCH-0001", "service_id": Uuid::new_v4(), "resource_id": Uuid::new_v4(),
            "session_id": "bench", "start": start, "end": start + chrono::Duration::minutes(30)
        }
    })
    .to_string()
}

fn batch(tenant: Uuid) -> SqsEvent {
    let mut m = SqsMessage::default();
    m.message_id = Some(Uuid::new_v4().to_string());
    m.body = Some(body(tenant));
    let mut e = SqsEvent::default();
    e.records = vec![m];
    e
}

fn bench(c: &mut Criterion) {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL must point at a Postgres server");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = format!("gomomo_bench_{}", std::process::id());
    let (pool, admin_url) = rt.block_on(async {
        let mut conn = PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
        opts = opts.database(&db);
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .unwrap();
        gomomo::db::migrate(&pool).await.unwrap();
        (pool, url.clone())
    });
    let seed = rt.block_on(admin::seed_demo(&pool)).unwrap();
    let tenant = seed.tenant_id;
    let booking = BookingService::new(pool.clone(), Clock::system(), Duration::from_secs(300));
    let autonomy = Autonomy::new(booking, true, Arc::new(MockCalendar::default()));
    let worker = Worker::new(autonomy.clone());

    let mut g = c.benchmark_group("worker");
    g.sample_size(200).measurement_time(Duration::from_secs(10));
    g.bench_function("one BookingCreated event: orchestrate only", |b| {
        b.iter_batched(
            || gomomo_worker::parse_body(&body(tenant)).unwrap(),
            |env| rt.block_on(autonomy.handle_event(&env)).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    // The first benchmark left thousands of due confirmations; each record of the second
    // must run only the one job its event creates.
    rt.block_on(
        sqlx::query("UPDATE jobs SET status = 'cancelled' WHERE status = 'pending'").execute(&pool),
    )
    .unwrap();
    g.bench_function(
        "one SQS record: parse + orchestrate + run the due job",
        |b| {
            b.iter_batched(
                || batch(tenant),
                |ev| {
                    let r = rt.block_on(worker.handle(ev)).unwrap();
                    assert!(r.batch_item_failures.is_empty());
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
    g.finish();

    drop(worker);
    drop(autonomy);
    rt.block_on(async {
        pool.close().await;
        let mut conn = PgConnection::connect(&admin_url).await.unwrap();
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
