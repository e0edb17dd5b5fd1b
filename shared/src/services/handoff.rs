//! Handoff links: "text me a link" during a call (or R in reply to a reminder) mints a
//! one-time token, stores what the conversation gathered with it in Postgres, and sends the
//! link by SMS through the [`SmsGate`]. Opening the link only looks at the token
//! ([`HandoffService::inspect`]: a link preview or a scanner spends nothing); the person's
//! explicit "continue" spends it ([`HandoffService::redeem`]) and gives the web chat a
//! session seeded with that context.
//!
//! The token in the URL is `<id>.<mac>`: `id` is 16 random bytes, `mac` is
//! HMAC-SHA256(`HANDOFF_SECRET`, "gomomo-handoff:v1:" + id), both base64url. Nothing
//! personal is in the URL. A token whose MAC does not verify is *tampered* (403); a genuine
//! one that was used or is past its lifetime (`HANDOFF_TTL_MINUTES`) is *gone* (410:
//! [`HandoffError::Used`], [`HandoffError::Expired`]).

use std::sync::Arc;
use std::time::Duration as StdDuration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Duration, NaiveDate};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::{audit, handoff as q};
use crate::domain::crypto::random_token;
use crate::domain::{PhoneE164, TenantId};
use crate::ports::clock::Clock;
use crate::services::sms::{SmsError, SmsGate};

type HmacSha256 = Hmac<Sha256>;
/// How the note that carries a handoff's context into the chat history begins: the model
/// reads it, the person never typed it (the chat's history frame leaves it out).
pub const CONTEXT_NOTE_PREFIX: &str =
    "[Context carried over from the phone call; not typed by the client]";
const MAC_DOMAIN: &[u8] = b"gomomo-handoff:v1:";

/// What the conversation had gathered when it was handed off; the chat agent sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HandoffContext {
    /// "voice" or "sms".
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The call's transcript, in order.
    #[serde(default)]
    pub transcript: Vec<TranscriptLine>,
    /// The language the client spoke (the chat continues in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<crate::domain::Locale>,
    /// A time the call holds for the client: the chat takes the hold over while it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_id: Option<Uuid>,
}

/// What the client was doing when the conversation moved to the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Errand {
    Book,
    Reschedule,
    Cancel,
    Lookup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLine {
    /// "caller" or "agent".
    pub speaker: String,
    pub text: String,
}

impl HandoffContext {
    /// The errand `intent` names, in any language's words for it ("reschedule an
    /// appointment", "cambiar una cita"); a service alone means booking.
    pub fn errand(&self) -> Option<Errand> {
        let intent = self.intent.as_deref().unwrap_or_default().trim();
        if !intent.is_empty() {
            for l in crate::domain::Locale::ALL {
                let (v, sms) = (&l.text().voice, &l.text().sms);
                if intent == v.intent_reschedule || intent == sms.intent_reschedule {
                    return Some(Errand::Reschedule);
                }
                if intent == v.intent_cancel {
                    return Some(Errand::Cancel);
                }
                if intent == v.intent_lookup {
                    return Some(Errand::Lookup);
                }
                if intent == v.intent_book {
                    return Some(Errand::Book);
                }
            }
            // Links minted before the words moved to the tables.
            for (prefix, e) in [
                ("reschedule", Errand::Reschedule),
                ("cancel", Errand::Cancel),
                ("look", Errand::Lookup),
                ("book", Errand::Book),
            ] {
                if intent.starts_with(prefix) {
                    return Some(e);
                }
            }
        }
        self.service_name.as_ref().map(|_| Errand::Book)
    }

    /// The context as one plain-text note an agent (LLM or deterministic) can read first.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "This conversation continues a {} conversation with the client.",
            if self.channel.is_empty() {
                "phone"
            } else {
                &self.channel
            }
        );
        let mut facts = Vec::new();
        if let Some(i) = &self.intent {
            facts.push(format!("wants to {i}"));
        }
        if let Some(x) = &self.service_name {
            facts.push(format!("service: {x}"));
        }
        if let Some(d) = self.date {
            facts.push(format!("date: {d}"));
        }
        if let Some(x) = &self.client_name {
            facts.push(format!("name: {x}"));
        }
        if let Some(x) = &self.client_email {
            facts.push(format!("email: {x}"));
        }
        if let Some(x) = &self.reference {
            facts.push(format!("booking reference: {x}"));
        }
        if !facts.is_empty() {
            s.push_str(" Gathered so far — ");
            s.push_str(&facts.join("; "));
            s.push('.');
        }
        if !self.transcript.is_empty() {
            s.push_str("\nTranscript:");
            for l in &self.transcript {
                s.push_str(&format!("\n{}: {}", l.speaker, l.text));
            }
        }
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("the link is not valid")]
    Tampered,
    #[error("the link was already used")]
    Used,
    #[error("the link has expired")]
    Expired,
    #[error(transparent)]
    Sms(#[from] SmsError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// A redeemed link: the chat session it opens and what it carries.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub tenant_id: Uuid,
    pub session_id: String,
    pub context: HandoffContext,
}

