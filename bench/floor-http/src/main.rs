//! The floor of the availability benchmark (`scripts/bench-availability.sh`): the least an
//! HTTP availability endpoint can do against the same Postgres. One route with the
//! product's path and query, one indexed query for the busy rows of the service's
//! resources in the range, a fixed slot grid (opening hours, step and duration given on
//! the command line, in UTC), and a JSON body of the product's shape:
//! `{"time_zone", "service_id", "slots": [{"start", "end"}]}`.
//!
//! At start it copies the live bookings of the benchmark tenant into its own table
//! `bench_floor_busy` (same rows, a GiST index on resource and range, like the product's
//! exclusion constraint), analyzes the database (the product's freshly written tables
//! too, so neither side runs on stale plans) and reads the service's resources once;
//! `--cleanup` drops the table again. Nothing else is loaded
//! per request: no tenant row, no service row, no rules.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use clap::Parser;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Parser)]
#[command(about = "Bare axum + sqlx availability endpoint (benchmark floor)")]
struct Args {
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value = "127.0.0.1:3100")]
    addr: SocketAddr,
    /// The benchmark tenant whose bookings are copied into `bench_floor_busy`.
    #[arg(long, required_unless_present = "cleanup")]
    tenant: Option<Uuid>,
    /// The service whose resources are offered.
    #[arg(long, required_unless_present = "cleanup")]
    service: Option<Uuid>,
    /// Drop `bench_floor_busy` and exit (the benchmark script calls this when it ends).
    #[arg(long)]
    cleanup: bool,
    /// Opening time every day (UTC), HH:MM.
    #[arg(long, default_value = "08:00")]
    opens: NaiveTime,
    /// Closing time every day (UTC), HH:MM: the last slot ends at or before it.
    #[arg(long, default_value = "20:00")]
    closes: NaiveTime,
    /// Minutes between slot starts.
    #[arg(long, default_value_t = 15)]
    step: i64,
    /// Slot length in minutes.
    #[arg(long, default_value_t = 30)]
    duration: i64,
    /// Pool size (the product's DB_MAX_CONNECTIONS in the same run).
    #[arg(long, default_value_t = 32)]
    max_connections: u32,
}

struct Grid {
    tenant: Uuid,
    service: Uuid,
    resources: Vec<Uuid>,
    opens: NaiveTime,
    closes: NaiveTime,
    step: Duration,
    duration: Duration,
}

#[derive(Clone)]
struct AppState {
    pool: PgPool,
    grid: Arc<Grid>,
}

#[derive(Deserialize)]
struct AvailabilityQuery {
    service: Uuid,
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Serialize)]
struct SlotView {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct AvailabilityView {
    time_zone: &'static str,
    service_id: Uuid,
    slots: Vec<SlotView>,
}

async fn availability(
    State(st): State<AppState>,
    Path(tenant): Path<Uuid>,
    Query(q): Query<AvailabilityQuery>,
) -> Result<Json<AvailabilityView>, StatusCode> {
    let g = &st.grid;
    if tenant != g.tenant || q.service != g.service {
        return Err(StatusCode::NOT_FOUND);
    }
    if q.from > q.to || (q.to - q.from).num_days() > 366 {
        return Err(StatusCode::BAD_REQUEST);
    }
    let lo = q.from.and_time(NaiveTime::MIN).and_utc();
    let hi = (q.to + Duration::days(1))
        .and_time(NaiveTime::MIN)
        .and_utc();
    let rows: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT resource_id, lower(during), upper(during) FROM bench_floor_busy
          WHERE resource_id = ANY($1) AND during && tstzrange($2, $3)",
    )
    .bind(&g.resources)
    .bind(lo)
    .bind(hi)
    .fetch_all(&st.pool)
    .await
    .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    let mut busy: Vec<Vec<(DateTime<Utc>, DateTime<Utc>)>> = vec![Vec::new(); g.resources.len()];
    for (r, s, e) in rows {
        if let Some(i) = g.resources.iter().position(|x| *x == r) {
            busy[i].push((s, e));
        }
    }
    let now = Utc::now();
    let mut slots = Vec::new();
    let mut day = q.from;
    while day <= q.to {
        let close = day.and_time(g.closes).and_utc();
        let mut start = day.and_time(g.opens).and_utc();
        while start + g.duration <= close {
            let end = start + g.duration;
            let free = busy
                .iter()
                .any(|b| b.iter().all(|(s, e)| *e <= start || *s >= end));
            if start > now && free {
                slots.push(SlotView {
                    start: start.to_rfc3339(),
                    end: end.to_rfc3339(),
                });
            }
            start += g.step;
        }
        day += Duration::days(1);
    }
    Ok(Json(AvailabilityView {
        time_zone: "UTC",
        service_id: g.service,
        slots,
    }))
}

/// Copies the tenant's live bookings into `bench_floor_busy` and reads the service's
/// resources.
async fn prepare(pool: &PgPool, tenant: Uuid, service: Uuid) -> anyhow::Result<Vec<Uuid>> {
    sqlx::query("DROP TABLE IF EXISTS bench_floor_busy")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_floor_busy AS
           SELECT resource_id, during FROM appointments
            WHERE tenant_id = $1 AND status <> 'cancelled'",
    )
    .bind(tenant)
    .execute(pool)
    .await
    .context("copying the tenant's bookings")?;
    sqlx::query("CREATE INDEX ON bench_floor_busy USING gist (resource_id, during)")
        .execute(pool)
        .await?;
    // Fresh statistics for every table, the product's included: the benchmark's bookings
    // were just written, and neither side should be measured on stale plans.
    sqlx::query("ANALYZE").execute(pool).await?;
    let resources: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT resource_id FROM service_resources WHERE service_id = $1 ORDER BY resource_id",
    )
    .bind(service)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(!resources.is_empty(), "service {service} has no resources");
    Ok(resources.into_iter().map(|(r,)| r).collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.step > 0 && args.duration > 0,
        "step and duration must be positive"
    );
    let pool = PgPoolOptions::new()
        .max_connections(args.max_connections)
        .connect(&args.database_url)
        .await
        .context("connecting to Postgres")?;
    if args.cleanup {
        sqlx::query("DROP TABLE IF EXISTS bench_floor_busy")
            .execute(&pool)
            .await?;
        return Ok(());
    }
    let (Some(tenant), Some(service)) = (args.tenant, args.service) else {
        anyhow::bail!("--tenant and --service are required");
    };
    let resources = prepare(&pool, tenant, service).await?;
    let grid = Arc::new(Grid {
        tenant,
        service,
        resources,
        opens: args.opens,
        closes: args.closes,
        step: Duration::minutes(args.step),
        duration: Duration::minutes(args.duration),
    });
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/tenants/{tenant}/availability", get(availability))
        .with_state(AppState { pool, grid });
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    axum::serve(listener, app).await?;
    Ok(())
}
