//! Every word a client reads or hears, in one table per locale: voice prompts, chat replies,
//! SMS texts, email subjects and bodies.
//!
//! [`Text`] is the shape of a table: fixed sentences are `&'static str`, sentences that carry
//! values are functions with typed parameters (`fn(tenant: &str) -> String`). A locale is a
//! file with one `const` of that type ([`en::TEXT`]); adding one is a new file and a new
//! [`Locale`] variant, and the compiler names every sentence it still lacks.
//!
//! Services take their words from [`current`] (or [`Locale::text`]); they compose values
//! (names, times, reference codes) but write no sentence themselves. This module imports
//! nothing above `domain`.

pub mod en;
pub mod es;
mod html;

pub use html::escape_html;

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

pub use crate::domain::Locale;

static EN: Text = en::TEXT;
static ES: Text = es::TEXT;

impl Locale {
    /// The table of this locale.
    pub fn text(self) -> &'static Text {
        match self {
            Locale::En => &EN,
            Locale::Es => &ES,
        }
    }

    /// `date` in the chrono `format`, with day and month names in this locale.
    pub fn date(self, date: NaiveDate, format: &str) -> String {
        let f = localize(
            self,
            format,
            Some(date.weekday()),
            Some(date.month0()),
            None,
        );
        date.format(&f).to_string()
    }

    /// `time` in the chrono `format`, with the AM/PM marker in this locale.
    pub fn time(self, time: NaiveTime, format: &str) -> String {
        let f = localize(self, format, None, None, Some(time.hour() >= 12));
        time.format(&f).to_string()
    }

    /// `at` (already in the zone it is read in) in the chrono `format`, with day and month
    /// names and the AM/PM marker in this locale.
    pub fn at<Z: TimeZone>(self, at: &DateTime<Z>, format: &str) -> String
    where
        Z::Offset: std::fmt::Display,
    {
        let f = localize(
            self,
            format,
            Some(at.weekday()),
            Some(at.month0()),
            Some(at.hour() >= 12),
        );
        at.format(&f).to_string()
    }

    /// A local date and time in the chrono `format`, words in this locale.
    pub fn naive(self, at: NaiveDateTime, format: &str) -> String {
        let f = localize(
            self,
            format,
            Some(at.weekday()),
            Some(at.month0()),
            Some(at.hour() >= 12),
        );
        at.format(&f).to_string()
    }
}

/// The table of the default locale (English), for words with no client to speak to.
pub fn current() -> &'static Text {
    Locale::default().text()
}

const ES_DAYS: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];
const ES_DAYS_SHORT: [&str; 7] = ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"];
const ES_MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];
const ES_MONTHS_SHORT: [&str; 12] = [
    "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
];

/// `format` with its name specifiers (`%A %a %B %b %p %P`) replaced by the locale's words
/// for the value formatted; English keeps chrono's own.
fn localize<'f>(
    locale: Locale,
    format: &'f str,
    weekday: Option<chrono::Weekday>,
    month0: Option<u32>,
    pm: Option<bool>,
) -> std::borrow::Cow<'f, str> {
    if locale == Locale::En {
        return format.into();
    }
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let day = weekday.map(|w| w.num_days_from_monday() as usize);
        let month = month0.map(|m| m as usize);
        let word = match (spec, locale) {
            ('A', Locale::Es) => day.map(|d| ES_DAYS[d]),
            ('a', Locale::Es) => day.map(|d| ES_DAYS_SHORT[d]),
            ('B', Locale::Es) => month.map(|m| ES_MONTHS[m]),
            ('b', Locale::Es) => month.map(|m| ES_MONTHS_SHORT[m]),
            ('p' | 'P', Locale::Es) => pm.map(|pm| if pm { "p. m." } else { "a. m." }),
            _ => None,
        };
        match word {
            Some(w) => out.push_str(w),
            None => {
                out.push('%');
                out.push(spec);
            }
        }
    }
    out.into()
}

/// One locale's words, by channel.
pub struct Text {
    pub voice: Voice,
    pub speech: Speech,
    pub chat: Chat,
    pub sms: Sms,
    pub mail: Mail,
    pub client_time: ClientTime,
    pub handoff: Handoff,
}

/// How values are read out on a call.
pub struct Speech {
    /// `chrono` format of a day: "Tuesday, March 3".
    pub day_format: &'static str,
    /// `chrono` format of a time: "10:30 AM".
    pub time_format: &'static str,
    /// `chrono` format of a day and time: "Tuesday, March 3 at 10:30 AM".
    pub day_time_format: &'static str,
    /// What "." in an email address is said as (with its spaces).
    pub email_dot: &'static str,
    /// What "@" in an email address is said as (with its spaces).
    pub email_at: &'static str,
    /// Names to choose from (at least two): "a, b, or c".
    pub choices: fn(names: &[String]) -> String,
    /// Two or three times (already spoken): "9:00 AM or 9:30 AM", "9:00 AM, 9:30 AM, or 10:00 AM".
    pub times: fn(times: &[String]) -> String,
}

