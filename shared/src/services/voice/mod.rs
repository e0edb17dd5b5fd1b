//! The phone conversation engine: a finite state machine of 16 states over the shared
//! rule-based NLU ([`crate::domain::nlu`]) and the booking service (no booking logic here).
//!
//! ```text
//! greeting → intent → service → date → slots → name → email → confirm → completed
//!              │                  ▲       │                               ▲
//!              ├→ reference → verify_email ┬→ booking_found ──────────────┤
//!              │                           ├→ cancel_confirm ─────────────┤
//!              │                           └→ date → slots → reschedule_confirm
//!              └→ (any state) "text me a link" / 3 misunderstandings / limits → handoff_offer → ended
//! ```
//!
//! Durability: the state and what the call gathered live in `voice_calls` (per CallSid).
//! A turn locks the call's row, runs, and writes back with `WHERE version = $seen`, together
//! with the transcript lines, in one transaction; a retried webhook (same Twilio idempotency
//! token) gets the stored TwiML again instead of acting twice.
//!
//! Limits (seed §4): 5 live calls per tenant, 20 caller turns, 10 minutes, 3
//! misunderstandings in a row → offer an SMS link to finish in the web chat.

pub mod twiml;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use self::twiml::Response;
use crate::db::calls::{self, CallRow, CallUpdate, NewCall, NewTurn, StartOutcome};
use crate::db::tenants::{self, ServiceRow};
use crate::domain::nlu::{self, Intent, TimeSpec, YesNo};
use crate::domain::{ClientName, Email, PhoneE164, ReferenceCode, SessionId, TenantId};
use crate::services::booking::{BookingError, BookingService, ClientDetails, TenantSchedule};
use crate::services::handoff::{HandoffContext, HandoffError, HandoffService, TranscriptLine};
use crate::services::sms::SmsError;

/// The 16 states of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Greeting,
    Intent,
    Service,
    Date,
    Slots,
    Name,
    Email,
    Confirm,
    Completed,
    Reference,
    VerifyEmail,
    BookingFound,
    CancelConfirm,
    RescheduleConfirm,
    HandoffOffer,
    Ended,
}

impl CallState {
    pub const ALL: [CallState; 16] = [
        CallState::Greeting,
        CallState::Intent,
        CallState::Service,
        CallState::Date,
        CallState::Slots,
        CallState::Name,
        CallState::Email,
        CallState::Confirm,
        CallState::Completed,
        CallState::Reference,
        CallState::VerifyEmail,
        CallState::BookingFound,
        CallState::CancelConfirm,
        CallState::RescheduleConfirm,
        CallState::HandoffOffer,
        CallState::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Greeting => "greeting",
            CallState::Intent => "intent",
            CallState::Service => "service",
            CallState::Date => "date",
            CallState::Slots => "slots",
            CallState::Name => "name",
            CallState::Email => "email",
            CallState::Confirm => "confirm",
            CallState::Completed => "completed",
            CallState::Reference => "reference",
            CallState::VerifyEmail => "verify_email",
            CallState::BookingFound => "booking_found",
            CallState::CancelConfirm => "cancel_confirm",
            CallState::RescheduleConfirm => "reschedule_confirm",
            CallState::HandoffOffer => "handoff_offer",
            CallState::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Which path the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    Book,
    Reschedule,
    Cancel,
    Lookup,
}

/// What the call has gathered (persisted as JSON in `voice_calls.context`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallContext {
    #[serde(default)]
    pub flow: Option<Flow>,
    #[serde(default)]
    pub service_id: Option<Uuid>,
    #[serde(default)]
    pub service_name: Option<String>,
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub time_pref: Option<TimeSpec>,
    /// Slot starts read out to the caller, in order.
    #[serde(default)]
    pub offered: Vec<DateTime<Utc>>,
    #[serde(default)]
    pub hold_id: Option<Uuid>,
    #[serde(default)]
    pub hold_start: Option<DateTime<Utc>>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub booking_start: Option<DateTime<Utc>>,
    /// Where a declined handoff offer returns to.
    #[serde(default)]
    pub return_to: Option<CallState>,
    /// The offer was made because a limit was reached: the call ends after the answer.
    #[serde(default)]
    pub final_offer: bool,
    #[serde(default)]
    pub handoff_sent: bool,
    /// The question last asked (asked again after a misunderstanding).
    #[serde(default)]
    pub prompt: String,
}

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

/// What to say next: ask and listen, or say and hang up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ask(String),
    End(String),
}

/// A call in memory for one turn.
struct Session {
    tenant: TenantId,
    sched: TenantSchedule,
    services: Vec<ServiceRow>,
    call_sid: String,
    caller: Option<PhoneE164>,
    our_number: String,
    state: CallState,
    ctx: CallContext,
    misunderstandings: u32,
    turn_count: u32,
    started_at: DateTime<Utc>,
}

