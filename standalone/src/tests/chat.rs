//! `gomomo serve`'s socket: live pushes, refusals, and several servers on one database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{Datelike as _, Duration as Days, TimeZone as _, Utc, Weekday};
use chrono_tz::America::New_York;
use futures_util::{SinkExt as _, StreamExt as _};
use gomomo::domain::{Email, ReferenceCode};
use gomomo::services::admin;
use gomomo::Config;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::scene::{ana_books, lee_waits, ANA_EMAIL};
use super::*;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON frame within `within`, or None.
async fn next_frame(ws: &mut Socket, within: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(within, ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => return serde_json::from_str(&t).ok(),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

async fn connections(pool: &PgPool) -> Vec<(String, String, String)> {
    gomomo::db::chat::all_connections(pool)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.connection_id, c.session_id, c.endpoint))
        .collect()
}

/// A session issued for `tenant`.
async fn issued(pool: &PgPool, tenant: TenantId) -> String {
    gomomo::services::sessions::issue(pool, tenant)
        .await
        .unwrap()
        .as_str()
        .to_string()
}

/// `gomomo serve`'s wiring (composition root, in-process worker and scheduler, the chat
/// router with the socket registry) on a loopback port.
async fn serve(pool: &PgPool) -> (gomomo::app::App, gomomo::app::local::LocalRuntime, String) {
    let config = Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some("postgres://unused/db".into()),
        "AUTONOMY_ENABLED" => Some("true".into()),
        "HOLD_SWEEP_INTERVAL_SECONDS" => Some("3600".into()),
        _ => None,
    })
    .unwrap();
    let (app, runtime) = gomomo::app::App::standalone(config, pool.clone()).unwrap();
    let router = router(
        app.agent.clone(),
        runtime.sockets(),
        "https://gomomo.example.com",
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (app, runtime, addr.to_string())
}

