//! The standalone server's chat: a real WebSocket at `/ws` speaking the protocol of
//! [`gomomo::services::chat_session`] like the API Gateway route. The pages (`/`,
//! `/widget.js`) come from the shared web router, as on the api function.
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
use axum::response::Response;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Instant;

    use chrono::{Datelike as _, Duration as Days, TimeZone as _, Utc, Weekday};
    use chrono_tz::America::New_York;
    use futures_util::{SinkExt as _, StreamExt as _};
    use gomomo::domain::{ClientName, Email, ReferenceCode};
    use gomomo::services::admin;
    use gomomo::services::booking::ClientDetails;
    use gomomo::Config;
    use serde_json::Value;
    use sqlx::PgPool;
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    use super::*;

    /// The demo tenant's 30-minute consultation.
    const CONSULT: uuid::Uuid = uuid::Uuid::from_u128(0x6d0e0000_0000_4000_8000_0000000005e1);

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

    async fn connections(pool: &PgPool) -> Vec<(String, String)> {
        sqlx::query_as("SELECT connection_id, endpoint FROM ws_connections")
            .fetch_all(pool)
            .await
            .unwrap()
    }

    /// `gomomo serve`'s wiring (composition root, in-process worker and scheduler, the chat
    /// router with the socket registry) on a loopback port: a waitlist offer written by the
    /// job runner reaches the open socket of the waiting client, who sends nothing.
    #[sqlx::test(migrations = "../migrations")]
    async fn an_open_socket_receives_a_push_without_asking(pool: PgPool) {
        let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
        let config = Config::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://unused/db".into()),
            "AUTONOMY_ENABLED" => Some("true".into()),
            "HOLD_SWEEP_INTERVAL_SECONDS" => Some("3600".into()),
            _ => None,
        })
        .unwrap();
        let (app, runtime) = gomomo::app::App::standalone(config, pool.clone()).unwrap();
        let sockets = runtime.sockets();
        let router = router(app.agent.clone(), sockets.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });

        // GIVEN Ana's booking at 10:00 on a weekday at least two days out
        let mut day = Utc::now().with_timezone(&New_York).date_naive() + Days::days(2);
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            day += Days::days(1);
        }
        let start = New_York
            .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc);
        let ana = SessionId::parse("web-ana").unwrap();
        let hold = app
            .booking
            .create_hold(tenant, CONSULT, start, &ana)
            .await
            .unwrap();
        let client = ClientDetails {
            name: ClientName::parse("Ana Lopez").unwrap(),
            email: Email::parse("ana@example.com").unwrap(),
            phone: None,
            notes: None,
        };
        let (booked, _) = app
            .booking
            .confirm(tenant, hold.id, &ana, &client)
            .await
            .unwrap();
        // AND Lee waiting for a morning that day, with the chat open
        sqlx::query(
            "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from, preferred_to, time_of_day, client_name, client_email)
             VALUES ($1, $2, 'web-lee', $3, $4, $4, 'morning', 'Lee Park', 'lee@example.com')",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(tenant.0)
        .bind(CONSULT)
        .bind(day)
        .execute(&pool)
        .await
        .unwrap();
        let url = format!("ws://{addr}/ws?tenant_id={tenant}&session_id=web-lee");
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let hello = next_frame(&mut ws, Duration::from_secs(5)).await.unwrap();
        assert_eq!(hello["type"], "status");
        assert_eq!(hello["state"], "connected");
        assert_eq!(sockets.len(), 1);
        let rows = connections(&pool).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1, "local");

        // WHEN Ana cancels (the in-process worker runs the waitlist offer)
        let cancelled_at = Instant::now();
        app.booking
            .cancel(
                tenant,
                &ReferenceCode::parse(&booked.reference).unwrap(),
                &client.email,
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
}
