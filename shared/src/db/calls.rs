//! `tenant_phone_numbers`, `voice_calls` and `voice_call_turns`: which tenant a number
//! belongs to, the durable per-CallSid conversation state (version-checked writes) and the
//! transcript.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhoneNumberRow {
    pub phone_number: String,
    pub tenant_id: Uuid,
    pub voice_enabled: bool,
    pub sms_enabled: bool,
}

pub async fn number(pool: &PgPool, phone: &str) -> Result<Option<PhoneNumberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT phone_number, tenant_id, voice_enabled, sms_enabled
         FROM tenant_phone_numbers WHERE phone_number = $1",
    )
    .bind(phone)
    .fetch_optional(pool)
    .await
}

/// Gives a tenant a number (idempotent; the number moves if another tenant had it).
pub async fn assign_number(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    phone: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO tenant_phone_numbers (phone_number, tenant_id) VALUES ($1, $2)
         ON CONFLICT (phone_number) DO UPDATE SET tenant_id = EXCLUDED.tenant_id",
    )
    .bind(phone)
    .bind(tenant_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn tenant_numbers(pool: &PgPool, tenant_id: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT phone_number FROM tenant_phone_numbers WHERE tenant_id = $1 ORDER BY created_at, phone_number",
    )
    .bind(tenant_id)
    .fetch_all(pool)
    .await
}

/// The number a tenant's texts go out from: its oldest SMS-enabled number.
pub async fn sms_sender_number<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT phone_number FROM tenant_phone_numbers WHERE tenant_id = $1 AND sms_enabled
          ORDER BY created_at, phone_number LIMIT 1",
    )
    .bind(tenant_id)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallRow {
    pub call_sid: String,
    pub tenant_id: Uuid,
    pub from_number: String,
    pub to_number: String,
    pub status: String,
    pub state: String,
    pub context: Json<Value>,
    pub version: i32,
    pub turn_count: i32,
    pub misunderstandings: i32,
    pub last_request_key: Option<String>,
    pub last_response: Option<String>,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

const CALL_COLUMNS: &str = "call_sid, tenant_id, from_number, to_number, status, state, context, version,
    turn_count, misunderstandings, last_request_key, last_response, started_at, updated_at, ended_at, end_reason";

pub struct NewCall<'a> {
    pub call_sid: &'a str,
    pub tenant_id: Uuid,
    pub from_number: &'a str,
    pub to_number: &'a str,
    pub state: &'a str,
    pub now: DateTime<Utc>,
}

pub enum StartOutcome {
    Started(CallRow),
    /// The same CallSid was seen before (a retried call-start webhook).
    Existing(CallRow),
    /// The tenant already has its maximum of live calls; the call was recorded as rejected.
    Busy,
}

fn tenant_lock_key(tenant_id: Uuid) -> i64 {
    let d = Sha256::new()
        .chain_update(b"voice-calls")
        .chain_update(tenant_id.as_bytes())
        .finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Records a new call unless the tenant already has `max_live` live calls. Live = active and
/// started after `live_since` (a call whose status callback never came stops counting once
/// it is past the duration limit). A per-tenant advisory lock makes count-then-insert atomic.
pub async fn start_call(
    pool: &PgPool,
    call: &NewCall<'_>,
    max_live: i64,
    live_since: DateTime<Utc>,
) -> Result<StartOutcome, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(tenant_lock_key(call.tenant_id))
        .execute(&mut *tx)
        .await?;
    if let Some(existing) = load_call(&mut tx, call.call_sid).await? {
        tx.commit().await?;
        return Ok(StartOutcome::Existing(existing));
    }
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM voice_calls WHERE tenant_id = $1 AND status = 'active' AND started_at > $2",
    )
    .bind(call.tenant_id)
    .bind(live_since)
    .fetch_one(&mut *tx)
    .await?;
    let busy = live >= max_live;
    let row: CallRow = sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO voice_calls (call_sid, tenant_id, from_number, to_number, status, state, started_at, updated_at, ended_at, end_reason)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING {CALL_COLUMNS}"
    )))
    .bind(call.call_sid)
    .bind(call.tenant_id)
    .bind(call.from_number)
    .bind(call.to_number)
    .bind(if busy { "rejected" } else { "active" })
    .bind(call.state)
    .bind(call.now)
    .bind(busy.then_some(call.now))
    .bind(busy.then_some("concurrent_call_limit"))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(if busy {
        StartOutcome::Busy
    } else {
        StartOutcome::Started(row)
    })
}

