//! The `EventPublisher` port: how outbox rows leave the process. Adapters: EventBridge
//! (crate `gomomo-aws`) and [`InProcessPublisher`], which feeds the standalone server's
//! orchestrator through a bounded tokio channel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::events::{source_of, DomainEvent};

/// At most this many events per `publish` call: EventBridge takes at most 10 entries per
/// PutEvents.
pub const MAX_BATCH: usize = 10;

/// One outbox row on its way out. `detail` is the PII-free payload plus `event_id` (the
/// outbox id, which consumers deduplicate by) and `tenant_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundEvent {
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    /// The event name: EventBridge `detail-type`.
    pub name: String,
    /// EventBridge `source` (`gomomo.booking`, `gomomo.calendar`, `gomomo.engagement`).
    pub source: &'static str,
    pub detail: Value,
    pub time: DateTime<Utc>,
}

impl OutboundEvent {
    pub fn new(
        event_id: Uuid,
        tenant_id: Uuid,
        name: &str,
        payload: &Value,
        time: DateTime<Utc>,
    ) -> Self {
        let mut detail = match payload {
            Value::Object(m) => m.clone(),
            _ => serde_json::Map::new(),
        };
        detail.insert("event_id".into(), Value::String(event_id.to_string()));
        detail.insert("tenant_id".into(), Value::String(tenant_id.to_string()));
        Self {
            event_id,
            tenant_id,
            name: name.to_string(),
            source: source_of(name),
            detail: Value::Object(detail),
            time,
        }
    }
}

/// A domain event as a consumer receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    pub event_id: Uuid,
    pub tenant_id: Uuid,
    pub event: DomainEvent,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("detail lacks a valid event_id")]
    MissingEventId,
    #[error("unknown or malformed event {name}: {source}")]
    BadEvent {
        name: String,
        source: serde_json::Error,
    },
    #[error("detail tenant_id does not match the event")]
    TenantMismatch,
}

impl EventEnvelope {
    /// Parses `detail-type` + `detail` as the relay wrote them.
    pub fn from_detail(name: &str, detail: &Value) -> Result<Self, EnvelopeError> {
        let event_id = detail
            .get("event_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(EnvelopeError::MissingEventId)?;
        let event =
            DomainEvent::from_parts(name, detail).map_err(|source| EnvelopeError::BadEvent {
                name: name.chars().take(64).collect(),
                source,
            })?;
        let tenant_id = event.tenant_id();
        let claimed = detail
            .get("tenant_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok());
        if claimed != Some(tenant_id) {
            return Err(EnvelopeError::TenantMismatch);
        }
        Ok(Self {
            event_id,
            tenant_id,
            event,
        })
    }

    pub fn from_outbound(e: &OutboundEvent) -> Result<Self, EnvelopeError> {
        Self::from_detail(&e.name, &e.detail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("publishing failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes up to [`MAX_BATCH`] events; returns the ids of the entries that failed
    /// individually (the others are published). `Err` means none were.
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError>;
}
