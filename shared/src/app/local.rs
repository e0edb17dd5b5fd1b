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
//!
//! A post succeeds only once the socket's writer wrote the frame (it answers through a
//! oneshot sent with the frame, [`WRITE_TIMEOUT`] at most), so a push is marked delivered
//! only when it really went out. The runtime keeps this process's rows fresh
//! (`last_seen_at`, every [`upkeep_period`]) and removes the rows of other standalone
//! processes not seen for [`stale_after`]: those of a server that was killed or restarted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::App;
use crate::adapters::local::InProcessPublisher;
use crate::db::{chat as chat_db, outbox};
use crate::ports::push::{Pusher, SendError};
use crate::ports::{EventEnvelope, EventPublisher};
use crate::services::agent::ServerMessage;
use crate::services::chat_session::FrameSink;

/// Events buffered between the relay and the orchestrator; beyond it, the relay waits for
/// room (and only a consumer stalled for seconds leaves rows to the next tick).
const BUS_CAPACITY: usize = 1024;
const JOBS_PER_EVENT: usize = 50;
/// Events the consumer takes at once before it runs due jobs and deliveries.
const EVENTS_PER_BATCH: usize = 64;
/// How the `ws_connections` endpoint of a `gomomo serve` socket starts; the process id
/// follows.
pub const LOCAL_ENDPOINT_PREFIX: &str = "local:";
/// Frames queued for one socket; a client that lets more pile up (it does not read) is
/// disconnected instead of growing the server's memory.
pub const SOCKET_BUFFER: usize = 256;
/// How long a post waits for the socket's writer to write its frame; a frame not written by
/// then is skipped by the writer and its push stays pending.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest period of the connection upkeep; with [`MIN_STALE_AFTER`] twice as long, a
/// live process's rows are never old enough for another process to remove.
const MAX_UPKEEP_PERIOD: Duration = Duration::from_secs(60);
const MIN_STALE_AFTER: Duration = Duration::from_secs(120);

/// How often the runtime marks its connections seen and sweeps stale ones: the scheduler's
/// tick, at most a minute.
pub fn upkeep_period(tick: Duration) -> Duration {
    tick.min(MAX_UPKEEP_PERIOD)
}

/// How long another standalone process's connection may go unseen before it is removed:
/// three upkeep periods, at least two minutes.
pub fn stale_after(tick: Duration) -> Duration {
    (upkeep_period(tick) * 3).max(MIN_STALE_AFTER)
}

/// The in-process bus: the publisher for the relay, the receiver for [`LocalRuntime`].
pub fn bus() -> (Arc<dyn EventPublisher>, mpsc::Receiver<EventEnvelope>) {
    let (publisher, rx) = InProcessPublisher::channel(BUS_CAPACITY);
    (Arc::new(publisher), rx)
}

/// One event through the orchestrator. A failed one is put back in the outbox (it was
/// marked published) so the next tick delivers it again; consumers deduplicate by event id.
async fn handle_one(autonomy: &crate::services::autonomy::Autonomy, env: &EventEnvelope) {
    match autonomy.handle_event(env).await {
        Ok(out) => {
            tracing::info!(event = env.event.name(), event_id = %env.event_id, jobs = out.jobs_enqueued, denied = out.denied, duplicate = out.duplicate, "event handled")
        }
        Err(e) => {
            tracing::error!(event_id = %env.event_id, error = %e, "event handling failed; re-queued");
            if let Err(e) = outbox::mark_unpublished(autonomy.pool(), env.event_id).await {
                tracing::error!(event_id = %env.event_id, error = %e, "re-queueing the event failed");
            }
        }
    }
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
                let mut batch = Vec::with_capacity(EVENTS_PER_BATCH);
                while events.recv_many(&mut batch, EVENTS_PER_BATCH).await > 0 {
                    for env in batch.drain(..) {
                        handle_one(&autonomy, &env).await;
                    }
                    // Due jobs and deliveries once per batch, not once per event: under a
                    // flood of bookings the consumer keeps up with the relay.
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
        let upkeep = {
            let (pool, sockets) = (app.pool.clone(), sockets.clone());
            let stale = stale_after(period);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(upkeep_period(period));
                loop {
                    tick.tick().await;
                    if let Err(e) = sockets.upkeep(&pool, stale).await {
                        tracing::warn!(error = %e, "connection upkeep failed");
                    }
                }
            })
        };
        tracing::info!(
            autonomy_enabled = app.config.autonomy_enabled,
            tick_seconds = period.as_secs(),
            "autonomy running in process"
        );
        Self {
            tasks: vec![consumer, timer, upkeep],
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

/// One frame on its way to a socket, with the sender its writer answers through once the
/// frame is written (none when nobody waits for it).
#[derive(Debug)]
pub struct Outgoing {
    frame: String,
    written: Option<oneshot::Sender<()>>,
}

impl Outgoing {
    /// The frame to write and how to say it was written; `None` when its poster stopped
    /// waiting ([`WRITE_TIMEOUT`]): the push it carries is still pending and goes out later,
    /// so writing it now would send it twice.
    pub fn take(self) -> Option<(String, Written)> {
        if self.written.as_ref().is_some_and(|w| w.is_closed()) {
            return None;
        }
        Some((self.frame, Written(self.written)))
    }
}

/// Tells a frame's poster that the frame was written. Dropping it instead (the writer
/// stopped) tells the poster the socket is gone.
#[derive(Debug)]
pub struct Written(Option<oneshot::Sender<()>>);

impl Written {
    pub fn done(self) {
        if let Some(w) = self.0 {
            // The poster may have stopped waiting; nothing to tell then.
            let _ = w.send(());
        }
    }
}

/// A queued frame's answer from the writer.
#[derive(Debug)]
pub struct Queued(oneshot::Receiver<()>);

impl Queued {
    /// Waits (up to [`WRITE_TIMEOUT`]) until the writer wrote the frame. The writer dropped
    /// it (the socket failed or closed) → Gone; it was not written in time (the client reads
    /// slowly) → Failed, and the writer will skip it.
    pub async fn written(self) -> Result<(), SendError> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.0).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendError::Gone),
            Err(_) => Err(SendError::Failed(
                "the socket did not take the frame in time".into(),
            )),
        }
    }
}

