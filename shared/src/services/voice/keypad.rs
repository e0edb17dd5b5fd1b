//! The keypad and the call's language.
//!
//! - Every question can be answered by key (`Digits`) as well as by voice: [`with_keys`]
//!   adds the keys to a question, [`VoiceService::on_keys`] reads them in each state, and
//!   yes/no questions read 1 and 2 through [`yes_no`].
//! - The language offer: when the tenant speaks more than one language, the first question
//!   offers the others in their own voice ("Para español, oprima 2 o diga español."); the
//!   key of a language is its place in [`Locale::ALL`] (English 1, Spanish 2), and the
//!   menu keys follow the language keys.
//! - A caller who cannot or will not speak: where a name, an email or a reference code is
//!   asked, 9 texts a 6-digit code to the caller ID ([`CODE_TTL_MINUTES`],
//!   [`CODE_MAX_ATTEMPTS`] tries, [`CODES_PER_CALL`] codes; stored as an HMAC in
//!   `phone_codes`, never in memory). The code keyed back verifies the phone for the rest of
//!   the call: a booking is made with the name and email of the caller's latest booking
//!   under that phone, or, with none on file, the caller is texted a link to the web chat
//!   to finish with an email (a booking needs one for its confirmation and its changes);
//!   a reschedule or a cancel picks among the phone's upcoming bookings by key.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use rand::Rng;
use uuid::Uuid;

use super::flow::{CallContext, CallState, Flow, Reply, Session};
use super::speech::{speak_day_time, speak_time};
use super::twiml::{self, Listen, Response};
use super::{VoiceError, VoiceService};
use crate::db::{bookings, phone_codes};
use crate::domain::nlu::{self, Intent, TimeSpec, YesNo};
use crate::domain::{Locale, PhoneE164};
use crate::services::handoff::HandoffContext;
use crate::services::sms::SmsError;

/// Digits in a phone code.
pub const CODE_DIGITS: usize = 6;
/// How long a phone code works.
pub const CODE_TTL_MINUTES: i64 = 10;
/// Tries of one code before the call ends.
pub const CODE_MAX_ATTEMPTS: i32 = 3;
/// Codes one call may be sent.
pub const CODES_PER_CALL: i64 = 3;
/// The key that starts the keypad-only path.
pub const KEYPAD_ONLY_KEY: &str = "9";
/// Upcoming bookings read out to a verified caller.
const MAX_LISTED: i64 = 5;

/// The key that picks `locale` in the language offer: its place in [`Locale::ALL`], from 1.
pub fn language_key(locale: Locale) -> u8 {
    Locale::ALL
        .iter()
        .position(|l| *l == locale)
        .map(|i| i as u8 + 1)
        .unwrap_or(1)
}

/// The key that starts a booking in the first question: 1, or the key after the language
/// keys when the tenant speaks more than one language.
pub fn first_intent_key(ctx: &CallContext) -> u8 {
    if ctx.languages.len() > 1 {
        Locale::ALL.len() as u8 + 1
    } else {
        1
    }
}

impl CallContext {
    /// What a new request keeps of the call: its language and a verified phone.
    pub(super) fn carried(&mut self) -> CallContext {
        CallContext {
            locale: self.locale,
            languages: std::mem::take(&mut self.languages),
            phone_verified: self.phone_verified,
            ..CallContext::default()
        }
    }
}

/// Keys without the finish key.
fn keys_of(digits: &str) -> &str {
    digits.trim().trim_end_matches('#')
}

impl Session {
    /// Yes or no, said or keyed (1 yes, 2 no).
    pub(super) fn yes_no(&self, text: &str) -> Option<YesNo> {
        match self.digits.as_deref().map(keys_of) {
            Some("1") => Some(YesNo::Yes),
            Some("2") => Some(YesNo::No),
            Some(_) => None,
            None => nlu::yes_no(text),
        }
    }

    /// `question` followed by the keys that answer it in state `next`.
    pub(super) fn with_keys(&self, next: CallState, question: String) -> String {
        with_keys(self, next, question)
    }
}

