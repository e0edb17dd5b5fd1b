//! AWS adapters of the ports, over the process's HTTP client and our SigV4 signer
//! ([`super::sigv4`]) instead of the AWS SDK: the functions make two kinds of AWS call,
//! and the SDK's runtime, credential chain and HTTP/2 stack were the largest part of
//! every function binary and of its start.
//!
//! - [`EventBridgePublisher`]: the outbox relay's `EventPublisher` on an EventBridge bus
//!   (`PutEvents`, JSON 1.1 protocol);
//! - [`ApiGatewayPusher`]: the `Pusher` of the chat over an API Gateway WebSocket API
//!   (`POST {endpoint}/@connections/{id}`).
//!
//! Both sign with [`AwsAccess`]: the region and credentials the Lambda runtime gives every
//! function (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), and `AWS_ENDPOINT_URL` — how tests reach the local emulator.

use std::net::IpAddr;
use std::time::Duration;

use crate::config::{AwsConfig, AwsCredentials, ConfigError};
use crate::ports::events::{EventPublisher, OutboundEvent, PublishError, MAX_BATCH};
use crate::ports::push::{Pusher, SendError};
use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

use super::lazy_http::LazyClient;
use super::sigv4;

/// How long opening a connection to an AWS endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one `PutEvents` may take (the relay leaves what fails to the sweep).
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one post may take: live delivery posts while it holds the session's pending
/// pushes locked, so a slow endpoint must not hold them for long.
pub const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and as whom the adapters call AWS.
#[derive(Clone)]
pub struct AwsAccess {
    region: String,
    credentials: AwsCredentials,
    /// Every call goes here instead of the service's own address (`AWS_ENDPOINT_URL`).
    endpoint_url: Option<String>,
    /// Built on the first call, shared by the clones.
    http: LazyClient,
}

impl std::fmt::Debug for AwsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsAccess")
            .field("region", &self.region)
            .field("credentials", &self.credentials)
            .field("endpoint_url", &self.endpoint_url)
            .finish_non_exhaustive()
    }
}

impl AwsAccess {
    /// From the configuration; a missing region or missing credentials name the variable.
    pub fn from_config(config: &AwsConfig) -> Result<Self, ConfigError> {
        let region = config
            .region
            .clone()
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        let credentials = config
            .credentials
            .clone()
            .ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?;
        Ok(Self::new(region, credentials, config.endpoint_url.clone()))
    }

    pub fn new(
        region: impl Into<String>,
        credentials: AwsCredentials,
        endpoint_url: Option<String>,
    ) -> Self {
        Self {
            region: region.into(),
            credentials,
            endpoint_url: endpoint_url.map(|u| u.trim_end_matches('/').to_string()),
            http: LazyClient::new("aws", || {
                reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT)
            }),
        }
    }

    /// A signed POST of `body` to `url` for `service`, with the extra signed `headers`.
    async fn post(
        &self,
        service: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<reqwest::Response, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL {url:?}: {e}"))?;
        let host = match (parsed.host_str(), parsed.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => return Err(format!("no host in {url:?}")),
        };
        let signed = sigv4::sign(
            &sigv4::Request {
                method: "POST",
                host: &host,
                path: parsed.path(),
                headers,
                body: &body,
            },
            &self.credentials,
            &self.region,
            service,
            chrono::Utc::now(),
        );
        let http = self
            .http
            .get()
            .ok_or_else(|| "failed: the HTTP client cannot be built".to_string())?;
        let mut req = http.post(parsed).timeout(timeout);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        for (k, v) in signed {
            req = req.header(k, v);
        }
        req.body(body).send().await.map_err(|e| {
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "failed"
            };
            format!("{kind}: {e}")
        })
    }
}

