//! The chat agent, used by every channel (WebSocket on Lambda, the standalone `/ws`, the
//! REST fallback; the voice channel reuses its NLU and tools).
//!
//! One turn: take the session's lease (Postgres), load its state, apply confirmations the
//! user gave to questions of earlier turns, answer with the LLM path (when
//! `OPENAI_API_KEY` is set and the crate is built with the `llm` feature) or the
//! deterministic engine, check the reply against what the tools really did, store the
//! messages and the state, release the lease.

pub mod engine;
pub mod llm;
pub mod protocol;
pub mod state;
pub mod tools;

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use crate::config::AgentConfig;
pub use crate::config::AgentLimits;
use crate::db::{audit, chat, tenants};
use crate::domain::nlu::{self, YesNo};
use crate::domain::{Locale, SessionId, TenantId, TimeZone};
pub use crate::ports::push::SendError;
use crate::services::booking::{BookingError, BookingService};
use crate::text;
pub use protocol::{ClientMessage, ServerMessage};
pub use state::SessionState;
pub use tools::{AgentEvent, ToolExecutor, TurnCtx};

/// A turn may hold its session this long at most (a crashed turn frees it after this).
const LEASE_SECONDS: i64 = 90;
/// Messages of history the model sees.
const HISTORY: i64 = 40;
/// Typed emails a session remembers (the latest ones).
const TYPED_EMAILS: usize = 5;

/// The reply when the language model failed, in English (what tests compare against).
pub const SYSTEM_ISSUE_REPLY: &str = text::en::TEXT.chat.system_issue;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    InvalidMessage(&'static str),
    #[error("tenant not found")]
    TenantNotFound,
    #[error("this conversation is still answering the previous message")]
    Busy,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("booking service error: {0}")]
    Booking(BookingError),
}

impl AgentError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidMessage(_) => "invalid_message",
            Self::TenantNotFound => "tenant_not_found",
            Self::Busy => "session_busy",
            Self::Database(_) | Self::Booking(_) => "internal_error",
        }
    }
}

/// Which brain answers.
#[derive(Clone)]
enum Brain {
    Rules,
    Llm(std::sync::Arc<llm::LlmEngine>),
}

#[derive(Clone)]
pub struct Agent {
    exec: ToolExecutor,
    brain: Brain,
    /// The zone the client's device reports (the widget sends the browser's): the session
    /// keeps it when it has none yet.
    client_zone: Option<TimeZone>,
    /// The language the client chose (the widget's language switch, the REST body): the
    /// chat speaks it from this turn on when the tenant offers it.
    locale: Option<Locale>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TurnResult {
    pub session_id: String,
    pub reply: String,
    pub events: Vec<AgentEvent>,
    /// `rules` | `llm`
    pub engine: &'static str,
    /// The language of the reply.
    pub locale: Locale,
}

impl Agent {
    /// The LLM path over `model` when there is one, else the deterministic engine.
    pub fn new(
        booking: BookingService,
        config: &AgentConfig,
        model: Option<std::sync::Arc<dyn crate::ports::ChatModel>>,
    ) -> Self {
        let exec = ToolExecutor::new(booking, config.limits.clone());
        match model {
            Some(m) => Self {
                exec,
                brain: Brain::Llm(std::sync::Arc::new(llm::LlmEngine::new(m))),
                client_zone: None,
                locale: None,
            },
            None => Self {
                exec,
                brain: Brain::Rules,
                client_zone: None,
                locale: None,
            },
        }
    }

    /// Always the deterministic engine.
    pub fn rules(booking: BookingService, limits: AgentLimits) -> Self {
        Self {
            exec: ToolExecutor::new(booking, limits),
            brain: Brain::Rules,
            client_zone: None,
            locale: None,
        }
    }

    /// The same agent over another booking service handle (e.g. one that publishes events
    /// after commit): the LLM client is shared, not rebuilt.
    pub fn with_booking(&self, booking: BookingService) -> Self {
        Self {
            exec: ToolExecutor::new(booking, self.exec.limits().clone()),
            brain: self.brain.clone(),
            client_zone: self.client_zone,
            locale: self.locale,
        }
    }

