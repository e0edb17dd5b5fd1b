//! Inbound SMS (`POST /twilio/sms`): the opt-out keywords, HELP, and the replies to a
//! reminder — C confirms (kept on the booking), R texts a reschedule link, X cancels after
//! asking once to be sure — and the waitlist's: BOOK takes the time an offer holds, LEAVE
//! leaves the waitlist; all through the booking service. A duplicate webhook (same MessageSid) acts once
//! and gets the same reply.
//!
//! Keywords follow Twilio's rules: only a message that is a single keyword counts (case and
//! surrounding punctuation ignored); "stop please" is ordinary text. Opt-out keywords:
//! STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT; opt-in: START, YES, UNSTOP;
//! help: HELP, INFO. Twilio itself confirms a STOP, so we answer it with an empty response.
//!
//! Spanish keywords: PARAR, BAJA, CANCELAR, ALTO, FIN, DETENER opt out (Twilio does not
//! confirm these, so we do, in Spanish); INICIAR, ALTA, SI/SÍ opt in; AYUDA is help;
//! RESERVAR and SALIR are BOOK and LEAVE. C, R and X are the same in both languages.
//! YES and SI/SÍ opt back in only a number that opted out; from any other they confirm,
//! like C. CANCELAR opts out, exactly as CANCEL does: carriers and Twilio treat a lone CANCEL as an
//! opt-out, and a client who sends one must stop receiving texts. Cancelling a booking by
//! text is X in both languages (asked once to be sure), and the Spanish reminder says so.
//! The reply speaks the keyword's language when the keyword has one, else the language of
//! the booking it is about, else the tenant's default.
//! Reschedule links and replies to unrecognised text count against the tenant's SMS rate
//! limit for that phone (a loop between two auto-responders stops there).

use chrono::Duration;
use chrono_tz::Tz;
use serde_json::json;

use crate::db::bookings::AppointmentRow;
use crate::db::{calls, sms, tenants};
use crate::domain::{Email, Locale, PhoneE164, ReferenceCode, TenantId};
use crate::services::booking::{BookingError, BookingService};
use crate::services::handoff::{HandoffContext, HandoffError, HandoffService};
use crate::services::sms::SmsError;
use crate::services::voice::twiml::{self, Response};
use crate::text::{self, Sms};

/// How long "reply X again" stays open.
const CANCEL_CONFIRM_MINUTES: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
    Help,
    Confirm,
    Reschedule,
    Cancel,
    /// BOOK: take the time a waitlist offer holds.
    Book,
    /// LEAVE: leave the waitlist.
    Leave,
    Other,
}

/// The single word of a message, upper-cased (None when it is more than one word).
fn keyword_word(body: &str) -> Option<String> {
    let word = body
        .trim()
        .trim_matches(|c: char| {
            c.is_ascii_punctuation() || c.is_whitespace() || c == '¡' || c == '¿'
        })
        .to_uppercase();
    (!word.contains(char::is_whitespace)).then_some(word)
}

/// Classifies a message body (single-word keywords only).
pub fn classify(body: &str) -> Keyword {
    classify_in(body).0
}

/// The keyword and the language it is a word of (None for C, R, X and ordinary text).
pub fn classify_in(body: &str) -> (Keyword, Option<Locale>) {
    let Some(word) = keyword_word(body) else {
        return (Keyword::Other, None);
    };
    let en = Some(Locale::En);
    let es = Some(Locale::Es);
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "REVOKE" | "OPTOUT" => {
            (Keyword::OptOut, en)
        }
        "PARAR" | "BAJA" | "CANCELAR" | "ALTO" | "FIN" | "DETENER" => (Keyword::OptOut, es),
        "START" | "YES" | "UNSTOP" => (Keyword::OptIn, en),
        "INICIAR" | "ALTA" | "SI" | "SÍ" => (Keyword::OptIn, es),
        "HELP" | "INFO" => (Keyword::Help, en),
        "AYUDA" => (Keyword::Help, es),
        "C" => (Keyword::Confirm, None),
        "R" => (Keyword::Reschedule, None),
        "X" => (Keyword::Cancel, None),
        "BOOK" => (Keyword::Book, en),
        "RESERVAR" => (Keyword::Book, es),
        "LEAVE" => (Keyword::Leave, en),
        "SALIR" => (Keyword::Leave, es),
        _ => (Keyword::Other, None),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("invalid {0}")]
    Invalid(&'static str),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Booking(BookingError),
}

