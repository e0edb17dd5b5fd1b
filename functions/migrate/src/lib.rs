//! The deploy-time migrations: `template.yaml` declares a custom resource
//! (`Custom::DatabaseMigrations`) served by this function, so CloudFormation invokes it when
//! the stack is created and whenever the function's code changes (the migrations are
//! compiled into the binary, so new migrations mean new code and a new version).
//!
//! - `Create` and `Update` apply the pending migrations;
//! - `Delete` changes nothing: the schema and its data outlive the stack;
//! - the outcome is always answered with one `PUT` to the request's `ResponseURL` and to no
//!   other address (redirects are not followed; the URL must be https, or http to a
//!   loopback address for local runs). A failure is answered `FAILED` with its reason, so
//!   the deploy stops and rolls back instead of waiting an hour for an answer.
//!
//! An event without `ResponseURL` (`sam remote invoke MigrateFunction --event '{}'`) just
//! applies the migrations and returns the outcome.

use std::sync::Arc;
use std::time::Duration;

use gomomo::config::{Config, ConfigError, LogFormat, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The physical id of the one migrations resource. Stable, so an update never looks like
/// a replacement (which would make CloudFormation delete the old one).
pub const PHYSICAL_RESOURCE_ID: &str = "gomomo-database-migrations";

/// CloudFormation refuses response bodies over 4 KB; the reason is cut well below that.
const MAX_REASON: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// The fields of a custom resource request this function uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// The body PUT to the response URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceResponse {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
}

/// The answer to `request` for an outcome (`Ok(what was done)` or `Err(why not)`).
pub fn response(
    request: &CustomResourceRequest,
    outcome: Result<String, String>,
) -> CustomResourceResponse {
    let (status, reason) = match outcome {
        Ok(done) => (Status::Success, done),
        Err(why) => (Status::Failed, why),
    };
    let mut reason: String = reason.chars().take(MAX_REASON).collect();
    if reason.is_empty() {
        reason.push_str("no reason given");
    }
    CustomResourceResponse {
        status,
        reason,
        physical_resource_id: request
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| PHYSICAL_RESOURCE_ID.to_string()),
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("the event is neither a custom resource request nor a manual run: {0}")]
    Event(String),
    #[error(
        "refusing to answer at {0}: the response URL must be https (or http to a loopback address)"
    )]
    ResponseUrl(String),
    #[error("answering CloudFormation failed: {0}")]
    Respond(String),
    #[error("{0}")]
    Migration(String),
}

/// The response URL, parsed, when it is one this function may answer at.
pub fn checked_response_url(raw: &str) -> Result<reqwest::Url, MigrateError> {
    let refuse = || MigrateError::ResponseUrl(redact_query(raw));
    let url = reqwest::Url::parse(raw).map_err(|_| refuse())?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" if !host.is_empty() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(refuse()),
    }
}

/// A pre-signed URL's query is a credential: never logged.
fn redact_query(raw: &str) -> String {
    raw.split('?').next().unwrap_or_default().to_string()
}

/// Applies the migrations and answers CloudFormation. Cheap to clone.
#[derive(Clone)]
pub struct Migrator {
    config: Arc<Result<Config, ConfigError>>,
    http: reqwest::Client,
}

impl Migrator {
    /// The migration's settings from the environment (an invalid one is reported to
    /// CloudFormation as the reason of a `FAILED` answer), and the logs.
    pub fn from_env() -> Self {
        let config = Config::from_env_for(Role::Migrate);
        gomomo::telemetry::init(config.as_ref().map_or(LogFormat::Json, |c| c.log_format));
        Self::new(config)
    }

