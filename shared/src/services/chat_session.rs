//! The chat socket protocol, written once for every WebSocket transport (the API Gateway
//! `chat-ws` function and the standalone server's `/ws`).
//!
//! A transport hands each client frame to [`ChatSession::handle_frame`] together with the
//! connection it came on and a [`FrameSink`] that carries [`ServerMessage`]s back:
//!
//! - `ping` → `pong`;
//! - `hello` → `status: connected`, the conversation so far (`history`: the last
//!   [`HISTORY_LINES`] lines from Postgres, and which call or text it continues), then the
//!   session's pending pushes;
//! - `message` → `typing`, `status: working`, one `status` per tool call while the turn
//!   runs, the `assistant_message` (or an `error`), `typing` off, `status: idle`, then the
//!   pending pushes;
//! - anything else → an `invalid_message` error.
//!
//! A frame's `tenant_id` must be the connection's; its `session_id` may move the
//! connection to another session (the `ws_connections` row follows). Sessions are issued by
//! the server ([`crate::services::sessions`]): a `hello` without a session, or with one that
//! was not issued for the tenant, gets a new one in a `session` frame first (within the
//! client address's session budget, [`ChatSession::for_client`]: over it, the frame gets a
//! `rate_limited` error with `retry_after` and nothing is issued); a `message`
//! naming a session that was not issued gets a `session_not_found` error (a `message`
//! without one uses the connection's, or is issued one like a `hello`). Errors sent to the
//! client are opaque: a stable code and a fixed message, never the text of an internal
//! error (that goes to the log).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::db::chat as db;
use crate::domain::{Locale, SessionId, TenantId, TimeZone};
use crate::ports::push::{Pusher, SendError};
use crate::services::agent::protocol::HistoryLine;
use crate::services::agent::{
    deliver_pending_pushes, Agent, AgentError, ClientMessage, ServerMessage,
};
use crate::services::budgets::{BudgetError, Budgets};
use crate::services::handoff;
use crate::services::sessions::{self, SessionError};

/// How many lines of the conversation a `hello` gets back (fewer when the frame is full).
pub const HISTORY_LINES: i64 = 50;

/// What a client is told when a frame does not parse.
const INVALID_FRAME: &str =
    "expected {\"action\":\"message\",\"tenant_id\",\"session_id\",\"text\"} (session_id: one the server issued)";
/// What a client is told when its turn failed on our side.
const INTERNAL_ERROR: &str = "something went wrong on our side; nothing was changed";

/// Where the frames of one connection go.
#[async_trait]
pub trait FrameSink: Send + Sync {
    async fn send(&self, message: ServerMessage) -> Result<(), SendError>;

    /// False once the client is known to be gone: pending pushes are then left pending.
    fn is_open(&self) -> bool {
        true
    }
}

/// An unbounded channel to the task that writes the socket (the standalone `/ws`).
#[async_trait]
impl FrameSink for mpsc::UnboundedSender<ServerMessage> {
    async fn send(&self, message: ServerMessage) -> Result<(), SendError> {
        mpsc::UnboundedSender::send(self, message).map_err(|_| SendError::Gone)
    }

    fn is_open(&self) -> bool {
        !self.is_closed()
    }
}

/// One connection through a [`Pusher`] (API Gateway's Management API): after a 410 Gone
/// nothing more is posted.
#[derive(Clone)]
pub struct PushSink {
    pusher: Arc<dyn Pusher>,
    endpoint: String,
    connection_id: String,
    gone: Arc<AtomicBool>,
}

