//! The chat socket protocol ([`ChatSession`]) over an in-process sink, as the standalone
//! `/ws` runs it, on a real Postgres with the deterministic engine.
#![allow(clippy::unwrap_used)]

mod support;

use gomomo::db::chat as chat_db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::agent::{Agent, AgentLimits, ServerMessage};
use gomomo::services::chat_session::{ChatSession, Connection};
use gomomo::services::{admin, BookingService, Clock};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::december_7_8am;
use tokio::sync::mpsc;

struct Socket {
    chat: ChatSession,
    conn: Connection,
    tenant: TenantId,
    tx: mpsc::UnboundedSender<ServerMessage>,
    rx: mpsc::UnboundedReceiver<ServerMessage>,
    pool: PgPool,
}

impl Socket {
    /// A recorded connection of the demo tenant bound to `web-1`.
    async fn open(pool: PgPool) -> Self {
        let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
        let booking = BookingService::new(
            pool.clone(),
            Clock::fixed(december_7_8am()),
            std::time::Duration::from_secs(300),
        );
        let session = SessionId::parse("web-1").unwrap();
        chat_db::put_connection(&pool, "local-1", tenant.0, session.as_str(), "local")
            .await
            .unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            chat: ChatSession::new(Agent::rules(booking, AgentLimits::default())),
            conn: Connection {
                id: "local-1".into(),
                tenant: Some(tenant),
                session: Some(session),
            },
            tenant,
            tx,
            rx,
            pool,
        }
    }

    /// Sends one client frame; returns the server frames it produced, as JSON.
    async fn send(&mut self, frame: Value) -> Vec<Value> {
        self.chat
            .handle_frame(&mut self.conn, &frame.to_string(), &self.tx)
            .await
            .unwrap();
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            out.push(serde_json::from_str(&m.to_frame()).unwrap());
        }
        out
    }

    fn message(&self, session: &str, text: &str) -> Value {
        json!({"action": "message", "tenant_id": self.tenant.to_string(), "session_id": session, "text": text})
    }
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_turn_a_session_switch_and_client_mistakes(pool: PgPool) {
    let mut s = Socket::open(pool).await;
    assert_eq!(types(&s.send(json!({"action": "ping"})).await), ["pong"]);
    let f = s.send(json!({"action": "dance"})).await;
    assert_eq!(f[0]["code"], "invalid_message");
    let f = s
        .send(json!({"action": "message", "tenant_id": "6d0e0000-0000-4000-8000-0000000000ff", "text": "hi"}))
        .await;
    assert_eq!(f[0]["code"], "tenant_mismatch");
    let m = s.message("has space", "hi");
    assert_eq!(s.send(m).await[0]["code"], "invalid_session_id");

    // a turn: typing, working, the reply, typing off, idle
    let m = s.message("web-1", "I'd like to book a consultation");
    let f = s.send(m).await;
    assert_eq!(
        types(&f),
        ["typing", "status", "assistant_message", "typing", "status"]
    );
    assert!(f[2]["text"].as_str().unwrap().contains("What day"), "{f:?}");

    // a message for another session moves the connection there
    let m = s.message("web-2", "hello");
    assert_eq!(s.send(m).await[2]["session_id"], "web-2");
    let row = chat_db::get_connection(&s.pool, "local-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.session_id, "web-2");

    // hello: connected, the conversation so far, then the session's pending push, once
    sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, 'web-2', 'waitlist_match', '{}')")
        .bind(uuid::Uuid::new_v4())
        .bind(s.tenant.0)
        .execute(&s.pool)
        .await
        .unwrap();
    let hello =
        json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": "web-2"});
    let f = s.send(hello.clone()).await;
    assert_eq!(types(&f), ["status", "history", "push"]);
    assert_eq!(f[1]["messages"][0]["text"], "hello");
    assert_eq!(f[2]["push_type"], "waitlist_match");
    assert_eq!(types(&s.send(hello).await), ["status", "history"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn failed_turns_are_told_by_code_never_by_their_cause(pool: PgPool) {
    let mut s = Socket::open(pool).await;
    // an input error keeps its own message
    let m = s.message("web-1", "   ");
    let f = s.send(m).await;
    assert_eq!(f[2]["code"], "invalid_message");
    assert_eq!(f[2]["message"], "the message is empty");

    // a busy session
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, busy_until) VALUES ($1, 'web-busy', now() + interval '1 minute')")
        .bind(s.tenant.0)
        .execute(&s.pool)
        .await
        .unwrap();
    let m = s.message("web-busy", "hi");
    let f = s.send(m).await;
    assert_eq!(types(&f), ["typing", "status", "error", "typing", "status"]);
    assert_eq!(f[2]["code"], "session_busy");

    // a failure on our side: the database refuses to store the turn
    sqlx::query("DROP TABLE chat_messages CASCADE")
        .execute(&s.pool)
        .await
        .unwrap();
    let m = s.message("web-1", "hello");
    let f = s.send(m).await;
    assert_eq!(f[2]["type"], "error", "{f:?}");
    assert_eq!(f[2]["code"], "internal_error");
    assert_eq!(
        f[2]["message"],
        "something went wrong on our side; nothing was changed"
    );
    assert!(
        !f[2].to_string().contains("chat_messages"),
        "no internal detail reaches the client: {}",
        f[2]
    );
}
