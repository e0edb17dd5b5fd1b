//! `floor-fn`: the bare Lambda function the `api` start is compared with. It does what
//! every HTTP function of the stack must do and nothing more: a Postgres pool connected at
//! init (one connection, as the product's pool opens it) and `SELECT 1` on `GET /healthz`,
//! served by axum under lambda_http. `scripts/bench-functions.sh` runs it against the
//! same loopback Runtime API as the product functions.

use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

async fn healthz(State(pool): State<PgPool>) -> Result<Json<Value>, StatusCode> {
    sqlx::query("SELECT 1")
        .execute(&pool)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(json!({"status": "ok", "database": "ok"})))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL must be set")?;
    let options: PgConnectOptions = url.parse().context("DATABASE_URL is not a Postgres URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.application_name("gomomo-floor-fn"))
        .await
        .context("cannot connect to Postgres")?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .with_state(pool);
    lambda_http::run(app)
        .await
        .map_err(|e| anyhow::anyhow!("lambda runtime: {e}"))
}
