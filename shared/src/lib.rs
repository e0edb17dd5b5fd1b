//! gomomo: a multi-tenant AI receptionist. The layers, from the bottom:
//!
//! - [`domain`]: pure types and rules, no I/O;
//! - [`text`]: every user-facing sentence, one table per locale (imports only `domain`);
//! - [`config`]: settings read once from the environment (imports only `domain`);
//! - [`ports`]: the traits through which services reach the outside world;
//! - [`db`]: all SQL, a module per table group;
//! - [`adapters`]: implementations of the ports (SMTP, Twilio, Google, OpenAI, AWS, local);
//! - [`services`]: the use cases (booking, chat agent, voice, handoff, autonomy, delivery);
//! - [`http`]: the JSON error contract and axum extractors;
//! - [`app`]: the composition root that builds each service once for a binary.
//!
//! `docs/architecture.md` draws the map; `scripts/check_layers.py` keeps the arrows pointing down.

pub mod adapters;
pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod http;
pub mod ports;
pub mod services;
pub mod telemetry;
pub mod text;

pub use config::Config;
