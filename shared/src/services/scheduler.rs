//! One scheduler tick (every minute on AWS; on a timer in the standalone server): expire
//! holds (emitting `HoldExpired`), publish unsent outbox rows, return orphaned job claims,
//! run the jobs that are due (reminders, calendar retries), publish what they emitted.

use serde::Serialize;

use crate::services::autonomy::Autonomy;
use crate::services::booking::BookingService;
use crate::services::relay::OutboxRelay;

/// Bounds per tick, so one tick fits well inside the function timeout.
const MAX_OUTBOX_ROWS: usize = 1000;
const MAX_JOBS: usize = 200;

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct TickReport {
    pub holds_expired: usize,
    pub events_published: usize,
    pub events_unpublished: usize,
    pub jobs_reclaimed: usize,
    pub jobs_run: usize,
    /// Notifications and webhook deliveries the delivery dispatchers processed this tick.
    pub deliveries: usize,
    /// Steps that failed (each step runs even when an earlier one failed).
    pub errors: Vec<String>,
}

#[derive(Clone)]
pub struct Scheduler {
    booking: BookingService,
    autonomy: Autonomy,
    relay: Option<OutboxRelay>,
    delivery: Option<crate::services::delivery::Delivery>,
}

impl Scheduler {
    /// `relay` None: outbox rows stay for a relay elsewhere (nothing is lost).
    pub fn new(booking: BookingService, autonomy: Autonomy, relay: Option<OutboxRelay>) -> Self {
        Self {
            booking,
            autonomy,
            relay,
            delivery: None,
        }
    }

    /// Drains `notification_outbox` and the webhook deliveries on every tick.
    pub fn with_delivery(mut self, delivery: crate::services::delivery::Delivery) -> Self {
        self.delivery = Some(delivery);
        self
    }

    #[tracing::instrument(skip_all)]
    pub async fn tick(&self) -> TickReport {
        let mut r = TickReport::default();
        match self.booking.expire_holds().await {
            Ok(n) => r.holds_expired = n,
            Err(e) => r.errors.push(format!("expire holds: {e}")),
        }
        self.publish(&mut r).await;
        match self.autonomy.reclaim_stale().await {
            Ok(n) => r.jobs_reclaimed = n,
            Err(e) => r.errors.push(format!("reclaim stale jobs: {e}")),
        }
        match self.autonomy.run_due_jobs(MAX_JOBS).await {
            Ok(run) => r.jobs_run = run.total(),
            Err(e) => r.errors.push(format!("run due jobs: {e}")),
        }
        self.publish(&mut r).await;
        if let Some(delivery) = &self.delivery {
            let d = delivery.tick(MAX_JOBS).await;
            r.deliveries = d.notifications_sent
                + d.notifications_retried
                + d.notifications_failed
                + d.notifications_skipped
                + d.webhooks_delivered
                + d.webhooks_retried
                + d.webhooks_dead;
            r.errors.extend(d.errors);
        }
        if r.holds_expired + r.events_published + r.jobs_reclaimed + r.jobs_run + r.deliveries > 0
            || !r.errors.is_empty()
        {
            tracing::info!(
                holds_expired = r.holds_expired,
                events_published = r.events_published,
                jobs_reclaimed = r.jobs_reclaimed,
                jobs_run = r.jobs_run,
                errors = r.errors.len(),
                "scheduler tick"
            );
        }
        r
    }

    async fn publish(&self, r: &mut TickReport) {
        let Some(relay) = &self.relay else { return };
        match relay.publish_pending(MAX_OUTBOX_ROWS).await {
            Ok(rep) => {
                r.events_published += rep.published;
                r.events_unpublished += rep.failed;
            }
            Err(e) => r.errors.push(format!("publish outbox: {e}")),
        }
    }
}
