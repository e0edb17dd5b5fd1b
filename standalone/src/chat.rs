//! The standalone server's chat: a real WebSocket at `/ws` speaking the same messages as
//! the API Gateway route, the widget at `/widget.js` and a demo page at `/`.
//!
//! Connections are recorded in Postgres (`ws_connections`, endpoint `local`) like on
//! Lambda; pending pushes (`push_events`) are delivered on connect, after every turn, and
//! by a poll every [`PUSH_POLL`] while the socket is open.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::http::ApiError;
use gomomo::services::agent::{
    deliver_pending_pushes, Agent, ClientMessage, SendError, ServerMessage,
};
use serde::Deserialize;
use tokio::sync::mpsc;

const PUSH_POLL: Duration = Duration::from_secs(2);
/// The demo tenant of `gomomo seed-demo`, used by `/` when no `?tenant=` is given.
const DEMO_TENANT: &str = "6d0e0000-0000-4000-8000-000000000001";

const WIDGET_JS: &str = include_str!("../../web/widget.js");
const INDEX_HTML: &str = include_str!("../../web/index.html");

#[derive(Clone)]
pub struct ChatState {
    pub agent: Agent,
}

pub fn router(agent: Agent) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/widget.js", get(widget))
        .route("/ws", get(ws))
        .with_state(ChatState { agent })
}

#[derive(Deserialize)]
struct PageQuery {
    tenant: Option<String>,
}

async fn index(Query(q): Query<PageQuery>) -> Result<Html<String>, ApiError> {
    let tenant = match q.tenant.as_deref() {
        Some(t) => TenantId::parse(t)?,
        None => TenantId::parse(DEMO_TENANT)?,
    };
    Ok(Html(INDEX_HTML.replace("{{TENANT}}", &tenant.to_string())))
}

async fn widget() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

#[derive(Deserialize)]
struct WsQuery {
    tenant_id: Option<String>,
    session_id: Option<String>,
}

async fn ws(
    State(state): State<ChatState>,
    Query(q): Query<WsQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let tenant = TenantId::parse(q.tenant_id.as_deref().unwrap_or(""))?;
    // Refuse unknown tenants before upgrading (fail closed).
    state.agent.booking().schedule(tenant).await?;
    let session = match q.session_id.as_deref() {
        Some(s) => SessionId::parse(s)?,
        None => SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4()))?,
    };
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| connection(state, tenant, session, socket)))
}

async fn connection(state: ChatState, tenant: TenantId, mut session: SessionId, socket: WebSocket) {
    let pool = state.agent.booking().pool().clone();
    let connection_id = format!("local-{}", uuid::Uuid::new_v4());
    if let Err(e) =
        db::put_connection(&pool, &connection_id, tenant.0, session.as_str(), "local").await
    {
        tracing::warn!(error = %e, "could not record the connection");
    }
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<ServerMessage>();
    let (mut sink, mut stream) = {
        use futures_util::StreamExt;
        socket.split()
    };
    let writer = tokio::spawn(async move {
        use futures_util::SinkExt;
        while let Some(m) = out_rx.recv().await {
            if sink.send(Message::Text(m.to_frame().into())).await.is_err() {
                break;
            }
        }
    });
    let send_status = |tx: &mpsc::UnboundedSender<ServerMessage>, s: &SessionId| {
        let _ = tx.send(ServerMessage::Status {
            session_id: s.as_str().to_string(),
            state: "connected",
            text: "Connected".into(),
        });
    };
    send_status(&out_tx, &session);
    deliver(&pool, tenant, &session, &out_tx).await;
    let mut poll = tokio::time::interval(PUSH_POLL);
    loop {
        let msg = tokio::select! {
            m = futures_util::StreamExt::next(&mut stream) => m,
            _ = poll.tick() => {
                deliver(&pool, tenant, &session, &out_tx).await;
                continue;
            }
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue,
        };
        let parsed: ClientMessage = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(_) => {
                let _ = out_tx.send(ServerMessage::error(
                    "invalid_message",
                    "expected {\"action\":\"message\",\"tenant_id\",\"session_id\",\"text\"}",
                ));
                continue;
            }
        };
        match parsed {
            ClientMessage::Ping => {
                let _ = out_tx.send(ServerMessage::Pong);
            }
            ClientMessage::Hello {
                tenant_id,
                session_id,
            } => {
                if let Some(s) = check(&out_tx, tenant, &tenant_id, session_id.as_deref()) {
                    if s != session {
                        session = s;
                        let _ =
                            db::rebind_connection(&pool, &connection_id, session.as_str()).await;
                    }
                    send_status(&out_tx, &session);
                    deliver(&pool, tenant, &session, &out_tx).await;
                }
            }
            ClientMessage::Message {
                tenant_id,
                session_id,
                text,
            } => {
                let Some(s) = check(&out_tx, tenant, &tenant_id, session_id.as_deref()) else {
                    continue;
                };
                if s != session {
                    session = s;
                    let _ = db::rebind_connection(&pool, &connection_id, session.as_str()).await;
                }
                turn(&state.agent, tenant, &session, &text, &out_tx).await;
                deliver(&pool, tenant, &session, &out_tx).await;
            }
        }
    }
    drop(out_tx);
    let _ = writer.await;
    if let Err(e) = db::delete_connection(&pool, &connection_id).await {
        tracing::warn!(error = %e, "could not remove the connection");
    }
}

