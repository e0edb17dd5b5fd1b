//! The phone conversation engine: a finite state machine of 18 states over the shared
//! rule-based NLU ([`crate::domain::nlu`]) and the booking service (no booking logic here).
//!
//! ```text
//! greeting → intent → service → date → slots → name → email → confirm → completed
//!              │                  ▲       │                               ▲
//!              ├→ reference → verify_email ┬→ booking_found ──────────────┤
//!              │                           ├→ cancel_confirm ─────────────┤
//!              │                           └→ date → slots → reschedule_confirm
//!              ├→ (name, email or reference) 9 → verify_code → confirm | choose_booking
//!              └→ (any state) "text me a link" / 3 misunderstandings / limits → handoff_offer → ended
//! ```
//!
//! A caller who asks for a person, or a call at its limits, is handed over instead when the
//! tenant has a transfer number ([`transfer`]: `<Dial>`, then voicemail if nobody answers).
//!
//! - [`flow`]: the state machine: one caller turn, the state it moves to, what it does;
//! - [`speech`]: what is said: prompts built from the call's values, times, dates and codes
//!   read out for speech;
//! - [`twiml`]: the TwiML documents the webhooks answer with;
//! - [`transfer`]: the transfer to a person and voicemail.
//! - [`keypad`]: answers by key in every state, the language offer, and the keypad-only
//!   caller's identity (a one-time code texted to the caller ID).
//!
//! Durability: the state and what the call gathered live in `voice_calls` (per CallSid).
//! A turn locks the call's row, runs, and writes back with `WHERE version = $seen`, together
//! with the transcript lines, in one transaction; a retried webhook (same Twilio idempotency
//! token) gets the stored TwiML again instead of acting twice.
//!
//! Default limits ([`VoiceLimits`], each set by configuration): 5 live calls per tenant,
//! 20 caller turns, 10 minutes, 3 misunderstandings in a row → offer an SMS link to finish
//! in the web chat.

pub mod flow;
pub mod keypad;
pub mod speech;
pub mod transfer;
pub mod twiml;

use chrono::Duration;

pub use self::flow::{CallContext, CallState, Flow, Reply};
pub use self::speech::{speak_day_time, speak_email, speak_time, spell};
use self::twiml::Response;
use crate::db::calls::{self, NewCall, StartOutcome};
use crate::domain::PhoneE164;
use crate::services::booking::{BookingError, BookingService};
use crate::services::handoff::HandoffService;
use crate::text;

#[derive(Debug, Clone, Copy)]
pub struct VoiceLimits {
    pub max_concurrent_calls: u32,
    pub max_turns: u32,
    pub max_duration: Duration,
    pub max_retries: u32,
}

impl VoiceLimits {
    pub fn from_config(cfg: &crate::config::TelephonyConfig) -> Self {
        Self {
            max_concurrent_calls: cfg.voice_max_concurrent_calls,
            max_turns: cfg.voice_max_turns,
            max_duration: Duration::from_std(cfg.voice_max_call_duration)
                .unwrap_or(Duration::minutes(10)),
            max_retries: cfg.voice_max_retries,
        }
    }
}

