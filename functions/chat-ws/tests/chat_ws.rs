//! The chat-ws function with real API Gateway WebSocket events (tests/fixtures, see its
//! README), a real Postgres, and a local HTTP server standing in for the `@connections`
//! Management API endpoint: the AWS SDK really signs and posts every frame to it.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use chrono::{TimeZone as _, Utc};
use gomomo::adapters::aws::ApiGatewayPusher;
use gomomo::adapters::local::{LogMailer, LogSmsSender, MockCalendar};
use gomomo::app::{Adapters, App};
use gomomo::ports::{EventPublisher, OutboundEvent, PublishError};
use gomomo::services::admin;
use gomomo::services::agent::{Agent, AgentLimits};
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use gomomo_chat_ws::{management_endpoint, ChatWs};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use sqlx::PgPool;

#[derive(Clone, Default)]
struct Connections {
    posts: Arc<Mutex<Vec<(String, bool, Value)>>>,
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

async fn connections_server() -> (String, Connections) {
    let c = Connections::default();
    let app = Router::new().fallback(at_connections).with_state(c.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), c)
}

fn fixture(name: &str) -> Value {
    let raw = match name {
        "pt-connect" => {
            include_str!("fixtures/powertools-python__apiGatewayWebSocketApiConnect.json")
        }
        "pt-message" => {
            include_str!("fixtures/powertools-python__apiGatewayWebSocketApiMessage.json")
        }
        "pt-disconnect" => {
            include_str!("fixtures/powertools-python__apiGatewayWebSocketApiDisconnect.json")
        }
        "go-connect" => include_str!("fixtures/aws-lambda-go__apigw-websocket-request.json"),
        "go-message" => {
            include_str!("fixtures/aws-lambda-go__apigw-websocket-request-send-message.json")
        }
        "go-disconnect" => {
            include_str!("fixtures/aws-lambda-go__apigw-websocket-request-disconnect.json")
        }
        _ => unreachable!(),
    };
    serde_json::from_str(raw).unwrap()
}

fn event(v: Value) -> LambdaEvent<ApiGatewayWebsocketProxyRequest> {
    LambdaEvent::new(serde_json::from_value(v).unwrap(), Context::default())
}

fn with_conn(mut v: Value, id: &str) -> Value {
    v["requestContext"]["connectionId"] = json!(id);
    v
}

fn message(id: &str, body: Value) -> Value {
    let mut v = with_conn(fixture("go-message"), id);
    v["body"] = json!(body.to_string());
    v
}

fn connect(id: &str, query: Value) -> Value {
    let mut v = with_conn(fixture("go-connect"), id);
    v["queryStringParameters"] = query;
    v
}

const TENANT: &str = "6d0e0000-0000-4000-8000-000000000001";

