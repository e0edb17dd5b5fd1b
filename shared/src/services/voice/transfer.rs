//! A person to hand a call over to, and voicemail when nobody answers.
//!
//! A tenant may set a transfer number (calls) and a staff number (texts) in
//! `tenant_phone_handover`. When a caller asks for a person, or a call reaches its limits
//! (misunderstandings in a row, the call's time limit), and the tenant has a transfer number,
//! the call is transferred: `<Say>` + `<Dial action=/twilio/voice/dial>` in the same turn, and
//! the call's summary (what the caller wanted, the service, day and name gathered, the
//! caller's number) is texted to the staff number. The Dial's outcome comes back signed on
//! `/twilio/voice/dial`: `completed` ends the call politely; `busy`, `no-answer`, `failed`
//! and `canceled` go to voicemail.
//!
//! Without a transfer number, a caller who asks for a person goes to voicemail at once; on
//! the limits the call keeps the text-link offer it always had (a person cannot be reached
//! anyway, and the link lets the caller finish on their own).
//!
//! Voicemail is `<Say>` + `<Record>`; the recording's callbacks (`/twilio/voice/recorded`,
//! as the Record's action and as its `recordingStatusCallback`) write one `voicemails` row
//! per recording, audited, and the first one queues the notice: an email to the tenant's
//! admin address and a text to the staff number, through the notification outbox.
//! Transcription is asked for only where Twilio offers it: `<Record transcribe>` transcribes
//! English only, so an English call asks for it and a Spanish one does not; its callback
//! (`/twilio/voice/transcribed`) fills in the text.
//!
//! Why a call was handed over, its language and the Dial's outcome travel in the callback
//! URLs' query, which Twilio's signature covers (a changed query fails the signature check).

use chrono::NaiveDate;
use serde_json::json;
use sqlx::PgPool;

use super::twiml::{self, Element, Response};
use super::{VoiceError, VoiceService};
use crate::db::notifications::{self, NewNotification};
use crate::db::voicemail::{self as q, HandoverRow, RecordingUpsert, VoicemailRow};
use crate::db::{audit, calls};
use crate::domain::{Locale, ParseError, PhoneE164, TenantId};
use crate::text::{CallSummary, Voice, VoicemailNotice};

/// The name a real transfer goes by for the reply guard: the transfer wording is allowed
/// only in a turn where a `<Dial>` is returned with it.
pub use crate::services::agent::TRANSFER_ACTION;
/// How long the transfer number rings before the call goes to voicemail (seconds).
pub const DIAL_TIMEOUT_SECONDS: u32 = 20;
/// The longest voicemail (seconds).
pub const MAX_MESSAGE_SECONDS: u32 = 120;

/// Why a call is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The caller asked for a person.
    Asked,
    /// Misunderstandings in a row reached the limit.
    Misunderstood,
    /// The call reached its time or turn limit.
    TimeLimit,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Asked => "asked",
            Why::Misunderstood => "misunderstood",
            Why::TimeLimit => "time_limit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Why::Asked, Why::Misunderstood, Why::TimeLimit]
            .into_iter()
            .find(|w| w.as_str() == s)
    }

    fn words(self, w: &Voice) -> &'static str {
        match self {
            Why::Asked => w.why_asked,
            Why::Misunderstood => w.why_misunderstood,
            Why::TimeLimit => w.why_time_limit,
        }
    }

    fn connecting(self, w: &Voice) -> &'static str {
        match self {
            Why::Asked => w.connecting,
            Why::Misunderstood => w.connecting_after_trouble,
            Why::TimeLimit => w.connecting_time_limit,
        }
    }
}

/// The `<Dial>` outcomes that send the call to voicemail.
pub const UNANSWERED: [&str; 4] = ["busy", "no-answer", "failed", "canceled"];

/// A handover's TwiML and the words said with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub said: String,
    pub verbs: Vec<Element>,
    /// `voice_calls.end_reason` of the agent's part of the call.
    pub end_reason: &'static str,
    /// True when the TwiML transfers the call (it holds a `<Dial>`).
    pub dials: bool,
}