    pub fn new(config: Result<Config, ConfigError>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            config: Arc::new(config),
            http,
        }
    }

    /// One invocation: a custom resource request (answered at its response URL), or a
    /// manual run (an event without `ResponseURL`).
    pub async fn handle(&self, event: Value) -> Result<Value, MigrateError> {
        if event.get("ResponseURL").is_none() {
            let done = self.migrate().await.map_err(MigrateError::Migration)?;
            return Ok(serde_json::json!({ "status": "SUCCESS", "reason": done }));
        }
        let request: CustomResourceRequest =
            serde_json::from_value(event).map_err(|e| MigrateError::Event(e.to_string()))?;
        let url = checked_response_url(&request.response_url)?;
        let outcome = match request.request_type {
            RequestType::Create | RequestType::Update => self.migrate().await,
            RequestType::Delete => Ok("nothing to undo: the schema and its data stay".into()),
        };
        if let Err(why) = &outcome {
            tracing::error!(reason = %why, request_type = ?request.request_type, "migrations failed");
        }
        let body = response(&request, outcome);
        self.answer(url, &body).await?;
        tracing::info!(status = ?body.status, reason = %body.reason, "answered CloudFormation");
        Ok(serde_json::json!({ "status": body.status, "reason": body.reason }))
    }

    async fn migrate(&self) -> Result<String, String> {
        let config = match self.config.as_ref() {
            Ok(c) => c,
            Err(e) => return Err(format!("invalid configuration: {e}")),
        };
        let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
            .await
            .map_err(|e| format!("cannot connect to Postgres: {e}"))?;
        let result = gomomo::db::migrate(&pool).await;
        pool.close().await;
        result
            .map(|()| "migrations applied".to_string())
            .map_err(|e| format!("migration failed: {e}"))
    }

    /// One PUT of `body` to `url`; S3 pre-signed URLs expect no content type.
    async fn answer(
        &self,
        url: reqwest::Url,
        body: &CustomResourceResponse,
    ) -> Result<(), MigrateError> {
        let json = serde_json::to_vec(body).map_err(|e| MigrateError::Respond(e.to_string()))?;
        let sent = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, "")
            .body(json)
            .send()
            .await
            .map_err(|e| MigrateError::Respond(e.without_url().to_string()))?;
        if !sent.status().is_success() {
            return Err(MigrateError::Respond(format!(
                "the response URL answered {}",
                sent.status()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request(kind: &str, physical: Option<&str>) -> CustomResourceRequest {
        let mut event = serde_json::json!({
            "RequestType": kind,
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:migrate",
            "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=abc",
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/gomomo/1",
            "RequestId": "req-1",
            "ResourceType": "Custom::DatabaseMigrations",
            "LogicalResourceId": "DatabaseMigrations",
            "ResourceProperties": { "Version": "3" }
        });
        if let Some(p) = physical {
            event["PhysicalResourceId"] = p.into();
        }
        serde_json::from_value(event).unwrap()
    }

    #[test]
    fn the_response_echoes_the_request_and_keeps_one_physical_id() {
        let created = response(&request("Create", None), Ok("migrations applied".into()));
        let json = serde_json::to_value(&created).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "Status": "SUCCESS",
                "Reason": "migrations applied",
                "PhysicalResourceId": PHYSICAL_RESOURCE_ID,
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/gomomo/1",
                "RequestId": "req-1",
                "LogicalResourceId": "DatabaseMigrations"
            })
        );
        let failed = response(
            &request("Update", Some("earlier-id")),
            Err("x".repeat(5_000)),
        );
        assert_eq!(failed.status, Status::Failed);
        assert_eq!(failed.physical_resource_id, "earlier-id");
        assert_eq!(failed.reason.len(), MAX_REASON);
        assert_eq!(request("Delete", None).request_type, RequestType::Delete);
    }

    #[test]
    fn only_https_or_loopback_response_urls_are_answered() {
        assert!(checked_response_url("https://bucket.s3.amazonaws.com/r?sig=1").is_ok());
        assert!(checked_response_url("http://127.0.0.1:9/r").is_ok());
        assert!(checked_response_url("http://[::1]:9/r").is_ok());
        for bad in [
            "http://169.254.169.254/latest/meta-data",
            "http://bucket.s3.amazonaws.com/r",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(checked_response_url(bad).is_err(), "{bad}");
        }
        let e = checked_response_url("http://example.com/r?X-Amz-Signature=secret").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