impl Session {
    fn tz(&self) -> Tz {
        self.sched.tz
    }

    fn session_id(&self) -> Option<SessionId> {
        SessionId::parse(&format!("call:{}", self.call_sid)).ok()
    }
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

    fn render(&self, reply: &Reply) -> String {
        match reply {
            Reply::Ask(prompt) => Response::new()
                .verb(twiml::gather_speech(&self.gather_url, prompt.as_str()))
                // Reached only if Twilio could not post the result: ask again.
                .verb(twiml::redirect(&self.gather_url))
                .to_xml(),
            Reply::End(text) => say_end(text),
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
            return Ok(say_end(
                "Sorry, this number is not set up to take calls yet. Please try again later. Goodbye.",
            ));
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
        match outcome {
            StartOutcome::Busy => Ok(say_end(
                "Sorry, all of our lines are busy right now. Please call back in a few minutes, or visit our website to book online. Goodbye.",
            )),
            StartOutcome::Existing(row) if row.state != CallState::Greeting.as_str() => {
                Ok(row.last_response.unwrap_or_else(|| {
                    self.render(&Reply::Ask("How can I help you today?".into()))
                }))
            }
            StartOutcome::Existing(_) | StartOutcome::Started(_) => {
                self.turn(call_sid, None, None, request_key).await
            }
        }
    }

    /// `POST /twilio/voice/gather`: one caller utterance (empty = silence).
    pub async fn gather(
        &self,
        call_sid: &str,
        speech: &str,
        confidence: Option<f32>,
        request_key: Option<&str>,
    ) -> Result<String, VoiceError> {
        self.turn(call_sid, Some(speech), confidence, request_key)
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

    #[tracing::instrument(skip_all, fields(call_sid = %call_sid))]
    async fn turn(
        &self,
        call_sid: &str,
        speech: Option<&str>,
        confidence: Option<f32>,
        request_key: Option<&str>,
    ) -> Result<String, VoiceError> {
        let pool = self.booking.pool();
        // Twilio gives a webhook 15 s; a turn waits at most ~5 s for the one before it.
        let mut attempt = 0u32;
        let (mut tx, row) = loop {
            let mut tx = pool.begin().await?;
            match calls::try_lock_call(&mut tx, call_sid).await? {
                Ok(Some(row)) => break (tx, row),
                Ok(None) => {
                    return Ok(say_end(
                        "Sorry, I lost track of this call. Please call again. Goodbye.",
                    ))
                }
                Err(calls::Busy) if attempt < 200 => {
                    drop(tx);
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                Err(calls::Busy) => {
                    return Ok(self.render(&Reply::Ask(
                        "Sorry, one moment please. Could you say that again?".into(),
                    )));
                }
            }
        };
        if let (Some(k), Some(seen), Some(resp)) =
            (request_key, &row.last_request_key, &row.last_response)
        {
            if k == seen {
                // A retried webhook: the same answer, no second action.
                return Ok(resp.clone());
            }
        }
        if row.status != "active" {
            return Ok(say_end(
                "This call has ended. Thank you for calling. Goodbye.",
            ));
        }
        let mut s = self.session(&row).await?;
        let reply = match speech {
            None => self.greet(&mut s),
            Some(text) => {
                s.turn_count += 1;
                self.step(&mut s, text).await?
            }
        };
        let xml = self.render(&reply);
        let (status, end_reason) = match (&reply, s.state) {
            (Reply::End(_), _) | (_, CallState::Ended) => ("ended", Some("completed_by_agent")),
            _ => ("active", None),
        };
        if status == "ended" {
            s.state = CallState::Ended;
        }
        let ctx = serde_json::to_value(&s.ctx).unwrap_or(Value::Null);
        let now = self.booking.clock().now();
        let saved = calls::save_call(
            &mut tx,
            &CallUpdate {
                call_sid,
                expected_version: row.version,
                status,
                state: s.state.as_str(),
                context: &ctx,
                turn_count: s.turn_count as i32,
                misunderstandings: s.misunderstandings as i32,
                request_key,
                response: &xml,
                now,
                end_reason,
            },
        )
        .await?;
        if saved.is_none() {
            // Someone else wrote this call since we read it: keep their state, repeat their answer.
            drop(tx);
            let mut conn = pool.acquire().await?;
            let latest = calls::load_call(&mut conn, call_sid).await?;
            tracing::warn!("call state changed under this turn; not overwriting it");
            return Ok(latest.and_then(|r| r.last_response).unwrap_or_else(|| {
                self.render(&Reply::Ask("Sorry, could you say that again?".into()))
            }));
        }
        let said = match &reply {
            Reply::Ask(t) | Reply::End(t) => t.as_str(),
        };
        let mut turns = Vec::with_capacity(2);
        if let Some(text) = speech {
            turns.push(NewTurn {
                speaker: "caller",
                text,
                state: row.state.as_str(),
                confidence,
            });
        }
        turns.push(NewTurn {
            speaker: "agent",
            text: said,
            state: s.state.as_str(),
            confidence: None,
        });
        calls::append_turns(&mut tx, call_sid, &turns, now).await?;
        tx.commit().await?;
        Ok(xml)
    }

    async fn session(&self, row: &CallRow) -> Result<Session, VoiceError> {
        let tenant = TenantId(row.tenant_id);
        let sched = self
            .booking
            .schedule(tenant)
            .await
            .map_err(VoiceError::Booking)?;
        let services = tenants::list_services(self.booking.pool(), row.tenant_id)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .collect();
        Ok(Session {
            tenant,
            sched,
            services,
            call_sid: row.call_sid.clone(),
            caller: PhoneE164::parse(&row.from_number).ok(),
            our_number: row.to_number.clone(),
            state: CallState::parse(&row.state).unwrap_or(CallState::Intent),
            ctx: serde_json::from_value(row.context.0.clone()).unwrap_or_default(),
            misunderstandings: row.misunderstandings.max(0) as u32,
            turn_count: row.turn_count.max(0) as u32,
            started_at: row.started_at,
        })
    }

    fn greet(&self, s: &mut Session) -> Reply {
        let text = format!(
            "Thank you for calling {}. I can book, reschedule or cancel an appointment, or look one up. How can I help you today?",
            s.sched.tenant.name
        );
        self.ask(s, CallState::Intent, text)
    }

    fn ask(&self, s: &mut Session, next: CallState, text: impl Into<String>) -> Reply {
        let text = text.into();
        s.state = next;
        s.ctx.prompt = text.clone();
        Reply::Ask(text)
    }

    fn end(&self, s: &mut Session, text: impl Into<String>) -> Reply {
        s.state = CallState::Ended;
        Reply::End(text.into())
    }

    /// One caller utterance in the current state.
    async fn step(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        let text = text.trim();
        let now = self.booking.clock().now();

        // An answer to the handoff offer is handled before anything else.
        if s.state == CallState::HandoffOffer {
            return self.handoff_answer(s, text).await;
        }
        // Limits: past them, offer the link once and end after the answer.
        if s.turn_count > self.limits.max_turns || now - s.started_at >= self.limits.max_duration {
            s.ctx.final_offer = true;
            s.ctx.return_to = None;
            let prompt = "We've reached the time limit for a phone booking. Would you like me to text you a link so you can finish in our online chat?";
            return Ok(self.ask(s, CallState::HandoffOffer, prompt));
        }
        if !text.is_empty() && nlu::is_handoff_request(text) {
            return self.send_handoff(s).await;
        }
        let reply = if text.is_empty() {
            None
        } else {
            match s.state {
                CallState::Greeting | CallState::Intent => self.on_intent(s, text).await?,
                CallState::Service => self.on_service(s, text).await?,
                CallState::Date => self.on_date(s, text).await?,
                CallState::Slots => self.on_slots(s, text).await?,
                CallState::Name => self.on_name(s, text),
                CallState::Email => self.on_email(s, text),
                CallState::Confirm => self.on_confirm(s, text).await?,
                CallState::Completed => self.on_completed(s, text).await?,
                CallState::Reference => self.on_reference(s, text),
                CallState::VerifyEmail => self.on_verify_email(s, text).await?,
                CallState::BookingFound => self.on_booking_found(s, text).await?,
                CallState::CancelConfirm => self.on_cancel_confirm(s, text).await?,
                CallState::RescheduleConfirm => self.on_reschedule_confirm(s, text).await?,
                CallState::HandoffOffer => unreachable!("handled above"),
                CallState::Ended => Some(self.end(s, "Goodbye.")),
            }
        };
        match reply {
            Some(r) => {
                s.misunderstandings = 0;
                Ok(r)
            }
            None => Ok(self.misunderstood(s, text.is_empty())),
        }
    }

    fn misunderstood(&self, s: &mut Session, silence: bool) -> Reply {
        s.misunderstandings += 1;
        if s.misunderstandings >= self.limits.max_retries {
            s.ctx.return_to = Some(s.state);
            s.ctx.final_offer = false;
            s.misunderstandings = 0;
            let prompt = "I'm sorry, I'm having trouble understanding. Would you like me to text you a link so you can continue in our online chat?";
            s.state = CallState::HandoffOffer;
            return Reply::Ask(prompt.into());
        }
        let lead = if silence {
            "Sorry, I didn't hear anything."
        } else {
            "Sorry, I didn't catch that."
        };
        let again = if s.ctx.prompt.is_empty() {
            "How can I help you today?".to_string()
        } else {
            s.ctx.prompt.clone()
        };
        Reply::Ask(format!("{lead} {again}"))
    }

    async fn handoff_answer(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        let yes = nlu::is_handoff_request(text) || nlu::yes_no(text) == Some(YesNo::Yes);
        let no = nlu::yes_no(text) == Some(YesNo::No);
        if yes {
            return self.send_handoff(s).await;
        }
        if no || s.ctx.final_offer {
            if s.ctx.final_offer {
                return Ok(self.end(
                    s,
                    "No problem. Thank you for calling, and have a great day. Goodbye.",
                ));
            }
            let back = s.ctx.return_to.take().unwrap_or(CallState::Intent);
            s.state = back;
            let again = if s.ctx.prompt.is_empty() {
                "How can I help you today?".to_string()
            } else {
                s.ctx.prompt.clone()
            };
            return Ok(Reply::Ask(format!("Okay, let's keep going. {again}")));
        }
        // Neither yes nor no: one more plain question, then the offer stands.
        s.misunderstandings += 1;
        if s.misunderstandings >= self.limits.max_retries {
            return Ok(self.end(s, "I'm sorry I couldn't help over the phone. Please visit our website to book online. Goodbye."));
        }
        Ok(Reply::Ask(
            "Please say yes if you'd like the text message, or no to continue on the phone.".into(),
        ))
    }

    fn handoff_context(&self, s: &Session) -> HandoffContext {
        HandoffContext {
            channel: "voice".into(),
            intent: s.ctx.flow.map(|f| {
                match f {
                    Flow::Book => "book an appointment",
                    Flow::Reschedule => "reschedule an appointment",
                    Flow::Cancel => "cancel an appointment",
                    Flow::Lookup => "look up an appointment",
                }
                .to_string()
            }),
            service_id: s.ctx.service_id,
            service_name: s.ctx.service_name.clone(),
            date: s.ctx.date,
            client_name: s.ctx.name.clone(),
            client_email: s.ctx.email.clone(),
            reference: s.ctx.reference.clone(),
            transcript: Vec::new(),
        }
    }

    /// Texts the caller a one-time link to the web chat with what the call gathered, then ends.
    async fn send_handoff(&self, s: &mut Session) -> Result<Reply, VoiceError> {
        let Some(caller) = s.caller.clone() else {
            return Ok(self.end(s, "I'm sorry, I can't send a text message to this number. Please visit our website to continue online. Goodbye."));
        };
        let mut context = self.handoff_context(s);
        let lines = calls::transcript(self.booking.pool(), &s.call_sid).await?;
        context.transcript = lines
            .into_iter()
            .map(|t| TranscriptLine {
                speaker: t.speaker,
                text: t.text,
            })
            .collect();
        let message = format!(
            "{}: continue your booking in our chat (link valid 15 minutes, one use):",
            s.sched.tenant.name
        );
        match self
            .handoff
            .send_link(
                s.tenant,
                &s.our_number,
                &caller,
                Some(&s.call_sid),
                &context,
                &message,
            )
            .await
        {
            Ok(_) => {
                s.ctx.handoff_sent = true;
                Ok(self.end(s, "I've sent you a text message with a link. It opens our online chat right where we left off, and works once within the next 15 minutes. Thank you for calling. Goodbye."))
            }
            Err(HandoffError::Sms(SmsError::OptedOut)) => Ok(self.end(s, "This number has opted out of our text messages, so I can't send a link. Reply START to our number to opt back in, or visit our website. Goodbye.")),
            Err(HandoffError::Sms(SmsError::RateLimited)) => Ok(self.end(s, "I've already sent several text messages to this number, so I can't send another right now. Please check your recent messages, or visit our website. Goodbye.")),
            Err(HandoffError::Database(e)) | Err(HandoffError::Sms(SmsError::Database(e))) => Err(VoiceError::Database(e)),
            Err(e) => {
                tracing::warn!(error = %e, "handoff sms failed");
                Ok(self.end(s, "I'm sorry, I couldn't send the text message. Please visit our website to continue online. Goodbye."))
            }
        }
    }

    // ---- booking path ---------------------------------------------------------------

    async fn on_intent(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let intent = nlu::detect_intent(text).or_else(|| {
            // "a consultation on Tuesday" names what to book without saying "book".
            nlu::match_service(text, &self.service_names(s)).map(|_| Intent::Book)
        });
        Ok(match intent {
            Some(Intent::Book) => {
                s.ctx = CallContext {
                    flow: Some(Flow::Book),
                    name: s.ctx.name.take(),
                    email: s.ctx.email.take(),
                    ..CallContext::default()
                };
                Some(self.book_from(s, text).await?)
            }
            Some(i @ (Intent::Reschedule | Intent::Cancel | Intent::Lookup)) => {
                let flow = match i {
                    Intent::Reschedule => Flow::Reschedule,
                    Intent::Cancel => Flow::Cancel,
                    _ => Flow::Lookup,
                };
                s.ctx = CallContext {
                    flow: Some(flow),
                    ..CallContext::default()
                };
                if let Some(r) = nlu::extract_reference(text) {
                    s.ctx.reference = Some(r.as_str().to_string());
                    return Ok(Some(self.ask(s, CallState::VerifyEmail, "Thanks. And what is the email address on the booking?")));
                }
                Some(self.ask(s, CallState::Reference, "Sure. What is your booking reference code? You can spell it out, letter by letter."))
            }
            Some(Intent::HandoffToText) | Some(Intent::Waitlist) => Some(self.send_handoff(s).await?),
            Some(Intent::Help) => Some(self.ask(s, CallState::Intent, "I can book a new appointment, reschedule or cancel one, or look up an existing booking. I can also text you a link to our online chat. What would you like to do?")),
            Some(Intent::Goodbye) => Some(self.end(s, "Thank you for calling. Goodbye.")),
            None => None,
        })
    }

    fn service_names(&self, s: &Session) -> Vec<String> {
        s.services.iter().map(|x| x.name.clone()).collect()
    }

    fn services_sentence(&self, s: &Session) -> String {
        let names = self.service_names(s);
        match names.len() {
            0 => String::new(),
            1 => names[0].clone(),
            n => format!("{}, or {}", names[..n - 1].join(", "), names[n - 1]),
        }
    }

    /// Takes whatever the utterance already says (service, date, time) and asks for the rest.
    async fn book_from(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        if s.services.len() == 1 {
            s.ctx.service_id = Some(s.services[0].id);
            s.ctx.service_name = Some(s.services[0].name.clone());
        } else if let Some(i) = nlu::match_service(text, &self.service_names(s)) {
            s.ctx.service_id = Some(s.services[i].id);
            s.ctx.service_name = Some(s.services[i].name.clone());
        }
        if s.ctx.service_id.is_none() {
            let q = format!(
                "Which service would you like: {}?",
                self.services_sentence(s)
            );
            return Ok(self.ask(s, CallState::Service, q));
        }
        if let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), s.tz()) {
            s.ctx.time_pref = nlu::parse_time(text);
            return self.search(s, date).await;
        }
        let q = format!(
            "Great, a {}. What day would you like to come in?",
            s.ctx.service_name.clone().unwrap_or_default()
        );
        Ok(self.ask(s, CallState::Date, q))
    }

    async fn on_service(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        match nlu::match_service(text, &self.service_names(s)) {
            Some(_) => Ok(Some(self.book_from(s, text).await?)),
            None => Ok(None),
        }
    }

    async fn on_date(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), s.tz()) else {
            return Ok(None);
        };
        s.ctx.time_pref = nlu::parse_time(text);
        Ok(Some(self.search(s, date).await?))
    }

    /// Reads out up to three open times on `date`, nearest the caller's preference first.
    async fn search(&self, s: &mut Session, date: NaiveDate) -> Result<Reply, VoiceError> {
        let Some(service) = s.ctx.service_id else {
            let q = format!(
                "Which service would you like: {}?",
                self.services_sentence(s)
            );
            return Ok(self.ask(s, CallState::Service, q));
        };
        s.ctx.date = Some(date);
        let tz = s.tz();
        let today = self.booking.clock().now().with_timezone(&tz).date_naive();
        if date < today {
            return Ok(self.ask(
                s,
                CallState::Date,
                "That day has already passed. What other day would suit you?",
            ));
        }
        let slots = match self
            .booking
            .availability(s.tenant, service, date, date)
            .await
        {
            Ok(a) => a.slots,
            Err(BookingError::RangeBeyondLookahead { max_days_ahead }) => {
                let q = format!("I can only book up to {max_days_ahead} days ahead. What earlier day would work?");
                return Ok(self.ask(s, CallState::Date, q));
            }
            Err(e) => return Err(VoiceError::Booking(e)),
        };
        let mut starts: Vec<DateTime<Utc>> = slots
            .iter()
            .filter(|x| x.first_free().is_some())
            .map(|x| x.start)
            .collect();
        match s.ctx.time_pref {
            Some(TimeSpec::At(t)) => {
                starts.sort_by_key(|st| {
                    let local = st.with_timezone(&tz).time();
                    (local - t).num_minutes().abs()
                });
            }
            Some(TimeSpec::Period(p)) => {
                let in_period: Vec<_> = starts
                    .iter()
                    .copied()
                    .filter(|st| p.contains(st.with_timezone(&tz).time()))
                    .collect();
                if !in_period.is_empty() {
                    starts = in_period;
                }
            }
            None => {}
        }
        starts.truncate(3);
        let day = date.format("%A, %B %-d").to_string();
        if starts.is_empty() {
            s.ctx.offered.clear();
            let q = format!(
                "I'm sorry, there are no openings on {day}. What other day would work for you?"
            );
            return Ok(self.ask(s, CallState::Date, q));
        }
        starts.sort();
        s.ctx.offered = starts.clone();
        let times: Vec<String> = starts.iter().map(|t| speak_time(tz, *t)).collect();
        let list = match times.len() {
            1 => times[0].clone(),
            2 => format!("{} or {}", times[0], times[1]),
            _ => format!("{}, {}, or {}", times[0], times[1], times[2]),
        };
        let q = format!("On {day} I have {list}. Which time would you like?");
        Ok(self.ask(s, CallState::Slots, q))
    }

    async fn on_slots(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let tz = s.tz();
        let n = s.ctx.offered.len();
        let mut pick = nlu::parse_choice(text, n);
        if pick.is_none() {
            if let Some(TimeSpec::At(t)) = nlu::parse_time(text) {
                pick = s
                    .ctx
                    .offered
                    .iter()
                    .position(|st| st.with_timezone(&tz).time() == t);
            }
        }
        let Some(i) = pick.filter(|i| *i < n) else {
            // Another day (or time) instead: search again.
            if let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), tz) {
                s.ctx.time_pref = nlu::parse_time(text);
                return Ok(Some(self.search(s, date).await?));
            }
            if let (Some(spec @ TimeSpec::At(_)), Some(date)) = (nlu::parse_time(text), s.ctx.date)
            {
                s.ctx.time_pref = Some(spec);
                let r = self.search(s, date).await?;
                return Ok(Some(match r {
                    Reply::Ask(q) => Reply::Ask(format!("That exact time isn't open. {q}")),
                    other => other,
                }));
            }
            return Ok(None);
        };
        let start = s.ctx.offered[i];
        let (Some(service), Some(session)) = (s.ctx.service_id, s.session_id()) else {
            return Ok(None);
        };
        match self
            .booking
            .create_hold(s.tenant, service, start, &session)
            .await
        {
            Ok(hold) => {
                s.ctx.hold_id = Some(hold.id);
                s.ctx.hold_start = Some(hold.start_at);
                if s.ctx.flow == Some(Flow::Reschedule) {
                    let q = format!(
                        "I'm holding {}. Shall I move your appointment to that time?",
                        speak_day_time(tz, hold.start_at)
                    );
                    return Ok(Some(self.ask(s, CallState::RescheduleConfirm, q)));
                }
                if s.ctx.name.is_some() && s.ctx.email.is_some() {
                    return Ok(Some(self.confirm_prompt(s)));
                }
                let q = format!(
                    "I'm holding {} for you. May I have your first and last name?",
                    speak_day_time(tz, hold.start_at)
                );
                Ok(Some(self.ask(s, CallState::Name, q)))
            }
            Err(BookingError::SlotUnavailable | BookingError::SlotTaken) => {
                let date = s
                    .ctx
                    .date
                    .unwrap_or_else(|| start.with_timezone(&tz).date_naive());
                let r = self.search(s, date).await?;
                Ok(Some(match r {
                    Reply::Ask(q) => Reply::Ask(format!("Sorry, that time was just taken. {q}")),
                    other => other,
                }))
            }
            Err(e) => Err(VoiceError::Booking(e)),
        }
    }

    fn on_name(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let name = nlu::parse_name_reply(text)?;
        s.ctx.name = Some(name.as_str().to_string());
        if s.ctx.email.is_some() {
            return Some(self.confirm_prompt(s));
        }
        let q = format!(
            "Thank you, {}. What email address should we send the confirmation to? For example, jane dot doe at gmail dot com.",
            name.as_str()
        );
        Some(self.ask(s, CallState::Email, q))
    }

    fn on_email(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let email = nlu::extract_email(text)?;
        s.ctx.email = Some(email.as_str().to_string());
        Some(self.confirm_prompt(s))
    }

    fn confirm_prompt(&self, s: &mut Session) -> Reply {
        let tz = s.tz();
        let when = s
            .ctx
            .hold_start
            .map(|t| speak_day_time(tz, t))
            .unwrap_or_default();
        let q = format!(
            "Let me confirm: a {} on {}, for {}, with confirmation sent to {}. Shall I book it?",
            s.ctx.service_name.clone().unwrap_or_default(),
            when,
            s.ctx.name.clone().unwrap_or_default(),
            speak_email(s.ctx.email.as_deref().unwrap_or_default()),
        );
        self.ask(s, CallState::Confirm, q)
    }

    async fn on_confirm(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        match nlu::yes_no(text) {
            Some(YesNo::Yes) => {}
            Some(YesNo::No) => {
                s.ctx.offered.clear();
                return Ok(Some(self.ask(
                    s,
                    CallState::Date,
                    "No problem, nothing is booked. What day would you like instead?",
                )));
            }
            None => return Ok(None),
        }
        let (Some(hold), Some(session)) = (s.ctx.hold_id, s.session_id()) else {
            return Ok(Some(self.ask(
                s,
                CallState::Date,
                "Let's pick a time again. What day would you like?",
            )));
        };
        let (Ok(name), Ok(email)) = (
            ClientName::parse(s.ctx.name.as_deref().unwrap_or_default()),
            Email::parse(s.ctx.email.as_deref().unwrap_or_default()),
        ) else {
            return Ok(Some(self.ask(
                s,
                CallState::Name,
                "May I have your first and last name again?",
            )));
        };
        let details = ClientDetails {
            name,
            email,
            phone: s.caller.clone(),
            notes: crate::domain::Notes::from_free_text("booked by phone"),
        };
        match self
            .booking
            .confirm(s.tenant, hold, &session, &details)
            .await
        {
            Ok((appt, _)) => {
                s.ctx.reference = Some(appt.reference.clone());
                s.ctx.hold_id = None;
                let q = format!(
                    "You're all set. Your {} is booked for {}. Your reference code is {}. A confirmation will be sent to your email. Is there anything else I can help you with?",
                    s.ctx.service_name.clone().unwrap_or_default(),
                    speak_day_time(s.tz(), appt.start_at),
                    spell(&appt.reference),
                );
                Ok(Some(self.ask(s, CallState::Completed, q)))
            }
            Err(
                BookingError::HoldExpired | BookingError::HoldNotFound | BookingError::SlotTaken,
            ) => {
                let date = s
                    .ctx
                    .date
                    .unwrap_or_else(|| self.booking.clock().now().date_naive());
                s.ctx.hold_id = None;
                let r = self.search(s, date).await?;
                Ok(Some(match r {
                    Reply::Ask(q) => {
                        Reply::Ask(format!("I'm sorry, that time is no longer available. {q}"))
                    }
                    other => other,
                }))
            }
            Err(e) => Err(VoiceError::Booking(e)),
        }
    }

    async fn on_completed(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        if let Some(i) =
            nlu::detect_intent(text).filter(|i| *i != Intent::Goodbye && *i != Intent::Help)
        {
            let _ = i;
            return self.on_intent(s, text).await;
        }
        Ok(match nlu::yes_no(text) {
            Some(YesNo::Yes) => {
                Some(self.ask(s, CallState::Intent, "Sure. What else can I do for you?"))
            }
            Some(YesNo::No) => {
                Some(self.end(s, "Thank you for calling. Have a great day. Goodbye."))
            }
            None if nlu::detect_intent(text) == Some(Intent::Goodbye) => {
                Some(self.end(s, "Thank you for calling. Have a great day. Goodbye."))
            }
            None => None,
        })
    }

    // ---- existing bookings ----------------------------------------------------------

    fn on_reference(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let r = nlu::extract_reference(text)?;
        s.ctx.reference = Some(r.as_str().to_string());
        Some(self.ask(
            s,
            CallState::VerifyEmail,
            format!(
                "Thanks, {}. And what is the email address on the booking?",
                spell(r.as_str())
            ),
        ))
    }

    async fn on_verify_email(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let Some(email) = nlu::extract_email(text) else {
            return Ok(None);
        };
        let Some(reference) = s
            .ctx
            .reference
            .as_deref()
            .and_then(|r| ReferenceCode::parse(r).ok())
        else {
            return Ok(Some(self.ask(
                s,
                CallState::Reference,
                "What is your booking reference code?",
            )));
        };
        let appt = match self.booking.lookup(s.tenant, &reference, &email).await {
            Ok(a) => a,
            Err(BookingError::BookingNotFound) => {
                s.misunderstandings += 1;
                return Ok(Some(self.ask(s, CallState::Reference, "I couldn't find a booking with that reference code and email. Could you tell me the reference code again?")));
            }
            Err(e) => return Err(VoiceError::Booking(e)),
        };
        s.ctx.email = Some(email.as_str().to_string());
        s.ctx.service_id = Some(appt.service_id);
        s.ctx.service_name = s
            .services
            .iter()
            .find(|x| x.id == appt.service_id)
            .map(|x| x.name.clone());
        s.ctx.booking_start = Some(appt.start_at);
        let tz = s.tz();
        let what = format!(
            "your {} on {}",
            s.ctx
                .service_name
                .clone()
                .unwrap_or_else(|| "appointment".into()),
            speak_day_time(tz, appt.start_at)
        );
        if appt.status == "cancelled" {
            return Ok(Some(self.ask(s, CallState::Completed, format!("I found {what}, but it has been cancelled. Is there anything else I can help with?"))));
        }
        Ok(Some(match s.ctx.flow {
            Some(Flow::Cancel) => self.ask(
                s,
                CallState::CancelConfirm,
                format!("I found {what}. Are you sure you want to cancel it?"),
            ),
            Some(Flow::Reschedule) => self.ask(
                s,
                CallState::Date,
                format!("I found {what}. What day would you like to move it to?"),
            ),
            _ => self.ask(
                s,
                CallState::BookingFound,
                format!(
                    "I found {what}. Would you like to reschedule or cancel it, or is that all?"
                ),
            ),
        }))
    }

    async fn on_booking_found(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let tz = s.tz();
        Ok(match nlu::detect_intent(text) {
            Some(Intent::Reschedule) => {
                s.ctx.flow = Some(Flow::Reschedule);
                if let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), tz) {
                    s.ctx.time_pref = nlu::parse_time(text);
                    return Ok(Some(self.search(s, date).await?));
                }
                Some(self.ask(s, CallState::Date, "What day would you like to move it to?"))
            }
            Some(Intent::Cancel) => {
                s.ctx.flow = Some(Flow::Cancel);
                Some(self.ask(
                    s,
                    CallState::CancelConfirm,
                    "Are you sure you want to cancel it?",
                ))
            }
            Some(Intent::Goodbye) => Some(self.end(s, "Thank you for calling. Goodbye.")),
            _ => match nlu::yes_no(text) {
                Some(YesNo::No) => Some(self.end(s, "Thank you for calling. Goodbye.")),
                _ => None,
            },
        })
    }

    fn booking_keys(&self, s: &Session) -> Option<(ReferenceCode, Email)> {
        Some((
            ReferenceCode::parse(s.ctx.reference.as_deref()?).ok()?,
            Email::parse(s.ctx.email.as_deref()?).ok()?,
        ))
    }

    async fn on_cancel_confirm(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        match nlu::yes_no(text) {
            Some(YesNo::Yes) => {
                let Some((reference, email)) = self.booking_keys(s) else {
                    return Ok(Some(self.ask(s, CallState::Reference, "What is your booking reference code?")));
                };
                match self.booking.cancel(s.tenant, &reference, &email).await {
                    Ok(_) => Ok(Some(self.ask(s, CallState::Completed, "Your appointment is cancelled. Is there anything else I can help you with?"))),
                    Err(BookingError::BookingNotFound) => Ok(Some(self.ask(s, CallState::Reference, "I couldn't find that booking any more. What is the reference code?"))),
                    Err(e) => Err(VoiceError::Booking(e)),
                }
            }
            Some(YesNo::No) => Ok(Some(self.ask(s, CallState::Completed, "Okay, I've left your appointment as it is. Is there anything else I can help you with?"))),
            None => Ok(None),
        }
    }

    async fn on_reschedule_confirm(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        match nlu::yes_no(text) {
            Some(YesNo::Yes) => {
                let (Some((reference, email)), Some(hold)) = (self.booking_keys(s), s.ctx.hold_id)
                else {
                    return Ok(Some(self.ask(
                        s,
                        CallState::Reference,
                        "What is your booking reference code?",
                    )));
                };
                let session = s.session_id();
                match self
                    .booking
                    .reschedule(s.tenant, &reference, &email, hold, session.as_ref())
                    .await
                {
                    Ok(moved) => {
                        s.ctx.hold_id = None;
                        let q = format!(
                            "Done. Your appointment is now on {}, and your reference code stays {}. Is there anything else I can help you with?",
                            speak_day_time(s.tz(), moved.start_at),
                            spell(&moved.reference)
                        );
                        Ok(Some(self.ask(s, CallState::Completed, q)))
                    }
                    Err(
                        BookingError::HoldExpired
                        | BookingError::HoldNotFound
                        | BookingError::SlotTaken,
                    ) => {
                        s.ctx.hold_id = None;
                        Ok(Some(self.ask(s, CallState::Date, "I'm sorry, that time is no longer available. What day would you like instead?")))
                    }
                    Err(e) => Err(VoiceError::Booking(e)),
                }
            }
            Some(YesNo::No) => Ok(Some(self.ask(
                s,
                CallState::Date,
                "No problem, your appointment is unchanged. What other day would you like?",
            ))),
            None => Ok(None),
        }
    }
}

/// "10:30 AM" in the tenant's zone.
pub fn speak_time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%-I:%M %p").to_string()
}

/// "Tuesday, March 3 at 10:30 AM" in the tenant's zone.
pub fn speak_day_time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .format("%A, %B %-d at %-I:%M %p")
        .to_string()
}

/// A code read letter by letter: "A B C D, E F G H".
pub fn spell(code: &str) -> String {
    code.split('-')
        .map(|part| {
            part.chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An email address as it is said: "jane dot doe at gmail dot com".
pub fn speak_email(email: &str) -> String {
    email.replace('.', " dot ").replace('@', " at ")
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
    fn sixteen_states_round_trip() {
        assert_eq!(CallState::ALL.len(), 16);
        for s in CallState::ALL {
            assert_eq!(CallState::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn spoken_forms() {
        assert_eq!(spell("ABCD-EFGH"), "A B C D, E F G H");
        assert_eq!(
            speak_email("jane.doe@gmail.com"),
            "jane dot doe at gmail dot com"
        );
        assert!(valid_call_sid("CA0123456789abcdef0123456789abcdef"));
        assert!(!valid_call_sid("CA 1"));
    }
}