impl Handover {
    pub fn to_xml(&self) -> String {
        Response {
            verbs: self.verbs.clone(),
        }
        .to_xml()
    }
}

/// What the call had gathered when it is handed over.
pub struct CallFacts<'a> {
    pub tenant: TenantId,
    pub tenant_name: &'a str,
    pub call_sid: &'a str,
    pub caller: Option<&'a PhoneE164>,
    /// The tenant's number the caller dialled.
    pub our_number: &'a str,
    /// What the caller wanted ("book an appointment"), in the call's language.
    pub wants: Option<&'a str>,
    pub service: Option<&'a str>,
    pub date: Option<NaiveDate>,
    pub name: Option<&'a str>,
    pub locale: Locale,
}

fn callback_query(why: Why, locale: Locale, dial: Option<&str>) -> String {
    let mut s = format!("?why={}&lang={}", why.as_str(), locale.code());
    if let Some(d) = dial {
        s.push_str("&dial=");
        s.push_str(d);
    }
    s
}

/// `<Say>connecting…</Say><Dial action=… timeout=… callerId=…>+1…</Dial>`.
pub fn dial_twiml(
    base_url: &str,
    why: Why,
    locale: Locale,
    transfer_to: &PhoneE164,
    caller_id: &str,
) -> Handover {
    let said = why.connecting(&locale.text().voice).to_string();
    let dial = Element::new("Dial")
        .attr(
            "action",
            format!(
                "{base_url}/twilio/voice/dial{}",
                callback_query(why, locale, None)
            ),
        )
        .attr("method", "POST")
        .attr("timeout", DIAL_TIMEOUT_SECONDS.to_string())
        .attr("callerId", caller_id)
        .attr("answerOnBridge", "true")
        .text(transfer_to.as_str());
    Handover {
        verbs: vec![twiml::say_in(locale, &said), dial],
        said,
        end_reason: "transferred",
        dials: true,
    }
}

/// `<Say>leave a message…</Say><Record …/>` and, for a caller who says nothing, a goodbye.
/// Transcription is asked for English calls only (what Twilio's `<Record>` offers).
pub fn voicemail_twiml(
    base_url: &str,
    why: Why,
    locale: Locale,
    dial: Option<&str>,
    prompt: &str,
) -> Handover {
    let w = &locale.text().voice;
    let query = callback_query(why, locale, dial);
    let recorded = format!("{base_url}/twilio/voice/recorded{query}");
    let mut record = Element::new("Record")
        .attr("action", recorded.clone())
        .attr("method", "POST")
        .attr("maxLength", MAX_MESSAGE_SECONDS.to_string())
        .attr("timeout", "5")
        .attr("finishOnKey", "#")
        .attr("playBeep", "true")
        .attr("recordingStatusCallback", recorded)
        .attr("recordingStatusCallbackMethod", "POST");
    if transcribes(locale) {
        record = record.attr("transcribe", "true").attr(
            "transcribeCallback",
            format!("{base_url}/twilio/voice/transcribed{query}"),
        );
    }
    Handover {
        said: prompt.to_string(),
        verbs: vec![
            twiml::say_in(locale, prompt),
            record,
            twiml::say_in(locale, w.voicemail_nothing),
            twiml::hangup(),
        ],
        end_reason: "voicemail",
        dials: false,
    }
}

/// Whether Twilio transcribes a recording in this language.
pub fn transcribes(locale: Locale) -> bool {
    locale == Locale::En
}

fn say_end_in(locale: Locale, text: &str) -> String {
    Response::new()
        .verb(twiml::say_in(locale, text))
        .verb(twiml::hangup())
        .to_xml()
}

/// A recording callback, as Twilio posts it.
pub struct Recording<'a> {
    pub call_sid: &'a str,
    pub recording_sid: &'a str,
    pub recording_url: Option<&'a str>,
    pub duration_seconds: Option<i32>,
    pub why: Why,
    pub dial: Option<&'a str>,
    pub locale: Locale,
}

