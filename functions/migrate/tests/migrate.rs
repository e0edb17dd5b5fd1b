//! The migrations custom resource end to end: a real Postgres, and a local server standing
//! in for CloudFormation's response URL that records every request it receives.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use gomomo::config::{Config, Role};
use gomomo_migrate::{Migrator, ANSWER_MARGIN};
use serde_json::{json, Value};
use sqlx::PgPool;

/// (path, query, content type, body) of each request the stand-in received.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>, Value)>>>;

async fn response_server() -> (String, Seen) {
    recording_server(None).await
}

/// A recording server; with `redirect_to`, it answers every request with a redirect there.
async fn recording_server(redirect_to: Option<String>) -> (String, Seen) {
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
                match redirect_to {
                    Some(to) => {
                        (StatusCode::TEMPORARY_REDIRECT, [("location", to)]).into_response()
                    }
                    None => StatusCode::OK.into_response(),
                }
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

/// A deadline as far off as the function's own timeout.
fn in_five_minutes() -> SystemTime {
    SystemTime::now() + Duration::from_secs(300)
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
    let out = migrator
        .handle(event("Create", &url), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(out["status"], "SUCCESS");
    assert_eq!(tables(&pool).await, 2, "the schema exists after Create");

    // An update with nothing new succeeds; Delete leaves the schema alone.
    migrator
        .handle(event("Update", &url), in_five_minutes())
        .await
        .unwrap();
    migrator
        .handle(event("Delete", &url), in_five_minutes())
        .await
        .unwrap();
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
    let out = migrator
        .handle(event("Create", &url), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(out["status"], "FAILED");
    let bad_config = Migrator::new(Config::from_lookup_for(Role::Migrate, |_| None));
    bad_config
        .handle(event("Update", &url), in_five_minutes())
        .await
        .unwrap();

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

/// The update event CloudFormation sends for `CodeVersion` going from `old` to `new`.
fn update(response_url: &str, old: &str, new: &str) -> Value {
    let arn = |n: &str| {
        format!("arn:aws:lambda:eu-west-1:123456789012:function:gomomo-MigrateFunction-Ab1:{n}")
    };
    let mut e = event("Update", response_url);
    e["PhysicalResourceId"] = gomomo_migrate::PHYSICAL_RESOURCE_ID.into();
    e["ResourceProperties"] = json!({ "ServiceToken": "x", "CodeVersion": arn(new) });
    e["OldResourceProperties"] = json!({ "ServiceToken": "x", "CodeVersion": arn(old) });
    e
}

#[tokio::test]
async fn a_response_url_that_is_not_https_or_loopback_is_never_contacted() {
    let (base, seen) = response_server().await;
    let port = base.rsplit(':').next().unwrap().to_string();
    // On Linux, 0.0.0.0 reaches the listeners of this machine, the recording server
    // among them, yet it is not a loopback address: the handler must refuse it unread.
    let probe = reqwest::Client::new()
        .put(format!("http://0.0.0.0:{port}/probe"))
        .send()
        .await
        .unwrap();
    assert!(probe.status().is_success());
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "the probe reached the server"
    );

    let migrator = Migrator::new(Ok(config("postgres://nobody@127.0.0.1:9/none")));
    for url in [
        format!("http://0.0.0.0:{port}/r?X-Amz-Signature=sig"),
        format!("ftp://127.0.0.1:{port}/r"),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ] {
        for kind in ["Create", "Delete"] {
            let e = migrator
                .handle(event(kind, &url), in_five_minutes())
                .await
                .unwrap_err();
            assert!(
                matches!(e, gomomo_migrate::MigrateError::ResponseUrl(_)),
                "{url}: {e}"
            );
            assert!(!e.to_string().contains("sig"), "{e}");
        }
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "nothing but the probe reached the server"
    );
}

#[tokio::test]
async fn the_answer_goes_to_the_response_url_only_and_redirects_are_not_followed() {
    let (elsewhere, elsewhere_seen) = response_server().await;
    let (base, seen) = recording_server(Some(format!("{elsewhere}/stolen"))).await;
    let migrator = Migrator::new(Ok(config("postgres://nobody@127.0.0.1:9/none")));
    let e = migrator
        .handle(event("Delete", &format!("{base}/r")), in_five_minutes())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("307"), "{e}");
    assert_eq!(seen.lock().unwrap().len(), 1, "one PUT to the response URL");
    assert!(
        elsewhere_seen.lock().unwrap().is_empty(),
        "the redirect was not followed"
    );
}

#[sqlx::test(migrations = false)]
async fn the_update_of_a_rollback_succeeds_without_migrating(pool: PgPool) {
    let (base, seen) = response_server().await;
    let migrator = Migrator::new(Ok(config(&url_of(&pool))));
    let url = format!("{base}/r");

    // Versions 10 → 9: CloudFormation rolling a failed update back. The function it
    // reaches is the new binary; its migrations must not run (here: none run at all).
    let out = migrator
        .handle(update(&url, "10", "9"), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(out["status"], "SUCCESS", "{out}");
    assert!(
        out["reason"].as_str().unwrap().contains("rollback"),
        "{out}"
    );
    assert_eq!(tables(&pool).await, 0, "a rollback migrates nothing");

    // Versions 9 → 10 (numbers, not text): a deploy, which migrates.
    let out = migrator
        .handle(update(&url, "9", "10"), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(out["status"], "SUCCESS", "{out}");
    assert_eq!(tables(&pool).await, 2, "a forward update migrates");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.3["Status"] == "SUCCESS"));
}

#[sqlx::test(migrations = false)]
async fn an_older_binary_accepts_a_schema_migrated_further(pool: PgPool) {
    let (base, seen) = response_server().await;
    let migrator = Migrator::new(Ok(config(&url_of(&pool))));
    let url = format!("{base}/r");
    migrator
        .handle(event("Create", &url), in_five_minutes())
        .await
        .unwrap();
    // A migration this binary does not have, as a newer binary would have left it.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from a newer binary', true, decode('00', 'hex'), 1)",
    )
    .execute(&pool)
    .await
    .unwrap();

    let out = migrator
        .handle(update(&url, "4", "5"), in_five_minutes())
        .await
        .unwrap();
    assert_eq!(out["status"], "SUCCESS", "{out}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[1].3["Status"], "SUCCESS", "{}", seen[1].3);
}

/// Advisory locks of sessions other than the test's own connection.
async fn advisory_locks(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = false)]
async fn a_blocked_migration_is_answered_failed_before_the_invocation_ends(pool: PgPool) {
    let (base, seen) = response_server().await;
    let migrator = Migrator::new(Ok(config(&url_of(&pool))));
    let url = format!("{base}/r");
    migrator
        .handle(event("Create", &url), in_five_minutes())
        .await
        .unwrap();

    // Another session holds the migrations table: the next run takes the migration lock,
    // then waits for the table.
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *holder)
        .await
        .unwrap();

    // Two seconds left once the margin to answer is kept.
    let started = Instant::now();
    let deadline = SystemTime::now() + ANSWER_MARGIN + Duration::from_secs(2);
    let out = migrator
        .handle(update(&url, "1", "2"), deadline)
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out["status"], "FAILED", "{out}");
    assert!(
        out["reason"].as_str().unwrap().contains("did not finish"),
        "{out}"
    );
    assert!(
        took >= Duration::from_millis(1_500) && took < Duration::from_secs(8),
        "answered after {took:?}"
    );
    let seen_now = seen.lock().unwrap().clone();
    assert_eq!(seen_now.len(), 2);
    assert_eq!(seen_now[1].3["Status"], "FAILED");

    // The abandoned session lets go of the migration lock while the table is still held.
    let mut released = false;
    for _ in 0..50 {
        if advisory_locks(&pool).await == 0 {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(released, "the migration lock is still held");
    holder.rollback().await.unwrap();

    // No time left at all: answered FAILED at once.
    let out = migrator
        .handle(event("Update", &url), SystemTime::now())
        .await
        .unwrap();
    assert_eq!(out["status"], "FAILED", "{out}");
}

#[tokio::test]
async fn an_unreadable_request_with_a_response_url_is_answered_failed() {
    let (base, seen) = response_server().await;
    let migrator = Migrator::new(Ok(config("postgres://nobody@127.0.0.1:9/none")));
    let mut e = event("Create", &format!("{base}/r"));
    e["RequestType"] = "Upgrade".into();
    let out = migrator.handle(e, in_five_minutes()).await.unwrap();
    assert_eq!(out["status"], "FAILED", "{out}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].3["Status"], "FAILED");
    assert_eq!(seen[0].3["RequestId"], "req-Create");
    assert_eq!(seen[0].3["LogicalResourceId"], "DatabaseMigrations");
    assert!(
        seen[0].3["Reason"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{}",
        seen[0].3
    );
}
