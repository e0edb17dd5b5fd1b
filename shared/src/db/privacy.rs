//! Privacy: the retention sweep, and one client's data exported or erased.
//!
//! A client is named by an email address and/or an E.164 phone number. Their rows are the
//! tenant's rows whose contact columns equal one of those (case-insensitive for emails),
//! widened once by the bookings and waitlist entries found: a booking made with the email
//! brings its phone number along, and the reverse. Free-text columns (chat messages, session
//! state, call context and turns, handoff contexts, audit payloads) are matched by a
//! case-insensitive pattern of the emails and numbers ([`ClientKeys::contact_pattern`]).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::audit::{self, AuditEntry};

/// What anonymised bookings say instead of the client's name.
pub const ERASED_NAME: &str = "[erased]";
/// What anonymised bookings hold instead of the client's email (a reserved domain).
pub const ERASED_EMAIL: &str = "erased@erased.invalid";
/// What redacted free text holds instead of a contact or a name.
pub const ERASED_TEXT: &str = "[ERASED]";

/// Rows removed by one retention pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PurgeCounts {
    pub chat_messages: u64,
    pub chat_sessions: u64,
    pub calls: u64,
    pub call_turns: u64,
    pub sms_inbound: u64,
    pub handoff_tokens: u64,
    pub issued_sessions: u64,
    pub sms_budgets: u64,
}

impl PurgeCounts {
    pub fn total(&self) -> u64 {
        self.chat_messages
            + self.chat_sessions
            + self.calls
            + self.call_turns
            + self.sms_inbound
            + self.handoff_tokens
            + self.issued_sessions
            + self.sms_budgets
    }
}

/// A table the retention sweep trims oldest first: its key column and the time it is aged by.
#[derive(Clone, Copy)]
struct Oldest {
    table: &'static str,
    key: &'static str,
    time: &'static str,
}

const CHAT_MESSAGES: Oldest = Oldest {
    table: "chat_messages",
    key: "id",
    time: "created_at",
};

const SMS_INBOUND: Oldest = Oldest {
    table: "sms_inbound_messages",
    key: "message_sid",
    time: "received_at",
};

const HANDOFF_TOKENS: Oldest = Oldest {
    table: "handoff_tokens",
    key: "id",
    time: "expires_at",
};

const ISSUED_SESSIONS: Oldest = Oldest {
    table: "issued_sessions",
    key: "id",
    time: "last_seen_at",
};

const SMS_BUDGETS: Oldest = Oldest {
    table: "sms_budgets",
    key: "id",
    time: "window_start",
};

/// Deletes at most `batch` rows of `t` whose time is before `before`, oldest first. The
/// names come from the constants of [`purge_before`], never from input.
async fn delete_oldest(
    pool: &PgPool,
    t: Oldest,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let Oldest { table, key, time } = t;
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN (
           SELECT {key} FROM {table} WHERE {time} < $1 ORDER BY {time} LIMIT $2)"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected())
}

