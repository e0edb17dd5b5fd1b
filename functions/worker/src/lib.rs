//! The worker Lambda's logic: an SQS batch of EventBridge events in, partial batch failures
//! out. Each record is one domain event (the SQS body is the whole EventBridge envelope);
//! the orchestrator deduplicates it, decides by policy and enqueues jobs. After the batch,
//! the jobs that are due run (confirmations and cancellations go out within the same
//! invocation; reminders and retries wait for the scheduler).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use gomomo::ports::events::{EnvelopeError, EventEnvelope};
use gomomo::services::autonomy::{Autonomy, AutonomyError};
use lambda_runtime::Diagnostic;
use serde_json::Value;

/// Jobs run per invocation after the batch (the rest wait for the next one or the scheduler).
const JOBS_PER_INVOCATION: usize = 50;

/// Why one record failed. The record is reported in `batchItemFailures`: SQS redelivers it
/// and, after the queue's maxReceiveCount, moves it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the SQS body is not an EventBridge event: {0}")]
    NotAnEvent(serde_json::Error),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("processing failed: {0}")]
    Processing(#[from] AutonomyError),
}

/// The whole invocation failed (Lambda retries the whole batch).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("record without a messageId failed; the batch cannot be partially acknowledged")]
    UnidentifiableFailure,
}

impl From<WorkerError> for Diagnostic {
    fn from(e: WorkerError) -> Self {
        Diagnostic {
            error_type: "Retryable.UnidentifiableRecord".into(),
            error_message: e.to_string(),
        }
    }
}

/// Parses one SQS body: an EventBridge envelope whose `detail-type` is the event name and
/// whose `detail` carries the outbox `event_id` and `tenant_id`.
pub fn parse_body(body: &str) -> Result<EventEnvelope, RecordError> {
    let ev: EventBridgeEvent<Value> =
        serde_json::from_str(body).map_err(RecordError::NotAnEvent)?;
    Ok(EventEnvelope::from_detail(&ev.detail_type, &ev.detail)?)
}

#[derive(Clone)]
pub struct Worker {
    autonomy: Autonomy,
    delivery: Option<gomomo::services::delivery::Delivery>,
}

impl Worker {
    /// The orchestrator and delivery of the composition root.
    pub fn from_app(app: &gomomo::app::App) -> Self {
        Self::new(app.autonomy.clone()).with_delivery(app.delivery.clone())
    }

    pub fn new(autonomy: Autonomy) -> Self {
        Self {
            autonomy,
            delivery: None,
        }
    }

    /// Sends what the jobs queued (email, SMS, webhooks) at the end of each invocation.
    pub fn with_delivery(mut self, delivery: gomomo::services::delivery::Delivery) -> Self {
        self.delivery = Some(delivery);
        self
    }

    pub fn autonomy(&self) -> &Autonomy {
        &self.autonomy
    }

    async fn record(&self, msg: &SqsMessage) -> Result<(), RecordError> {
        let env = parse_body(msg.body.as_deref().unwrap_or_default())?;
        let out = self.autonomy.handle_event(&env).await?;
        tracing::info!(
            event_id = %env.event_id,
            event = env.event.name(),
            duplicate = out.duplicate,
            jobs = out.jobs_enqueued,
            denied = out.denied,
            "event handled"
        );
        Ok(())
    }

    /// Handles a batch; returns the message ids that failed.
    #[tracing::instrument(skip_all, fields(records = event.records.len()))]
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, WorkerError> {
        let mut failures = Vec::new();
        for msg in &event.records {
            if let Err(e) = self.record(msg).await {
                tracing::warn!(message_id = ?msg.message_id, error = %e, "record failed");
                match &msg.message_id {
                    Some(id) if !id.is_empty() => {
                        let mut f = BatchItemFailure::default();
                        f.item_identifier = id.clone();
                        failures.push(f);
                    }
                    _ => return Err(WorkerError::UnidentifiableFailure),
                }
            }
        }
        // The events are committed: a failure to run jobs now does not fail the records
        // (the scheduler runs them within a minute).
        match self.autonomy.run_due_jobs(JOBS_PER_INVOCATION).await {
            Ok(r) if r.total() > 0 => tracing::info!(
                completed = r.completed,
                skipped = r.skipped,
                retried = r.retried,
                failed = r.failed,
                refused = r.refused,
                "jobs run"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "running due jobs failed; the scheduler will"),
        }
        // Delivery failures stay in their tables for the next run (or the scheduler's).
        if let Some(d) = &self.delivery {
            d.tick(JOBS_PER_INVOCATION).await;
        }
        let mut resp = SqsBatchResponse::default();
        resp.batch_item_failures = failures;
        Ok(resp)
    }
}
