//! The outbox relay: publishes committed outbox rows through an [`EventPublisher`] and marks
//! them published. The booking service calls it right after each commit; the scheduler
//! sweeps whatever is left (the process died between commit and publish), so no event is
//! lost. Delivery is at least once: consumers deduplicate by the outbox id.

use std::sync::Arc;

use sqlx::PgPool;
use uuid::Uuid;

use crate::db::outbox;
use crate::ports::clock::Clock;
use crate::ports::events::{EventPublisher, OutboundEvent, MAX_BATCH};

/// Rows locked per transaction: a sweep after a long outage works through the backlog in
/// slices instead of holding thousands of row locks during network calls.
const ROWS_PER_TX: i64 = 100;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayReport {
    pub published: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    publisher: Arc<dyn EventPublisher>,
    clock: Clock,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay").finish_non_exhaustive()
    }
}

impl OutboxRelay {
    pub fn new(pool: PgPool, publisher: Arc<dyn EventPublisher>, clock: Clock) -> Self {
        Self {
            pool,
            publisher,
            clock,
        }
    }

    /// Publishes up to `max_rows` unpublished rows, oldest first. A failed entry stays
    /// unpublished (its attempt is counted) for the next call; a publisher that fails a
    /// whole call stops this one.
    #[tracing::instrument(skip_all)]
    pub async fn publish_pending(&self, max_rows: usize) -> Result<RelayReport, sqlx::Error> {
        let mut report = RelayReport::default();
        while report.published + report.failed < max_rows {
            let want = (max_rows - report.published - report.failed).min(ROWS_PER_TX as usize);
            let mut tx = self.pool.begin().await?;
            let rows = outbox::lock_unpublished(&mut tx, want as i64).await?;
            if rows.is_empty() {
                break;
            }
            let mut stop = false;
            for chunk in rows.chunks(MAX_BATCH) {
                let batch: Vec<OutboundEvent> = chunk
                    .iter()
                    .map(|r| {
                        OutboundEvent::new(
                            r.id,
                            r.tenant_id,
                            &r.event_type,
                            &r.payload,
                            r.created_at,
                        )
                    })
                    .collect();
                let ids: Vec<Uuid> = chunk.iter().map(|r| r.id).collect();
                match self.publisher.publish(&batch).await {
                    Ok(failed) => {
                        let ok: Vec<Uuid> = ids
                            .iter()
                            .copied()
                            .filter(|id| !failed.contains(id))
                            .collect();
                        outbox::mark_published(&mut tx, &ok, self.clock.now()).await?;
                        if !failed.is_empty() {
                            tracing::warn!(failed = failed.len(), "outbox entries not published");
                            outbox::note_failed(&mut tx, &failed).await?;
                        }
                        report.published += ok.len();
                        report.failed += failed.len();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, rows = ids.len(), "outbox publish failed");
                        outbox::note_failed(&mut tx, &ids).await?;
                        report.failed += ids.len();
                        stop = true;
                        break;
                    }
                }
            }
            tx.commit().await?;
            if stop || rows.len() < want {
                break;
            }
        }
        if report.published > 0 {
            tracing::debug!(published = report.published, "outbox relayed");
        }
        Ok(report)
    }

    /// After a commit: publish what is pending, never failing the caller (the scheduler's
    /// sweep catches anything left).
    pub async fn publish_after_commit(&self) {
        if let Err(e) = self.publish_pending(ROWS_PER_TX as usize).await {
            tracing::warn!(error = %e, "outbox relay after commit failed; the sweep will retry");
        }
    }
}
