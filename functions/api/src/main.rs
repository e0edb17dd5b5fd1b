//! The `api` Lambda: build the state once per instance, then serve the router.

use anyhow::Context;
use gomomo::services::Clock;
use gomomo::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env().context("configuration")?;
    gomomo::telemetry::init(config.log_format);
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to Postgres")?;
    let state = gomomo_api::AppState::new(pool, &config, Clock::system());
    lambda_http::run(gomomo_api::router(state)).await
}
