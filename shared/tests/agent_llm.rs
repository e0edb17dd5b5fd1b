//! The LLM path: async-openai against a scripted OpenAI-compatible HTTP server (axum, on a
//! real socket, started inside each test) and a real Postgres. The script sees every
//! request, so the tests check what the model was sent (tools, temperature, tool results
//! threaded back, the forced text round) as well as what the agent did.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use gomomo::config::AgentConfig;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::admin;
use gomomo::services::agent::{Agent, AgentEvent, SYSTEM_ISSUE_REPLY};
use gomomo::services::{BookingService, Clock};
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{december_7_8am, CONSULT};

type Step = Box<dyn Fn(&Value) -> (u16, Value) + Send + Sync>;

#[derive(Clone, Default)]
struct Script {
    steps: Arc<Mutex<VecDeque<Step>>>,
    seen: Arc<Mutex<Vec<Value>>>,
}

impl Script {
    fn push(&self, f: impl Fn(&Value) -> (u16, Value) + Send + Sync + 'static) {
        self.steps.lock().unwrap().push_back(Box::new(f));
    }
    fn seen(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}

async fn completions(State(s): State<Script>, Json(req): Json<Value>) -> (StatusCode, Json<Value>) {
    s.seen.lock().unwrap().push(req.clone());
    let step = s.steps.lock().unwrap().pop_front();
    let (status, body) = match step {
        Some(f) => f(&req),
        None => (
            500,
            json!({"error": {"message": "script exhausted", "type": "server_error"}}),
        ),
    };
    (StatusCode::from_u16(status).unwrap(), Json(body))
}

async fn serve(script: Script) -> String {
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

fn text(content: &str) -> (u16, Value) {
    (
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content}}]}),
    )
}

fn call(name: &str, args: Value) -> (u16, Value) {
    (
        200,
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "finish_reason": "tool_calls",
                            "message": {"role": "assistant", "content": null, "tool_calls": [
                                {"id": format!("call_{name}"), "type": "function",
                                 "function": {"name": name, "arguments": args.to_string()}}]}}]}),
    )
}

/// The JSON result of the last tool message the model was sent.
fn last_tool_result(req: &Value) -> Value {
    let msgs = req["messages"].as_array().unwrap();
    let m = msgs.iter().rev().find(|m| m["role"] == "tool").unwrap();
    serde_json::from_str(m["content"].as_str().unwrap()).unwrap()
}

struct Fx {
    agent: Agent,
    tenant: TenantId,
    session: SessionId,
    script: Script,
}

async fn fixture(pool: &PgPool) -> Fx {
    let seed = admin::seed_demo(pool).await.unwrap();
    let script = Script::default();
    let base = serve(script.clone()).await;
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let config = AgentConfig {
        openai_api_key: Some("sk-test".into()),
        openai_base_url: Some(base),
        openai_model: "gpt-4o".into(),
        openai_timeout: std::time::Duration::from_secs(5),
        limits: Default::default(),
    };
    let agent = gomomo::app::agent(booking, &config);
    assert_eq!(agent.engine_name(), "llm");
    Fx {
        agent,
        tenant: TenantId(seed.tenant_id),
        session: SessionId::parse("web-llm").unwrap(),
        script,
    }
}

