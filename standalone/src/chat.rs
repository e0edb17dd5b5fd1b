//! The standalone server's chat: a real WebSocket at `/ws` speaking the protocol of
//! [`gomomo::services::chat_session`] like the API Gateway route, the widget at
//! `/widget.js` and a demo page at `/`.
//!
//! Connections are recorded in Postgres (`ws_connections`, endpoint `local`) like on
//! Lambda, and each open socket registers its outgoing channel in the process's
//! [`LocalSockets`], the pusher the job runner posts through: a push written by a job
//! reaches the socket as soon as the job commits. Pending pushes (`push_events`) are also
//! delivered on `hello` and after every turn. A client that stops reading is disconnected
//! once [`gomomo::app::local::SOCKET_BUFFER`] frames wait for it.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gomomo::app::local::{LocalSocket, LocalSockets, LOCAL_ENDPOINT};
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::http::ApiError;
use gomomo::services::agent::Agent;
use gomomo::services::chat_session::{new_session, ChatSession, Connection};
use serde::Deserialize;

/// How long a closing socket's writer may take to flush what is queued.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);
/// The demo tenant of `gomomo seed-demo`, used by `/` when no `?tenant=` is given.
const DEMO_TENANT: &str = "6d0e0000-0000-4000-8000-000000000001";

const WIDGET_JS: &str = include_str!("../../web/widget.js");
const INDEX_HTML: &str = include_str!("../../web/index.html");

#[derive(Clone)]
pub struct ChatState {
    pub chat: ChatSession,
    /// Where open sockets register so live pushes reach them.
    pub sockets: LocalSockets,
}

pub fn router(agent: Agent, sockets: LocalSockets) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/widget.js", get(widget))
        .route("/ws", get(ws))
        .with_state(ChatState {
            chat: ChatSession::new(agent),
            sockets,
        })
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
    state.chat.agent().booking().schedule(tenant).await?;
    let session = match q.session_id.as_deref() {
        Some(s) => SessionId::parse(s)?,
        None => new_session().ok_or_else(|| {
            ApiError::internal(&std::io::Error::other("could not create a session id"))
        })?,
    };
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| connection(state, tenant, session, socket)))
}

async fn connection(state: ChatState, tenant: TenantId, session: SessionId, socket: WebSocket) {
    let chat = state.chat;
    let pool = chat.agent().booking().pool().clone();
    let mut conn = Connection {
        id: format!("local-{}", uuid::Uuid::new_v4()),
        tenant: Some(tenant),
        session: Some(session.clone()),
    };
    let (out, mut out_rx) = LocalSocket::channel();
    // Registered before the row exists: a push posted to the new row finds the socket.
    state.sockets.register(&conn.id, out.clone());
    if let Err(e) =
        db::put_connection(&pool, &conn.id, tenant.0, session.as_str(), LOCAL_ENDPOINT).await
    {
        tracing::warn!(error = %e, "could not record the connection");
    }
    let (mut sink, mut stream) = {
        use futures_util::StreamExt;
        socket.split()
    };
    let mut writer = tokio::spawn(async move {
        use futures_util::SinkExt;
        while let Some(frame) = out_rx.recv().await {
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
        }
    });
    if let Err(e) = chat.connected(tenant, &session, &out).await {
        tracing::warn!(error = %e, "push delivery failed");
    }
    loop {
        let msg = tokio::select! {
            m = futures_util::StreamExt::next(&mut stream) => m,
            () = out.disconnected() => break,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue,
        };
        if let Err(e) = chat.handle_frame(&mut conn, &text, &out).await {
            tracing::warn!(error = %e, "chat frame failed");
        }
    }
    state.sockets.unregister(&conn.id);
    let dropped = out.is_dropped();
    drop(out);
    // A client that stopped reading is not waited for; otherwise what is queued is flushed.
    if dropped
        || tokio::time::timeout(FLUSH_ON_CLOSE, &mut writer)
            .await
            .is_err()
    {
        writer.abort();
    }
    if let Err(e) = db::delete_connection(&pool, &conn.id).await {
        tracing::warn!(error = %e, "could not remove the connection");
    }
}
