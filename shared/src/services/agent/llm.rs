//! The LLM path: chat completions with function calling through the [`ChatModel`] port.
//! At most [`MAX_TOOL_ROUNDS`] tool rounds per message, then one forced text reply
//! (`tool_choice: none`), and the whole turn has a deadline.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Datelike;
use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::protocol::ServerMessage;
use super::tools::{tool_schemas, ToolExecutor, TurnCtx, FAR_FUTURE_DAYS};
use crate::domain::nlu;
use crate::ports::model::{ChatModel, ModelError};

pub const MAX_TOOL_ROUNDS: usize = 5;
/// The whole turn (all rounds and retries) must finish within this.
const TURN_DEADLINE: StdDuration = StdDuration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("language model did not answer in time")]
    Timeout,
}

pub struct LlmOutput {
    pub reply: String,
    /// The user's message and every assistant/tool message of the rounds (the final
    /// assistant text is appended by the caller after the reply guard).
    pub messages: Vec<Value>,
}

pub struct LlmEngine {
    model: Arc<dyn ChatModel>,
}

impl LlmEngine {
    pub fn new(model: Arc<dyn ChatModel>) -> Self {
        Self { model }
    }

    pub async fn run(
        &self,
        exec: &ToolExecutor,
        ctx: &mut TurnCtx,
        history: Vec<Value>,
        text: &str,
        progress: Option<&UnboundedSender<ServerMessage>>,
    ) -> Result<LlmOutput, LlmError> {
        tokio::time::timeout(
            TURN_DEADLINE,
            self.run_inner(exec, ctx, history, text, progress),
        )
        .await
        .map_err(|_| LlmError::Timeout)?
    }

    async fn run_inner(
        &self,
        exec: &ToolExecutor,
        ctx: &mut TurnCtx,
        history: Vec<Value>,
        text: &str,
        progress: Option<&UnboundedSender<ServerMessage>>,
    ) -> Result<LlmOutput, LlmError> {
        let user = json!({"role": "user", "content": text});
        let mut turn: Vec<Value> = vec![user];
        let system = json!({"role": "system", "content": system_prompt(ctx, text)});
        for round in 0..=MAX_TOOL_ROUNDS {
            let force_text = round == MAX_TOOL_ROUNDS;
            let mut messages = Vec::with_capacity(history.len() + turn.len() + 1);
            messages.push(system.clone());
            messages.extend(history.iter().cloned());
            messages.extend(turn.iter().cloned());
            let msg = self
                .model
                .complete(&messages, &tool_schemas(), force_text)
                .await?;
            let calls: Vec<(String, String, String)> = msg
                .tool_calls
                .into_iter()
                .map(|c| (c.id, c.name, c.arguments))
                .collect();
            if calls.is_empty() || force_text {
                let reply = msg
                    .content
                    .filter(|c| !c.trim().is_empty())
                    .unwrap_or_else(|| ctx.chat().say_another_way.into());
                return Ok(LlmOutput {
                    reply,
                    messages: turn,
                });
            }
            turn.push(json!({
                "role": "assistant",
                "content": msg.content,
                "tool_calls": calls.iter().map(|(id, name, args)| json!({
                    "id": id, "type": "function", "function": {"name": name, "arguments": args}
                })).collect::<Vec<_>>(),
            }));
            for (id, name, args) in calls {
                if let Some(p) = progress {
                    let _ = p.send(ServerMessage::Status {
                        languages: None,
                        locale: None,
                        session_id: ctx.session.as_str().to_string(),
                        state: "working",
                        text: status_text(ctx.locale, &name).into(),
                    });
                }
                let parsed: Value = serde_json::from_str(&args).unwrap_or(Value::Null);
                let result = if parsed.is_object() {
                    exec.dispatch_for_model(ctx, &name, &parsed).await
                } else {
                    json!({"ok": false, "error": {"code": "invalid_argument", "message": "arguments must be a JSON object"}})
                };
                turn.push(
                    json!({"role": "tool", "tool_call_id": id, "content": result.to_string()}),
                );
            }
        }
        Err(ModelError::Empty.into())
    }
}

/// What the status chip says while a tool runs.
pub fn status_text(locale: crate::domain::Locale, tool: &str) -> &'static str {
    let words = &locale.text().chat;
    match tool {
        "check_availability" => words.status_checking,
        "hold_slot" => words.status_holding,
        "confirm_booking" => words.status_confirming,
        "schedule_contact_followup" => words.status_followup,
        _ => words.status_working,
    }
}