#[derive(Clone)]
pub struct HandoffService {
    pool: PgPool,
    clock: Clock,
    secret: Arc<[u8]>,
    ttl: Duration,
    public_base_url: Arc<str>,
    sms: SmsGate,
    /// How long a call's hold lasts from the moment its chat link is opened.
    hold_ttl: Duration,
}

impl HandoffService {
    pub fn new(
        pool: PgPool,
        clock: Clock,
        secret: &str,
        ttl: StdDuration,
        public_base_url: &str,
        sms: SmsGate,
    ) -> Self {
        Self {
            pool,
            clock,
            secret: Arc::from(secret.as_bytes()),
            ttl: Duration::from_std(ttl).unwrap_or(Duration::minutes(15)),
            public_base_url: Arc::from(public_base_url.trim_end_matches('/')),
            sms,
            hold_ttl: Duration::minutes(5),
        }
    }

    /// The same service giving a call's hold, when its link is opened, `ttl` from then
    /// (`HOLD_TTL_SECONDS`, the hold time of every hold).
    pub fn with_hold_ttl(mut self, ttl: StdDuration) -> Self {
        self.hold_ttl = Duration::from_std(ttl).unwrap_or(self.hold_ttl);
        self
    }

    /// How long a link works after it was minted, in whole minutes (`HANDOFF_TTL_MINUTES`).
    pub fn ttl_minutes(&self) -> i64 {
        self.ttl.num_minutes()
    }

    pub fn sms(&self) -> &SmsGate {
        &self.sms
    }

    fn mac(&self, id: &str) -> HmacSha256 {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(MAC_DOMAIN);
        m.update(id.as_bytes());
        m
    }

