//! The standalone server's chat: a real WebSocket at `/ws` speaking the protocol of
//! [`gomomo::services::chat_session`] like the API Gateway route. The pages (`/`,
//! `/widget.js`) come from the shared web router, as on the api function.
//!
//! The client connects with `?tenant_id=` only and names its session in the `hello` frame:
//! a session id is a bearer secret and never travels in a URL, so a `session_id` query
//! parameter is refused with 400 `session_in_url` (as on API Gateway). Until the hello the
//! connection sits on a fresh session; nothing is sent before it.
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

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use gomomo::app::local::{LocalSocket, LocalSockets};
use gomomo::db::chat as db;
use gomomo::domain::{SessionId, TenantId};
use gomomo::http::ApiError;
use gomomo::services::agent::Agent;
use gomomo::services::chat_session::{new_session, ChatSession, Connection};
use serde::Deserialize;

/// How long a closing socket's writer may take to flush what is queued.
const FLUSH_ON_CLOSE: Duration = Duration::from_secs(5);
#[derive(Clone)]
pub struct ChatState {
    pub chat: ChatSession,
    /// Where open sockets register so live pushes reach them.
    pub sockets: LocalSockets,
}

pub fn router(agent: Agent, sockets: LocalSockets) -> Router {
    Router::new().route("/ws", get(ws)).with_state(ChatState {
        chat: ChatSession::new(agent),
        sockets,
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
    Query(q): Query<WsQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if q.session_id.is_some() {
        return Err(ApiError::bad_request(
            "session_in_url",
            "connect with tenant_id only and send session_id in the hello frame",
        ));
    }
    let tenant = TenantId::parse(q.tenant_id.as_deref().unwrap_or(""))?;
    // Refuse unknown tenants before upgrading (fail closed).
    state.chat.agent().booking().schedule(tenant).await?;
    // The widget's hello moves the connection to its session.
    let session = new_session().ok_or_else(|| {
        ApiError::internal(&std::io::Error::other("could not create a session id"))
    })?;
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

/// The live-push scene (Ana books, Lee waits), shared with the worker's and scheduler's tests.
#[cfg(test)]
#[path = "../../shared/tests/support/scene.rs"]
mod scene;

#[cfg(test)]
mod tests {
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

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

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
        sqlx::query_as("SELECT connection_id, session_id, endpoint FROM ws_connections")
            .fetch_all(pool)
            .await
            .unwrap()
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
        let router = router(app.agent.clone(), runtime.sockets());
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
        // the tenant only, the hello names the session
        lee_waits(&pool, tenant, "web-lee", day, day).await;
        let url = format!("ws://{addr}/ws?tenant_id={tenant}");
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        assert_eq!(
            next_frame(&mut ws, Duration::from_millis(300)).await,
            None,
            "nothing is sent before the hello"
        );
        let hello =
            json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": "web-lee"});
        ws.send(WsMessage::Text(hello.to_string().into()))
            .await
            .unwrap();
        let status = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
        assert_eq!(status["type"], "status");
        assert_eq!(status["state"], "connected");
        assert_eq!(status["session_id"], "web-lee");
        let history = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
        assert_eq!(history["type"], "history");
        assert_eq!(sockets.len(), 1);
        // The row is this process's, moved to Lee's session by the hello.
        let rows = connections(&pool).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1, "web-lee");
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
        assert_eq!(push["session_id"], "web-lee");
        // The row is marked right after the post returns, which may be just after the
        // frame reached the client: wait for it, within a deadline.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let delivered: bool = sqlx::query_scalar(
                "SELECT delivered_at IS NOT NULL FROM push_events WHERE session_id = 'web-lee'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
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
            sqlx::query(
                "INSERT INTO ws_connections (connection_id, tenant_id, session_id, endpoint, last_seen_at)
                 VALUES ($1, $2, 'web-lee', $3, now() - make_interval(secs => $4))",
            )
            .bind(id)
            .bind(tenant.0)
            .bind(endpoint)
            .bind(f64::from(age))
            .execute(&pool)
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
        let hello =
            json!({"action": "hello", "tenant_id": tenant.to_string(), "session_id": "web-lee"});
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
        sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload) VALUES ($1, $2, 'web-lee', 'waitlist_match', '{}')")
            .bind(uuid::Uuid::new_v4())
            .bind(tenant.0)
            .execute(&pool)
            .await
            .unwrap();

        // WHEN the second process delivers Lee's pending push
        let second = gomomo::app::local::LocalSockets::new();
        let live = gomomo::services::push::LivePush::new(pool.clone(), std::sync::Arc::new(second));
        let report = live
            .deliver(tenant, &SessionId::parse("web-lee").unwrap())
            .await;

        // THEN the first process's connection stays recorded and the push stays pending
        assert_eq!(
            (report.connections, report.delivered, report.removed),
            (1, 0, 0)
        );
        assert_eq!(connections(&pool).await.len(), 1);
        // AND the first process itself still reaches the socket
        let live = gomomo::services::push::LivePush::new(
            pool.clone(),
            std::sync::Arc::new(first.sockets()),
        );
        let report = live
            .deliver(tenant, &SessionId::parse("web-lee").unwrap())
            .await;
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
}