    /// The same agent for one client: the holds it places count against `budgets` for
    /// `client`, like holds through the REST routes.
    pub fn for_client(
        &self,
        budgets: &crate::services::budgets::Budgets,
        client: Option<std::net::IpAddr>,
    ) -> Self {
        Self {
            exec: self.exec.for_client(budgets, client),
            brain: self.brain.clone(),
            client_zone: self.client_zone,
            locale: self.locale,
        }
    }

    /// The same agent for a client whose device reports `zone` (the widget sends the
    /// browser's): a session that knows no zone of the client's takes it, and later replies
    /// and the booking's messages show the client's time beside the clinic's. A zone the
    /// client named in the chat stays.
    pub fn with_client_time_zone(&self, zone: Option<TimeZone>) -> Self {
        Self {
            exec: self.exec.clone(),
            brain: self.brain.clone(),
            client_zone: zone,
            locale: self.locale,
        }
    }

    /// The same agent for a client who chose `locale` (None: no choice made). A language
    /// the tenant does not offer is ignored.
    pub fn with_locale(&self, locale: Option<Locale>) -> Self {
        Self {
            exec: self.exec.clone(),
            brain: self.brain.clone(),
            client_zone: self.client_zone,
            locale,
        }
    }

    /// The languages `tenant` offers (its default first) and the one this chat speaks:
    /// the client's choice when offered, else the session's, else the default.
    pub async fn languages(
        &self,
        tenant: TenantId,
        session: &SessionId,
    ) -> Result<(Vec<Locale>, Locale), sqlx::Error> {
        let pool = self.exec.booking().pool();
        let offered = tenants::get_tenant(pool, tenant.0)
            .await?
            .map(|t| t.locales())
            .unwrap_or_else(|| vec![Locale::default()]);
        let stored = chat::session_state(pool, tenant.0, session.as_str())
            .await?
            .and_then(|v| serde_json::from_value::<SessionState>(v).ok())
            .and_then(|s| s.locale);
        let speaks = self
            .locale
            .or(stored)
            .filter(|l| offered.contains(l))
            .unwrap_or(offered[0]);
        Ok((offered, speaks))
    }

    pub fn engine_name(&self) -> &'static str {
        match self.brain {
            Brain::Rules => "rules",
            Brain::Llm(_) => "llm",
        }
    }

    pub fn booking(&self) -> &BookingService {
        self.exec.booking()
    }