impl PushSink {
    pub fn new(
        pusher: Arc<dyn Pusher>,
        endpoint: impl Into<String>,
        connection_id: impl Into<String>,
    ) -> Self {
        Self {
            pusher,
            endpoint: endpoint.into(),
            connection_id: connection_id.into(),
            gone: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }

    /// Whether the connection answered 410 Gone (the transport then forgets it).
    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl FrameSink for PushSink {
    async fn send(&self, message: ServerMessage) -> Result<(), SendError> {
        if self.is_gone() {
            return Err(SendError::Gone);
        }
        let r = self
            .pusher
            .post(&self.endpoint, &self.connection_id, message.to_frame())
            .await;
        match &r {
            Err(SendError::Gone) => self.gone.store(true, Ordering::SeqCst),
            Err(SendError::Failed(e)) => tracing::warn!(error = %e, "posting a frame failed"),
            Ok(()) => {}
        }
        r
    }

    fn is_open(&self) -> bool {
        !self.is_gone()
    }
}

/// A connection as the protocol sees it.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The `ws_connections` row id.
    pub id: String,
    /// The tenant the connection was opened for; `None` accepts any tenant (a frame on an
    /// API Gateway connection that was never recorded).
    pub tenant: Option<TenantId>,
    /// The session the recorded connection is bound to; `None` when it is not recorded.
    pub session: Option<SessionId>,
}

/// The protocol over one agent. Cheap to clone.
#[derive(Clone)]
pub struct ChatSession {
    agent: Agent,
    /// The budget a session issued to this client counts against (none: unlimited).
    issue_budget: Option<(Budgets, Option<IpAddr>)>,
}

impl ChatSession {
    pub fn new(agent: Agent) -> Self {
        Self {
            agent,
            issue_budget: None,
        }
    }

    /// The same protocol for one client: the holds its turns place count against its hold
    /// budgets, and each session a frame gets issued against its session budget
    /// ([`Budgets::session`]); over budget the frame gets a `rate_limited` error and no
    /// session.
    pub fn for_client(&self, budgets: &Budgets, client: Option<IpAddr>) -> Self {
        Self {
            agent: self.agent.for_client(budgets, client),
            issue_budget: Some((budgets.clone(), client)),
        }
    }

    /// The same protocol for a client whose device reports `zone` (see
    /// [`Agent::with_client_time_zone`]).
    pub fn with_client_time_zone(&self, zone: Option<TimeZone>) -> Self {
        Self {
            agent: self.agent.with_client_time_zone(zone),
            issue_budget: self.issue_budget.clone(),
        }
    }

    /// The same protocol for a client who chose `locale` (see [`Agent::with_locale`]).
    pub fn with_locale(&self, locale: Option<Locale>) -> Self {
        Self {
            agent: self.agent.with_locale(locale),
            issue_budget: self.issue_budget.clone(),
        }
    }

    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    fn pool(&self) -> &sqlx::PgPool {
        self.agent.booking().pool()
    }

    /// Handles one client frame. Err only when Postgres failed while moving the connection
    /// to another session or delivering pushes; everything the client did wrong, and every
    /// failed turn, becomes an `error` frame.
    pub async fn handle_frame(
        &self,
        conn: &mut Connection,
        frame: &str,
        sink: &dyn FrameSink,
    ) -> Result<(), sqlx::Error> {
        let msg: ClientMessage = match serde_json::from_str(frame) {
            Ok(m) => m,
            Err(_) => {
                let _ = sink
                    .send(ServerMessage::error("invalid_message", INVALID_FRAME))
                    .await;
                return Ok(());
            }
        };
        match msg {
            ClientMessage::Ping => {
                let _ = sink.send(ServerMessage::Pong).await;
            }
            ClientMessage::Hello {
                tenant_id,
                session_id,
                locale,
            } => {
                let Some(locale) = frame_locale(locale.as_deref(), sink).await else {
                    return Ok(());
                };
                if let Some((tenant, session)) = self
                    .check(conn, &tenant_id, session_id.as_deref(), true, sink)
                    .await?
                {
                    self.bind(conn, &session).await?;
                    self.with_locale(locale)
                        .hello(tenant, &session, sink)
                        .await?;
                }
            }
            ClientMessage::Message {
                tenant_id,
                session_id,
                text,
                client_time_zone,
                locale,
            } => {
                let Some(locale) = frame_locale(locale.as_deref(), sink).await else {
                    return Ok(());
                };
                let zone = match TimeZone::parse_client(client_time_zone.as_deref()) {
                    Ok(z) => z,
                    Err(e) => {
                        let _ = sink
                            .send(ServerMessage::error(
                                "invalid_client_time_zone",
                                e.to_string(),
                            ))
                            .await;
                        return Ok(());
                    }
                };
                if let Some((tenant, session)) = self
                    .check(conn, &tenant_id, session_id.as_deref(), false, sink)
                    .await?
                {
                    if let Err(e) = self.bind(conn, &session).await {
                        // The client hears that its message was not handled; the cause
                        // goes to the log and the transport.
                        let _ = sink
                            .send(ServerMessage::Error {
                                code: "internal_error".into(),
                                message: INTERNAL_ERROR.into(),
                            })
                            .await;
                        return Err(e);
                    }
                    self.with_client_time_zone(zone)
                        .with_locale(locale)
                        .turn(tenant, &session, &text, sink)
                        .await;
                    self.deliver(tenant, &session, sink).await?;
                }
            }
        }
        Ok(())
    }