/// Deletes, at most `batch` rows of each kind, what is older than `cutoff`: chat messages
/// (by when they were written), chat sessions idle since then (with their messages), calls
/// last updated before it (with their transcripts), inbound SMS records, and handoff tokens
/// expired before it (their context holds what a call gathered), and issued session tokens
/// not used since then; and the outbound SMS budget windows (keyed by the raw number) that
/// started before `windows_before` (the caller passes a time by which every window is over).
/// Bookings are not touched.
pub async fn purge_before(
    pool: &PgPool,
    cutoff: DateTime<Utc>,
    windows_before: DateTime<Utc>,
    batch: i64,
) -> Result<PurgeCounts, sqlx::Error> {
    let mut c = PurgeCounts {
        chat_messages: delete_oldest(pool, CHAT_MESSAGES, cutoff, batch).await?,
        ..PurgeCounts::default()
    };
    c.chat_sessions = sqlx::query(
        "DELETE FROM chat_sessions s USING (
           SELECT tenant_id, id FROM chat_sessions
            WHERE updated_at < $1 AND (busy_until IS NULL OR busy_until < $1)
            ORDER BY updated_at LIMIT $2) old
         WHERE s.tenant_id = old.tenant_id AND s.id = old.id",
    )
    .bind(cutoff)
    .bind(batch)
    .execute(pool)
    .await?
    .rows_affected();
    let (calls, turns): (i64, i64) = sqlx::query_as(
        "WITH old AS (SELECT call_sid FROM voice_calls WHERE updated_at < $1
                       ORDER BY updated_at LIMIT $2),
              turns AS (DELETE FROM voice_call_turns t USING old WHERE t.call_sid = old.call_sid
                        RETURNING 1),
              codes AS (DELETE FROM phone_codes p USING old WHERE p.call_sid = old.call_sid
                        RETURNING 1),
              calls AS (DELETE FROM voice_calls v USING old WHERE v.call_sid = old.call_sid
                        RETURNING 1)
         SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM turns)",
    )
    .bind(cutoff)
    .bind(batch)
    .fetch_one(pool)
    .await?;
    c.calls = calls as u64;
    c.call_turns = turns as u64;
    c.sms_inbound = delete_oldest(pool, SMS_INBOUND, cutoff, batch).await?;
    c.handoff_tokens = delete_oldest(pool, HANDOFF_TOKENS, cutoff, batch).await?;
    c.issued_sessions = delete_oldest(pool, ISSUED_SESSIONS, cutoff, batch).await?;
    c.sms_budgets = delete_oldest(pool, SMS_BUDGETS, windows_before, batch).await?;
    if c.total() > 0 {
        let mut conn = pool.acquire().await?;
        audit::record(
            &mut conn,
            AuditEntry {
                tenant_id: None,
                event_type: "privacy.retention_purged",
                entity_type: "retention",
                entity_id: None,
                actor: "scheduler",
                payload: json!({"cutoff": cutoff, "deleted": c}),
            },
        )
        .await?;
    }
    Ok(c)
}

/// The contacts and names that identify one client at one tenant.
#[derive(Debug, Clone, Default)]
pub struct ClientKeys {
    /// Lower-cased.
    pub emails: Vec<String>,
    /// E.164.
    pub phones: Vec<String>,
    /// As written on their bookings and waitlist entries.
    pub names: Vec<String>,
}