/// Publishes outbox rows to an EventBridge bus: `detail-type` = the event name, `source` =
/// its family (`gomomo.booking`, …), `detail` = the PII-free payload with `event_id` and
/// `tenant_id`.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    aws: AwsAccess,
    bus: String,
    url: String,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsEntry<'a> {
    event_bus_name: &'a str,
    source: &'a str,
    detail_type: &'a str,
    detail: String,
    /// Seconds since the epoch (the JSON protocol's timestamp).
    time: f64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsOutput {
    #[serde(default)]
    failed_entry_count: u32,
    #[serde(default)]
    entries: Vec<PutEventsResultEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsResultEntry {
    error_code: Option<String>,
}

impl EventBridgePublisher {
    pub fn new(aws: AwsAccess, bus: impl Into<String>) -> Self {
        let url = match &aws.endpoint_url {
            Some(base) => format!("{base}/"),
            None => format!("https://events.{}.amazonaws.com/", aws.region),
        };
        Self {
            aws,
            bus: bus.into(),
            url,
        }
    }

    pub fn bus(&self) -> &str {
        &self.bus
    }

    async fn put_events(&self, chunk: &[OutboundEvent]) -> Result<PutEventsOutput, PublishError> {
        let entries: Vec<PutEventsEntry<'_>> = chunk
            .iter()
            .map(|e| PutEventsEntry {
                event_bus_name: &self.bus,
                source: e.source,
                detail_type: &e.name,
                detail: e.detail.to_string(),
                time: e.time.timestamp_millis() as f64 / 1000.0,
            })
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({ "Entries": entries }))
            .map_err(|e| PublishError::Failed(format!("PutEvents body: {e}")))?;
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSEvents.PutEvents"),
        ];
        // One more try after a throttle, a server error or a lost connection.
        let mut last = String::new();
        for attempt in 0..2 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let res = match self
                .aws
                .post("events", &self.url, &headers, body.clone(), PUBLISH_TIMEOUT)
                .await
            {
                Ok(res) => res,
                Err(e) => {
                    last = format!("PutEvents {e}");
                    continue;
                }
            };
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            if status.is_success() {
                return serde_json::from_str(&text).map_err(|e| {
                    PublishError::Failed(format!("PutEvents answer is not understood: {e}"))
                });
            }
            last = format!("PutEvents {status}: {}", aws_error(&text));
            if !(status.is_server_error() || status.as_u16() == 429 || text.contains("Throttl")) {
                break;
            }
        }
        Err(PublishError::Failed(last))
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError> {
        // EventBridge takes at most 10 entries per PutEvents; the relay already chunks, this
        // guards any other caller.
        let mut failed = Vec::new();
        for chunk in batch.chunks(MAX_BATCH) {
            let out = self.put_events(chunk).await?;
            if out.failed_entry_count == 0 {
                continue;
            }
            // Result entries are in request order; a failed one carries an error code.
            for (e, r) in chunk.iter().zip(&out.entries) {
                if r.error_code.is_some() {
                    tracing::warn!(event_id = %e.event_id, code = ?r.error_code, "PutEvents entry failed");
                    failed.push(e.event_id);
                }
            }
            if out.entries.len() < chunk.len() {
                failed.extend(chunk[out.entries.len()..].iter().map(|e| e.event_id));
            }
        }
        Ok(failed)
    }
}

/// The error type and message of an AWS JSON error body (or the body's start).
fn aws_error(body: &str) -> String {
    #[derive(Deserialize)]
    struct E {
        #[serde(rename = "__type")]
        kind: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    match serde_json::from_str::<E>(body) {
        Ok(E { kind, message }) if kind.is_some() || message.is_some() => format!(
            "{} {}",
            kind.unwrap_or_default(),
            message.unwrap_or_default()
        )
        .trim()
        .to_string(),
        _ => body.chars().take(200).collect(),
    }
}

/// Posts frames through the API Gateway Management API (`PostToConnection`) at the
/// connection's endpoint, `https://{domainName}/{stage}` or a custom domain, each post
/// bounded by [`POST_TIMEOUT`]. A 410 Gone is [`SendError::Gone`]. An endpoint that is not
/// an `https://` URL is refused without a call — a connection of `gomomo serve`
/// (`local:…`), or plain `http://` to anything but a loopback host (a local emulator).
#[derive(Debug, Clone)]
pub struct ApiGatewayPusher {
    aws: AwsAccess,
}

impl ApiGatewayPusher {
    pub fn new(aws: AwsAccess) -> Self {
        Self { aws }
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
        let url = format!(
            "{}/@connections/{}",
            endpoint.trim_end_matches('/'),
            sigv4::uri_encode(connection_id)
        );
        let res = self
            .aws
            .post("execute-api", &url, &[], frame.into_bytes(), POST_TIMEOUT)
            .await
            .map_err(|e| SendError::Failed(format!("PostToConnection {e}")))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        if status.as_u16() == 410 {
            return Err(SendError::Gone);
        }
        let text = res.text().await.unwrap_or_default();
        Err(SendError::Failed(format!(
            "PostToConnection {status}: {}",
            aws_error(&text)
        )))
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
