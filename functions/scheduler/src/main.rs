//! The `scheduler` Lambda: every minute (template.yaml `rate(1 minute)`), one tick.

use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use gomomo::config::Environment;
use gomomo::services::autonomy::Autonomy;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::scheduler::Scheduler;
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use gomomo_aws::EventBridgePublisher;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::from_env().context("configuration")?;
    gomomo::telemetry::init(config.log_format);
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to Postgres")?;
    let clock = Clock::system();
    // Re-publishing the outbox is this function's job: production refuses to start without
    // a bus; development (cargo lambda watch) runs the other steps and leaves rows waiting.
    let relay = match &config.event_bus_name {
        Some(bus) => {
            let aws = gomomo_aws::sdk_config().await;
            Some(OutboxRelay::new(
                pool.clone(),
                Arc::new(EventBridgePublisher::from_config(&aws, bus)),
                clock.clone(),
            ))
        }
        None if config.environment == Environment::Production => {
            return Err(anyhow::anyhow!("EVENT_BUS_NAME is required by the scheduler").into())
        }
        None => {
            tracing::warn!("EVENT_BUS_NAME is unset: outbox rows are not re-published");
            None
        }
    };
    let booking = BookingService::new(pool.clone(), clock.clone(), config.hold_ttl);
    let calendar = gomomo::delivery::google::calendar_from_config(&pool, &config, clock.clone());
    let mut autonomy = Autonomy::new(booking.clone(), config.autonomy_enabled, calendar);
    if let Some(relay) = &relay {
        autonomy = autonomy.with_relay(relay.clone());
    }
    let delivery = gomomo::delivery::Delivery::from_config(pool.clone(), &config, clock.clone())
        .context("delivery adapters")?;
    let scheduler = Scheduler::new(booking, autonomy, relay).with_delivery(delivery);
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<Value>>| {
        let scheduler = scheduler.clone();
        async move { gomomo_scheduler::handle(&scheduler, event.payload).await }
    }))
    .await
}