    /// Handles one user message. `progress` receives `status` messages while tools run.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    pub async fn handle_turn(
        &self,
        tenant: TenantId,
        session: &SessionId,
        channel: &str,
        text: &str,
        progress: Option<&UnboundedSender<ServerMessage>>,
    ) -> Result<TurnResult, AgentError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(AgentError::InvalidMessage("the message is empty"));
        }
        if text.chars().count() > protocol::MAX_TEXT_CHARS {
            return Err(AgentError::InvalidMessage(
                "the message is longer than 2000 characters",
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(AgentError::InvalidMessage(
                "the message contains control characters",
            ));
        }
        let booking = self.exec.booking();
        let sched = match booking.schedule(tenant).await {
            Ok(s) => s,
            Err(BookingError::TenantNotFound) => return Err(AgentError::TenantNotFound),
            Err(e) => return Err(AgentError::Booking(e)),
        };
        let services: Vec<_> = tenants::list_services(booking.pool(), tenant.0)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .collect();
        let pool = booking.pool().clone();
        let raw_state = chat::begin_turn(&pool, tenant.0, session.as_str(), channel, LEASE_SECONDS)
            .await?
            .ok_or(AgentError::Busy)?;
        let state: SessionState = serde_json::from_value(raw_state).unwrap_or_default();
        let result = self
            .run_turn(tenant, session, text, sched, services, state, progress)
            .await;
        if result.is_err() {
            // Do not leave the session locked for the rest of the lease.
            if let Err(e) = chat::release_turn(&pool, tenant.0, session.as_str()).await {
                tracing::warn!(error = %e, "could not release the session lease");
            }
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_turn(
        &self,
        tenant: TenantId,
        session: &SessionId,
        text: &str,
        sched: crate::services::booking::TenantSchedule,
        services: Vec<crate::db::tenants::ServiceRow>,
        state: SessionState,
        progress: Option<&UnboundedSender<ServerMessage>>,
    ) -> Result<TurnResult, AgentError> {
        let booking = self.exec.booking();
        let pool = booking.pool().clone();
        let mut ctx = TurnCtx {
            tenant,
            session: session.clone(),
            now: booking.clock().now(),
            vague: nlu::is_vague_request(text)
                && nlu::parse_date(text, sched.local_date(booking.clock().now())).is_none(),
            sched,
            services,
            state,
            succeeded: Vec::new(),
            events: Vec::new(),
            locale: Locale::default(),
        };
        ctx.locale = chat_locale(self.locale, &mut ctx.state, &ctx.sched.tenant, text);
        if ctx.state.time_zone.is_none() {
            ctx.state.time_zone = self.client_zone.map(|z| z.name().to_string());
        }
        apply_confirmations(&mut ctx, text);

        let (reply, mut messages) = match &self.brain {
            Brain::Rules => {
                let reply = engine::Engine::new(&self.exec).turn(&mut ctx, text).await;
                (reply, vec![json!({"role": "user", "content": text})])
            }
            Brain::Llm(llm) => {
                let history =
                    chat::recent_messages(&pool, tenant.0, session.as_str(), HISTORY).await?;
                match llm.run(&self.exec, &mut ctx, history, text, progress).await {
                    Ok(out) => (out.reply, out.messages),
                    Err(e) => {
                        tracing::error!(error = %e, "the language model failed");
                        audit_event(
                            &pool,
                            &ctx,
                            "agent.llm_failed",
                            json!({"error": e.to_string()}),
                        )
                        .await;
                        ctx.events.push(AgentEvent::SystemIssue);
                        (
                            ctx.chat().system_issue.to_string(),
                            vec![json!({"role": "user", "content": text})],
                        )
                    }
                }
            }
        };

        // Our own canned replies are safe by construction; the model's text is checked.
        let checked = if reply == ctx.chat().system_issue {
            None
        } else {
            unsafe_reply(ctx.locale, &reply, &ctx.succeeded)
        };
        let reply = match checked {
            None => reply,
            Some((reason, safe)) => {
                audit_event(
                    &pool,
                    &ctx,
                    "agent.reply_overruled",
                    json!({"reason": reason, "original": reply, "succeeded": ctx.succeeded}),
                )
                .await;
                safe.to_string()
            }
        };
        messages.push(json!({"role": "assistant", "content": reply}));
        let state = serde_json::to_value(&ctx.state).unwrap_or_else(|_| json!({}));
        let mut tx = pool.begin().await?;
        chat::append_messages(&mut *tx, tenant.0, session.as_str(), &messages).await?;
        chat::end_turn(&mut *tx, tenant.0, session.as_str(), &state).await?;
        tx.commit().await?;
        Ok(TurnResult {
            session_id: session.as_str().to_string(),
            reply,
            events: ctx.events,
            engine: self.engine_name(),
            locale: ctx.locale,
        })
    }
}

/// Answers to questions of an earlier turn become facts the guards accept in this one.
fn apply_confirmations(ctx: &mut TurnCtx, text: &str) {
    let yes = nlu::yes_no(text) == Some(YesNo::Yes);
    if let Some(date) = ctx.state.pending_date_confirmation {
        if yes || nlu::parse_date(text, ctx.today()) == Some(date) {
            if !ctx.state.confirmed_dates.contains(&date) {
                ctx.state.confirmed_dates.push(date);
            }
            ctx.state.pending_date_confirmation = None;
        } else if nlu::yes_no(text) == Some(YesNo::No) {
            ctx.state.pending_date_confirmation = None;
        }
    }
    if ctx.state.followup_confirmation_pending {
        ctx.state.followup_confirmation_pending = false;
        ctx.state.followup_additional_confirmed = yes;
    }
    if let Some(tz) = nlu::extract_time_zone(text) {
        ctx.state.time_zone = Some(tz.name().to_string());
    }
    // What the client said in this message, for the guards of the tools that change or
    // show bookings.
    ctx.state.turn_yes = yes;
    // "I don't want to cancel" names a cancel too: a request counts only without a no.
    let denied = nlu::yes_no(text) == Some(YesNo::No);
    let intent = nlu::detect_intent(text);
    ctx.state.turn_asks_cancel = intent == Some(nlu::Intent::Cancel) && !denied;
    ctx.state.turn_asks_reschedule = intent == Some(nlu::Intent::Reschedule) && !denied;
    ctx.state.asked_cancel |= ctx.state.turn_asks_cancel;
    ctx.state.asked_reschedule |= ctx.state.turn_asks_reschedule;
    // The email typed now, and those typed while a change of booking waits for one.
    let typed = nlu::extract_email(text).map(|e| e.as_str().to_string());
    if let Some(e) = &typed {
        if !ctx.state.typed_emails.contains(e) {
            if ctx.state.typed_emails.len() >= TYPED_EMAILS {
                ctx.state.typed_emails.remove(0);
            }
            ctx.state.typed_emails.push(e.clone());
        }
    }
    ctx.state.turn_email = typed.clone();
    if ctx.state.change_email_turns > 0 {
        ctx.state.change_email_turns -= 1;
        match typed {
            Some(e) if !ctx.state.change_emails.contains(&e) => ctx.state.change_emails.push(e),
            _ => {}
        }
        if ctx.state.change_email_turns == 0 {
            ctx.state.change_emails.clear();
        }
    }
}

static CONFIRM_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(?:(?:is|are|been|was|now|successfully|have|has|i've|i have)\s+(?:been\s+)?(?:confirmed|booked)|you'?re (?:all )?set|all set|booking (?:is )?confirmed|appointment (?:is )?confirmed|reservation (?:is )?confirmed|(?:está|esta|quedó|quedo|queda|ha sido|fue)\s+(?:confirmad[ao]|reservad[ao]|agendad[ao])|(?:le|te|lo|la)\s+(?:reservé|agendé)|(?:he|hemos)\s+(?:reservado|confirmado|agendado))\b")
        .expect("literal regex")
});
static CANCEL_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(?:(?:is|are|been|was|now|successfully|have|has|i've|i have)\s+(?:been\s+)?cancell?ed|(?:fue|ha sido|quedó|quedo|queda)\s+cancelad[ao]|(?:fue|ha sido|quedó|quedo|queda)\s+anulad[ao]|(?:he|hemos)\s+(?:cancelado|anulado)|(?:la|lo|las|los)\s+cancelé|cancelé)\b")
        .expect("literal regex")
});
static RESCHEDULE_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(?:(?:is|are|been|was|now|successfully|have|has|i've|i have)\s+(?:been\s+)?(?:rescheduled|moved)|(?:fue|ha sido|quedó|quedo|queda)\s+(?:cambiad[ao]|movid[ao]|reprogramad[ao])|(?:he|hemos)\s+(?:cambiado|movido|reprogramado)|(?:la|lo)\s+(?:cambié|moví|reprogramé))\b")
        .expect("literal regex")
});
static HOLD_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(?:i'?m holding|i am holding|i'?ve held|i have held|(?:is|are) (?:now )?on hold|on hold for you|holding (?:it|that|this|the \w+)(?: time| slot)? for you|(?:i'?ve|i have) (?:put|placed) (?:a )?hold|le aparto|se (?:lo|la) aparto|le estoy apartando|(?:lo|la) tengo apartad[ao])\b")
        .expect("literal regex")
});
static CALL_PROMISE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(?:(?:i'll|i will|we'll|we will|someone will|somebody will|they'll|they will|i can|let me)\s+(?:have someone\s+)?(?:call|phone|ring)(?: you)?|(?:transfer|connect|put) you (?:to|through)|(?:transferring|connecting|putting) you (?:to|through|now)|give you a (?:call|ring)|call you back|(?:le|te|lo|la|los|las)\s+(?:llamaremos|llamaré|llamare|llamará|llamara|vamos a llamar|va a llamar|van a llamar)|(?:le|te)\s+devolvemos la llamada|(?:le|lo|la)\s+(?:transfiero|comunico|paso|conecto)\s+con|(?:comunicándole|transfiriéndole|pasándole) con|le devolver(?:é|emos|á|án) la llamada)\b")
        .expect("literal regex")
});

/// Spanish "se canceló" / "se ha cambiado": a claim unless a "no" comes right before ("no
/// se canceló nada"), which the pattern captures since the regex engine has no lookbehind.
static SE_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"(?i)\b(no\s+)?se\s+(?:ha\s+|han\s+)?(cancel(?:ó|o|ado)|anul(?:ó|ado)|cambi(?:ó|ado)|movi(?:ó|do)|reprogram(?:ó|ado))\b")
        .expect("literal regex")
});

