//! Call and chat transcripts for the tenant's staff: emails and phone numbers redacted by
//! default; only an owner may read them unredacted, and every such reading is audited.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::calls::{self, CallSummaryRow};
use crate::db::chat::{self, ChatSummaryRow};
use crate::domain::redact::redact_text;
use crate::services::people::Principal;

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("only an owner may read a transcript unredacted")]
    OwnerRequired,
    #[error("no such call")]
    CallNotFound,
    #[error("no such chat")]
    ChatNotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// One line of a transcript.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Line {
    /// `caller`/`agent` for calls, `client`/`agent` for chats.
    pub speaker: String,
    pub text: String,
    pub at: Option<DateTime<Utc>>,
}

/// A caller's number as a list shows it: the last two digits.
pub fn mask_number(n: &str) -> String {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(2)..];
    format!("•••{tail}")
}

fn scrub(text: String, unredacted: bool) -> String {
    if unredacted {
        text
    } else {
        redact_text(&text)
    }
}

async fn audit_view(
    pool: &PgPool,
    by: &Principal,
    entity: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    crate::db::audit::record(
        &mut conn,
        crate::db::audit::AuditEntry {
            tenant_id: Some(by.tenant),
            event_type: "transcript.viewed_unredacted",
            entity_type: entity,
            entity_id: Some(id.to_owned()),
            actor: &by.label(),
            payload: json!({"by": by.audit_extra()}),
        },
    )
    .await
}

pub async fn calls(
    pool: &PgPool,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<CallSummaryRow>, TranscriptError> {
    Ok(calls::list_calls(pool, tenant, limit).await?)
}

/// A call and its transcript; `unredacted` needs an owner and is audited.
pub async fn call(
    pool: &PgPool,
    by: &Principal,
    call_sid: &str,
    unredacted: bool,
) -> Result<(CallSummaryRow, Vec<Line>), TranscriptError> {
    if unredacted && !by.is_owner() {
        return Err(TranscriptError::OwnerRequired);
    }
    let (call, turns) = calls::tenant_call_transcript(pool, by.tenant, call_sid)
        .await?
        .ok_or(TranscriptError::CallNotFound)?;
    if unredacted {
        audit_view(pool, by, "call", call_sid).await?;
    }
    let lines = turns
        .into_iter()
        .map(|t| Line {
            speaker: t.speaker,
            text: scrub(t.text, unredacted),
            at: Some(t.created_at),
        })
        .collect();
    Ok((call, lines))
}

pub async fn chats(
    pool: &PgPool,
    tenant: Uuid,
    limit: i64,
) -> Result<Vec<ChatSummaryRow>, TranscriptError> {
    Ok(chat::list_sessions(pool, tenant, limit).await?)
}

/// At most this many messages of one chat are shown.
pub const CHAT_LINES: i64 = 500;

/// A chat (by its handle) and what the client and the agent said; `unredacted` needs an
/// owner and is audited.
pub async fn chat(
    pool: &PgPool,
    by: &Principal,
    handle: &str,
    unredacted: bool,
) -> Result<(ChatSummaryRow, Vec<Line>), TranscriptError> {
    if unredacted && !by.is_owner() {
        return Err(TranscriptError::OwnerRequired);
    }
    let (session, mut summary) = chat::session_by_handle(pool, by.tenant, handle)
        .await?
        .ok_or(TranscriptError::ChatNotFound)?;
    let messages = chat::visible_messages(pool, by.tenant, &session, CHAT_LINES).await?;
    if unredacted {
        audit_view(pool, by, "chat", handle).await?;
    }
    summary.messages = messages.len() as i64;
    let lines = messages
        .into_iter()
        .map(|(role, text)| Line {
            speaker: if role == "user" { "client" } else { "agent" }.to_owned(),
            text: scrub(text, unredacted),
            at: None,
        })
        .collect();
    Ok((summary, lines))
}
