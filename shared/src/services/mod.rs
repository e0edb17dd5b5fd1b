//! The use cases, over the ports and `db/`. No HTTP types in here.

pub mod admin;
pub mod agent;
pub mod autonomy;
pub mod booking;
pub mod budgets;
pub mod chat_session;
pub mod delivery;
pub mod excel_import;
pub mod handoff;
pub mod people;
pub mod privacy;
pub mod push;
pub mod relay;
pub mod scheduler;
pub mod sessions;
pub mod sms;
pub mod sms_inbound;
pub mod voice;

pub use crate::ports::Clock;
pub use booking::{BookingError, BookingService};
