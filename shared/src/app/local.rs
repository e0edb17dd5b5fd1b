//! The worker and the scheduler inside one process (`gomomo serve`): the outbox relay
//! publishes on an in-process bus, a task feeds each event to the orchestrator, runs the
//! jobs that are due and delivers what they queued, and the scheduler ticks on a timer —
//! the same services the worker and scheduler functions run, without AWS.
//!
//! Live pushes reach the server's own WebSockets through [`LocalSockets`], the `Pusher` of
//! the connections this process recorded: each socket registers its outgoing channel under
//! its connection id while it is open, and its `ws_connections` row carries the process's
//! endpoint, `local:<process id>` ([`LocalSockets::endpoint`]). Two processes on one
//! database (a restart's overlap, two replicas) thus tell their rows apart. The registry is
//! only a way to reach a socket; the pushes themselves stay in Postgres.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use super::App;
use crate::adapters::local::InProcessPublisher;
use crate::db::outbox;
use crate::ports::push::{Pusher, SendError};
use crate::ports::{EventEnvelope, EventPublisher};
use crate::services::agent::ServerMessage;
use crate::services::chat_session::FrameSink;

/// Events buffered between the relay and the orchestrator; beyond it, rows stay in the
/// outbox for the next tick.
const BUS_CAPACITY: usize = 1024;
const JOBS_PER_EVENT: usize = 50;
/// How the `ws_connections` endpoint of a `gomomo serve` socket starts; the process id
/// follows.
pub const LOCAL_ENDPOINT_PREFIX: &str = "local:";
/// Frames queued for one socket; a client that lets more pile up (it does not read) is
/// disconnected instead of growing the server's memory.
pub const SOCKET_BUFFER: usize = 256;

/// The in-process bus: the publisher for the relay, the receiver for [`LocalRuntime`].
pub fn bus() -> (Arc<dyn EventPublisher>, mpsc::Receiver<EventEnvelope>) {
    let (publisher, rx) = InProcessPublisher::channel(BUS_CAPACITY);
    (Arc::new(publisher), rx)
}

/// The consumer and the timer tasks; [`LocalRuntime::stop`] ends both.
pub struct LocalRuntime {
    tasks: Vec<JoinHandle<()>>,
    sockets: LocalSockets,
}

impl LocalRuntime {
    /// Starts the consumer of `events` and the scheduler timer (`HOLD_SWEEP_INTERVAL_SECONDS`);
    /// `sockets` is the registry the app's pusher posts to.
    pub fn start(
        app: &App,
        mut events: mpsc::Receiver<EventEnvelope>,
        sockets: LocalSockets,
    ) -> Self {
        let consumer = {
            let autonomy = app.autonomy.clone();
            let delivery = app.delivery.clone();
            tokio::spawn(async move {
                while let Some(env) = events.recv().await {
                    match autonomy.handle_event(&env).await {
                        Ok(out) => {
                            tracing::info!(event = env.event.name(), event_id = %env.event_id, jobs = out.jobs_enqueued, denied = out.denied, duplicate = out.duplicate, "event handled")
                        }
                        // The row is already marked published: put it back so the next
                        // tick delivers it again (consumers deduplicate by event id).
                        Err(e) => {
                            tracing::error!(event_id = %env.event_id, error = %e, "event handling failed; re-queued");
                            if let Err(e) =
                                outbox::mark_unpublished(autonomy.pool(), env.event_id).await
                            {
                                tracing::error!(event_id = %env.event_id, error = %e, "re-queueing the event failed");
                            }
                        }
                    }
                    if let Err(e) = autonomy.run_due_jobs(JOBS_PER_EVENT).await {
                        tracing::warn!(error = %e, "running due jobs failed");
                    }
                    delivery.tick(JOBS_PER_EVENT).await;
                }
            })
        };
        let period = app.config.hold_sweep_interval;
        let scheduler = app.scheduler.clone();
        let timer = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let report = scheduler.tick().await;
                for e in &report.errors {
                    tracing::warn!(error = %e, "scheduler step failed");
                }
            }
        });
        tracing::info!(
            autonomy_enabled = app.config.autonomy_enabled,
            tick_seconds = period.as_secs(),
            "autonomy running in process"
        );
        Self {
            tasks: vec![consumer, timer],
            sockets,
        }
    }

    /// Where the server's WebSockets register so live pushes reach them.
    pub fn sockets(&self) -> LocalSockets {
        self.sockets.clone()
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// The outgoing side of one of the server's WebSockets: a bounded channel of frames to the
/// task that writes the socket, and a flag that asks the socket to close. Cheap to clone.
#[derive(Clone)]
pub struct LocalSocket {
    tx: mpsc::Sender<String>,
    state: Arc<SocketState>,
}

struct SocketState {
    dropped: AtomicBool,
    notify: Notify,
}

impl LocalSocket {
    /// A socket's sender and the receiver its writer task drains.
    pub fn channel() -> (Self, mpsc::Receiver<String>) {
        Self::with_capacity(SOCKET_BUFFER)
    }

    pub fn with_capacity(capacity: usize) -> (Self, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(capacity);
        let state = Arc::new(SocketState {
            dropped: AtomicBool::new(false),
            notify: Notify::new(),
        });
        (Self { tx, state }, rx)
    }

    /// Queues a frame without waiting. A full queue means the client stopped reading: the
    /// socket is asked to close and the frame is refused as Gone.
    pub fn offer(&self, frame: String) -> Result<(), SendError> {
        if self.is_dropped() {
            return Err(SendError::Gone);
        }
        match self.tx.try_send(frame) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("a WebSocket client stopped reading; disconnecting it");
                self.disconnect();
                Err(SendError::Gone)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Gone),
        }
    }

    /// Asks the socket's connection task to close.
    pub fn disconnect(&self) {
        self.state.dropped.store(true, Ordering::SeqCst);
        self.state.notify.notify_one();
    }

    /// Whether [`LocalSocket::disconnect`] was called.
    pub fn is_dropped(&self) -> bool {
        self.state.dropped.load(Ordering::SeqCst)
    }

    /// Resolves once the socket was asked to close (meant for one waiter: the connection
    /// task).
    pub async fn disconnected(&self) {
        if self.is_dropped() {
            return;
        }
        self.state.notify.notified().await;
    }
}