/// One inbound message, as Twilio posted it.
#[derive(Debug, Clone)]
pub struct InboundSms<'a> {
    pub message_sid: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
}

#[derive(Clone)]
pub struct InboundService {
    booking: BookingService,
    handoff: HandoffService,
}

fn reply_xml(reply: Option<&str>) -> String {
    match reply {
        Some(text) => Response::new().verb(twiml::message(text)).to_xml(),
        None => Response::new().to_xml(),
    }
}

/// The start of booking `a` in `locale`, with the client's own time beside it when the
/// booking keeps a zone of the client's that reads another clock.
fn when_for(locale: Locale, tz: Tz, a: &AppointmentRow) -> String {
    text::beside_client_time(
        locale,
        locale.at(
            &a.start_at.with_timezone(&tz),
            locale.text().sms.when_format,
        ),
        a.start_at,
        tz,
        text::client_zone(a.client_time_zone.as_deref()),
    )
}

impl InboundService {
    pub fn new(booking: BookingService, handoff: HandoffService) -> Self {
        Self { booking, handoff }
    }

    /// `text` with the tenant's booking link (its public booking URL, else its chat page).
    async fn with_booking_link(
        &self,
        tenant: TenantId,
        words: &Sms,
        text: String,
    ) -> Result<String, InboundError> {
        let link = crate::services::admin::booking_link_for(
            self.booking.pool(),
            self.handoff.public_base_url(),
            tenant.0,
        )
        .await?;
        Ok(match link {
            Some(l) => (words.with_link)(&text, &l),
            None => text,
        })
    }