    /// The answer to a `hello`: `status: connected`, the `history`, then pending pushes.
    pub async fn hello(
        &self,
        tenant: TenantId,
        session: &SessionId,
        sink: &dyn FrameSink,
    ) -> Result<(), sqlx::Error> {
        let (languages, locale) = self.agent.languages(tenant, session).await?;
        let _ = sink
            .send(ServerMessage::Status {
                session_id: session.as_str().to_string(),
                state: "connected",
                text: "Connected".into(),
                languages: Some(languages.iter().map(|l| l.code()).collect()),
                locale: Some(locale.code()),
            })
            .await;
        let _ = sink.send(self.history(tenant, session).await?).await;
        self.deliver(tenant, session, sink).await.map(|_| ())
    }

    /// The conversation so far as a person saw it: the handoff's context note (written for
    /// the model) is left out, and a session opened from a handoff link says what it
    /// continues.
    pub async fn history(
        &self,
        tenant: TenantId,
        session: &SessionId,
    ) -> Result<ServerMessage, sqlx::Error> {
        let rows =
            db::visible_messages(self.pool(), tenant.0, session.as_str(), HISTORY_LINES).await?;
        let messages = rows
            .into_iter()
            .filter(|(role, text)| {
                !(role == "user" && text.starts_with(handoff::CONTEXT_NOTE_PREFIX))
            })
            .map(|(role, text)| HistoryLine {
                role: if role == "user" { "user" } else { "assistant" },
                text,
            })
            .collect();
        // Only issued sessions can come from a link's redemption: others skip the lookup.
        let continues = if sessions::is_issued_form(session) {
            handoff::context_for_session(self.pool(), session.as_str())
                .await?
                .filter(|(t, _)| *t == tenant.0)
                .map(|(_, c)| match c.channel.as_str() {
                    "" => "voice".to_string(),
                    other => other.to_string(),
                })
        } else {
            None
        };
        Ok(ServerMessage::History {
            session_id: session.as_str().to_string(),
            continues,
            messages,
        })
    }

    /// The session's pending pushes (none once the sink is closed); returns how many went.
    pub async fn deliver(
        &self,
        tenant: TenantId,
        session: &SessionId,
        sink: &dyn FrameSink,
    ) -> Result<usize, sqlx::Error> {
        if !sink.is_open() {
            return Ok(0);
        }
        deliver_pending_pushes(self.pool(), tenant, session, |m| sink.send(m)).await
    }