#[async_trait]
impl FrameSink for LocalSocket {
    async fn send(&self, message: ServerMessage) -> Result<(), SendError> {
        self.offer(message.to_frame())
    }

    fn is_open(&self) -> bool {
        !self.is_dropped() && !self.tx.is_closed()
    }
}

/// The open sockets of this process by connection id: the [`Pusher`] of the connections
/// recorded with its endpoint, `local:<process id>`, a random id made when the registry is
/// created. A connection recorded with this endpoint that is not registered belongs to no
/// open socket (it closed without removing its row) and answers Gone, so live delivery
/// removes the row. A connection of another process (another `local:` endpoint) is not ours
/// to judge: it answers Failed and its row stays. Cheap to clone.
#[derive(Clone)]
pub struct LocalSockets {
    open: Arc<Mutex<HashMap<String, LocalSocket>>>,
    endpoint: Arc<str>,
}

impl Default for LocalSockets {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalSockets {
    /// An empty registry with a fresh process id.
    pub fn new() -> Self {
        Self {
            open: Arc::default(),
            endpoint: format!("{LOCAL_ENDPOINT_PREFIX}{}", uuid::Uuid::new_v4()).into(),
        }
    }

    /// The endpoint this process records its connections with: `local:<process id>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<String, LocalSocket>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers an open socket under its connection id.
    pub fn register(&self, connection_id: &str, socket: LocalSocket) {
        self.open().insert(connection_id.to_string(), socket);
    }

    /// Forgets a socket (it closed).
    pub fn unregister(&self, connection_id: &str) {
        self.open().remove(connection_id);
    }

    /// How many sockets are registered.
    pub fn len(&self) -> usize {
        self.open().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Pusher for LocalSockets {
    async fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: String,
    ) -> Result<(), SendError> {
        if endpoint != self.endpoint() {
            return Err(SendError::Failed(
                if endpoint.starts_with("local") {
                    "a connection of another gomomo serve process"
                } else {
                    "not a connection of this server"
                }
                .into(),
            ));
        }
        let socket = self.open().get(connection_id).cloned();
        match socket {
            Some(s) => s.offer(frame),
            None => Err(SendError::Gone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn posts_reach_registered_sockets_only() {
        let sockets = LocalSockets::new();
        let here = sockets.endpoint().to_string();
        assert!(here.starts_with(LOCAL_ENDPOINT_PREFIX), "{here}");
        let (socket, mut rx) = LocalSocket::channel();
        sockets.register("local-1", socket);
        sockets
            .post(&here, "local-1", "{\"type\":\"push\"}".into())
            .await
            .map_err(|e| e.to_string())
            .expect("a registered socket takes the frame");
        assert_eq!(rx.recv().await.as_deref(), Some("{\"type\":\"push\"}"));
        assert!(matches!(
            sockets.post(&here, "local-2", "x".into()).await,
            Err(SendError::Gone)
        ));
        assert!(matches!(
            sockets
                .post("https://example.com/prod", "local-1", "x".into())
                .await,
            Err(SendError::Failed(_))
        ));
        sockets.unregister("local-1");
        assert!(sockets.is_empty());
        assert!(matches!(
            sockets.post(&here, "local-1", "x".into()).await,
            Err(SendError::Gone)
        ));
    }

    #[tokio::test]
    async fn another_process_connections_are_never_gone_here() {
        // GIVEN two processes on one database, each with an open socket
        let (a, b) = (LocalSockets::new(), LocalSockets::new());
        assert_ne!(a.endpoint(), b.endpoint(), "one id per process");
        let (socket_a, _rx_a) = LocalSocket::channel();
        a.register("local-a", socket_a);
        let (socket_b, _rx_b) = LocalSocket::channel();
        b.register("local-b", socket_b);
        // WHEN one process posts to the other's connection (or to one recorded before
        // process ids existed) THEN it fails without claiming the connection is gone
        for (endpoint, id) in [(a.endpoint(), "local-a"), ("local", "local-b")] {
            let r = b.post(endpoint, id, "x".into()).await;
            assert!(matches!(r, Err(SendError::Failed(_))), "{endpoint}");
        }
        // AND its own unregistered connection is gone
        let r = b.post(b.endpoint(), "local-a", "x".into()).await;
        assert!(matches!(r, Err(SendError::Gone)));
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_disconnected() {
        let (socket, _rx) = LocalSocket::with_capacity(2);
        assert!(socket.offer("1".into()).is_ok());
        assert!(socket.offer("2".into()).is_ok());
        assert!(!socket.is_dropped());
        assert!(matches!(socket.offer("3".into()), Err(SendError::Gone)));
        assert!(socket.is_dropped());
        assert!(!FrameSink::is_open(&socket));
        // The connection task wakes up to close the socket.
        tokio::time::timeout(std::time::Duration::from_secs(1), socket.disconnected())
            .await
            .map_err(|e| e.to_string())
            .expect("the close request is seen");
    }
}
