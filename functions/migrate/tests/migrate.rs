//! The migrations custom resource end to end: a real Postgres, and a local server standing
//! in for CloudFormation's response URL that records every request it receives.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use gomomo::config::{Config, Role};
use gomomo_migrate::Migrator;
use serde_json::{json, Value};
use sqlx::PgPool;

/// (path, query, content type, body) of each request the stand-in received.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>, Value)>>>;

async fn response_server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = axum::Router::new()
        .fallback(
            |State(seen): State<Seen>,
             uri: Uri,
             RawQuery(query): RawQuery,
             headers: HeaderMap,
             body: Bytes| async move {
                let content_type = headers
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_string());
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                seen.lock()
                    .unwrap()
                    .push((uri.path().to_string(), query, content_type, body));
                StatusCode::OK
            },
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn config(database_url: &str) -> Config {
    Config::from_lookup_for(Role::Migrate, |k| {
        (k == "DATABASE_URL").then(|| database_url.to_string())
    })
    .unwrap()
}

/// A URL to the test's own (empty) database.
fn url_of(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

fn event(kind: &str, response_url: &str) -> Value {
    json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:migrate",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/gomomo/1",
        "RequestId": format!("req-{kind}"),
        "ResourceType": "Custom::DatabaseMigrations",
        "LogicalResourceId": "DatabaseMigrations",
        "ResourceProperties": { "ServiceToken": "x", "CodeVersion": "1" }
    })
}

async fn tables(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('tenants', '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn create_applies_the_migrations_and_answers_at_the_response_url(pool: PgPool) {
    let (base, seen) = response_server().await;
    let migrator = Migrator::new(Ok(config(&url_of(&pool))));
    assert_eq!(tables(&pool).await, 0);

    let url = format!("{base}/cfn/response?X-Amz-Signature=sig1");
    let out = migrator.handle(event("Create", &url)).await.unwrap();
    assert_eq!(out["status"], "SUCCESS");
    assert_eq!(tables(&pool).await, 2, "the schema exists after Create");

    // An update with nothing new succeeds; Delete leaves the schema alone.
    migrator.handle(event("Update", &url)).await.unwrap();
    migrator.handle(event("Delete", &url)).await.unwrap();
    assert_eq!(tables(&pool).await, 2, "Delete keeps the data");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "one answer per request, nothing else");
    for (path, query, content_type, body) in &seen {
        assert_eq!(path, "/cfn/response");
        assert_eq!(query.as_deref(), Some("X-Amz-Signature=sig1"));
        assert_eq!(content_type.as_deref(), Some(""));
        assert_eq!(body["Status"], "SUCCESS", "{body}");
        assert_eq!(
            body["PhysicalResourceId"],
            gomomo_migrate::PHYSICAL_RESOURCE_ID
        );
        assert_eq!(body["LogicalResourceId"], "DatabaseMigrations");
    }
    assert_eq!(seen[0].3["RequestId"], "req-Create");
    assert_eq!(seen[2].3["RequestId"], "req-Delete");
}

#[tokio::test]
async fn a_failure_is_answered_failed_instead_of_leaving_the_stack_waiting() {
    let (base, seen) = response_server().await;
    // Nothing listens on port 9 of the loopback address.
    let migrator = Migrator::new(Ok(config("postgres://nobody@127.0.0.1:9/none")));
    let url = format!("{base}/r");
    let out = migrator.handle(event("Create", &url)).await.unwrap();
    assert_eq!(out["status"], "FAILED");
    let bad_config = Migrator::new(Config::from_lookup_for(Role::Migrate, |_| None));
    bad_config.handle(event("Update", &url)).await.unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].3["Status"], "FAILED");
    assert!(
        seen[0].3["Reason"]
            .as_str()
            .unwrap()
            .contains("cannot connect to Postgres"),
        "{}",
        seen[0].3
    );
    assert_eq!(seen[1].3["Status"], "FAILED");
    assert!(
        seen[1].3["Reason"]
            .as_str()
            .unwrap()
            .contains("DATABASE_URL"),
        "{}",
        seen[1].3
    );
}

#[tokio::test]
async fn a_response_url_that_is_not_https_or_loopback_is_never_contacted() {
    let migrator = Migrator::new(Ok(config("postgres://nobody@127.0.0.1:9/none")));
    let e = migrator
        .handle(event("Delete", "http://169.254.169.254/latest"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("response URL"), "{e}");
}