    /// One turn: typing, status (and one per tool call while the turn runs), the reply or
    /// an opaque error, typing off, idle.
    pub async fn turn(
        &self,
        tenant: TenantId,
        session: &SessionId,
        text: &str,
        sink: &dyn FrameSink,
    ) {
        let sid = session.as_str().to_string();
        let _ = sink
            .send(ServerMessage::Typing {
                session_id: sid.clone(),
                active: true,
            })
            .await;
        let _ = sink
            .send(ServerMessage::Status {
                languages: None,
                locale: None,
                session_id: sid.clone(),
                state: "working",
                text: "Receptionist is working on it…".into(),
            })
            .await;
        let (tx, mut rx) = mpsc::unbounded_channel::<ServerMessage>();
        let run = async move {
            // `tx` is dropped when the turn ends, which ends the forwarding below. The turn
            // is boxed: its state machine is deep, and the transports nest it further.
            Box::pin(
                self.agent
                    .handle_turn(tenant, session, "web", text, Some(&tx)),
            )
            .await
        };
        let forward = async {
            while let Some(m) = rx.recv().await {
                let _ = sink.send(m).await;
            }
        };
        let (result, ()) = tokio::join!(run, forward);
        let reply = match result {
            Ok(r) => ServerMessage::AssistantMessage {
                session_id: sid.clone(),
                text: r.reply,
                events: r.events,
            },
            Err(e) => client_error(&e),
        };
        let _ = sink.send(reply).await;
        let _ = sink
            .send(ServerMessage::Typing {
                session_id: sid.clone(),
                active: false,
            })
            .await;
        let _ = sink
            .send(ServerMessage::Status {
                languages: None,
                locale: None,
                session_id: sid,
                state: "idle",
                text: String::new(),
            })
            .await;
    }

    /// The frame's tenant and session. A named session must have been issued for the
    /// tenant: otherwise a `hello` (`renew`) is issued a new one, a `message` gets a
    /// `session_not_found` error. Without a name, the connection's issued session goes on,
    /// or a new one is issued. A new session is announced in a `session` frame.
    async fn check(
        &self,
        conn: &Connection,
        tenant_id: &str,
        session_id: Option<&str>,
        renew: bool,
        sink: &dyn FrameSink,
    ) -> Result<Option<(TenantId, SessionId)>, sqlx::Error> {
        let Some(tenant) = check_tenant(conn, tenant_id, sink).await else {
            return Ok(None);
        };
        let known = match session_id {
            Some(raw) => match sessions::accept(self.pool(), tenant, raw).await {
                Ok(s) => Some(s),
                Err(SessionError::NotFound) if renew => None,
                Err(SessionError::NotFound) => {
                    let _ = sink
                        .send(ServerMessage::error(
                            "session_not_found",
                            sessions::NOT_FOUND_MESSAGE,
                        ))
                        .await;
                    return Ok(None);
                }
                Err(e) => return self.failed(e, sink).await,
            },
            None => conn.session.clone().filter(sessions::is_issued_form),
        };
        if let Some(s) = known {
            return Ok(Some((tenant, s)));
        }
        if let Some((budgets, client)) = &self.issue_budget {
            match budgets.session(*client).await {
                Ok(()) => {}
                Err(BudgetError::Exceeded { retry_after, .. }) => {
                    let _ = sink.send(ServerMessage::rate_limited(retry_after)).await;
                    return Ok(None);
                }
                Err(BudgetError::Database(e)) => {
                    return self.failed(SessionError::Database(e), sink).await
                }
            }
        }
        match sessions::issue(self.pool(), tenant).await {
            Ok(s) => {
                let _ = sink
                    .send(ServerMessage::Session {
                        session_id: s.as_str().to_string(),
                    })
                    .await;
                Ok(Some((tenant, s)))
            }
            Err(SessionError::TenantNotFound) => {
                let _ = sink
                    .send(ServerMessage::error("tenant_not_found", "tenant not found"))
                    .await;
                Ok(None)
            }
            Err(e) => self.failed(e, sink).await,
        }
    }

    /// Tells the client its frame was not handled and hands the cause to the transport.
    async fn failed<T>(
        &self,
        e: SessionError,
        sink: &dyn FrameSink,
    ) -> Result<Option<T>, sqlx::Error> {
        let _ = sink
            .send(ServerMessage::error("internal_error", INTERNAL_ERROR))
            .await;
        match e {
            SessionError::Database(d) => Err(d),
            other => Err(sqlx::Error::Protocol(other.to_string())),
        }
    }