/// A transcription callback, as Twilio posts it.
pub struct Transcription<'a> {
    pub call_sid: &'a str,
    pub recording_sid: &'a str,
    pub recording_url: Option<&'a str>,
    /// `completed` or `failed`.
    pub status: &'a str,
    pub text: Option<&'a str>,
    pub why: Why,
    pub dial: Option<&'a str>,
    pub locale: Locale,
}

impl VoiceService {
    /// The deployment's public URL the callbacks are built on.
    fn base_url(&self) -> &str {
        self.gather_url.trim_end_matches("/twilio/voice/gather")
    }

    /// Hands the call over: a transfer when the tenant has a transfer number, voicemail when
    /// the caller asked and it has none; `None` on a limit without a transfer number (the
    /// caller keeps the text-link offer).
    pub(super) async fn hand_over(
        &self,
        f: &CallFacts<'_>,
        why: Why,
    ) -> Result<Option<Handover>, VoiceError> {
        let pool = self.booking.pool();
        let numbers = q::handover(pool, f.tenant.0).await?;
        let transfer_to = numbers
            .transfer_number
            .as_deref()
            .and_then(|n| PhoneE164::parse(n).ok());
        let Some(transfer_to) = transfer_to else {
            if why != Why::Asked {
                return Ok(None);
            }
            let prompt = f.locale.text().voice.voicemail_no_transfer;
            let h = voicemail_twiml(self.base_url(), why, f.locale, None, prompt);
            self.audit_call(f, "voice.voicemail_offered", json!({ "why": why.as_str() }))
                .await?;
            return Ok(Some(h));
        };
        let staff_texted = match numbers
            .staff_number
            .as_deref()
            .and_then(|n| PhoneE164::parse(n).ok())
        {
            Some(staff) => self.text_summary(f, why, &staff).await?,
            None => false,
        };
        self.audit_call(
            f,
            "voice.transferred",
            json!({ "why": why.as_str(), "staff_texted": staff_texted }),
        )
        .await?;
        Ok(Some(dial_twiml(
            self.base_url(),
            why,
            f.locale,
            &transfer_to,
            f.our_number,
        )))
    }

    /// Texts the call's summary to the staff number; a refused or failed text is logged
    /// (without the numbers) and the transfer goes ahead.
    async fn text_summary(
        &self,
        f: &CallFacts<'_>,
        why: Why,
        staff: &PhoneE164,
    ) -> Result<bool, VoiceError> {
        let w = &f.locale.text().voice;
        let day = f.date.map(|d| f.locale.date(d, w.handover_date_format));
        let body = (w.handover_sms)(&CallSummary {
            tenant: f.tenant_name,
            why: why.words(w),
            caller: f.caller.map(PhoneE164::as_str).unwrap_or(w.unknown_caller),
            wants: f.wants,
            service: f.service,
            day: day.as_deref(),
            name: f.name,
        });
        match self
            .handoff
            .sms()
            .send(f.tenant, Some(f.our_number), staff, &body)
            .await
        {
            Ok(_) => Ok(true),
            Err(crate::services::sms::SmsError::Database(e)) => Err(VoiceError::Database(e)),
            Err(e) => {
                tracing::warn!(error = %e, "the call's summary could not be texted to the staff");
                Ok(false)
            }
        }
    }

    async fn audit_call(
        &self,
        f: &CallFacts<'_>,
        event: &str,
        payload: serde_json::Value,
    ) -> Result<(), VoiceError> {
        let mut conn = self.booking.pool().acquire().await?;
        audit::record(
            &mut conn,
            audit::AuditEntry {
                tenant_id: Some(f.tenant.0),
                event_type: event,
                entity_type: "voice_call",
                entity_id: Some(f.call_sid.to_string()),
                actor: "voice_agent",
                payload,
            },
        )
        .await?;
        Ok(())
    }

