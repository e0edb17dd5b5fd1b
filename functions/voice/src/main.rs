//! The `voice` Lambda: the composition root once per instance, then the router.

use gomomo::app::{App, Role};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env(Role::Voice).await?;
    lambda_http::run(gomomo_voice::router(gomomo_voice::VoiceState::from_app(
        &app,
    )))
    .await
}
