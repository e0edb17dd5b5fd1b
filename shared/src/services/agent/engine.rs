//! The deterministic dialogue engine: the default when no `OPENAI_API_KEY` is set. A small
//! state machine over [`crate::domain::nlu`] that books, looks up, reschedules, cancels and
//! joins the waitlist through the same [`ToolExecutor`] as the LLM path. Whatever the
//! input, it answers (a message it does not understand gets the current question again).

use chrono::{Duration, NaiveDate};

use super::state::{Flow, OfferedSlot, Step};
use super::tools::{InquiryArgs, ToolError, ToolErrorKind, ToolExecutor, TurnCtx, FAR_FUTURE_DAYS};
use crate::db::bookings::AppointmentStatus;
use crate::domain::nlu::{self, DayPeriod, Intent, TimeSpec, YesNo};
use crate::domain::{ClientName, Email, ReferenceCode};
use crate::services::booking::{BookingErrorKind as BK, ClientDetails};

/// How many slots the engine offers at once.
const OFFER: usize = 5;
/// How many days past the requested date the engine looks for openings.
const SEARCH_DAYS: i64 = 6;

const CAPABILITIES: &str =
    "I can book an appointment, look one up, reschedule or cancel it, or put you on the waitlist.";

pub struct Engine<'a> {
    exec: &'a ToolExecutor,
}

impl<'a> Engine<'a> {
    pub fn new(exec: &'a ToolExecutor) -> Self {
        Self { exec }
    }

    /// One user message in, one reply out.
    pub async fn turn(&self, ctx: &mut TurnCtx, text: &str) -> String {
        // Details volunteered at any point are remembered.
        if let Some(e) = nlu::extract_email(text) {
            ctx.state.client_email = Some(e.as_str().to_string());
        }
        if let Some(n) = nlu::extract_name(text) {
            ctx.state.client_name = Some(n.as_str().to_string());
        }
        let step = ctx.state.dialog.step;
        let reply = match step {
            Step::Start => None,
            Step::Service => self.on_service(ctx, text).await,
            Step::Date => self.on_date(ctx, text).await,
            Step::FarDateConfirm => self.on_far_date(ctx, text).await,
            Step::PickSlot => self.on_pick(ctx, text).await,
            Step::Name => self.on_name(ctx, text).await,
            Step::Email => self.on_email(ctx, text).await,
            Step::ConfirmBooking => self.on_confirm_booking(ctx, text).await,
            Step::Reference => self.on_reference(ctx, text).await,
            Step::LookupEmail => self.on_lookup_email(ctx, text).await,
            Step::ConfirmCancel => self.on_confirm_cancel(ctx, text).await,
            Step::ConfirmReschedule => self.on_confirm_reschedule(ctx, text).await,
            Step::WaitlistOffer => self.on_waitlist_offer(ctx, text).await,
            Step::WaitlistEmail => self.on_waitlist_email(ctx, text).await,
        };
        if let Some(r) = reply {
            ctx.state.dialog.misses = 0;
            return r;
        }
        // Not what the current step expected: a new request, or ask again.
        if let Some(r) = self.start(ctx, text).await {
            ctx.state.dialog.misses = 0;
            return r;
        }
        ctx.state.dialog.misses += 1;
        let again = self.question(ctx);
        if step == Step::Start {
            format!("Sorry, I didn't catch that. {CAPABILITIES} What would you like to do?")
        } else {
            format!("Sorry, I didn't catch that. {again}")
        }
    }