impl Fx {
    async fn say(&self, text: &str) -> gomomo::services::agent::TurnResult {
        self.agent
            .handle_turn(self.tenant, &self.session, "web", text, None)
            .await
            .unwrap()
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn tool_calls_are_executed_and_results_threaded_back(pool: PgPool) {
    let fx = fixture(&pool).await;
    // Turn 1: availability (relative date resolved by the server), then a hold, then text.
    fx.script.push(|_| {
        call(
            "check_availability",
            json!({"service_id": CONSULT, "start_date": "tomorrow"}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["ok"], true, "{r}");
        let first = r["result"]["slots"][0]["start"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(first.starts_with("2026-12-08T09:00:00-05:00"), "{first}");
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": first}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["ok"], true, "{r}");
        text("I'm holding Tuesday at 9:00 AM for you. What's your name and email?")
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = fx
        .agent
        .handle_turn(
            fx.tenant,
            &fx.session,
            "web",
            "Can I get a consultation tomorrow morning?",
            Some(&tx),
        )
        .await
        .unwrap();
    assert!(r.reply.starts_with("I'm holding Tuesday"), "{}", r.reply);
    assert!(matches!(r.events[0], AgentEvent::HoldPlaced { .. }));
    let mut statuses = Vec::new();
    while let Ok(m) = rx.try_recv() {
        statuses.push(m.to_frame());
    }
    assert_eq!(statuses.len(), 2, "one status per tool call");

    let seen = fx.script.seen();
    assert_eq!(seen.len(), 3);
    let first = &seen[0];
    assert!((first["temperature"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    assert_eq!(
        first["tools"].as_array().unwrap().len(),
        9,
        "the nine tools, leave_waitlist included"
    );
    assert_eq!(first["tool_choice"], "auto");
    let system = first["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("CRITICAL RULES") && system.contains("Consultation"),
        "{system}"
    );
    assert!(
        system.contains("2026-12-08"),
        "the server resolves 'tomorrow': {system}"
    );
    // the tool call and its result come back in the next request, ids matching
    let msgs = seen[1]["messages"].as_array().unwrap();
    let n = msgs.len();
    assert_eq!(
        msgs[n - 2]["tool_calls"][0]["id"],
        "call_check_availability"
    );
    assert_eq!(msgs[n - 1]["role"], "tool");
    assert_eq!(msgs[n - 1]["tool_call_id"], "call_check_availability");

    // Turn 2: the model confirms with the hold id from the history.
    fx.script.push(|req| {
        let msgs = req["messages"].as_array().unwrap();
        let hold = msgs
            .iter()
            .filter(|m| m["role"] == "tool")
            .map(|m| serde_json::from_str::<Value>(m["content"].as_str().unwrap()).unwrap())
            .find(|v| v["result"]["hold_id"].is_string())
            .unwrap();
        call("confirm_booking", json!({"hold_id": hold["result"]["hold_id"], "client_name": "Jane Doe", "client_email": "jane@example.com"}))
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        let code = r["result"]["reference"].as_str().unwrap().to_string();
        text(&format!(
            "You're all set — your appointment is confirmed. Reference {code}."
        ))
    });
    let r = fx.say("Jane Doe, jane@example.com — yes, book it").await;
    assert!(r.reply.contains("You're all set"), "{}", r.reply);
    let reference = match &r.events[0] {
        AgentEvent::BookingConfirmed { reference, .. } => reference.clone(),
        e => panic!("{e:?}"),
    };
    let (email,): (String,) =
        sqlx::query_as("SELECT client_email FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(email, "jane@example.com");
    // the whole exchange (user, tool calls, tool results, replies) is stored in order
    let (roles,): (Vec<String>,) =
        sqlx::query_as("SELECT array_agg(role ORDER BY id) FROM chat_messages")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
            "user",
            "assistant",
            "tool",
            "assistant"
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn five_tool_rounds_then_a_forced_text_reply(pool: PgPool) {
    let fx = fixture(&pool).await;
    for _ in 0..6 {
        fx.script.push(|req| {
            if req["tool_choice"] == "none" {
                text("Here is what I found so far.")
            } else {
                call(
                    "check_availability",
                    json!({"service_id": CONSULT, "start_date": "tomorrow"}),
                )
            }
        });
    }
    let r = fx.say("what's free tomorrow?").await;
    assert_eq!(r.reply, "Here is what I found so far.");
    let seen = fx.script.seen();
    assert_eq!(seen.len(), 6, "5 tool rounds + 1 forced text round");
    assert!(seen[..5].iter().all(|r| r["tool_choice"] == "auto"));
    assert_eq!(seen[5]["tool_choice"], "none");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_claimed_confirmation_without_the_tool_is_overruled(pool: PgPool) {
    let fx = fixture(&pool).await;
    fx.script
        .push(|_| text("Great news — your appointment is confirmed for Tuesday at 9!"));
    let r = fx.say("book me tuesday at 9").await;
    assert!(!r.reply.contains("confirmed for"), "{}", r.reply);
    assert!(r.reply.contains("haven't completed"), "{}", r.reply);
    fx.script
        .push(|_| text("No problem, I'll have someone call you back this afternoon."));
    let r = fx.say("can someone phone me?").await;
    assert!(
        r.reply
            .contains("can't make, receive or transfer phone calls"),
        "{}",
        r.reply
    );
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE event_type = 'agent.reply_overruled'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 2);
    let (stored,): (String,) = sqlx::query_as(
        "SELECT message->>'content' FROM chat_messages WHERE role = 'assistant' ORDER BY id LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        stored.contains("haven't completed"),
        "the safe reply is what the history keeps"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_hold_45_days_out_needs_an_earlier_confirmation(pool: PgPool) {
    let fx = fixture(&pool).await;
    sqlx::query("UPDATE tenants SET max_days_ahead = 60")
        .execute(&pool)
        .await
        .unwrap();
    let far = "2027-01-21T10:00:00-05:00";
    // GIVEN the model tries to hold a date 45 days out in the same turn the user named it
    fx.script.push(move |_| {
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": far}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["error"]["code"], "date_confirmation_required", "{r}");
        text("Just to confirm: Thursday, January 21, 2027?")
    });
    let r = fx.say("I'd like January 21 at 10am").await;
    assert!(r.reply.contains("Just to confirm"));
    let (holds,): (i64,) = sqlx::query_as("SELECT count(*) FROM availability_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(holds, 0, "refused in code");
    // WHEN the user confirms in a later turn THEN the same call succeeds
    fx.script.push(move |_| {
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": far}),
        )
    });
    fx.script.push(|req| {
        assert_eq!(last_tool_result(req)["ok"], true);
        text("Holding it for you.")
    });
    fx.say("yes, that's right").await;
    let (holds,): (i64,) = sqlx::query_as("SELECT count(*) FROM availability_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(holds, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn rate_limits_and_server_errors_are_retried_then_reported_politely(pool: PgPool) {
    let fx = fixture(&pool).await;
    fx.script.push(|_| {
        (
            429,
            json!({"error": {"message": "slow down", "type": "rate_limit_error"}}),
        )
    });
    fx.script.push(|_| {
        (
            503,
            json!({"error": {"message": "overloaded", "type": "server_error"}}),
        )
    });
    fx.script.push(|_| text("Hello! How can I help?"));
    let r = fx.say("hi").await;
    assert_eq!(r.reply, "Hello! How can I help?");
    assert_eq!(fx.script.seen().len(), 3);

    // a model that keeps failing: a polite system-issue reply and an audit entry
    for _ in 0..4 {
        fx.script.push(|_| {
            (
                500,
                json!({"error": {"message": "boom", "type": "server_error"}}),
            )
        });
    }
    let r = fx.say("hello again").await;
    assert_eq!(r.reply, SYSTEM_ISSUE_REPLY);
    assert!(r.events.contains(&AgentEvent::SystemIssue));
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE event_type = 'agent.llm_failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_followup_goes_only_to_the_client_who_booked(pool: PgPool) {
    let fx = fixture(&pool).await;
    // GIVEN a booking made in this chat with the client's email and phone
    fx.script.push(|_| {
        call(
            "check_availability",
            json!({"service_id": CONSULT, "start_date": "tomorrow"}),
        )
    });
    fx.script.push(|req| {
        let first = last_tool_result(req)["result"]["slots"][0]["start"].clone();
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": first}),
        )
    });
    fx.script.push(|req| {
        let hold = last_tool_result(req)["result"]["hold_id"].clone();
        call(
            "confirm_booking",
            json!({"hold_id": hold, "client_name": "Jane Doe", "client_email": "jane@example.com",
                   "client_phone": "+15555550100"}),
        )
    });
    fx.script.push(|req| {
        assert_eq!(last_tool_result(req)["ok"], true);
        text("Done: you have Tuesday at 9:00 AM.")
    });
    fx.say("Consultation tomorrow 9am, Jane Doe, jane@example.com, +1 555 555 0100, yes")
        .await;
    // WHEN the model asks for a follow-up to someone else, with a text of its choosing
    fx.script.push(|_| {
        call(
            "schedule_contact_followup",
            json!({"channel": "email", "recipient": "victim@example.net",
                   "reason": "your account is locked, pay at evil.example"}),
        )
    });
    // THEN the tool refuses with an error the model can relay, and it falls back to the
    // client's own phone number
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["error"]["code"], "recipient_not_allowed", "{r}");
        let system = req["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("phone: +15555550100"), "{system}");
        call(
            "schedule_contact_followup",
            json!({"channel": "sms", "reason": "other times"}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["ok"], true, "{r}");
        text("I can only message you, not someone else; I've asked for a text to your phone.")
    });
    let r = fx.say("please email victim@example.net about it").await;
    assert!(r.reply.contains("only message you"), "{}", r.reply);
    assert_eq!(fx.script.seen().len(), 7, "every scripted step ran");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, recipient FROM followup_contacts")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows, [("sms".to_string(), "+15555550100".to_string())]);
    let (events,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM outbox WHERE event_type = 'FollowupRequested'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(events, 1);
    let (refused, leaked): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE event_type = 'followup.recipient_refused'),
                count(*) FILTER (WHERE payload::text LIKE '%victim%')
           FROM audit_log",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((refused, leaked), (1, 0));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancel_needs_the_email_typed_for_it(pool: PgPool) {
    let fx = fixture(&pool).await;
    let reference = Arc::new(Mutex::new(String::new()));
    // GIVEN a booking made in this chat: the conversation remembers jane@example.com
    fx.script.push(|_| {
        call(
            "check_availability",
            json!({"service_id": CONSULT, "start_date": "tomorrow"}),
        )
    });
    fx.script.push(|req| {
        let first = last_tool_result(req)["result"]["slots"][0]["start"].clone();
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": first}),
        )
    });
    fx.script.push(|req| {
        let hold = last_tool_result(req)["result"]["hold_id"].clone();
        call(
            "confirm_booking",
            json!({"hold_id": hold, "client_name": "Jane Doe", "client_email": "jane@example.com"}),
        )
    });
    let r2 = reference.clone();
    fx.script.push(move |req| {
        let r = last_tool_result(req);
        *r2.lock().unwrap() = r["result"]["reference"].as_str().unwrap().to_string();
        text("Done.")
    });
    fx.say("Consultation tomorrow 9am, Jane Doe, jane@example.com, yes")
        .await;
    let code = reference.lock().unwrap().clone();
    assert!(!code.is_empty());

    // WHEN whoever holds the session asks to cancel and the model fills in the email it
    // knows THEN the tool refuses: the remembered email is not enough
    let c = code.clone();
    fx.script.push(move |_| {
        call(
            "cancel_booking",
            json!({"reference": c, "email": "jane@example.com"}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["error"]["code"], "email_required", "{r}");
        text("Please type the email address the booking was made with.")
    });
    fx.say("cancel my booking").await;
    let status = |pool: PgPool, code: String| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM appointments WHERE reference = $1")
            .bind(code)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(status(pool.clone(), code.clone()).await, "confirmed");

    // a wrong email typed for it: the same answer as a wrong reference
    let c = code.clone();
    fx.script.push(move |_| {
        call(
            "cancel_booking",
            json!({"reference": c, "email": "eve@example.com"}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["error"]["code"], "booking_not_found", "{r}");
        text("I couldn't find that booking.")
    });
    fx.say("eve@example.com").await;
    assert_eq!(status(pool.clone(), code.clone()).await, "confirmed");

    // AND with the booking's email typed now, the model must still get the client's yes
    let c = code.clone();
    fx.script.push(move |_| {
        call(
            "cancel_booking",
            json!({"reference": c, "email": "jane@example.com"}),
        )
    });
    fx.script.push(|req| {
        let r = last_tool_result(req);
        assert_eq!(r["error"]["code"], "confirmation_required", "{r}");
        text("Are you sure you want to cancel it?")
    });
    fx.say("sorry, it's jane@example.com").await;
    assert_eq!(status(pool.clone(), code.clone()).await, "confirmed");

    // AND with the yes, it is cancelled
    let c = code.clone();
    fx.script.push(move |_| {
        call(
            "cancel_booking",
            json!({"reference": c, "email": "jane@example.com"}),
        )
    });
    fx.script.push(|req| {
        assert_eq!(last_tool_result(req)["ok"], true);
        text("Cancelled.")
    });
    fx.say("yes").await;
    assert_eq!(status(pool.clone(), code).await, "cancelled");
}

/// Holds tomorrow's first consultation through the model (availability, then the hold) in
/// one turn answering `text`, and returns the hold id.
async fn hold_first(fx: &Fx, message: &str) -> String {
    let hold = Arc::new(Mutex::new(String::new()));
    fx.script.push(|_| {
        call(
            "check_availability",
            json!({"service_id": CONSULT, "start_date": "tomorrow"}),
        )
    });
    fx.script.push(|req| {
        let first = last_tool_result(req)["result"]["slots"][0]["start"].clone();
        call(
            "hold_slot",
            json!({"service_id": CONSULT, "start_time": first}),
        )
    });
    let h = hold.clone();
    fx.script.push(move |req| {
        *h.lock().unwrap() = last_tool_result(req)["result"]["hold_id"]
            .as_str()
            .unwrap()
            .to_string();
        text("I'm holding 9:00 AM tomorrow for you. Your name and email?")
    });
    fx.say(message).await;
    let id = hold.lock().unwrap().clone();
    assert!(!id.is_empty());
    id
}

/// The model calls `tool` with `args`; the result the model got back comes out.
async fn model_calls(fx: &Fx, message: &str, tool: &'static str, args: Value) -> Value {
    let result = Arc::new(Mutex::new(Value::Null));
    fx.script.push(move |_| call(tool, args.clone()));
    let r = result.clone();
    fx.script.push(move |req| {
        *r.lock().unwrap() = last_tool_result(req);
        text("Okay.")
    });
    fx.say(message).await;
    let v = result.lock().unwrap().clone();
    v
}

async fn bookings_of(pool: &PgPool, email: &str) -> i64 {
    gomomo::db::bookings::list_appointments(
        pool,
        admin::DEMO_TENANT_ID,
        december_7_8am(),
        december_7_8am() + chrono::Duration::days(60),
        None,
        100,
    )
    .await
    .unwrap()
    .iter()
    .filter(|a| a.client_email == email)
    .count() as i64
}

#[sqlx::test(migrations = "../migrations")]
async fn confirm_booking_waits_for_the_clients_yes(pool: PgPool) {
    let fx = fixture(&pool).await;
    let hold = hold_first(&fx, "a consultation tomorrow morning please").await;
    // WHEN the model books in the message that only gives the details
    let args =
        json!({"hold_id": hold, "client_name": "Carl Berg", "client_email": "carl@example.com"});
    let r = model_calls(
        &fx,
        "Carl Berg, carl@example.com",
        "confirm_booking",
        args.clone(),
    )
    .await;
    // THEN the tool refuses: the client has not said yes
    assert_eq!(r["error"]["code"], "confirmation_required", "{r}");
    assert_eq!(bookings_of(&pool, "carl@example.com").await, 0);
    // AND with the client's yes it books
    let r = model_calls(&fx, "yes, book it", "confirm_booking", args).await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(bookings_of(&pool, "carl@example.com").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn confirm_booking_takes_only_an_email_the_client_typed(pool: PgPool) {
    let fx = fixture(&pool).await;
    let hold = hold_first(&fx, "a consultation tomorrow morning please").await;
    fx.script.push(|_| text("Shall I book it? (yes/no)"));
    fx.say("Pat Kim, pat@example.com").await;
    // WHEN the model books under an email the client never typed (someone else's)
    let r = model_calls(
        &fx,
        "yes",
        "confirm_booking",
        json!({"hold_id": hold, "client_name": "Pat Kim", "client_email": "victim@example.net"}),
    )
    .await;
    // THEN the tool refuses
    assert_eq!(r["error"]["code"], "email_required", "{r}");
    assert_eq!(bookings_of(&pool, "victim@example.net").await, 0);
    // AND the typed one books
    let r = model_calls(
        &fx,
        "yes please",
        "confirm_booking",
        json!({"hold_id": hold, "client_name": "Pat Kim", "client_email": "pat@example.com"}),
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_lookup_needs_the_email_typed_by_the_client(pool: PgPool) {
    let fx = fixture(&pool).await;
    // GIVEN another client's booking made outside this chat
    let other = SessionId::parse("web-other").unwrap();
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-08T10:00:00-05:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let hold = booking
        .create_hold(fx.tenant, CONSULT, start, &other)
        .await
        .unwrap();
    let details = gomomo::services::booking::ClientDetails {
        name: gomomo::domain::ClientName::parse("Margaret Thornton").unwrap(),
        email: gomomo::domain::Email::parse("margaret@example.net").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    let (appt, _) = booking
        .confirm(fx.tenant, hold.id, &other, &details)
        .await
        .unwrap();
    // WHEN the model looks it up with an email the client of this chat never typed
    let args = json!({"reference": appt.reference, "email": "margaret@example.net"});
    let r = model_calls(
        &fx,
        "do I have anything booked?",
        "lookup_booking",
        args.clone(),
    )
    .await;
    // THEN nothing about it comes back
    assert_eq!(r["error"]["code"], "email_required", "{r}");
    assert!(!r.to_string().contains(&appt.reference), "{r}");
    // AND once the client types it, the lookup answers
    let r = model_calls(&fx, "it's margaret@example.net", "lookup_booking", args).await;
    assert_eq!(r["ok"], true, "{r}");
}

#[sqlx::test(migrations = "../migrations")]
async fn no_cancel_or_reschedule_the_client_did_not_ask_for(pool: PgPool) {
    let fx = fixture(&pool).await;
    let hold = hold_first(&fx, "a consultation tomorrow morning please").await;
    fx.script.push(|_| text("Shall I book it? (yes/no)"));
    fx.say("Lena Fischer, lena@example.com").await;
    let r = model_calls(
        &fx,
        "yes",
        "confirm_booking",
        json!({"hold_id": hold, "client_name": "Lena Fischer", "client_email": "lena@example.com"}),
    )
    .await;
    let reference = r["result"]["reference"].as_str().unwrap().to_string();
    // WHEN the client asks about the booking and the model cancels or moves it
    let ask = format!("what time was {reference} again? my email is lena@example.com");
    let r = model_calls(
        &fx,
        &ask,
        "cancel_booking",
        json!({"reference": reference, "email": "lena@example.com"}),
    )
    .await;
    // THEN the tools refuse: the client asked for neither
    assert_eq!(r["error"]["code"], "confirmation_required", "{r}");
    let r = model_calls(
        &fx,
        &ask,
        "reschedule_booking",
        json!({"reference": reference, "email": "lena@example.com",
               "new_start_time": "2026-12-10T10:00:00-05:00"}),
    )
    .await;
    assert_eq!(r["error"]["code"], "confirmation_required", "{r}");
    let status: Vec<_> = gomomo::db::bookings::list_appointments(
        &pool,
        admin::DEMO_TENANT_ID,
        december_7_8am(),
        december_7_8am() + chrono::Duration::days(30),
        Some(gomomo::db::bookings::AppointmentStatus::Confirmed),
        10,
    )
    .await
    .unwrap();
    assert_eq!(status.len(), 1, "still booked, at the same time");
    // AND a message that names a cancel only to deny it is no request, in either language
    for denial in [
        format!("I don't want to cancel {reference}, just tell me the time. lena@example.com"),
        format!("No quiero cancelar {reference}, solo dígame la hora. lena@example.com"),
    ] {
        let r = model_calls(
            &fx,
            &denial,
            "cancel_booking",
            json!({"reference": reference, "email": "lena@example.com"}),
        )
        .await;
        assert_eq!(r["error"]["code"], "confirmation_required", "{denial}: {r}");
    }
    // AND when the client asks to cancel, with the email typed, it is cancelled
    let r = model_calls(
        &fx,
        &format!("please cancel {reference}, lena@example.com"),
        "cancel_booking",
        json!({"reference": reference, "email": "lena@example.com"}),
    )
    .await;
    assert_eq!(r["ok"], true, "{r}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_claimed_hold_without_the_tool_is_overruled(pool: PgPool) {
    let fx = fixture(&pool).await;
    fx.script
        .push(|_| text("I'm holding 10:00 AM tomorrow for you. What's your name?"));
    let r = fx.say("consultation tomorrow at 10").await;
    assert!(!r.reply.contains("holding"), "{}", r.reply);
    assert!(r.reply.contains("haven't completed"), "{}", r.reply);
}
