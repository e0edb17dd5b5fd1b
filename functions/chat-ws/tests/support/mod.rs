//! What the chat-ws tests share: real API Gateway WebSocket events (tests/fixtures, see its
//! README), a local HTTP server standing in for the `@connections` Management API endpoint,
//! the function and the composition root over a test configuration, and a recording event
//! publisher.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::adapters::aws::{ApiGatewayPusher, AwsAccess};
use gomomo::adapters::local::{LogMailer, LogSmsSender, MockCalendar};
use gomomo::app::{Adapters, App};
use gomomo::config::AwsCredentials;
use gomomo::ports::{EventPublisher, OutboundEvent, PublishError};
use gomomo::services::agent::{Agent, AgentLimits};
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use gomomo_chat_ws::ChatWs;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use sqlx::PgPool;

/// The frames posted to the stand-in endpoint: (path, SigV4-signed?, frame).
#[derive(Clone, Default)]
pub struct Connections {
    pub posts: Arc<Mutex<Vec<(String, bool, Value)>>>,
}

/// POST /@connections/{id}: records (path, signed?, frame); connections named gone* are 410.
async fn at_connections(
    State(c): State<Connections>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    let frame: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert!(body.len() < 32 * 1024, "frames stay under 32 KB");
    c.posts
        .lock()
        .unwrap()
        .push((uri.path().to_string(), signed, frame));
    if uri.path().contains("gone") {
        StatusCode::GONE
    } else {
        StatusCode::OK
    }
}

/// A local stand-in for the `@connections` Management API endpoint: its URL and its posts.
pub async fn connections_server() -> (String, Connections) {
    let c = Connections::default();
    let app = Router::new().fallback(at_connections).with_state(c.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), c)
}

pub fn fixture(name: &str) -> Value {
    let raw = match name {
        "pt-connect" => {
            include_str!("../fixtures/powertools-python__apiGatewayWebSocketApiConnect.json")
        }
        "pt-message" => {
            include_str!("../fixtures/powertools-python__apiGatewayWebSocketApiMessage.json")
        }
        "pt-disconnect" => {
            include_str!("../fixtures/powertools-python__apiGatewayWebSocketApiDisconnect.json")
        }
        "go-connect" => include_str!("../fixtures/aws-lambda-go__apigw-websocket-request.json"),
        "go-message" => {
            include_str!("../fixtures/aws-lambda-go__apigw-websocket-request-send-message.json")
        }
        "go-disconnect" => {
            include_str!("../fixtures/aws-lambda-go__apigw-websocket-request-disconnect.json")
        }
        _ => unreachable!(),
    };
    serde_json::from_str(raw).unwrap()
}

pub fn event(v: Value) -> LambdaEvent<ApiGatewayWebsocketProxyRequest> {
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

pub fn with_conn(mut v: Value, id: &str) -> Value {
    v["requestContext"]["connectionId"] = json!(id);
    v
}

pub fn message(id: &str, body: Value) -> Value {
    let mut v = with_conn(fixture("go-message"), id);
    v["body"] = json!(body.to_string());
    v
}

pub fn connect(id: &str, query: Value) -> Value {
    let mut v = with_conn(fixture("go-connect"), id);
    v["queryStringParameters"] = query;
    v
}

/// The demo tenant.
pub const TENANT: &str = "6d0e0000-0000-4000-8000-000000000001";

/// The function over the deterministic agent (clock: [`december_7_8am`]) posting through a
/// SigV4-signing Management API client to `endpoint_override` (or the request's endpoint).
pub fn chat_ws(pool: &PgPool, endpoint_override: Option<String>) -> ChatWs {
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    chat_ws_with(
        Agent::rules(booking, AgentLimits::default()),
        endpoint_override,
    )
}

/// The function over `agent`.
pub fn chat_ws_with(agent: Agent, endpoint_override: Option<String>) -> ChatWs {
    ChatWs {
        agent,
        pusher: Arc::new(ApiGatewayPusher::new(test_aws())),
        public_base_url: "https://gomomo.example.com".into(),
        endpoint_override,
        budgets: None,
    }
}

/// Monday 7 December 2026, 08:00 in New York (the demo tenant's zone).
pub fn december_7_8am() -> DateTime<Utc> {
    New_York
        .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The composition root over `pool` at [`december_7_8am`] with `publisher` as the event bus
/// (log mailer and SMS, the built-in calendar, the deterministic agent).
pub fn app(pool: PgPool, publisher: Arc<dyn EventPublisher>) -> App {
    let env = HashMap::from([("DATABASE_URL", "postgres://unused/db")]);
    let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    let adapters = Adapters {
        publisher: Some(publisher),
        mailer: Arc::new(LogMailer),
        sms: Arc::new(LogSmsSender),
        calendar: Arc::new(MockCalendar::new(config.calendar_fail_mode)),
        pusher: None,
    };
    App::build(config, pool, Clock::fixed(december_7_8am()), adapters)
}

/// Records every event the outbox relay publishes.
#[derive(Default, Clone)]
pub struct Published(pub Arc<Mutex<Vec<OutboundEvent>>>);

#[async_trait]
impl EventPublisher for Published {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<uuid::Uuid>, PublishError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(Vec::new())
    }
}

impl Published {
    /// The published `BookingCreated` events of `booking_id`.
    pub fn booking_created(&self, booking_id: uuid::Uuid) -> Vec<OutboundEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == "BookingCreated" && e.detail["booking_id"] == json!(booking_id))
            .cloned()
            .collect()
    }
}

/// Signing settings of the tests' Management API pusher (the test servers do not check the
/// signature).
pub fn test_aws() -> AwsAccess {
    AwsAccess::new(
        "us-east-1",
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
        None,
    )
}