    /// `POST /twilio/voice/dial`: the transfer's outcome. Answered and finished: goodbye;
    /// not answered: voicemail.
    pub async fn dial_result(
        &self,
        call_sid: &str,
        dial_status: &str,
        why: Why,
        locale: Locale,
    ) -> Result<String, VoiceError> {
        let w = &locale.text().voice;
        let mut conn = self.booking.pool().acquire().await?;
        let Some(call) = calls::load_call(&mut conn, call_sid).await? else {
            return Ok(say_end_in(locale, w.lost_track));
        };
        if !UNANSWERED.contains(&dial_status) {
            return Ok(say_end_in(locale, w.transfer_done));
        }
        audit::record(
            &mut conn,
            audit::AuditEntry {
                tenant_id: Some(call.tenant_id),
                event_type: "voice.transfer_unanswered",
                entity_type: "voice_call",
                entity_id: Some(call_sid.to_string()),
                actor: "voice_agent",
                payload: json!({ "why": why.as_str(), "dial_status": dial_status }),
            },
        )
        .await?;
        Ok(voicemail_twiml(
            self.base_url(),
            why,
            locale,
            Some(dial_status),
            w.voicemail_prompt,
        )
        .to_xml())
    }

    /// `POST /twilio/voice/recorded`: a recording of a call (the Record's action or its
    /// status callback). The first callback for a recording writes the voicemail, audits it
    /// and queues the notice; later ones complete it. `None`: no such call.
    pub async fn recorded(&self, r: &Recording<'_>) -> Result<Option<VoicemailRow>, VoiceError> {
        let status = if transcribes(r.locale) {
            "requested"
        } else {
            "not_offered"
        };
        self.save_recording(
            r.call_sid,
            r.recording_sid,
            r.recording_url,
            r.duration_seconds,
            r.why,
            r.dial,
            r.locale,
            None,
            Some(status),
        )
        .await
    }

    /// `POST /twilio/voice/transcribed`: the text of a recording (English calls).
    pub async fn transcribed(
        &self,
        t: &Transcription<'_>,
    ) -> Result<Option<VoicemailRow>, VoiceError> {
        let done = t.status == "completed";
        self.save_recording(
            t.call_sid,
            t.recording_sid,
            t.recording_url,
            None,
            t.why,
            t.dial,
            t.locale,
            t.text.filter(|_| done),
            Some(if done { "completed" } else { "failed" }),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn save_recording(
        &self,
        call_sid: &str,
        recording_sid: &str,
        recording_url: Option<&str>,
        duration_seconds: Option<i32>,
        why: Why,
        dial: Option<&str>,
        locale: Locale,
        transcription: Option<&str>,
        transcription_status: Option<&str>,
    ) -> Result<Option<VoicemailRow>, VoiceError> {
        let pool = self.booking.pool();
        let now = self.booking.clock().now();
        let mut tx = pool.begin().await?;
        let Some(call) = calls::load_call(&mut tx, call_sid).await? else {
            return Ok(None);
        };
        let (row, inserted) = q::upsert(
            &mut tx,
            &RecordingUpsert {
                tenant_id: call.tenant_id,
                call_sid,
                recording_sid,
                caller_number: &call.from_number,
                recording_url,
                duration_seconds,
                reason: why.as_str(),
                dial_status: dial.filter(|d| UNANSWERED.contains(d)),
                locale: locale.code(),
                transcription,
                transcription_status,
                now,
            },
        )
        .await?;
        let event = if inserted {
            "voicemail.recorded"
        } else if transcription_status == Some("completed")
            || transcription_status == Some("failed")
        {
            "voicemail.transcribed"
        } else {
            "voicemail.updated"
        };
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(call.tenant_id),
                event_type: event,
                entity_type: "voicemail",
                entity_id: Some(row.id.to_string()),
                actor: "twilio",
                payload: json!({
                    "call_sid": call_sid,
                    "recording_sid": recording_sid,
                    "recording_url": row.recording_url,
                    "phone": row.caller_number,
                    "duration_seconds": row.duration_seconds,
                    "why": row.reason,
                    "dial_status": row.dial_status,
                    "transcription_status": row.transcription_status,
                }),
            },
        )
        .await?;
        if inserted {
            self.queue_notice(&mut tx, &row).await?;
        }
        tx.commit().await?;
        Ok(Some(row))
    }

