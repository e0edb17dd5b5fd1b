//! Request budgets (`rate_budgets`): one counter per kind, subject and fixed window, taken
//! by a single atomic statement so every instance on the database shares it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// One budget check: what is counted, for whom, and how much of it is allowed.
#[derive(Debug, Clone, Copy)]
pub struct Take<'a> {
    pub kind: &'a str,
    pub subject: &'a str,
    /// Start of the current fixed window.
    pub window_start: DateTime<Utc>,
    /// Start of the window before it.
    pub previous_start: DateTime<Utc>,
    pub window_seconds: i32,
    /// How much of the previous window still counts (1 at the start of the current window,
    /// 0 at its end).
    pub previous_weight: f64,
    pub limit: i32,
    pub expires_at: DateTime<Utc>,
}

/// Counts one hit when the weighted total stays within the limit; `true` when counted.
/// A refused hit is not counted. The decision is one statement: concurrent checks on the
/// same subject serialise on the current window's row.
pub async fn take(pool: &PgPool, t: &Take<'_>) -> Result<bool, sqlx::Error> {
    let row: Option<(i32,)> = sqlx::query_as(
        "WITH prev AS (
             SELECT COALESCE((SELECT hits FROM rate_budgets
                              WHERE kind = $1 AND subject = $2 AND window_start = $4), 0)::float8 * $6
                    AS weighted
         )
         INSERT INTO rate_budgets AS b (kind, subject, window_start, window_seconds, hits, expires_at)
         SELECT $1, $2, $3, $5, 1, $8 FROM prev WHERE prev.weighted + 1 <= $7
         ON CONFLICT (kind, subject, window_start) DO UPDATE SET hits = b.hits + 1
           WHERE b.hits + 1 + (SELECT weighted FROM prev) <= $7
         RETURNING b.hits",
    )
    .bind(t.kind)
    .bind(t.subject)
    .bind(t.window_start)
    .bind(t.previous_start)
    .bind(t.window_seconds)
    .bind(t.previous_weight)
    .bind(f64::from(t.limit))
    .bind(t.expires_at)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// Gives back one hit of the window starting at `window_start` (a counted request that
/// created nothing); never below zero.
pub async fn give_back(
    pool: &PgPool,
    kind: &str,
    subject: &str,
    window_start: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rate_budgets SET hits = hits - 1
         WHERE kind = $1 AND subject = $2 AND window_start = $3 AND hits > 0",
    )
    .bind(kind)
    .bind(subject)
    .bind(window_start)
    .execute(pool)
    .await
    .map(|_| ())
}

/// The hits of the current and the previous window (to tell a refused caller when to retry).
pub async fn hits(pool: &PgPool, t: &Take<'_>) -> Result<(i32, i32), sqlx::Error> {
    let (current, previous): (Option<i32>, Option<i32>) = sqlx::query_as(
        "SELECT (SELECT hits FROM rate_budgets WHERE kind = $1 AND subject = $2 AND window_start = $3),
                (SELECT hits FROM rate_budgets WHERE kind = $1 AND subject = $2 AND window_start = $4)",
    )
    .bind(t.kind)
    .bind(t.subject)
    .bind(t.window_start)
    .bind(t.previous_start)
    .fetch_one(pool)
    .await?;
    Ok((current.unwrap_or(0), previous.unwrap_or(0)))
}

/// Removes the counters whose windows no longer count; returns how many.
pub async fn purge_expired(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM rate_budgets WHERE expires_at < $1")
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
}
