//! Adapters: every implementation of a port in [`crate::ports`].
//!
//! - [`local`]: the log mailer and SMS sender, the in-process event bus, the built-in calendar;
//! - [`mail`]: SMTP (lettre) and a folder of `.eml` files;
//! - [`twilio_sms`]: Twilio's Messages API;
//! - [`google`]: Google Calendar (OAuth, events, free/busy);
//! - [`caldav`]: a CalDAV (RFC 4791) account: discovery, the booking's event, busy time;
//! - [`graph`]: Microsoft 365 calendars through Microsoft Graph (OAuth with PKCE, events,
//!   getSchedule and calendarView), storage left to the caller;
//! - [`outbound`]: HTTP to tenant URLs, refused when they resolve to internal addresses;
//! - `openai` (feature `llm`): any OpenAI-compatible chat model;
//! - [`aws`]: EventBridge and the API Gateway WebSocket management API, signed by [`sigv4`].

pub mod aws;
pub mod caldav;
pub mod calendars;
pub mod google;
pub mod graph;
pub mod lazy_http;
pub mod local;
pub mod mail;
#[cfg(feature = "llm")]
pub mod openai;
pub mod outbound;
pub mod sigv4;
pub mod twilio_sms;
