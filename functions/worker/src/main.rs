//! The `worker` Lambda: the composition root once per instance, then SQS batches.

use aws_lambda_events::event::sqs::SqsEvent;
use gomomo::app::{App, Role};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = App::from_env_sending_mail(Role::Worker).await?;
    let worker = gomomo_worker::Worker::from_app(&app);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move { worker.handle(event.payload).await }
    }))
    .await
}
