//! The `handoff` Lambda: the composition root once per instance, then the router.

use gomomo::app::{App, Role};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env(Role::Handoff).await?;
    lambda_http::run(gomomo_handoff::router(
        gomomo_handoff::HandoffState::from_app(&app),
    ))
    .await
}