    /// A fresh request (any step): by intent, or by what the text carries.
    async fn start(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        let intent = nlu::detect_intent(text);
        let flow = match intent {
            Some(Intent::Book) => Flow::Book,
            Some(Intent::Lookup) => Flow::Lookup,
            Some(Intent::Cancel) => Flow::Cancel,
            Some(Intent::Reschedule) => Flow::Reschedule,
            Some(Intent::Waitlist) => Flow::Waitlist,
            Some(Intent::Help) => {
                return Some(format!(
                    "{CAPABILITIES} I can't make or transfer phone calls, but I can do everything here in the chat. What would you like to do?"
                ))
            }
            Some(Intent::HandoffToText) => {
                return Some(format!(
                    "You're already chatting with me in text — I can help right here. {CAPABILITIES}"
                ))
            }
            Some(Intent::Goodbye) => {
                ctx.state.dialog = Default::default();
                return Some("Thanks for stopping by — have a great day!".into());
            }
            None if nlu::extract_reference(text).is_some() => Flow::Lookup,
            // A bare "2" is a list pick only while a list is shown, never a new request.
            None if (self.service_in(ctx, text).is_some()
                && nlu::parse_choice(text, ctx.services.len()).is_none())
                || nlu::parse_date(text, ctx.today()).is_some() =>
            {
                Flow::Book
            }
            None => return None,
        };
        ctx.state.dialog = Default::default();
        ctx.state.dialog.flow = flow;
        match flow {
            Flow::Book | Flow::Waitlist => {
                ctx.state.dialog.service_id = self.service_in(ctx, text);
                if flow == Flow::Book {
                    self.take_date(ctx, text);
                }
                if flow == Flow::Book
                    && nlu::is_vague_request(text)
                    && ctx.state.dialog.date.is_none()
                {
                    ctx.state.dialog.step = if ctx.state.dialog.service_id.is_some() {
                        Step::Date
                    } else {
                        Step::Service
                    };
                    return Some(
                        "Happy to help you find a time. To show you the right options: which day (or days) are you thinking of, and do you prefer morning or afternoon? If you just want the earliest opening, say \"earliest\"."
                            .into(),
                    );
                }
                Some(self.advance(ctx).await)
            }
            _ => {
                ctx.state.dialog.reference =
                    nlu::extract_reference(text).map(|r| r.as_str().to_string());
                Some(self.advance(ctx).await)
            }
        }
    }

    fn service_in(&self, ctx: &TurnCtx, text: &str) -> Option<uuid::Uuid> {
        let names: Vec<&str> = ctx.services.iter().map(|s| s.name.as_str()).collect();
        // Only a whole-message choice counts as a number pick; names match anywhere.
        nlu::match_service(text, &names).map(|i| ctx.services[i].id)
    }

    fn take_date(&self, ctx: &mut TurnCtx, text: &str) -> bool {
        let lower = text.to_lowercase();
        if [
            "earliest",
            "soonest",
            "as soon as possible",
            "asap",
            "next available",
            "first available",
            "any day",
            "anytime",
            "any time",
        ]
        .iter()
        .any(|w| lower.contains(w))
        {
            ctx.state.dialog.date = Some(ctx.today());
        } else if let Some(d) = nlu::parse_date(text, ctx.today()) {
            ctx.state.dialog.date = Some(d);
        }
        match nlu::parse_time(text) {
            Some(TimeSpec::Period(p)) => ctx.state.dialog.period = Some(p),
            Some(TimeSpec::At(t)) => {
                ctx.state.dialog.period = Some(if DayPeriod::Morning.contains(t) {
                    DayPeriod::Morning
                } else if DayPeriod::Afternoon.contains(t) {
                    DayPeriod::Afternoon
                } else {
                    DayPeriod::Evening
                })
            }
            None => {}
        }
        ctx.state.dialog.date.is_some()
    }

