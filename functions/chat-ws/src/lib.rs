//! The `chat-ws` Lambda: the chat over an API Gateway WebSocket API.
//!
//! - `$connect` — `?tenant_id=…&session_id=…` (session optional): the tenant must exist,
//!   the connection is stored in Postgres with its management endpoint;
//! - `$disconnect` — the connection row is removed;
//! - `$default` (and any other route key) — the DESIGN.md protocol: `hello` (sent by the
//!   widget on open, since API Gateway cannot post to a connection during `$connect`)
//!   delivers pending pushes; `message` runs one agent turn and posts `typing`, `status`,
//!   `assistant_message`, then pending pushes.
//!
//! Replies go through the API Gateway Management API (`post_to_connection`) at
//! `https://{domainName}/{stage}` (or `WS_MANAGEMENT_ENDPOINT`, e.g. behind a custom
//! domain). A 410 Gone removes the connection. Frames stay under 32 KB
//! ([`ServerMessage::to_frame`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::agent::{
    deliver_pending_pushes, Agent, ClientMessage, SendError, ServerMessage,
};
use lambda_runtime::{Diagnostic, LambdaEvent};
use tokio::sync::mpsc;

/// Posts frames to WebSocket connections (the `ConnectionPusher` port).
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: String,
    ) -> Result<(), SendError>;
}

/// The API Gateway Management API adapter: one SDK client per endpoint, built once.
pub struct ApiGatewayPusher {
    base: aws_sdk_apigatewaymanagement::config::Builder,
    clients: Mutex<HashMap<String, aws_sdk_apigatewaymanagement::Client>>,
}

impl ApiGatewayPusher {
    pub fn new(base: aws_sdk_apigatewaymanagement::config::Builder) -> Self {
        Self {
            base,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn from_sdk_config(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(aws_sdk_apigatewaymanagement::config::Builder::from(sdk))
    }

    fn client(&self, endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .entry(endpoint.to_string())
            .or_insert_with(|| {
                aws_sdk_apigatewaymanagement::Client::from_conf(
                    self.base.clone().endpoint_url(endpoint).build(),
                )
            })
            .clone()
    }
}

#[async_trait]
impl Pusher for ApiGatewayPusher {
    async fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: String,
    ) -> Result<(), SendError> {
        let res = self
            .client(endpoint)
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.into_bytes()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PostToConnectionError::GoneException(_)) =>
            {
                Err(SendError::Gone)
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 410) => {
                Err(SendError::Gone)
            }
            Err(e) => Err(SendError::Failed(format!(
                "{}",
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e)
            ))),
        }
    }
}

pub struct ChatWs {
    pub agent: Agent,
    pub pusher: Arc<dyn Pusher>,
    /// Overrides the endpoint derived from the request (custom domains, tests).
    pub endpoint_override: Option<String>,
}