/// The outgoing side of one of the server's WebSockets: a bounded channel of frames to the
/// task that writes the socket, and a flag that asks the socket to close. Cheap to clone.
#[derive(Clone)]
pub struct LocalSocket {
    tx: mpsc::Sender<Outgoing>,
    state: Arc<SocketState>,
}

struct SocketState {
    dropped: AtomicBool,
    notify: Notify,
}

impl LocalSocket {
    /// A socket's sender and the receiver its writer task drains: for each [`Outgoing`] it
    /// writes what [`Outgoing::take`] gives, then calls [`Written::done`].
    pub fn channel() -> (Self, mpsc::Receiver<Outgoing>) {
        Self::with_capacity(SOCKET_BUFFER)
    }

    pub fn with_capacity(capacity: usize) -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(capacity);
        let state = Arc::new(SocketState {
            dropped: AtomicBool::new(false),
            notify: Notify::new(),
        });
        (Self { tx, state }, rx)
    }

    /// Queues a frame without waiting for it to be written. A full queue means the client
    /// stopped reading: the socket is asked to close and the frame is refused as Gone.
    pub fn offer(&self, frame: String) -> Result<(), SendError> {
        self.queue(Outgoing {
            frame,
            written: None,
        })
    }

    /// Queues a frame like [`LocalSocket::offer`], with the answer to wait for: it was
    /// written, or not.
    pub fn offer_acknowledged(&self, frame: String) -> Result<Queued, SendError> {
        let (tx, rx) = oneshot::channel();
        self.queue(Outgoing {
            frame,
            written: Some(tx),
        })?;
        Ok(Queued(rx))
    }

    /// Queues `frame` and waits until it was written ([`Queued::written`]).
    pub async fn deliver(&self, frame: String) -> Result<(), SendError> {
        self.offer_acknowledged(frame)?.written().await
    }

    fn queue(&self, out: Outgoing) -> Result<(), SendError> {
        if self.is_dropped() {
            return Err(SendError::Gone);
        }
        match self.tx.try_send(out) {
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

/// A push counts as delivered once written; the other frames are only queued (a slow
/// reader still gets its answer).
#[async_trait]
impl FrameSink for LocalSocket {
    async fn send(&self, message: ServerMessage) -> Result<(), SendError> {
        if matches!(message, ServerMessage::Push { .. }) {
            self.deliver(message.to_frame()).await
        } else {
            self.offer(message.to_frame())
        }
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

    /// Marks this process's connections seen now and removes those of other standalone
    /// processes not seen for `stale_after` (a server killed or restarted): their pushes
    /// then stop being posted to rows no process can reach. Returns (seen, removed).
    pub async fn upkeep(
        &self,
        pool: &PgPool,
        stale_after: Duration,
    ) -> Result<(u64, u64), sqlx::Error> {
        let seen = chat_db::touch_endpoint_connections(pool, self.endpoint()).await?;
        let stale = i64::try_from(stale_after.as_secs()).unwrap_or(i64::from(i32::MAX));
        let removed = chat_db::delete_stale_local_connections(pool, self.endpoint(), stale).await?;
        if removed > 0 {
            tracing::info!(
                removed,
                "removed the connections of a stopped gomomo serve process"
            );
        }
        Ok((seen, removed))
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
        // No clone of the socket is kept while waiting: a closing socket's writer ends once
        // its queue is drained.
        let queued = match self.open().get(connection_id) {
            Some(s) => s.offer_acknowledged(frame)?,
            None => return Err(SendError::Gone),
        };
        queued.written().await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A socket's writer that writes into a channel, as the server's writer writes the
    /// WebSocket.
    fn writer(mut rx: mpsc::Receiver<Outgoing>) -> mpsc::UnboundedReceiver<String> {
        let (tx, written) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(out) = rx.recv().await {
                if let Some((frame, ack)) = out.take() {
                    if tx.send(frame).is_err() {
                        break;
                    }
                    ack.done();
                }
            }
        });
        written
    }

    #[tokio::test]
    async fn posts_reach_registered_sockets_only() {
        let sockets = LocalSockets::new();
        let here = sockets.endpoint().to_string();
        assert!(here.starts_with(LOCAL_ENDPOINT_PREFIX), "{here}");
        let (socket, rx) = LocalSocket::channel();
        let mut written = writer(rx);
        sockets.register("local-1", socket);
        sockets
            .post(&here, "local-1", "{\"type\":\"push\"}".into())
            .await
            .map_err(|e| e.to_string())
            .expect("a registered socket takes the frame");
        assert_eq!(
            written.try_recv().ok().as_deref(),
            Some("{\"type\":\"push\"}"),
            "written before the post returned"
        );
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
    async fn a_post_succeeds_only_once_the_frame_is_written() {
        let sockets = LocalSockets::new();
        let here = sockets.endpoint().to_string();

        // A writer that takes the frame but stops before writing it (the socket failed, or
        // the connection task aborted it on close): the post learns the socket is gone.
        let (socket, mut rx) = LocalSocket::channel();
        sockets.register("dropping", socket);
        let dropper = tokio::spawn(async move {
            let out = rx.recv().await;
            drop(rx);
            drop(out);
        });
        let r = sockets.post(&here, "dropping", "x".into()).await;
        assert!(matches!(r, Err(SendError::Gone)), "{r:?}");
        dropper.await.unwrap();

        // A writer stuck on a client that does not read: the post gives up in time and the
        // frame it gave up on is not written later (its push is still pending).
        let (socket, mut rx) = LocalSocket::channel();
        sockets.register("stuck", socket);
        let started = tokio::time::Instant::now();
        let r = sockets.post(&here, "stuck", "late".into()).await;
        assert!(matches!(r, Err(SendError::Failed(_))), "{r:?}");
        assert!(started.elapsed() >= WRITE_TIMEOUT);
        let out = rx.try_recv().expect("the frame was queued");
        assert!(out.take().is_none(), "an abandoned frame is skipped");

        // Frames nobody waits for (status, answers) are written as they come.
        let (socket, rx) = LocalSocket::channel();
        socket.offer("status".into()).unwrap();
        let mut written = writer(rx);
        assert_eq!(written.recv().await.as_deref(), Some("status"));
    }

    #[tokio::test]
    async fn a_push_sent_on_the_socket_waits_for_the_write() {
        let (socket, mut rx) = LocalSocket::channel();
        let push = ServerMessage::Push {
            session_id: "web-lee".into(),
            id: uuid::Uuid::new_v4(),
            push_type: "waitlist_match".into(),
            payload: serde_json::json!({}),
        };
        let ws = socket.clone();
        let sending = tokio::spawn(async move { FrameSink::send(&ws, push).await });
        let out = rx.recv().await.unwrap();
        tokio::task::yield_now().await;
        assert!(!sending.is_finished(), "not delivered while only queued");
        let (frame, ack) = out.take().unwrap();
        assert!(frame.contains("waitlist_match"), "{frame}");
        ack.done();
        assert!(sending.await.unwrap().is_ok());

        // The writer stopped with the push still queued: not delivered.
        let push = ServerMessage::Push {
            session_id: "web-lee".into(),
            id: uuid::Uuid::new_v4(),
            push_type: "waitlist_match".into(),
            payload: serde_json::json!({}),
        };
        let sending = tokio::spawn(async move { FrameSink::send(&socket, push).await });
        let queued = rx.recv().await.unwrap();
        drop((rx, queued));
        assert!(matches!(sending.await.unwrap(), Err(SendError::Gone)));
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
        assert!(socket.offer_acknowledged("2".into()).is_ok());
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

    #[test]
    fn live_processes_see_their_rows_well_before_others_call_them_stale() {
        for tick in [1, 5, 30, 60, 61, 600, 3600] {
            let tick = Duration::from_secs(tick);
            let (every, stale) = (upkeep_period(tick), stale_after(tick));
            assert!(every <= MAX_UPKEEP_PERIOD && every <= tick, "{tick:?}");
            assert!(stale >= MIN_STALE_AFTER && stale >= every * 3, "{tick:?}");
            // Any other process, whatever its tick, waits at least twice our period.
            assert!(MIN_STALE_AFTER >= every * 2, "{tick:?}");
        }
    }
}
