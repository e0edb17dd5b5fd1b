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
    let mut state = gomomo_api::AppState::new(pool.clone(), &config, Clock::system());
    // Domain events go to EventBridge right after each commit; rows left unsent (a failed
    // PutEvents, an instance frozen mid-way) are re-published by the scheduler.
    match &config.event_bus_name {
        Some(bus) => {
            let aws = gomomo_aws::sdk_config().await;
            let publisher = gomomo_aws::EventBridgePublisher::from_config(&aws, bus);
            state = state.with_relay(gomomo::services::relay::OutboxRelay::new(
                pool,
                std::sync::Arc::new(publisher),
                Clock::system(),
            ));
        }
        None => tracing::warn!("EVENT_BUS_NAME is unset: domain events wait in the outbox"),
    }
    lambda_http::run(gomomo_api::router(state)).await
}
