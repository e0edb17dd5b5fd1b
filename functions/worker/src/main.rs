//! The `worker` Lambda: build the clients once per instance, then handle SQS batches.

use std::sync::Arc;

use anyhow::Context;
use aws_lambda_events::event::sqs::SqsEvent;
use gomomo::services::autonomy::Autonomy;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use gomomo_aws::EventBridgePublisher;
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::from_env().context("configuration")?;
    gomomo::telemetry::init(config.log_format);
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to Postgres")?;
    let clock = Clock::system();
    let booking = BookingService::new(pool.clone(), clock.clone(), config.hold_ttl);
    let calendar = gomomo::delivery::google::calendar_from_config(&pool, &config, clock.clone());
    let mut autonomy = Autonomy::new(booking, config.autonomy_enabled, calendar);
    match &config.event_bus_name {
        Some(bus) => {
            let aws = gomomo_aws::sdk_config().await;
            let publisher = Arc::new(EventBridgePublisher::from_config(&aws, bus));
            autonomy =
                autonomy.with_relay(OutboxRelay::new(pool.clone(), publisher, clock.clone()));
        }
        None => tracing::warn!("EVENT_BUS_NAME is unset: events the tools emit wait in the outbox"),
    }
    let delivery = gomomo::delivery::Delivery::from_config(pool.clone(), &config, clock.clone())
        .context("delivery adapters")?;
    let worker = gomomo_worker::Worker::new(autonomy).with_delivery(delivery);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { worker.handle(event.payload).await }
    }))
    .await
}
