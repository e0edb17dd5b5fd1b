//! Crafted workbooks (`tests/fixtures/*.xlsx`, written by `scripts/make_xlsx_bombs.py`) posted
//! to the import. Each upload runs in a child process under an address-space limit
//! (`prlimit --as`): the child is this test binary again, running only
//! [`child_posts_one_workbook`] with the fixture named in its environment. A reader that sizes
//! anything from what the file declares makes the child abort, not the test runner; the
//! parent asserts that the child exited normally and that the answer was the expected 4xx,
//! and that nothing was imported.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use axum::body::Body;
use axum::http::Request;
use gomomo::services::admin::{seed_demo, DEMO_TENANT_ID};
use gomomo::services::Clock;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use support::{app, march_2_8am};
use tower::ServiceExt;

/// Set in the child only: the fixture to post.
const CHILD_FIXTURE: &str = "GOMOMO_TEST_XLSX_FIXTURE";
/// The database the parent's test runs on (its name; the server is `DATABASE_URL`'s).
const CHILD_DB: &str = "GOMOMO_TEST_XLSX_DB";
/// The tenant key to post with.
const CHILD_KEY: &str = "GOMOMO_TEST_XLSX_KEY";
/// The line the child prints its answer on.
const ANSWER: &str = "xlsx-child-answer ";
/// The child's address-space limit. The import itself needs a few MB; the runtime, the
/// database pool and the test harness fit well within it.
const CHILD_MEMORY: u64 = 1024 * 1024 * 1024;

/// The child's role: post the fixture through the real router and print the answer.
/// Without [`CHILD_FIXTURE`] (a normal test run) it does nothing.
#[test]
fn child_posts_one_workbook() {
    let Ok(fixture) = std::env::var(CHILD_FIXTURE) else {
        return;
    };
    let db = std::env::var(CHILD_DB).unwrap();
    let key = std::env::var(CHILD_KEY).unwrap();
    let url = std::env::var("DATABASE_URL").unwrap();
    let body = std::fs::read(&fixture).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = rt.block_on(async {
        let opts = PgConnectOptions::from_str(&url).unwrap().database(&db);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .unwrap();
        let app = app(pool, Clock::fixed(march_2_8am()), &[]);
        let req = Request::builder()
            .method("POST")
            .uri(format!(
                "/api/admin/tenants/{DEMO_TENANT_ID}/appointments.xlsx"
            ))
            .header("authorization", format!("Bearer {key}"))
            .header(
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            .body(Body::from(body))
            .unwrap();
        let res = app.oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        json!({"status": status, "body": body})
    });
    println!("{ANSWER}{answer}");
}

/// Runs [`child_posts_one_workbook`] on `fixture` under [`CHILD_MEMORY`]; its answer.
fn post_in_child(pool: &PgPool, key: &str, fixture: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    assert!(path.is_file(), "missing fixture {}", path.display());
    let db = pool.connect_options().get_database().unwrap().to_string();
    let out = Command::new("prlimit")
        .arg(format!("--as={CHILD_MEMORY}"))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_posts_one_workbook",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_FIXTURE, &path)
        .env(CHILD_DB, db)
        .env(CHILD_KEY, key)
        .output()
        .expect("prlimit (util-linux) runs the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{fixture}: the child died ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once(ANSWER).map(|(_, a)| a))
        .unwrap_or_else(|| panic!("{fixture}: no answer from the child:\n{stdout}\n{stderr}"));
    serde_json::from_str(line).unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn crafted_workbooks_are_refused_within_a_memory_limit(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.clone();
    let counts = || {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (i64, i64, i64)>(
                "SELECT (SELECT count(*) FROM appointments), (SELECT count(*) FROM audit_log),
                        (SELECT count(*) FROM sync_dead_letter)",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = counts().await;

    for (fixture, status, code) in [
        // A1 and XFD1048576: the row limit is met first.
        ("far_cells.xlsx", 400, "too_many_rows"),
        // XFD5001: within the rows, past the columns.
        ("wide_cells.xlsx", 413, "payload_too_large"),
        // uniqueCount="1000000000000".
        ("string_count.xlsx", 413, "payload_too_large"),
        // 80 MB of sheet XML: inflated only up to the limit.
        ("zip_bomb.xlsx", 413, "payload_too_large"),
        // The same declared as 1 KB: refused as damaged once it inflates past its claim.
        ("zip_bomb_understated.xlsx", 400, "invalid_xlsx"),
    ] {
        let pool2 = pool.clone();
        let key2 = key.clone();
        let answer =
            tokio::task::spawn_blocking(move || post_in_child(&pool2, key2.as_str(), fixture))
                .await
                .unwrap();
        assert_eq!(answer["status"], status, "{fixture}: {answer}");
        assert_eq!(answer["body"]["error"]["code"], code, "{fixture}: {answer}");
        assert!(
            answer["body"]["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{fixture}: {answer}"
        );
    }

    assert_eq!(counts().await, before, "nothing imported");
}