    /// Handles one message and returns the TwiML reply.
    #[tracing::instrument(skip_all, fields(message_sid = %msg.message_sid))]
    pub async fn handle(&self, msg: &InboundSms<'_>) -> Result<String, InboundError> {
        let sid = msg.message_sid.trim();
        if sid.is_empty() || sid.len() > 64 || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(InboundError::Invalid("message_sid"));
        }
        let from = PhoneE164::parse(msg.from).map_err(|_| InboundError::Invalid("from"))?;
        let pool = self.booking.pool();
        let number = match PhoneE164::parse(msg.to) {
            Ok(to) => calls::number(pool, to.as_str()).await?,
            Err(_) => None,
        };
        let Some(number) = number.filter(|n| n.sms_enabled) else {
            tracing::info!("sms to a number no tenant answers");
            return Ok(reply_xml(None));
        };
        let tenant = TenantId(number.tenant_id);
        let now = self.booking.clock().now();
        if !sms::claim_inbound(pool, sid, Some(tenant.0), from.as_str(), now).await? {
            // A duplicate delivery: the stored answer, no second action.
            let stored = sms::inbound(pool, sid).await?;
            return Ok(reply_xml(stored.and_then(|(_, r)| r).as_deref()));
        }
        match self.act(tenant, &from, sid, msg.body).await {
            Ok((action, reply)) => {
                sms::finish_inbound(pool, sid, action, reply.as_deref()).await?;
                Ok(reply_xml(reply.as_deref()))
            }
            Err(e) => {
                // Let Twilio's retry act: the claim is released.
                if let Err(re) = sms::release_inbound(pool, sid).await {
                    tracing::error!(error = %re, "could not release an inbound sms claim");
                }
                Err(e)
            }
        }
    }

    async fn act(
        &self,
        tenant: TenantId,
        from: &PhoneE164,
        sid: &str,
        body: &str,
    ) -> Result<(&'static str, Option<String>), InboundError> {
        let pool = self.booking.pool();
        let now = self.booking.clock().now();
        let sched = self
            .booking
            .schedule(tenant)
            .await
            .map_err(InboundError::Booking)?;
        let name = sched.tenant.name.clone();
        let (mut keyword, said_in) = classify_in(body);
        // YES / SÍ from a number that never opted out answers the confirm-by-reply request
        // (like C): a client replies "Sí" to "responda C para confirmar" far more often than
        // they opt back in to texts they still get.
        let mut opted_out = None;
        if keyword == Keyword::OptIn
            && matches!(keyword_word(body).as_deref(), Some("YES" | "SI" | "SÍ"))
        {
            let out = sms::is_opted_out(pool, tenant.0, from.as_str()).await?;
            opted_out = Some(out);
            if !out {
                keyword = Keyword::Confirm;
            }
        }
        let locale = said_in.unwrap_or_else(|| sched.tenant.default_locale());
        let words = &locale.text().sms;
        match keyword {
            Keyword::OptOut => {
                let word = body.trim().to_ascii_uppercase();
                sms::set_opt_out(pool, tenant.0, from.as_str(), true, &word, Some(sid), now)
                    .await?;
                // Twilio confirms its own (English) opt-out words; the others we confirm.
                let reply = (said_in != Some(Locale::En)).then(|| (words.opted_out)(&name));
                return Ok(("opt_out", reply));
            }
            Keyword::OptIn => {
                let word = body.trim().to_ascii_uppercase();
                sms::set_opt_out(pool, tenant.0, from.as_str(), false, &word, Some(sid), now)
                    .await?;
                return Ok(("opt_in", Some((words.opted_in)(&name))));
            }
            Keyword::Help => {
                return Ok(("help", Some((words.help)(&name))));
            }
            _ => {}
        }
        let opted_out = match opted_out {
            Some(known) => known,
            None => sms::is_opted_out(pool, tenant.0, from.as_str()).await?,
        };
        if opted_out {
            return Ok(("ignored_opted_out", None));
        }
        // Links and unprompted replies count against the tenant's limit for this phone; a C or X is the
        // client's own request about their booking and is always acted on and answered.
        let counted = matches!(keyword, Keyword::Reschedule | Keyword::Other);
        if let Err(e) = match counted {
            true => self.handoff.sms().take_rate(Some(tenant), from).await,
            false => Ok(()),
        } {
            return match e {
                SmsError::RateLimited => Ok(("rate_limited", None)),
                SmsError::Database(e) => Err(e.into()),
                _ => Ok(("rate_limited", None)),
            };
        }
        match keyword {
            Keyword::Book => return self.accept_offer(tenant, from, &name, words).await,
            Keyword::Leave => {
                let n = self
                    .booking
                    .leave_waitlist_by_phone(tenant, from)
                    .await
                    .map_err(InboundError::Booking)?;
                return Ok(("waitlist_left", Some((words.waitlist_left)(&name, n))));
            }
            _ => {}
        }
        let booking = sms::next_booking_for_phone(pool, tenant.0, from.as_str(), now).await?;
        let Some(appt) = booking else {
            let text = match keyword {
                Keyword::Other => {
                    self.with_booking_link(tenant, words, (words.unknown_sender)(&name))
                        .await?
                }
                _ => (words.no_booking)(&name),
            };
            return Ok(("no_booking", Some(text)));
        };
        let locale = said_in.unwrap_or_else(|| appt.locale());
        let words = &locale.text().sms;
        let service = tenants::get_service(pool, tenant.0, appt.service_id)
            .await?
            .map(|s| s.name)
            .unwrap_or_else(|| words.appointment.into());
        let what = (words.booking)(&service, &when_for(locale, sched.tz, &appt));
        match keyword {
            Keyword::Confirm => {
                match self
                    .booking
                    .client_confirmed(
                        tenant,
                        appt.id,
                        json!({"channel": "sms", "message_sid": sid}),
                    )
                    .await
                {
                    Ok(_) => {}
                    Err(BookingError::BookingNotFound | BookingError::BookingCancelled) => {
                        return Ok(("no_booking", Some((words.not_found)(&name))))
                    }
                    Err(e) => return Err(InboundError::Booking(e)),
                }
                Ok((
                    "confirmed",
                    Some((words.attendance_confirmed)(&name, &what, &appt.reference)),
                ))
            }
            Keyword::Reschedule => {
                self.reschedule_link(tenant, from, &appt, &service, &name, words)
                    .await
            }
            Keyword::Cancel => {
                let pending = sms::take_pending(pool, tenant.0, from.as_str(), now).await?;
                if pending
                    .as_ref()
                    .is_some_and(|(a, r)| a == "cancel" && *r == appt.reference)
                {
                    let (Ok(reference), Ok(email)) = (
                        ReferenceCode::parse(&appt.reference),
                        Email::parse(&appt.client_email),
                    ) else {
                        return Ok(("cancel_failed", Some((words.cancel_failed)(&name))));
                    };
                    match self.booking.cancel(tenant, &reference, &email).await {
                        Ok(_) => Ok((
                            "cancelled",
                            Some(
                                self.with_booking_link(
                                    tenant,
                                    words,
                                    (words.cancelled)(&name, &what),
                                )
                                .await?,
                            ),
                        )),
                        Err(BookingError::BookingNotFound) => {
                            Ok(("no_booking", Some((words.not_found)(&name))))
                        }
                        Err(e @ BookingError::ChangeCutoffPassed { .. }) => Ok((
                            "change_cutoff_passed",
                            Some((words.change_cutoff)(&name, &e.to_string())),
                        )),
                        Err(e) => Err(InboundError::Booking(e)),
                    }
                } else {
                    sms::set_pending(
                        pool,
                        tenant.0,
                        from.as_str(),
                        "cancel",
                        &appt.reference,
                        now + Duration::minutes(CANCEL_CONFIRM_MINUTES),
                    )
                    .await?;
                    Ok((
                        "cancel_asked",
                        Some((words.confirm_cancel)(
                            &name,
                            CANCEL_CONFIRM_MINUTES,
                            &what,
                            &appt.reference,
                        )),
                    ))
                }
            }
            _ => Ok(("unrecognised", Some((words.unrecognised)(&name, &what)))),
        }
    }

    /// BOOK: the time held for this number's waitlist offer becomes its booking.
    async fn accept_offer(
        &self,
        tenant: TenantId,
        from: &PhoneE164,
        name: &str,
        words: &Sms,
    ) -> Result<(&'static str, Option<String>), InboundError> {
        match self
            .booking
            .accept_waitlist_offer_by_phone(tenant, from)
            .await
        {
            Ok((appt, _, tz)) => {
                let service = tenants::get_service(self.booking.pool(), tenant.0, appt.service_id)
                    .await?
                    .map(|s| s.name)
                    .unwrap_or_else(|| words.appointment.into());
                let what = (words.booking)(&service, &when_for(appt.locale(), tz, &appt));
                Ok((
                    "waitlist_booked",
                    Some((words.waitlist_booked)(name, &what, &appt.reference)),
                ))
            }
            Err(BookingError::OfferNotFound) => {
                Ok(("waitlist_no_offer", Some((words.waitlist_no_offer)(name))))
            }
            Err(
                BookingError::OfferExpired
                | BookingError::OfferClosed
                | BookingError::SlotTaken
                | BookingError::SlotUnavailable
                | BookingError::Invalid(_),
            ) => Ok((
                "waitlist_offer_gone",
                Some((words.waitlist_offer_gone)(name)),
            )),
            Err(e) => Err(InboundError::Booking(e)),
        }
    }

    async fn reschedule_link(
        &self,
        tenant: TenantId,
        from: &PhoneE164,
        appt: &AppointmentRow,
        service: &str,
        name: &str,
        words: &Sms,
    ) -> Result<(&'static str, Option<String>), InboundError> {
        let context = HandoffContext {
            channel: "sms".into(),
            intent: Some(words.intent_reschedule.into()),
            service_id: Some(appt.service_id),
            service_name: Some(service.to_string()),
            date: None,
            client_name: Some(appt.client_name.clone()),
            client_email: Some(appt.client_email.clone()),
            reference: Some(appt.reference.clone()),
            transcript: Vec::new(),
            locale: Some(appt.locale()),
            hold_id: None,
        };
        match self
            .handoff
            .create(tenant, "sms_reschedule", None, Some(from), &context)
            .await
        {
            Ok(token) => Ok((
                "reschedule_link",
                Some((words.reschedule_link)(
                    name,
                    service,
                    self.handoff.ttl_minutes(),
                    &self.handoff.link(&token),
                )),
            )),
            Err(HandoffError::Database(e)) => Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "could not create a reschedule link");
                Ok(("reschedule_failed", Some((words.link_failed)(name))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_single_words() {
        for w in [
            "STOP",
            "stop",
            " Stop. ",
            "STOPALL",
            "unsubscribe",
            "CANCEL",
            "end",
            "QUIT",
            "revoke",
            "OPTOUT",
        ] {
            assert_eq!(classify(w), Keyword::OptOut, "{w}");
        }
        for w in ["START", "yes", "Unstop!"] {
            assert_eq!(classify(w), Keyword::OptIn, "{w}");
        }
        assert_eq!(classify("help"), Keyword::Help);
        assert_eq!(classify("INFO"), Keyword::Help);
        assert_eq!(classify("c"), Keyword::Confirm);
        assert_eq!(classify("R"), Keyword::Reschedule);
        assert_eq!(classify("x."), Keyword::Cancel);
        assert_eq!(classify("Book"), Keyword::Book);
        assert_eq!(classify("leave!"), Keyword::Leave);
        assert_eq!(classify("book it"), Keyword::Other);
        assert_eq!(classify("stop please"), Keyword::Other);
        assert_eq!(classify("please cancel"), Keyword::Other);
        assert_eq!(classify(""), Keyword::Other);
    }
}
