//! The conversation so far on `hello`: after a reload the widget gets what was said (from
//! Postgres, never from process memory), and a session opened from a handoff link says
//! which call it continues, without the context note written for the model.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Duration;
use gomomo::db::{chat as chat_db, handoff as handoff_db};
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::agent::{Agent, AgentLimits, ServerMessage};
use gomomo::services::chat_session::{ChatSession, Connection};
use gomomo::services::handoff::{
    seed_chat_session, HandoffContext, TranscriptLine, CONTEXT_NOTE_PREFIX,
};
use gomomo::services::{admin, sessions, BookingService, Clock};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::december_7_8am;
use tokio::sync::mpsc;

struct Client {
    chat: ChatSession,
    tenant: TenantId,
    pool: PgPool,
}

impl Client {
    async fn new(pool: PgPool) -> Self {
        let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
        let booking = BookingService::new(
            pool.clone(),
            Clock::fixed(december_7_8am()),
            std::time::Duration::from_secs(300),
        );
        Self {
            chat: ChatSession::new(Agent::rules(booking, AgentLimits::default())),
            tenant,
            pool,
        }
    }

    /// A fresh connection (as a reload opens one: a new session until the hello), recorded
    /// like the transports record it; then `frames` sent on it. The server frames, as JSON.
    async fn connect_and_send(&self, conn_id: &str, frames: &[Value]) -> Vec<Value> {
        let fresh = SessionId::parse(&format!("pending-{conn_id}")).unwrap();
        chat_db::put_connection(&self.pool, conn_id, self.tenant.0, fresh.as_str(), "local")
            .await
            .unwrap();
        let mut conn = Connection {
            id: conn_id.into(),
            tenant: Some(self.tenant),
            session: Some(fresh),
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<ServerMessage>();
        for f in frames {
            self.chat
                .handle_frame(&mut conn, &f.to_string(), &tx)
                .await
                .unwrap();
        }
        let mut out = Vec::new();
        while let Ok(m) = rx.try_recv() {
            out.push(serde_json::from_str(&m.to_frame()).unwrap());
        }
        out
    }

    fn hello(&self, session: &str) -> Value {
        json!({"action": "hello", "tenant_id": self.tenant.to_string(), "session_id": session})
    }

    fn message(&self, session: &str, text: &str) -> Value {
        json!({"action": "message", "tenant_id": self.tenant.to_string(), "session_id": session, "text": text})
    }
}

fn lines(history: &Value) -> Vec<(String, String)> {
    history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reload_gets_the_conversation_so_far(pool: PgPool) {
    let c = Client::new(pool).await;
    // a first page: hello without a session is issued one, then two turns
    let f = c
        .connect_and_send(
            "local-a",
            &[json!({"action": "hello", "tenant_id": c.tenant.to_string()})],
        )
        .await;
    assert_eq!(f[0]["type"], "session");
    let r1 = f[0]["session_id"].as_str().unwrap().to_string();
    let f = &f[1..];
    assert_eq!(f[0]["type"], "status");
    assert_eq!(f[0]["state"], "connected");
    assert_eq!(f[1]["type"], "history");
    assert_eq!(f[1]["session_id"], r1.as_str());
    assert_eq!(f[1]["messages"], json!([]));
    assert!(f[1].get("continues").is_none());
    c.connect_and_send(
        "local-a",
        &[
            c.message(&r1, "I'd like to book a consultation"),
            c.message(&r1, "tomorrow"),
        ],
    )
    .await;

    // WHEN the page reloads: a new connection says hello with the stored session
    let f = c.connect_and_send("local-b", &[c.hello(&r1)]).await;
    let types: Vec<&str> = f.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["status", "history"]);
    // THEN the history is the conversation, in order, roles as the person saw them
    let got = lines(&f[1]);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0],
        ("user".into(), "I'd like to book a consultation".into())
    );
    assert_eq!(got[1].0, "assistant");
    assert!(got[1].1.contains("What day"), "{got:?}");
    assert_eq!(got[2], ("user".into(), "tomorrow".into()));
    assert!(got[3].1.contains("open times"), "{got:?}");
    // and the connection now follows that session
    let row = chat_db::get_connection(&c.pool, "local-b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.session_id, r1);

    // another tenant's hello for the same session id sees nothing of it
    let f = c
        .connect_and_send(
            "local-c",
            &[json!({"action": "hello", "tenant_id": "6d0e0000-0000-4000-8000-0000000000ff", "session_id": r1})],
        )
        .await;
    assert_eq!(f[0]["code"], "tenant_mismatch");
    assert_eq!(f.len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_handoff_session_says_it_continues_the_call(pool: PgPool) {
    let c = Client::new(pool).await;
    let now = december_7_8am();
    let ctx = HandoffContext {
        channel: "voice".into(),
        intent: Some("book an appointment".into()),
        service_name: Some("Follow-up Visit".into()),
        client_name: Some("Ana Lopez".into()),
        transcript: vec![
            TranscriptLine {
                speaker: "caller".into(),
                text: "I'd like to book a follow-up visit".into(),
            },
            TranscriptLine {
                speaker: "agent".into(),
                text: "Sure — which day works for you?".into(),
            },
        ],
        ..Default::default()
    };
    // a redeemed link: the token row points at the chat session it opened
    handoff_db::insert(
        &c.pool,
        &handoff_db::NewToken {
            id: "tok-0123456789abcdef",
            tenant_id: c.tenant.0,
            purpose: "voice_handoff",
            call_sid: None,
            phone: Some("+15555550123"),
            context: &serde_json::to_value(&ctx).unwrap(),
            created_at: now,
            expires_at: now + Duration::minutes(15),
        },
    )
    .await
    .unwrap();
    let issued = sessions::new_token();
    let session = issued.as_str();
    gomomo::db::sessions::insert(&c.pool, c.tenant.0, session)
        .await
        .unwrap();
    assert!(
        handoff_db::consume(&c.pool, "tok-0123456789abcdef", session, now)
            .await
            .unwrap()
            .is_some()
    );
    seed_chat_session(&c.pool, c.tenant.0, session, Some("+15555550123"), &ctx)
        .await
        .unwrap();

    let f = c.connect_and_send("local-h", &[c.hello(session)]).await;
    assert_eq!(f[1]["type"], "history");
    assert_eq!(f[1]["continues"], "voice");
    let got = lines(&f[1]);
    // the call's words and the welcome; the note written for the model is left out
    assert!(
        !got.iter().any(|(_, t)| t.starts_with(CONTEXT_NOTE_PREFIX)),
        "{got:?}"
    );
    assert_eq!(
        got[0],
        ("user".into(), "I'd like to book a follow-up visit".into())
    );
    assert_eq!(got[1].0, "assistant");
    assert!(got.last().unwrap().1.contains("Welcome back"), "{got:?}");
    assert!(got.last().unwrap().1.contains("Follow-up Visit"), "{got:?}");

    // the model still reads the context note: it is stored, only not shown
    let stored = chat_db::recent_messages(&c.pool, c.tenant.0, session, 40)
        .await
        .unwrap();
    assert!(stored[0]["content"]
        .as_str()
        .unwrap()
        .starts_with(CONTEXT_NOTE_PREFIX));

    // a session that merely looks like a handoff's (no token opened it) continues nothing
    let f = c
        .connect_and_send("local-i", &[c.hello("handoff-not-a-real-one")])
        .await;
    assert!(f[1].get("continues").is_none(), "{:?}", f[1]);
}
