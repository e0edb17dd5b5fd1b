//! What a chat session remembers between messages (stored as JSON in `chat_sessions.state`)
//! and what one turn collects while it runs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::nlu::DayPeriod;

/// The hold this session has open (confirm_booking only accepts this one while it lives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveHold {
    pub hold_id: Uuid,
    pub service_id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    #[default]
    None,
    Book,
    Lookup,
    Cancel,
    Reschedule,
    Waitlist,
}

/// Where the deterministic engine is in its dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    #[default]
    Start,
    Service,
    Date,
    FarDateConfirm,
    PickSlot,
    Name,
    Email,
    ConfirmBooking,
    Reference,
    LookupEmail,
    ConfirmCancel,
    ConfirmReschedule,
    WaitlistOffer,
    WaitlistEmail,
    /// A follow-up by the team was offered (yes/no).
    FollowupOffer,
    /// The follow-up needs the client's email.
    FollowupEmail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferedSlot {
    pub start: DateTime<Utc>,
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dialog {
    pub flow: Flow,
    pub step: Step,
    pub service_id: Option<Uuid>,
    pub date: Option<NaiveDate>,
    pub period: Option<DayPeriod>,
    pub offered: Vec<OfferedSlot>,
    pub chosen_start: Option<DateTime<Utc>>,
    pub reference: Option<String>,
    /// The email the client typed for the cancel or reschedule under way (the one the
    /// session remembers is never enough to change a booking).
    #[serde(default)]
    pub change_email: Option<String>,
    /// Consecutive messages the engine did not understand.
    pub misses: u32,
    /// The channel of the follow-up offered: `email` or `sms`.
    #[serde(default)]
    pub followup_channel: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub client_name: Option<String>,
    pub client_email: Option<String>,
    pub client_phone: Option<String>,
    /// The client's own time zone when they gave one (IANA name).
    pub time_zone: Option<String>,
    pub active_hold: Option<ActiveHold>,
    /// Far-future dates the client confirmed in an earlier turn (hold_slot guard).
    pub confirmed_dates: Vec<NaiveDate>,
    /// A far-future date hold_slot refused, waiting for the client's confirmation.
    pub pending_date_confirmation: Option<NaiveDate>,
    /// schedule_contact_followup asked for an explicit yes to an additional follow-up.
    pub followup_confirmation_pending: bool,
    /// The client said yes to that question in a later turn.
    pub followup_additional_confirmed: bool,
    /// The deterministic engine's dialogue position.
    pub dialog: Dialog,
    /// The email typed in this turn's message (never stored).
    #[serde(skip)]
    pub turn_email: Option<String>,
    /// The client's message in this turn says yes (never stored).
    #[serde(skip)]
    pub turn_yes: bool,
    /// Emails the client typed in this conversation: a booking is confirmed, and one is
    /// looked up, only with one of them (never with an email the model came up with).
    #[serde(default)]
    pub typed_emails: Vec<String>,
    /// The client's message in this turn asks to cancel a booking, with no "no" in it (never
    /// stored).
    #[serde(skip)]
    pub turn_asks_cancel: bool,
    /// The same for a reschedule (never stored).
    #[serde(skip)]
    pub turn_asks_reschedule: bool,
    /// The client asked in this conversation to cancel a booking.
    #[serde(default)]
    pub asked_cancel: bool,
    /// The client asked in this conversation to reschedule a booking.
    #[serde(default)]
    pub asked_reschedule: bool,
    /// Messages left in which a typed email counts for a change of booking (set when a
    /// cancel or reschedule asked for the booking's email).
    #[serde(default)]
    pub change_email_turns: u32,
    /// Emails typed since a change of booking asked for one.
    #[serde(default)]
    pub change_emails: Vec<String>,
    /// A note the client gave for their booking (the deterministic engine stores it with
    /// the next booking confirmed in this session).
    #[serde(default)]
    pub booking_note: Option<String>,
    /// The language of this chat: chosen by the client, else read from their first message,
    /// else the tenant's default (set on the first turn).
    #[serde(default)]
    pub locale: Option<crate::domain::Locale>,
}
