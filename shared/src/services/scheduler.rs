//! One scheduler tick (every minute on AWS; on a timer in the standalone server): expire
//! waitlist offers (passing their times on), apply the no-show confirmation policy (ask,
//! then release unconfirmed bookings), expire holds (emitting `HoldExpired`), publish unsent outbox rows, return orphaned job claims,
//! run the jobs that are due (reminders, calendar retries), publish what they emitted,
//! deliver, purge what is past the retention period (a bounded batch, see
//! [`crate::services::privacy::purge`]), then count what is still undelivered
//! ([`DeliveryHealth`]). The scheduler
//! function writes that count as a CloudWatch metric after every tick
//! ([`Scheduler::write_metrics`]), even when it is 0: a missing data point means the
//! scheduler did not run.

use std::io::{self, Write};

use serde::Serialize;

use crate::services::delivery::{DeliveryHealth, TenantHealth};
use crate::telemetry::emf;

use crate::services::autonomy::Autonomy;
use crate::services::booking::BookingService;
use crate::services::relay::OutboxRelay;

/// Bounds per tick, so one tick fits well inside the function timeout.
const MAX_OUTBOX_ROWS: usize = 1000;
const MAX_JOBS: usize = 200;
/// How often each of our calendar events to come is read back, and how many per tick.
pub const CALENDAR_CHECK_EVERY: chrono::Duration = chrono::Duration::minutes(15);
const MAX_CALENDAR_CHECKS: i64 = 50;
/// The most the read-back may take of a tick.
const CALENDAR_CHECK_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// The CloudWatch metric of undelivered messages (namespace [`emf::NAMESPACE`]).
pub const UNDELIVERED_METRIC: &str = "UndeliveredNotifications";
/// Its per-tenant dimension.
pub const TENANT_DIMENSION: &str = "TenantId";

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct TickReport {
    /// Waitlist offers that ran out this tick (their holds released, their times passed on).
    pub waitlist_offers_expired: usize,
    /// Bookings whose clients the no-show policy asked to confirm this tick.
    pub confirmations_asked: usize,
    /// Bookings the no-show policy released this tick (no confirmation by the deadline).
    pub bookings_released: usize,
    pub holds_expired: usize,
    pub events_published: usize,
    pub events_unpublished: usize,
    pub jobs_reclaimed: usize,
    pub jobs_run: usize,
    /// Notifications and webhook deliveries the delivery dispatchers processed this tick.
    pub deliveries: usize,
    /// Our calendar events read back from their calendars this tick (to notice any moved,
    /// cancelled or deleted outside gomomo).
    pub calendar_events_checked: usize,
    /// Rows past the retention period deleted this tick (chat messages and sessions, calls
    /// and their transcripts, inbound SMS records, handoff tokens).
    pub retention_purged: u64,
    /// Messages due but not delivered after this tick, all tenants (see [`DeliveryHealth`]);
    /// `None` when they could not be counted (the error is in `errors`).
    pub undelivered: Option<u64>,
    /// The tenants with something undelivered.
    pub undelivered_tenants: Vec<TenantHealth>,
    /// Steps that failed (each step runs even when an earlier one failed).
    pub errors: Vec<String>,
}

#[derive(Clone)]
pub struct Scheduler {
    booking: BookingService,
    autonomy: Autonomy,
    relay: Option<OutboxRelay>,
    delivery: Option<crate::services::delivery::Delivery>,
    health: DeliveryHealth,
    retention_days: Option<u32>,
    budgets: Option<crate::services::budgets::Budgets>,
    calendars: Option<crate::adapters::calendars::ConnectedCalendars>,
}

impl Scheduler {
    /// `relay` None: outbox rows stay for a relay elsewhere (nothing is lost).
    pub fn new(booking: BookingService, autonomy: Autonomy, relay: Option<OutboxRelay>) -> Self {
        Self {
            health: DeliveryHealth::new(booking.pool().clone(), booking.clock().clone()),
            booking,
            autonomy,
            relay,
            delivery: None,
            retention_days: None,
            budgets: None,
            calendars: None,
        }
    }

    /// Purges chat messages, call transcripts and inbound SMS records older than `days` on
    /// every tick.
    pub fn with_retention(mut self, days: u32) -> Self {
        self.retention_days = Some(days);
        self
    }

    /// Removes the request budgets' expired counters on every tick.
    pub fn with_budgets(mut self, budgets: crate::services::budgets::Budgets) -> Self {
        self.budgets = Some(budgets);
        self
    }

