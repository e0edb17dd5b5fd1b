//! `jobs`: the persistent queue of autonomous work. Claimed with `FOR UPDATE SKIP LOCKED`
//! so any number of runners (Lambda instances, the standalone loop) share it safely.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// `jobs.status`: `pending` → `claimed` → `completed` | `failed` (or back to `pending` for a
/// retry); `cancelled` when the job became pointless or policy refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Claimed,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Pending,
        JobStatus::Claimed,
        JobStatus::Completed,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Claimed => "claimed",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize, PartialEq)]
pub struct JobRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub kind: String,
    pub payload: Value,
    pub status: JobStatus,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub idempotency_key: String,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<String>,
    pub source_event_id: Option<Uuid>,
    pub last_error: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
}

const JOB_COLS: &str = "id, tenant_id, kind, payload, status, priority, run_at, attempts,
    max_attempts, idempotency_key, booking_id, session_id, source_event_id, last_error, claimed_at";

#[derive(Debug, Clone)]
pub struct NewJob {
    pub tenant_id: Uuid,
    pub kind: String,
    pub payload: Value,
    pub priority: i32,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
    pub idempotency_key: String,
    pub booking_id: Option<Uuid>,
    pub session_id: Option<String>,
    pub source_event_id: Option<Uuid>,
}

/// Inserts a job unless one with the same idempotency key exists; returns the new id, or
/// `None` for a duplicate. `now` is the service clock (cooldowns compare against it).
pub async fn enqueue(
    conn: &mut PgConnection,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO jobs (id, tenant_id, kind, payload, priority, run_at, max_attempts,
                           idempotency_key, booking_id, session_id, source_event_id,
                           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(job.tenant_id)
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(job.priority)
    .bind(job.run_at)
    .bind(job.max_attempts)
    .bind(&job.idempotency_key)
    .bind(job.booking_id)
    .bind(job.session_id.as_deref())
    .bind(job.source_event_id)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Claims up to `limit` due jobs (highest priority, then oldest `run_at`), counting an
/// attempt for each.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE jobs SET status = 'claimed', claimed_at = $1, attempts = attempts + 1, updated_at = $1
          WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $1
                        ORDER BY priority DESC, run_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          RETURNING {JOB_COLS}"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn complete(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET status = 'completed', completed_at = $2, updated_at = $2, last_error = NULL
          WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Back to the queue, due at `run_at`.
pub async fn retry_at(
    conn: &mut PgConnection,
    id: Uuid,
    run_at: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET status = 'pending', run_at = $2, claimed_at = NULL, last_error = $3,
                         updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(run_at)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn fail(conn: &mut PgConnection, id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET status = 'failed', claimed_at = NULL, last_error = $2, updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}

/// A job the policy engine refused at run time: cancelled without running.
pub async fn cancel_denied(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', claimed_at = NULL, last_error = 'denied by policy',
                         updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Jobs claimed before `cutoff` (their runner died): back to pending, or failed when they
/// have no attempts left. Returns the jobs touched with their new status.
pub async fn reclaim_stale(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid, JobStatus)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
                         claimed_at = NULL, last_error = 'claim expired (runner stopped)',
                         updated_at = now()
          WHERE id IN (SELECT id FROM jobs WHERE status = 'claimed' AND claimed_at < $1
                        FOR UPDATE SKIP LOCKED)
          RETURNING id, tenant_id, status",
    )
    .bind(cutoff)
    .fetch_all(conn)
    .await
}

/// Cancels a booking's pending jobs of the given kinds; returns the cancelled jobs' ids.
pub async fn cancel_for_booking(
    conn: &mut PgConnection,
    booking: Uuid,
    kinds: &[&str],
) -> Result<Vec<Uuid>, sqlx::Error> {
    let kinds: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
    sqlx::query_scalar(
        "UPDATE jobs SET status = 'cancelled', updated_at = now()
          WHERE booking_id = $1 AND kind = ANY($2) AND status = 'pending'
          RETURNING id",
    )
    .bind(booking)
    .bind(&kinds)
    .fetch_all(conn)
    .await
}

/// True when a job of `kind` was created for the session since `since` (cooldowns).
pub async fn exists_for_session_since<'e>(
    db: impl PgExecutor<'e>,
    session: &str,
    kind: &str,
    since: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE session_id = $1 AND kind = $2 AND created_at >= $3
                          AND status <> 'cancelled')",
    )
    .bind(session)
    .bind(kind)
    .bind(since)
    .fetch_one(db)
    .await
}

pub async fn get<'e>(db: impl PgExecutor<'e>, id: Uuid) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {JOB_COLS} FROM jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A tenant's jobs, oldest first (admin view and tests).
pub async fn list_for_tenant<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {JOB_COLS} FROM jobs WHERE tenant_id = $1 ORDER BY created_at, run_at, kind"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// Marks an event processed; false when it already was (a duplicate delivery).
pub async fn mark_event_processed(
    conn: &mut PgConnection,
    event_id: Uuid,
    tenant: Uuid,
    event_type: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO processed_events (event_id, tenant_id, event_type) VALUES ($1, $2, $3)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(tenant)
    .bind(event_type)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use sqlx::PgPool;

    /// Every status is written to and read back from the `jobs.status` column (its CHECK
    /// accepts each name), and serializes to the same string.
    #[sqlx::test(migrations = "../migrations")]
    async fn status_round_trips_through_postgres(pool: PgPool) {
        let tenant = Uuid::new_v4();
        sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
        let now = Utc::now();
        let mut conn = pool.acquire().await.unwrap();
        let id = enqueue(
            &mut conn,
            &NewJob {
                tenant_id: tenant,
                kind: "send_confirmation".into(),
                payload: serde_json::json!({}),
                priority: 0,
                run_at: now,
                max_attempts: 3,
                idempotency_key: "k".into(),
                booking_id: None,
                session_id: None,
                source_event_id: None,
            },
            now,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            get(&pool, id).await.unwrap().unwrap().status,
            JobStatus::Pending
        );
        for status in JobStatus::ALL {
            sqlx::query("UPDATE jobs SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(status)
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(get(&pool, id).await.unwrap().unwrap().status, status);
            let stored: String = sqlx::query_scalar("SELECT status FROM jobs WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(stored, status.as_str());
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
