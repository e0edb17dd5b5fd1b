//! AWS adapters of the ports, behind the `aws` feature so only the Lambda functions link
//! the SDK.
//!
//! - [`EventBridgePublisher`]: the outbox relay's `EventPublisher` on an EventBridge bus;
//! - [`ApiGatewayPusher`]: the `Pusher` of the chat over an API Gateway WebSocket API.
//!
//! Clients come from [`sdk_config`], which honours the standard environment
//! (`AWS_REGION`, credentials, and `AWS_ENDPOINT_URL` — how tests reach the local emulator).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use crate::ports::events::{EventPublisher, OutboundEvent, PublishError, MAX_BATCH};
use crate::ports::push::{Pusher, SendError};
use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::config::timeout::TimeoutConfig;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_eventbridge::primitives::DateTime as AwsDateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use uuid::Uuid;

pub use aws_config;
pub use aws_sdk_apigatewaymanagement;
pub use aws_sdk_eventbridge;

/// The shared SDK configuration from the environment.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Publishes outbox rows to an EventBridge bus: `detail-type` = the event name, `source` =
/// its family (`gomomo.booking`, …), `detail` = the PII-free payload with `event_id` and
/// `tenant_id`.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self::new(aws_sdk_eventbridge::Client::new(config), bus)
    }

    pub fn bus(&self) -> &str {
        &self.bus
    }

    fn entry(&self, e: &OutboundEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(e.source)
            .detail_type(&e.name)
            .detail(e.detail.to_string())
            .time(AwsDateTime::from_millis(e.time.timestamp_millis()))
            .build()
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError> {
        // EventBridge takes at most 10 entries per PutEvents; the relay already chunks, this
        // guards any other caller.
        let mut failed = Vec::new();
        for chunk in batch.chunks(MAX_BATCH) {
            let out = self
                .client
                .put_events()
                .set_entries(Some(chunk.iter().map(|e| self.entry(e)).collect()))
                .send()
                .await
                .map_err(|e| {
                    PublishError::Failed(format!(
                        "PutEvents: {}",
                        aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                    ))
                })?;
            if out.failed_entry_count() == 0 {
                continue;
            }
            // Result entries are in request order; a failed one carries an error code.
            for (e, r) in chunk.iter().zip(out.entries()) {
                if r.error_code().is_some() {
                    tracing::warn!(event_id = %e.event_id, code = ?r.error_code(), "PutEvents entry failed");
                    failed.push(e.event_id);
                }
            }
            if out.entries().len() < chunk.len() {
                failed.extend(chunk[out.entries().len()..].iter().map(|e| e.event_id));
            }
        }
        Ok(failed)
    }
}

/// How long one post may take, retries included: live delivery posts while it holds the
/// session's pending pushes locked, so a slow endpoint must not hold them for long.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long opening a connection to the endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Posts frames through the API Gateway Management API (`post_to_connection`) at the
/// connection's endpoint, `https://{domainName}/{stage}` or a custom domain: one SDK client
/// per endpoint, built once, each post bounded by [`POST_TIMEOUT`]. A 410 Gone is
/// [`SendError::Gone`]. An endpoint that is not an `https://` URL is refused without a call
/// — a connection of `gomomo serve` (`local:…`), or plain `http://` to anything but a
/// loopback host (a local emulator).
pub struct ApiGatewayPusher {
    base: aws_sdk_apigatewaymanagement::config::Builder,
    clients: Mutex<HashMap<String, aws_sdk_apigatewaymanagement::Client>>,
}

impl ApiGatewayPusher {
    pub fn new(base: aws_sdk_apigatewaymanagement::config::Builder) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(POST_TIMEOUT)
            .build();
        Self {
            base: base.timeout_config(timeouts),
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_apigatewaymanagement::config::Builder::from(sdk))
    }

    fn client(&self, endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(endpoint.to_string())
            .or_insert_with(|| {
                aws_sdk_apigatewaymanagement::Client::from_conf(
                    self.base.clone().endpoint_url(endpoint).build(),
                )
            })
            .clone()
    }
}

#[async_trait]
impl Pusher for ApiGatewayPusher {
    async fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: String,
    ) -> Result<(), SendError> {
        if !is_management_url(endpoint) {
            return Err(SendError::Failed(
                "the connection's endpoint is not a Management API URL (https, or http to a loopback host)".into(),
            ));
        }
        let res = self
            .client(endpoint)
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.into_bytes()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PostToConnectionError::GoneException(_)) =>
            {
                Err(SendError::Gone)
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 410) => {
                Err(SendError::Gone)
            }
            Err(e) => Err(SendError::Failed(format!(
                "{}",
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e)
            ))),
        }
    }
}

/// An `https://` URL, or an `http://` one whose host is loopback (`localhost`, 127.0.0.0/8,
/// `[::1]`).
fn is_management_url(endpoint: &str) -> bool {
    if endpoint.starts_with("https://") {
        return true;
    }
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, _)) => h,
            None => return false,
        },
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_management_url;

    #[test]
    fn plain_http_only_reaches_a_loopback_host() {
        for ok in [
            "https://abc.execute-api.us-east-1.amazonaws.com/prod",
            "https://chat.example.com",
            "http://127.0.0.1:4566",
            "http://127.8.0.1/prod",
            "http://localhost:3001/dev",
            "http://[::1]:8080",
            "http://[::ffff:127.0.0.1]:8080",
        ] {
            assert!(is_management_url(ok), "{ok}");
        }
        for refused in [
            "local",
            "local:6d0e0000-0000-4000-8000-000000000001",
            "http://abc.execute-api.us-east-1.amazonaws.com/prod",
            "http://0.0.0.0:8080",
            "http://10.0.0.5/prod",
            "http://127.0.0.1.example.com/prod",
            "http://localhost.example.com",
            "http://127.0.0.1@evil.example.com/",
            "http://[::2]:80",
            "http://[::1",
            "ftp://127.0.0.1/",
        ] {
            assert!(!is_management_url(refused), "{refused}");
        }
    }
}