impl CallState {
    /// The caller's line in the transcript for an answer in this state: what was said and
    /// the keys pressed (a code never).
    pub(super) fn caller_line(self, speech: Option<&str>, digits: Option<&str>) -> Option<String> {
        transcript_line(speech, digits, self)
    }
}

/// A language the caller names ("español", "English").
fn language_named(text: &str) -> Option<Locale> {
    let t = nlu::normalize(text);
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.len() > 4 {
        return None;
    }
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    if has(&["español", "espanol", "spanish"]) {
        Some(Locale::Es)
    } else if has(&["english", "inglés", "ingles"]) {
        Some(Locale::En)
    } else {
        None
    }
}

/// Month and day as four keys (MMDD): the next such date from `today` on.
pub fn date_from_keys(keys: &str, today: NaiveDate) -> Option<NaiveDate> {
    if keys.len() != 4 || !keys.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let month: u32 = keys[..2].parse().ok()?;
    let day: u32 = keys[2..].parse().ok()?;
    let this_year = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this_year {
        Some(d) if d >= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
    }
}

/// A time as four keys, 24-hour (HHMM).
pub fn time_from_keys(keys: &str) -> Option<NaiveTime> {
    if keys.len() != 4 || !keys.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(keys[..2].parse().ok()?, keys[2..].parse().ok()?, 0)
}

/// A choice keyed from 1: its index below `n`.
fn choice_from_keys(keys: &str, n: usize) -> Option<usize> {
    let k: usize = keys.parse().ok()?;
    (1..=n).contains(&k).then(|| k - 1)
}

fn with_keys(s: &Session, next: CallState, question: String) -> String {
    let v = s.v();
    let keyed_list = |items: &[String]| (v.press_for)(items);
    let hint: Option<String> = match next {
        CallState::Intent => Some((v.intent_keys)(first_intent_key(&s.ctx))),
        CallState::Service => {
            let names: Vec<String> = s.services.iter().map(|x| x.name.clone()).collect();
            (names.len() <= 9).then(|| keyed_list(&names))
        }
        CallState::Date => Some(v.date_keys.to_string()),
        CallState::Slots => {
            let times: Vec<String> = s
                .ctx
                .offered
                .iter()
                .map(|t| speak_time(s.locale(), s.tz(), *t))
                .collect();
            Some(format!("{} {}", keyed_list(&times), v.time_keys))
        }
        CallState::Name | CallState::Email if s.caller.is_some() => {
            Some(v.name_or_keypad.to_string())
        }
        CallState::Reference | CallState::VerifyEmail if s.caller.is_some() => {
            Some(v.reference_or_keypad.to_string())
        }
        CallState::Confirm
        | CallState::Completed
        | CallState::CancelConfirm
        | CallState::RescheduleConfirm => Some(v.yes_no_keys.to_string()),
        CallState::BookingFound => Some(v.found_keys.to_string()),
        _ => None,
    };
    match hint {
        Some(h) if !h.is_empty() => format!("{question} {h}"),
        _ => question,
    }
}

/// How many keys answer in a state.
fn listen(s: &Session) -> Listen {
    let num_digits = match s.state {
        CallState::Intent
        | CallState::Name
        | CallState::Email
        | CallState::Reference
        | CallState::VerifyEmail
        | CallState::Confirm
        | CallState::Completed
        | CallState::CancelConfirm
        | CallState::RescheduleConfirm
        | CallState::BookingFound
        | CallState::ChooseBooking
        | CallState::HandoffOffer => Some(1),
        CallState::Service if s.services.len() <= 9 => Some(1),
        CallState::VerifyCode => Some(CODE_DIGITS as u8),
        _ => None,
    };
    Listen { num_digits }
}

fn transcript_line(
    speech: Option<&str>,
    digits: Option<&str>,
    asked_in: CallState,
) -> Option<String> {
    if asked_in == CallState::VerifyCode && (speech.is_some() || digits.is_some()) {
        return Some("[keys] ******".into());
    }
    match (speech.map(str::trim).filter(|t| !t.is_empty()), digits) {
        (Some(t), Some(d)) => Some(format!("{t} [keys] {d}")),
        (None, Some(d)) => Some(format!("[keys] {d}")),
        (Some(t), None) => Some(t.to_string()),
        (None, None) => speech.map(str::to_string),
    }
}

