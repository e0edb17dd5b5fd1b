//! The `chat-ws` Lambda: build the agent and the Management API client once per instance,
//! then handle WebSocket events.

use std::sync::Arc;

use anyhow::Context;
use gomomo::services::agent::Agent;
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use gomomo_chat_ws::{ApiGatewayPusher, ChatWs};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::from_env().context("configuration")?;
    gomomo::telemetry::init(config.log_format);
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to Postgres")?;
    let sdk = aws_config::load_from_env().await;
    let booking = gomomo::delivery::google::attach_calendar(
        BookingService::new(pool, Clock::system(), config.hold_ttl),
        &config,
        Clock::system(),
    );
    let state = Arc::new(ChatWs {
        agent: Agent::new(booking, &config.agent),
        pusher: Arc::new(ApiGatewayPusher::from_sdk_config(&sdk)),
        endpoint_override: std::env::var("WS_MANAGEMENT_ENDPOINT")
            .ok()
            .filter(|v| !v.trim().is_empty()),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
