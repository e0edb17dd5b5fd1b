//! The `chat-ws` Lambda: the chat over an API Gateway WebSocket API.
//!
//! - `$connect` — `?tenant_id=…` only: the tenant must exist, and the connection is stored
//!   in Postgres with its management endpoint under a fresh session until the widget's
//!   `hello` names its own. A session id is a bearer secret and never travels in a URL
//!   (URLs end up in access logs and proxies): a `session_id` query parameter refuses the
//!   connection with 400 `session_in_url`, so a client that sends one learns at once.
//!   Refusals answer `{"error":{"code","message"}}` like the HTTP API. A browser's `Origin`
//!   header must be the deployment's own (`PUBLIC_BASE_URL`) or one of the tenant's widget
//!   origins, else 403 `origin_not_allowed`; a request without one (not a browser) passes.
//!   Sessions are issued by the server: the connection sits on a placeholder until the
//!   `hello`, which names an issued session or is answered with a new one;
//! - `$disconnect` — the connection row is removed;
//! - `$default` (and any other route key) — the chat protocol of
//!   [`gomomo::services::chat_session`]: `hello` (sent by the widget on open, since API
//!   Gateway cannot post to a connection during `$connect`) delivers pending pushes;
//!   `message` runs one agent turn and posts `typing`, `status`, `assistant_message`, then
//!   pending pushes. A frame on a connection that has no row (never opened through
//!   `$connect`, so its tenant and origin were never checked) runs nothing: it gets a
//!   `connection_unknown` error frame and a 403.
//!
//! Replies go through the API Gateway Management API ([`ApiGatewayPusher`]) at
//! `https://{domainName}/{stage}` (or `WS_MANAGEMENT_ENDPOINT`, e.g. behind a custom
//! domain). A 410 Gone removes the connection. Frames stay under 32 KB
//! ([`gomomo::services::agent::ServerMessage::to_frame`]).

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{HeaderValue, CONTENT_TYPE, ORIGIN};
use gomomo::adapters::aws::{ApiGatewayPusher, AwsAccess};
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::ports::Pusher;
use gomomo::services::agent::{Agent, ServerMessage};
use gomomo::services::chat_session::{placeholder_session, ChatSession, Connection, PushSink};
use gomomo::services::sessions;
use lambda_runtime::{Diagnostic, LambdaEvent};

pub struct ChatWs {
    pub agent: Agent,
    pub pusher: Arc<dyn Pusher>,
    /// The deployment's own URL (`PUBLIC_BASE_URL`): its origin may always connect.
    pub public_base_url: String,
    /// Overrides the endpoint derived from the request (custom domains, tests).
    pub endpoint_override: Option<String>,
    /// Connections and chat turns per client address and session (none: unlimited).
    pub budgets: Option<gomomo::services::budgets::Budgets>,
}

