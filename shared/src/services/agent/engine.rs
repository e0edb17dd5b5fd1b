//! The deterministic dialogue engine: the default when no `OPENAI_API_KEY` is set. A small
//! state machine over [`crate::domain::nlu`] that books, looks up, reschedules, cancels and
//! joins the waitlist through the same [`ToolExecutor`] as the LLM path. Whatever the
//! input, it answers (a message it does not understand gets the current question again).

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::state::{Flow, OfferedSlot, Step};
use super::tools::{
    FollowupArgs, InquiryArgs, ToolError, ToolErrorKind, ToolExecutor, TurnCtx, FAR_FUTURE_DAYS,
};
use crate::db::bookings::AppointmentStatus;
use crate::domain::nlu::{self, DayPeriod, FollowupAsk, Intent, TimeSpec, YesNo};
use crate::domain::{ClientName, Email, Notes, PhoneE164, ReferenceCode};
use crate::services::booking::{BookingErrorKind as BK, ClientDetails, MoveOf};

/// How many slots the engine offers at once.
const OFFER: usize = 5;
/// A note taken in the chat is cut to this many characters.
pub const NOTE_MAX_CHARS: usize = 500;
/// How many days past the requested date the engine looks for openings.
const SEARCH_DAYS: i64 = 6;

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
            if Self::changes_booking(ctx.state.dialog.flow) {
                ctx.state.dialog.change_email = Some(e.as_str().to_string());
            }
        }
        let step = ctx.state.dialog.step;
        // A step that waits for an email or a name reads "email me at …" as its answer.
        let answering = matches!(
            step,
            Step::Name
                | Step::Email
                | Step::LookupEmail
                | Step::WaitlistEmail
                | Step::FollowupEmail
        );
        let asks_followup = (!answering).then(|| nlu::followup_request(text)).flatten();
        if asks_followup.is_none() {
            if let Some(n) = nlu::extract_name(text) {
                ctx.state.client_name = Some(n.as_str().to_string());
            }
        }
        if let Some(p) = nlu::extract_phone(text) {
            ctx.state.client_phone = Some(p.as_str().to_string());
        }
        // Leaving the waitlist is understood at any step (and never read as joining it).
        if nlu::is_leave_waitlist(text) {
            ctx.state.dialog = Default::default();
            return match self.exec.leave_waitlist(ctx).await {
                Ok(v) => (ctx.chat().left_waitlist)(v["entries_left"].as_u64().unwrap_or(0)),
                Err(e) => self.tool_failed(ctx, &e),
            };
        }
        // A note for the booking, at any step: kept and read back.
        if let Some(note) = nlu::extract_note(text)
            .map(|n| n.chars().take(NOTE_MAX_CHARS).collect::<String>())
            .as_deref()
            .and_then(Notes::from_free_text)
        {
            ctx.state.booking_note = Some(note.as_str().to_string());
            ctx.state.dialog.misses = 0;
            return if ctx.state.dialog.flow == Flow::Book {
                (ctx.chat().note_saved)(note.as_str(), &self.question(ctx))
            } else {
                (ctx.chat().note_kept)(note.as_str())
            };
        }
        if let Some(ask) = asks_followup {
            ctx.state.dialog.misses = 0;
            return self.offer_followup(ctx, ask);
        }
        if !answering && step != Step::PickSlot && nlu::is_services_question(text) {
            ctx.state.dialog.misses = 0;
            return self.describe_services(ctx, text);
        }
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
            Step::FollowupOffer => self.on_followup_offer(ctx, text).await,
            Step::FollowupEmail => self.on_followup_email(ctx, text).await,
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
        (ctx.chat().didnt_catch)(&self.question(ctx))
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
            Some(Intent::Help) => return Some(ctx.chat().help.into()),
            Some(Intent::HandoffToText) => return Some(ctx.chat().already_texting.into()),
            Some(Intent::Goodbye) => {
                ctx.state.dialog = Default::default();
                return Some(ctx.chat().goodbye.into());
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
        if Self::changes_booking(flow) {
            ctx.state.dialog.change_email =
                nlu::extract_email(text).map(|e| e.as_str().to_string());
        }
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
                    return Some(ctx.chat().vague_request.into());
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
        if nlu::is_next_available(text) {
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
                ctx.chat().start_question.into()
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
                if Self::flow_email(ctx).is_none() {
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
            Step::Start => ctx.chat().start_question.into(),
            Step::Service => {
                let list: Vec<String> = ctx
                    .services
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (ctx.chat().service_option)(i + 1, &s.name, s.duration_minutes))
                    .collect();
                (ctx.chat().which_service)(&list)
            }
            Step::Date => ctx.chat().ask_date.into(),
            Step::FarDateConfirm => match ctx.state.pending_date_confirmation {
                Some(date) => (ctx.chat().confirm_far_date)(date),
                None => ctx.chat().which_date.into(),
            },
            Step::PickSlot => {
                let list: Vec<String> = d
                    .offered
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (ctx.chat().numbered)(i + 1, &s.label))
                    .collect();
                (ctx.chat().which_time)(&list)
            }
            Step::Name => ctx.chat().ask_name.into(),
            Step::Email => ctx.chat().ask_email.into(),
            Step::ConfirmBooking => match &ctx.state.active_hold {
                Some(h) => {
                    let summary = (ctx.chat().confirm_booking)(
                        ctx.service(h.service_id)
                            .map(|s| s.name.as_str())
                            .unwrap_or(ctx.chat().your_appointment),
                        &ctx.label(h.start),
                        ctx.state.client_name.as_deref().unwrap_or(""),
                        ctx.state.client_email.as_deref().unwrap_or(""),
                    );
                    match ctx.state.booking_note.as_deref() {
                        Some(n) => format!("{summary}{}", (ctx.chat().note_line)(n)),
                        None => summary,
                    }
                }
                None => ctx.chat().shall_i_book.into(),
            },
            Step::Reference => ctx.chat().ask_reference.into(),
            Step::LookupEmail if Self::changes_booking(d.flow) => {
                ctx.chat().ask_change_email.into()
            }
            Step::LookupEmail => ctx.chat().ask_lookup_email.into(),
            Step::ConfirmCancel => ctx.chat().sure_to_cancel.into(),
            Step::ConfirmReschedule => match d.chosen_start {
                Some(t) => (ctx.chat().confirm_move)(&ctx.label(t)),
                None => ctx.chat().which_new_time.into(),
            },
            Step::WaitlistOffer => ctx.chat().offer_waitlist.into(),
            Step::WaitlistEmail => ctx.chat().ask_waitlist_email.into(),
            Step::FollowupOffer => ctx.chat().offer_followup.into(),
            Step::FollowupEmail => ctx.chat().ask_followup_email.into(),
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
                Some((ctx.chat().no_problem)(&self.question(ctx)))
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
            return (ctx.chat().date_passed)(&self.question(ctx));
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
            return (ctx.chat().beyond_lookahead)(
                ctx.sched.tenant.max_days_ahead,
                max,
                &self.question(ctx),
            );
        }
        let to = (date + Duration::days(SEARCH_DAYS)).min(max);
        // A reschedule is offered the times its booking can move to (its own time not busy).
        let moving = match ctx.state.dialog.flow {
            Flow::Reschedule => Self::reference_and_email(ctx).map(|(reference, email)| MoveOf {
                reference,
                email,
                same_resource: false,
            }),
            _ => None,
        };
        let result = match self
            .exec
            .check_availability(ctx, service_id, date, to, moving.as_ref())
            .await
        {
            Ok(r) => r,
            Err(e) => return self.tool_failed(ctx, &e),
        };
        let period = ctx.state.dialog.period;
        let tz = ctx.tz();
        let fitting: Vec<(DateTime<Utc>, DateTime<Utc>)> = result
            .starts
            .iter()
            .copied()
            .zip(result.ends.iter().copied())
            .filter(|(s, _)| period.is_none_or(|p| p.contains(s.with_timezone(&tz).time())))
            .collect();
        let first_day = fitting.first().map(|(s, _)| ctx.sched.local_date(*s));
        let offered_with_ends: Vec<(OfferedSlot, DateTime<Utc>)> = fitting
            .iter()
            .filter(|(s, _)| Some(ctx.sched.local_date(*s)) == first_day)
            .take(OFFER)
            .map(|(s, e)| {
                (
                    OfferedSlot {
                        start: *s,
                        label: ctx.label(*s),
                    },
                    *e,
                )
            })
            .collect();
        let service = ctx
            .service(service_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if offered_with_ends.is_empty() {
            ctx.state.dialog.step = Step::WaitlistOffer;
            return (ctx.chat().no_openings_waitlist)(&service, date, to);
        }
        ctx.events.push(super::tools::AgentEvent::Slots {
            service_id,
            slots: offered_with_ends
                .iter()
                .map(|(o, end)| super::tools::SlotView {
                    start: o.start.with_timezone(&tz).to_rfc3339(),
                    end: end.with_timezone(&tz).to_rfc3339(),
                    label: o.label.clone(),
                })
                .collect(),
        });
        let nothing_on = (first_day != Some(date)).then_some(date);
        ctx.state.dialog.offered = offered_with_ends.into_iter().map(|(o, _)| o).collect();
        ctx.state.dialog.step = Step::PickSlot;
        let list: Vec<String> = ctx
            .state
            .dialog
            .offered
            .iter()
            .enumerate()
            .map(|(i, s)| (ctx.chat().numbered)(i + 1, &ctx.time_label(s.start)))
            .collect();
        (ctx.chat().offer_times)(nothing_on, &service, first_day, &list)
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
                    return Some((ctx.chat().not_an_open_time)(t, &self.question(ctx)));
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
            Ok(h) => Some((ctx.chat().holding)(&h.label, &self.next_detail(ctx))),
            Err(e) if matches!(e.booking_kind(), Some(BK::SlotUnavailable | BK::SlotTaken)) => {
                let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                Some((ctx.chat().just_taken)(&self.offer(ctx, date).await))
            }
            Err(e) if e.booking_kind() == Some(BK::ScheduleClosed) => {
                let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                Some((ctx.chat().closed_then)(&self.offer(ctx, date).await))
            }
            Err(e) if e.booking_kind() == Some(BK::DailyLimitReached) => {
                let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                Some((ctx.chat().day_full)(
                    &self.offer(ctx, date + chrono::Duration::days(1)).await,
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
        let Some(answer) = nlu::yes_no(text) else {
            // A name given at the summary corrects the one it shows (a second booking in
            // the same chat, for someone else, starts from the first one's details).
            let name = nlu::parse_name_reply(text)?;
            ctx.state.client_name = Some(name.as_str().to_string());
            return Some(self.question(ctx));
        };
        match answer {
            YesNo::No => {
                ctx.state.dialog.step = Step::Date;
                Some(ctx.chat().nothing_booked.into())
            }
            YesNo::Yes => {
                let Some(hold) = ctx.state.active_hold.clone() else {
                    ctx.state.dialog.step = Step::Date;
                    return Some((ctx.chat().hold_inactive)(&self.question(ctx)));
                };
                let details = match (
                    ctx.state.client_name.as_deref().map(ClientName::parse),
                    ctx.state.client_email.as_deref().map(Email::parse),
                ) {
                    (Some(Ok(name)), Some(Ok(email))) => ClientDetails {
                        name,
                        email,
                        phone: ctx
                            .state
                            .client_phone
                            .as_deref()
                            .and_then(|p| PhoneE164::parse(p).ok()),
                        notes: ctx
                            .state
                            .booking_note
                            .as_deref()
                            .and_then(Notes::from_free_text),
                        time_zone: None,
                        locale: Some(ctx.locale),
                    },
                    _ => return Some(self.next_detail(ctx)),
                };
                match self.exec.confirm_booking(ctx, hold.hold_id, &details).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        ctx.state.booking_note = None;
                        Some((ctx.chat().booked)(&b.service, &b.label, &b.reference))
                    }
                    Err(e)
                        if e.booking_kind() == Some(BK::HoldExpired)
                            || e.kind == ToolErrorKind::NoLiveHold =>
                    {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        Some((ctx.chat().hold_expired)(&self.offer(ctx, date).await))
                    }
                    Err(e) if e.booking_kind() == Some(BK::SlotTaken) => {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        Some((ctx.chat().booked_by_someone_else)(
                            &self.offer(ctx, date).await,
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
        Self::flow_email(ctx)?;
        Some(self.advance(ctx).await)
    }

    /// Whether `flow` changes a booking (its email must be typed for the change).
    fn changes_booking(flow: Flow) -> bool {
        matches!(flow, Flow::Cancel | Flow::Reschedule)
    }

    /// The email the current flow goes by: for a change, only the one typed for it.
    fn flow_email(ctx: &TurnCtx) -> Option<&str> {
        if Self::changes_booking(ctx.state.dialog.flow) {
            ctx.state.dialog.change_email.as_deref()
        } else {
            ctx.state.client_email.as_deref()
        }
    }

    fn reference_and_email(ctx: &TurnCtx) -> Option<(ReferenceCode, Email)> {
        let r = ReferenceCode::parse(ctx.state.dialog.reference.as_deref()?).ok()?;
        let e = Email::parse(Self::flow_email(ctx)?).ok()?;
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
                (ctx.chat().shows_cancelled)(&b.reference, &b.service, &b.label)
            }
            Ok(b) => match ctx.state.dialog.flow {
                Flow::Cancel => {
                    ctx.state.dialog.step = Step::ConfirmCancel;
                    (ctx.chat().found_to_cancel)(&b.service, &b.label, &b.reference)
                }
                Flow::Reschedule => {
                    ctx.state.dialog.service_id = ctx
                        .services
                        .iter()
                        .find(|s| s.name == b.service)
                        .map(|s| s.id);
                    ctx.state.dialog.step = Step::Date;
                    (ctx.chat().found_to_reschedule)(&b.service, &b.label, &b.reference)
                }
                _ => {
                    ctx.state.dialog = Default::default();
                    (ctx.chat().found)(&b.service, &b.label, &b.reference, b.status.as_str())
                }
            },
            Err(e) if e.booking_kind() == Some(BK::BookingNotFound) => {
                ctx.state.dialog.reference = None;
                ctx.state.dialog.change_email = None;
                ctx.state.dialog.step = Step::Reference;
                ctx.chat().booking_not_found.into()
            }
            Err(e) => self.tool_failed(ctx, &e),
        }
    }

    async fn on_confirm_cancel(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text)? {
            YesNo::No => {
                ctx.state.dialog = Default::default();
                Some(ctx.chat().left_as_is.into())
            }
            YesNo::Yes => {
                let (r, e) = Self::reference_and_email(ctx)?;
                Some(match self.exec.cancel(ctx, &r, &e).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        (ctx.chat().cancelled)(&b.reference, &b.label)
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
                Some((ctx.chat().nothing_changed)(&self.question(ctx)))
            }
            YesNo::Yes => {
                let (r, e) = Self::reference_and_email(ctx)?;
                let start = ctx.state.dialog.chosen_start?;
                Some(match self.exec.reschedule(ctx, &r, &e, start).await {
                    Ok(b) => {
                        ctx.state.dialog = Default::default();
                        (ctx.chat().rescheduled)(&b.label, &b.reference)
                    }
                    Err(e)
                        if matches!(
                            e.booking_kind(),
                            Some(BK::SlotUnavailable | BK::SlotTaken)
                        ) =>
                    {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        (ctx.chat().just_taken)(&self.offer(ctx, date).await)
                    }
                    Err(e) if e.booking_kind() == Some(BK::ScheduleClosed) => {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        (ctx.chat().closed_then)(&self.offer(ctx, date).await)
                    }
                    Err(e) if e.booking_kind() == Some(BK::DailyLimitReached) => {
                        let date = ctx.state.dialog.date.unwrap_or(ctx.today());
                        (ctx.chat().day_full)(
                            &self.offer(ctx, date + chrono::Duration::days(1)).await,
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
                // Nothing open and no waitlist: the team can still follow up.
                ctx.state.dialog.step = Step::FollowupOffer;
                ctx.state.dialog.followup_channel = None;
                Some((ctx.chat().okay)(&self.question(ctx)))
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
                    .unwrap_or_else(|| ctx.chat().an_appointment.into());
                ctx.state.dialog = Default::default();
                (ctx.chat().on_waitlist)(
                    &service,
                    ctx.state
                        .client_email
                        .as_deref()
                        .unwrap_or(ctx.chat().your_email),
                )
            }
            Err(e) => self.tool_failed(ctx, &e),
        }
    }

    /// The tenant's active services: name, length and description; for "how much", that
    /// prices are not kept here. Outside a flow, the list leads into booking one.
    fn describe_services(&self, ctx: &mut TurnCtx, text: &str) -> String {
        let named = self.service_in(ctx, text);
        let lines: Vec<String> = ctx
            .services
            .iter()
            .filter(|s| named.is_none_or(|id| id == s.id))
            .map(|s| (ctx.chat().service_line)(&s.name, s.duration_minutes, &s.description))
            .collect();
        let prices = nlu::is_price_question(text);
        let follow = if ctx.state.dialog.flow == Flow::None {
            ctx.state.dialog = Default::default();
            ctx.state.dialog.flow = Flow::Book;
            ctx.state.dialog.service_id = named;
            ctx.state.dialog.step = if named.is_some() {
                Step::Date
            } else {
                Step::Service
            };
            if named.is_some() {
                ctx.chat().ask_date.to_string()
            } else {
                ctx.chat().which_to_book.to_string()
            }
        } else if ctx.state.dialog.step == Step::Service {
            ctx.chat().which_to_book.to_string()
        } else {
            self.question(ctx)
        };
        let follow = if prices {
            format!("{} {follow}", ctx.chat().no_prices)
        } else {
            follow
        };
        (ctx.chat().services_list)(&lines, &follow)
    }

    /// Offers a follow-up message from the team (never a call: we cannot make one).
    fn offer_followup(&self, ctx: &mut TurnCtx, ask: FollowupAsk) -> String {
        ctx.state.dialog.step = Step::FollowupOffer;
        ctx.state.dialog.followup_channel = match ask {
            FollowupAsk::Sms => Some("sms".into()),
            FollowupAsk::Email => Some("email".into()),
            FollowupAsk::Call => None,
        };
        match ask {
            FollowupAsk::Call => ctx.chat().followup_instead_of_call.into(),
            _ => self.question(ctx),
        }
    }

    async fn on_followup_offer(&self, ctx: &mut TurnCtx, text: &str) -> Option<String> {
        match nlu::yes_no(text) {
            Some(YesNo::No) => {
                ctx.state.dialog = Default::default();
                Some(ctx.chat().followup_declined.into())
            }
            Some(YesNo::Yes) => Some(self.schedule_followup(ctx).await),
            // "my email is …" or a phone number answers the offer too.
            None if nlu::extract_email(text).is_some() || nlu::extract_phone(text).is_some() => {
                Some(self.schedule_followup(ctx).await)
            }
            None => None,
        }
    }

    async fn on_followup_email(&self, ctx: &mut TurnCtx, _text: &str) -> Option<String> {
        ctx.state.client_email.as_ref()?;
        ctx.state.dialog.followup_channel = Some("email".into());
        Some(self.schedule_followup(ctx).await)
    }

    /// Schedules the follow-up through the tool (its recipient rule, limits, cooldown and
    /// confirmation): by text when asked and a phone is known, else by email.
    async fn schedule_followup(&self, ctx: &mut TurnCtx) -> String {
        let wants_sms = ctx.state.dialog.followup_channel.as_deref() == Some("sms");
        let channel = if ctx.state.client_phone.is_some()
            && (wants_sms || ctx.state.client_email.is_none())
        {
            "sms"
        } else if ctx.state.client_email.is_some() {
            "email"
        } else {
            ctx.state.dialog.step = Step::FollowupEmail;
            return self.question(ctx);
        };
        let reason: String = ctx
            .state
            .dialog
            .service_id
            .and_then(|id| ctx.service(id))
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let args = FollowupArgs {
            channel: channel.into(),
            recipient: None,
            reason,
            confirmed_additional: ctx.state.followup_additional_confirmed,
        };
        match self.exec.schedule_followup(ctx, &args).await {
            Ok(_) => {
                ctx.state.dialog = Default::default();
                let what = if channel == "sms" {
                    ctx.chat().channel_sms
                } else {
                    ctx.chat().channel_email
                };
                (ctx.chat().followup_scheduled)(what, ctx.chat().followup_sla)
            }
            Err(e) => match e.kind {
                ToolErrorKind::ConfirmationRequired => {
                    ctx.state.dialog.step = Step::FollowupOffer;
                    ctx.chat().followup_another.into()
                }
                ToolErrorKind::FollowupCooldown => {
                    ctx.state.dialog = Default::default();
                    ctx.chat().followup_on_its_way.into()
                }
                ToolErrorKind::FollowupLimitReached => {
                    ctx.state.dialog = Default::default();
                    ctx.chat().followup_limit.into()
                }
                ToolErrorKind::FollowupDailyLimitReached => {
                    ctx.state.dialog = Default::default();
                    ctx.chat().followup_day_full.into()
                }
                ToolErrorKind::ContactRequired => {
                    ctx.state.dialog.step = Step::FollowupEmail;
                    self.question(ctx)
                }
                _ => self.tool_failed(ctx, &e),
            },
        }
    }

    fn tool_failed(&self, ctx: &mut TurnCtx, e: &ToolError) -> String {
        match e.kind {
            ToolErrorKind::SystemError => ctx.chat().tool_system_error.into(),
            ToolErrorKind::Booking(BK::RangeBeyondLookahead) => {
                ctx.state.dialog.date = None;
                ctx.state.dialog.step = Step::Date;
                (ctx.chat().too_far_ahead)(&self.question(ctx))
            }
            ToolErrorKind::Booking(BK::BookingCancelled) => {
                ctx.state.dialog = Default::default();
                ctx.chat().already_cancelled.into()
            }
            ToolErrorKind::Booking(BK::ChangeCutoffPassed) => {
                ctx.state.dialog = Default::default();
                (ctx.chat().change_cutoff)(&e.message)
            }
            _ => (ctx.chat().didnt_work)(&e.message, &self.question(ctx)),
        }
    }
}
