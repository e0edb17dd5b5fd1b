//! `gomomo seed-demo` as a command: the demo tenant's owner is created once, its password
//! printed once (or taken from `DEMO_OWNER_PASSWORD`), and it signs in; in production no
//! owner is made.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use chrono::Utc;
use gomomo::services::admin::DEMO_OWNER_EMAIL;
use gomomo::services::people;
use serde_json::Value;
use sqlx::PgPool;

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

fn seed(url: &str, env: &[(&str, &str)]) -> (bool, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gomomo"))
        .arg("seed-demo")
        .env_clear()
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8(out.stderr).unwrap(),
    )
}

async fn signs_in(pool: &PgPool, password: &str) -> bool {
    people::sign_in(pool, DEMO_OWNER_EMAIL, password, None, Utc::now())
        .await
        .is_ok()
}

#[sqlx::test(migrations = "../migrations")]
async fn seed_demo_makes_an_owner_who_signs_in(pool: PgPool) {
    let url = url_of(&pool).await;
    let (ok, first, err) = seed(&url, &[]);
    assert!(ok, "{err}");
    assert_eq!(first["owner_email"], DEMO_OWNER_EMAIL);
    let minted = first["owner_password"].as_str().unwrap().to_string();
    assert!(minted.len() >= 12);
    assert!(signs_in(&pool, &minted).await);

    // Again: the same owner, the password not shown again and unchanged.
    let (ok, again, err) = seed(&url, &[]);
    assert!(ok, "{err}");
    assert!(again["owner_password"].is_null(), "{again}");
    assert!(signs_in(&pool, &minted).await);

    // A chosen password replaces it, so scripts know it.
    let chosen = "a demo owner password";
    let (ok, set, err) = seed(&url, &[("DEMO_OWNER_PASSWORD", chosen)]);
    assert!(ok, "{err}");
    assert_eq!(set["owner_password"], chosen);
    assert!(signs_in(&pool, chosen).await);
    assert!(!signs_in(&pool, &minted).await);
}

#[sqlx::test(migrations = "../migrations")]
async fn production_refuses_the_demo_owner_password(pool: PgPool) {
    let url = url_of(&pool).await;
    let (ok, _, err) = seed(
        &url,
        &[
            ("GOMOMO_ENV", "production"),
            ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
            (
                "ENCRYPTION_KEY",
                "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
            ),
            ("DEMO_OWNER_PASSWORD", "a demo owner password"),
        ],
    );
    assert!(!ok);
    assert!(err.contains("DEMO_OWNER_PASSWORD"), "{err}");
}
