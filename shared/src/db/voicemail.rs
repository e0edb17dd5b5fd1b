//! `tenant_phone_handover` (the numbers a call is handed over to) and `voicemails` (the
//! messages callers leave).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

/// A tenant's handover numbers (both E.164, both optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow, Serialize)]
pub struct HandoverRow {
    pub transfer_number: Option<String>,
    pub staff_number: Option<String>,
}

pub async fn handover<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<HandoverRow, sqlx::Error> {
    Ok(sqlx::query_as(
        "SELECT transfer_number, staff_number FROM tenant_phone_handover WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(db)
    .await?
    .unwrap_or_default())
}

/// Sets both numbers (`None` clears one); false when the tenant does not exist.
pub async fn set_handover(
    conn: &mut PgConnection,
    tenant: Uuid,
    row: &HandoverRow,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "INSERT INTO tenant_phone_handover (tenant_id, transfer_number, staff_number, updated_at)
         SELECT id, $2, $3, $4 FROM tenants WHERE id = $1
         ON CONFLICT (tenant_id) DO UPDATE
            SET transfer_number = EXCLUDED.transfer_number,
                staff_number = EXCLUDED.staff_number,
                updated_at = EXCLUDED.updated_at",
    )
    .bind(tenant)
    .bind(row.transfer_number.as_deref())
    .bind(row.staff_number.as_deref())
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct VoicemailRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub call_sid: String,
    pub recording_sid: String,
    pub caller_number: String,
    pub recording_url: Option<String>,
    pub duration_seconds: Option<i32>,
    pub reason: String,
    pub dial_status: Option<String>,
    pub locale: String,
    pub transcription: Option<String>,
    pub transcription_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub transcribed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, tenant_id, call_sid, recording_sid, caller_number, recording_url,
    duration_seconds, reason, dial_status, locale, transcription, transcription_status,
    created_at, transcribed_at";

/// What one callback knows about a recording; the fields it lacks stay as they are.
pub struct RecordingUpsert<'a> {
    pub tenant_id: Uuid,
    pub call_sid: &'a str,
    pub recording_sid: &'a str,
    pub caller_number: &'a str,
    pub recording_url: Option<&'a str>,
    pub duration_seconds: Option<i32>,
    pub reason: &'a str,
    pub dial_status: Option<&'a str>,
    pub locale: &'a str,
    pub transcription: Option<&'a str>,
    pub transcription_status: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Writes a recording's row or completes it; returns the row and whether this call made
/// it (the first callback for a recording is the one that tells the staff).
pub async fn upsert(
    conn: &mut PgConnection,
    r: &RecordingUpsert<'_>,
) -> Result<(VoicemailRow, bool), sqlx::Error> {
    let sql = format!(
        "INSERT INTO voicemails (id, tenant_id, call_sid, recording_sid, caller_number,
                                 recording_url, duration_seconds, reason, dial_status, locale,
                                 transcription, transcription_status, created_at, transcribed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                 CASE WHEN $11::text IS NULL THEN NULL ELSE $13 END)
         ON CONFLICT (recording_sid) DO UPDATE SET
             recording_url = coalesce(EXCLUDED.recording_url, voicemails.recording_url),
             duration_seconds = coalesce(EXCLUDED.duration_seconds, voicemails.duration_seconds),
             transcription = coalesce(EXCLUDED.transcription, voicemails.transcription),
             transcription_status = CASE
                 WHEN voicemails.transcription_status = 'completed' THEN 'completed'
                 ELSE coalesce(EXCLUDED.transcription_status, voicemails.transcription_status) END,
             transcribed_at = coalesce(voicemails.transcribed_at, EXCLUDED.transcribed_at)
         WHERE voicemails.tenant_id = EXCLUDED.tenant_id
         RETURNING {COLUMNS}, (xmax = 0) AS inserted"
    );
    #[derive(FromRow)]
    struct Out {
        #[sqlx(flatten)]
        row: VoicemailRow,
        inserted: bool,
    }
    let out: Option<Out> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(r.tenant_id)
        .bind(r.call_sid)
        .bind(r.recording_sid)
        .bind(r.caller_number)
        .bind(r.recording_url)
        .bind(r.duration_seconds)
        .bind(r.reason)
        .bind(r.dial_status)
        .bind(r.locale)
        .bind(r.transcription)
        .bind(r.transcription_status)
        .bind(r.now)
        .fetch_optional(&mut *conn)
        .await?;
    match out {
        Some(o) => Ok((o.row, o.inserted)),
        // The recording id belongs to another tenant's row: never touch it.
        None => Err(sqlx::Error::RowNotFound),
    }
}

/// A tenant's voicemails, newest first.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<VoicemailRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM voicemails WHERE tenant_id = $1
          ORDER BY created_at DESC, id LIMIT $2"
    )))
    .bind(tenant)
    .bind(limit)
    .fetch_all(db)
    .await
}
