//! The `chat-ws` Lambda: the composition root and the Management API client once per
//! instance, then WebSocket events.

use std::sync::Arc;

use gomomo::app::{App, Role};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let app = App::from_env(Role::ChatWs).await?.with_chat_model();
    let state = Arc::new(gomomo_chat_ws::ChatWs::from_app(&app)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        let state = state.clone();
        async move { state.handle(event).await }
    }))
    .await
}
