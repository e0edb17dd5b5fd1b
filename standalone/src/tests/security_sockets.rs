//! `/ws` under abuse: new sockets per client address and chat messages per conversation
//! are budgeted (a refused connection is a 429 with `Retry-After`, a refused message an
//! error frame with `retry_after`), and a socket that sends nothing is closed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::{SinkExt as _, StreamExt as _};
use gomomo::services::admin;
use gomomo::Config;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The standalone wiring through `gomomo serve`'s accept loop, with small budgets and a
/// one-second idle timeout.
async fn serve(pool: &PgPool) -> String {
    serve_with(pool, &[]).await
}

/// [`serve`] with more settings (or other values).
async fn serve_with(pool: &PgPool, more: &[(&str, &str)]) -> String {
    let more: Vec<(String, String)> = more
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_lookup(|k| {
        if let Some((_, v)) = more.iter().find(|(n, _)| n == k) {
            return Some(v.clone());
        }
        match k {
            "DATABASE_URL" => Some("postgres://unused/db".into()),
            "HOLD_SWEEP_INTERVAL_SECONDS" => Some("3600".into()),
            "BUDGET_WS_CONNECTS_PER_IP" => Some("2".into()),
            "BUDGET_CHAT_TURNS_PER_SESSION" => Some("2".into()),
            "WS_IDLE_TIMEOUT_SECONDS" => Some("1".into()),
            _ => None,
        }
    })
    .unwrap();
    let (app, runtime) = gomomo::app::App::standalone(config.clone(), pool.clone()).unwrap();
    let router = router_with(
        app.agent.clone(),
        runtime.sockets(),
        &config.telephony.public_base_url,
        Some(app.budgets.clone()),
        config.serve.socket_idle_timeout,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(crate::serve::run(
        listener,
        router,
        config.serve,
        Default::default(),
        std::future::pending(),
    ));
    // The runtime's timers stop with the test's runtime.
    std::mem::forget(runtime);
    addr.to_string()
}

/// The next frame of type `wanted` within five seconds.
async fn frame_of(ws: &mut Socket, wanted: &str) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time");
        let Some(Ok(WsMessage::Text(t))) = next else {
            panic!("socket ended waiting for {wanted}: {next:?}");
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        if v["type"] == wanted {
            return v;
        }
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn sockets_and_messages_are_budgeted_and_idle_sockets_closed(pool: PgPool) {
    let tenant = admin::seed_demo(&pool).await.unwrap().tenant_id;
    let addr = serve(&pool).await;
    let url = format!("ws://{addr}/ws?tenant_id={tenant}");
    // Two sockets from this address are accepted …
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let (mut idle, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    // … a third is refused with a time to come back.
    match tokio_tungstenite::connect_async(&url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status().as_u16(), 429);
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
        }
        other => panic!("a third socket was not refused: {:?}", other.map(|_| ())),
    }

    // Two messages of one conversation are answered, the third gets an error frame.
    let hello = json!({"action": "hello", "tenant_id": tenant.to_string()});
    ws.send(WsMessage::Text(hello.to_string().into()))
        .await
        .unwrap();
    let issued = frame_of(&mut ws, "session").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    for n in 0..3 {
        let msg = json!({"action": "message", "tenant_id": tenant.to_string(), "session_id": issued, "text": format!("hello {n}")});
        ws.send(WsMessage::Text(msg.to_string().into()))
            .await
            .unwrap();
        if n < 2 {
            frame_of(&mut ws, "assistant_message").await;
        } else {
            let e = frame_of(&mut ws, "error").await;
            assert_eq!(e["code"], "rate_limited", "{e}");
            assert!(e["retry_after"].as_u64().unwrap() >= 1, "{e}");
        }
    }

    // The socket that sent nothing was closed by the server.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match idle.next().await {
                None | Some(Err(_)) | Some(Ok(WsMessage::Close(_))) => break,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle socket stays open");
}

async fn issued_sessions(pool: &PgPool) -> i64 {
    gomomo::db::sessions::issued_summary(pool, gomomo::services::admin::DEMO_TENANT_ID)
        .await
        .unwrap()
        .0
}

#[sqlx::test(migrations = "../migrations")]
async fn hellos_get_sessions_issued_within_the_address_session_budget(pool: PgPool) {
    let tenant = admin::seed_demo(&pool).await.unwrap().tenant_id;
    let addr = serve_with(
        &pool,
        &[
            ("BUDGET_SESSIONS_PER_IP_PER_HOUR", "3"),
            ("WS_IDLE_TIMEOUT_SECONDS", "30"),
        ],
    )
    .await;
    let before = issued_sessions(&pool).await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws?tenant_id={tenant}"))
            .await
            .unwrap();
    // GIVEN one socket sending hello after hello, each naming a session never issued
    let mut issued = 0;
    let mut refused = 0;
    for n in 0..10 {
        let hello = json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": format!("gs_bogus{n}")});
        ws.send(WsMessage::Text(hello.to_string().into()))
            .await
            .unwrap();
        // Each hello is answered with a new session, or refused with `rate_limited`.
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("a frame in time");
            let Some(Ok(WsMessage::Text(t))) = next else {
                panic!("socket ended: {next:?}");
            };
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "session" {
                issued += 1;
            } else if v["type"] == "history" {
                break;
            } else if v["type"] == "error" {
                assert_eq!(v["code"], "rate_limited", "{v}");
                assert!(v["retry_after"].as_u64().unwrap() >= 1, "{v}");
                refused += 1;
                break;
            }
        }
    }
    // THEN no more sessions were issued than the address's budget
    assert_eq!(issued, 3);
    assert_eq!(refused, 7);
    assert_eq!(issued_sessions(&pool).await - before, 3);
    // AND a hello naming an issued session still works: nothing new is issued
    let known = gomomo::db::sessions::issued_summary(&pool, tenant)
        .await
        .unwrap()
        .1
        .expect("a session was issued");
    let hello = json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": known});
    ws.send(WsMessage::Text(hello.to_string().into()))
        .await
        .unwrap();
    let h = frame_of(&mut ws, "history").await;
    assert_eq!(h["session_id"], known);
    assert_eq!(issued_sessions(&pool).await - before, 3);
}
