//! Typed domain events. They go to the outbox in the same transaction as the change that
//! causes them and are PII-free by construction: ids, times and codes only. They never
//! carry a chat session id (a bearer secret: it lets its holder act in that chat); a
//! consumer that needs the session reads it from Postgres by the id the event carries.
//! Unknown detail fields are ignored, so events written before a field was dropped still
//! deserialize.

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
    CalendarWriteFailed(CalendarWriteFailed),
    CalendarRetryExhausted(CalendarRetryExhausted),
    WaitlistMatched(WaitlistMatched),
    FollowupRequested(FollowupRequested),
    NoShowRecorded(NoShowRecorded),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingEvent {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub service_id: Uuid,
    pub resource_id: Uuid,
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

/// Writing a booking to the tenant's calendar failed; the booking stands and retries follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarWriteFailed {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    /// `create` | `delete`
    pub operation: String,
    /// A stable kind (`auth_error`, `network_error`, `timeout`, …), never a message with data.
    pub error_kind: String,
}

/// Every calendar retry failed: the escalation tool takes over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarRetryExhausted {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub attempts: i32,
}

/// A waitlist entry matched an opened slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistMatched {
    pub tenant_id: Uuid,
    pub entry_id: Uuid,
    pub service_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A client asked to be contacted later (a `followup_contacts` row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowupRequested {
    pub tenant_id: Uuid,
    pub followup_id: Uuid,
    /// `email` | `sms`
    pub channel: String,
}

/// Staff recorded that the client did not come to a booking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoShowRecorded {
    pub tenant_id: Uuid,
    pub booking_id: Uuid,
    pub reference: String,
    pub service_id: Uuid,
    pub start: DateTime<Utc>,
    /// The client's no-shows at this tenant, this one included.
    pub no_shows: i64,
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
            Self::CalendarWriteFailed(_) => "CalendarWriteFailed",
            Self::CalendarRetryExhausted(_) => "CalendarRetryExhausted",
            Self::WaitlistMatched(_) => "WaitlistMatched",
            Self::FollowupRequested(_) => "FollowupRequested",
            Self::NoShowRecorded(_) => "NoShowRecorded",
        }
    }

    pub fn tenant_id(&self) -> Uuid {
        match self {
            Self::BookingCreated(e) | Self::BookingCancelled(e) => e.tenant_id,
            Self::BookingRescheduled(e) => e.tenant_id,
            Self::HoldExpired(e) => e.tenant_id,
            Self::SlotOpened(e) => e.tenant_id,
            Self::CalendarWriteFailed(e) => e.tenant_id,
            Self::CalendarRetryExhausted(e) => e.tenant_id,
            Self::WaitlistMatched(e) => e.tenant_id,
            Self::FollowupRequested(e) => e.tenant_id,
            Self::NoShowRecorded(e) => e.tenant_id,
        }
    }

    /// The EventBridge `source` of the event's family.
    pub fn source(&self) -> &'static str {
        source_of(self.name())
    }

    /// Rebuilds an event from its name and `detail` (extra detail fields are ignored).
    pub fn from_parts(name: &str, detail: &serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "type": name, "detail": detail }))
    }

    /// The `detail` JSON (the event body without its name).
    pub fn detail(&self) -> serde_json::Value {
        let v = serde_json::to_value(self).unwrap_or_default();
        v.get("detail").cloned().unwrap_or_default()
    }
}

/// Every event name, for the EventBridge rule and the relay.
pub const EVENT_NAMES: &[&str] = &[
    "BookingCreated",
    "BookingCancelled",
    "BookingRescheduled",
    "HoldExpired",
    "SlotOpened",
    "CalendarWriteFailed",
    "CalendarRetryExhausted",
    "WaitlistMatched",
    "FollowupRequested",
    "NoShowRecorded",
];

