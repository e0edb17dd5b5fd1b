//! Autonomy in one process (the standalone server): the outbox relay publishes on an
//! in-process bus, a task feeds each event to the orchestrator and runs the jobs that are
//! due, and the scheduler ticks on a timer — the same code the worker and scheduler
//! Lambdas run, without AWS.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::task::JoinHandle;

use crate::adapters::events::InProcessPublisher;
use crate::config::Config;
use crate::db::outbox;
use crate::services::autonomy::Autonomy;
use crate::services::booking::BookingService;
use crate::services::clock::Clock;
use crate::services::relay::OutboxRelay;
use crate::services::scheduler::Scheduler;

/// Events buffered between the relay and the orchestrator; beyond it, rows stay in the
/// outbox for the next tick.
const BUS_CAPACITY: usize = 1024;
const JOBS_PER_EVENT: usize = 50;

pub struct LocalAutonomy {
    relay: OutboxRelay,
    autonomy: Autonomy,
    tasks: Vec<JoinHandle<()>>,
}

impl LocalAutonomy {
    /// Starts the consumer and the scheduler timer (`HOLD_SWEEP_INTERVAL_SECONDS`).
    pub fn start(pool: PgPool, config: &Config, clock: Clock) -> Self {
        let (publisher, mut rx) = InProcessPublisher::channel(BUS_CAPACITY);
        let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
        let booking =
            BookingService::new(pool, clock.clone(), config.hold_ttl).with_relay(relay.clone());
        // CALENDAR_MODE: Google Calendar, or the mock with CALENDAR_FAIL_MODE.
        let calendar =
            crate::delivery::google::calendar_from_config(booking.pool(), config, clock.clone());
        let autonomy = Autonomy::new(booking.clone(), config.autonomy_enabled, calendar)
            .with_relay(relay.clone());
        let mut scheduler = Scheduler::new(booking, autonomy.clone(), Some(relay.clone()));
        // Email/SMS/webhook delivery (issue 6): after each event's jobs and on every tick.
        let delivery = match crate::delivery::Delivery::from_config(
            autonomy.pool().clone(),
            config,
            clock.clone(),
        ) {
            Ok(d) => {
                scheduler = scheduler.with_delivery(d.clone());
                Some(d)
            }
            Err(e) => {
                tracing::error!(error = %e, "delivery unavailable: notifications stay queued");
                None
            }
        };

        let consumer = {
            let autonomy = autonomy.clone();
            tokio::spawn(async move {
                while let Some(env) = rx.recv().await {
                    match autonomy.handle_event(&env).await {
                        Ok(out) => {
                            tracing::info!(event = env.event.name(), event_id = %env.event_id, jobs = out.jobs_enqueued, denied = out.denied, duplicate = out.duplicate, "event handled")
                        }
                        // The row is already marked published: put it back so the next
                        // tick delivers it again (consumers deduplicate by event id).
                        Err(e) => {
                            tracing::error!(event_id = %env.event_id, error = %e, "event handling failed; re-queued");
                            if let Err(e) =
                                outbox::mark_unpublished(autonomy.pool(), env.event_id).await
                            {
                                tracing::error!(event_id = %env.event_id, error = %e, "re-queueing the event failed");
                            }
                        }
                    }
                    if let Err(e) = autonomy.run_due_jobs(JOBS_PER_EVENT).await {
                        tracing::warn!(error = %e, "running due jobs failed");
                    }
                    if let Some(d) = &delivery {
                        d.tick(JOBS_PER_EVENT).await;
                    }
                }
            })
        };
        let period = config.hold_sweep_interval;
        let timer = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let report = scheduler.tick().await;
                for e in &report.errors {
                    tracing::warn!(error = %e, "scheduler step failed");
                }
            }
        });
        tracing::info!(
            autonomy_enabled = config.autonomy_enabled,
            tick_seconds = period.as_secs(),
            "autonomy running in process"
        );
        Self {
            relay,
            autonomy,
            tasks: vec![consumer, timer],
        }
    }

    /// Give this to every booking path (the API, the chat agent) so events leave at commit.
    pub fn relay(&self) -> &OutboxRelay {
        &self.relay
    }

    pub fn autonomy(&self) -> &Autonomy {
        &self.autonomy
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}
