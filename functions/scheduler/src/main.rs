//! The `scheduler` Lambda: every minute (template.yaml `rate(1 minute)`), one tick.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use gomomo::app::{App, Role};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let scheduler = App::from_env_sending_mail(Role::Scheduler).await?.scheduler;
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent<Value>>| {
        let scheduler = scheduler.clone();
        async move { gomomo_scheduler::handle(&scheduler, event.payload).await }
    }))
    .await
}