/// The EventBridge `source` for an event name: one per family, so rules can select.
pub fn source_of(name: &str) -> &'static str {
    match name {
        "CalendarWriteFailed" | "CalendarRetryExhausted" => "gomomo.calendar",
        "WaitlistMatched" | "FollowupRequested" => "gomomo.engagement",
        _ => "gomomo.booking",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        use chrono::TimeZone as _;
        Utc.with_ymd_and_hms(2026, 3, 4, h, 0, 0).unwrap()
    }

    /// One event of every type, with every field set.
    fn one_of_each() -> Vec<DomainEvent> {
        let t = Uuid::new_v4();
        let id = Uuid::new_v4;
        let booking = BookingEvent {
            tenant_id: t,
            booking_id: id(),
            reference: "ABCD-EFGH".into(),
            service_id: id(),
            resource_id: id(),
            start: at(15),
            end: at(16),
        };
        vec![
            DomainEvent::BookingCreated(booking.clone()),
            DomainEvent::BookingCancelled(booking),
            DomainEvent::BookingRescheduled(BookingRescheduled {
                tenant_id: t,
                booking_id: id(),
                reference: "ABCD-EFGH".into(),
                service_id: id(),
                resource_id: id(),
                old_start: at(10),
                old_end: at(11),
                start: at(15),
                end: at(16),
                sequence: 1,
            }),
            DomainEvent::HoldExpired(HoldExpired {
                tenant_id: t,
                hold_id: id(),
                service_id: id(),
                start: at(15),
                end: at(16),
            }),
            DomainEvent::SlotOpened(SlotOpened {
                tenant_id: t,
                service_id: id(),
                resource_id: id(),
                start: at(15),
                end: at(16),
            }),
            DomainEvent::CalendarWriteFailed(CalendarWriteFailed {
                tenant_id: t,
                booking_id: id(),
                reference: "ABCD-EFGH".into(),
                operation: "create".into(),
                error_kind: "timeout".into(),
            }),
            DomainEvent::CalendarRetryExhausted(CalendarRetryExhausted {
                tenant_id: t,
                booking_id: id(),
                reference: "ABCD-EFGH".into(),
                attempts: 3,
            }),
            DomainEvent::WaitlistMatched(WaitlistMatched {
                tenant_id: t,
                entry_id: id(),
                service_id: id(),
                start: at(15),
                end: at(16),
            }),
            DomainEvent::FollowupRequested(FollowupRequested {
                tenant_id: t,
                followup_id: id(),
                channel: "email".into(),
            }),
            DomainEvent::NoShowRecorded(NoShowRecorded {
                tenant_id: t,
                booking_id: id(),
                reference: "ABCD-EFGH".into(),
                service_id: id(),
                start: at(15),
                no_shows: 2,
            }),
        ]
    }

    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    out.push(k.clone());
                    keys(x, out);
                }
            }
            serde_json::Value::Array(xs) => xs.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }

    #[test]
    fn no_event_detail_names_a_session() {
        let events = one_of_each();
        let names: Vec<&str> = events.iter().map(DomainEvent::name).collect();
        assert_eq!(names, EVENT_NAMES, "every event type is covered");
        for e in &events {
            let detail = e.detail();
            assert!(detail.is_object(), "{}: {detail}", e.name());
            let mut found = Vec::new();
            keys(&detail, &mut found);
            assert!(
                !found
                    .iter()
                    .any(|k| k.to_ascii_lowercase().contains("session")),
                "{} detail has a session field: {detail}",
                e.name()
            );
            assert_eq!(DomainEvent::from_parts(e.name(), &detail).unwrap(), *e);
        }
    }

    #[test]
    fn details_written_with_a_session_id_still_parse_and_drop_it() {
        for e in one_of_each() {
            let mut old = e.detail();
            old["session_id"] = serde_json::json!("web-legacy");
            let parsed = DomainEvent::from_parts(e.name(), &old).unwrap();
            assert_eq!(parsed, e, "{}", e.name());
            assert!(parsed.detail().get("session_id").is_none());
        }
    }
}