    /// Asks for the first missing piece of the current flow, or acts when all are there.
    async fn advance(&self, ctx: &mut TurnCtx) -> String {
        let d = ctx.state.dialog.clone();
        match d.flow {
            Flow::None => {
                ctx.state.dialog.step = Step::Start;
                format!("{CAPABILITIES} What would you like to do?")
            }
            Flow::Book | Flow::Waitlist if d.service_id.is_none() => {
                if ctx.services.len() == 1 {
                    ctx.state.dialog.service_id = Some(ctx.services[0].id);
                    return Box::pin(self.advance(ctx)).await;
                }
                ctx.state.dialog.step = Step::Service;
                self.question(ctx)
            }
            Flow::Waitlist => {
                if ctx.state.client_email.is_none() {
                    ctx.state.dialog.step = Step::WaitlistEmail;
                    return self.question(ctx);
                }
                self.join_waitlist(ctx).await
            }
            Flow::Book => match d.date {
                None => {
                    ctx.state.dialog.step = Step::Date;
                    self.question(ctx)
                }
                Some(date) => self.offer(ctx, date).await,
            },
            Flow::Lookup | Flow::Cancel | Flow::Reschedule => {
                if d.reference.is_none() {
                    ctx.state.dialog.step = Step::Reference;
                    return self.question(ctx);
                }
                if ctx.state.client_email.is_none() {
                    ctx.state.dialog.step = Step::LookupEmail;
                    return self.question(ctx);
                }
                // A reschedule whose booking was found (its service is known) picks a time.
                if d.flow == Flow::Reschedule && d.service_id.is_some() {
                    return match d.date {
                        None => {
                            ctx.state.dialog.step = Step::Date;
                            self.question(ctx)
                        }
                        Some(date) => self.offer(ctx, date).await,
                    };
                }
                self.lookup(ctx).await
            }
        }
    }

    /// The question of the current step (asked again after a message we did not get).
    fn question(&self, ctx: &TurnCtx) -> String {
        let d = &ctx.state.dialog;
        match d.step {
            Step::Start => format!("{CAPABILITIES} What would you like to do?"),
            Step::Service => {
                let list: Vec<String> = ctx
                    .services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {} ({} min)", i + 1, s.name, s.duration_minutes))
                    .collect();
                format!("Which service would you like? {}", list.join(", "))
            }
            Step::Date => {
                "What day works for you? For example \"tomorrow\", \"next Tuesday\" or \"Dec 3\"."
                    .into()
            }
            Step::FarDateConfirm => match ctx.state.pending_date_confirmation {
                Some(date) => format!(
                    "Just to confirm, you mean {}? (yes/no)",
                    date.format("%A, %B %-d, %Y")
                ),
                None => "Which date would you like?".into(),
            },
            Step::PickSlot => {
                let list: Vec<String> = d
                    .offered
                    .iter()
                    .enumerate()
                    .map(|(i, s)| format!("{}. {}", i + 1, s.label))
                    .collect();
                format!(
                    "Which time would you like? {} (or say another day)",
                    list.join(", ")
                )
            }
            Step::Name => "May I have your full name?".into(),
            Step::Email => "What email address should I use for the confirmation?".into(),
            Step::ConfirmBooking => match &ctx.state.active_hold {
                Some(h) => format!(
                    "Please confirm: {} on {} for {} ({}). Shall I book it? (yes/no)",
                    ctx.service(h.service_id)
                        .map(|s| s.name.as_str())
                        .unwrap_or("your appointment"),
                    ctx.label(h.start),
                    ctx.state.client_name.as_deref().unwrap_or(""),
                    ctx.state.client_email.as_deref().unwrap_or(""),
                ),
                None => "Shall I book it? (yes/no)".into(),
            },
            Step::Reference => {
                "What's your booking reference code? It looks like ABCD-EFGH.".into()
            }
            Step::LookupEmail => "And the email address you booked with?".into(),
            Step::ConfirmCancel => "Are you sure you want to cancel it? (yes/no)".into(),
            Step::ConfirmReschedule => match d.chosen_start {
                Some(t) => format!("Move your appointment to {}? (yes/no)", ctx.label(t)),
                None => "Which new time would you like?".into(),
            },
            Step::WaitlistOffer => "Would you like me to add you to the waitlist? (yes/no)".into(),
            Step::WaitlistEmail => {
                "What email address should we use to let you know when a time opens up?".into()
            }
        }
    }

    // --- steps ------------------------------------------------------------------------------

    async fn on_service(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        let id = self.service_in(ctx, text)?;
        ctx.state.dialog.service_id = Some(id);
        self.take_date(ctx, text);
        Some(self.advance(ctx).await)
    }

