//! The `api` Lambda: the composition root once per instance, then the router.

use gomomo::app::{App, Role};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env(Role::Api).await?;
    lambda_http::run(gomomo_api::api_function_router(
        gomomo_api::AppState::from_app(&app),
    ))
    .await
}