impl Default for VoiceLimits {
    fn default() -> Self {
        Self {
            max_concurrent_calls: 5,
            max_turns: 20,
            max_duration: Duration::minutes(10),
            max_retries: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Booking(BookingError),
}

#[derive(Clone)]
pub struct VoiceService {
    booking: BookingService,
    handoff: HandoffService,
    limits: VoiceLimits,
    /// Absolute URL of the gather webhook (`PUBLIC_BASE_URL` + `/twilio/voice/gather`).
    gather_url: String,
}

fn say_end(text: &str) -> String {
    Response::new()
        .verb(twiml::say(text))
        .verb(twiml::hangup())
        .to_xml()
}

impl VoiceService {
    pub fn new(
        booking: BookingService,
        handoff: HandoffService,
        limits: VoiceLimits,
        public_base_url: &str,
    ) -> Self {
        Self {
            booking,
            handoff,
            limits,
            gather_url: gather_url(public_base_url),
        }
    }

    pub fn booking(&self) -> &BookingService {
        &self.booking
    }

    pub fn handoff(&self) -> &HandoffService {
        &self.handoff
    }

    /// The language a tenant's calls start in.
    async fn default_locale(
        &self,
        tenant: uuid::Uuid,
    ) -> Result<crate::domain::Locale, VoiceError> {
        Ok(crate::db::tenants::languages(self.booking.pool(), tenant)
            .await?
            .first()
            .copied()
            .unwrap_or_default())
    }

    /// A reply outside a loaded call's turn (its row busy or changed under it), in `locale`.
    fn render(&self, locale: crate::domain::Locale, reply: &Reply) -> String {
        match reply {
            Reply::Ask(prompt) => Response::new()
                .verb(twiml::gather(
                    &self.gather_url,
                    locale,
                    twiml::Listen::default(),
                    prompt.as_str(),
                ))
                // Reached only if Twilio could not post the result: ask again.
                .verb(twiml::redirect(&self.gather_url))
                .to_xml(),
            Reply::End(text) => Response::new()
                .verb(twiml::say_in(locale, text.as_str()))
                .verb(twiml::hangup())
                .to_xml(),
            Reply::Handover(h) => h.to_xml(),
        }
    }

    /// `POST /twilio/voice`: a call starts. Unknown numbers and busy tenants get a spoken
    /// answer and a hang-up, never an error page.
    #[tracing::instrument(skip_all, fields(call_sid = %call_sid))]
    pub async fn start_call(
        &self,
        call_sid: &str,
        from: &str,
        to: &str,
        request_key: Option<&str>,
    ) -> Result<String, VoiceError> {
        let pool = self.booking.pool();
        let number = match PhoneE164::parse(to) {
            Ok(n) => calls::number(pool, n.as_str()).await?,
            Err(_) => None,
        };
        let Some(number) = number.filter(|n| n.voice_enabled) else {
            tracing::info!("call to a number no tenant answers");
            return Ok(say_end(text::current().voice.not_set_up));
        };
        let now = self.booking.clock().now();
        let outcome = calls::start_call(
            pool,
            &NewCall {
                call_sid,
                tenant_id: number.tenant_id,
                from_number: from,
                to_number: &number.phone_number,
                state: CallState::Greeting.as_str(),
                now,
            },
            i64::from(self.limits.max_concurrent_calls),
            now - self.limits.max_duration - Duration::minutes(1),
        )
        .await?;
        // A call the flow does not take (no room, or past its greeting with no answer kept)
        // is answered here, in the tenant's default language.
        match outcome {
            StartOutcome::Busy => {
                let locale = self.default_locale(number.tenant_id).await?;
                Ok(Response::new()
                    .verb(twiml::say_in(locale, locale.text().voice.lines_busy))
                    .verb(twiml::hangup())
                    .to_xml())
            }
            StartOutcome::Existing(row) if row.state != CallState::Greeting.as_str() => {
                match row.last_response {
                    Some(answer) => Ok(answer),
                    None => {
                        let locale = self.default_locale(number.tenant_id).await?;
                        let ask = Reply::Ask(locale.text().voice.how_can_i_help.into());
                        Ok(self.render(locale, &ask))
                    }
                }
            }
            StartOutcome::Existing(_) | StartOutcome::Started(_) => {
                self.turn(call_sid, None, None, None, request_key).await
            }
        }
    }

    /// `POST /twilio/voice/gather`: one caller answer, spoken or keyed (empty = silence).
    pub async fn gather(
        &self,
        call_sid: &str,
        speech: &str,
        digits: Option<&str>,
        confidence: Option<f32>,
        request_key: Option<&str>,
    ) -> Result<String, VoiceError> {
        self.turn(call_sid, Some(speech), digits, confidence, request_key)
            .await
    }

    /// `POST /twilio/voice/status`: the call ended (frees its concurrent-call place).
    pub async fn status(&self, call_sid: &str, call_status: &str) -> Result<(), VoiceError> {
        if matches!(
            call_status,
            "completed" | "busy" | "failed" | "no-answer" | "canceled"
        ) {
            let now = self.booking.clock().now();
            calls::end_call(self.booking.pool(), call_sid, call_status, now).await?;
        }
        Ok(())
    }
}

/// The gather URL for a public base URL (what `<Gather action=…>` posts to).
pub fn gather_url(public_base_url: &str) -> String {
    format!(
        "{}/twilio/voice/gather",
        public_base_url.trim_end_matches('/')
    )
}

/// A CallSid is `CA` + 32 hex digits; anything reasonable is accepted, garbage is not.
pub fn valid_call_sid(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_sids() {
        assert!(valid_call_sid("CA0123456789abcdef0123456789abcdef"));
        assert!(!valid_call_sid("CA 1"));
    }
}
