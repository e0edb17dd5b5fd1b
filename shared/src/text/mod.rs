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

/// A language the service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
}

static EN: Text = en::TEXT;

impl Locale {
    /// The table of this locale.
    pub fn text(self) -> &'static Text {
        match self {
            Locale::En => &EN,
        }
    }
}

/// The table of the locale in use (English: tenants do not choose a language yet).
pub fn current() -> &'static Text {
    Locale::default().text()
}

/// One locale's words, by channel.
pub struct Text {
    pub voice: Voice,
    pub speech: Speech,
    pub chat: Chat,
    pub sms: Sms,
    pub mail: Mail,
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
    pub handoff_sms: fn(tenant: &str) -> String,
    pub handoff_sent: &'static str,
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
    pub booking_gone: &'static str,
    pub left_as_is: &'static str,
    pub moved: fn(when: &str, reference: &str) -> String,
    pub no_longer_available_pick_day: &'static str,
    pub unchanged: &'static str,
}

/// Replies of the web chat (the deterministic engine and the agent's canned answers).
pub struct Chat {
    pub capabilities: &'static str,
}

/// SMS texts.
pub struct Sms {
    pub opt_out_hint: &'static str,
}

/// Email subjects and bodies.
pub struct Mail {
    pub appointment: &'static str,
}