/// An email as said to a caller who must recognise it without hearing it whole: its first
/// letter, then its domain ("j, at example dot com").
fn masked_email(locale: crate::domain::Locale, email: &str) -> String {
    let sp = &locale.text().speech;
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first = local.chars().take(1).collect::<String>().to_uppercase();
    let domain = domain.split('.').collect::<Vec<_>>().join(sp.email_dot);
    format!("{first},{}{domain}", sp.email_at)
}

#[cfg(test)]
mod masked_tests {
    use super::masked_email;
    use crate::domain::Locale;

    #[test]
    fn an_email_is_said_by_its_first_letter_and_its_domain() {
        assert_eq!(
            masked_email(Locale::En, "kim.park@mail.example.com"),
            "K, at mail dot example dot com"
        );
        assert_eq!(
            masked_email(Locale::Es, "ana@example.org"),
            "A, arroba example punto org"
        );
    }
}

impl VoiceService {
    /// The TwiML of a turn, in the call's language and voice: a question nested in a
    /// `<Gather>` (with the language offer, in its own voice, on the first question), or
    /// the last words and a hang-up.
    pub(super) fn render_turn(&self, s: &Session, reply: &Reply) -> String {
        let locale = s.locale();
        match reply {
            Reply::Ask(prompt) => {
                let mut g = twiml::gather(&self.gather_url, locale, listen(s), prompt.as_str());
                if s.state == CallState::Intent && s.ctx.languages.len() > 1 {
                    for other in s.ctx.languages.iter().filter(|l| **l != locale) {
                        let offer = (other.text().voice.language_offer)(language_key(*other));
                        g = g.child(twiml::say_in(*other, offer));
                    }
                }
                Response::new()
                    .verb(g)
                    // Reached only if Twilio could not post the result: ask again.
                    .verb(twiml::redirect(&self.gather_url))
                    .to_xml()
            }
            Reply::End(text) => Response::new()
                .verb(twiml::say_in(locale, text.as_str()))
                .verb(twiml::hangup())
                .to_xml(),
            Reply::Handover(h) => h.to_xml(),
        }
    }

    /// A spoken answer read before the state's own handler: a language named in the first
    /// question.
    pub(super) async fn on_words(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        if s.state == CallState::Intent && s.ctx.languages.len() > 1 {
            if let Some(l) = language_named(text).filter(|l| s.ctx.languages.contains(l)) {
                s.ctx.locale = l;
                return Ok(Some(self.greeting(s)));
            }
        }
        Ok(None)
    }

