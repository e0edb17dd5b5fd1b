//! The chat over API Gateway under abuse: new connections per client address (API
//! Gateway's `identity.sourceIp`) and messages per conversation are budgeted in Postgres.
//! A refused `$connect` is a 429 `rate_limited` with `Retry-After`; a refused message gets
//! an error frame with `retry_after` and runs no turn.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;

use gomomo::domain::TenantId;
use gomomo::services::admin;
use gomomo::services::budgets::Budgets;
use gomomo::services::Clock;
use gomomo::Config;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{chat_ws, connect, connections_server, december_7_8am, event, message, TENANT};

fn from(mut v: Value, ip: &str) -> Value {
    v["requestContext"]["identity"]["sourceIp"] = json!(ip);
    v
}

#[sqlx::test(migrations = "../../migrations")]
async fn connections_and_messages_over_budget_are_refused(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let env = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("BUDGET_WS_CONNECTS_PER_IP", "2"),
        ("BUDGET_CHAT_TURNS_PER_SESSION", "2"),
    ]);
    let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    let mut ws = chat_ws(&pool, Some(url));
    ws.budgets = Some(Budgets::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        &config,
    ));

    // Two connections from one address are accepted, the third is refused.
    for conn in ["c1", "c2"] {
        let r = ws
            .handle(event(from(
                connect(conn, json!({"tenant_id": TENANT})),
                "192.0.2.10",
            )))
            .await
            .unwrap();
        assert_eq!(r.status_code, 200);
    }
    let r = ws
        .handle(event(from(
            connect("c3", json!({"tenant_id": TENANT})),
            "192.0.2.10",
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 429);
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    let body = match r.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => t,
        other => panic!("{other:?}"),
    };
    assert!(body.contains("rate_limited"), "{body}");
    // Another address still connects.
    let r = ws
        .handle(event(from(
            connect("c4", json!({"tenant_id": TENANT})),
            "192.0.2.11",
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);

    // Two messages of one conversation run, the third gets an error frame only.
    let flood = gomomo::services::sessions::issue(&pool, TenantId::parse(TENANT).unwrap())
        .await
        .unwrap();
    for n in 0..3 {
        server.posts.lock().unwrap().clear();
        let text = json!({"action": "message", "tenant_id": TENANT, "session_id": flood.as_str(), "text": format!("hello {n}")});
        let r = ws
            .handle(event(from(message("c1", text), "192.0.2.10")))
            .await
            .unwrap();
        assert_eq!(r.status_code, 200);
        let posts = server.posts.lock().unwrap();
        let types: Vec<&str> = posts
            .iter()
            .map(|p| p.2["type"].as_str().unwrap())
            .collect();
        if n < 2 {
            assert!(types.contains(&"assistant_message"), "{types:?}");
        } else {
            assert_eq!(types, ["error"], "{posts:?}");
            assert_eq!(posts[0].2["code"], "rate_limited");
            assert!(posts[0].2["retry_after"].as_u64().unwrap() >= 1);
        }
    }
}

async fn issued_sessions(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM issued_sessions")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn hellos_get_sessions_issued_within_the_address_session_budget(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let env = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("BUDGET_SESSIONS_PER_IP_PER_HOUR", "3"),
    ]);
    let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    let mut ws = chat_ws(&pool, Some(url));
    ws.budgets = Some(Budgets::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        &config,
    ));
    let r = ws
        .handle(event(from(
            connect("h1", json!({"tenant_id": TENANT})),
            "192.0.2.30",
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    let before = issued_sessions(&pool).await;

    // GIVEN one connection sending hello after hello, each naming a session never issued
    let mut issued = 0;
    for n in 0..10 {
        server.posts.lock().unwrap().clear();
        let hello =
            json!({"action": "hello", "tenant_id": TENANT, "session_id": format!("gs_bogus{n}")});
        let r = ws
            .handle(event(from(message("h1", hello), "192.0.2.30")))
            .await
            .unwrap();
        assert_eq!(r.status_code, 200);
        let posts = server.posts.lock().unwrap();
        let types: Vec<&str> = posts
            .iter()
            .map(|p| p.2["type"].as_str().unwrap())
            .collect();
        if types.contains(&"session") {
            issued += 1;
        } else {
            // Over budget: the rate_limited error frame, nothing else.
            assert_eq!(types, ["error"], "{posts:?}");
            assert_eq!(posts[0].2["code"], "rate_limited");
            assert!(posts[0].2["retry_after"].as_u64().unwrap() >= 1);
        }
    }
    // THEN no more sessions were issued than the address's budget
    assert_eq!(issued, 3);
    assert_eq!(issued_sessions(&pool).await - before, 3);
    // AND another address is still issued one
    ws.handle(event(from(
        connect("h2", json!({"tenant_id": TENANT})),
        "192.0.2.31",
    )))
    .await
    .unwrap();
    server.posts.lock().unwrap().clear();
    ws.handle(event(from(
        message("h2", json!({"action": "hello", "tenant_id": TENANT})),
        "192.0.2.31",
    )))
    .await
    .unwrap();
    assert!(server
        .posts
        .lock()
        .unwrap()
        .iter()
        .any(|p| p.2["type"] == "session"));
    assert_eq!(issued_sessions(&pool).await - before, 4);
}