/// The change a "se …" sentence claims, unless it is denied: "cancel" or "move".
fn se_claim(reply: &str) -> Option<&'static str> {
    SE_CLAIM
        .captures_iter(reply)
        .filter(|c| c.get(1).is_none())
        .find_map(|c| {
            let verb = c.get(2)?.as_str().to_lowercase();
            Some(if verb.starts_with("cancel") || verb.starts_with("anul") {
                "cancel"
            } else {
                "move"
            })
        })
}

/// The action of a turn that really transfers a call to a person (the phone's `<Dial>`,
/// returned in the same answer). No chat tool has this name.
pub const TRANSFER_ACTION: &str = "transfer_call";

/// The language of a chat turn: the language this message reads clearly as, when the tenant
/// offers it (a client is answered in the language they write); else the language the
/// client chose (the widget's switch); else the one the chat already speaks; else the
/// tenant's default. Kept in the session.
fn chat_locale(
    chosen: Option<Locale>,
    state: &mut SessionState,
    tenant: &crate::db::tenants::TenantRow,
    text: &str,
) -> Locale {
    let offered = tenant.locales();
    let read = nlu::detect_language(text).filter(|l| offered.contains(l));
    let locale = read
        .or(chosen.filter(|l| offered.contains(l)))
        .or(state.locale.filter(|l| offered.contains(l)))
        .unwrap_or(offered[0]);
    state.locale = Some(locale);
    locale
}

