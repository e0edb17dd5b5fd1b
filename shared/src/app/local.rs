//! The worker and the scheduler inside one process (`gomomo serve`): the outbox relay
//! publishes on an in-process bus, a task feeds each event to the orchestrator, runs the
//! jobs that are due and delivers what they queued, and the scheduler ticks on a timer —
//! the same services the worker and scheduler functions run, without AWS.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::App;
use crate::adapters::local::InProcessPublisher;
use crate::db::outbox;
use crate::ports::{EventEnvelope, EventPublisher};

/// Events buffered between the relay and the orchestrator; beyond it, rows stay in the
/// outbox for the next tick.
const BUS_CAPACITY: usize = 1024;
const JOBS_PER_EVENT: usize = 50;

/// The in-process bus: the publisher for the relay, the receiver for [`LocalRuntime`].
pub fn bus() -> (Arc<dyn EventPublisher>, mpsc::Receiver<EventEnvelope>) {
    let (publisher, rx) = InProcessPublisher::channel(BUS_CAPACITY);
    (Arc::new(publisher), rx)
}

/// The consumer and the timer tasks; [`LocalRuntime::stop`] ends both.
pub struct LocalRuntime {
    tasks: Vec<JoinHandle<()>>,
}

impl LocalRuntime {
    /// Starts the consumer of `events` and the scheduler timer (`HOLD_SWEEP_INTERVAL_SECONDS`).
    pub fn start(app: &App, mut events: mpsc::Receiver<EventEnvelope>) -> Self {
        let consumer = {
            let autonomy = app.autonomy.clone();
            let delivery = app.delivery.clone();
            tokio::spawn(async move {
                while let Some(env) = events.recv().await {
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
                    delivery.tick(JOBS_PER_EVENT).await;
                }
            })
        };
        let period = app.config.hold_sweep_interval;
        let scheduler = app.scheduler.clone();
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
            autonomy_enabled = app.config.autonomy_enabled,
            tick_seconds = period.as_secs(),
            "autonomy running in process"
        );
        Self {
            tasks: vec![consumer, timer],
        }
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}
