//! What the voice crate's tests share: the Twilio account of the tests, the test
//! configuration, New York clock times, recording adapters and the app over them.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::adapters::local::{LogMailer, MockCalendar};
use gomomo::app::{Adapters, App};
use gomomo::domain::PhoneE164;
use gomomo::ports::{DeliveryError, EventPublisher, OutboundEvent, PublishError, SmsSender};
use gomomo::services::Clock;
use gomomo::Config;
use sqlx::PgPool;

/// The Twilio auth token requests are signed with.
pub const TOKEN: &str = "test-auth-token-5f0c";
/// The public base URL Twilio calls.
pub const BASE: &str = "https://voice.gomomo.test";
/// The caller's number.
pub const CALLER: &str = "+15555550123";

/// A New York wall-clock time (the demo tenant's zone).
pub fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Monday 2 March 2026, 08:00 in New York.
pub fn march_2_8am() -> DateTime<Utc> {
    ny(2026, 3, 2, 8, 0)
}

/// The configuration of the voice function: the token, the public URL and a handoff
/// secret, plus `extra`.
pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut env: HashMap<&str, &str> = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("PUBLIC_BASE_URL", BASE),
        ("HANDOFF_SECRET", "test-handoff-secret-0123456789abcdef"),
    ]);
    env.extend(extra.iter().copied());
    Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap()
}

/// Records what would have been texted (the port's contract: an id per message).
#[derive(Default, Clone)]
pub struct Outbox(pub Arc<Mutex<Vec<(String, String)>>>);

#[async_trait]
impl SmsSender for Outbox {
    async fn send_sms(
        &self,
        _from: Option<&str>,
        to: &PhoneE164,
        body: &str,
    ) -> Result<String, DeliveryError> {
        let mut v = self.0.lock().unwrap();
        v.push((to.as_str().to_string(), body.to_string()));
        Ok(format!("SM{}", v.len()))
    }
}

/// Records every event the outbox relay publishes.
#[derive(Default, Clone)]
pub struct Published(pub Arc<Mutex<Vec<OutboundEvent>>>);

#[async_trait]
impl EventPublisher for Published {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<uuid::Uuid>, PublishError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(Vec::new())
    }
}

/// The composition root over `pool` with `sms` as the SMS sender and `publisher` as the
/// event bus (the log mailer, the built-in calendar).
pub fn app(
    config: Config,
    pool: PgPool,
    clock: Clock,
    sms: Arc<dyn SmsSender>,
    publisher: Arc<dyn EventPublisher>,
) -> App {
    let adapters = Adapters {
        publisher: Some(publisher),
        mailer: Arc::new(LogMailer),
        sms,
        calendar: Arc::new(MockCalendar::new(config.calendar_fail_mode)),
        pusher: None,
    };
    App::build(config, pool, clock, adapters)
}
