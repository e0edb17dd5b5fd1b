//! Our code's share of one chat turn, with the language model answering instantly.
//!
//! A scripted OpenAI-compatible server (axum, in this process, on a real socket) answers
//! each turn with a `check_availability` tool call, then a text reply, with no model
//! latency. What is measured is everything else a real turn does: the session lease and
//! state in Postgres, the history load, the system prompt, two chat-completion HTTP round
//! trips through async-openai, the tool (availability from Postgres + an audit row), the
//! reply guard and storing the messages. The deterministic engine's turn is measured too.
//!
//!   DATABASE_URL=… cargo bench -p gomomo --features llm --bench chat_turn
//!
//! Target: p99 ≤ 100 ms. Prints p50/p90/p99/max per scenario; exits 1 when a p99 misses.

use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use gomomo::config::AgentConfig;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::admin;
use gomomo::services::agent::{Agent, AgentLimits};
use gomomo::services::{BookingService, Clock};
use serde_json::{json, Value};

const TURNS: usize = 400;
const WARMUP: usize = 20;
const TARGET_P99: Duration = Duration::from_millis(100);
const CONSULTATION: &str = "6d0e0000-0000-4000-8000-0000000005e1";

/// Round 1 (no tool result yet in this turn): a tool call; round 2: the text reply.
async fn completions(Json(req): Json<Value>) -> Json<Value> {
    let last = req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(Value::Null);
    let message = if last["role"] == "tool" {
        json!({"role": "assistant", "content": "Tomorrow I have 9:00, 9:30 and 10:00 AM. Which works?"})
    } else {
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
            "function": {"name": "check_availability",
                         "arguments": json!({"service_id": CONSULTATION, "start_date": "tomorrow"}).to_string()}}]})
    };
    Json(
        json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}]}),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn measure(name: &str, slug: &str, agent: &Agent, tenant: TenantId, text: &str) -> bool {
    let mut times = Vec::with_capacity(TURNS);
    for i in 0..(WARMUP + TURNS) {
        // A fresh session every 4 turns, so histories stay realistic (a few messages).
        let session = SessionId::parse(&format!("bench-{slug}-{}-{}", std::process::id(), i / 4))
            .unwrap_or_else(|_| unreachable!());
        let t0 = Instant::now();
        let r = agent.handle_turn(tenant, &session, "web", text, None).await;
        let dt = t0.elapsed();
        if let Err(e) = r {
            eprintln!("{name}: turn failed: {e}");
            std::process::exit(2);
        }
        if i >= WARMUP {
            times.push(dt);
        }
    }
    times.sort();
    let p99 = percentile(&times, 0.99);
    let ok = p99 <= TARGET_P99;
    println!(
        "{name:<28} turns={TURNS} p50={:>7.2?} p90={:>7.2?} p99={:>7.2?} max={:>7.2?}  {}",
        percentile(&times, 0.50),
        percentile(&times, 0.90),
        p99,
        times[times.len() - 1],
        if ok {
            "ok (p99 ≤ 100 ms)"
        } else {
            "OVER the 100 ms p99 target"
        }
    );
    ok
}

#[tokio::main]
async fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("chat_turn bench: DATABASE_URL is required");
        std::process::exit(2);
    };
    let pool = gomomo::db::connect(&url, 10)
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    gomomo::db::migrate(&pool)
        .await
        .unwrap_or_else(|e| panic!("migrate: {e}"));
    let seed = admin::seed_demo(&pool)
        .await
        .unwrap_or_else(|e| panic!("seed: {e}"));
    let tenant = TenantId(seed.tenant_id);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    tokio::spawn(async move {
        axum::serve(
            listener,
            Router::new().route("/v1/chat/completions", post(completions)),
        )
        .await
    });

    let booking = BookingService::new(pool.clone(), Clock::system(), Duration::from_secs(300));
    let llm = gomomo::app::agent(
        booking.clone(),
        &AgentConfig {
            openai_api_key: Some("sk-bench".into()),
            openai_base_url: Some(format!("http://{addr}/v1")),
            openai_model: "gpt-4o".into(),
            openai_timeout: Duration::from_secs(5),
            limits: AgentLimits::default(),
        },
    );
    assert_eq!(llm.engine_name(), "llm");
    let rules = Agent::rules(booking, AgentLimits::default());

    println!("chat turn, model answering instantly (scripted server on {addr}); Postgres at DATABASE_URL");
    println!("chat turn: rate limits not on this path (the agent is called directly, not through a route)");
    let a = measure(
        "llm: tool round + reply",
        "llm",
        &llm,
        tenant,
        "Do you have a consultation tomorrow?",
    )
    .await;
    let b = measure(
        "rules: book + availability",
        "rules",
        &rules,
        tenant,
        "book a consultation tomorrow",
    )
    .await;
    // Bench sessions are scratch data.
    let _ = sqlx::query("DELETE FROM chat_sessions WHERE id LIKE 'bench-%'")
        .execute(&pool)
        .await;
    if !(a && b) {
        std::process::exit(1);
    }
}