fn system_prompt(ctx: &TurnCtx, text: &str) -> String {
    let tz = ctx.tz();
    let now = ctx.now.with_timezone(&tz);
    let t = &ctx.sched.tenant;
    let services: Vec<String> = ctx
        .services
        .iter()
        .map(|s| {
            format!(
                "- {} (service_id {}, {} min){}",
                s.name,
                s.id,
                s.duration_minutes,
                if s.description.is_empty() {
                    String::new()
                } else {
                    format!(": {}", s.description)
                }
            )
        })
        .collect();
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let hours: Vec<String> = ctx
        .sched
        .hours
        .days
        .iter()
        .enumerate()
        .map(|(i, iv)| {
            if iv.is_empty() {
                format!("{} closed", days[i])
            } else {
                let spans: Vec<String> = iv
                    .iter()
                    .map(|(a, b)| format!("{}–{}", a.format("%H:%M"), b.format("%H:%M")))
                    .collect();
                format!("{} {}", days[i], spans.join(", "))
            }
        })
        .collect();
    let st = &ctx.state;
    let mut known = Vec::new();
    if let Some(n) = &st.client_name {
        known.push(format!("name: {n}"));
    }
    if let Some(e) = &st.client_email {
        known.push(format!("email: {e}"));
    }
    if let Some(p) = &st.client_phone {
        known.push(format!("phone: {p}"));
    }
    if let Some(z) = &st.time_zone {
        known.push(format!("the client's own time zone: {z} (times are the business's; tool labels add the client's own time in brackets when it differs: keep it)"));
    }
    if let Some(h) = &st.active_hold {
        known.push(format!(
            "active hold: hold_id {} for {} (expires {})",
            h.hold_id,
            ctx.label(h.start),
            ctx.label(h.expires_at)
        ));
    }
    if !st.confirmed_dates.is_empty() {
        let d: Vec<String> = st.confirmed_dates.iter().map(|d| d.to_string()).collect();
        known.push(format!(
            "far-future dates the client confirmed: {}",
            d.join(", ")
        ));
    }
    let resolved = match nlu::parse_date_range(text, ctx.today()) {
        Some((a, b)) if a == b => format!("The server resolved the date in the client's latest message to {} ({}). Use it; never compute dates yourself.", a, a.weekday()),
        Some((a, b)) => format!("The server resolved the dates in the client's latest message to {a} .. {b}. Use them; never compute dates yourself."),
        None => "No date in the client's latest message.".into(),
    };
    format!(
        "You are the virtual receptionist of {name}. You book, look up, reschedule and cancel appointments and manage a waitlist, using ONLY the tools.\n\
CRITICAL RULES:\n\
1. Never invent times, dates, prices, reference codes or booking status. Tool results are the only source of truth; present only times check_availability returned.\n\
2. Never say a booking is confirmed, cancelled or rescheduled unless that tool returned ok in this very turn.\n\
3. Before confirm_booking, summarise service, time, name and email and get an explicit yes. Before cancel_booking ask \"are you sure?\". Before cancel_booking or reschedule_booking ask the client to type the email address the booking was made with, even when you already know an email: a remembered one is refused (email_required). Before reschedule_booking the client picks the new time (from check_availability called with that booking's reschedule_reference and reschedule_email, so times overlapping its current one are offered) and confirms.\n\
4. A date more than {far} days away needs the client's explicit confirmation of that exact date BEFORE hold_slot.\n\
5. For vague requests (e.g. \"the next 24 available\") ask a clarifying question before check_availability.\n\
6. You cannot make, receive or transfer phone calls. Never say you or someone will call. Offer an email or SMS follow-up instead.\n\
7. Never promise exact times for background work; say \"{sla}\".\n\
8. If nothing is available, offer the waitlist (create_inquiry) and a follow-up (schedule_contact_followup); a follow-up goes only to the client's own email or phone number from their booking or waitlist entry, and a second one needs the client's explicit yes. A client who asks to leave the waitlist: call leave_waitlist.\n\
9. Keep replies short and friendly.\n\
10. {language}\n\n\
Business: {name}. Time zone {tzname}. Now: {now}.\n\
Services:\n{services}\n\
Opening hours: {hours}.\n\
Bookings up to {ahead} days ahead, at least {notice} minutes' notice.\n\
{resolved}\n\
Known about this client: {known}.",
        name = t.name,
        far = FAR_FUTURE_DAYS,
        sla = ctx.chat().followup_sla,
        tzname = tz.name(),
        now = now.format("%A, %B %-d, %Y %H:%M"),
        services = services.join("\n"),
        hours = hours.join("; "),
        ahead = t.max_days_ahead,
        notice = t.min_notice_minutes,
        known = if known.is_empty() { "nothing yet".to_string() } else { known.join("; ") },
        language = match ctx.locale {
            crate::domain::Locale::En => "Reply in English.",
            crate::domain::Locale::Es => "Reply in Spanish (español), addressing the client as \"usted\"; slot labels from the tools are already in Spanish.",
        },
    )
}