    /// The MAC a one-time phone code is stored as: HMAC-SHA256 under the handoff secret over
    /// a domain, the call and the code (the code alone is too short to hash in the clear).
    pub fn phone_code_mac(&self, call_sid: &str, code: &str) -> Vec<u8> {
        self.phone_code_hmac(call_sid, code)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Whether `code` is the one a stored MAC was made from (constant-time).
    pub fn phone_code_matches(&self, call_sid: &str, code: &str, mac: &[u8]) -> bool {
        self.phone_code_hmac(call_sid, code)
            .verify_slice(mac)
            .is_ok()
    }

    fn phone_code_hmac(&self, call_sid: &str, code: &str) -> HmacSha256 {
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(b"gomomo-phone-code:v1:");
        m.update(call_sid.as_bytes());
        m.update(b":");
        m.update(code.as_bytes());
        m
    }

    /// Where the deployment's own pages are (`PUBLIC_BASE_URL`, no trailing slash).
    pub fn public_base_url(&self) -> &str {
        &self.public_base_url
    }

    /// The link a person opens for a token.
    pub fn link(&self, token: &str) -> String {
        format!("{}/handoff/resume?token={token}", self.public_base_url)
    }

    /// Mints and stores a token; returns the token string for the URL.
    pub async fn create(
        &self,
        tenant: TenantId,
        purpose: &str,
        call_sid: Option<&str>,
        phone: Option<&PhoneE164>,
        context: &HandoffContext,
    ) -> Result<String, HandoffError> {
        let id = random_token::<16>();
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&id).finalize().into_bytes());
        let now = self.clock.now();
        let ctx = serde_json::to_value(context).unwrap_or_default();
        q::insert(
            &self.pool,
            &q::NewToken {
                id: &id,
                tenant_id: tenant.0,
                purpose,
                call_sid,
                phone: phone.map(PhoneE164::as_str),
                context: &ctx,
                created_at: now,
                expires_at: now + self.ttl,
            },
        )
        .await?;
        let mut conn = self.pool.acquire().await?;
        audit::record(
            &mut conn,
            audit::AuditEntry {
                tenant_id: Some(tenant.0),
                event_type: "handoff.token_created",
                entity_type: "handoff_token",
                entity_id: Some(id.clone()),
                actor: "system",
                payload: json!({ "purpose": purpose, "call_sid": call_sid, "phone": phone, "expires_at": now + self.ttl }),
            },
        )
        .await?;
        Ok(format!("{id}.{mac}"))
    }

    /// "Text me a link" from a call: a token with the call's context, sent by SMS from the
    /// tenant's number. Returns the link.
    pub async fn send_link(
        &self,
        tenant: TenantId,
        from_number: &str,
        to: &PhoneE164,
        call_sid: Option<&str>,
        context: &HandoffContext,
        message: &str,
    ) -> Result<String, HandoffError> {
        // Ledger first: no token for a number we may not text.
        if !self.sms.may_message(tenant, to).await? {
            return Err(HandoffError::Sms(SmsError::OptedOut));
        }
        let token = self
            .create(tenant, "voice_handoff", call_sid, Some(to), context)
            .await?;
        let link = self.link(&token);
        self.sms
            .send(tenant, Some(from_number), to, &format!("{message} {link}"))
            .await?;
        Ok(link)
    }

    /// Checks the MAC and returns the token id; `Tampered` for anything else.
    pub fn verify(&self, token: &str) -> Result<String, HandoffError> {
        let (id, mac) = token.trim().split_once('.').ok_or(HandoffError::Tampered)?;
        if id.is_empty() || id.len() > 64 {
            return Err(HandoffError::Tampered);
        }
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| HandoffError::Tampered)?;
        self.mac(id)
            .verify_slice(&mac)
            .map_err(|_| HandoffError::Tampered)?;
        Ok(id.to_string())
    }

    /// Checks a token without spending it: the MAC, then the stored row (a read only).
    /// Returns what the link continues; `Used` or `Expired` for a genuine token that can no
    /// longer be spent.
    pub async fn inspect(&self, token: &str) -> Result<HandoffContext, HandoffError> {
        let id = self.verify(token)?;
        let row = q::get(&self.pool, &id)
            .await?
            .ok_or(HandoffError::Expired)?;
        if row.consumed_at.is_some() {
            return Err(HandoffError::Used);
        }
        if row.expires_at <= self.clock.now() {
            return Err(HandoffError::Expired);
        }
        Ok(serde_json::from_value(row.context.0).unwrap_or_default())
    }

    /// Consumes a token (once) and returns the chat session it opens.
    pub async fn redeem(&self, token: &str) -> Result<Redeemed, HandoffError> {
        let id = self.verify(token)?;
        // A session issued like any other, so the page's chat may name it.
        let session_id = crate::services::sessions::new_token();
        let now = self.clock.now();
        // One transaction: the token is spent only together with the session it opens, the
        // session's seed and the audit row; if any of them fails the link still works.
        let mut tx = self.pool.begin().await?;
        let Some(row) = q::consume(&mut *tx, &id, &session_id, now).await? else {
            drop(tx);
            // Not spent now: say why (a row consumed since, or one past its time).
            return Err(match q::get(&self.pool, &id).await? {
                Some(r) if r.consumed_at.is_some() => HandoffError::Used,
                _ => HandoffError::Expired,
            });
        };
        let context: HandoffContext =
            serde_json::from_value(row.context.0.clone()).unwrap_or_default();
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(row.tenant_id),
                event_type: "handoff.token_consumed",
                entity_type: "handoff_token",
                entity_id: Some(id),
                actor: "client",
                // The session id is a bearer secret: it is kept in the token's row only.
                payload: json!({ "purpose": row.purpose }),
            },
        )
        .await?;
        crate::db::sessions::insert(&mut *tx, row.tenant_id, &session_id).await?;
        let held = match context.hold_id {
            Some(hold) => {
                crate::db::bookings::give_call_hold(
                    &mut tx,
                    row.tenant_id,
                    hold,
                    &session_id,
                    now,
                    now + self.hold_ttl,
                )
                .await?
            }
            None => None,
        };
        seed_chat_session_in(
            &mut tx,
            row.tenant_id,
            &session_id,
            row.phone.as_deref(),
            &context,
            held.as_ref(),
        )
        .await?;
        tx.commit().await?;
        Ok(Redeemed {
            tenant_id: row.tenant_id,
            session_id,
            context,
        })
    }
}