    /// Drains `notification_outbox` and the webhook deliveries on every tick.
    /// Reads our calendar events back each tick (each at most every
    /// [`CALENDAR_CHECK_EVERY`]).
    pub fn with_calendar_checks(
        mut self,
        calendars: crate::adapters::calendars::ConnectedCalendars,
    ) -> Self {
        self.calendars = Some(calendars);
        self
    }

    pub fn with_delivery(mut self, delivery: crate::services::delivery::Delivery) -> Self {
        self.delivery = Some(delivery);
        self
    }

    #[tracing::instrument(skip_all)]
    pub async fn tick(&self) -> TickReport {
        let mut r = TickReport::default();
        // Offers first: an offer's hold runs out with the offer, and is released here (its
        // time passing to the next entry) rather than as an abandoned hold.
        match self.booking.expire_waitlist_offers().await {
            Ok(n) => r.waitlist_offers_expired = n,
            Err(e) => r.errors.push(format!("expire waitlist offers: {e}")),
        }
        match self.booking.enforce_confirmations().await {
            Ok(c) => {
                r.confirmations_asked = c.asked;
                r.bookings_released = c.released;
            }
            Err(e) => r.errors.push(format!("enforce confirmations: {e}")),
        }
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
        if let Some(calendars) = &self.calendars {
            match calendars
                .check_events(
                    CALENDAR_CHECK_EVERY,
                    MAX_CALENDAR_CHECKS,
                    CALENDAR_CHECK_BUDGET,
                )
                .await
            {
                Ok(n) => r.calendar_events_checked = n,
                Err(e) => r.errors.push(format!("check calendar events: {e}")),
            }
        }
        if let Some(days) = self.retention_days {
            let now = self.booking.clock().now();
            match crate::services::privacy::purge(self.booking.pool(), now, days).await {
                Ok(p) => r.retention_purged = p.total(),
                Err(e) => r.errors.push(format!("retention purge: {e}")),
            }
        }
        if let Some(budgets) = &self.budgets {
            match budgets.purge().await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "expired budget counters removed"),
                Ok(_) => {}
                Err(e) => r.errors.push(format!("purge budget counters: {e}")),
            }
        }
        let now = self.booking.clock().now();
        match crate::services::people::purge_sessions(self.booking.pool(), now).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "ended admin sessions removed"),
            Ok(_) => {}
            Err(e) => r.errors.push(format!("purge admin sessions: {e}")),
        }
        match self.health.report().await {
            Ok(h) => {
                r.undelivered = Some(h.undelivered);
                r.undelivered_tenants = h.tenants;
            }
            Err(e) => r.errors.push(format!("count undelivered: {e}")),
        }
        if r.waitlist_offers_expired + r.confirmations_asked + r.bookings_released > 0 {
            tracing::info!(
                waitlist_offers_expired = r.waitlist_offers_expired,
                confirmations_asked = r.confirmations_asked,
                bookings_released = r.bookings_released,
                "attendance and waitlist upkeep"
            );
        }
        if r.holds_expired + r.events_published + r.jobs_reclaimed + r.jobs_run + r.deliveries > 0
            || r.retention_purged > 0
            || !r.errors.is_empty()
            || r.undelivered.unwrap_or(0) > 0
        {
            tracing::info!(
                holds_expired = r.holds_expired,
                events_published = r.events_published,
                jobs_reclaimed = r.jobs_reclaimed,
                jobs_run = r.jobs_run,
                retention_purged = r.retention_purged,
                undelivered = r.undelivered,
                errors = r.errors.len(),
                "scheduler tick"
            );
        }
        r
    }

    /// The tick's metric as embedded-metric-format lines: the total (no dimension, written
    /// even when 0) and one line per tenant with something undelivered. None when the count
    /// failed: a missing data point is what the alarm treats as breaching.
    pub fn metric_lines(&self, r: &TickReport) -> Vec<String> {
        let Some(total) = r.undelivered else {
            return Vec::new();
        };
        let at = self.booking.clock().now();
        let mut lines = vec![emf::count_line(UNDELIVERED_METRIC, total, None, at)];
        for t in &r.undelivered_tenants {
            let tenant = t.tenant_id.to_string();
            lines.push(emf::count_line(
                UNDELIVERED_METRIC,
                t.undelivered,
                Some((TENANT_DIMENSION, &tenant)),
                at,
            ));
        }
        lines
    }

    /// Writes [`Self::metric_lines`] to `out` (stdout on Lambda, where CloudWatch Logs reads
    /// them).
    pub fn write_metrics(&self, r: &TickReport, out: &mut impl Write) -> io::Result<()> {
        emf::write_lines(out, &self.metric_lines(r))
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
