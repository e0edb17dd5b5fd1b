//! Ports (narrow traits) and their adapters. Each port has a real-world adapter and an
//! in-process/local one; the local one is a real adapter the standalone server runs on.

pub mod calendar;
pub mod events;
pub mod ports;

pub use ports::{DeliveryError, LogMailer, LogSmsSender, Mailer, OutgoingEmail, SmsSender};