    /// Keys pressed, read in the current state. `None` leaves them to the state's handler
    /// (yes/no questions read them through [`yes_no`]) or to a misunderstanding.
    pub(super) async fn on_keys(
        &self,
        s: &mut Session,
        digits: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let keys = keys_of(digits);
        if keys.is_empty() {
            return Ok(None);
        }
        let v = s.v();
        match s.state {
            CallState::Greeting | CallState::Intent => {
                if s.ctx.languages.len() > 1 {
                    let chosen = s
                        .ctx
                        .languages
                        .iter()
                        .copied()
                        .find(|l| language_key(*l).to_string() == keys);
                    if let Some(l) = chosen {
                        s.ctx.locale = l;
                        return Ok(Some(self.greeting(s)));
                    }
                }
                let first = first_intent_key(&s.ctx);
                let intent = match keys.parse::<u8>().ok().and_then(|k| k.checked_sub(first)) {
                    Some(0) => Intent::Book,
                    Some(1) => Intent::Reschedule,
                    Some(2) => Intent::Cancel,
                    Some(3) => Intent::Lookup,
                    _ => return Ok(None),
                };
                self.begin(s, Some(intent), "").await
            }
            CallState::Service => {
                let Some(i) = choice_from_keys(keys, s.services.len()) else {
                    return Ok(None);
                };
                s.ctx.service_id = Some(s.services[i].id);
                s.ctx.service_name = Some(s.services[i].name.clone());
                Ok(Some(self.book_from(s, "").await?))
            }
            CallState::Date => {
                let today = self
                    .booking
                    .clock()
                    .now()
                    .with_timezone(&s.tz())
                    .date_naive();
                let Some(date) = date_from_keys(keys, today) else {
                    return Ok(None);
                };
                s.ctx.time_pref = None;
                Ok(Some(self.search(s, date).await?))
            }
            CallState::Slots => {
                if keys == "0" {
                    let q = (v.which_day)(s.ctx.service_name.as_deref().unwrap_or_default());
                    return Ok(Some(self.ask(s, CallState::Date, q)));
                }
                if let Some(i) = choice_from_keys(keys, s.ctx.offered.len()) {
                    return self.hold_offered(s, i).await;
                }
                let (Some(t), Some(date)) = (time_from_keys(keys), s.ctx.date) else {
                    return Ok(None);
                };
                s.ctx.time_pref = Some(TimeSpec::At(t));
                let tz = s.tz();
                let r = self.search(s, date).await?;
                if s.state == CallState::Slots {
                    if let Some(i) = s
                        .ctx
                        .offered
                        .iter()
                        .position(|st| st.with_timezone(&tz).time() == t)
                    {
                        return self.hold_offered(s, i).await;
                    }
                }
                Ok(Some(match r {
                    Reply::Ask(q) => Reply::Ask((v.exact_time_not_open)(&q)),
                    other => other,
                }))
            }
            CallState::Name | CallState::Email | CallState::Reference | CallState::VerifyEmail
                if keys == KEYPAD_ONLY_KEY =>
            {
                if s.ctx.flow.is_none() {
                    s.ctx.flow = Some(Flow::Lookup);
                }
                self.start_identity(s).await
            }
            CallState::BookingFound => match keys {
                "1" => {
                    s.ctx.flow = Some(Flow::Reschedule);
                    Ok(Some(self.ask(s, CallState::Date, v.move_to_which_day)))
                }
                "2" => {
                    s.ctx.flow = Some(Flow::Cancel);
                    Ok(Some(self.ask(
                        s,
                        CallState::CancelConfirm,
                        v.sure_to_cancel,
                    )))
                }
                "3" => Ok(Some(self.end(s, v.thanks_goodbye))),
                _ => Ok(None),
            },
            CallState::VerifyCode => self.on_code(s, keys).await,
            CallState::ChooseBooking => self.on_choose_booking(s, keys).await,
            _ => Ok(None),
        }
    }

    /// The keypad-only path starts: a code is texted to the caller ID (or, verified
    /// already, the path goes on).
    async fn start_identity(&self, s: &mut Session) -> Result<Option<Reply>, VoiceError> {
        if s.ctx.phone_verified {
            return self.after_verified(s).await.map(Some);
        }
        let v = s.v();
        let Some(caller) = s.caller.clone() else {
            return Ok(Some(Reply::Ask((v.code_not_sent)(&s.ctx.prompt))));
        };
        self.send_code(s, &caller, v.code_sent).await
    }

