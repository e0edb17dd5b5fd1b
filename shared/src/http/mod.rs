//! The HTTP side every function shares: the JSON error contract and extractors that turn
//! axum's rejections into it.

pub mod error;
pub mod extract;
pub mod twilio;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery};
