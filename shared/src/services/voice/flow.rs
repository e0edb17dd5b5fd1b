//! The call's state machine: the 18 states, what a call has gathered, and one caller turn
//! (lock the call, act on the utterance in its state, write the new state back).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::speech::{self, speak_day_time, spell};
use super::transfer::{CallFacts, Why};
use super::{say_end, VoiceError, VoiceService};
use crate::db::calls::{self, CallRow, CallUpdate, NewTurn};
use crate::db::tenants::{self, ServiceRow};
use crate::domain::nlu::{self, Intent, TimeSpec, YesNo};
use crate::domain::phone_region;
use crate::domain::{ClientName, Email, Locale, PhoneE164, ReferenceCode, SessionId, TenantId};
use crate::services::booking::{BookingError, ClientDetails, MoveOf, TenantSchedule};
use crate::services::handoff::{HandoffContext, HandoffError, TranscriptLine};
use crate::services::sms::SmsError;
use crate::text::{self, Voice};

/// The 18 states of a call.
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
    /// A keypad-only caller keys in the code texted to their phone.
    VerifyCode,
    /// A verified caller picks one of their upcoming bookings by key.
    ChooseBooking,
}

impl CallState {
    pub const ALL: [CallState; 18] = [
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
        CallState::VerifyCode,
        CallState::ChooseBooking,
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
            CallState::VerifyCode => "verify_code",
            CallState::ChooseBooking => "choose_booking",
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
/// A field missing from a stored context (an older call) takes its default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallContext {
    pub flow: Option<Flow>,
    pub service_id: Option<Uuid>,
    pub service_name: Option<String>,
    pub date: Option<NaiveDate>,
    pub time_pref: Option<TimeSpec>,
    /// Slot starts read out to the caller, in order.
    pub offered: Vec<DateTime<Utc>>,
    pub hold_id: Option<Uuid>,
    pub hold_start: Option<DateTime<Utc>>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub reference: Option<String>,
    pub booking_start: Option<DateTime<Utc>>,
    /// Where a declined handoff offer returns to.
    pub return_to: Option<CallState>,
    /// The offer was made because a limit was reached: the call ends after the answer.
    pub final_offer: bool,
    pub handoff_sent: bool,
    /// The question last asked (asked again after a misunderstanding).
    pub prompt: String,
    /// The caller, from another country than the clinic by their number, was told once that
    /// the times said are the clinic's local time.
    pub clinic_time_said: bool,
    /// The language the call is in (the tenant's default until the caller picks another).
    pub locale: Locale,
    /// The languages the tenant speaks, its default first (read when the call starts).
    pub languages: Vec<Locale>,
    /// The caller keyed in the code texted to their number: the call comes from that phone.
    pub phone_verified: bool,
    /// References of the caller's bookings read out with their keys, in order.
    pub listed: Vec<String>,
}

/// What to say next: ask and listen, or say and hang up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ask(String),
    End(String),
    /// The call leaves the receptionist: a transfer to a person or voicemail.
    Handover(super::transfer::Handover),
}

/// A call in memory for one turn.
pub(super) struct Session {
    pub(super) tenant: TenantId,
    pub(super) sched: TenantSchedule,
    pub(super) services: Vec<ServiceRow>,
    pub(super) call_sid: String,
    pub(super) caller: Option<PhoneE164>,
    pub(super) our_number: String,
    pub(super) state: CallState,
    pub(super) ctx: CallContext,
    pub(super) misunderstandings: u32,
    pub(super) turn_count: u32,
    pub(super) started_at: DateTime<Utc>,
    /// The keys pressed this turn (Twilio's `Digits`), when the caller answered by keypad.
    pub(super) digits: Option<String>,
}

impl Session {
    pub(super) fn tz(&self) -> Tz {
        self.sched.tz
    }

    /// The words of the call's language.
    pub(super) fn v(&self) -> &'static Voice {
        &self.ctx.locale.text().voice
    }

    pub(super) fn locale(&self) -> Locale {
        self.ctx.locale
    }

    pub(super) fn session_id(&self) -> Option<SessionId> {
        SessionId::parse(&format!("call:{}", self.call_sid)).ok()
    }
}

