//! The standalone server's chat: a real WebSocket at `/ws` speaking the protocol of
//! [`gomomo::services::chat_session`] like the API Gateway route. The pages (`/`,
//! `/widget.js`) come from the shared web router, as on the api function.
//!
//! The client connects with `?tenant_id=` only and names its session in the `hello` frame:
//! a session id is a bearer secret and never travels in a URL, so a `session_id` query
//! parameter is refused with 400 `session_in_url` (as on API Gateway). Until the hello the
//! connection sits on a placeholder session; nothing is sent before it. Sessions are issued
//! by the server: a hello without one, or with one not issued for the tenant, is answered
//! with a `session` frame naming a new one.
//!
//! A browser's `Origin` must be this server's own (`PUBLIC_BASE_URL`, or the `Host` the
//! request was sent to) or one of the tenant's widget origins; otherwise the upgrade is
//! refused with 403 `origin_not_allowed`. A request without an `Origin` (not a browser) is
//! not limited by it.
//!
//! Connections are recorded in Postgres (`ws_connections`, endpoint `local:<process id>`,
//! [`LocalSockets::endpoint`]) like on Lambda, and each open socket registers its outgoing
//! channel in the process's [`LocalSockets`], the pusher the job runner posts through: a
//! push written by a job reaches the socket as soon as the job commits. Pending pushes
//! (`push_events`) are also delivered on `hello` and after every turn. A push counts as
//! delivered once the writer task wrote it to the socket, not when it was queued. A client
//! that stops reading is disconnected once [`gomomo::app::local::SOCKET_BUFFER`] frames wait
//! for it. The in-process runtime keeps the rows of open sockets fresh and removes those a
//! killed or restarted server left behind.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gomomo::app::local::{LocalSocket, LocalSockets};
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::http::{ApiError, ClientIp};
use gomomo::services::agent::{Agent, ServerMessage};
use gomomo::services::budgets::{rate_limited_frame, BudgetError, Budgets};
use gomomo::services::chat_session::{placeholder_session, ChatSession, Connection};
use gomomo::services::sessions;
use serde::Deserialize;

/// How long a closing socket's writer may take to flush what is queued.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);
#[derive(Clone)]
pub struct ChatState {
    pub chat: ChatSession,
    /// Where open sockets register so live pushes reach them.
    pub sockets: LocalSockets,
    /// Connections and chat turns per client address and session (none: unlimited).
    pub budgets: Option<Budgets>,
    /// A socket that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// The deployment's own URL (`PUBLIC_BASE_URL`): its origin may always open a socket.
    pub public_base_url: String,
}

/// `/ws` without budgets, with the default idle timeout.
#[cfg(test)]
pub fn router(agent: Agent, sockets: LocalSockets, public_base_url: &str) -> Router {
    router_with(
        agent,
        sockets,
        public_base_url,
        None,
        gomomo::config::ServeLimits::default().socket_idle_timeout,
    )
}

/// `/ws` with the process's budgets and idle timeout.
pub fn router_with(
    agent: Agent,
    sockets: LocalSockets,
    public_base_url: &str,
    budgets: Option<Budgets>,
    idle_timeout: Duration,
) -> Router {
    Router::new().route("/ws", get(ws)).with_state(ChatState {
        chat: ChatSession::new(agent),
        sockets,
        budgets,
        idle_timeout,
        public_base_url: public_base_url.to_string(),
    })
}

#[derive(Deserialize)]
struct WsQuery {
    tenant_id: Option<String>,
    /// Only read to refuse it.
    session_id: Option<String>,
}

