//! Live pushes: right after the transaction that wrote a push commits, the session's
//! pending pushes are posted to each of its open connections (`ws_connections`) through the
//! [`Pusher`] port — the API Gateway Management API on Lambda, the in-process sockets in
//! `gomomo serve`.
//!
//! The pushes stay in Postgres: a push is marked delivered only when a post succeeded, so
//! one that could not be posted is delivered on the client's next `hello` or turn. A
//! connection that answers Gone is removed. Nothing here fails the caller: errors are
//! logged.

use std::sync::Arc;

use crate::db::chat as db;
use crate::domain::{SessionId, TenantId};
use crate::ports::push::{Pusher, SendError};
use crate::services::agent::{deliver_pending_pushes, ServerMessage};
use crate::services::chat_session::{FrameSink, PushSink};

/// Posts a session's pending pushes to its open connections. Cheap to clone.
#[derive(Clone)]
pub struct LivePush {
    pool: sqlx::PgPool,
    pusher: Arc<dyn Pusher>,
}

/// What one delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LiveReport {
    /// The session's recorded connections.
    pub connections: usize,
    /// Pushes that reached at least one connection (now marked delivered).
    pub delivered: usize,
    /// Connections removed because they answered Gone.
    pub removed: usize,
}

impl LivePush {
    pub fn new(pool: sqlx::PgPool, pusher: Arc<dyn Pusher>) -> Self {
        Self { pool, pusher }
    }

    pub fn pusher(&self) -> &Arc<dyn Pusher> {
        &self.pusher
    }

    /// Delivers the session's pending pushes to every open connection of the session; logs
    /// what failed and never returns an error (the pushes then stay pending).
    #[tracing::instrument(skip_all, fields(tenant = %tenant))]
    pub async fn deliver(&self, tenant: TenantId, session: &SessionId) -> LiveReport {
        match self.try_deliver(tenant, session).await {
            Ok(r) => {
                if r.connections > 0 {
                    tracing::info!(
                        connections = r.connections,
                        delivered = r.delivered,
                        removed = r.removed,
                        "live push"
                    );
                }
                r
            }
            Err(e) => {
                tracing::warn!(error = %e, "live push failed; the pushes stay pending");
                LiveReport::default()
            }
        }
    }

    async fn try_deliver(
        &self,
        tenant: TenantId,
        session: &SessionId,
    ) -> Result<LiveReport, sqlx::Error> {
        let rows = db::session_connections(&self.pool, tenant.0, session.as_str()).await?;
        let mut report = LiveReport {
            connections: rows.len(),
            ..LiveReport::default()
        };
        if rows.is_empty() {
            return Ok(report);
        }
        let sinks: Vec<PushSink> = rows
            .iter()
            .map(|r| PushSink::new(self.pusher.clone(), &r.endpoint, &r.connection_id))
            .collect();
        let sinks = &sinks;
        report.delivered = deliver_pending_pushes(&self.pool, tenant, session, |m| async move {
            fan_out(sinks, m).await
        })
        .await?;
        for sink in sinks.iter().filter(|s| s.is_gone()) {
            if db::delete_connection(&self.pool, sink.connection_id()).await? {
                report.removed += 1;
            }
        }
        Ok(report)
    }
}

/// Sends `message` to every sink still open: Ok when at least one took it, otherwise the
/// last error (Gone when every connection is gone).
async fn fan_out(sinks: &[PushSink], message: ServerMessage) -> Result<(), SendError> {
    let mut result = Err(SendError::Gone);
    for sink in sinks.iter().filter(|s| s.is_open()) {
        match sink.send(message.clone()).await {
            Ok(()) => result = Ok(()),
            Err(e) if result.is_err() => result = Err(e),
            Err(_) => {}
        }
    }
    result
}
