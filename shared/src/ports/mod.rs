//! Ports: the narrow traits the services talk to the outside world through, and the types
//! that cross them. Every implementation lives under [`crate::adapters`]; the composition
//! root ([`crate::app`]) picks one per port.
//!
//! - [`Mailer`], [`SmsSender`]: outgoing email and text messages;
//! - [`CalendarProvider`]: writes and busy time of the tenant's calendar;
//! - [`EventPublisher`]: where committed domain events go (EventBridge, the in-process bus);
//! - [`Clock`]: the time, fixed or moved by tests;
//! - [`Pusher`]: frames posted to WebSocket connections.

pub mod calendar;
pub mod clock;
pub mod delivery;
pub mod events;
pub mod model;
pub mod push;

pub use calendar::{BusyRange, CalendarError, CalendarEvent, CalendarProvider};
pub use clock::Clock;
pub use delivery::{DeliveryError, Mailer, OutgoingEmail, SmsSender};
pub use events::{EventEnvelope, EventPublisher, OutboundEvent, PublishError};
pub use model::{ChatModel, ModelError, ModelReply, ToolCall};
pub use push::{Pusher, SendError};
