//! The chat socket protocol ([`ChatSession`]) over an in-process sink, as the standalone
//! `/ws` runs it, on a real Postgres with the deterministic engine.
#![allow(clippy::unwrap_used)]

mod support;

use gomomo::db::chat as chat_db;
use gomomo::domain::TenantId;
use gomomo::services::agent::{Agent, AgentLimits, ServerMessage};
use gomomo::services::chat_session::{placeholder_session, ChatSession, Connection};
use gomomo::services::{admin, sessions, BookingService, Clock};
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
    /// The issued session the connection is bound to.
    sid: String,
}

impl Socket {
    /// A recorded connection of the demo tenant bound to a session issued for it.
    async fn open(pool: PgPool) -> Self {
        let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
        let booking = BookingService::new(
            pool.clone(),
            Clock::fixed(december_7_8am()),
            std::time::Duration::from_secs(300),
        );
        let session = sessions::issue(&pool, tenant).await.unwrap();
        chat_db::put_connection(&pool, "local-1", tenant.0, session.as_str(), "local")
            .await
            .unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            chat: ChatSession::new(Agent::rules(booking, AgentLimits::default())),
            conn: Connection {
                id: "local-1".into(),
                tenant: Some(tenant),
                session: Some(session.clone()),
            },
            tenant,
            tx,
            rx,
            pool,
            sid: session.as_str().to_string(),
        }
    }

    /// Another session issued for the tenant.
    async fn issue(&self) -> String {
        sessions::issue(&self.pool, self.tenant)
            .await
            .unwrap()
            .as_str()
            .to_string()
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
    // sessions the server did not issue are refused, whatever they look like
    for chosen in [
        "has space",
        "web-1",
        "call:CA0123456789abcdef0123456789abcdef",
        "gs_madeup",
    ] {
        let m = s.message(chosen, "hi");
        let f = s.send(m).await;
        assert_eq!(types(&f), ["error"], "{chosen}");
        assert_eq!(f[0]["code"], "session_not_found", "{chosen}");
    }

    // a turn: typing, working, the reply, typing off, idle
    let m = s.message(&s.sid.clone(), "I'd like to book a consultation");
    let f = s.send(m).await;
    assert_eq!(
        types(&f),
        ["typing", "status", "assistant_message", "typing", "status"]
    );
    assert!(f[2]["text"].as_str().unwrap().contains("What day"), "{f:?}");

    // a message for another issued session moves the connection there
    let web2 = s.issue().await;
    let m = s.message(&web2, "hello");
    assert_eq!(s.send(m).await[2]["session_id"], web2.as_str());
    let row = chat_db::get_connection(&s.pool, "local-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.session_id, web2);

    // hello: connected, the conversation so far, then the session's pending push, once
    sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, $3, 'waitlist_match', '{}')")
        .bind(uuid::Uuid::new_v4())
        .bind(s.tenant.0)
        .bind(&web2)
        .execute(&s.pool)
        .await
        .unwrap();
    let hello = json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": web2});
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
    let m = s.message(&s.sid.clone(), "   ");
    let f = s.send(m).await;
    assert_eq!(f[2]["code"], "invalid_message");
    assert_eq!(f[2]["message"], "the message is empty");

    // a busy session
    let busy = s.issue().await;
    sqlx::query("INSERT INTO chat_sessions (tenant_id, id, busy_until) VALUES ($1, $2, now() + interval '1 minute')")
        .bind(s.tenant.0)
        .bind(&busy)
        .execute(&s.pool)
        .await
        .unwrap();
    let m = s.message(&busy, "hi");
    let f = s.send(m).await;
    assert_eq!(types(&f), ["typing", "status", "error", "typing", "status"]);
    assert_eq!(f[2]["code"], "session_busy");

    // a failure on our side: the database refuses to store the turn
    sqlx::query("DROP TABLE chat_messages CASCADE")
        .execute(&s.pool)
        .await
        .unwrap();
    let m = s.message(&s.sid.clone(), "hello");
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

#[sqlx::test(migrations = "../migrations")]
async fn a_hello_without_an_issued_session_is_issued_one(pool: PgPool) {
    let mut s = Socket::open(pool).await;
    // a fresh connection sits on a placeholder, which is never used for a turn
    s.conn.session = placeholder_session();
    let hello = json!({"action": "hello", "tenant_id": s.tenant.to_string()});
    let f = s.send(hello).await;
    assert_eq!(types(&f), ["session", "status", "history"], "{f:?}");
    let issued = f[0]["session_id"].as_str().unwrap().to_string();
    assert!(issued.starts_with("gs_") && issued.len() == 46, "{issued}");
    assert_eq!(f[1]["session_id"], issued.as_str());
    assert!(sessions::accept(&s.pool, s.tenant, &issued).await.is_ok());
    let row = chat_db::get_connection(&s.pool, "local-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.session_id, issued);

    // a hello naming a session the server never issued (or a call's) gets a new one
    for chosen in ["web-lee", "call:CA0123456789abcdef0123456789abcdef"] {
        let hello =
            json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": chosen});
        let f = s.send(hello).await;
        assert_eq!(types(&f), ["session", "status", "history"], "{chosen}");
        assert_ne!(f[0]["session_id"], chosen);
        assert_ne!(f[0]["session_id"], issued.as_str());
    }

    // another tenant's session is not this tenant's
    let other = TenantId(uuid::Uuid::new_v4());
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'Other', 'UTC')")
        .bind(other.0)
        .execute(&s.pool)
        .await
        .unwrap();
    let theirs = sessions::issue(&s.pool, other).await.unwrap();
    let m = s.message(theirs.as_str(), "hi");
    assert_eq!(s.send(m).await[0]["code"], "session_not_found");
    let hello = json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": theirs.as_str()});
    let f = s.send(hello).await;
    assert_eq!(f[0]["type"], "session");
    assert_ne!(f[0]["session_id"], theirs.as_str());

    // an issued session is continued as it is
    let hello = json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": issued});
    let f = s.send(hello).await;
    assert_eq!(types(&f), ["status", "history"]);
    assert_eq!(f[0]["session_id"], issued.as_str());

    // a first message without a session on a fresh connection is issued one too
    s.conn.session = placeholder_session();
    let f = s
        .send(json!({"action": "message", "tenant_id": s.tenant.to_string(), "text": "hi"}))
        .await;
    assert_eq!(f[0]["type"], "session", "{f:?}");
    assert_eq!(f[3]["type"], "assistant_message", "{f:?}");
    assert_eq!(f[3]["session_id"], f[0]["session_id"]);
}

/// The language over the socket: `status: connected` names the tenant's languages and the
/// chat's; a hello in Spanish is answered in Spanish, a message chosen in Spanish is replied
/// to in Spanish, and a language the service does not speak is an `invalid_locale` frame.
#[sqlx::test(migrations = "../migrations")]
async fn the_socket_speaks_the_language_the_client_chose(pool: PgPool) {
    let mut s = Socket::open(pool.clone()).await;
    let hello = json!({"action": "hello", "tenant_id": s.tenant.to_string(), "session_id": s.sid});
    // An English-only tenant: English, whatever is asked.
    let mut asked = hello.clone();
    asked["locale"] = json!("es");
    let f = s.send(asked.clone()).await;
    assert_eq!(
        (f[0]["languages"].clone(), f[0]["locale"].clone()),
        (json!(["en"]), json!("en"))
    );

    gomomo::db::tenants::set_languages(
        &pool,
        s.tenant.0,
        &[gomomo::domain::Locale::En, gomomo::domain::Locale::Es],
    )
    .await
    .unwrap();
    let f = s.send(hello).await;
    assert_eq!(
        (f[0]["languages"].clone(), f[0]["locale"].clone()),
        (json!(["en", "es"]), json!("en"))
    );
    let f = s.send(asked).await;
    assert_eq!(f[0]["locale"], "es", "{f:?}");

    let mut m = s.message(&s.sid.clone(), "1");
    m["locale"] = json!("es");
    let f = s.send(m).await;
    let reply = f.iter().find(|x| x["type"] == "assistant_message").unwrap();
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .contains("¿Qué desea hacer?"),
        "{reply}"
    );

    let mut bad = s.message(&s.sid.clone(), "hola");
    bad["locale"] = json!("fr");
    let f = s.send(bad).await;
    assert_eq!(
        (types(&f), f[0]["code"].clone()),
        (vec!["error"], json!("invalid_locale"))
    );
}