impl ChatWs {
    /// The agent of the composition root and a Management API client from the environment.
    pub async fn from_app(app: &gomomo::app::App) -> Self {
        let sdk = gomomo::adapters::aws::sdk_config().await;
        Self {
            agent: app.agent.clone(),
            pusher: Arc::new(ApiGatewayPusher::from_sdk_config(&sdk)),
            endpoint_override: app.config.ws_management_endpoint.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChatWsError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<ChatWsError> for Diagnostic {
    fn from(e: ChatWsError) -> Self {
        Diagnostic {
            error_type: "Retryable.Database".into(),
            error_message: e.to_string(),
        }
    }
}

/// The Management API endpoint of the API that sent the event.
pub fn management_endpoint(domain: &str, stage: &str) -> String {
    format!("https://{domain}/{stage}")
}

fn response(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = Some(Body::Text(body.to_string()));
    r
}

impl ChatWs {
    fn endpoint(&self, ev: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
        if let Some(e) = &self.endpoint_override {
            return Some(e.clone());
        }
        let rc = &ev.request_context;
        Some(management_endpoint(
            rc.domain_name.as_deref()?,
            rc.stage.as_deref()?,
        ))
    }

    #[tracing::instrument(skip_all, fields(route = ?event.payload.request_context.route_key, connection = ?event.payload.request_context.connection_id))]
    pub async fn handle(
        &self,
        event: LambdaEvent<ApiGatewayWebsocketProxyRequest>,
    ) -> Result<ApiGatewayProxyResponse, ChatWsError> {
        let ev = event.payload;
        let Some(connection_id) = ev.request_context.connection_id.clone() else {
            return Ok(response(400, "missing connectionId"));
        };
        match ev.request_context.route_key.as_deref() {
            Some("$connect") => self.connect(&ev, &connection_id).await,
            Some("$disconnect") => {
                db::delete_connection(self.agent.booking().pool(), &connection_id).await?;
                Ok(response(200, "bye"))
            }
            _ => self.default_route(&ev, &connection_id).await,
        }
    }

    async fn connect(
        &self,
        ev: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> Result<ApiGatewayProxyResponse, ChatWsError> {
        // A non-2xx answer to $connect refuses the connection (fail closed).
        let Some(tenant) = ev
            .query_string_parameters
            .first("tenant_id")
            .and_then(|t| TenantId::parse(t).ok())
        else {
            return Ok(response(
                400,
                "tenant_id query parameter (a UUID) is required",
            ));
        };
        match self.agent.booking().schedule(tenant).await {
            Ok(_) => {}
            Err(gomomo::services::BookingError::TenantNotFound) => {
                return Ok(response(404, "tenant not found"))
            }
            Err(gomomo::services::BookingError::Database(e)) => return Err(e.into()),
            Err(e) => {
                tracing::error!(error = %e, "tenant configuration");
                return Ok(response(500, "tenant configuration error"));
            }
        }
        let session = match ev.query_string_parameters.first("session_id") {
            Some(s) => match SessionId::parse(s) {
                Ok(s) => s,
                Err(_) => return Ok(response(400, "invalid session_id")),
            },
            None => match SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())) {
                Ok(s) => s,
                Err(_) => return Ok(response(500, "could not create a session")),
            },
        };
        let Some(endpoint) = self.endpoint(ev) else {
            return Ok(response(400, "missing domainName or stage"));
        };
        db::put_connection(
            self.agent.booking().pool(),
            connection_id,
            tenant.0,
            session.as_str(),
            &endpoint,
        )
        .await?;
        Ok(response(200, "connected"))
    }

    async fn default_route(
        &self,
        ev: &ApiGatewayWebsocketProxyRequest,
        connection_id: &str,
    ) -> Result<ApiGatewayProxyResponse, ChatWsError> {
        let pool = self.agent.booking().pool().clone();
        let row = db::get_connection(&pool, connection_id).await?;
        let Some(endpoint) = row
            .as_ref()
            .map(|r| r.endpoint.clone())
            .or_else(|| self.endpoint(ev))
        else {
            return Ok(response(400, "missing domainName or stage"));
        };
        let out = Outbox {
            pusher: self.pusher.clone(),
            endpoint,
            connection_id: connection_id.to_string(),
            gone: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let body = ev.body.as_deref().unwrap_or("");
        let msg: ClientMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(_) => {
                out.send(ServerMessage::error(
                    "invalid_message",
                    "expected {\"action\":\"message\",\"tenant_id\",\"session_id\",\"text\"}",
                ))
                .await;
                return self.finish(&pool, &out).await;
            }
        };
        match msg {
            ClientMessage::Ping => out.send(ServerMessage::Pong).await,
            ClientMessage::Hello {
                tenant_id,
                session_id,
            } => {
                if let Some((tenant, session)) = self
                    .check(&out, row.as_ref(), &tenant_id, session_id.as_deref())
                    .await
                {
                    self.rebind(&pool, connection_id, row.as_ref(), &session)
                        .await?;
                    out.send(ServerMessage::Status {
                        session_id: session.as_str().to_string(),
                        state: "connected",
                        text: "Connected".into(),
                    })
                    .await;
                    self.deliver(&pool, tenant, &session, &out).await?;
                }
            }
            ClientMessage::Message {
                tenant_id,
                session_id,
                text,
            } => {
                if let Some((tenant, session)) = self
                    .check(&out, row.as_ref(), &tenant_id, session_id.as_deref())
                    .await
                {
                    self.rebind(&pool, connection_id, row.as_ref(), &session)
                        .await?;
                    self.turn(tenant, &session, &text, &out).await;
                    self.deliver(&pool, tenant, &session, &out).await?;
                }
            }
        }
        self.finish(&pool, &out).await
    }

    async fn finish(
        &self,
        pool: &sqlx::PgPool,
        out: &Outbox,
    ) -> Result<ApiGatewayProxyResponse, ChatWsError> {
        if out.is_gone() {
            db::delete_connection(pool, &out.connection_id).await?;
        }
        Ok(response(200, "ok"))
    }

    async fn rebind(
        &self,
        pool: &sqlx::PgPool,
        connection_id: &str,
        row: Option<&db::ConnectionRow>,
        session: &SessionId,
    ) -> Result<(), ChatWsError> {
        if row.is_some_and(|r| r.session_id != session.as_str()) {
            db::rebind_connection(pool, connection_id, session.as_str()).await?;
        }
        Ok(())
    }

    /// The message's tenant must be the connection's; a missing session gets a new id.
    async fn check(
        &self,
        out: &Outbox,
        row: Option<&db::ConnectionRow>,
        tenant_id: &str,
        session_id: Option<&str>,
    ) -> Option<(TenantId, SessionId)> {
        let tenant = match (TenantId::parse(tenant_id), row) {
            (Ok(t), Some(r)) if t.0 == r.tenant_id => t,
            (Ok(t), None) => t,
            _ => {
                out.send(ServerMessage::error(
                    "tenant_mismatch",
                    "tenant_id does not match this connection",
                ))
                .await;
                return None;
            }
        };
        let session = match session_id {
            Some(s) => match SessionId::parse(s) {
                Ok(s) => s,
                Err(e) => {
                    out.send(ServerMessage::error("invalid_session_id", e.to_string()))
                        .await;
                    return None;
                }
            },
            None => match row {
                Some(r) => SessionId::parse(&r.session_id).ok()?,
                None => SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).ok()?,
            },
        };
        Some((tenant, session))
    }

    /// typing → status (and one per tool call, posted while the turn runs) → the reply.
    async fn turn(&self, tenant: TenantId, session: &SessionId, text: &str, out: &Outbox) {
        let sid = session.as_str().to_string();
        out.send(ServerMessage::Typing {
            session_id: sid.clone(),
            active: true,
        })
        .await;
        out.send(ServerMessage::Status {
            session_id: sid.clone(),
            state: "working",
            text: "Receptionist is working on it…".into(),
        })
        .await;
        let (tx, mut rx) = mpsc::unbounded_channel::<ServerMessage>();
        let forward = {
            let out = out.clone();
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    out.send(m).await;
                }
            })
        };
        let result = self
            .agent
            .handle_turn(tenant, session, "web", text, Some(&tx))
            .await;
        drop(tx);
        let _ = forward.await;
        match result {
            Ok(r) => {
                out.send(ServerMessage::AssistantMessage {
                    session_id: sid.clone(),
                    text: r.reply,
                    events: r.events,
                })
                .await
            }
            Err(e) => {
                if e.code() == "internal_error" {
                    tracing::error!(error = %e, "chat turn failed");
                }
                out.send(ServerMessage::error(e.code(), e.to_string()))
                    .await
            }
        }
        out.send(ServerMessage::Typing {
            session_id: sid.clone(),
            active: false,
        })
        .await;
        out.send(ServerMessage::Status {
            session_id: sid,
            state: "idle",
            text: String::new(),
        })
        .await;
    }

    async fn deliver(
        &self,
        pool: &sqlx::PgPool,
        tenant: TenantId,
        session: &SessionId,
        out: &Outbox,
    ) -> Result<(), ChatWsError> {
        if out.is_gone() {
            return Ok(());
        }
        deliver_pending_pushes(pool, tenant, session, |m| {
            let out = out.clone();
            async move { out.try_send(m).await }
        })
        .await?;
        Ok(())
    }
}

/// Posts to one connection; after a 410 Gone nothing more is sent.
#[derive(Clone)]
struct Outbox {
    pusher: Arc<dyn Pusher>,
    endpoint: String,
    connection_id: String,
    gone: Arc<std::sync::atomic::AtomicBool>,
}

impl Outbox {
    fn is_gone(&self) -> bool {
        self.gone.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn try_send(&self, m: ServerMessage) -> Result<(), SendError> {
        if self.is_gone() {
            return Err(SendError::Gone);
        }
        let r = self
            .pusher
            .post(&self.endpoint, &self.connection_id, m.to_frame())
            .await;
        match &r {
            Err(SendError::Gone) => self.gone.store(true, std::sync::atomic::Ordering::SeqCst),
            Err(SendError::Failed(e)) => tracing::warn!(error = %e, "post_to_connection failed"),
            Ok(()) => {}
        }
        r
    }

    async fn send(&self, m: ServerMessage) {
        let _ = self.try_send(m).await;
    }
}
