//! Chat sessions, their messages, WebSocket connections and the delivery of pending pushes.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgExecutor, PgPool};
use uuid::Uuid;

/// Starts a turn: creates the session if needed and takes its lease. `None` when another
/// turn of the same session holds an unexpired lease.
pub async fn begin_turn<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
    channel: &str,
    lease_seconds: i64,
) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO chat_sessions (tenant_id, id, channel, busy_until)
              VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         ON CONFLICT (tenant_id, id) DO UPDATE
                SET busy_until = now() + make_interval(secs => $4), updated_at = now()
              WHERE chat_sessions.busy_until IS NULL OR chat_sessions.busy_until < now()
         RETURNING state",
    )
    .bind(tenant)
    .bind(session)
    .bind(channel)
    .bind(lease_seconds as f64)
    .fetch_optional(db)
    .await
}

/// Ends a turn: stores the new state and releases the lease.
pub async fn end_turn<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
    state: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE chat_sessions SET state = $3, busy_until = NULL, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(session)
    .bind(state)
    .execute(db)
    .await?;
    Ok(())
}

/// Releases the lease without touching the state (a failed turn).
pub async fn release_turn(pool: &PgPool, tenant: Uuid, session: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE chat_sessions SET busy_until = NULL WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(session)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn session_state(
    pool: &PgPool,
    tenant: Uuid,
    session: &str,
) -> Result<Option<Value>, sqlx::Error> {
    sqlx::query_scalar("SELECT state FROM chat_sessions WHERE tenant_id = $1 AND id = $2")
        .bind(tenant)
        .bind(session)
        .fetch_optional(pool)
        .await
}

pub async fn append_messages<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    session: &str,
    messages: &[Value],
) -> Result<(), sqlx::Error> {
    if messages.is_empty() {
        return Ok(());
    }
    let roles: Vec<String> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap_or("assistant").to_string())
        .collect();
    sqlx::query(
        "INSERT INTO chat_messages (tenant_id, session_id, role, message)
         SELECT $1, $2, r, m FROM unnest($3::text[], $4::jsonb[]) WITH ORDINALITY AS t(r, m, n)
         ORDER BY n",
    )
    .bind(tenant)
    .bind(session)
    .bind(&roles)
    .bind(messages)
    .execute(db)
    .await?;
    Ok(())
}

/// The last `limit` messages in order, starting at a user message so an assistant
/// tool-call message is never separated from its tool results.
pub async fn recent_messages(
    pool: &PgPool,
    tenant: Uuid,
    session: &str,
    limit: i64,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "SELECT role, message FROM (
             SELECT id, role, message FROM chat_messages
              WHERE tenant_id = $1 AND session_id = $2 ORDER BY id DESC LIMIT $3) t
          ORDER BY id",
    )
    .bind(tenant)
    .bind(session)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let first_user = rows
        .iter()
        .position(|(r, _)| r == "user")
        .unwrap_or(rows.len());
    Ok(rows.into_iter().skip(first_user).map(|(_, m)| m).collect())
}

/// What a person sees of a session's conversation: the last `limit` user and assistant
/// messages that carry text (tool calls and tool results left out), oldest first, as
/// (role, text).
pub async fn visible_messages(
    pool: &PgPool,
    tenant: Uuid,
    session: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT role, message->>'content' FROM chat_messages
          WHERE tenant_id = $1 AND session_id = $2 AND role IN ('user', 'assistant')
            AND jsonb_typeof(message->'content') = 'string' AND message->>'content' <> ''
          ORDER BY id DESC LIMIT $3",
    )
    .bind(tenant)
    .bind(session)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.reverse();
    Ok(rows)
}

// --- WebSocket connections ------------------------------------------------------------------

#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct ConnectionRow {
    pub connection_id: String,
    pub tenant_id: Uuid,
    pub session_id: String,
    pub endpoint: String,
}

