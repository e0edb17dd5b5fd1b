//! `gomomo status` as a command: the real binary against a migrated test database, its
//! table, its `--json` and its exit code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use sqlx::PgPool;
use uuid::Uuid;

/// `DATABASE_URL` with its database replaced by the test's own.
async fn url_of(pool: &PgPool) -> String {
    let db: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{db}")
}

fn status(url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gomomo"))
        .arg("status")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn status_exits_2_while_something_is_undelivered(pool: PgPool) {
    let url = url_of(&pool).await;
    let tenant = Uuid::new_v4();
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();

    let (code, out) = status(&url, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines().any(|l| l.split_whitespace().eq(["TOTAL", "0"])),
        "{out}"
    );

    // A notification queued an hour ago that nothing sent.
    sqlx::query(
        "INSERT INTO notification_outbox (id, tenant_id, channel, kind, recipient, body,
                                          idempotency_key, created_at, next_attempt_at)
         VALUES ($1, $2, 'email', 'reminder_24h', 'a@example.com', 'hi', 'k',
                 now() - interval '1 hour', now() - interval '1 hour')",
    )
    .bind(Uuid::new_v4())
    .bind(tenant)
    .execute(&pool)
    .await
    .unwrap();
    let (code, out) = status(&url, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&tenant.to_string()), "{out}");
    let (code, out) = status(&url, &["--json"]);
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["undelivered"], 1);
    assert_eq!(v["tenants"][0]["tenant_id"], tenant.to_string());
    assert_eq!(v["tenants"][0]["overdue"], 1);
}