pub async fn load_call(
    conn: &mut PgConnection,
    call_sid: &str,
) -> Result<Option<CallRow>, sqlx::Error> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {CALL_COLUMNS} FROM voice_calls WHERE call_sid = $1"
    )))
    .bind(call_sid)
    .fetch_optional(conn)
    .await
}

/// Loads the call and locks its row until the transaction ends, without waiting: the turns
/// of one call are processed one at a time. `Err(Busy)` when another turn holds the row —
/// the caller releases its connection and tries again, so waiters never hold connections
/// the lock holder needs (a pool of 2 on Lambda).
pub async fn try_lock_call(
    conn: &mut PgConnection,
    call_sid: &str,
) -> Result<Result<Option<CallRow>, Busy>, sqlx::Error> {
    let r = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {CALL_COLUMNS} FROM voice_calls WHERE call_sid = $1 FOR UPDATE NOWAIT"
    )))
    .bind(call_sid)
    .fetch_optional(conn)
    .await;
    match r {
        Ok(row) => Ok(Ok(row)),
        Err(e) if matches!(super::db_error_code(&e), Some((code, _)) if code == LOCK_NOT_AVAILABLE) => {
            Ok(Err(Busy))
        }
        Err(e) => Err(e),
    }
}

/// SQLSTATE of `FOR UPDATE NOWAIT` on a locked row.
const LOCK_NOT_AVAILABLE: &str = "55P03";

/// Another turn of the same call holds its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// The new state of a call after one turn.
pub struct CallUpdate<'a> {
    pub call_sid: &'a str,
    pub expected_version: i32,
    pub status: &'a str,
    pub state: &'a str,
    pub context: &'a Value,
    pub turn_count: i32,
    pub misunderstandings: i32,
    pub request_key: Option<&'a str>,
    pub response: &'a str,
    pub now: DateTime<Utc>,
    pub end_reason: Option<&'a str>,
}

/// Writes the state only if nobody wrote since `expected_version` was read; returns the new
/// version, or `None` when the version moved (the caller must reload and not retry blindly).
pub async fn save_call(
    conn: &mut PgConnection,
    u: &CallUpdate<'_>,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE voice_calls SET status = $3, state = $4, context = $5, turn_count = $6,
             misunderstandings = $7, last_request_key = $8, last_response = $9, updated_at = $10,
             version = version + 1,
             ended_at = CASE WHEN $3 <> 'active' THEN coalesce(ended_at, $10) ELSE ended_at END,
             end_reason = coalesce(end_reason, $11)
         WHERE call_sid = $1 AND version = $2
         RETURNING version",
    )
    .bind(u.call_sid)
    .bind(u.expected_version)
    .bind(u.status)
    .bind(u.state)
    .bind(Json(u.context))
    .bind(u.turn_count)
    .bind(u.misunderstandings)
    .bind(u.request_key)
    .bind(u.response)
    .bind(u.now)
    .bind(u.end_reason)
    .fetch_optional(conn)
    .await
}

/// Marks a call ended (status callback: completed, busy, failed, no-answer, canceled).
pub async fn end_call(
    pool: &PgPool,
    call_sid: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE voice_calls SET status = 'ended', ended_at = coalesce(ended_at, $2),
             end_reason = coalesce(end_reason, $3), updated_at = $2, version = version + 1
         WHERE call_sid = $1 AND status = 'active'",
    )
    .bind(call_sid)
    .bind(now)
    .bind(reason)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TurnRow {
    pub seq: i32,
    pub speaker: String,
    pub text: String,
    pub state: String,
    pub confidence: Option<f32>,
    pub created_at: DateTime<Utc>,
}