pub async fn put_connection(
    pool: &PgPool,
    connection_id: &str,
    tenant: Uuid,
    session: &str,
    endpoint: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ws_connections (connection_id, tenant_id, session_id, endpoint)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (connection_id) DO UPDATE
            SET tenant_id = $2, session_id = $3, endpoint = $4, last_seen_at = now()",
    )
    .bind(connection_id)
    .bind(tenant)
    .bind(session)
    .bind(endpoint)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a connection last seen at `seen_at` (an upkeep that ran long ago, as a process
/// that died leaves its rows).
pub async fn put_connection_seen(
    pool: &PgPool,
    row: &ConnectionRow,
    seen_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ws_connections (connection_id, tenant_id, session_id, endpoint, last_seen_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&row.connection_id)
    .bind(row.tenant_id)
    .bind(&row.session_id)
    .bind(&row.endpoint)
    .bind(seen_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Every open connection, of every tenant (status and tests).
pub async fn all_connections(pool: &PgPool) -> Result<Vec<ConnectionRow>, sqlx::Error> {
    sqlx::query_as("SELECT connection_id, tenant_id, session_id, endpoint FROM ws_connections")
        .fetch_all(pool)
        .await
}

pub async fn get_connection(
    pool: &PgPool,
    connection_id: &str,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE ws_connections SET last_seen_at = now() WHERE connection_id = $1
         RETURNING connection_id, tenant_id, session_id, endpoint",
    )
    .bind(connection_id)
    .fetch_optional(pool)
    .await
}

/// Points a connection at another session (the client sent a message for a new session).
pub async fn rebind_connection(
    pool: &PgPool,
    connection_id: &str,
    session: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE ws_connections SET session_id = $2 WHERE connection_id = $1")
        .bind(connection_id)
        .bind(session)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_connection(pool: &PgPool, connection_id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM ws_connections WHERE connection_id = $1")
        .bind(connection_id)
        .execute(pool)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Marks every connection recorded with `endpoint` as seen now (its process is alive);
/// returns how many.
pub async fn touch_endpoint_connections(pool: &PgPool, endpoint: &str) -> Result<u64, sqlx::Error> {
    let r = sqlx::query("UPDATE ws_connections SET last_seen_at = now() WHERE endpoint = $1")
        .bind(endpoint)
        .execute(pool)
        .await?;
    Ok(r.rows_affected())
}

/// Removes the connections of standalone servers other than `own_endpoint` (endpoints
/// `local:<process id>` and the older plain `local`) not seen for `stale_seconds`: their
/// process stopped without removing them. API Gateway connections are never touched.
/// Returns how many were removed.
pub async fn delete_stale_local_connections(
    pool: &PgPool,
    own_endpoint: &str,
    stale_seconds: i64,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "DELETE FROM ws_connections
          WHERE (endpoint = 'local' OR starts_with(endpoint, 'local:'))
            AND endpoint <> $1
            AND last_seen_at < now() - make_interval(secs => $2)",
    )
    .bind(own_endpoint)
    .bind(stale_seconds as f64)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

pub async fn session_connections(
    pool: &PgPool,
    tenant: Uuid,
    session: &str,
) -> Result<Vec<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT connection_id, tenant_id, session_id, endpoint FROM ws_connections
          WHERE tenant_id = $1 AND session_id = $2",
    )
    .bind(tenant)
    .bind(session)
    .fetch_all(pool)
    .await
}

// --- push events ----------------------------------------------------------------------------

#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct PushRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub session_id: String,
    #[sqlx(rename = "type")]
    pub push_type: String,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
}

/// Locks the session's undelivered pushes, newest first (rows another deliverer holds are
/// skipped, so two connections never deliver the same push twice).
pub async fn lock_pending_pushes(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    session: &str,
) -> Result<Vec<PushRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, tenant_id, session_id, type, payload, created_at FROM push_events
          WHERE tenant_id = $1 AND session_id = $2 AND delivered_at IS NULL
          ORDER BY created_at DESC, id
          LIMIT 50 FOR UPDATE SKIP LOCKED",
    )
    .bind(tenant)
    .bind(session)
    .fetch_all(conn)
    .await
}

/// The session's pushes not delivered yet.
pub async fn undelivered_pushes(pool: &PgPool, session: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM push_events WHERE session_id = $1 AND delivered_at IS NULL",
    )
    .bind(session)
    .fetch_one(pool)
    .await
}

pub async fn mark_pushes_delivered(
    conn: &mut sqlx::PgConnection,
    ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE push_events SET delivered_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

// --- transcripts for the admin ----------------------------------------------------------------

/// A chat session as the admin's list shows it. `handle` stands for the session id, which is
/// the client's bearer secret and is never shown.
#[derive(Debug, Clone, FromRow)]
pub struct ChatSummaryRow {
    pub handle: String,
    pub channel: String,
    pub messages: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

const HANDLE: &str = "substr(encode(sha256(convert_to(s.id, 'UTF8')), 'hex'), 1, 32)";

/// A tenant's chat sessions that have messages, most recently active first.
pub async fn list_sessions<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<ChatSummaryRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {HANDLE} AS handle, s.channel, count(m.id) AS messages, s.created_at, s.updated_at
           FROM chat_sessions s
           JOIN chat_messages m ON m.tenant_id = s.tenant_id AND m.session_id = s.id
                                AND m.role IN ('user', 'assistant')
          WHERE s.tenant_id = $1
          GROUP BY s.tenant_id, s.id
          ORDER BY s.updated_at DESC
          LIMIT $2"
    )))
    .bind(tenant)
    .bind(limit)
    .fetch_all(db)
    .await
}

#[derive(FromRow)]
struct HandleRow {
    id: String,
    #[sqlx(flatten)]
    summary: ChatSummaryRow,
}

/// The session behind a handle of [`list_sessions`] (its message count left at 0).
pub async fn session_by_handle<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant: Uuid,
    handle: &str,
) -> Result<Option<(String, ChatSummaryRow)>, sqlx::Error> {
    let row: Option<HandleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT s.id, {HANDLE} AS handle, s.channel, 0::bigint AS messages, s.created_at,
                s.updated_at
           FROM chat_sessions s
          WHERE s.tenant_id = $1 AND {HANDLE} = $2"
    )))
    .bind(tenant)
    .bind(handle)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.summary)))
}