/// Escapes `s` for a Postgres regular expression, as it appears inside a JSON string.
fn pattern_literal(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    let inner = json
        .strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(&json);
    let mut out = String::with_capacity(inner.len() * 2);
    for ch in inner.chars() {
        if ch.is_ascii() && !ch.is_ascii_alphanumeric() && ch != ' ' {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

impl ClientKeys {
    /// A case-insensitive pattern (`~*`) of the emails and numbers (with and without the
    /// leading `+`), never empty: with no contact it matches nothing.
    pub fn contact_pattern(&self) -> String {
        let mut parts: Vec<String> = self.emails.iter().map(|e| pattern_literal(e)).collect();
        for p in &self.phones {
            parts.push(pattern_literal(p));
            parts.push(format!("\\m{}", pattern_literal(p.trim_start_matches('+'))));
        }
        if parts.is_empty() {
            return "[^\\s\\S]".into();
        }
        parts.join("|")
    }

    /// [`Self::contact_pattern`] and the names (as whole words where they start or end
    /// with a letter or digit).
    pub fn full_pattern(&self) -> String {
        let mut parts = vec![self.contact_pattern()];
        for n in self
            .names
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
        {
            let (start, end) = word_edges(n);
            parts.push(format!(
                "{}{}{}",
                if start { "\\m" } else { "" },
                pattern_literal(n),
                if end { "\\M" } else { "" }
            ));
        }
        parts.join("|")
    }

    /// The same as [`Self::contact_pattern`], for text read back into Rust.
    pub fn contact_regex(&self) -> Result<Option<Regex>, regex::Error> {
        self.regex(false)
    }

    /// The same as [`Self::full_pattern`], for text read back into Rust.
    pub fn full_regex(&self) -> Result<Option<Regex>, regex::Error> {
        self.regex(true)
    }

    /// None when there is nothing to match.
    fn regex(&self, names: bool) -> Result<Option<Regex>, regex::Error> {
        let mut parts: Vec<String> = self.emails.iter().map(|e| regex::escape(e)).collect();
        for p in &self.phones {
            parts.push(regex::escape(p));
            parts.push(format!("\\b{}", regex::escape(p.trim_start_matches('+'))));
        }
        if names {
            for n in self
                .names
                .iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
            {
                let (start, end) = word_edges(n);
                parts.push(format!(
                    "{}{}{}",
                    if start { "\\b" } else { "" },
                    regex::escape(n),
                    if end { "\\b" } else { "" }
                ));
            }
        }
        if parts.is_empty() {
            return Ok(None);
        }
        Regex::new(&format!("(?i){}", parts.join("|"))).map(Some)
    }
}

/// Whether a name starts and ends with a letter or digit (then it is matched as a word).
fn word_edges(n: &str) -> (bool, bool) {
    (
        n.chars().next().is_some_and(char::is_alphanumeric),
        n.chars().next_back().is_some_and(char::is_alphanumeric),
    )
}

/// Replaces every match of `re` inside the strings of `v`; true when something changed.
pub fn scrub(v: &mut Value, re: Option<&Regex>) -> bool {
    let Some(re) = re else { return false };
    match v {
        Value::String(s) => match re.replace_all(s, ERASED_TEXT) {
            std::borrow::Cow::Owned(new) => {
                *s = new;
                true
            }
            std::borrow::Cow::Borrowed(_) => false,
        },
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, i| scrub(i, Some(re)) | acc),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |acc, i| scrub(i, Some(re)) | acc),
        _ => false,
    }
}

/// The client's keys: the given contact, widened once by their bookings and waitlist entries.
pub async fn client_keys(
    conn: &mut PgConnection,
    tenant: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<ClientKeys, sqlx::Error> {
    let email = email.map(str::to_lowercase);
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT lower(client_email), client_phone, client_name FROM appointments
          WHERE tenant_id = $1 AND (lower(client_email) = $2 OR client_phone = $3)
         UNION
         SELECT lower(client_email), client_phone, client_name FROM waitlist_entries
          WHERE tenant_id = $1 AND (lower(client_email) = $2 OR client_phone = $3)",
    )
    .bind(tenant)
    .bind(&email)
    .bind(phone)
    .fetch_all(&mut *conn)
    .await?;
    let (mut emails, mut phones, mut names) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    emails.extend(email);
    phones.extend(phone.map(str::to_string));
    for (e, p, n) in rows {
        emails.extend(e.filter(|e| e != ERASED_EMAIL));
        phones.extend(p);
        names.extend(n.filter(|n| n != ERASED_NAME && !n.trim().is_empty()));
    }
    Ok(ClientKeys {
        emails: emails.into_iter().collect(),
        phones: phones.into_iter().collect(),
        names: names.into_iter().collect(),
    })
}

/// The tenant's chat sessions of the client: named by their bookings, waitlist entries or
/// follow-ups, opened by one of their `calls` (directly or through a handoff link to their
/// number), or holding one of their contacts in their state or messages.
async fn client_sessions(
    conn: &mut PgConnection,
    tenant: Uuid,
    keys: &ClientKeys,
    calls: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT s.id FROM chat_sessions s
          WHERE s.tenant_id = $1 AND (
                s.id IN (SELECT session_id FROM appointments
                          WHERE tenant_id = $1 AND (lower(client_email) = ANY($2) OR client_phone = ANY($3)))
             OR s.id IN (SELECT session_id FROM waitlist_entries
                          WHERE tenant_id = $1 AND (lower(client_email) = ANY($2) OR client_phone = ANY($3)))
             OR s.id IN (SELECT session_id FROM followup_contacts
                          WHERE tenant_id = $1 AND (lower(recipient) = ANY($2) OR recipient = ANY($3)))
             OR s.id IN (SELECT 'call:' || c FROM unnest($5::text[]) AS c)
             OR s.id IN (SELECT chat_session_id FROM handoff_tokens
                          WHERE tenant_id = $1 AND chat_session_id IS NOT NULL
                            AND (phone = ANY($3) OR call_sid = ANY($5)))
             OR s.state::text ~* $4
             OR s.id IN (SELECT session_id FROM chat_messages WHERE tenant_id = $1 AND message::text ~* $4))
          ORDER BY s.created_at",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .bind(keys.contact_pattern())
    .bind(calls)
    .fetch_all(conn)
    .await
}

/// The tenant's calls of the client: from one of their numbers, or naming a contact of theirs
/// in the call's context or transcript.
async fn client_calls(
    conn: &mut PgConnection,
    tenant: Uuid,
    keys: &ClientKeys,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT c.call_sid FROM voice_calls c
          WHERE c.tenant_id = $1 AND (
                c.from_number = ANY($2)
             OR c.context::text ~* $3
             OR EXISTS (SELECT 1 FROM voice_call_turns t WHERE t.call_sid = c.call_sid AND t.text ~* $3))
          ORDER BY c.started_at",
    )
    .bind(tenant)
    .bind(&keys.phones)
    .bind(keys.contact_pattern())
    .fetch_all(conn)
    .await
}