    /// The notice of a new voicemail: an email to the tenant's admin address and a text to
    /// the staff number, each when set (the outbox delivers them, with retries).
    async fn queue_notice(
        &self,
        tx: &mut sqlx::PgConnection,
        row: &VoicemailRow,
    ) -> Result<(), VoiceError> {
        let locale = Locale::from_code(&row.locale).unwrap_or(Locale::En);
        let w = &locale.text().voice;
        let tenant_name = crate::db::tenants::get_tenant(&mut *tx, row.tenant_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let url = row.recording_url.as_deref().unwrap_or_default();
        let why = Why::parse(&row.reason).unwrap_or(Why::Asked).words(w);
        let meta = json!({ "voicemail_id": row.id, "call_sid": row.call_sid });
        let admin = notifications::tenant_admin_email(&mut *tx, row.tenant_id).await?;
        if let Some(admin) = admin {
            notifications::enqueue(
                tx,
                &NewNotification {
                    tenant_id: row.tenant_id,
                    channel: "email",
                    kind: "voicemail",
                    recipient: admin,
                    subject: Some((w.voicemail_email_subject)(
                        &tenant_name,
                        &row.caller_number,
                    )),
                    body: (w.voicemail_email_body)(&VoicemailNotice {
                        tenant: &tenant_name,
                        caller: &row.caller_number,
                        why,
                        seconds: row.duration_seconds,
                        recording_url: url,
                        transcription: row.transcription.as_deref(),
                    }),
                    metadata: meta.clone(),
                    idempotency_key: format!("voicemail:{}:email", row.recording_sid),
                    booking_id: None,
                    job_id: None,
                },
            )
            .await?;
        }
        let staff = q::handover(&mut *tx, row.tenant_id).await?.staff_number;
        if let Some(staff) = staff {
            notifications::enqueue(
                tx,
                &NewNotification {
                    tenant_id: row.tenant_id,
                    channel: "sms",
                    kind: "voicemail",
                    recipient: staff,
                    subject: None,
                    body: (w.voicemail_sms)(&tenant_name, &row.caller_number, url),
                    metadata: meta,
                    idempotency_key: format!("voicemail:{}:sms", row.recording_sid),
                    booking_id: None,
                    job_id: None,
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// Turns a raw query's `why`, `lang` and `dial` into their values; unknown ones are refused.
pub fn parse_callback_query(
    why: Option<&str>,
    lang: Option<&str>,
    dial: Option<&str>,
) -> Result<(Why, Locale, Option<String>), ParseError> {
    let why = match why {
        None => Why::Asked,
        Some(w) => Why::parse(w).ok_or_else(|| ParseError::new("why", "unknown reason"))?,
    };
    let locale = match lang {
        None => Locale::En,
        Some(l) => {
            Locale::from_code(l).ok_or_else(|| ParseError::new("lang", "unknown language"))?
        }
    };
    let dial = match dial {
        None => None,
        Some(d) if UNANSWERED.contains(&d) => Some(d.to_string()),
        Some(_) => return Err(ParseError::new("dial", "unknown dial status")),
    };
    Ok((why, locale, dial))
}

// ---- the admin side -------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("tenant not found")]
    TenantNotFound,
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// A tenant's handover numbers.
pub async fn handover_numbers(pool: &PgPool, tenant: TenantId) -> Result<HandoverRow, sqlx::Error> {
    q::handover(pool, tenant.0).await
}

/// An E.164 number or none (`None`, `""`); `field` names the JSON field in the error.
pub fn parse_number(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<PhoneE164>, ParseError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(r) => PhoneE164::parse(r)
            .map(Some)
            .map_err(|e| ParseError::new(field, e.reason.clone())),
    }
}

/// Sets a tenant's handover numbers (audited as `tenant.phone_handover_set`).
pub async fn set_handover_numbers(
    pool: &PgPool,
    now: chrono::DateTime<chrono::Utc>,
    tenant: TenantId,
    transfer: Option<&PhoneE164>,
    staff: Option<&PhoneE164>,
) -> Result<HandoverRow, HandoverError> {
    let row = HandoverRow {
        transfer_number: transfer.map(|p| p.as_str().to_string()),
        staff_number: staff.map(|p| p.as_str().to_string()),
    };
    let mut tx = pool.begin().await?;
    if !q::set_handover(&mut tx, tenant.0, &row, now).await? {
        return Err(HandoverError::TenantNotFound);
    }
    audit::record(
        &mut tx,
        audit::AuditEntry {
            tenant_id: Some(tenant.0),
            event_type: "tenant.phone_handover_set",
            entity_type: "tenant",
            entity_id: Some(tenant.0.to_string()),
            actor: audit::ADMIN,
            payload: json!({
                "transfer_phone": row.transfer_number,
                "staff_phone": row.staff_number,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A tenant's voicemails, newest first (at most `limit`).
pub async fn voicemails(
    pool: &PgPool,
    tenant: TenantId,
    limit: i64,
) -> Result<Vec<VoicemailRow>, sqlx::Error> {
    q::list(pool, tenant.0, limit.clamp(1, 500)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::services::agent::unsafe_reply;

    #[test]
    fn the_transfer_words_come_only_with_a_dial() {
        let to = PhoneE164::parse("+15555550100").unwrap();
        for locale in [Locale::En, Locale::Es] {
            for why in [Why::Asked, Why::Misunderstood, Why::TimeLimit] {
                let h = dial_twiml("https://x.test", why, locale, &to, "+15555550199");
                assert!(h.dials);
                let xml = h.to_xml();
                assert!(xml.contains("<Dial action=\"https://x.test/twilio/voice/dial?why="));
                assert!(xml.contains(">+15555550100</Dial>"), "{xml}");
                // The words a real transfer says pass the guard only with the transfer.
                assert!(
                    unsafe_reply(locale, &h.said, &[TRANSFER_ACTION]).is_none(),
                    "{}",
                    h.said
                );
                assert!(unsafe_reply(locale, &h.said, &[]).is_some(), "{}", h.said);
            }
        }
        let en = &Locale::En.text().voice;
        // In a chat (no transfer happened) the same words are a promise the guard stops.
        assert_eq!(
            unsafe_reply(Locale::En, en.connecting, &[]).map(|r| r.0),
            Some("promised_call")
        );
        // Voicemail never claims a transfer.
        for locale in [Locale::En, Locale::Es] {
            let v = &locale.text().voice;
            for prompt in [v.voicemail_prompt, v.voicemail_no_transfer] {
                let h = voicemail_twiml("https://x.test", Why::Asked, locale, None, prompt);
                assert!(!h.dials && !h.to_xml().contains("<Dial"));
                assert!(unsafe_reply(locale, &h.said, &[]).is_none(), "{}", h.said);
            }
        }
    }

    #[test]
    fn transcription_only_in_english() {
        let en =
            voicemail_twiml("https://x.test", Why::Asked, Locale::En, Some("busy"), "p").to_xml();
        assert!(en.contains("transcribe=\"true\""), "{en}");
        assert!(
            en.contains("recorded?why=asked&amp;lang=en&amp;dial=busy"),
            "{en}"
        );
        let es = voicemail_twiml("https://x.test", Why::Asked, Locale::Es, None, "p").to_xml();
        assert!(!es.contains("transcribe"), "{es}");
        assert!(es.contains("language=\"es-US\""), "{es}");
    }

    #[test]
    fn callback_queries() {
        assert_eq!(
            parse_callback_query(Some("time_limit"), Some("es"), Some("no-answer")).unwrap(),
            (Why::TimeLimit, Locale::Es, Some("no-answer".into()))
        );
        assert!(parse_callback_query(Some("x"), None, None).is_err());
        assert!(parse_callback_query(None, Some("fr"), None).is_err());
        assert!(parse_callback_query(None, None, Some("completed")).is_err());
    }
}
