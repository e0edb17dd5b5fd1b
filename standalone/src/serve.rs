//! The accept loop of `gomomo serve`: HTTP/1.1 with upgrades (the `/ws` chat), a cap on
//! open connections, a header-read timeout, a request timeout, and the client's address
//! and the trusted proxies handed to each request.
//!
//! - **Connection cap** ([`ServeLimits::max_connections`]): a connection beyond it is
//!   answered `503` with `Retry-After` and closed (beyond [`REFUSALS`] at once, closed
//!   without an answer). An upgraded WebSocket keeps its slot until it closes.
//! - **Header timeout** ([`ServeLimits::header_timeout`], hyper's `header_read_timeout`):
//!   hyper starts it whenever it waits for a request head — on a new connection and on a
//!   kept-alive connection after each response — and closes the connection when the whole
//!   head has not arrived in time. It is therefore also the keep-alive idle timeout, and a
//!   client that trickles a header (slowloris) or opens and sends nothing is dropped.
//! - **Request timeout** ([`ServeLimits::request_timeout`]): a request (its body included)
//!   not answered within it gets `408 request_timeout`. An upgrade's response is immediate;
//!   the socket itself then lives under the `/ws` idle timeout instead.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use gomomo::config::ServeLimits;
use gomomo::http::client_ip::TrustedProxies;
use gomomo::http::ApiError;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// Connections over the cap answered at once; more are closed without an answer.
const REFUSALS: usize = 64;
/// How long a stopping server waits for open requests.
const DRAIN: Duration = Duration::from_secs(10);

/// A connection's place under the cap, handed to each of its requests: an upgraded socket
/// keeps it until it closes.
#[derive(Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] Arc<OwnedSemaphorePermit>);

/// Serves `router` on `listener` until `shutdown` resolves, then waits up to [`DRAIN`] for
/// open connections.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    trusted: TrustedProxies,
    shutdown: impl Future<Output = ()>,
) {
    let timeout = limits.request_timeout;
    let router = router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| request_timeout(timeout, req, next),
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(REFUSALS));
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: give the system a moment.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            // Answered while few refusals are under way; beyond that, simply closed.
            if let Ok(refusing) = refusals.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(refusing);
                });
            }
            continue;
        };
        let slot = ConnectionSlot(Arc::new(permit));
        let (router, trusted) = (router.clone(), trusted.clone());
        let service = hyper::service::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            let ext = req.extensions_mut();
            ext.insert(ConnectInfo(peer));
            ext.insert(trusted.clone());
            ext.insert(slot.clone());
            router.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => Some(r),
                _ = stop.wait_for(|s| *s) => None,
            };
            // Stopping: the request under way is answered, then the connection closes.
            let ended = match ended {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    // Every connection returns its slot when it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain; stopping anyway");
    }
}

/// A connection over the cap: a `503` with `Retry-After`, then closed.
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = r#"{"error":{"code":"too_many_connections","message":"the server is at its connection limit; try again shortly"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

async fn request_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request took too long",
        )
        .into_response(),
    }
}

#[cfg(test)]
#[path = "tests/serve.rs"]
mod tests;
