//! Application services over Postgres. No HTTP types in here.

pub mod admin;
pub mod booking;
pub mod clock;

pub use booking::{BookingError, BookingService};
pub use clock::Clock;
