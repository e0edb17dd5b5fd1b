//! Typed domain events. They go to the outbox in the same transaction as the change that
//! causes them and are PII-free by construction: ids, times and codes only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "detail")]
pub enum DomainEvent {
    BookingCreated(BookingEvent),
    BookingCancelled(BookingEvent),
    BookingRescheduled(BookingRescheduled),
    HoldExpired(HoldExpired),
    SlotOpened(SlotOpened),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingEvent {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub session_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRescheduled {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub old_start: DateTime<Utc>,
    pub old_end: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub sequence: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HoldExpired {
    pub tenant_id: Uuid,
    pub hold_id: Uuid,
    pub session_id: String,
    pub service_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotOpened {
    pub tenant_id: Uuid,
    pub service_id: Uuid,
    pub resource_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl DomainEvent {
    /// The event name: the EventBridge `detail-type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BookingCreated(_) => "BookingCreated",
            Self::BookingCancelled(_) => "BookingCancelled",
            Self::BookingRescheduled(_) => "BookingRescheduled",
            Self::HoldExpired(_) => "HoldExpired",
            Self::SlotOpened(_) => "SlotOpened",
        }
    }

    pub fn tenant_id(&self) -> Uuid {
        match self {
            Self::BookingCreated(e) | Self::BookingCancelled(e) => e.tenant_id,
            Self::BookingRescheduled(e) => e.tenant_id,
            Self::HoldExpired(e) => e.tenant_id,
            Self::SlotOpened(e) => e.tenant_id,
        }
    }

    /// The `detail` JSON (the event body without its name).
    pub fn detail(&self) -> serde_json::Value {
        let v = serde_json::to_value(self).unwrap_or_default();
        v.get("detail").cloned().unwrap_or_default()
    }
}
