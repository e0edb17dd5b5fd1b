//! Delivery and integrations (issue 6): what makes the queued notifications arrive and the
//! tenant's other systems hear about bookings.
//!
//! - [`mail`]: the `Mailer` adapters — SMTP (lettre) and a folder of `.eml` files;
//! - [`ics`]: RFC 5545 invites (stable UID per booking, SEQUENCE, METHOD:CANCEL);
//! - [`dispatcher`]: drains `notification_outbox` (email through the mailer, SMS through the
//!   opt-out ledger and rate limit of [`crate::services::sms::SmsGate`]);
//! - [`webhooks`]: signed outbound webhooks with retries and dead letters;
//! - [`crypto`]: AES-256-GCM for secrets at rest (`ENCRYPTION_KEY`);
//! - [`config`]: the settings of all of the above.
//!
//! [`Delivery::tick`] runs one round of both dispatchers; the worker, the scheduler and the
//! standalone server call it.

pub mod config;
pub mod crypto;
pub mod dispatcher;
pub mod freebusy;
pub mod google;
pub mod ics;
pub mod mail;
pub mod webhooks;

use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;

use crate::adapters::ports::{DeliveryError, Mailer, SmsSender};
use crate::config::Config;
use crate::services::clock::Clock;
use crate::services::sms::SmsGate;

pub use config::DeliveryConfig;
pub use dispatcher::{DispatchReport, NotificationDispatcher};
pub use webhooks::{WebhookDispatcher, WebhookReport};

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct DeliveryReport {
    pub notifications_sent: usize,
    pub notifications_retried: usize,
    pub notifications_failed: usize,
    pub notifications_skipped: usize,
    pub webhooks_fanned_out: usize,
    pub webhooks_delivered: usize,
    pub webhooks_retried: usize,
    pub webhooks_dead: usize,
    pub errors: Vec<String>,
}

impl DeliveryReport {
    pub fn is_idle(&self) -> bool {
        self.notifications_sent
            + self.notifications_retried
            + self.notifications_failed
            + self.notifications_skipped
            + self.webhooks_fanned_out
            + self.webhooks_delivered
            + self.webhooks_retried
            + self.webhooks_dead
            == 0
            && self.errors.is_empty()
    }
}

/// Both dispatchers, built once per process.
#[derive(Clone)]
pub struct Delivery {
    pub notifications: NotificationDispatcher,
    pub webhooks: WebhookDispatcher,
}

impl Delivery {
    /// The adapters `config` selects: SMTP or the mail folder; Twilio or the recording SMS
    /// sender behind the opt-out ledger and rate limit.
    pub fn from_config(pool: PgPool, config: &Config, clock: Clock) -> Result<Self, DeliveryError> {
        let mailer = mail::mailer_from_config(&config.delivery)?;
        let sms = crate::twilio::sms_sender_from_config(&config.telephony);
        Ok(Self::with_adapters(pool, config, clock, mailer, sms))
    }

    /// The same with explicit adapters (tests, or a process that built them already).
    pub fn with_adapters(
        pool: PgPool,
        config: &Config,
        clock: Clock,
        mailer: Arc<dyn Mailer>,
        sms: Arc<dyn SmsSender>,
    ) -> Self {
        let d = &config.delivery;
        let gate = SmsGate::new(
            pool.clone(),
            sms,
            clock.clone(),
            config.telephony.sms_rate_limit_max,
            config.telephony.sms_rate_limit_window,
        );
        let secrets = crypto::SecretBox::new(&d.encryption_key);
        Self {
            notifications: NotificationDispatcher::new(
                pool.clone(),
                clock.clone(),
                mailer,
                gate,
                &d.mail_from,
                d.notification_max_attempts,
            ),
            webhooks: WebhookDispatcher::new(
                pool,
                clock,
                secrets,
                d.webhook_timeout,
                d.webhook_max_attempts,
            ),
        }
    }

    /// One round: queued notifications, then webhook fan-out and deliveries. Each half runs
    /// even when the other failed.
    pub async fn tick(&self, limit: usize) -> DeliveryReport {
        let mut r = DeliveryReport::default();
        match self.notifications.run_once(limit).await {
            Ok(n) => {
                r.notifications_sent = n.sent;
                r.notifications_retried = n.retried;
                r.notifications_failed = n.failed;
                r.notifications_skipped = n.skipped;
            }
            Err(e) => r.errors.push(format!("notifications: {e}")),
        }
        match self.webhooks.run_once(limit).await {
            Ok(w) => {
                r.webhooks_fanned_out = w.fanned_out;
                r.webhooks_delivered = w.delivered;
                r.webhooks_retried = w.retried;
                r.webhooks_dead = w.dead;
            }
            Err(e) => r.errors.push(format!("webhooks: {e}")),
        }
        if !r.is_idle() {
            tracing::info!(?r, "delivery tick");
        }
        r
    }
}

/// What the admin API needs for integrations: the key for secrets at rest, the Google OAuth
/// client (when configured), and whether plain-http webhook URLs are accepted (development).
#[derive(Clone)]
pub struct Integrations {
    pub secrets: crypto::SecretBox,
    pub google: Option<google::GoogleOAuth>,
    pub allow_http_webhooks: bool,
    pub clock: Clock,
}

impl Integrations {
    pub fn from_config(pool: &PgPool, config: &Config, clock: Clock) -> Self {
        let secrets = crypto::SecretBox::new(&config.delivery.encryption_key);
        Self {
            google: config.delivery.google.as_ref().map(|g| {
                google::GoogleOAuth::new(
                    pool.clone(),
                    g.clone(),
                    secrets.clone(),
                    clock.clone(),
                    config.delivery.calendar_timeout,
                )
            }),
            secrets,
            allow_http_webhooks: config.environment != crate::config::Environment::Production,
            clock,
        }
    }
}