/// A reply the tools do not back up: a claimed confirmation, cancellation, reschedule or
/// hold without the matching successful tool call in this turn, or a promised phone call or
/// transfer. A transfer is allowed only in the turn that really transfers the call
/// ([`TRANSFER_ACTION`]); the chat has no such action, so there it is always refused.
/// Returns the reason and the safe reply that replaces it.
pub fn unsafe_reply(
    locale: Locale,
    reply: &str,
    succeeded: &[&str],
) -> Option<(&'static str, &'static str)> {
    let words = &locale.text().chat;
    let did = |t: &str| succeeded.contains(&t);
    if CALL_PROMISE.is_match(reply) && !did(TRANSFER_ACTION) {
        return Some(("promised_call", words.no_calls));
    }
    if CONFIRM_CLAIM.is_match(reply)
        && !(did("confirm_booking")
            || did("reschedule_booking")
            || did("cancel_booking")
            || did("lookup_booking"))
    {
        return Some(("unbacked_confirmation", words.unbacked_claim));
    }
    let se = se_claim(reply);
    if (CANCEL_CLAIM.is_match(reply) || se == Some("cancel")) && !did("cancel_booking") {
        return Some(("unbacked_cancellation", words.unbacked_claim));
    }
    if (RESCHEDULE_CLAIM.is_match(reply) || se == Some("move")) && !did("reschedule_booking") {
        return Some(("unbacked_reschedule", words.unbacked_claim));
    }
    if HOLD_CLAIM.is_match(reply) && !did("hold_slot") {
        return Some(("unbacked_hold", words.unbacked_claim));
    }
    None
}

async fn audit_event(pool: &sqlx::PgPool, ctx: &TurnCtx, event: &str, payload: Value) {
    let res = async {
        let mut conn = pool.acquire().await?;
        audit::record(
            &mut conn,
            audit::AuditEntry {
                tenant_id: Some(ctx.tenant.0),
                event_type: event,
                entity_type: "chat_session",
                entity_id: Some(ctx.session.audit_ref()),
                actor: "agent",
                payload,
            },
        )
        .await
    }
    .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, event, "could not write an audit entry");
    }
}

