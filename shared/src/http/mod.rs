//! The HTTP side every function shares: the JSON error contract, extractors that turn
//! axum's rejections into it, and the web pages (landing page, widget script).

pub mod client_ip;
pub mod error;
pub mod extract;
pub mod twilio;
pub mod web;

pub use client_ip::ClientIp;
pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery};
