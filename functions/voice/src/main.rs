//! The `voice` Lambda: build the state once per instance, then serve the router.

use anyhow::Context;
use gomomo::services::Clock;
use gomomo::Config;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let config = Config::from_env().context("configuration")?;
    gomomo::telemetry::init(config.log_format);
    // Fail closed: production without a Twilio auth token (or with validation off) stops here.
    config
        .telephony
        .check_webhooks(config.environment)
        .context("telephony configuration")?;
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("connecting to Postgres")?;
    let sms = gomomo::twilio::sms_sender_from_config(&config.telephony);
    let state = gomomo_voice::VoiceState::new(pool, &config, Clock::system(), sms);
    lambda_http::run(gomomo_voice::router(state)).await
}
