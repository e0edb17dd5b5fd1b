//! The deploy-time migrations: `template.yaml` declares a custom resource
//! (`Custom::DatabaseMigrations`) served by this function, so CloudFormation invokes it when
//! the stack is created and whenever the function's code changes (the migrations are
//! compiled into the binary, so new migrations mean new code and a new version).
//!
//! - `Create` and `Update` apply the pending migrations;
//! - the `Update` CloudFormation sends when it rolls a failed deploy back (the old
//!   `CodeVersion` as the new one) changes nothing and succeeds, whichever binary receives
//!   it: migrations are never undone, and running them again would fail the rollback too;
//! - `Delete` changes nothing: the schema and its data outlive the stack;
//! - migrations this binary does not know (applied by a newer one) are left alone, so an
//!   older binary can run against a newer schema;
//! - the outcome is always answered with one `PUT` to the request's `ResponseURL` and to no
//!   other address (redirects are not followed; the URL must be https, or http to a
//!   loopback address for local runs). A failure is answered `FAILED` with its reason, so
//!   the deploy stops and rolls back instead of waiting an hour for an answer. The
//!   migrations get the invocation's time less [`ANSWER_MARGIN`]: a migration still
//!   running then (a held migration lock, a slow database) is abandoned and answered
//!   `FAILED`, and a request that cannot be read is answered `FAILED` too.
//!
//! An event without `ResponseURL` (`sam remote invoke MigrateFunction --event '{}'`) just
//! applies the migrations and returns the outcome.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gomomo::config::{Config, ConfigError, LogFormat, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;

/// The physical id of the one migrations resource. Stable, so an update never looks like
/// a replacement (which would make CloudFormation delete the old one).
pub const PHYSICAL_RESOURCE_ID: &str = "gomomo-database-migrations";

/// CloudFormation refuses response bodies over 4 KB; the reason is cut well below that.
const MAX_REASON: usize = 1_000;

/// The time kept back from the invocation's deadline to answer CloudFormation after the
/// migrations (which get the rest).
pub const ANSWER_MARGIN: Duration = Duration::from_secs(15);

/// The migrations' time when the runtime gives no real deadline: the template's 300 s
/// timeout less [`ANSWER_MARGIN`]. Lambda always sends one (milliseconds since the epoch);
/// a local emulator may send a constant instead (`cargo lambda watch` sends 600000).
pub const NO_DEADLINE_BUDGET: Duration = Duration::from_secs(285);

/// Deadlines before this moment (2001-09-09) are not real ones: see [`NO_DEADLINE_BUDGET`].
const CREDIBLE_DEADLINE_SECS: u64 = 1_000_000_000;

/// The migrations' time within an invocation that must be over by `deadline`.
pub fn budget(deadline: SystemTime, now: SystemTime) -> Duration {
    let credible = deadline
        .duration_since(SystemTime::UNIX_EPOCH)
        .is_ok_and(|d| d.as_secs() >= CREDIBLE_DEADLINE_SECS);
    if !credible {
        return NO_DEADLINE_BUDGET;
    }
    deadline
        .duration_since(now)
        .unwrap_or_default()
        .saturating_sub(ANSWER_MARGIN)
}

/// How long the one PUT to the response URL may take; well inside [`ANSWER_MARGIN`].
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

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
    #[serde(default)]
    pub resource_properties: Value,
    #[serde(default)]
    pub old_resource_properties: Value,
}

/// A `CodeVersion` property: the template sets it to the migrate function's published
/// version, whose reference is the version's ARN (`arn:…:function:NAME:7`); a bare number
/// is read too. Returns the function part (empty for a bare number) and the number.
fn code_version(properties: &Value) -> Option<(String, u64)> {
    let raw = match properties.get("CodeVersion")? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (function, number) = raw.rsplit_once(':').unwrap_or(("", raw.as_str()));
    Some((function.to_string(), number.parse().ok()?))
}

/// `Some((from, to))` when `request` is the `Update` of a rollback: the same function's
/// version going down. Anything less certain (a missing or unreadable version, another
/// function) is not a rollback, and the migrations run.
pub fn rollback_versions(request: &CustomResourceRequest) -> Option<(u64, u64)> {
    if request.request_type != RequestType::Update {
        return None;
    }
    let (new_function, new) = code_version(&request.resource_properties)?;
    let (old_function, old) = code_version(&request.old_resource_properties)?;
    (new_function == old_function && new < old).then_some((old, new))
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
    CustomResourceResponse {
        status,
        reason: cut_reason(&reason),
        physical_resource_id: request
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| PHYSICAL_RESOURCE_ID.to_string()),
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
    }
}