async fn ws(
    State(state): State<ChatState>,
    ClientIp(ip): ClientIp,
    slot: Option<axum::Extension<crate::serve::ConnectionSlot>>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if let Some(budgets) = &state.budgets {
        budgets.ws_connect(ip).await?;
    }
    if q.session_id.is_some() {
        return Err(ApiError::bad_request(
            "session_in_url",
            "connect with tenant_id only and send session_id in the hello frame",
        ));
    }
    let tenant = TenantId::parse(q.tenant_id.as_deref().unwrap_or(""))?;
    // Refuse unknown tenants before upgrading (fail closed).
    state.chat.agent().booking().schedule(tenant).await?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let mut own = vec![state.public_base_url.clone()];
    if let Some(host) = header(HOST) {
        own.push(format!("http://{host}"));
        own.push(format!("https://{host}"));
    }
    let allowed = sessions::origin_allowed(
        state.chat.agent().booking().pool(),
        tenant,
        header(ORIGIN),
        &own,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    if allowed != Some(true) {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "this page's origin may not open the chat of this tenant; the tenant's admin lists allowed origins at /api/admin/tenants/{tenant}/widget-origins",
        ));
    }
    // The widget's hello moves the connection to its session.
    let session = placeholder_session().ok_or_else(|| {
        ApiError::internal(&std::io::Error::other("could not create a session id"))
    })?;
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| async move {
            // The socket keeps its connection's place under the server's cap.
            let _slot = slot;
            connection(state, tenant, session, ip, socket).await
        }))
}

async fn connection(
    state: ChatState,
    tenant: TenantId,
    session: SessionId,
    ip: Option<IpAddr>,
    socket: WebSocket,
) {
    // The holds this socket's turns place count against the client's hold budgets.
    let chat = match &state.budgets {
        Some(b) => state.chat.for_client(b, ip),
        None => state.chat,
    };
    let pool = chat.agent().booking().pool().clone();
    let mut conn = Connection {
        id: format!("local-{}", uuid::Uuid::new_v4()),
        tenant: Some(tenant),
        session: Some(session.clone()),
    };
    let (out, mut out_rx) = LocalSocket::channel();
    // Registered before the row exists: a push posted to the new row finds the socket.
    state.sockets.register(&conn.id, out.clone());
    if let Err(e) = db::put_connection(
        &pool,
        &conn.id,
        tenant.0,
        session.as_str(),
        state.sockets.endpoint(),
    )
    .await
    {
        tracing::warn!(error = %e, "could not record the connection");
    }
    let (mut sink, mut stream) = {
        use futures_util::StreamExt;
        socket.split()
    };
    // Each frame's poster learns it was written only after the write; frames still queued
    // when the writer stops are dropped, and their posters learn the socket is gone.
    let mut writer = tokio::spawn(async move {
        use futures_util::SinkExt;
        while let Some(out) = out_rx.recv().await {
            let Some((frame, written)) = out.take() else {
                continue;
            };
            if sink.send(Message::Text(frame.into())).await.is_err() {
                break;
            }
            written.done();
        }
    });
    loop {
        let msg = tokio::select! {
            m = tokio::time::timeout(state.idle_timeout, futures_util::StreamExt::next(&mut stream)) => match m {
                Ok(m) => m,
                Err(_) => {
                    tracing::debug!("closing a socket that sent nothing");
                    break;
                }
            },
            () = out.disconnected() => break,
        };
        let text = match msg {
            Some(Ok(Message::Text(t))) => t.to_string(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
            Some(Ok(_)) => continue,
        };
        if let Some(budgets) = &state.budgets {
            let session = conn.session.as_ref().map(|s| s.as_str());
            match gomomo::services::chat_session::frame_budget(budgets, &text, session, ip).await {
                Ok(()) => {}
                Err(BudgetError::Exceeded { retry_after, .. }) => {
                    let _ = out.offer(rate_limited_frame(retry_after));
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "budget check failed");
                    let _ = out.offer(
                        ServerMessage::error("internal_error", "something went wrong on our side")
                            .to_frame(),
                    );
                    continue;
                }
            }
        }
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

/// The live-push scene (Ana books, Lee waits), shared with the worker's and scheduler's tests.
#[cfg(test)]
#[path = "../../shared/tests/support/scene.rs"]
mod scene;

#[cfg(test)]
#[path = "tests/chat.rs"]
mod tests;

#[cfg(test)]
#[path = "tests/security_sockets.rs"]
mod security_tests;