/// A waitlist offer written by the job runner reaches the open socket of the waiting
/// client, who sends nothing after its hello.
#[sqlx::test(migrations = "../migrations")]
async fn an_open_socket_receives_a_push_without_asking(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let (app, runtime, addr) = serve(&pool).await;
    let sockets = runtime.sockets();

    // GIVEN Ana's booking at 10:00 on a weekday at least two days out
    let mut day = Utc::now().with_timezone(&New_York).date_naive() + Days::days(2);
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Days::days(1);
    }
    let start = New_York
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let booked = ana_books(&app.booking, tenant, start).await;
    // AND Lee waiting for a morning that day, with the chat open: the socket URL names
    // the tenant only, the hello names the session the server issued
    let lee = issued(&pool, tenant).await;
    lee_waits(&pool, tenant, &lee, day, day).await;
    let url = format!("ws://{addr}/ws?tenant_id={tenant}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(
        next_frame(&mut ws, Duration::from_millis(300)).await,
        None,
        "nothing is sent before the hello"
    );
    let hello = json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": lee});
    ws.send(WsMessage::Text(hello.to_string().into()))
        .await
        .unwrap();
    let status = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(status["type"], "status");
    assert_eq!(status["state"], "connected");
    assert_eq!(status["session_id"], lee.as_str());
    let history = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(history["type"], "history");
    assert_eq!(sockets.len(), 1);
    // The row is this process's, moved to Lee's session by the hello.
    let rows = connections(&pool).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, lee);
    assert_eq!(rows[0].2, sockets.endpoint());
    assert!(rows[0].2.starts_with("local:"), "{}", rows[0].2);

    // WHEN Ana cancels (the in-process worker runs the waitlist offer)
    let cancelled_at = Instant::now();
    app.booking
        .cancel(
            tenant,
            &ReferenceCode::parse(&booked.reference).unwrap(),
            &Email::parse(ANA_EMAIL).unwrap(),
        )
        .await
        .unwrap();

    // THEN Lee's socket gets the offer within a couple of seconds, unasked
    let push = next_frame(&mut ws, Duration::from_secs(3))
        .await
        .expect("the push arrives without a frame from the client");
    assert!(cancelled_at.elapsed() < Duration::from_secs(3));
    assert_eq!(push["type"], "push");
    assert_eq!(push["push_type"], "waitlist_match");
    assert_eq!(push["session_id"], lee.as_str());
    // The row is marked right after the post returns, which may be just after the
    // frame reached the client: wait for it, within a deadline.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let delivered = gomomo::db::chat::undelivered_pushes(&pool, &lee)
            .await
            .unwrap()
            == 0;
        if delivered {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "marked delivered once the socket took it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // AND closing the socket forgets it, in the registry and in Postgres
    ws.send(WsMessage::Close(None)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(sockets.is_empty() && connections(&pool).await.is_empty()) {
        assert!(Instant::now() < deadline, "the closed socket is forgotten");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    runtime.stop();
}

/// A session id in the socket URL is refused before the upgrade, with a code the client
/// can act on; nothing is recorded.
#[sqlx::test(migrations = "../migrations")]
async fn a_session_id_in_the_url_is_refused(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let (_app, runtime, addr) = serve(&pool).await;
    let url = format!("ws://{addr}/ws?tenant_id={tenant}&session_id=web-lee");
    let Err(tokio_tungstenite::tungstenite::Error::Http(refused)) =
        tokio_tungstenite::connect_async(url).await
    else {
        panic!("the upgrade is refused");
    };
    assert_eq!(refused.status(), 400);
    let body: Value = serde_json::from_slice(refused.body().as_deref().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "session_in_url");
    assert!(runtime.sockets().is_empty());
    assert!(connections(&pool).await.is_empty());
    runtime.stop();
}

/// A server that was killed leaves its connections recorded; the next server removes
/// them when it starts, so pushes to those sessions stop being posted to nobody. The
/// rows of a live server (seen lately) and of API Gateway stay.
#[sqlx::test(migrations = "../migrations")]
async fn a_killed_server_rows_are_removed_by_the_next_one(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let api = "https://abc.execute-api.eu-west-1.amazonaws.com/prod";
    for (id, endpoint, age) in [
        (
            "local-killed",
            "local:0b6f1c2e-dead-4222-8333-444455556666",
            3600,
        ),
        ("local-older", "local", 3600),
        (
            "local-live",
            "local:0b6f1c2e-1111-4222-8333-444455556666",
            30,
        ),
        ("apigw", api, 3600),
    ] {
        let row = gomomo::db::chat::ConnectionRow {
            connection_id: id.to_string(),
            tenant_id: tenant.0,
            session_id: "web-lee".into(),
            endpoint: endpoint.to_string(),
        };
        let seen = chrono::Utc::now() - chrono::Duration::seconds(i64::from(age));
        gomomo::db::chat::put_connection_seen(&pool, &row, seen)
            .await
            .unwrap();
    }
    let (_app, runtime, _addr) = serve(&pool).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut ids: Vec<String> = connections(&pool).await.into_iter().map(|r| r.0).collect();
        ids.sort();
        if ids == ["apigw", "local-live"] {
            break;
        }
        assert!(Instant::now() < deadline, "stale rows left: {ids:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    runtime.stop();
}

/// Another `gomomo serve` on the same database (a restart's overlap, a second replica)
/// never removes this process's live connections: its live delivery cannot reach them,
/// and says so without calling them gone.
#[sqlx::test(migrations = "../migrations")]
async fn a_second_process_leaves_the_first_one_connections_alone(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let (_app, first, addr) = serve(&pool).await;
    let url = format!("ws://{addr}/ws?tenant_id={tenant}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let lee = issued(&pool, tenant).await;
    let hello = json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": lee});
    ws.send(WsMessage::Text(hello.to_string().into()))
        .await
        .unwrap();
    // (frames are handled in order: the pong means the hello is done)
    ws.send(WsMessage::Text(
        json!({"action": "ping"}).to_string().into(),
    ))
    .await
    .unwrap();
    while next_frame(&mut ws, Duration::from_secs(5)).await.unwrap()["type"] != "pong" {}
    {
        let mut conn = pool.acquire().await.unwrap();
        gomomo::db::notifications::push_if_cool(
            &mut conn,
            tenant.0,
            &lee,
            "waitlist_match",
            &json!({}),
            chrono::Utc::now(),
            chrono::Duration::zero(),
        )
        .await
        .unwrap()
        .expect("no earlier push to cool down from");
    }

    // WHEN the second process delivers Lee's pending push
    let second = gomomo::app::local::LocalSockets::new();
    let live = gomomo::services::push::LivePush::new(pool.clone(), std::sync::Arc::new(second));
    let report = live.deliver(tenant, &SessionId::parse(&lee).unwrap()).await;

    // THEN the first process's connection stays recorded and the push stays pending
    assert_eq!(
        (report.connections, report.delivered, report.removed),
        (1, 0, 0)
    );
    assert_eq!(connections(&pool).await.len(), 1);
    // AND the first process itself still reaches the socket
    let live =
        gomomo::services::push::LivePush::new(pool.clone(), std::sync::Arc::new(first.sockets()));
    let report = live.deliver(tenant, &SessionId::parse(&lee).unwrap()).await;
    assert_eq!(report.delivered, 1);
    let mut push = None;
    while let Some(f) = next_frame(&mut ws, Duration::from_secs(3)).await {
        if f["type"] == "push" {
            push = Some(f);
            break;
        }
    }
    assert_eq!(
        push.expect("the push reaches the socket")["push_type"],
        "waitlist_match"
    );
    first.stop();
}

/// Sessions are the server's: a hello without one is issued one in a `session` frame, a
/// message naming one the server never issued (a client-chosen id, a call's) is refused.
#[sqlx::test(migrations = "../migrations")]
async fn the_socket_issues_sessions_and_refuses_chosen_ones(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let (_app, runtime, addr) = serve(&pool).await;
    let url = format!("ws://{addr}/ws?tenant_id={tenant}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let send = |v: Value| WsMessage::Text(v.to_string().into());
    ws.send(send(
        json!({"action": "hello", "tenant_id": tenant.to_string()}),
    ))
    .await
    .unwrap();
    let first = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(first["type"], "session", "{first}");
    let sid = first["session_id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("gs_") && sid.len() == 46, "{sid}");
    let status = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(status["session_id"], sid.as_str());
    next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
    for chosen in ["web-lee", "call:CA0123456789abcdef0123456789abcdef"] {
        ws.send(send(json!({"action": "message", "tenant_id": tenant.to_string(), "session_id": chosen, "text": "cancel my booking"})))
            .await
            .unwrap();
        let f = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
        assert_eq!(f["code"], "session_not_found", "{chosen}: {f}");
    }
    ws.send(send(json!({"action": "message", "tenant_id": tenant.to_string(), "session_id": sid, "text": "hi"})))
        .await
        .unwrap();
    let mut reply = None;
    while let Some(f) = next_frame(&mut ws, Duration::from_secs(5)).await {
        if f["type"] == "assistant_message" {
            reply = Some(f);
            break;
        }
    }
    assert_eq!(reply.expect("a reply")["session_id"], sid.as_str());
    runtime.stop();
}

/// A browser's Origin must be the server's own or one of the tenant's widget origins;
/// a client without an Origin is not a browser and is not limited by it.
#[sqlx::test(migrations = "../migrations")]
async fn the_socket_checks_the_browser_origin(pool: PgPool) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let (_app, runtime, addr) = serve(&pool).await;
    let open = |origin: Option<String>| {
        let url = format!("ws://{addr}/ws?tenant_id={tenant}");
        async move {
            let mut req = url.into_client_request().unwrap();
            if let Some(o) = origin {
                req.headers_mut().insert("origin", o.parse().unwrap());
            }
            match tokio_tungstenite::connect_async(req).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                    if r.status() == 403 {
                        let body: Value =
                            serde_json::from_slice(r.body().as_deref().unwrap()).unwrap();
                        assert_eq!(body["error"]["code"], "origin_not_allowed");
                    }
                    r.status().as_u16()
                }
                Err(e) => panic!("{e}"),
            }
        }
    };
    for (origin, status) in [
        (None, 101),
        (Some(format!("http://{addr}")), 101),
        (Some("https://gomomo.example.com".to_string()), 101),
        (Some("http://localhost:3000".to_string()), 101),
        (Some("https://evil.example.com".to_string()), 403),
        (Some("null".to_string()), 403),
    ] {
        assert_eq!(open(origin.clone()).await, status, "{origin:?}");
    }
    // the tenant's list decides for other pages: empty, then one shop, then any
    gomomo::db::sessions::set_widget_origins(&pool, tenant.0, &[])
        .await
        .unwrap();
    assert_eq!(open(Some("http://localhost:3000".into())).await, 403);
    assert_eq!(open(Some(format!("http://{addr}"))).await, 101);
    gomomo::db::sessions::set_widget_origins(
        &pool,
        tenant.0,
        &["https://shop.example.com".to_string()],
    )
    .await
    .unwrap();
    assert_eq!(open(Some("https://shop.example.com".into())).await, 101);
    assert_eq!(open(Some("https://evil.example.com".into())).await, 403);
    gomomo::db::sessions::set_widget_origins(&pool, tenant.0, &["*".to_string()])
        .await
        .unwrap();
    assert_eq!(open(Some("https://evil.example.com".into())).await, 101);
    runtime.stop();
}
