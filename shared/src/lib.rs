//! gomomo domain crate: configuration, telemetry, domain types and rules, the booking
//! service over Postgres, and the HTTP error/extractor helpers the functions share.
//!
//! Layers, each with its own error type:
//! - [`domain`]: pure types and rules (no I/O) — [`domain::ParseError`], [`domain::slots::SlotError`];
//! - [`db`] and [`services`]: Postgres and the booking rules — [`services::booking::BookingError`];
//! - [`http`]: the JSON error contract — [`http::ApiError`].

pub mod adapters;
pub mod config;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod http;
pub mod services;
pub mod telemetry;
pub mod twilio;

pub use config::Config;