    async fn on_date(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        if !self.take_date(ctx, text) {
            return None;
        }
        Some(self.advance(ctx).await)
    }

    async fn on_far_date(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        // The turn start already moved a "yes" into confirmed_dates.
        let date = ctx.state.dialog.date?;
        if ctx.state.confirmed_dates.contains(&date) {
            return Some(self.offer(ctx, date).await);
        }
        match nlu::yes_no(text) {
            Some(YesNo::No) => {
                ctx.state.dialog.date = None;
                ctx.state.pending_date_confirmation = None;
                ctx.state.dialog.step = Step::Date;
                Some(format!("No problem. {}", self.question(ctx)))
            }
            _ => {
                if self.take_date(ctx, text) && ctx.state.dialog.date != Some(date) {
                    return Some(self.advance(ctx).await);
                }
                None
            }
        }
    }

    /// Looks for openings from `date` on and offers a few (the first day that has any).
    async fn offer(&self, ctx: &mut TurnCtx, date: NaiveDate) -> String {
        let Some(service_id) = ctx.state.dialog.service_id else {
            ctx.state.dialog.step = Step::Service;
            return self.question(ctx);
        };
        if date < ctx.today() {
            ctx.state.dialog.date = None;
            ctx.state.dialog.step = Step::Date;
            return format!("That date has already passed. {}", self.question(ctx));
        }
        if date > ctx.today() + Duration::days(FAR_FUTURE_DAYS)
            && !ctx.state.confirmed_dates.contains(&date)
        {
            ctx.state.pending_date_confirmation = Some(date);
            ctx.state.dialog.step = Step::FarDateConfirm;
            return self.question(ctx);
        }
        let max = ctx.today() + Duration::days(ctx.sched.tenant.max_days_ahead.into());
        if date > max {
            ctx.state.dialog.date = None;
            ctx.state.dialog.step = Step::Date;
            return format!(
                "I can only book up to {} days ahead (until {}). {}",
                ctx.sched.tenant.max_days_ahead,
                max.format("%b %-d"),
                self.question(ctx)
            );
        }
        let to = (date + Duration::days(SEARCH_DAYS)).min(max);
        let result = match self
            .exec
            .check_availability(ctx, service_id, date, to)
            .await
        {
            Ok(r) => r,
            Err(e) => return self.tool_failed(ctx, &e),
        };
        let period = ctx.state.dialog.period;
        let tz = ctx.tz();
        let fitting: Vec<_> = result
            .starts
            .iter()
            .copied()
            .filter(|s| period.is_none_or(|p| p.contains(s.with_timezone(&tz).time())))
            .collect();
        let first_day = fitting.first().map(|s| ctx.sched.local_date(*s));
        let offered: Vec<OfferedSlot> = fitting
            .iter()
            .filter(|s| Some(ctx.sched.local_date(**s)) == first_day)
            .take(OFFER)
            .map(|s| OfferedSlot {
                start: *s,
                label: ctx.label(*s),
            })
            .collect();
        let service = ctx
            .service(service_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if offered.is_empty() {
            ctx.state.dialog.step = Step::WaitlistOffer;
            return format!(
                "I don't see any openings for {service} between {} and {}. Would you like me to add you to the waitlist so we can let you know if something opens up? (yes/no)",
                date.format("%a %b %-d"),
                to.format("%a %b %-d"),
            );
        }
        ctx.events.push(super::tools::AgentEvent::Slots {
            service_id,
            slots: offered
                .iter()
                .map(|o| super::tools::SlotView {
                    start: o.start.with_timezone(&tz).to_rfc3339(),
                    end: String::new(),
                    label: o.label.clone(),
                })
                .collect(),
        });
        let day = first_day
            .map(|d| d.format("%A, %B %-d").to_string())
            .unwrap_or_default();
        let lead = if first_day != Some(date) {
            format!("There's nothing on {}, but here", date.format("%A, %B %-d"))
        } else {
            "Here".to_string()
        };
        ctx.state.dialog.offered = offered;
        ctx.state.dialog.step = Step::PickSlot;
        let list: Vec<String> = ctx
            .state
            .dialog
            .offered
            .iter()
            .enumerate()
            .map(|(i, s)| {
                format!(
                    "{}. {}",
                    i + 1,
                    s.label.rsplit(" at ").next().unwrap_or(&s.label)
                )
            })
            .collect();
        format!(
            "{lead} are open times for {service} on {day}: {}. Which one would you like?",
            list.join(", ")
        )
    }

    async fn on_pick(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        let offered = ctx.state.dialog.offered.clone();
        let tz = ctx.tz();
        let mut pick = nlu::parse_choice(text, offered.len()).map(|i| offered[i].start);
        if pick.is_none() {
            if let Some(TimeSpec::At(t)) = nlu::parse_time(text) {
                let date = nlu::parse_date(text, ctx.today());
                pick = offered
                    .iter()
                    .find(|o| {
                        let local = o.start.with_timezone(&tz);
                        local.time() == t && date.is_none_or(|d| d == local.date_naive())
                    })
                    .map(|o| o.start);
                if pick.is_none() && date.is_none() {
                    return Some(format!(
                        "{} isn't one of the open times. {}",
                        t.format("%-I:%M %p"),
                        self.question(ctx)
                    ));
                }
            }
        }
        let Some(start) = pick else {
            // Another day or part of the day?
            let had = ctx.state.dialog.date;
            let period = ctx.state.dialog.period;
            if self.take_date(ctx, text)
                && (ctx.state.dialog.date != had || ctx.state.dialog.period != period)
            {
                return Some(self.advance(ctx).await);
            }
            return None;
        };
        if ctx.state.dialog.flow == Flow::Reschedule {
            ctx.state.dialog.chosen_start = Some(start);
            ctx.state.dialog.step = Step::ConfirmReschedule;
            return Some(self.question(ctx));
        }
        let service_id = ctx.state.dialog.service_id?;
        match self.exec.hold_slot(ctx, service_id, start).await {
            Ok(h) => Some(format!(
                "I'm holding {} for you for a few minutes. {}",
                h.label,
                self.next_detail(ctx)
            )),
            Err(e) if matches!(e.booking_kind(), Some(BK::SlotUnavailable | BK::SlotTaken)) => {
                let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                Some(format!(
                    "Sorry, that time was just taken. {}",
                    self.offer(ctx, date).await
                ))
            }
            Err(e) => Some(self.tool_failed(ctx, &e)),
        }
    }

    /// After a hold: the name, then the email, then the summary to confirm.
    fn next_detail(&self, ctx: &mut TurnCtx) -> String {
        ctx.state.dialog.step = if ctx.state.client_name.is_none() {
            Step::Name
        } else if ctx.state.client_email.is_none() {
            Step::Email
        } else {
            Step::ConfirmBooking
        };
        self.question(ctx)
    }

    async fn on_name(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        let name = nlu::parse_name_reply(text)?;
        ctx.state.client_name = Some(name.as_str().to_string());
        Some(self.next_detail(ctx))
    }

    async fn on_email(&self, ctx: &mut TurnCtx, _text: &str) -> Option<String> {
        // extract_email already ran at the top of the turn.
        ctx.state.client_email.as_ref()?;
        Some(self.next_detail(ctx))
    }

    async fn on_confirm_booking(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text)? {
            YesNo::No => {
                ctx.state.dialog.step = Step::Date;
                Some("No problem — I haven't booked anything. What other day or time would you like? (Or say \"cancel\" if you've changed your mind.)".into())
            }
            YesNo::Yes => {
                let Some(hold) = ctx.state.active_hold.clone() else {
                    ctx.state.dialog.step = Step::Date;
                    return Some(format!(
                        "That hold is no longer active. {}",
                        self.question(ctx)
                    ));
                };
                let details = match (
                    ctx.state.client_name.as_deref().map(ClientName::parse),
                    ctx.state.client_email.as_deref().map(Email::parse),
                ) {
                    (Some(Ok(name)), Some(Ok(email))) => ClientDetails {
                        name,
                        email,
                        phone: None,
                        notes: None,
                    },
                    _ => return Some(self.next_detail(ctx)),
                };
                match self.exec.confirm_booking(ctx, hold.hold_id, &details).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        Some(format!(
                            "You're all set — your appointment is confirmed: {} on {}. Your reference code is {}. Keep it with your email to look up, reschedule or cancel.",
                            b.service, b.label, b.reference
                        ))
                    }
                    Err(e)
                        if e.booking_kind() == Some(BK::HoldExpired)
                            || e.kind == ToolErrorKind::NoLiveHold =>
                    {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        Some(format!(
                            "Sorry, the hold on that time expired. {}",
                            self.offer(ctx, date).await
                        ))
                    }
                    Err(e) if e.booking_kind() == Some(BK::SlotTaken) => {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        Some(format!(
                            "Sorry, that time was just booked by someone else. {}",
                            self.offer(ctx, date).await
                        ))
                    }
                    Err(e) => Some(self.tool_failed(ctx, &e)),
                }
            }
        }
    }

    async fn on_reference(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        let r = nlu::extract_reference(text)?;
        ctx.state.dialog.reference = Some(r.as_str().to_string());
        Some(self.advance(ctx).await)
    }

    async fn on_lookup_email(&self, ctx: &mut TurnCtx, _text: &str) -> Option<String> {
        ctx.state.client_email.as_ref()?;
        Some(self.advance(ctx).await)
    }

    fn reference_and_email(ctx: &TurnCtx) -> Option<(ReferenceCode, Email)> {
        let r = ReferenceCode::parse(ctx.state.dialog.reference.as_deref()?).ok()?;
        let e = Email::parse(ctx.state.client_email.as_deref()?).ok()?;
        Some((r, e))
    }

    async fn lookup(&self, ctx: &mut TurnCtx) -> String {
        let Some((r, e)) = Self::reference_and_email(ctx) else {
            ctx.state.dialog.step = Step::Reference;
            return self.question(ctx);
        };
        match self.exec.lookup_booking(ctx, &r, &e).await {
            Ok(b) if b.status == AppointmentStatus::Cancelled => {
                ctx.state.dialog = Default::default();
                format!(
                    "Booking {} ({} on {}) shows as cancelled. Would you like to book a new time?",
                    b.reference, b.service, b.label
                )
            }
            Ok(b) => match ctx.state.dialog.flow {
                Flow::Cancel => {
                    ctx.state.dialog.step = Step::ConfirmCancel;
                    format!("I found your {} on {} (reference {}). Are you sure you want to cancel it? (yes/no)", b.service, b.label, b.reference)
                }
                Flow::Reschedule => {
                    ctx.state.dialog.service_id = ctx
                        .services
                        .iter()
                        .find(|s| s.name == b.service)
                        .map(|s| s.id);
                    ctx.state.dialog.step = Step::Date;
                    format!(
                        "I found your {} on {} (reference {}). What new day would you like?",
                        b.service, b.label, b.reference
                    )
                }
                _ => {
                    ctx.state.dialog = Default::default();
                    format!("Your {} is on {} — reference {}, status {}. Anything else I can help with?", b.service, b.label, b.reference, b.status)
                }
            },
            Err(e) if e.booking_kind() == Some(BK::BookingNotFound) => {
                ctx.state.dialog.reference = None;
                ctx.state.dialog.step = Step::Reference;
                "I couldn't find a booking with that reference code and email. Could you check the code (it looks like ABCD-EFGH) and send it again?".into()
            }
            Err(e) => self.tool_failed(ctx, &e),
        }
    }

    async fn on_confirm_cancel(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text)? {
            YesNo::No => {
                ctx.state.dialog = Default::default();
                Some("Okay — I've left your appointment as it is. Anything else?".into())
            }
            YesNo::Yes => {
                let (r, e) = Self::reference_and_email(ctx)?;
                Some(match self.exec.cancel(ctx, &r, &e).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        format!(
                            "Your appointment {} on {} has been cancelled.",
                            b.reference, b.label
                        )
                    }
                    Err(e) => self.tool_failed(ctx, &e),
                })
            }
        }
    }

    async fn on_confirm_reschedule(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text)? {
            YesNo::No => {
                ctx.state.dialog.step = Step::Date;
                ctx.state.dialog.chosen_start = None;
                Some(format!(
                    "No problem, nothing changed. {}",
                    self.question(ctx)
                ))
            }
            YesNo::Yes => {
                let (r, e) = Self::reference_and_email(ctx)?;
                let start = ctx.state.dialog.chosen_start?;
                Some(match self.exec.reschedule(ctx, &r, &e, start).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        format!("Done — your appointment has been rescheduled to {}. Your reference code stays {}.", b.label, b.reference)
                    }
                    Err(e)
                        if matches!(
                            e.booking_kind(),
                            Some(BK::SlotUnavailable | BK::SlotTaken)
                        ) =>
                    {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        format!(
                            "Sorry, that time was just taken. {}",
                            self.offer(ctx, date).await
                        )
                    }
                    Err(e) => self.tool_failed(ctx, &e),
                })
            }
        }
    }

    async fn on_waitlist_offer(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text)? {
            YesNo::No => {
                ctx.state.dialog.step = Step::Date;
                Some(format!("Okay. {}", self.question(ctx)))
            }
            YesNo::Yes => {
                ctx.state.dialog.flow = Flow::Waitlist;
                Some(self.advance(ctx).await)
            }
        }
    }

    async fn on_waitlist_email(&self, ctx: &mut TurnCtx, _text: &str) -> Option<String> {
        ctx.state.client_email.as_ref()?;
        Some(self.advance(ctx).await)
    }

    async fn join_waitlist(&self, ctx: &mut TurnCtx) -> String {
        let d = ctx.state.dialog.clone();
        let args = InquiryArgs {
            service_id: d.service_id.map(|s| s.to_string()),
            preferred_from: d.date.map(|x| x.to_string()),
            preferred_to: d
                .date
                .map(|x| (x + Duration::days(SEARCH_DAYS)).to_string()),
            time_of_day: d.period.map(|p| format!("{p:?}").to_lowercase()),
            client_name: ctx.state.client_name.clone(),
            client_email: ctx.state.client_email.clone(),
            client_phone: None,
        };
        match self.exec.create_inquiry(ctx, &args).await {
            Ok(_) => {
                let service = d
                    .service_id
                    .and_then(|s| ctx.service(s))
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| "an appointment".into());
                ctx.state.dialog = Default::default();
                format!(
                    "You're on the waitlist for {service}. If a matching time opens up we'll let you know at {} (usually within a few minutes to a couple of hours of it opening).",
                    ctx.state.client_email.as_deref().unwrap_or("your email")
                )
            }
            Err(e) => self.tool_failed(ctx, &e),
        }
    }

    fn tool_failed(&self, ctx: &mut TurnCtx, e: &ToolError) -> String {
        match e.kind {
            ToolErrorKind::SystemError => "I'm sorry — I'm having a system issue right now and couldn't complete that. Nothing was changed; please try again in a moment.".into(),
            ToolErrorKind::Booking(BK::RangeBeyondLookahead) => {
                ctx.state.dialog.date = None;
                ctx.state.dialog.step = Step::Date;
                format!("That's further ahead than I can book. {}", self.question(ctx))
            }
            ToolErrorKind::Booking(BK::BookingCancelled) => {
                ctx.state.dialog = Default::default();
                "That booking is already cancelled.".into()
            }
            _ => format!("Sorry, that didn't work ({}). {}", e.message, self.question(ctx)),
        }
    }
}