    /// Moves a recorded connection to `session` when the frame named another one.
    async fn bind(&self, conn: &mut Connection, session: &SessionId) -> Result<(), sqlx::Error> {
        match &conn.session {
            Some(current) if current != session => {
                db::rebind_connection(self.pool(), &conn.id, session.as_str()).await?;
                conn.session = Some(session.clone());
            }
            _ => {}
        }
        Ok(())
    }
}

/// The frame's tenant, when it is the connection's (else a `tenant_mismatch` error).
async fn check_tenant(
    conn: &Connection,
    tenant_id: &str,
    sink: &dyn FrameSink,
) -> Option<TenantId> {
    match (TenantId::parse(tenant_id), conn.tenant) {
        (Ok(t), Some(own)) if t == own => Some(t),
        (Ok(t), None) => Some(t),
        _ => {
            let _ = sink
                .send(ServerMessage::error(
                    "tenant_mismatch",
                    "tenant_id does not match this connection",
                ))
                .await;
            None
        }
    }
}

/// The session a connection sits on until its client names or is issued one: never
/// accepted from a client (it is not issued) and never used for a turn.
pub fn placeholder_session() -> Option<SessionId> {
    SessionId::parse(&format!("pending-{}", uuid::Uuid::new_v4())).ok()
}

/// The `error` frame of a failed turn: the error's stable code and a fixed message; an
/// internal failure is logged with its cause and never shown.
fn client_error(e: &AgentError) -> ServerMessage {
    let message = match e {
        AgentError::InvalidMessage(m) => *m,
        AgentError::TenantNotFound => "tenant not found",
        AgentError::Busy => "this conversation is still answering the previous message",
        AgentError::Database(_) | AgentError::Booking(_) => {
            tracing::error!(error = ?e, "chat turn failed");
            INTERNAL_ERROR
        }
    };
    ServerMessage::error(e.code(), message)
}

/// The budget of one incoming WebSocket frame: a `message` frame is a chat turn, for the
/// session it names (or `session`, the connection's). Other frames cost nothing here; a
/// frame that gets a session issued (a `hello` naming none or an unknown one) is charged
/// the client's session budget when the session is issued ([`ChatSession::for_client`]).
pub async fn frame_budget(
    budgets: &Budgets,
    frame: &str,
    session: Option<&str>,
    client: Option<IpAddr>,
) -> Result<(), BudgetError> {
    if !budgets.enabled() {
        return Ok(());
    }
    match serde_json::from_str::<ClientMessage>(frame) {
        Ok(ClientMessage::Message { session_id, .. }) => {
            budgets
                .chat_turn(session_id.as_deref().or(session), client)
                .await
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_opaque_to_the_client() {
        let e = AgentError::Database(sqlx::Error::Protocol(
            "relation \"chat_sessions\" does not exist".into(),
        ));
        let ServerMessage::Error { code, message } = client_error(&e) else {
            unreachable!("client_error makes error frames")
        };
        assert_eq!(code, "internal_error");
        assert_eq!(message, INTERNAL_ERROR);
        assert!(!message.contains("chat_sessions"));

        let ServerMessage::Error { code, message } =
            client_error(&AgentError::InvalidMessage("the message is empty"))
        else {
            unreachable!("client_error makes error frames")
        };
        assert_eq!(code, "invalid_message");
        assert_eq!(message, "the message is empty");

        let ServerMessage::Error { code, .. } = client_error(&AgentError::Busy) else {
            unreachable!("client_error makes error frames")
        };
        assert_eq!(code, "session_busy");
    }
}

/// The `locale` of a frame: Some(None) when absent, Some(Some(l)) for a language the
/// service speaks; None (after an `invalid_locale` error frame) for any other value.
async fn frame_locale(code: Option<&str>, sink: &dyn FrameSink) -> Option<Option<Locale>> {
    match code {
        None => Some(None),
        Some(c) => match Locale::from_code(c) {
            Some(l) => Some(Some(l)),
            None => {
                let _ = sink
                    .send(ServerMessage::error(
                        "invalid_locale",
                        "locale must be one of: en, es",
                    ))
                    .await;
                None
            }
        },
    }
}