/// The `FAILED` answer to an event that has a response URL but is not a readable request:
/// the identifiers it does carry are echoed, so CloudFormation can match the answer.
fn unreadable_request_response(event: &Value, why: &str) -> CustomResourceResponse {
    let field = |name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let physical = field("PhysicalResourceId");
    CustomResourceResponse {
        status: Status::Failed,
        reason: cut_reason(&format!("the request could not be read: {why}")),
        physical_resource_id: if physical.is_empty() {
            PHYSICAL_RESOURCE_ID.to_string()
        } else {
            physical
        },
        stack_id: field("StackId"),
        request_id: field("RequestId"),
        logical_resource_id: field("LogicalResourceId"),
    }
}

fn cut_reason(reason: &str) -> String {
    let cut: String = reason.chars().take(MAX_REASON).collect();
    if cut.is_empty() {
        "no reason given".to_string()
    } else {
        cut
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
    migrations: Arc<sqlx::migrate::Migrator>,
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
            .timeout(ANSWER_TIMEOUT)
            .build()
            .unwrap_or_default();
        // The embedded migrations, told to leave alone the ones a newer binary applied.
        let mut migrations = sqlx::migrate::Migrator::with_migrations(
            gomomo::db::MIGRATOR.iter().cloned().collect(),
        );
        migrations.set_ignore_missing(true);
        Self {
            config: Arc::new(config),
            migrations: Arc::new(migrations),
            http,
        }
    }

    /// One invocation that must be over by `deadline`: a custom resource request
    /// (answered at its response URL), or a manual run (an event without `ResponseURL`).
    pub async fn handle(&self, event: Value, deadline: SystemTime) -> Result<Value, MigrateError> {
        let budget = budget(deadline, SystemTime::now());
        let Some(raw_url) = event.get("ResponseURL") else {
            let done = self
                .migrate_within(budget)
                .await
                .map_err(MigrateError::Migration)?;
            return Ok(serde_json::json!({ "status": "SUCCESS", "reason": done }));
        };
        let raw_url = raw_url
            .as_str()
            .ok_or_else(|| MigrateError::Event("ResponseURL is not a string".into()))?;
        let url = checked_response_url(raw_url)?;
        let request = match serde_json::from_value::<CustomResourceRequest>(event.clone()) {
            Ok(request) => request,
            Err(e) => {
                tracing::error!(error = %e, "unreadable custom resource request");
                let body = unreadable_request_response(&event, &e.to_string());
                self.answer(url, &body).await?;
                return Ok(serde_json::json!({ "status": body.status, "reason": body.reason }));
            }
        };
        let outcome = match (request.request_type, rollback_versions(&request)) {
            (_, Some((from, to))) => {
                tracing::warn!(
                    from_version = from,
                    to_version = to,
                    "rollback of a failed update: the migrations are left as they are"
                );
                Ok(format!(
                    "rollback from version {from} to {to}: nothing migrated, the schema stays as it is"
                ))
            }
            (RequestType::Create | RequestType::Update, None) => self.migrate_within(budget).await,
            (RequestType::Delete, None) => {
                Ok("nothing to undo: the schema and its data stay".into())
            }
        };
        if let Err(why) = &outcome {
            tracing::error!(reason = %why, request_type = ?request.request_type, "migrations failed");
        }
        let body = response(&request, outcome);
        self.answer(url, &body).await?;
        tracing::info!(status = ?body.status, reason = %body.reason, "answered CloudFormation");
        Ok(serde_json::json!({ "status": body.status, "reason": body.reason }))
    }

    /// The migrations, given `budget`: on the client, they are abandoned when it runs out
    /// (their connection is dropped); on the server, each statement of their session is
    /// cancelled past it (`statement_timeout`), so an abandoned run rolls back and lets go of
    /// the migration lock instead of holding it for the next deploy.
    async fn migrate_within(&self, budget: Duration) -> Result<String, String> {
        let out_of_time = || {
            format!(
                "migrations did not finish within {} s (the invocation's time less {} s to answer): \
                 another migration may hold the migration lock, or the database is slow",
                budget.as_secs(),
                ANSWER_MARGIN.as_secs()
            )
        };
        if budget < Duration::from_secs(1) {
            return Err(out_of_time());
        }
        tokio::time::timeout(budget, self.migrate(budget))
            .await
            .unwrap_or_else(|_| Err(out_of_time()))
    }

    async fn migrate(&self, budget: Duration) -> Result<String, String> {
        let config = match self.config.as_ref() {
            Ok(c) => c,
            Err(e) => return Err(format!("invalid configuration: {e}")),
        };
        let options: PgConnectOptions = config
            .database_url
            .parse()
            .map_err(|e| format!("invalid DATABASE_URL: {e}"))?;
        let options = options.application_name("gomomo-migrate");
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| format!("cannot connect to Postgres: {e}"))?;
        if let Err(e) = gomomo::db::set_statement_timeout(&mut conn, budget.as_millis()).await {
            let _ = conn.close().await;
            return Err(format!("cannot bound the migration's statements: {e}"));
        }
        let result = self.migrations.run(&mut conn).await;
        // The outcome is known; a failed goodbye changes nothing about it.
        let _ = conn.close().await;
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

    fn update(new: Value, old: Value) -> CustomResourceRequest {
        let mut r = request("Update", Some(PHYSICAL_RESOURCE_ID));
        r.resource_properties = serde_json::json!({ "ServiceToken": "x", "CodeVersion": new });
        r.old_resource_properties = serde_json::json!({ "ServiceToken": "x", "CodeVersion": old });
        r
    }

    #[test]
    fn the_budget_is_the_deadline_less_the_margin_unless_the_deadline_is_not_real() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(
            budget(now + Duration::from_secs(300), now),
            Duration::from_secs(285)
        );
        assert_eq!(budget(now + Duration::from_secs(10), now), Duration::ZERO);
        assert_eq!(budget(now - Duration::from_secs(1), now), Duration::ZERO);
        // A constant from an emulator (600000 ms after the epoch) is no deadline.
        let emulator = SystemTime::UNIX_EPOCH + Duration::from_millis(600_000);
        assert_eq!(budget(emulator, now), NO_DEADLINE_BUDGET);
    }

    #[test]
    fn a_rollback_is_the_same_functions_version_going_down() {
        let arn = |n: u32| {
            format!("arn:aws:lambda:eu-west-1:123456789012:function:gomomo-MigrateFunction-Ab1:{n}")
        };
        // Numbers, not text: 10 follows 9.
        assert_eq!(
            rollback_versions(&update(arn(9).into(), arn(10).into())),
            Some((10, 9))
        );
        assert_eq!(
            rollback_versions(&update(arn(10).into(), arn(9).into())),
            None
        );
        assert_eq!(
            rollback_versions(&update("3".into(), "12".into())),
            Some((12, 3))
        );
        assert_eq!(
            rollback_versions(&update(3.into(), 12.into())),
            Some((12, 3))
        );
        // Not certainly a rollback: the migrations run.
        for (new, old) in [
            (arn(4), arn(4)),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:other:1".to_string(),
                arn(5),
            ),
            (
                format!(
                    "{}:$LATEST",
                    "arn:aws:lambda:eu-west-1:123456789012:function:f"
                ),
                arn(5),
            ),
            ("".to_string(), arn(5)),
        ] {
            assert_eq!(
                rollback_versions(&update(new.clone().into(), old.into())),
                None,
                "{new}"
            );
        }
        let mut no_old = update(arn(1).into(), Value::Null);
        no_old.old_resource_properties = Value::Null;
        assert_eq!(rollback_versions(&no_old), None);
        let mut create = update(arn(1).into(), arn(2).into());
        create.request_type = RequestType::Create;
        assert_eq!(rollback_versions(&create), None);
    }

    #[test]
    fn an_unreadable_request_is_answered_failed_with_the_ids_it_carries() {
        let body = unreadable_request_response(
            &serde_json::json!({ "RequestType": "Bogus", "RequestId": "r-9", "StackId": 5 }),
            "unknown variant",
        );
        assert_eq!(body.status, Status::Failed);
        assert_eq!(body.request_id, "r-9");
        assert_eq!(body.stack_id, "");
        assert_eq!(body.physical_resource_id, PHYSICAL_RESOURCE_ID);
        assert!(body.reason.contains("unknown variant"), "{}", body.reason);
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