/// The language a stored call is in.
fn call_locale(row: &CallRow) -> Locale {
    row.context
        .0
        .get("locale")
        .and_then(|l| l.as_str())
        .and_then(Locale::from_code)
        .unwrap_or_default()
}

impl VoiceService {
    #[tracing::instrument(skip_all, fields(call_sid = %call_sid))]
    pub(super) async fn turn(
        &self,
        call_sid: &str,
        speech: Option<&str>,
        digits: Option<&str>,
        confidence: Option<f32>,
        request_key: Option<&str>,
    ) -> Result<String, VoiceError> {
        let pool = self.booking.pool();
        let v = &text::current().voice;
        // Twilio gives a webhook 15 s; a turn waits at most ~5 s for the one before it.
        let mut attempt = 0u32;
        let (mut tx, row) = loop {
            let mut tx = pool.begin().await?;
            match calls::try_lock_call(&mut tx, call_sid).await? {
                Ok(Some(row)) => break (tx, row),
                Ok(None) => return Ok(say_end(v.lost_track)),
                Err(calls::Busy) if attempt < 200 => {
                    drop(tx);
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
                }
                Err(calls::Busy) => {
                    return Ok(self.render(Locale::En, &Reply::Ask(v.one_moment.into())));
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
        let v = &call_locale(&row).text().voice;
        if row.status != "active" {
            return Ok(say_end(v.call_ended));
        }
        let mut s = self.session(&row).await?;
        s.digits = digits.map(str::to_string);
        let asked_in = s.state;
        let reply = match (speech, digits) {
            (None, None) => self.greet(&mut s).await?,
            (text, _) => {
                s.turn_count += 1;
                self.step(&mut s, text.unwrap_or_default()).await?
            }
        };
        let xml = self.render_turn(&s, &reply);
        let (status, end_reason) = match (&reply, s.state) {
            (Reply::Handover(h), _) => ("ended", Some(h.end_reason)),
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
            return Ok(latest
                .and_then(|r| r.last_response)
                .unwrap_or_else(|| self.render(s.locale(), &Reply::Ask(s.v().say_again.into()))));
        }
        let said = match &reply {
            Reply::Ask(t) | Reply::End(t) => t.as_str(),
            Reply::Handover(h) => h.said.as_str(),
        };
        let mut turns = Vec::with_capacity(2);
        let heard = asked_in.caller_line(speech, digits);
        if let Some(text) = heard.as_deref() {
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
            digits: None,
        })
    }

    async fn greet(&self, s: &mut Session) -> Result<Reply, VoiceError> {
        if s.ctx.languages.is_empty() {
            s.ctx.languages = tenants::languages(self.booking.pool(), s.tenant.0).await?;
            s.ctx.locale = s.ctx.languages.first().copied().unwrap_or_default();
        }
        Ok(self.greeting(s))
    }

    /// The greeting in the call's language (its keys follow from [`Self::ask`]).
    pub(super) fn greeting(&self, s: &mut Session) -> Reply {
        let v = s.v();
        let text = (v.greeting)(&s.sched.tenant.name);
        self.ask(s, CallState::Intent, text)
    }

    /// Asks `text` in state `next`, followed by the keys that answer it there.
    pub(super) fn ask(&self, s: &mut Session, next: CallState, text: impl Into<String>) -> Reply {
        let text = s.with_keys(next, text.into());
        s.state = next;
        s.ctx.prompt = text.clone();
        Reply::Ask(text)
    }

    pub(super) fn end(&self, s: &mut Session, text: impl Into<String>) -> Reply {
        s.state = CallState::Ended;
        Reply::End(text.into())
    }

    /// One caller utterance in the current state.
    async fn step(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        let v = s.v();
        let text = text.trim();
        let now = self.booking.clock().now();

        if !text.is_empty() && nlu::is_person_request(text) {
            if let Some(r) = self.to_person(s, Why::Asked).await? {
                return Ok(r);
            }
        }
        // An answer to the handoff offer is handled before anything else.
        if s.state == CallState::HandoffOffer {
            return self.handoff_answer(s, text).await;
        }
        // Limits: past them, offer the link once and end after the answer.
        if s.turn_count > self.limits.max_turns || now - s.started_at >= self.limits.max_duration {
            if let Some(r) = self.to_person(s, Why::TimeLimit).await? {
                return Ok(r);
            }
            s.ctx.final_offer = true;
            s.ctx.return_to = None;
            let prompt = v.time_limit_offer;
            return Ok(self.ask(s, CallState::HandoffOffer, prompt));
        }
        if !text.is_empty() && nlu::is_handoff_request(text) {
            return self.send_handoff(s).await;
        }
        let keyed = match s.digits.clone() {
            Some(keys) => self.on_keys(s, &keys).await?,
            None => self.on_words(s, text).await?,
        };
        let reply = if let Some(r) = keyed {
            Some(r)
        } else if text.is_empty() && s.digits.is_none() {
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
                CallState::Ended => Some(self.end(s, v.goodbye)),
                CallState::VerifyCode => self.on_code(s, text).await?,
                CallState::ChooseBooking => self.on_choose_booking(s, text).await?,
            }
        };
        match reply {
            Some(r) => {
                s.misunderstandings = 0;
                Ok(r)
            }
            None => {
                let r = self.misunderstood(s, text.is_empty());
                if s.state == CallState::HandoffOffer {
                    if let Some(p) = self.to_person(s, Why::Misunderstood).await? {
                        return Ok(p);
                    }
                }
                Ok(r)
            }
        }
    }

    /// A transfer to a person (or voicemail) when the tenant can take the call; `None` when
    /// the call goes on as before.
    async fn to_person(&self, s: &mut Session, why: Why) -> Result<Option<Reply>, VoiceError> {
        let wants = self.handoff_context(s).intent;
        let facts = CallFacts {
            tenant: s.tenant,
            tenant_name: &s.sched.tenant.name,
            call_sid: &s.call_sid,
            caller: s.caller.as_ref(),
            our_number: &s.our_number,
            wants: wants.as_deref(),
            service: s.ctx.service_name.as_deref(),
            date: s.ctx.date,
            name: s.ctx.name.as_deref(),
            locale: s.locale(),
        };
        let Some(h) = self.hand_over(&facts, why).await? else {
            return Ok(None);
        };
        s.state = CallState::Ended;
        Ok(Some(Reply::Handover(h)))
    }

    fn misunderstood(&self, s: &mut Session, silence: bool) -> Reply {
        let v = s.v();
        s.misunderstandings += 1;
        if s.misunderstandings >= self.limits.max_retries {
            s.ctx.return_to = Some(s.state);
            s.ctx.final_offer = false;
            s.misunderstandings = 0;
            let prompt = v.trouble_offer;
            s.state = CallState::HandoffOffer;
            return Reply::Ask(prompt.into());
        }
        let lead = if silence {
            v.heard_nothing
        } else {
            v.didnt_catch
        };
        let again = if s.ctx.prompt.is_empty() {
            v.how_can_i_help.to_string()
        } else {
            s.ctx.prompt.clone()
        };
        Reply::Ask((v.again)(lead, &again))
    }

    async fn handoff_answer(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        let v = s.v();
        let yes = nlu::is_handoff_request(text) || s.yes_no(text) == Some(YesNo::Yes);
        let no = s.yes_no(text) == Some(YesNo::No);
        if yes {
            return self.send_handoff(s).await;
        }
        if no || s.ctx.final_offer {
            if s.ctx.final_offer {
                return Ok(self.end(s, v.declined_final_offer));
            }
            let back = s.ctx.return_to.take().unwrap_or(CallState::Intent);
            s.state = back;
            let again = if s.ctx.prompt.is_empty() {
                v.how_can_i_help.to_string()
            } else {
                s.ctx.prompt.clone()
            };
            return Ok(Reply::Ask((v.keep_going)(&again)));
        }
        // Neither yes nor no: one more plain question, then the offer stands.
        s.misunderstandings += 1;
        if s.misunderstandings >= self.limits.max_retries {
            return Ok(self.end(s, v.couldnt_help));
        }
        Ok(Reply::Ask(v.yes_or_no_for_text.into()))
    }

    fn handoff_context(&self, s: &Session) -> HandoffContext {
        let v = s.v();
        HandoffContext {
            channel: "voice".into(),
            intent: s.ctx.flow.map(|f| {
                match f {
                    Flow::Book => v.intent_book,
                    Flow::Reschedule => v.intent_reschedule,
                    Flow::Cancel => v.intent_cancel,
                    Flow::Lookup => v.intent_lookup,
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
            locale: Some(s.locale()),
            hold_id: s.ctx.hold_id,
        }
    }

    /// Texts the caller a one-time link to the web chat with what the call gathered, then ends.
    async fn send_handoff(&self, s: &mut Session) -> Result<Reply, VoiceError> {
        let v = s.v();
        let Some(caller) = s.caller.clone() else {
            return Ok(self.end(s, v.cannot_text_number));
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
        let minutes = self.handoff.ttl_minutes();
        let message = (v.handoff_sms)(&s.sched.tenant.name, minutes);
        self.text_link(s, &caller, &context, &message, (v.handoff_sent)(minutes))
            .await
    }

    /// Texts `message` with a one-time chat link carrying `context` to `caller`, then ends
    /// the call with `sent`, or with why no text went out.
    pub(super) async fn text_link(
        &self,
        s: &mut Session,
        caller: &PhoneE164,
        context: &HandoffContext,
        message: &str,
        sent: String,
    ) -> Result<Reply, VoiceError> {
        let v = s.v();
        match self
            .handoff
            .send_link(
                s.tenant,
                &s.our_number,
                caller,
                Some(&s.call_sid),
                context,
                message,
            )
            .await
        {
            Ok(_) => {
                s.ctx.handoff_sent = true;
                Ok(self.end(s, sent))
            }
            Err(HandoffError::Sms(SmsError::OptedOut)) => Ok(self.end(s, v.handoff_opted_out)),
            Err(HandoffError::Sms(SmsError::RateLimited)) => {
                Ok(self.end(s, v.handoff_rate_limited))
            }
            Err(HandoffError::Database(e)) | Err(HandoffError::Sms(SmsError::Database(e))) => {
                Err(VoiceError::Database(e))
            }
            Err(e) => {
                tracing::warn!(error = %e, "chat link sms failed");
                Ok(self.end(s, v.handoff_failed))
            }
        }
    }

    // ---- booking path ---------------------------------------------------------------

    pub(super) async fn on_intent(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let intent = nlu::detect_intent(text).or_else(|| {
            // "a consultation on Tuesday" names what to book without saying "book".
            nlu::match_service(text, &self.service_names(s)).map(|_| Intent::Book)
        });
        self.begin(s, intent, text).await
    }

    /// Starts what the caller asked for (`text` may name more: a service, a day, a code).
    pub(super) async fn begin(
        &self,
        s: &mut Session,
        intent: Option<Intent>,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        Ok(match intent {
            Some(Intent::Book) => {
                s.ctx = CallContext {
                    flow: Some(Flow::Book),
                    name: s.ctx.name.take(),
                    email: s.ctx.email.take(),
                    ..s.ctx.carried()
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
                    ..s.ctx.carried()
                };
                if let Some(r) = nlu::extract_reference(text) {
                    s.ctx.reference = Some(r.as_str().to_string());
                    return Ok(Some(self.ask(
                        s,
                        CallState::VerifyEmail,
                        v.ask_booking_email,
                    )));
                }
                Some(self.ask(s, CallState::Reference, v.ask_reference_spelled))
            }
            Some(Intent::HandoffToText) | Some(Intent::Waitlist) => {
                Some(self.send_handoff(s).await?)
            }
            Some(Intent::Help) => Some(self.ask(s, CallState::Intent, v.help)),
            Some(Intent::Goodbye) => Some(self.end(s, v.thanks_goodbye)),
            None => None,
        })
    }

    pub(super) fn service_names(&self, s: &Session) -> Vec<String> {
        s.services.iter().map(|x| x.name.clone()).collect()
    }

    /// Takes whatever the utterance already says (service, date, time) and asks for the rest.
    pub(super) async fn book_from(&self, s: &mut Session, text: &str) -> Result<Reply, VoiceError> {
        let v = s.v();
        if s.services.len() == 1 {
            s.ctx.service_id = Some(s.services[0].id);
            s.ctx.service_name = Some(s.services[0].name.clone());
        } else if let Some(i) = nlu::match_service(text, &self.service_names(s)) {
            s.ctx.service_id = Some(s.services[i].id);
            s.ctx.service_name = Some(s.services[i].name.clone());
        }
        if s.ctx.service_id.is_none() {
            let q = (v.which_service)(&speech::choices(s.locale(), &self.service_names(s)));
            return Ok(self.ask(s, CallState::Service, q));
        }
        if let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), s.tz()) {
            s.ctx.time_pref = nlu::parse_time(text);
            return self.search(s, date).await;
        }
        let q = (v.which_day)(s.ctx.service_name.as_deref().unwrap_or_default());
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
    pub(super) async fn search(
        &self,
        s: &mut Session,
        date: NaiveDate,
    ) -> Result<Reply, VoiceError> {
        let v = s.v();
        let Some(service) = s.ctx.service_id else {
            let q = (v.which_service)(&speech::choices(s.locale(), &self.service_names(s)));
            return Ok(self.ask(s, CallState::Service, q));
        };
        s.ctx.date = Some(date);
        let tz = s.tz();
        let today = self.booking.clock().now().with_timezone(&tz).date_naive();
        if date < today {
            return Ok(self.ask(s, CallState::Date, v.day_passed));
        }
        // A reschedule is offered the times its booking can move to (its own time not busy).
        let found = match self.moving(s) {
            Some(m) => {
                self.booking
                    .move_availability(s.tenant, &m, date, date)
                    .await
            }
            None => {
                self.booking
                    .availability(s.tenant, service, date, date)
                    .await
            }
        };
        let slots = match found {
            Ok(a) => a.slots,
            Err(BookingError::RangeBeyondLookahead { max_days_ahead }) => {
                let q = (v.beyond_lookahead)(max_days_ahead);
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
        let day = speech::speak_day(s.locale(), date);
        if starts.is_empty() {
            s.ctx.offered.clear();
            let q = (v.no_openings)(&day);
            return Ok(self.ask(s, CallState::Date, q));
        }
        starts.sort();
        s.ctx.offered = starts.clone();
        let list = speech::times(s.locale(), tz, &starts);
        let q = (v.offer_times)(&day, &list);
        let q = match self.clinic_time_note(s) {
            Some(note) => format!("{note} {q}"),
            None => q,
        };
        Ok(self.ask(s, CallState::Slots, q))
    }

    /// Once a call, before the first times are read out: a caller whose number is from
    /// another country than the clinic's hears that the times are the clinic's local time,
    /// and in which zone. Only a hint: nothing is converted, and the booking keeps no zone.
    fn clinic_time_note(&self, s: &mut Session) -> Option<String> {
        let caller = s.caller.as_ref()?;
        if s.ctx.clinic_time_said
            || !phone_region::caller_may_be_elsewhere(
                caller.as_str(),
                &s.our_number,
                s.tz(),
                self.booking.clock().now(),
            )
        {
            return None;
        }
        s.ctx.clinic_time_said = true;
        Some((s.locale().text().client_time.voice_clinic_time)(
            &text::zone_place(s.tz()),
        ))
    }

    async fn on_slots(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
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
                    Reply::Ask(q) => Reply::Ask((v.exact_time_not_open)(&q)),
                    other => other,
                }));
            }
            return Ok(None);
        };
        self.hold_offered(s, i).await
    }

    /// Holds the `i`th time read out (a move hold on a reschedule) and asks what comes next.
    pub(super) async fn hold_offered(
        &self,
        s: &mut Session,
        i: usize,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        let tz = s.tz();
        let Some(start) = s.ctx.offered.get(i).copied() else {
            return Ok(None);
        };
        let (Some(service), Some(session)) = (s.ctx.service_id, s.session_id()) else {
            return Ok(None);
        };
        let held = match self.moving(s) {
            Some(m) => {
                self.booking
                    .create_move_hold(s.tenant, service, start, &session, &m)
                    .await
            }
            None => {
                self.booking
                    .create_hold(s.tenant, service, start, &session)
                    .await
            }
        };
        match held {
            Ok(hold) => {
                s.ctx.hold_id = Some(hold.id);
                s.ctx.hold_start = Some(hold.start_at);
                if s.ctx.flow == Some(Flow::Reschedule) {
                    let q = (v.holding_to_move)(&speak_day_time(s.locale(), tz, hold.start_at));
                    return Ok(Some(self.ask(s, CallState::RescheduleConfirm, q)));
                }
                if s.ctx.name.is_some() && s.ctx.email.is_some() {
                    return Ok(Some(self.confirm_prompt(s)));
                }
                let q = (v.holding_ask_name)(&speak_day_time(s.locale(), tz, hold.start_at));
                Ok(Some(self.ask(s, CallState::Name, q)))
            }
            Err(
                e @ (BookingError::SlotUnavailable
                | BookingError::SlotTaken
                | BookingError::ScheduleClosed
                | BookingError::DailyLimitReached),
            ) => {
                let date = s
                    .ctx
                    .date
                    .unwrap_or_else(|| start.with_timezone(&tz).date_naive());
                let r = self.search(s, date).await?;
                let lead = match e {
                    BookingError::ScheduleClosed => v.closed_then,
                    BookingError::DailyLimitReached => v.day_full,
                    _ => v.just_taken,
                };
                Ok(Some(match r {
                    Reply::Ask(q) => Reply::Ask(lead(&q)),
                    other => other,
                }))
            }
            Err(e) => Err(VoiceError::Booking(e)),
        }
    }

    fn on_name(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let v = s.v();
        let name = nlu::parse_name_reply(text)?;
        s.ctx.name = Some(name.as_str().to_string());
        if s.ctx.email.is_some() {
            return Some(self.confirm_prompt(s));
        }
        let q = (v.ask_email)(name.as_str());
        Some(self.ask(s, CallState::Email, q))
    }

    fn on_email(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let email = nlu::extract_email(text)?;
        s.ctx.email = Some(email.as_str().to_string());
        Some(self.confirm_prompt(s))
    }

    pub(super) fn confirm_prompt(&self, s: &mut Session) -> Reply {
        let q = speech::confirm(
            s.locale(),
            s.tz(),
            s.ctx.service_name.as_deref().unwrap_or_default(),
            s.ctx.hold_start,
            s.ctx.name.as_deref().unwrap_or_default(),
            s.ctx.email.as_deref().unwrap_or_default(),
        );
        self.ask(s, CallState::Confirm, q)
    }

    async fn on_confirm(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        match s.yes_no(text) {
            Some(YesNo::Yes) => {}
            Some(YesNo::No) => {
                s.ctx.offered.clear();
                return Ok(Some(self.ask(s, CallState::Date, v.nothing_booked)));
            }
            None => return Ok(None),
        }
        let (Some(hold), Some(session)) = (s.ctx.hold_id, s.session_id()) else {
            return Ok(Some(self.ask(s, CallState::Date, v.pick_again)));
        };
        let (Ok(name), Ok(email)) = (
            ClientName::parse(s.ctx.name.as_deref().unwrap_or_default()),
            Email::parse(s.ctx.email.as_deref().unwrap_or_default()),
        ) else {
            return Ok(Some(self.ask(s, CallState::Name, v.name_again)));
        };
        let details = ClientDetails {
            name,
            email,
            phone: s.caller.clone(),
            notes: crate::domain::Notes::from_free_text(v.booked_by_phone),
            time_zone: None,
            locale: Some(s.locale()),
        };
        match self
            .booking
            .confirm(s.tenant, hold, &session, &details)
            .await
        {
            Ok((appt, _)) => {
                s.ctx.reference = Some(appt.reference.clone());
                s.ctx.hold_id = None;
                let q = (v.booked)(
                    s.ctx.service_name.as_deref().unwrap_or_default(),
                    &speak_day_time(s.locale(), s.tz(), appt.start_at),
                    &spell(&appt.reference),
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
                    Reply::Ask(q) => Reply::Ask((v.no_longer_available)(&q)),
                    other => other,
                }))
            }
            Err(e) => Err(VoiceError::Booking(e)),
        }
    }

    async fn on_completed(&self, s: &mut Session, text: &str) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        if let Some(i) =
            nlu::detect_intent(text).filter(|i| *i != Intent::Goodbye && *i != Intent::Help)
        {
            let _ = i;
            return self.on_intent(s, text).await;
        }
        Ok(match s.yes_no(text) {
            Some(YesNo::Yes) => Some(self.ask(s, CallState::Intent, v.what_else)),
            Some(YesNo::No) => Some(self.end(s, v.great_day_goodbye)),
            None if nlu::detect_intent(text) == Some(Intent::Goodbye) => {
                Some(self.end(s, v.great_day_goodbye))
            }
            None => None,
        })
    }

    // ---- existing bookings ----------------------------------------------------------

    fn on_reference(&self, s: &mut Session, text: &str) -> Option<Reply> {
        let v = s.v();
        let r = nlu::extract_reference(text)?;
        s.ctx.reference = Some(r.as_str().to_string());
        Some(self.ask(
            s,
            CallState::VerifyEmail,
            (v.reference_thanks)(&spell(r.as_str())),
        ))
    }

    pub(super) async fn on_verify_email(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        let Some(email) = nlu::extract_email(text) else {
            return Ok(None);
        };
        let Some(reference) = s
            .ctx
            .reference
            .as_deref()
            .and_then(|r| ReferenceCode::parse(r).ok())
        else {
            return Ok(Some(self.ask(s, CallState::Reference, v.ask_reference)));
        };
        let appt = match self.booking.lookup(s.tenant, &reference, &email).await {
            Ok(a) => a,
            Err(BookingError::BookingNotFound) => {
                s.misunderstandings += 1;
                return Ok(Some(self.ask(s, CallState::Reference, v.booking_not_found)));
            }
            Err(e) => return Err(VoiceError::Booking(e)),
        };
        s.ctx.email = Some(email.as_str().to_string());
        Ok(Some(self.found(s, &appt)))
    }

    /// A booking found for the caller (by reference and email, or among the phone's own):
    /// it becomes the call's, and is read back with what comes next in the flow.
    pub(super) fn found(
        &self,
        s: &mut Session,
        appt: &crate::db::bookings::AppointmentRow,
    ) -> Reply {
        let v = s.v();
        s.ctx.reference = Some(appt.reference.clone());
        s.ctx.email = Some(appt.client_email.clone());
        s.ctx.service_id = Some(appt.service_id);
        s.ctx.service_name = s
            .services
            .iter()
            .find(|x| x.id == appt.service_id)
            .map(|x| x.name.clone());
        s.ctx.booking_start = Some(appt.start_at);
        let what = (v.your_booking)(
            s.ctx.service_name.as_deref().unwrap_or(v.appointment),
            &speak_day_time(s.locale(), s.tz(), appt.start_at),
        );
        if appt.status == "cancelled" {
            return self.ask(s, CallState::Completed, (v.found_cancelled)(&what));
        }
        match s.ctx.flow {
            Some(Flow::Cancel) => self.ask(s, CallState::CancelConfirm, (v.found_to_cancel)(&what)),
            Some(Flow::Reschedule) => self.ask(s, CallState::Date, (v.found_to_reschedule)(&what)),
            _ => self.ask(s, CallState::BookingFound, (v.found)(&what)),
        }
    }

    async fn on_booking_found(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        let tz = s.tz();
        Ok(match nlu::detect_intent(text) {
            Some(Intent::Reschedule) => {
                s.ctx.flow = Some(Flow::Reschedule);
                if let Some(date) = nlu::resolve_date(text, self.booking.clock().now(), tz) {
                    s.ctx.time_pref = nlu::parse_time(text);
                    return Ok(Some(self.search(s, date).await?));
                }
                Some(self.ask(s, CallState::Date, v.move_to_which_day))
            }
            Some(Intent::Cancel) => {
                s.ctx.flow = Some(Flow::Cancel);
                Some(self.ask(s, CallState::CancelConfirm, v.sure_to_cancel))
            }
            Some(Intent::Goodbye) => Some(self.end(s, v.thanks_goodbye)),
            _ => match s.yes_no(text) {
                Some(YesNo::No) => Some(self.end(s, v.thanks_goodbye)),
                _ => None,
            },
        })
    }

    /// The booking this call is moving, when the flow is a reschedule of a known booking.
    fn moving(&self, s: &Session) -> Option<MoveOf> {
        if s.ctx.flow != Some(Flow::Reschedule) {
            return None;
        }
        let (reference, email) = self.booking_keys(s)?;
        Some(MoveOf {
            reference,
            email,
            same_resource: false,
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
        let v = s.v();
        match s.yes_no(text) {
            Some(YesNo::Yes) => {
                let Some((reference, email)) = self.booking_keys(s) else {
                    return Ok(Some(self.ask(s, CallState::Reference, v.ask_reference)));
                };
                match self.booking.cancel(s.tenant, &reference, &email).await {
                    Ok(_) => Ok(Some(self.ask(s, CallState::Completed, v.cancelled))),
                    Err(e @ BookingError::ChangeCutoffPassed { .. }) => Ok(Some(self.ask(
                        s,
                        CallState::Completed,
                        (v.change_cutoff)(&e.to_string()),
                    ))),
                    Err(BookingError::BookingNotFound) => {
                        Ok(Some(self.ask(s, CallState::Reference, v.booking_gone)))
                    }
                    Err(e) => Err(VoiceError::Booking(e)),
                }
            }
            Some(YesNo::No) => Ok(Some(self.ask(s, CallState::Completed, v.left_as_is))),
            None => Ok(None),
        }
    }

    async fn on_reschedule_confirm(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        match s.yes_no(text) {
            Some(YesNo::Yes) => {
                let (Some((reference, email)), Some(hold)) = (self.booking_keys(s), s.ctx.hold_id)
                else {
                    return Ok(Some(self.ask(s, CallState::Reference, v.ask_reference)));
                };
                let session = s.session_id();
                match self
                    .booking
                    .reschedule(s.tenant, &reference, &email, hold, session.as_ref())
                    .await
                {
                    Ok(moved) => {
                        s.ctx.hold_id = None;
                        let q = (v.moved)(
                            &speak_day_time(s.locale(), s.tz(), moved.start_at),
                            &spell(&moved.reference),
                        );
                        Ok(Some(self.ask(s, CallState::Completed, q)))
                    }
                    Err(
                        BookingError::HoldExpired
                        | BookingError::HoldNotFound
                        | BookingError::SlotTaken,
                    ) => {
                        s.ctx.hold_id = None;
                        Ok(Some(self.ask(
                            s,
                            CallState::Date,
                            v.no_longer_available_pick_day,
                        )))
                    }
                    Err(e) => Err(VoiceError::Booking(e)),
                }
            }
            Some(YesNo::No) => Ok(Some(self.ask(s, CallState::Date, v.unchanged))),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighteen_states_round_trip() {
        assert_eq!(CallState::ALL.len(), 18);
        for s in CallState::ALL {
            assert_eq!(CallState::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}
