//! Application services over Postgres. No HTTP types in here.

pub mod admin;
pub mod agent;
pub mod autonomy;
pub mod booking;
pub mod clock;
pub mod handoff;
pub mod jobs;
pub mod local;
pub mod policy;
pub mod relay;
pub mod scheduler;
pub mod sms;
pub mod sms_inbound;
pub mod tools;
pub mod voice;

pub use booking::{BookingError, BookingService};
pub use clock::Clock;