/// The message must be for this connection's tenant; the session may change.
fn check(
    out: &mpsc::UnboundedSender<ServerMessage>,
    tenant: TenantId,
    tenant_id: &str,
    session_id: Option<&str>,
) -> Option<SessionId> {
    match TenantId::parse(tenant_id) {
        Ok(t) if t == tenant => {}
        _ => {
            let _ = out.send(ServerMessage::error(
                "tenant_mismatch",
                "tenant_id does not match this connection",
            ));
            return None;
        }
    }
    match session_id.map(SessionId::parse) {
        Some(Ok(s)) => Some(s),
        None => Some(SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).ok()?),
        Some(Err(e)) => {
            let _ = out.send(ServerMessage::error("invalid_session_id", e.to_string()));
            None
        }
    }
}

/// One turn over a channel: typing, status while tools run, the reply.
pub async fn turn(
    agent: &Agent,
    tenant: TenantId,
    session: &SessionId,
    text: &str,
    out: &mpsc::UnboundedSender<ServerMessage>,
) {
    let sid = session.as_str().to_string();
    let _ = out.send(ServerMessage::Typing {
        session_id: sid.clone(),
        active: true,
    });
    let _ = out.send(ServerMessage::Status {
        session_id: sid.clone(),
        state: "working",
        text: "Receptionist is working on it…".into(),
    });
    match agent
        .handle_turn(tenant, session, "web", text, Some(out))
        .await
    {
        Ok(r) => {
            let _ = out.send(ServerMessage::AssistantMessage {
                session_id: sid.clone(),
                text: r.reply,
                events: r.events,
            });
        }
        Err(e) => {
            if e.code() == "internal_error" {
                tracing::error!(error = %e, "chat turn failed");
            }
            let _ = out.send(ServerMessage::error(e.code(), e.to_string()));
        }
    }
    let _ = out.send(ServerMessage::Typing {
        session_id: sid.clone(),
        active: false,
    });
    let _ = out.send(ServerMessage::Status {
        session_id: sid,
        state: "idle",
        text: String::new(),
    });
}

async fn deliver(
    pool: &sqlx::PgPool,
    tenant: TenantId,
    session: &SessionId,
    out: &mpsc::UnboundedSender<ServerMessage>,
) {
    let out = out.clone();
    let res = deliver_pending_pushes(pool, tenant, session, move |m| {
        let r = out.send(m).map_err(|_| SendError::Gone);
        async move { r }
    })
    .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, "push delivery failed");
    }
}
