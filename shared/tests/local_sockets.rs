//! `gomomo serve`'s socket rows in Postgres: each process keeps its own fresh and sweeps
//! those of stopped servers, never another live one's.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use gomomo::app::local::{stale_after, LocalSockets};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn upkeep_keeps_live_rows_and_removes_those_of_stopped_servers(pool: PgPool) {
    let tenant = uuid::Uuid::new_v4();
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();
    let (here, there) = (LocalSockets::new(), LocalSockets::new());
    let api = "https://abc.execute-api.eu-west-1.amazonaws.com/prod";
    // (connection, endpoint, seconds since it was last seen)
    let rows = [
        ("mine", here.endpoint(), 3600),
        ("live-elsewhere", there.endpoint(), 60),
        ("killed", "local:0b6f1c2e-dead-4222-8333-444455556666", 3600),
        ("before-process-ids", "local", 3600),
        ("api-gateway", api, 3600),
    ];
    for (id, endpoint, age) in rows {
        sqlx::query(
            "INSERT INTO ws_connections (connection_id, tenant_id, session_id, endpoint, last_seen_at)
             VALUES ($1, $2, 's', $3, now() - make_interval(secs => $4))",
        )
        .bind(id)
        .bind(tenant)
        .bind(endpoint)
        .bind(f64::from(age))
        .execute(&pool)
        .await
        .unwrap();
    }
    let ages = || async {
        sqlx::query_as::<_, (String, f64)>(
            "SELECT connection_id, extract(epoch FROM now() - last_seen_at)::float8
               FROM ws_connections ORDER BY connection_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };

    let stale = stale_after(Duration::from_secs(30));
    assert_eq!(here.upkeep(&pool, stale).await.unwrap(), (1, 2));
    let left = ages().await;
    let ids: Vec<&str> = left.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["api-gateway", "live-elsewhere", "mine"]);
    assert!(left[2].1 < 5.0, "this process's row is seen now: {left:?}");
    assert!(
        left[1].1 >= 60.0,
        "another's row is its own to touch: {left:?}"
    );

    // The other live process keeps its row and leaves ours alone.
    assert_eq!(there.upkeep(&pool, stale).await.unwrap(), (1, 0));
    let ids: Vec<String> = ages().await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["api-gateway", "live-elsewhere", "mine"]);
}
