//! The accept loop on a loopback listener: half-open and idle connections are closed, the
//! connection cap holds, slow requests time out, and the client's address is the peer (or
//! what a trusted proxy forwards).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use gomomo::config::budgets::Cidr;
use gomomo::config::ServeLimits;
use gomomo::http::client_ip::TrustedProxies;
use gomomo::http::ClientIp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::run;

fn limits(header: u64, max_connections: usize, request: u64) -> ServeLimits {
    ServeLimits {
        max_connections,
        header_timeout: Duration::from_secs(header),
        request_timeout: Duration::from_secs(request),
        socket_idle_timeout: Duration::from_secs(60),
    }
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hi" }))
        // More than the socket buffers of both ends hold.
        .route("/big", get(|| async { "x".repeat(32 << 20) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route(
            "/ip",
            get(|ClientIp(ip): ClientIp| async move {
                ip.map(|i| i.to_string()).unwrap_or_default()
            }),
        )
}

/// A server on 127.0.0.1 with `limits`; stops when the test's runtime ends.
async fn start(limits: ServeLimits, trusted: &[&str]) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let cidrs: Vec<Cidr> = trusted.iter().map(|c| Cidr::parse(c).unwrap()).collect();
    tokio::spawn(run(
        listener,
        app(),
        limits,
        TrustedProxies::new(&cidrs),
        std::future::pending(),
    ));
    addr
}

/// Reads until the server closes the connection (or `within` passes: None).
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut all = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&all).into_owned())
}

/// One request on an open connection; the answer's head and body as text.
async fn request(stream: &mut TcpStream, path: &str, extra: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn a_half_open_connection_is_closed_within_the_header_timeout() {
    let addr = start(limits(1, 16, 30), &[]).await;
    // A client that sends part of a header and then nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: te").await.unwrap();
    // A client that connects and sends nothing at all.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    assert!(
        until_closed(&mut slow, Duration::from_secs(5))
            .await
            .is_some(),
        "a partial header keeps the connection open"
    );
    assert!(until_closed(&mut silent, Duration::from_secs(5))
        .await
        .is_some());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let addr = start(limits(1, 16, 30), &[]).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let answer = request(&mut client, "/", "").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        until_closed(&mut client, Duration::from_secs(5))
            .await
            .is_some(),
        "an idle keep-alive connection stays open"
    );
}

#[tokio::test]
async fn connections_over_the_cap_are_refused_until_one_closes() {
    let addr = start(limits(30, 2, 30), &[]).await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    for c in [&mut first, &mut second] {
        assert!(request(c, "/", "").await.starts_with("HTTP/1.1 200"));
    }
    let mut third = TcpStream::connect(addr).await.unwrap();
    let refused = until_closed(&mut third, Duration::from_secs(5))
        .await
        .expect("refused and closed");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    assert!(refused.contains("too_many_connections"), "{refused}");
    // Once one closes, a new client is served.
    drop(first);
    let mut served = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut next = TcpStream::connect(addr).await.unwrap();
        let answer = request(&mut next, "/", "").await;
        if answer.starts_with("HTTP/1.1 200") {
            served = Some(next);
            break;
        }
    }
    assert!(served.is_some(), "the freed slot is reused");
}

#[tokio::test]
async fn a_client_that_never_reads_loses_its_slot() {
    // One slot; the header timeout (1 s) also bounds a write that makes no progress.
    let addr = start(limits(1, 1, 30), &[]).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stuck = socket.connect(addr).await.unwrap();
    stuck
        .write_all(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // It never reads. Another client is served once the stalled write gives up.
    let mut served = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut next = TcpStream::connect(addr).await.unwrap();
        if request(&mut next, "/", "")
            .await
            .starts_with("HTTP/1.1 200")
        {
            served = true;
            break;
        }
    }
    assert!(
        served,
        "the client that stopped reading still holds the only slot"
    );
    drop(stuck);
}

#[tokio::test]
async fn a_slow_request_times_out() {
    let addr = start(limits(10, 16, 1), &[]).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let answer = request(&mut client, "/slow", "").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn the_client_address_is_the_peer_unless_a_trusted_proxy_forwards() {
    let untrusting = start(limits(10, 16, 30), &[]).await;
    let mut c = TcpStream::connect(untrusting).await.unwrap();
    let answer = request(&mut c, "/ip", "X-Forwarded-For: 198.51.100.1\r\n").await;
    assert!(answer.ends_with("127.0.0.1"), "{answer}");

    let behind_proxy = start(limits(10, 16, 30), &["127.0.0.1/32"]).await;
    let mut c = TcpStream::connect(behind_proxy).await.unwrap();
    let answer = request(&mut c, "/ip", "X-Forwarded-For: 6.6.6.6, 198.51.100.1\r\n").await;
    assert!(answer.ends_with("198.51.100.1"), "{answer}");
}