    /// Mints a code, stores its MAC and texts it (through the SMS gate: opt-out ledger and
    /// rate limit), then asks for it with `said`.
    async fn send_code(
        &self,
        s: &mut Session,
        caller: &PhoneE164,
        said: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        let pool = self.booking.pool();
        if phone_codes::count_for_call(pool, &s.call_sid).await? >= CODES_PER_CALL {
            return Ok(Some(self.end(s, v.code_failed)));
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let now = self.booking.clock().now();
        let mac = self.handoff.phone_code_mac(&s.call_sid, &code);
        phone_codes::insert(
            pool,
            &phone_codes::NewCode {
                id: Uuid::new_v4(),
                tenant_id: s.tenant.0,
                call_sid: &s.call_sid,
                phone: caller.as_str(),
                code_hash: &mac,
                max_attempts: CODE_MAX_ATTEMPTS,
                created_at: now,
                expires_at: now + Duration::minutes(CODE_TTL_MINUTES),
            },
        )
        .await?;
        let text = (v.code_sms)(&s.sched.tenant.name, &code, CODE_TTL_MINUTES);
        match self
            .handoff
            .sms()
            .send(s.tenant, Some(&s.our_number), caller, &text)
            .await
        {
            Ok(_) => Ok(Some(self.ask(s, CallState::VerifyCode, said))),
            Err(SmsError::Database(e)) => Err(VoiceError::Database(e)),
            Err(e) => {
                tracing::info!(error = %e, "phone code not sent");
                let back = if s.state == CallState::VerifyCode {
                    CallState::Intent
                } else {
                    s.state
                };
                let again = s.ctx.prompt.clone();
                s.state = back;
                Ok(Some(Reply::Ask((v.code_not_sent)(&again))))
            }
        }
    }

    /// A code keyed (or said) back.
    pub(super) async fn on_code(
        &self,
        s: &mut Session,
        entry: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let v = s.v();
        let code: String = match s.digits.as_deref() {
            Some(d) => keys_of(d).to_string(),
            None => entry.chars().filter(char::is_ascii_digit).collect(),
        };
        if code.len() != CODE_DIGITS {
            return Ok(None);
        }
        let Some(caller) = s.caller.clone() else {
            return Ok(Some(self.end(s, v.code_failed)));
        };
        let pool = self.booking.pool();
        let now = self.booking.clock().now();
        let mut tx = pool.begin().await?;
        let Some(row) = phone_codes::latest_for_call(&mut *tx, &s.call_sid).await? else {
            drop(tx);
            return self.start_identity(s).await;
        };
        if row.verified_at.is_some() || row.phone != caller.as_str() {
            drop(tx);
            return Ok(Some(self.end(s, v.code_failed)));
        }
        if row.attempts >= row.max_attempts {
            drop(tx);
            return Ok(Some(self.end(s, v.code_failed)));
        }
        if now >= row.expires_at {
            drop(tx);
            return self.send_code(s, &caller, v.code_expired_resent).await;
        }
        let tries = phone_codes::record_attempt(&mut *tx, row.id).await?;
        if self
            .handoff
            .phone_code_matches(&s.call_sid, &code, &row.code_hash)
            && phone_codes::mark_verified(&mut *tx, row.id, now).await?
        {
            tx.commit().await?;
            s.ctx.phone_verified = true;
            return self.after_verified(s).await.map(Some);
        }
        tx.commit().await?;
        if tries >= row.max_attempts {
            tracing::info!("phone code tries used up");
            return Ok(Some(self.end(s, v.code_failed)));
        }
        Ok(Some(self.ask(s, CallState::VerifyCode, v.code_wrong)))
    }

    /// The phone is verified: the booking is read back (with the name and email on file),
    /// or the caller's upcoming bookings are listed.
    async fn after_verified(&self, s: &mut Session) -> Result<Reply, VoiceError> {
        let v = s.v();
        let Some(caller) = s.caller.clone() else {
            return Ok(self.end(s, v.code_failed));
        };
        let pool = self.booking.pool();
        if s.ctx.flow == Some(Flow::Book) {
            let (Some(_), Some(start)) = (s.ctx.hold_id, s.ctx.hold_start) else {
                return Ok(self.ask(s, CallState::Date, v.pick_again));
            };
            let Some((name, email)) =
                bookings::last_client_by_phone(pool, s.tenant.0, caller.as_str()).await?
            else {
                return self.email_link(s, &caller).await;
            };
            // The phone on a booking is whatever its client gave: the email is read back,
            // masked, so a caller whose number someone else booked with can say no.
            let hint = masked_email(s.locale(), &email);
            s.ctx.name = Some(name);
            s.ctx.email = Some(email);
            let when = speak_day_time(s.locale(), s.tz(), start);
            let q = (v.verified_confirm)(
                s.ctx.service_name.as_deref().unwrap_or_default(),
                &when,
                &hint,
            );
            return Ok(self.ask(s, CallState::Confirm, q));
        }
        let now = self.booking.clock().now();
        let rows =
            bookings::upcoming_by_phone(pool, s.tenant.0, caller.as_str(), now, MAX_LISTED).await?;
        if rows.is_empty() {
            return Ok(self.ask(s, CallState::Completed, v.no_phone_bookings));
        }
        let items: Vec<String> = rows
            .iter()
            .map(|a| {
                let service = s
                    .services
                    .iter()
                    .find(|x| x.id == a.service_id)
                    .map(|x| x.name.as_str())
                    .unwrap_or(v.appointment);
                (v.your_booking)(service, &speak_day_time(s.locale(), s.tz(), a.start_at))
            })
            .collect();
        s.ctx.listed = rows.into_iter().map(|a| a.reference).collect();
        let q = (v.phone_bookings)(&(v.press_for)(&items));
        Ok(self.ask(s, CallState::ChooseBooking, q))
    }

    /// No email on file for a verified caller: a link to the web chat is texted, carrying
    /// the service, the day and the time the call holds; the chat takes the hold over and
    /// books it once the client gave a name and an email there.
    async fn email_link(&self, s: &mut Session, caller: &PhoneE164) -> Result<Reply, VoiceError> {
        let v = s.v();
        let context = HandoffContext {
            hold_id: s.ctx.hold_id,
            channel: "voice".into(),
            intent: Some(v.intent_book.to_string()),
            service_id: s.ctx.service_id,
            service_name: s.ctx.service_name.clone(),
            date: s.ctx.date,
            locale: Some(s.locale()),
            ..HandoffContext::default()
        };
        let minutes = self.handoff.ttl_minutes();
        let message = (v.email_link_sms)(&s.sched.tenant.name, minutes);
        self.text_link(s, caller, &context, &message, (v.email_link_sent)(minutes))
            .await
    }

    /// A verified caller picks one of their listed bookings.
    pub(super) async fn on_choose_booking(
        &self,
        s: &mut Session,
        text: &str,
    ) -> Result<Option<Reply>, VoiceError> {
        let n = s.ctx.listed.len();
        let pick = match s.digits.as_deref() {
            Some(d) => choice_from_keys(keys_of(d), n),
            None => nlu::parse_choice(text, n),
        };
        let (Some(i), Some(caller)) = (pick, s.caller.clone()) else {
            return Ok(None);
        };
        let Some(appt) = bookings::appointment_by_reference(
            self.booking.pool(),
            s.tenant.0,
            &s.ctx.listed[i],
            false,
        )
        .await?
        .filter(|a| a.client_phone.as_deref() == Some(caller.as_str())) else {
            return Ok(None);
        };
        Ok(Some(self.found(s, &appt)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_dates_and_times() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
        assert_eq!(
            date_from_keys("0315", today),
            NaiveDate::from_ymd_opt(2026, 3, 15)
        );
        assert_eq!(
            date_from_keys("0301", today),
            NaiveDate::from_ymd_opt(2027, 3, 1)
        );
        assert_eq!(date_from_keys("1345", today), None);
        assert_eq!(date_from_keys("315", today), None);
        assert_eq!(time_from_keys("1430"), NaiveTime::from_hms_opt(14, 30, 0));
        assert_eq!(time_from_keys("2460"), None);
        assert_eq!(choice_from_keys("2", 3), Some(1));
        assert_eq!(choice_from_keys("4", 3), None);
        assert_eq!(choice_from_keys("0", 3), None);
    }

    #[test]
    fn languages_named_and_keyed() {
        assert_eq!(language_named("Español"), Some(Locale::Es));
        assert_eq!(language_named("in English please"), Some(Locale::En));
        assert_eq!(language_named("I want to book"), None);
        assert_eq!(language_key(Locale::En), 1);
        assert_eq!(language_key(Locale::Es), 2);
    }

    #[test]
    fn codes_never_reach_the_transcript() {
        assert_eq!(
            transcript_line(Some(""), Some("123456"), CallState::VerifyCode).as_deref(),
            Some("[keys] ******")
        );
        assert_eq!(
            transcript_line(Some(""), Some("0315"), CallState::Date).as_deref(),
            Some("[keys] 0315")
        );
        assert_eq!(
            transcript_line(Some("hi"), None, CallState::Intent).as_deref(),
            Some("hi")
        );
    }
}