fn chat_ws(pool: &PgPool, endpoint_override: Option<String>) -> ChatWs {
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(
            chrono_tz::America::New_York
                .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
        ),
        std::time::Duration::from_secs(300),
    );
    let base = aws_sdk_apigatewaymanagement::config::Builder::new()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ));
    ChatWs {
        agent: Agent::rules(booking, AgentLimits::default()),
        pusher: Arc::new(ApiGatewayPusher::new(base)),
        endpoint_override,
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn connect_stores_the_connection_with_the_endpoint_of_the_request(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let ws = chat_ws(&pool, None);
    // powertools' real $connect, with our query string
    let mut v = fixture("pt-connect");
    v["queryStringParameters"] = json!({"tenant_id": TENANT, "session_id": "web-abc"});
    let r = ws.handle(event(v)).await.unwrap();
    assert_eq!(r.status_code, 200);
    let (tenant, session, endpoint): (uuid::Uuid, String, String) =
        sqlx::query_as("SELECT tenant_id, session_id, endpoint FROM ws_connections WHERE connection_id = 'BFHPhfCWIAMCKlQ='")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tenant.to_string(), TENANT);
    assert_eq!(session, "web-abc");
    assert_eq!(
        endpoint,
        "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"
    );
    assert_eq!(
        endpoint,
        management_endpoint("asasasas.execute-api.us-east-1.amazonaws.com", "prod")
    );

    // refused: no tenant, a malformed one, an unknown one, a bad session id
    for (q, status) in [
        (json!(null), 400),
        (json!({"tenant_id": "nope"}), 400),
        (
            json!({"tenant_id": "6d0e0000-0000-4000-8000-0000000000ff"}),
            404,
        ),
        (json!({"tenant_id": TENANT, "session_id": "has space"}), 400),
    ] {
        let mut v = fixture("pt-connect");
        v["queryStringParameters"] = q;
        assert_eq!(ws.handle(event(v)).await.unwrap().status_code, status);
    }

    // powertools' real $disconnect of another connection, then of this one
    assert_eq!(
        ws.handle(event(fixture("pt-disconnect")))
            .await
            .unwrap()
            .status_code,
        200
    );
    let v = with_conn(fixture("pt-disconnect"), "BFHPhfCWIAMCKlQ=");
    assert_eq!(ws.handle(event(v)).await.unwrap().status_code, 200);
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM ws_connections")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_conversation_over_the_management_api(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let ws = chat_ws(&pool, Some(url));
    let conn = "R1kmxc2VNjMCFIA=";
    // GIVEN a pending push for the session (written by the autonomy side)
    sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, 'web-go', 'waitlist_match', '{\"label\":\"Tue, Dec 8 at 9:00 AM\"}')")
        .bind(uuid::Uuid::new_v4())
        .bind(seed.tenant_id)
        .execute(&pool)
        .await
        .unwrap();
    let r = ws
        .handle(event(connect(
            conn,
            json!({"tenant_id": TENANT, "session_id": "web-go"}),
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    assert!(
        server.posts.lock().unwrap().is_empty(),
        "nothing can be posted during $connect"
    );

    // WHEN the widget says hello THEN it gets its status and the pending push
    let r = ws
        .handle(event(message(
            conn,
            json!({"action": "hello", "tenant_id": TENANT, "session_id": "web-go"}),
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    {
        let posts = server.posts.lock().unwrap();
        assert_eq!(posts.len(), 2, "{posts:?}");
        assert_eq!(posts[0].0, "/@connections/R1kmxc2VNjMCFIA%3D");
        assert!(posts.iter().all(|p| p.1), "SigV4-signed");
        assert_eq!(posts[0].2["type"], "status");
        assert_eq!(posts[1].2["type"], "push");
        assert_eq!(posts[1].2["push_type"], "waitlist_match");
    }
    let (pending,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM push_events WHERE delivered_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 0);

    // a message: typing, status, assistant_message, typing off, idle
    server.posts.lock().unwrap().clear();
    ws.handle(event(message(conn, json!({"action": "message", "tenant_id": TENANT, "session_id": "web-go", "text": "I'd like to book a consultation"}))))
        .await
        .unwrap();
    {
        let posts = server.posts.lock().unwrap();
        let types: Vec<&str> = posts
            .iter()
            .map(|p| p.2["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["typing", "status", "assistant_message", "typing", "status"]
        );
        assert!(
            posts[2].2["text"].as_str().unwrap().contains("What day"),
            "{:?}",
            posts[2].2
        );
        assert_eq!(posts[2].2["session_id"], "web-go");
    }
    // the real powertools MESSAGE (custom route "chat", its own body) is not our protocol:
    // an error frame, never a crash
    server.posts.lock().unwrap().clear();
    let v = with_conn(fixture("pt-message"), conn);
    assert_eq!(ws.handle(event(v)).await.unwrap().status_code, 200);
    assert_eq!(server.posts.lock().unwrap()[0].2["code"], "invalid_message");
    // another tenant on this connection is refused
    server.posts.lock().unwrap().clear();
    ws.handle(event(message(conn, json!({"action": "message", "tenant_id": "6d0e0000-0000-4000-8000-0000000000ff", "text": "hi"}))))
        .await
        .unwrap();
    assert_eq!(server.posts.lock().unwrap()[0].2["code"], "tenant_mismatch");

    // aws-lambda-go's real $disconnect
    ws.handle(event(fixture("go-disconnect"))).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM ws_connections")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_gone_connection_is_removed(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let ws = chat_ws(&pool, Some(url));
    ws.handle(event(connect(
        "gone-1",
        json!({"tenant_id": TENANT, "session_id": "web-gone"}),
    )))
    .await
    .unwrap();
    let r = ws
        .handle(event(message("gone-1", json!({"action": "message", "tenant_id": TENANT, "session_id": "web-gone", "text": "hello"}))))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    assert_eq!(
        server.posts.lock().unwrap().len(),
        1,
        "nothing is posted after the 410"
    );
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM ws_connections")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Records every event the outbox relay publishes.
#[derive(Default, Clone)]
struct Published(Arc<Mutex<Vec<OutboundEvent>>>);

#[async_trait]
impl EventPublisher for Published {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<uuid::Uuid>, PublishError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(Vec::new())
    }
}

impl Published {
    fn booking_created(&self, booking_id: uuid::Uuid) -> Vec<OutboundEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.name == "BookingCreated" && e.detail["booking_id"] == json!(booking_id))
            .cloned()
            .collect()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_booking_reaches_the_event_publisher_before_the_handler_returns(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let env = HashMap::from([("DATABASE_URL", "postgres://unused/db")]);
    let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    let published = Published::default();
    let adapters = Adapters {
        publisher: Some(Arc::new(published.clone())),
        mailer: Arc::new(LogMailer),
        sms: Arc::new(LogSmsSender),
        calendar: Arc::new(MockCalendar::new(config.calendar_fail_mode)),
    };
    let clock = Clock::fixed(
        chrono_tz::America::New_York
            .with_ymd_and_hms(2026, 12, 7, 8, 0, 0)
            .unwrap()
            .with_timezone(&Utc),
    );
    let app = App::build(config, pool.clone(), clock, adapters);
    let (url, server) = connections_server().await;
    let mut ws = chat_ws(&pool, Some(url));
    ws.agent = app.agent.clone();
    let conn = "Bk1ngCnnctn0=";
    ws.handle(event(connect(
        conn,
        json!({"tenant_id": TENANT, "session_id": "web-events"}),
    )))
    .await
    .unwrap();
    let say = |text: &str| {
        event(message(
            conn,
            json!({"action": "message", "tenant_id": TENANT, "session_id": "web-events", "text": text}),
        ))
    };
    // GIVEN a conversation up to the confirmation question
    for text in [
        "I'd like to book a consultation",
        "tomorrow morning",
        "the first one",
        "Jane Doe",
        "jane dot doe at example dot com",
    ] {
        ws.handle(say(text)).await.unwrap();
    }
    assert!(published.0.lock().unwrap().is_empty(), "nothing booked yet");
    server.posts.lock().unwrap().clear();

    // WHEN the client says yes
    let r = ws.handle(say("yes please")).await.unwrap();
    assert_eq!(r.status_code, 200);

    // THEN, as soon as the handler returns, the booking's BookingCreated was published
    let reference = {
        let posts = server.posts.lock().unwrap();
        let reply = posts
            .iter()
            .find(|p| p.2["type"] == "assistant_message")
            .expect("a reply");
        reply.2["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "booking_confirmed")
            .expect("a confirmed booking")["reference"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (booking_id,): (uuid::Uuid,) =
        sqlx::query_as("SELECT id FROM appointments WHERE reference = $1 AND status = 'confirmed'")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    let created = published.booking_created(booking_id);
    assert_eq!(created.len(), 1, "{:?}", published.0.lock().unwrap());
    assert_eq!(created[0].tenant_id, seed.tenant_id);
    assert_eq!(created[0].detail["reference"], json!(reference));
    // AND its outbox row is marked published
    let (published_at,): (Option<chrono::DateTime<Utc>>,) =
        sqlx::query_as("SELECT published_at FROM outbox WHERE id = $1")
            .bind(created[0].event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(published_at.is_some(), "the outbox row is marked published");
}