impl ChatWs {
    /// The agent and the Management API pusher of the composition root; a pusher signing
    /// with the runtime's AWS settings when the root has none.
    pub fn from_app(app: &gomomo::app::App) -> Result<Self, gomomo::config::ConfigError> {
        let pusher = match &app.pusher {
            Some(p) => p.clone(),
            None => Arc::new(ApiGatewayPusher::new(AwsAccess::from_config(
                &app.config.aws,
            )?)),
        };
        Ok(Self {
            agent: app.agent.clone(),
            pusher,
            public_base_url: app.config.telephony.public_base_url.clone(),
            endpoint_override: app.config.ws_management_endpoint.clone(),
            budgets: Some(app.budgets.clone()),
        })
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

/// A refusal in the HTTP API's error shape. `code` and `message` are fixed texts that need
/// no JSON escaping.
fn refuse(status: i64, code: &'static str, message: &'static str) -> ApiGatewayProxyResponse {
    let mut r = response(
        status,
        &format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#),
    );
    r.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// API Gateway's `sourceIp` of a WebSocket event.
fn source_ip(ev: &ApiGatewayWebsocketProxyRequest) -> Option<std::net::IpAddr> {
    gomomo::http::client_ip::GatewaySourceIp::parse(
        ev.request_context.identity.source_ip.as_deref(),
    )
    .map(|g| g.0)
}

/// The error code of a frame on a connection that has no `ws_connections` row.
pub const CONNECTION_UNKNOWN: &str = "connection_unknown";
const CONNECTION_UNKNOWN_MESSAGE: &str =
    "this connection is not known; open a new one with ?tenant_id=";

/// A `$connect` refused over budget: 429 `rate_limited` with `Retry-After`.
fn rate_limited(retry_after: u64) -> ApiGatewayProxyResponse {
    let mut r = refuse(429, "rate_limited", "too many connections; try again later");
    r.headers.insert(
        aws_lambda_events::http::header::RETRY_AFTER,
        HeaderValue::from(retry_after.max(1)),
    );
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
        let query = &ev.query_string_parameters;
        if query.first("session_id").is_some()
            || ev
                .multi_value_query_string_parameters
                .first("session_id")
                .is_some()
        {
            return Ok(refuse(
                400,
                "session_in_url",
                "connect with tenant_id only and send session_id in the hello frame",
            ));
        }
        if let Some(budgets) = &self.budgets {
            use gomomo::services::budgets::BudgetError;
            match budgets.ws_connect(source_ip(ev)).await {
                Ok(()) => {}
                Err(BudgetError::Exceeded { retry_after, .. }) => {
                    return Ok(rate_limited(retry_after))
                }
                Err(BudgetError::Database(e)) => return Err(e.into()),
            }
        }
        let Some(tenant) = query
            .first("tenant_id")
            .and_then(|t| TenantId::parse(t).ok())
        else {
            return Ok(refuse(
                400,
                "invalid_tenant_id",
                "tenant_id query parameter (a UUID) is required",
            ));
        };
        match self.agent.booking().schedule(tenant).await {
            Ok(_) => {}
            Err(gomomo::services::BookingError::TenantNotFound) => {
                return Ok(refuse(404, "tenant_not_found", "tenant not found"))
            }
            Err(gomomo::services::BookingError::Database(e)) => return Err(e.into()),
            Err(e) => {
                tracing::error!(error = %e, "tenant configuration");
                return Ok(refuse(
                    500,
                    "internal_error",
                    "something went wrong on our side",
                ));
            }
        }
        let origin = ev
            .headers
            .get(ORIGIN)
            .or_else(|| ev.multi_value_headers.get(ORIGIN))
            .and_then(|v| v.to_str().ok());
        match sessions::origin_allowed(
            self.agent.booking().pool(),
            tenant,
            origin,
            std::slice::from_ref(&self.public_base_url),
        )
        .await?
        {
            Some(true) => {}
            Some(false) => {
                return Ok(refuse(
                    403,
                    "origin_not_allowed",
                    "this page's origin may not open the chat of this tenant",
                ))
            }
            None => return Ok(refuse(404, "tenant_not_found", "tenant not found")),
        }
        // The widget's hello moves the connection to its session.
        let Some(session) = placeholder_session() else {
            return Ok(refuse(
                500,
                "internal_error",
                "something went wrong on our side",
            ));
        };
        let Some(endpoint) = self.endpoint(ev) else {
            return Ok(refuse(
                400,
                "missing_endpoint",
                "the event has no domainName or stage",
            ));
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
        let Some(row) = db::get_connection(&pool, connection_id).await? else {
            // Not opened through `$connect` (or already forgotten): its tenant and origin
            // were never checked, so none of its frames run.
            if let Some(endpoint) = self.endpoint(ev) {
                let frame = ServerMessage::error(CONNECTION_UNKNOWN, CONNECTION_UNKNOWN_MESSAGE);
                if let Err(e) = self
                    .pusher
                    .post(&endpoint, connection_id, frame.to_frame())
                    .await
                {
                    tracing::warn!(error = %e, "could not post the unknown-connection frame");
                }
            }
            return Ok(refuse(403, CONNECTION_UNKNOWN, CONNECTION_UNKNOWN_MESSAGE));
        };
        let endpoint = row.endpoint.clone();
        let sink = PushSink::new(self.pusher.clone(), endpoint.clone(), connection_id);
        let mut conn = Connection {
            id: connection_id.to_string(),
            tenant: Some(TenantId(row.tenant_id)),
            session: SessionId::parse(&row.session_id).ok(),
        };
        let body = ev.body.as_deref().unwrap_or("");
        if let Some(budgets) = &self.budgets {
            use gomomo::services::budgets::{rate_limited_frame, BudgetError};
            let session = conn.session.as_ref().map(|s| s.as_str());
            match gomomo::services::chat_session::frame_budget(
                budgets,
                body,
                session,
                source_ip(ev),
            )
            .await
            {
                Ok(()) => {}
                Err(BudgetError::Exceeded { retry_after, .. }) => {
                    let frame = rate_limited_frame(retry_after);
                    if let Err(e) = self.pusher.post(&endpoint, connection_id, frame).await {
                        tracing::warn!(error = %e, "could not post the rate-limit frame");
                    }
                    return Ok(response(200, "rate limited"));
                }
                Err(BudgetError::Database(e)) => return Err(e.into()),
            }
        }
        let chat = ChatSession::new(self.agent.clone());
        let chat = match &self.budgets {
            Some(b) => chat.for_client(b, source_ip(ev)),
            None => chat,
        };
        chat.handle_frame(&mut conn, body, &sink).await?;
        if sink.is_gone() {
            db::delete_connection(&pool, connection_id).await?;
        }
        Ok(response(200, "ok"))
    }
}
