//! The scheduler Lambda's logic: one [`Scheduler::tick`] per EventBridge schedule event.

use std::io::Write;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use gomomo::services::scheduler::{Scheduler, TickReport};
use lambda_runtime::Diagnostic;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("scheduler steps failed: {0}")]
    Steps(String),
}

impl From<SchedulerError> for Diagnostic {
    fn from(e: SchedulerError) -> Self {
        Diagnostic {
            error_type: "Retryable.SchedulerStep".into(),
            error_message: e.to_string(),
        }
    }
}

/// Runs one tick and writes its CloudWatch metric to stdout (see [`handle_to`]).
pub async fn handle(
    scheduler: &Scheduler,
    event: EventBridgeEvent<Value>,
) -> Result<TickReport, SchedulerError> {
    handle_to(scheduler, event, &mut std::io::stdout().lock()).await
}

/// Runs one tick. The event's content does not matter (its `detail` may even be the string
/// `"{}"`, as EventBridge Scheduler sends). The undelivered-messages metric goes to
/// `metrics` as embedded-metric-format lines, every tick. A failed step fails the
/// invocation so it shows in the function's error metrics — the other steps still ran.
pub async fn handle_to(
    scheduler: &Scheduler,
    event: EventBridgeEvent<Value>,
    metrics: &mut impl Write,
) -> Result<TickReport, SchedulerError> {
    tracing::debug!(source = %event.source, detail_type = %event.detail_type, "schedule event");
    let mut report = scheduler.tick().await;
    if let Err(e) = scheduler.write_metrics(&report, metrics) {
        report.errors.push(format!("write metrics: {e}"));
    }
    if report.errors.is_empty() {
        Ok(report)
    } else {
        Err(SchedulerError::Steps(report.errors.join("; ")))
    }
}
