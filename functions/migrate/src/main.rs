//! The `migrate` Lambda: a CloudFormation custom resource that applies the migrations on
//! each deploy and answers CloudFormation at the response URL it was given.

use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let migrator = gomomo_migrate::Migrator::from_env();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let migrator = migrator.clone();
        async move {
            let deadline = event.context.deadline();
            let answer = migrator.handle(event.payload, deadline).await;
            answer.map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}