pub struct NewTurn<'a> {
    pub speaker: &'a str,
    pub text: &'a str,
    pub state: &'a str,
    pub confidence: Option<f32>,
}

pub async fn append_turns(
    conn: &mut PgConnection,
    call_sid: &str,
    turns: &[NewTurn<'_>],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut next: i32 = sqlx::query_scalar(
        "SELECT coalesce(max(seq), 0) + 1 FROM voice_call_turns WHERE call_sid = $1",
    )
    .bind(call_sid)
    .fetch_one(&mut *conn)
    .await?;
    for t in turns {
        sqlx::query(
            "INSERT INTO voice_call_turns (call_sid, seq, speaker, text, state, confidence, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(call_sid)
        .bind(next)
        .bind(t.speaker)
        .bind(t.text)
        .bind(t.state)
        .bind(t.confidence)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        next += 1;
    }
    Ok(())
}

pub async fn transcript(pool: &PgPool, call_sid: &str) -> Result<Vec<TurnRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT seq, speaker, text, state, confidence, created_at FROM voice_call_turns
         WHERE call_sid = $1 ORDER BY seq",
    )
    .bind(call_sid)
    .fetch_all(pool)
    .await
}

/// A tenant's numbers with their channels, oldest first.
pub async fn numbers_of<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant_id: Uuid,
) -> Result<Vec<PhoneNumberRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT phone_number, tenant_id, voice_enabled, sms_enabled FROM tenant_phone_numbers
          WHERE tenant_id = $1 ORDER BY created_at, phone_number",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await
}

/// Attaches a number to a tenant, or changes its channels when the tenant has it already.
/// `None` when another tenant has the number (it never moves silently).
pub async fn attach_number(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    phone: &str,
    voice_enabled: bool,
    sms_enabled: bool,
) -> Result<Option<PhoneNumberRow>, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO tenant_phone_numbers (phone_number, tenant_id, voice_enabled, sms_enabled)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (phone_number) DO UPDATE
               SET voice_enabled = EXCLUDED.voice_enabled, sms_enabled = EXCLUDED.sms_enabled
             WHERE tenant_phone_numbers.tenant_id = EXCLUDED.tenant_id
         RETURNING phone_number, tenant_id, voice_enabled, sms_enabled",
    )
    .bind(phone)
    .bind(tenant_id)
    .bind(voice_enabled)
    .bind(sms_enabled)
    .fetch_optional(conn)
    .await
}

/// Detaches a number from a tenant; false when the tenant did not have it.
pub async fn detach_number(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    phone: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM tenant_phone_numbers WHERE tenant_id = $1 AND phone_number = $2")
            .bind(tenant_id)
            .bind(phone)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// A call as the admin's list shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallSummaryRow {
    pub call_sid: String,
    pub from_number: String,
    pub to_number: String,
    pub status: String,
    pub turn_count: i32,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
}

/// A tenant's calls, newest first.
pub async fn list_calls<'e>(
    db: impl sqlx::PgExecutor<'e>,
    tenant_id: Uuid,
    limit: i64,
) -> Result<Vec<CallSummaryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT call_sid, from_number, to_number, status, turn_count, started_at, ended_at,
                end_reason
           FROM voice_calls WHERE tenant_id = $1
          ORDER BY started_at DESC, call_sid LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// One call of the tenant, with its transcript; `None` when the tenant has no such call.
pub async fn tenant_call_transcript(
    pool: &PgPool,
    tenant_id: Uuid,
    call_sid: &str,
) -> Result<Option<(CallSummaryRow, Vec<TurnRow>)>, sqlx::Error> {
    let call: Option<CallSummaryRow> = sqlx::query_as(
        "SELECT call_sid, from_number, to_number, status, turn_count, started_at, ended_at,
                end_reason
           FROM voice_calls WHERE tenant_id = $1 AND call_sid = $2",
    )
    .bind(tenant_id)
    .bind(call_sid)
    .fetch_optional(pool)
    .await?;
    match call {
        None => Ok(None),
        Some(c) => Ok(Some((c, transcript(pool, call_sid).await?))),
    }
}