/// The handoff context of a chat session opened from a link, for the chat side to show the
/// agent (None for sessions that did not start from a handoff).
pub async fn context_for_session(
    pool: &PgPool,
    session_id: &str,
) -> Result<Option<(Uuid, HandoffContext)>, sqlx::Error> {
    let row = crate::db::handoff::context_of_chat_session(pool, session_id).await?;
    Ok(row.map(|(t, c)| (t, serde_json::from_value(c).unwrap_or_default())))
}

/// Opens the chat session a handoff link leads to: the client's details and the dialogue
/// position in the session state (what the deterministic engine reads), and the call's
/// transcript as conversation history (what the language model reads), closed by a welcome
/// that says what was carried over.
pub async fn seed_chat_session(
    pool: &PgPool,
    tenant_id: Uuid,
    session_id: &str,
    phone: Option<&str>,
    context: &HandoffContext,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    seed_chat_session_in(&mut tx, tenant_id, session_id, phone, context, None).await?;
    tx.commit().await
}

/// [`seed_chat_session`] inside the caller's transaction; `held`: the call's hold, now this
/// session's, which the chat goes on to book (asking the name and email it lacks).
pub async fn seed_chat_session_in(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    session_id: &str,
    phone: Option<&str>,
    context: &HandoffContext,
    held: Option<&crate::db::bookings::HoldRow>,
) -> Result<(), sqlx::Error> {
    use crate::db::chat;
    use crate::services::agent::state::{Flow, SessionState, Step};

    let mut state = SessionState {
        client_name: context.client_name.clone(),
        client_email: context.client_email.clone(),
        client_phone: phone.map(str::to_string),
        ..SessionState::default()
    };
    let d = &mut state.dialog;
    d.service_id = context.service_id;
    d.date = context.date;
    d.reference = context.reference.clone();
    let by_reference = if d.reference.is_some() {
        Step::LookupEmail
    } else {
        Step::Reference
    };
    (d.flow, d.step) = match context.errand() {
        Some(Errand::Reschedule) => (Flow::Reschedule, by_reference),
        Some(Errand::Cancel) => (Flow::Cancel, by_reference),
        Some(Errand::Lookup) => (Flow::Lookup, by_reference),
        _ if d.service_id.is_some() => (Flow::Book, Step::Date),
        Some(Errand::Book) => (Flow::Book, Step::Service),
        None => (Flow::None, Step::Start),
    };
    if let Some(h) = held {
        use crate::services::agent::state::ActiveHold;
        state.active_hold = Some(ActiveHold {
            hold_id: h.id,
            service_id: h.service_id,
            start: h.start_at,
            end: h.end_at,
            expires_at: h.expires_at,
        });
        let d = &mut state.dialog;
        d.flow = Flow::Book;
        d.service_id = Some(h.service_id);
        d.step = if state.client_name.is_none() {
            Step::Name
        } else if state.client_email.is_none() {
            Step::Email
        } else {
            Step::ConfirmBooking
        };
    }
    state.locale = context.locale;
    let words = &context.locale.unwrap_or_default().text().chat;
    let state = serde_json::to_value(&state).unwrap_or_default();

    let mut messages = vec![json!({
        "role": "user",
        "content": format!("{CONTEXT_NOTE_PREFIX}\n{}", context.summary()),
    })];
    for line in &context.transcript {
        let role = if line.speaker == "caller" {
            "user"
        } else {
            "assistant"
        };
        messages.push(json!({"role": role, "content": line.text}));
    }
    let mut welcome = String::from(words.handoff_welcome);
    let mut bits = Vec::new();
    if let Some(x) = &context.service_name {
        bits.push(x.clone());
    }
    if let Some(x) = context.date {
        bits.push(
            context
                .locale
                .unwrap_or_default()
                .date(x, words.handoff_day_format),
        );
    }
    if let Some(x) = &context.client_name {
        bits.push(x.clone());
    }
    if !bits.is_empty() {
        welcome.push_str(&format!(" ({})", bits.join(", ")));
    }
    welcome.push_str(words.handoff_welcome_end);
    messages.push(json!({"role": "assistant", "content": welcome}));

    if chat::begin_turn(&mut *conn, tenant_id, session_id, "voice", 30)
        .await?
        .is_none()
    {
        // A fresh random session id cannot be busy; if it somehow is, nothing is written.
        return Ok(());
    }
    chat::append_messages(&mut *conn, tenant_id, session_id, &messages).await?;
    chat::end_turn(&mut *conn, tenant_id, session_id, &state).await
}
