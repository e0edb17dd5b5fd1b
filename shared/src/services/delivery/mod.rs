//! Delivery and integrations: what makes the queued notifications arrive and the tenant's
//! other systems hear about bookings.
//!
//! - [`dispatcher`]: drains `notification_outbox` (email through the [`Mailer`] port with an
//!   RFC 5545 invite from [`crate::domain::ics`], SMS through the opt-out ledger and rate
//!   limit of [`crate::services::sms::SmsGate`]);
//! - [`webhooks`]: signed outbound webhooks with retries and dead letters, their signing
//!   secrets sealed at rest with [`SecretBox`] (`ENCRYPTION_KEY`);
//! - [`Integrations`]: what the admin API needs for webhooks and the Google Calendar
//!   connection. The settings of all of it are [`DeliveryConfig`].
//!
//! - [`health`]: what should have been delivered and was not, per tenant (the scheduler's
//!   metric, the admin route and `gomomo status` all read it).
//!
//! [`Delivery::tick`] runs one round of both dispatchers; the worker, the scheduler and the
//! standalone server call it.

pub mod dispatcher;
pub mod health;
pub mod webhooks;

use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;

use crate::adapters::google::GoogleOAuth;
use crate::config::DeliveryConfig;
use crate::domain::crypto::SecretBox;
use crate::domain::outbound::OutboundPolicy;
use crate::ports::{Clock, Mailer};
use crate::services::sms::SmsGate;

pub use dispatcher::{DispatchReport, NotificationDispatcher};
pub use health::{DeliveryHealth, HealthReport, TenantHealth};
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
    /// Both dispatchers over the given mailer and SMS gate.
    pub fn new(
        pool: PgPool,
        clock: Clock,
        mailer: Arc<dyn Mailer>,
        gate: SmsGate,
        d: &DeliveryConfig,
    ) -> Self {
        let secrets = SecretBox::new(&d.encryption_key);
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
                d.outbound.clone(),
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
/// client (when configured), and the outbound rule webhook URLs must pass (public
/// addresses only; plain http and the allow-list in development).
#[derive(Clone)]
pub struct Integrations {
    pub secrets: SecretBox,
    pub google: Option<GoogleOAuth>,
    /// The resources' connected calendars, for connecting, inspecting and disconnecting.
    pub calendars: crate::adapters::calendars::ConnectedCalendars,
    pub outbound: OutboundPolicy,
    pub clock: Clock,
}
