//! The `chat-http` Lambda: the composition root once per instance (with the chat model),
//! then the REST chat route of the api crate.

use gomomo::app::{App, Role};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env(Role::ChatHttp).await?.with_chat_model();
    lambda_http::run(gomomo_api::chat_function_router(
        gomomo_api::AppState::from_app(&app),
    ))
    .await
}
