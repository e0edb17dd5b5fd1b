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
//! - **Write stall** ([`WriteStall`]): a response (or a socket frame) whose write makes no
//!   progress for the header timeout — a client that stopped reading — closes the
//!   connection, so a client cannot keep its slot by never reading.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
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
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
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
            .serve_connection(
                TokioIo::new(WriteStall::new(stream, limits.header_timeout)),
                service,
            )
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
        // Read what the client sent before closing: unread input would turn the close into
        // a reset, and the client might never see the answer.
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// A connection's stream whose writes fail with `TimedOut` once one has made no progress
/// for `limit`: hyper's header timeout runs only while it waits for a request, so without
/// this a client that never reads would keep its connection (and its slot) forever.
struct WriteStall {
    inner: TcpStream,
    limit: Duration,
    /// Armed while a write is pending; disarmed by any progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteStall {
    fn new(inner: TcpStream, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
        }
    }

    /// After a write step: progress disarms the timer; `Pending` arms it (once) and fails
    /// the write when it fires.
    fn watch<T>(&mut self, cx: &mut Context<'_>, step: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if step.is_ready() {
            self.stalled = None;
            return step;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteStall {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteStall {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let step = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, step)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let step = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, step)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let step = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, step)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
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