/// Everything kept about one client at one tenant, as JSON objects per kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientExport {
    pub bookings: Vec<Value>,
    pub waitlist_entries: Vec<Value>,
    pub notifications: Vec<Value>,
    pub followups: Vec<Value>,
    pub chat_sessions: Vec<Value>,
    pub calls: Vec<Value>,
    pub sms_messages: Vec<Value>,
    pub sms_opt_outs: Vec<Value>,
}

impl ClientExport {
    /// How many records of each kind (what the audit row says).
    pub fn counts(&self) -> Value {
        json!({
            "bookings": self.bookings.len(),
            "waitlist_entries": self.waitlist_entries.len(),
            "notifications": self.notifications.len(),
            "followups": self.followups.len(),
            "chat_sessions": self.chat_sessions.len(),
            "calls": self.calls.len(),
            "sms_messages": self.sms_messages.len(),
            "sms_opt_outs": self.sms_opt_outs.len(),
        })
    }
}

/// Reads one client's data at `tenant` and audits the export (who asked, counts).
pub async fn export(
    pool: &PgPool,
    tenant: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
    actor: &str,
    audit_extra: Value,
) -> Result<ClientExport, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let keys = client_keys(&mut tx, tenant, email, phone).await?;
    let calls = client_calls(&mut tx, tenant, &keys).await?;
    let sessions = client_sessions(&mut tx, tenant, &keys, &calls).await?;
    let objects = |sql: &'static str| sqlx::query_scalar::<_, Value>(sql);
    let out = ClientExport {
        bookings: objects(
            "SELECT jsonb_build_object('id', a.id, 'reference', a.reference, 'service_id', a.service_id,
                    'resource_id', a.resource_id, 'start', lower(a.during), 'end', upper(a.during),
                    'status', a.status, 'client_name', a.client_name, 'client_email', a.client_email,
                    'client_phone', a.client_phone, 'notes', a.notes, 'created_at', a.created_at,
                    'cancelled_at', a.cancelled_at, 'client_time_zone', a.client_time_zone)
               FROM appointments a
              WHERE a.tenant_id = $1 AND (lower(a.client_email) = ANY($2) OR a.client_phone = ANY($3))
              ORDER BY lower(a.during)",
        )
        .bind(tenant)
        .bind(&keys.emails)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
        waitlist_entries: objects(
            "SELECT jsonb_build_object('id', id, 'service_id', service_id, 'preferred_from', preferred_from,
                    'preferred_to', preferred_to, 'time_of_day', time_of_day, 'client_name', client_name,
                    'client_email', client_email, 'client_phone', client_phone, 'status', status,
                    'created_at', created_at, 'notified_at', notified_at)
               FROM waitlist_entries
              WHERE tenant_id = $1 AND (lower(client_email) = ANY($2) OR client_phone = ANY($3))
              ORDER BY created_at",
        )
        .bind(tenant)
        .bind(&keys.emails)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
        notifications: objects(
            "SELECT jsonb_build_object('id', id, 'channel', channel, 'kind', kind, 'recipient', recipient,
                    'subject', subject, 'body', body, 'status', status, 'created_at', created_at,
                    'sent_at', sent_at)
               FROM notification_outbox
              WHERE tenant_id = $1 AND channel <> 'webhook'
                AND (lower(recipient) = ANY($2) OR recipient = ANY($3))
              ORDER BY created_at",
        )
        .bind(tenant)
        .bind(&keys.emails)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
        followups: objects(
            "SELECT jsonb_build_object('id', id, 'channel', channel, 'recipient', recipient,
                    'reason', reason, 'status', status, 'created_at', created_at, 'sent_at', sent_at)
               FROM followup_contacts
              WHERE tenant_id = $1 AND (lower(recipient) = ANY($2) OR recipient = ANY($3))
              ORDER BY created_at",
        )
        .bind(tenant)
        .bind(&keys.emails)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
        chat_sessions: objects(
            "SELECT jsonb_build_object('channel', s.channel, 'state', s.state, 'created_at', s.created_at,
                    'updated_at', s.updated_at,
                    'messages', COALESCE((SELECT jsonb_agg(jsonb_build_object('role', m.role,
                                 'message', m.message, 'created_at', m.created_at) ORDER BY m.id)
                                FROM chat_messages m
                               WHERE m.tenant_id = s.tenant_id AND m.session_id = s.id), '[]'::jsonb))
               FROM chat_sessions s
              WHERE s.tenant_id = $1 AND s.id = ANY($2)
              ORDER BY s.created_at",
        )
        .bind(tenant)
        .bind(&sessions)
        .fetch_all(&mut *tx)
        .await?,
        calls: objects(
            "SELECT jsonb_build_object('from_number', c.from_number, 'to_number', c.to_number,
                    'status', c.status, 'started_at', c.started_at, 'ended_at', c.ended_at,
                    'context', c.context,
                    'transcript', COALESCE((SELECT jsonb_agg(jsonb_build_object('speaker', t.speaker,
                                   'text', t.text, 'created_at', t.created_at) ORDER BY t.seq)
                                  FROM voice_call_turns t WHERE t.call_sid = c.call_sid), '[]'::jsonb))
               FROM voice_calls c
              WHERE c.tenant_id = $1 AND c.call_sid = ANY($2)
              ORDER BY c.started_at",
        )
        .bind(tenant)
        .bind(&calls)
        .fetch_all(&mut *tx)
        .await?,
        sms_messages: objects(
            "SELECT jsonb_build_object('from_number', from_number, 'action', action, 'reply', reply,
                    'received_at', received_at)
               FROM sms_inbound_messages
              WHERE tenant_id = $1 AND from_number = ANY($2)
              ORDER BY received_at",
        )
        .bind(tenant)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
        sms_opt_outs: objects(
            "SELECT jsonb_build_object('phone', p.phone, 'opted_out', o.opted_out, 'keyword', o.keyword,
                    'updated_at', o.updated_at)
               FROM unnest($2::text[]) AS p(phone)
               JOIN sms_opt_outs o ON o.tenant_id = $1 AND o.phone_hash = phone_digest(p.phone)
              ORDER BY p.phone",
        )
        .bind(tenant)
        .bind(&keys.phones)
        .fetch_all(&mut *tx)
        .await?,
    };
    tx.commit().await?;
    let mut payload = json!({"counts": out.counts()});
    merge(&mut payload, audit_extra);
    let mut conn = pool.acquire().await?;
    audit::record(
        &mut conn,
        AuditEntry {
            tenant_id: Some(tenant),
            event_type: "privacy.client_exported",
            entity_type: "client",
            entity_id: None,
            actor,
            payload,
        },
    )
    .await?;
    Ok(out)
}

fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

/// What one erasure changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErasureCounts {
    pub bookings_anonymised: u64,
    pub jobs_cancelled: u64,
    pub waitlist_entries_deleted: u64,
    pub followups_deleted: u64,
    pub notifications_deleted: u64,
    pub notifications_redacted: u64,
    pub chat_sessions_deleted: u64,
    pub calls_deleted: u64,
    pub handoff_tokens_deleted: u64,
    pub sms_records_deleted: u64,
    pub opt_outs_kept: u64,
    pub audit_rows_redacted: u64,
    pub other_rows_redacted: u64,
    pub other_rows_deleted: u64,
}

/// Erases one client's data at `tenant` in one transaction, and audits it (who asked,
/// counts). Bookings keep their slot, times, status and reference; the contact fields,
/// notes and session are replaced. Chat sessions, calls, handoff tokens, SMS records,
/// waitlist entries and follow-ups are deleted (another person's waitlist entry or
/// follow-up asked for in the same chat stays); queued notifications deleted, sent ones
/// redacted; audit rows kept with the contacts and names replaced. Each of the client's
/// numbers is kept opted out, as a digest. Erasing again changes nothing more.
pub async fn erase(
    pool: &PgPool,
    tenant: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
    actor: &str,
    audit_extra: Value,
    now: DateTime<Utc>,
) -> Result<ErasureCounts, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Two erasures of one tenant run one after the other.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('privacy:' || $1::text, 0))")
        .bind(tenant)
        .execute(&mut *tx)
        .await?;
    let keys = client_keys(&mut tx, tenant, email, phone).await?;
    let calls = client_calls(&mut tx, tenant, &keys).await?;
    let sessions = client_sessions(&mut tx, tenant, &keys, &calls).await?;
    let contact = keys.contact_pattern();
    let full = keys.full_pattern();
    let mut c = ErasureCounts::default();

    let bookings: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM appointments
          WHERE tenant_id = $1 AND (lower(client_email) = ANY($2) OR client_phone = ANY($3))",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .fetch_all(&mut *tx)
    .await?;
    c.bookings_anonymised = sqlx::query(
        "UPDATE appointments
            SET client_name = $3, client_email = $4, client_phone = NULL, notes = NULL,
                client_time_zone = NULL, session_id = 'erased', updated_at = $5
          WHERE tenant_id = $1 AND id = ANY($2)",
    )
    .bind(tenant)
    .bind(&bookings)
    .bind(ERASED_NAME)
    .bind(ERASED_EMAIL)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    c.jobs_cancelled = sqlx::query(
        "UPDATE jobs SET status = 'cancelled', last_error = 'client data erased', updated_at = $4
          WHERE tenant_id = $1 AND status = 'pending'
            AND (booking_id = ANY($2) OR (booking_id IS NULL AND session_id = ANY($3)))",
    )
    .bind(tenant)
    .bind(&bookings)
    .bind(&sessions)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    c.waitlist_entries_deleted = sqlx::query(
        "DELETE FROM waitlist_entries
          WHERE tenant_id = $1
            AND (lower(client_email) = ANY($2) OR client_phone = ANY($3)
                 OR (session_id = ANY($4) AND client_email IS NULL AND client_phone IS NULL))",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .bind(&sessions)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    c.followups_deleted = sqlx::query(
        "DELETE FROM followup_contacts
          WHERE tenant_id = $1 AND (lower(recipient) = ANY($2) OR recipient = ANY($3))",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    c.notifications_deleted = sqlx::query(
        "DELETE FROM notification_outbox
          WHERE tenant_id = $1 AND status = 'queued'
            AND (lower(recipient) = ANY($2) OR recipient = ANY($3) OR booking_id = ANY($4)
                 OR metadata->>'call_sid' = ANY($5))",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .bind(&bookings)
    .bind(&calls)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    c.notifications_redacted = sqlx::query(
        "UPDATE notification_outbox
            SET recipient = CASE WHEN lower(recipient) = ANY($2) OR recipient = ANY($3)
                                 THEN $5 ELSE recipient END,
                subject = CASE WHEN subject IS NULL THEN NULL ELSE $5 END,
                body = $5, last_error = NULL
          WHERE tenant_id = $1
            AND (lower(recipient) = ANY($2) OR recipient = ANY($3) OR booking_id = ANY($4)
                 OR metadata->>'call_sid' = ANY($6))",
    )
    .bind(tenant)
    .bind(&keys.emails)
    .bind(&keys.phones)
    .bind(&bookings)
    .bind(ERASED_TEXT)
    .bind(&calls)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM push_events WHERE tenant_id = $1 AND (session_id = ANY($2) OR payload::text ~* $3)")
        .bind(tenant)
        .bind(&sessions)
        .bind(&contact)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM ws_connections WHERE tenant_id = $1 AND session_id = ANY($2)")
        .bind(tenant)
        .bind(&sessions)
        .execute(&mut *tx)
        .await?;
    c.chat_sessions_deleted =
        sqlx::query("DELETE FROM chat_sessions WHERE tenant_id = $1 AND id = ANY($2)")
            .bind(tenant)
            .bind(&sessions)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    c.handoff_tokens_deleted = sqlx::query(
        "DELETE FROM handoff_tokens
          WHERE tenant_id = $1
            AND (phone = ANY($2) OR call_sid = ANY($3) OR chat_session_id = ANY($4) OR context::text ~* $5)",
    )
    .bind(tenant)
    .bind(&keys.phones)
    .bind(&calls)
    .bind(&sessions)
    .bind(&contact)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // The client's phone codes (their number is on them), by number or by call.
    sqlx::query(
        "DELETE FROM phone_codes WHERE tenant_id = $1 AND (phone = ANY($2) OR call_sid = ANY($3))",
    )
    .bind(tenant)
    .bind(&keys.phones)
    .bind(&calls)
    .execute(&mut *tx)
    .await?;
    c.calls_deleted =
        sqlx::query("DELETE FROM voice_calls WHERE tenant_id = $1 AND call_sid = ANY($2)")
            .bind(tenant)
            .bind(&calls)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // Texts received on, and budgets of sends from, a number no tenant owns carry no tenant:
    // the client's numbers are removed from those rows too.
    for sql in [
        "DELETE FROM sms_inbound_messages
          WHERE (tenant_id = $1 OR tenant_id IS NULL) AND from_number = ANY($2)",
        "DELETE FROM sms_pending_actions WHERE tenant_id = $1 AND phone = ANY($2)",
        "DELETE FROM sms_budgets WHERE (tenant_id = $1 OR tenant_id IS NULL) AND phone = ANY($2)",
    ] {
        c.sms_records_deleted += sqlx::query(sql)
            .bind(tenant)
            .bind(&keys.phones)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    c.other_rows_deleted += sqlx::query(
        "DELETE FROM sync_dead_letter WHERE tenant_id = $1 AND (payload::text ~* $2 OR error ~* $2)",
    )
    .bind(tenant)
    .bind(&contact)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Each number stays opted out, as a digest: an erased client is never texted again
    // unless they text START themselves.
    for p in &keys.phones {
        let changed: Option<bool> = sqlx::query_scalar(
            "INSERT INTO sms_opt_outs (tenant_id, phone_hash, opted_out, keyword, updated_at)
             VALUES ($1, phone_digest($2), true, 'ERASURE', $3)
             ON CONFLICT (tenant_id, phone_hash) DO UPDATE
               SET opted_out = true, keyword = 'ERASURE', updated_at = EXCLUDED.updated_at
               WHERE NOT sms_opt_outs.opted_out
             RETURNING true",
        )
        .bind(tenant)
        .bind(p)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if changed.is_some() {
            sqlx::query(
                "INSERT INTO sms_opt_out_events (tenant_id, phone_hash, opted_out, keyword, created_at)
                 VALUES ($1, phone_digest($2), true, 'ERASURE', $3)",
            )
            .bind(tenant)
            .bind(p)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        c.opt_outs_kept += 1;
    }
    // Audit rows stay; the contacts (anywhere in the tenant's rows) and the names (in the
    // rows about the client's bookings) are replaced inside their strings.
    let booking_ids: Vec<String> = bookings.iter().map(Uuid::to_string).collect();
    let bad = |e: regex::Error| sqlx::Error::Decode(Box::new(e));
    let contact_re = keys.contact_regex().map_err(bad)?;
    let full_re = keys.full_regex().map_err(bad)?;
    let rows: Vec<(i64, bool, Value)> = sqlx::query_as(
        "SELECT id, entity_id = ANY($4), payload FROM audit_log
          WHERE tenant_id = $1
            AND (payload::text ~* $2 OR (entity_id = ANY($4) AND payload::text ~* $3))",
    )
    .bind(tenant)
    .bind(&contact)
    .bind(&full)
    .bind(&booking_ids)
    .fetch_all(&mut *tx)
    .await?;
    for (id, about_client, mut payload) in rows {
        let re = if about_client { &full_re } else { &contact_re };
        if scrub(&mut payload, re.as_ref()) {
            sqlx::query("UPDATE audit_log SET payload = $2 WHERE id = $1")
                .bind(id)
                .bind(&payload)
                .execute(&mut *tx)
                .await?;
            c.audit_rows_redacted += 1;
        }
    }
    for (select, update) in [
        (
            "SELECT id, payload FROM jobs WHERE tenant_id = $1 AND payload::text ~* $2",
            "UPDATE jobs SET payload = $2 WHERE id = $1",
        ),
        (
            "SELECT id, payload FROM outbox WHERE tenant_id = $1 AND payload::text ~* $2",
            "UPDATE outbox SET payload = $2 WHERE id = $1",
        ),
        (
            "SELECT id, payload FROM webhook_deliveries WHERE tenant_id = $1 AND payload::text ~* $2",
            "UPDATE webhook_deliveries SET payload = $2 WHERE id = $1",
        ),
    ] {
        let rows: Vec<(Uuid, Value)> = sqlx::query_as(select)
            .bind(tenant)
            .bind(&contact)
            .fetch_all(&mut *tx)
            .await?;
        for (id, mut payload) in rows {
            if scrub(&mut payload, contact_re.as_ref()) {
                sqlx::query(update)
                    .bind(id)
                    .bind(&payload)
                    .execute(&mut *tx)
                    .await?;
                c.other_rows_redacted += 1;
            }
        }
    }
    let mut payload = json!({"erased": c});
    merge(&mut payload, audit_extra);
    audit::record(
        &mut tx,
        AuditEntry {
            tenant_id: Some(tenant),
            event_type: "privacy.client_erased",
            entity_type: "client",
            entity_id: None,
            actor,
            payload,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_what_the_client_typed() {
        let keys = ClientKeys {
            emails: vec!["a.b+c@example.com".into()],
            phones: vec!["+15555550123".into()],
            names: vec!["O'Neil (Jr)".into()],
        };
        assert_eq!(
            keys.contact_pattern(),
            "a\\.b\\+c\\@example\\.com|\\+15555550123|\\m15555550123"
        );
        assert!(keys.full_pattern().ends_with("|\\mO\\'Neil \\(Jr\\)"));
        assert_eq!(ClientKeys::default().contact_pattern(), "[^\\s\\S]");
        let re = keys.full_regex().ok().flatten();
        let mut v = serde_json::json!({"a": ["call 15555550123 or A.B+C@example.com", 15555550123_u64],
            "b": "o'neil (jr) said so", "c": "bla.b+c@example.community"});
        assert!(scrub(&mut v, re.as_ref()));
        assert_eq!(v["a"][0], "call [ERASED] or [ERASED]");
        assert_eq!(v["a"][1], 15555550123_u64);
        assert_eq!(v["b"], "[ERASED] said so");
        assert!(ClientKeys::default().full_regex().ok().flatten().is_none());
    }
}
