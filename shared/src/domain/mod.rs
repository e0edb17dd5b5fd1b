//! Pure domain types and rules: no I/O here.

pub mod crypto;
pub mod events;
pub mod ics;
pub mod locale;
pub mod nlu;
pub mod outbound;
pub mod phone_region;
pub mod policy;
pub mod redact;
pub mod reference;
pub mod slots;
pub mod types;

pub use locale::Locale;
pub use reference::ReferenceCode;
pub use types::{
    is_invisible_format, ClientName, Email, Notes, ParseError, PhoneE164, SessionId, TenantId,
    TimeZone,
};
