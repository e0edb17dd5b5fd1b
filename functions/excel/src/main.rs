//! The `excel` Lambda: the composition root once per instance, then the spreadsheet routes
//! of the api crate (appointments exported to and imported from .xlsx).

use gomomo::app::{App, Role};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = App::from_env(Role::Excel).await?;
    lambda_http::run(gomomo_api::excel_function_router(
        gomomo_api::AppState::from_app(&app),
    ))
    .await
}
