//! The chat-ws function with real API Gateway WebSocket events (tests/fixtures, see its
//! README), a real Postgres, and a local HTTP server standing in for the `@connections`
//! Management API endpoint: the AWS SDK really signs and posts every frame to it.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use aws_lambda_events::encodings::Body;
use gomomo::services::admin;
use gomomo_chat_ws::management_endpoint;
use serde_json::json;
use sqlx::PgPool;
use support::{
    app, chat_ws, chat_ws_with, connect, connections_server, event, fixture, message, with_conn,
    Published, TENANT,
};

/// A session issued for the demo tenant.
async fn issued(pool: &PgPool) -> String {
    gomomo::services::sessions::issue(pool, gomomo::domain::TenantId::parse(TENANT).unwrap())
        .await
        .unwrap()
        .as_str()
        .to_string()
}

#[sqlx::test(migrations = "../../migrations")]
async fn connect_stores_the_connection_with_the_endpoint_of_the_request(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let ws = chat_ws(&pool, None);
    // powertools' real $connect, with our query string: the tenant only
    let mut v = fixture("pt-connect");
    v["queryStringParameters"] = json!({"tenant_id": TENANT});
    let r = ws.handle(event(v)).await.unwrap();
    assert_eq!(r.status_code, 200);
    let (tenant, session, endpoint): (uuid::Uuid, String, String) =
        sqlx::query_as("SELECT tenant_id, session_id, endpoint FROM ws_connections WHERE connection_id = 'BFHPhfCWIAMCKlQ='")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(tenant.to_string(), TENANT);
    assert!(
        session.starts_with("pending-"),
        "a placeholder until the hello: {session}"
    );
    assert_eq!(
        endpoint,
        "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"
    );
    assert_eq!(
        endpoint,
        management_endpoint("asasasas.execute-api.us-east-1.amazonaws.com", "prod")
    );

    // refused, with a JSON error code and nothing stored: no tenant, a malformed one, an
    // unknown one, and a session id in the URL (a bearer secret: it goes in the hello)
    for (q, status, code) in [
        (json!(null), 400, "invalid_tenant_id"),
        (json!({"tenant_id": "nope"}), 400, "invalid_tenant_id"),
        (
            json!({"tenant_id": "6d0e0000-0000-4000-8000-0000000000ff"}),
            404,
            "tenant_not_found",
        ),
        (
            json!({"tenant_id": TENANT, "session_id": "web-abc"}),
            400,
            "session_in_url",
        ),
        (json!({"session_id": "web-abc"}), 400, "session_in_url"),
    ] {
        let mut v = with_conn(fixture("pt-connect"), "refused-1");
        v["queryStringParameters"] = q.clone();
        v["multiValueQueryStringParameters"] = json!(null);
        let r = ws.handle(event(v)).await.unwrap();
        assert_eq!(r.status_code, status, "{q}");
        let Some(Body::Text(body)) = &r.body else {
            panic!("a body")
        };
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], code, "{q}");
        assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    }
    // the same in the multi-value form alone
    let mut v = with_conn(fixture("pt-connect"), "refused-1");
    v["queryStringParameters"] = json!({"tenant_id": TENANT});
    v["multiValueQueryStringParameters"] =
        json!({"tenant_id": [TENANT], "session_id": ["web-abc"]});
    assert_eq!(ws.handle(event(v)).await.unwrap().status_code, 400);
    let (refused,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM ws_connections WHERE connection_id = 'refused-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(refused, 0);

    // a browser's Origin must be the deployment's own or one of the tenant's widget
    // origins (the demo lists its local ones); a client without one is not a browser
    for (origin, status) in [
        (Some("https://evil.example.com"), 403),
        (Some("null"), 403),
        (Some("https://gomomo.example.com"), 200),
        (Some("http://localhost:3000"), 200),
        (None, 200),
    ] {
        let mut v = with_conn(fixture("pt-connect"), "origin-1");
        v["queryStringParameters"] = json!({"tenant_id": TENANT});
        v["multiValueQueryStringParameters"] = json!(null);
        if let Some(o) = origin {
            v["headers"]["Origin"] = json!(o);
            v["multiValueHeaders"]["Origin"] = json!([o]);
        }
        let r = ws.handle(event(v)).await.unwrap();
        assert_eq!(r.status_code, status, "{origin:?}");
        if status == 403 {
            let Some(Body::Text(body)) = &r.body else {
                panic!("a body")
            };
            assert!(body.contains("origin_not_allowed"), "{body}");
        }
    }
    let (stored,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM ws_connections WHERE connection_id = 'origin-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(stored, 1, "the allowed ones, under one connection id");
    // a tenant that lists no origins: its deployment's own only
    sqlx::query("UPDATE tenants SET widget_origins = '{}'")
        .execute(&pool)
        .await
        .unwrap();
    let mut v = with_conn(fixture("pt-connect"), "origin-2");
    v["queryStringParameters"] = json!({"tenant_id": TENANT});
    v["headers"]["Origin"] = json!("http://localhost:3000");
    assert_eq!(ws.handle(event(v)).await.unwrap().status_code, 403);
    let v = with_conn(fixture("pt-disconnect"), "origin-1");
    ws.handle(event(v)).await.unwrap();

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
    let go = issued(&pool).await;
    // GIVEN a pending push for the session (written by the autonomy side)
    sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, $3, 'waitlist_match', '{\"label\":\"Tue, Dec 8 at 9:00 AM\"}')")
        .bind(uuid::Uuid::new_v4())
        .bind(seed.tenant_id)
        .bind(&go)
        .execute(&pool)
        .await
        .unwrap();
    let r = ws
        .handle(event(connect(conn, json!({"tenant_id": TENANT}))))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    assert!(
        server.posts.lock().unwrap().is_empty(),
        "nothing can be posted during $connect"
    );

    // WHEN the widget says hello with its session THEN the connection moves to it and it
    // gets its status, the (empty) history and the pending push
    let r = ws
        .handle(event(message(
            conn,
            json!({"action": "hello", "tenant_id": TENANT, "session_id": go}),
        )))
        .await
        .unwrap();
    assert_eq!(r.status_code, 200);
    {
        let posts = server.posts.lock().unwrap();
        assert_eq!(posts.len(), 3, "{posts:?}");
        assert_eq!(posts[0].0, "/@connections/R1kmxc2VNjMCFIA%3D");
        assert!(posts.iter().all(|p| p.1), "SigV4-signed");
        assert_eq!(posts[0].2["type"], "status");
        assert_eq!(posts[1].2["type"], "history");
        assert_eq!(posts[1].2["messages"], json!([]));
        assert_eq!(posts[2].2["type"], "push");
        assert_eq!(posts[2].2["push_type"], "waitlist_match");
    }
    let (session,): (String,) =
        sqlx::query_as("SELECT session_id FROM ws_connections WHERE connection_id = $1")
            .bind(conn)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(session, go);
    let (pending,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM push_events WHERE delivered_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 0);

    // a message: typing, status, assistant_message, typing off, idle
    server.posts.lock().unwrap().clear();
    ws.handle(event(message(conn, json!({"action": "message", "tenant_id": TENANT, "session_id": go, "text": "I'd like to book a consultation"}))))
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
        assert_eq!(posts[2].2["session_id"], go.as_str());
    }
    // a session the server did not issue is refused; a hello with one is issued a new one
    for chosen in ["web-go", "call:CA0123456789abcdef0123456789abcdef"] {
        server.posts.lock().unwrap().clear();
        ws.handle(event(message(
            conn,
            json!({"action": "message", "tenant_id": TENANT, "session_id": chosen, "text": "hi"}),
        )))
        .await
        .unwrap();
        assert_eq!(
            server.posts.lock().unwrap()[0].2["code"],
            "session_not_found"
        );
        server.posts.lock().unwrap().clear();
        ws.handle(event(message(
            conn,
            json!({"action": "hello", "tenant_id": TENANT, "session_id": chosen}),
        )))
        .await
        .unwrap();
        let posts = server.posts.lock().unwrap();
        assert_eq!(posts[0].2["type"], "session", "{posts:?}");
        let fresh = posts[0].2["session_id"].as_str().unwrap();
        assert!(fresh.starts_with("gs_") && fresh != go, "{fresh}");
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
    ws.handle(event(connect("gone-1", json!({"tenant_id": TENANT}))))
        .await
        .unwrap();
    let r = ws
        .handle(event(message("gone-1", json!({"action": "message", "tenant_id": TENANT, "session_id": issued(&pool).await, "text": "hello"}))))
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

#[sqlx::test(migrations = "../../migrations")]
async fn a_booking_reaches_the_event_publisher_before_the_handler_returns(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let published = Published::default();
    let app = app(pool.clone(), Arc::new(published.clone()));
    let (url, server) = connections_server().await;
    let ws = chat_ws_with(app.agent.clone(), Some(url));
    let conn = "Bk1ngCnnctn0=";
    ws.handle(event(connect(conn, json!({"tenant_id": TENANT}))))
        .await
        .unwrap();
    let events_session = issued(&pool).await;
    let say = |text: &str| {
        event(message(
            conn,
            json!({"action": "message", "tenant_id": TENANT, "session_id": events_session, "text": text}),
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
    let (published_at,): (Option<chrono::DateTime<chrono::Utc>>,) =
        sqlx::query_as("SELECT published_at FROM outbox WHERE id = $1")
            .bind(created[0].event_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(published_at.is_some(), "the outbox row is marked published");
}

#[sqlx::test(migrations = "../../migrations")]
async fn frames_on_a_connection_never_opened_run_nothing(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let ws = chat_ws(&pool, Some(url));
    let before: (i64,) = sqlx::query_as("SELECT count(*) FROM issued_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    // GIVEN a connection id with no `$connect` (no ws_connections row): its tenant and
    // origin were never checked
    for frame in [
        json!({"action": "hello", "tenant_id": TENANT}),
        json!({"action": "message", "tenant_id": TENANT, "text": "I'd like to book a consultation"}),
        json!({"action": "message", "tenant_id": TENANT, "session_id": issued(&pool).await, "text": "hello"}),
    ] {
        server.posts.lock().unwrap().clear();
        let r = ws
            .handle(event(message("never-connected", frame)))
            .await
            .unwrap();
        // THEN the frame is refused with `connection_unknown` and runs nothing
        assert_eq!(r.status_code, 403);
        let posts = server.posts.lock().unwrap();
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert_eq!(posts[0].2["type"], "error");
        assert_eq!(posts[0].2["code"], "connection_unknown");
    }
    // No session was issued for it (the third frame's session was issued by the test).
    let after: (i64,) = sqlx::query_as("SELECT count(*) FROM issued_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after.0 - before.0, 1);
    let (turns,): (i64,) = sqlx::query_as("SELECT count(*) FROM chat_messages")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(turns, 0, "no turn ran");
}

/// The widget sends the browser's zone with each message: the replies show the client's
/// time beside the clinic's; a zone that is no IANA name is an error frame and no turn.
#[sqlx::test(migrations = "../../migrations")]
async fn a_message_with_the_browsers_zone_shows_both_times(pool: PgPool) {
    admin::seed_demo(&pool).await.unwrap();
    let (url, server) = connections_server().await;
    let ws = chat_ws(&pool, Some(url));
    let conn = "Zk9mxc2VNjMCFIA=";
    let go = issued(&pool).await;
    ws.handle(event(connect(conn, json!({"tenant_id": TENANT}))))
        .await
        .unwrap();
    ws.handle(event(message(
        conn,
        json!({"action": "hello", "tenant_id": TENANT, "session_id": go}),
    )))
    .await
    .unwrap();

    server.posts.lock().unwrap().clear();
    ws.handle(event(message(
        conn,
        json!({"action": "message", "tenant_id": TENANT, "session_id": go,
        "text": "hi", "client_time_zone": "Mars/Olympus_Mons"}),
    )))
    .await
    .unwrap();
    {
        let posts = server.posts.lock().unwrap();
        assert_eq!(posts.len(), 1, "no turn ran: {posts:?}");
        assert_eq!(posts[0].2["code"], "invalid_client_time_zone");
    }

    server.posts.lock().unwrap().clear();
    ws.handle(event(message(
        conn,
        json!({"action": "message", "tenant_id": TENANT, "session_id": go,
        "text": "I'd like to book a consultation tomorrow", "client_time_zone": "Europe/Madrid"}),
    )))
    .await
    .unwrap();
    let posts = server.posts.lock().unwrap();
    let answer = posts
        .iter()
        .find(|p| p.2["type"] == "assistant_message")
        .unwrap();
    let text = answer.2["text"].as_str().unwrap();
    assert!(
        text.contains("9:00 AM (your time: 3:00 PM Europe/Madrid)"),
        "{text}"
    );
}