/// What is said on a phone call.
pub struct Voice {
    pub not_set_up: &'static str,
    pub lines_busy: &'static str,
    pub how_can_i_help: &'static str,
    pub lost_track: &'static str,
    pub one_moment: &'static str,
    pub call_ended: &'static str,
    pub say_again: &'static str,
    pub greeting: fn(tenant: &str) -> String,
    pub time_limit_offer: &'static str,
    pub goodbye: &'static str,
    pub trouble_offer: &'static str,
    pub heard_nothing: &'static str,
    pub didnt_catch: &'static str,
    /// A question asked again after a misunderstanding: `lead` then the question.
    pub again: fn(lead: &str, question: &str) -> String,
    pub declined_final_offer: &'static str,
    pub keep_going: fn(question: &str) -> String,
    pub couldnt_help: &'static str,
    pub yes_or_no_for_text: &'static str,
    /// What the caller wanted, as handed to the web chat.
    pub intent_book: &'static str,
    pub intent_reschedule: &'static str,
    pub intent_cancel: &'static str,
    pub intent_lookup: &'static str,
    pub cannot_text_number: &'static str,
    /// The SMS that carries the handoff link (the link follows it).
    /// `minutes`: how long the link works (`HANDOFF_TTL_MINUTES`).
    pub handoff_sms: fn(tenant: &str, minutes: i64) -> String,
    pub handoff_sent: fn(minutes: i64) -> String,
    pub handoff_opted_out: &'static str,
    pub handoff_rate_limited: &'static str,
    pub handoff_failed: &'static str,
    pub ask_booking_email: &'static str,
    pub ask_reference_spelled: &'static str,
    pub help: &'static str,
    pub thanks_goodbye: &'static str,
    pub which_service: fn(choices: &str) -> String,
    pub which_day: fn(service: &str) -> String,
    pub day_passed: &'static str,
    pub beyond_lookahead: fn(max_days_ahead: i32) -> String,
    pub no_openings: fn(day: &str) -> String,
    pub offer_times: fn(day: &str, times: &str) -> String,
    pub exact_time_not_open: fn(question: &str) -> String,
    pub holding_to_move: fn(when: &str) -> String,
    pub holding_ask_name: fn(when: &str) -> String,
    pub just_taken: fn(question: &str) -> String,
    /// The time asked for falls in a closure or a staff member's time off.
    pub closed_then: fn(question: &str) -> String,
    /// The day asked for has its most bookings (the service's or staff member's cap).
    pub day_full: fn(question: &str) -> String,
    pub ask_email: fn(name: &str) -> String,
    pub confirm: fn(service: &str, when: &str, name: &str, email: &str) -> String,
    pub nothing_booked: &'static str,
    pub pick_again: &'static str,
    pub name_again: &'static str,
    /// Booking notes of a phone booking (read by staff).
    pub booked_by_phone: &'static str,
    pub booked: fn(service: &str, when: &str, reference: &str) -> String,
    pub no_longer_available: fn(question: &str) -> String,
    pub what_else: &'static str,
    pub great_day_goodbye: &'static str,
    pub reference_thanks: fn(reference: &str) -> String,
    pub ask_reference: &'static str,
    pub booking_not_found: &'static str,
    /// A found booking: "your consultation on …".
    pub your_booking: fn(service: &str, when: &str) -> String,
    /// The service name when the booking's service is unknown.
    pub appointment: &'static str,
    pub found_cancelled: fn(booking: &str) -> String,
    pub found_to_cancel: fn(booking: &str) -> String,
    pub found_to_reschedule: fn(booking: &str) -> String,
    pub found: fn(booking: &str) -> String,
    pub move_to_which_day: &'static str,
    pub sure_to_cancel: &'static str,
    pub cancelled: &'static str,
    /// A cancel refused by the self-service cut-off; `why` is the refusal.
    pub change_cutoff: fn(why: &str) -> String,
    pub booking_gone: &'static str,
    pub left_as_is: &'static str,
    pub moved: fn(when: &str, reference: &str) -> String,
    pub no_longer_available_pick_day: &'static str,
    pub unchanged: &'static str,
    /// Said with the `<Dial>` that really transfers the call (never said without one).
    pub connecting: &'static str,
    /// The same after repeated misunderstandings.
    pub connecting_after_trouble: &'static str,
    /// The same when the call reached its time limit.
    pub connecting_time_limit: &'static str,
    /// After the person hung up on a transferred call.
    pub transfer_done: &'static str,
    /// Before the tone, when the transfer was not answered (or the limits were reached).
    pub voicemail_prompt: &'static str,
    /// Before the tone, when the caller asked for a person and the tenant has no number to
    /// transfer to.
    pub voicemail_no_transfer: &'static str,
    /// The caller said nothing after the tone.
    pub voicemail_nothing: &'static str,
    /// After the message was recorded.
    pub voicemail_saved: &'static str,
    /// Why the call reached a person or voicemail (staff texts and emails).
    pub why_asked: &'static str,
    pub why_misunderstood: &'static str,
    pub why_time_limit: &'static str,
    /// Who called, when caller ID gave no number.
    pub unknown_caller: &'static str,
    /// `chrono` format of the day a caller asked for, in the staff's summary.
    pub handover_date_format: &'static str,
    /// The call's summary texted to the staff number with a transfer.
    pub handover_sms: fn(call: &CallSummary<'_>) -> String,
    /// A new voicemail: the email to the tenant's admin address.
    pub voicemail_email_subject: fn(tenant: &str, caller: &str) -> String,
    pub voicemail_email_body: fn(message: &VoicemailNotice<'_>) -> String,
    /// A new voicemail: the text to the staff number.
    pub voicemail_sms: fn(tenant: &str, caller: &str, recording_url: &str) -> String,
    /// Said in a call of another language: how to switch to this table's language, `key`
    /// being the key that chooses it ("Para español, oprima 2 o diga español.").
    pub language_offer: fn(key: u8) -> String,
    /// The keys of the first question: book, reschedule, cancel, look up, from `first` on.
    pub intent_keys: fn(first: u8) -> String,
    /// Choices with their keys, from 1: "Press 1 for a, 2 for b, or 3 for c."
    pub press_for: fn(items: &[String]) -> String,
    /// How to key a date (month and day, four digits).
    pub date_keys: &'static str,
    /// How to key another time (four digits, 24-hour) or go back to the day.
    pub time_keys: &'static str,
    pub yes_no_keys: &'static str,
    /// The keys after a booking was found: reschedule, cancel, that's all.
    pub found_keys: &'static str,
    /// The way in to the keypad-only path where a name is asked.
    pub name_or_keypad: &'static str,
    /// The way in to the keypad-only path where a reference code is asked.
    pub reference_or_keypad: &'static str,
    /// The SMS with a one-time phone code; `minutes`: how long it works.
    pub code_sms: fn(tenant: &str, code: &str, minutes: i64) -> String,
    pub code_sent: &'static str,
    pub code_wrong: &'static str,
    pub code_expired_resent: &'static str,
    /// Too many wrong codes: the call ends.
    pub code_failed: &'static str,
    /// No code could be texted (no caller ID, opted out, too many texts): `question` again.
    pub code_not_sent: fn(question: &str) -> String,
    /// A verified caller with an earlier booking: the booking read back before it is made.
    /// `email`: the email on file, said masked ("j, at example dot com") so the caller can
    /// tell it is theirs before saying yes.
    pub verified_confirm: fn(service: &str, when: &str, email: &str) -> String,
    /// The SMS with the link where a verified caller without an email on file adds one.
    pub email_link_sms: fn(tenant: &str, minutes: i64) -> String,
    pub email_link_sent: fn(minutes: i64) -> String,
    /// A verified caller's upcoming bookings, `choices` read with their keys.
    pub phone_bookings: fn(choices: &str) -> String,
    pub no_phone_bookings: &'static str,
}

/// Replies of the web chat (the deterministic engine and the agent's canned answers).
pub struct Chat {
    /// What the assistant can do, then "What would you like to do?".
    pub start_question: &'static str,
    /// A message not understood: `question` is asked again.
    pub didnt_catch: fn(question: &str) -> String,
    pub help: &'static str,
    pub already_texting: &'static str,
    pub goodbye: &'static str,
    pub vague_request: &'static str,
    /// `chrono` format of a slot in chat replies and slot buttons: "Tue, Dec 15 at 10:30 AM".
    pub slot_label_format: &'static str,
    /// What precedes the time in `slot_label_format` (a list of one day shows only the time).
    pub slot_label_time_after: &'static str,
    /// When background work (a follow-up, a waitlist notice) happens: range language, never
    /// an exact time.
    pub followup_sla: &'static str,
    /// One entry of a numbered list: "2. 9:30 AM".
    pub numbered: fn(number: usize, item: &str) -> String,
    /// One service of the list offered: "1. Consultation (30 min)".
    pub service_option: fn(number: usize, name: &str, minutes: i32) -> String,
    pub which_service: fn(options: &[String]) -> String,
    pub ask_date: &'static str,
    pub confirm_far_date: fn(date: NaiveDate) -> String,
    pub which_date: &'static str,
    pub which_time: fn(options: &[String]) -> String,
    pub ask_name: &'static str,
    pub ask_email: &'static str,
    pub confirm_booking: fn(service: &str, when: &str, name: &str, email: &str) -> String,
    /// The service name when the held service is unknown.
    pub your_appointment: &'static str,
    pub shall_i_book: &'static str,
    pub ask_reference: &'static str,
    pub ask_lookup_email: &'static str,
    /// Asked before a cancel or reschedule: the booking's email, typed for this change.
    pub ask_change_email: &'static str,
    pub sure_to_cancel: &'static str,
    pub confirm_move: fn(when: &str) -> String,
    pub which_new_time: &'static str,
    pub offer_waitlist: &'static str,
    pub ask_waitlist_email: &'static str,
    pub no_problem: fn(question: &str) -> String,
    pub date_passed: fn(question: &str) -> String,
    pub beyond_lookahead: fn(max_days_ahead: i32, until: NaiveDate, question: &str) -> String,
    pub no_openings_waitlist: fn(service: &str, from: NaiveDate, to: NaiveDate) -> String,
    /// Open times on `day`; `nothing_on` is the date asked for when it had none.
    pub offer_times: fn(
        nothing_on: Option<NaiveDate>,
        service: &str,
        day: Option<NaiveDate>,
        options: &[String],
    ) -> String,
    pub not_an_open_time: fn(time: NaiveTime, question: &str) -> String,
    pub holding: fn(when: &str, question: &str) -> String,
    pub just_taken: fn(offer: &str) -> String,
    /// The time asked for falls in a closure or a staff member's time off.
    pub closed_then: fn(offer: &str) -> String,
    /// The day asked for has its most bookings (the service's or staff member's cap).
    pub day_full: fn(offer: &str) -> String,
    pub nothing_booked: &'static str,
    pub hold_inactive: fn(question: &str) -> String,
    pub booked: fn(service: &str, when: &str, reference: &str) -> String,
    pub hold_expired: fn(offer: &str) -> String,
    pub booked_by_someone_else: fn(offer: &str) -> String,
    pub shows_cancelled: fn(reference: &str, service: &str, when: &str) -> String,
    pub found_to_cancel: fn(service: &str, when: &str, reference: &str) -> String,
    pub found_to_reschedule: fn(service: &str, when: &str, reference: &str) -> String,
    pub found: fn(service: &str, when: &str, reference: &str, status: &str) -> String,
    pub booking_not_found: &'static str,
    pub left_as_is: &'static str,
    pub cancelled: fn(reference: &str, when: &str) -> String,
    pub nothing_changed: fn(question: &str) -> String,
    pub rescheduled: fn(when: &str, reference: &str) -> String,
    pub okay: fn(question: &str) -> String,
    /// The service of a waitlist entry when none was chosen.
    pub an_appointment: &'static str,
    /// Where the waitlist news goes when no address is known.
    pub your_email: &'static str,
    pub on_waitlist: fn(service: &str, email: &str) -> String,
    /// The client left the waitlist: `n` entries were open (0: there were none).
    pub left_waitlist: fn(n: u64) -> String,
    pub tool_system_error: &'static str,
    pub too_far_ahead: fn(question: &str) -> String,
    pub already_cancelled: &'static str,
    /// A change refused by the self-service cut-off; `why` is the refusal.
    pub change_cutoff: fn(why: &str) -> String,
    pub didnt_work: fn(error: &str, question: &str) -> String,
    /// The first chat message after a handoff from a call: `handoff_welcome`, the details
    /// carried over in parentheses, then `handoff_welcome_end`.
    pub handoff_welcome: &'static str,
    pub handoff_welcome_end: &'static str,
    /// `chrono` format of the day carried over: "Tuesday, March 3".
    pub handoff_day_format: &'static str,
    /// The agent's answer when the language model failed.
    pub system_issue: &'static str,
    /// The agent's answer instead of a claim no tool backs.
    pub unbacked_claim: &'static str,
    /// The agent's answer instead of a promised phone call.
    pub no_calls: &'static str,
    /// The model returned no text.
    pub say_another_way: &'static str,
    /// Status chip while a tool runs.
    pub status_checking: &'static str,
    pub status_holding: &'static str,
    pub status_confirming: &'static str,
    pub status_followup: &'static str,
    pub status_working: &'static str,
    /// A note taken for the booking under way, then the current question.
    pub note_saved: fn(note: &str, question: &str) -> String,
    /// A note taken with no booking under way: it goes with the next booking of this chat.
    pub note_kept: fn(note: &str) -> String,
    /// The note in the summary before confirming.
    pub note_line: fn(note: &str) -> String,
    /// The tenant's services, one line each from `service_line`, then `follow`.
    pub services_list: fn(lines: &[String], follow: &str) -> String,
    /// One service: its name, minutes and description (may be empty).
    pub service_line: fn(name: &str, minutes: i32, description: &str) -> String,
    /// Prices are not in the system.
    pub no_prices: &'static str,
    /// What to book, after the list.
    pub which_to_book: &'static str,
    /// Nothing open: a message from the team instead, by email or text.
    pub offer_followup: &'static str,
    /// The client asked for a call: we cannot call, a message instead?
    pub followup_instead_of_call: &'static str,
    pub ask_followup_email: &'static str,
    /// A follow-up was scheduled to `channel` ("email" / "text message"), expected `when`.
    pub followup_scheduled: fn(channel: &str, when: &str) -> String,
    pub channel_email: &'static str,
    pub channel_sms: &'static str,
    /// One is scheduled already: another?
    pub followup_another: &'static str,
    pub followup_on_its_way: &'static str,
    pub followup_limit: &'static str,
    pub followup_day_full: &'static str,
    pub followup_declined: &'static str,
}

/// SMS texts: answers to a client's texts, and notifications sent by text. Each starts with
/// the tenant's name.
pub struct Sms {
    /// `chrono` format of an appointment's time in a text: "Tue, Mar 3 at 10:30 AM".
    pub when_format: &'static str,
    pub opted_in: fn(tenant: &str) -> String,
    pub help: fn(tenant: &str) -> String,
    /// A text that is no keyword, from a number with no upcoming booking.
    pub unknown_sender: fn(tenant: &str) -> String,
    pub no_booking: fn(tenant: &str) -> String,
    /// The service name when the booking's service is unknown.
    pub appointment: &'static str,
    /// The booking a reply is about: "Consultation on Tue, Mar 3 at 10:30 AM".
    pub booking: fn(service: &str, when: &str) -> String,
    pub attendance_confirmed: fn(tenant: &str, booking: &str, reference: &str) -> String,
    pub cancel_failed: fn(tenant: &str) -> String,
    /// A cancel refused by the self-service cut-off; `why` is the refusal.
    pub change_cutoff: fn(tenant: &str, why: &str) -> String,
    pub cancelled: fn(tenant: &str, booking: &str) -> String,
    pub not_found: fn(tenant: &str) -> String,
    pub confirm_cancel: fn(tenant: &str, minutes: i64, booking: &str, reference: &str) -> String,
    pub unrecognised: fn(tenant: &str, booking: &str) -> String,
    /// What the client wanted, as handed to the web chat.
    pub intent_reschedule: &'static str,
    pub reschedule_link: fn(tenant: &str, service: &str, minutes: i64, link: &str) -> String,
    pub link_failed: fn(tenant: &str) -> String,
    /// The end of a notification text, with the booking's reference when there is one.
    pub opt_out_tail: fn(reference: Option<&str>) -> String,
    /// A notification text without its own wording: the email subject.
    pub from_subject: fn(subject: &str) -> String,
    pub hold_released: fn(tenant: &str, when: &str) -> String,
    /// A booking now falls in a closure or time off; `offer` is [`Mail::new_times`] or empty.
    pub schedule_change: fn(tenant: &str, booking: &str, offer: &str) -> String,
    pub waitlist_match: fn(tenant: &str, service: &str, when: &str) -> String,
    /// `about` is empty or " about <reason>".
    pub contact_followup: fn(tenant: &str, about: &str) -> String,
    /// The no-show policy asks the client to reply C by `deadline`.
    pub confirm_needed: fn(tenant: &str, service: &str, when: &str, deadline: &str) -> String,
    /// After a no-show: `options` lists open times ("" when none were found).
    pub no_show_followup: fn(tenant: &str, service: &str, options: &str) -> String,
    /// A waitlist offer: the time is held for `minutes`; BOOK takes it, LEAVE leaves.
    pub waitlist_offer: fn(tenant: &str, service: &str, when: &str, minutes: i64) -> String,
    /// BOOK took the offered time.
    pub waitlist_booked: fn(tenant: &str, booking: &str, reference: &str) -> String,
    /// BOOK with no open offer for this number.
    pub waitlist_no_offer: fn(tenant: &str) -> String,
    /// BOOK after the offer ran out or was taken.
    pub waitlist_offer_gone: fn(tenant: &str) -> String,
    /// LEAVE: `n` entries left the waitlist (0: there were none).
    pub waitlist_left: fn(tenant: &str, n: usize) -> String,
    /// A reminder: what, when, how to reply (C, R, X) and the tenant's booking link.
    pub reminder: fn(tenant: &str, service: &str, lead: &str, when: &str, link: &str) -> String,
    /// The tenant's booking link added to a text that asks the client to act.
    pub with_link: fn(text: &str, link: &str) -> String,
    /// The reply to an opt-out word the phone provider does not confirm itself.
    pub opted_out: fn(tenant: &str) -> String,
}

/// Email subjects and bodies, calendar entries, and the chat notices sent with them.
pub struct Mail {
    /// `chrono` format of an appointment's time: "Tuesday, March 3 at 10:30 AM EST".
    pub when_format: &'static str,
    /// `chrono` format of the end of an opening: "11:00 AM".
    pub time_format: &'static str,
    /// The sender's name when the tenant is unknown.
    pub default_sender: &'static str,
    /// The greeting's name when the client's is unknown.
    pub there: &'static str,
    /// The service name when the booking's service is unknown (calendar entries, invites).
    pub appointment: &'static str,
    /// The subject of a message queued without one.
    pub default_subject: fn(tenant: &str) -> String,
    /// The plain-text email: the body, then the tenant's name as signature.
    pub signed: fn(body: &str, tenant: &str) -> String,
    /// The line under the HTML email ("Sent by …"); `tenant` is already HTML-escaped.
    pub sent_by: fn(tenant: &str) -> String,
    /// The calendar entry of a booking in the tenant's calendar.
    pub calendar_summary: fn(service: &str, reference: &str) -> String,
    /// The .ics invite attached to a booking email.
    pub invite_summary: fn(service: &str, tenant: &str) -> String,
    pub invite_description: fn(service: &str, tenant: &str, reference: &str) -> String,
    /// The state a confirmation announces: a new booking or a moved one.
    pub confirmed: &'static str,
    pub rescheduled: &'static str,
    pub confirmation_subject: fn(service: &str, state: &str, when: &str, reference: &str) -> String,
    pub confirmation_body: fn(
        name: &str,
        service: &str,
        tenant: &str,
        state: &str,
        when: &str,
        reference: &str,
    ) -> String,
    pub cancellation_subject: fn(service: &str, when: &str, reference: &str) -> String,
    pub cancellation_body:
        fn(name: &str, service: &str, tenant: &str, when: &str, reference: &str) -> String,
    /// How far ahead a reminder is sent.
    pub lead_tomorrow: &'static str,
    pub lead_two_hours: &'static str,
    pub reminder_subject: fn(service: &str, lead: &str, when: &str) -> String,
    pub reminder_body: fn(
        name: &str,
        service: &str,
        tenant: &str,
        lead: &str,
        when: &str,
        reference: &str,
    ) -> String,
    /// Chat notice: a booking reached the calendar after retries.
    pub on_calendar: fn(reference: &str) -> String,
    pub escalation_subject: fn(service: &str, when: &str, reference: &str) -> String,
    pub escalation_body:
        fn(name: &str, service: &str, tenant: &str, when: &str, reference: &str) -> String,
    pub escalation_admin_subject: fn(reference: &str) -> String,
    pub escalation_admin_body:
        fn(reference: &str, service: &str, when: &str, attempts: i32) -> String,
    /// To the admin: a resource's calendar refused its credentials (revoked consent, a
    /// changed app password); its slots are withheld until it is connected again.
    pub calendar_revoked_subject: fn(resource: &str) -> String,
    pub calendar_revoked_body: fn(resource: &str, provider: &str, error: &str) -> String,
    /// To the admin: an event of ours was moved or deleted in the external calendar.
    pub calendar_drift_subject: fn(reference: &str) -> String,
    pub calendar_drift_body: fn(reference: &str, resource: &str, found: &str) -> String,
    pub hold_released_subject: fn(service: &str, when: &str) -> String,
    pub hold_released_body: fn(tenant: &str, service: &str, when: &str) -> String,
    /// A booking now falls in a closure or time off (the booking is kept).
    pub schedule_change_subject: fn(service: &str, when: &str) -> String,
    pub schedule_change_body: fn(
        name: &str,
        tenant: &str,
        service: &str,
        when: &str,
        reference: &str,
        offer: &str,
    ) -> String,
    /// The new times offered, "a, b, c", and where to book them (may be empty).
    pub new_times: fn(times: &str, link: &str) -> String,
    /// No free time was found to offer; `link` may be empty.
    pub no_new_times: fn(link: &str) -> String,
    /// Chat notice: a waitlisted time opened up.
    pub waitlist_notice: fn(service: &str, when: &str) -> String,
    pub waitlist_subject: fn(service: &str, when: &str) -> String,
    pub waitlist_body:
        fn(name: &str, tenant: &str, when: &str, service: &str, until: &str) -> String,
    /// What a follow-up is about: " about <reason>".
    pub about: fn(reason: &str) -> String,
    pub followup_subject: fn(tenant: &str) -> String,
    /// `about` is empty or " about <reason>".
    pub followup_body: fn(tenant: &str, about: &str) -> String,
    /// The no-show policy asks the client to confirm by `deadline`.
    pub confirm_needed_subject: fn(service: &str, when: &str) -> String,
    pub confirm_needed_body:
        fn(tenant: &str, service: &str, when: &str, deadline: &str, reference: &str) -> String,
    /// A booking released because the client did not confirm by the deadline.
    pub released_subject: fn(service: &str, when: &str, reference: &str) -> String,
    pub released_body:
        fn(name: &str, service: &str, tenant: &str, when: &str, reference: &str) -> String,
    /// After a no-show: `options` lists open times, one a line ("" when none were found).
    pub no_show_subject: fn(service: &str, tenant: &str) -> String,
    pub no_show_body:
        fn(name: &str, service: &str, tenant: &str, when: &str, options: &str) -> String,
    /// The page of a waitlist offer's link: the time held and a button that books it.
    pub offer_page_title: &'static str,
    pub offer_page_text: fn(tenant: &str, service: &str, when: &str, until: &str) -> String,
    pub offer_page_button: &'static str,
    pub offer_booked_title: &'static str,
    pub offer_booked_text: fn(tenant: &str, service: &str, when: &str, reference: &str) -> String,
    pub offer_gone_title: &'static str,
    /// The offer ran out (the time went to the next person).
    pub offer_expired_text: &'static str,
    /// The client left the waitlist, or the time was taken.
    pub offer_closed_text: &'static str,
    /// No offer has that link.
    pub offer_unknown_text: &'static str,
    /// A waitlist offer held for `minutes`, taken with `link` (or by replying BOOK by text).
    pub waitlist_offer_body:
        fn(name: &str, tenant: &str, when: &str, service: &str, minutes: i64, link: &str) -> String,
    /// The tenant's booking link, added to an email that asks the client to act.
    pub act_link: fn(link: &str) -> String,
    /// A reminder to a booking with a phone number: how to answer by text.
    pub reminder_reply: &'static str,
}

/// The client's own time beside the clinic's, for a client in another time zone.
pub struct ClientTime {
    /// `chrono` format of the client's time when it falls on the same date as the clinic's:
    /// "4:00 PM".
    pub time_format: &'static str,
    /// `chrono` format of the client's time on another date: "Wed, Mar 4 at 1:00 AM".
    pub day_time_format: &'static str,
    /// The clinic's time, then the client's: "Tue, Mar 3 at 10:00 AM (your time: 4:00 PM
    /// Europe/Madrid)".
    pub beside: fn(clinic: &str, client: &str, zone: &str) -> String,
    /// Said once on a call from a number of another country than the clinic's: the times
    /// said are the clinic's, in `place` ("New York").
    pub voice_clinic_time: fn(place: &str) -> String,
    /// Added to a calendar entry's description for a client in another zone: `when` is the
    /// clinic's time with the client's beside it.
    pub invite_when: fn(when: &str) -> String,
}

/// The page a one-time handoff link opens ("continue in chat" after a call or a text) and
/// the pages of a link that cannot be opened.
pub struct Handoff {
    /// The page's title.
    pub title: &'static str,
    /// The page's heading.
    pub heading: &'static str,
    /// The button that spends the link and opens the chat.
    pub button: &'static str,
    /// Under the button: links work once, within `minutes` of being sent.
    pub note: fn(minutes: i64) -> String,
    /// What the person was doing, followed by [`Handoff::by_text`] or [`Handoff::on_phone`]:
    /// booking an appointment.
    pub doing_book: &'static str,
    /// Rescheduling an appointment.
    pub doing_reschedule: &'static str,
    /// Cancelling an appointment.
    pub doing_cancel: &'static str,
    /// Looking up an appointment.
    pub doing_lookup: &'static str,
    /// No errand known.
    pub doing_talk: &'static str,
    /// Where the conversation started: a text message.
    pub by_text: &'static str,
    /// Where the conversation started: a call.
    pub on_phone: &'static str,
    /// The page's line: `doing` (an errand and where it started), then the `details` carried
    /// over (the service, the day) when there are any, then the invitation to continue.
    pub headline: fn(doing: &str, details: &[String]) -> String,
    /// The page's messages after the click: the link was already used.
    pub said_used: &'static str,
    /// The link has expired.
    pub said_expired: &'static str,
    /// The link could not be verified.
    pub said_invalid: &'static str,
    /// The link has no token.
    pub said_missing: &'static str,
    /// The browser keeps no site data; the link is still unused.
    pub said_storage: &'static str,
    /// The browser kept no site data after the link was spent.
    pub said_storage_after: &'static str,
    /// Anything else went wrong; the person may try again.
    pub said_other: &'static str,
    /// The page of a link without its token: title, then text.
    pub missing_title: &'static str,
    pub missing_text: &'static str,
    /// The page of a used or expired link: title, then text (links work for `minutes`).
    pub gone_title: &'static str,
    pub gone_text: fn(minutes: i64) -> String,
    /// The page of a link that does not verify: title, then text.
    pub invalid_title: &'static str,
    pub invalid_text: &'static str,
    /// The page when the link could not be checked: title, then text.
    pub failed_title: &'static str,
    pub failed_text: &'static str,
}

/// A stored zone name as a zone (`None` when absent or not an IANA name).
pub fn client_zone(name: Option<&str>) -> Option<Tz> {
    name.and_then(|n| n.trim().parse().ok())
}

/// Whether a client in `client` reads another wall clock than the clinic at `t` (the same
/// instant; the zones' offsets on that date differ).
pub fn client_time_differs(t: DateTime<Utc>, clinic: Tz, client: Option<Tz>) -> bool {
    client.is_some_and(|c| {
        t.with_timezone(&c).offset().fix() != t.with_timezone(&clinic).offset().fix()
    })
}

/// `clinic_text` (the time `t` as a message already words it, in the clinic's zone) with the
/// client's own time beside it when the client's zone reads another wall clock at `t`;
/// `clinic_text` unchanged otherwise. The one place every channel (chat, email, text, the
/// calendar entry) words a time for a client in another zone.
pub fn beside_client_time(
    locale: Locale,
    clinic_text: String,
    t: DateTime<Utc>,
    clinic: Tz,
    client: Option<Tz>,
) -> String {
    let Some(zone) = client.filter(|_| client_time_differs(t, clinic, client)) else {
        return clinic_text;
    };
    let words = &locale.text().client_time;
    let theirs = t.with_timezone(&zone);
    let format = if theirs.date_naive() == t.with_timezone(&clinic).date_naive() {
        words.time_format
    } else {
        words.day_time_format
    };
    (words.beside)(&clinic_text, &locale.at(&theirs, format), zone.name())
}

/// How a zone's place is said: `America/New_York` → "New York".
pub fn zone_place(zone: Tz) -> String {
    zone.name()
        .rsplit('/')
        .next()
        .unwrap_or(zone.name())
        .replace('_', " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::{America, Europe};

    fn at(t: DateTime<Utc>, client: Option<Tz>) -> String {
        let clinic = America::New_York;
        let words = t
            .with_timezone(&clinic)
            .format(current().chat.slot_label_format)
            .to_string();
        beside_client_time(Locale::En, words, t, clinic, client)
    }

    #[test]
    fn both_times_follow_each_zones_own_clock_changes() {
        let madrid = Some(Europe::Madrid);
        // Both on winter time: 6 hours apart.
        let t = Utc.with_ymd_and_hms(2026, 3, 4, 15, 0, 0).unwrap();
        assert_eq!(
            at(t, madrid),
            "Wed, Mar 4 at 10:00 AM (your time: 4:00 PM Europe/Madrid)"
        );
        // New York changed on 8 March, Madrid not until the 29th: 5 hours apart.
        let t = Utc.with_ymd_and_hms(2026, 3, 10, 14, 0, 0).unwrap();
        assert_eq!(
            at(t, madrid),
            "Tue, Mar 10 at 10:00 AM (your time: 3:00 PM Europe/Madrid)"
        );
        // Madrid changed back on 25 October, New York not until 1 November: 5 hours.
        let t = Utc.with_ymd_and_hms(2026, 10, 27, 14, 0, 0).unwrap();
        assert_eq!(
            at(t, madrid),
            "Tue, Oct 27 at 10:00 AM (your time: 3:00 PM Europe/Madrid)"
        );
    }

    #[test]
    fn another_date_is_named_and_the_same_clock_changes_nothing() {
        let t = Utc.with_ymd_and_hms(2026, 12, 8, 14, 0, 0).unwrap();
        assert_eq!(
            at(t, Some(chrono_tz::Pacific::Auckland)),
            "Tue, Dec 8 at 9:00 AM (your time: Wed, Dec 9 at 3:00 AM Pacific/Auckland)"
        );
        let plain = "Tue, Dec 8 at 9:00 AM";
        assert_eq!(at(t, None), plain);
        assert_eq!(at(t, Some(America::New_York)), plain);
        assert_eq!(at(t, Some(America::Toronto)), plain);
        assert!(!client_time_differs(
            t,
            America::New_York,
            Some(America::Toronto)
        ));
        assert_eq!(client_zone(Some("Mars/Olympus")), None);
        assert_eq!(zone_place(America::New_York), "New York");
    }

    #[test]
    fn spanish_names_days_months_and_the_half_of_the_day() {
        let t = Utc.with_ymd_and_hms(2026, 3, 3, 19, 30, 0).unwrap();
        let clinic = t.with_timezone(&America::New_York);
        assert_eq!(
            Locale::Es.at(&clinic, "%A %-d de %B, %-I:%M %p (%a %b) 100%%"),
            "martes 3 de marzo, 2:30 p. m. (mar mar) 100%"
        );
        assert_eq!(
            Locale::En.at(&clinic, "%A, %B %-d %-I:%M %p"),
            "Tuesday, March 3 2:30 PM"
        );
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(Locale::Es.date(sunday, "%a %-d %b"), "dom 29 nov");
        let morning = NaiveTime::from_hms_opt(9, 5, 0).unwrap();
        assert_eq!(Locale::Es.time(morning, "%-I:%M %p"), "9:05 a. m.");
    }
}

/// What the staff is texted about a call handed over to them.
#[derive(Debug, Clone, Copy)]
pub struct CallSummary<'a> {
    pub tenant: &'a str,
    /// Why the call was handed over, in words.
    pub why: &'a str,
    /// The caller's number, or words for an unknown one.
    pub caller: &'a str,
    pub wants: Option<&'a str>,
    pub service: Option<&'a str>,
    pub day: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// What the admin is told about a new voicemail.
#[derive(Debug, Clone, Copy)]
pub struct VoicemailNotice<'a> {
    pub tenant: &'a str,
    pub caller: &'a str,
    /// Why the caller reached voicemail, in words.
    pub why: &'a str,
    pub seconds: Option<i32>,
    pub recording_url: &'a str,
    pub transcription: Option<&'a str>,
}