/// Delivers the session's undelivered pushes through `send`, newest per type only (older
/// ones of the same type are marked delivered as duplicates), oldest first on the wire.
/// A send failure leaves the remaining pushes pending for the next connection.
pub async fn deliver_pending_pushes<F, Fut>(
    pool: &sqlx::PgPool,
    tenant: TenantId,
    session: &SessionId,
    mut send: F,
) -> Result<usize, sqlx::Error>
where
    F: FnMut(ServerMessage) -> Fut,
    Fut: std::future::Future<Output = Result<(), SendError>>,
{
    let mut tx = pool.begin().await?;
    let rows = chat::lock_pending_pushes(&mut tx, tenant.0, session.as_str()).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut seen = std::collections::HashSet::new();
    let mut keep = Vec::new();
    let mut duplicates = Vec::new();
    for r in rows {
        if seen.insert(r.push_type.clone()) {
            keep.push(r);
        } else {
            duplicates.push(r.id);
        }
    }
    keep.reverse();
    let mut delivered = duplicates;
    let mut sent = 0;
    for r in keep {
        let msg = ServerMessage::Push {
            session_id: r.session_id.clone(),
            id: r.id,
            push_type: r.push_type.clone(),
            payload: r.payload.clone(),
        };
        match send(msg).await {
            Ok(()) => {
                delivered.push(r.id);
                sent += 1;
            }
            Err(e) => {
                tracing::info!(error = %e, "push delivery stopped; the rest stay pending");
                break;
            }
        }
    }
    chat::mark_pushes_delivered(&mut tx, &delivered).await?;
    tx.commit().await?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_claims_are_checked_against_the_tools() {
        let none: &[&str] = &[];
        let es = Locale::Es;
        for claim in [
            "Listo, su cita está confirmada para el martes.",
            "Ya he reservado su cita.",
            "Su cita quedó cancelada.",
            "La cita fue reprogramada para el jueves.",
            "Le llamaremos mañana para confirmar.",
            "Alguien le va a llamar hoy.",
            "Le comunico con la recepción.",
            "Su cita queda cancelada.",
            "Listo, se canceló su cita.",
            "Ya la cambié al jueves.",
            "Su cita se movió al viernes.",
            "Se ha reprogramado su cita.",
        ] {
            assert!(unsafe_reply(es, claim, none).is_some(), "{claim}");
        }
        assert!(
            unsafe_reply(es, "Listo, su cita está confirmada.", &["confirm_booking"]).is_none()
        );
        assert!(unsafe_reply(es, "Su cita quedó cancelada.", &["cancel_booking"]).is_none());
        for fine in [
            "¿Desea que confirme la reserva?",
            "Esa reserva ya está cancelada.",
            "¿Quiere que la cancele?",
            "Estos son los horarios disponibles el martes.",
            Locale::Es.text().chat.unbacked_claim,
            Locale::Es.text().chat.no_calls,
            Locale::Es.text().chat.tool_system_error,
            "Su reserva no se canceló: falta poco para la cita.",
        ] {
            assert!(unsafe_reply(es, fine, none).is_none(), "{fine}");
        }
        assert_eq!(
            unsafe_reply(es, "Le llamaremos pronto.", none).map(|r| r.1),
            Some(Locale::Es.text().chat.no_calls)
        );
    }

    #[test]
    fn replies_are_checked_against_the_tools() {
        let none: &[&str] = &[];
        assert!(unsafe_reply(Locale::En, "Your appointment is confirmed!", none).is_some());
        assert!(unsafe_reply(Locale::En, "You're all set for Tuesday.", none).is_some());
        assert!(unsafe_reply(
            Locale::En,
            "Your appointment is confirmed!",
            &["confirm_booking"]
        )
        .is_none());
        assert!(unsafe_reply(Locale::En, "It has been cancelled.", &["confirm_booking"]).is_some());
        assert!(unsafe_reply(Locale::En, "It has been cancelled.", &["cancel_booking"]).is_none());
        assert!(unsafe_reply(Locale::En, "Your booking was rescheduled.", none).is_some());
        assert!(unsafe_reply(Locale::En, "I'm holding 10:00 AM tomorrow for you.", none).is_some());
        assert!(unsafe_reply(Locale::En, "That time is now on hold for you.", none).is_some());
        assert!(
            unsafe_reply(Locale::En, "I'm holding 10:00 AM for you.", &["hold_slot"]).is_none()
        );
        // the same claims in Spanish
        assert!(unsafe_reply(Locale::Es, "Listo, su cita está confirmada.", none).is_some());
        assert!(
            unsafe_reply(Locale::Es, "Su cita quedó reservada para el martes.", none).is_some()
        );
        assert!(unsafe_reply(Locale::Es, "Su cita fue cancelada.", none).is_some());
        assert!(unsafe_reply(Locale::Es, "Su cita fue cambiada al viernes.", none).is_some());
        assert!(unsafe_reply(Locale::Es, "Le aparto las 10:00 de mañana.", none).is_some());
        assert!(unsafe_reply(Locale::Es, "Claro, le llamaremos esta tarde.", none).is_some());
        assert!(
            unsafe_reply(Locale::Es, "Su cita quedó cancelada.", &["cancel_booking"]).is_none()
        );
        assert!(unsafe_reply(
            Locale::Es,
            "Listo, su cita está confirmada.",
            &["confirm_booking"]
        )
        .is_none());
        assert!(unsafe_reply(
            Locale::Es,
            "Le aparto el martes a las 10:00.",
            &["hold_slot"]
        )
        .is_none());
        // questions, refusals and states are not claims
        assert!(unsafe_reply(
            Locale::Es,
            "Ese horario ya no está apartado. ¿Qué otro día?",
            none
        )
        .is_none());
        assert!(unsafe_reply(Locale::Es, "¿Quiere que la cancele? (sí/no)", none).is_none());
        assert!(unsafe_reply(
            Locale::Es,
            "No puedo hacer, recibir ni transferir llamadas.",
            none
        )
        .is_none());
        assert!(unsafe_reply(
            Locale::En,
            "I'll have someone call you tomorrow.",
            &["confirm_booking"]
        )
        .is_some());
        assert!(unsafe_reply(Locale::En, "Let me transfer you to the front desk.", none).is_some());
        // questions and offers are fine
        assert!(unsafe_reply(Locale::En, "Shall I confirm the booking?", none).is_none());
        assert!(unsafe_reply(Locale::En, "Would you like me to cancel it?", none).is_none());
        assert!(unsafe_reply(Locale::En, "It is not confirmed yet.", none).is_none());
        assert!(unsafe_reply(Locale::En, SYSTEM_ISSUE_REPLY, none).is_none());
        assert!(unsafe_reply(Locale::En, text::current().chat.unbacked_claim, none).is_none());
        assert!(unsafe_reply(Locale::En, text::current().chat.no_calls, none).is_none());
        assert!(unsafe_reply(
            Locale::En,
            "Here are open times on Tuesday: 9:00 AM, 9:30 AM.",
            none
        )
        .is_none());
    }
}

#[cfg(test)]
mod transfer_guard_tests {
    use super::*;
    use crate::services::agent::tools::TOOL_NAMES;

    #[test]
    fn a_transfer_is_said_only_where_one_happens() {
        let connecting = text::current().voice.connecting;
        // No chat tool is the transfer: whatever succeeded in a chat turn, the words of a
        // transfer (and any other promised call) are refused there.
        assert!(!TOOL_NAMES.contains(&TRANSFER_ACTION));
        for reply in [
            connecting,
            "Connecting you to a person now.",
            "I'm transferring you to the front desk.",
            "Someone will call you back today.",
        ] {
            assert_eq!(
                unsafe_reply(Locale::En, reply, &TOOL_NAMES).map(|r| r.0),
                Some("promised_call"),
                "{reply}"
            );
        }
        // The phone turn that returns the <Dial> may say it.
        assert!(unsafe_reply(Locale::En, connecting, &[TRANSFER_ACTION]).is_none());
        // An unbacked booking claim stays refused even in that turn.
        assert!(unsafe_reply(
            Locale::En,
            "Your appointment is confirmed!",
            &[TRANSFER_ACTION]
        )
        .is_some());
    }
}
