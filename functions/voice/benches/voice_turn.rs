//! Voice webhook round trip on loopback with a real Postgres: a signed `POST
//! /twilio/voice/gather` through the real router — signature check, call-row lock and state
//! load, NLU, the engine's step, TwiML, version-checked state save and transcript lines.
//!
//! Two kinds of turn are timed separately:
//! - `intent`: "help" in the intent state (no booking query);
//! - `date_search`: "what about Wednesday afternoon" in the slots state (an availability
//!   query too).
//!
//! Needs `DATABASE_URL` (a server where it may create and drop a scratch database).
//! Run: `DATABASE_URL=$(scripts/pg.sh start) cargo bench -p gomomo-voice --bench voice_turn`
//! Prints p50/p90/p99/max per kind; the target is p99 ≤ 20 ms.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use gomomo::adapters::local::LogSmsSender;
use gomomo::http::twilio::signature;
use gomomo::services::admin::{seed_demo, DEMO_PHONE_NUMBER};
use gomomo::services::Clock;
use gomomo::Config;
use http_body_util::BodyExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tower::ServiceExt;

const TOKEN: &str = "bench-auth-token";
const BASE: &str = "https://voice.gomomo.bench";
const WARMUP: usize = 50;
const ROUNDS: usize = 1000;

fn signed(path: &str, params: &[(&str, &str)], n: usize) -> Request<Body> {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature::sign(TOKEN, &format!("{BASE}{path}"), &owned);
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .header("i-twilio-idempotency-token", format!("bench-{n}"))
        .body(Body::from(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish(),
        ))
        .unwrap()
}

async fn roundtrip(app: &Router, req: Request<Body>) -> Duration {
    let t = Instant::now();
    let res = app.clone().oneshot(req).await.unwrap();
    assert!(res.status().is_success());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let elapsed = t.elapsed();
    assert!(body.starts_with(b"<?xml"));
    elapsed
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "voice_turn/{name:<12} n={:<5} p50={:>6.2} ms  p90={:>6.2} ms  p99={:>6.2} ms  max={:>6.2} ms  {}",
        v.len(),
        ms(q(0.50)),
        ms(q(0.90)),
        ms(q(0.99)),
        ms(v[v.len() - 1]),
        if ms(q(0.99)) <= 20.0 { "(p99 ≤ 20 ms: ok)" } else { "(p99 > 20 ms: OVER TARGET)" }
    );
}

fn main() {
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        eprintln!("voice_turn: DATABASE_URL is not set; skipping (see the file header)");
        return;
    };
    println!("voice_turn: rate limits not on this path (Twilio webhooks carry no request budgets)");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let db = format!("gomomo_bench_voice_{}", std::process::id());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').unwrap();
        let url = format!("{base}/{db}");
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .unwrap();
        gomomo::db::migrate(&pool).await.unwrap();
        seed_demo(&pool).await.unwrap();

        let env: HashMap<&str, &str> = HashMap::from([
            ("DATABASE_URL", url.as_str()),
            ("TWILIO_AUTH_TOKEN", TOKEN),
            ("PUBLIC_BASE_URL", BASE),
            ("VOICE_MAX_TURNS", "200"),
            ("VOICE_MAX_CALL_SECONDS", "7200"),
            ("VOICE_MAX_CONCURRENT_CALLS", "1000"),
            ("LOG_FORMAT", "json"),
        ]);
        let config = Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        // A Monday morning, so Wednesday afternoon always has open slots.
        let monday = chrono::DateTime::parse_from_rfc3339("2026-03-02T13:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let app = gomomo_voice::router(gomomo_voice::VoiceState::new(
            pool.clone(),
            &config,
            Clock::fixed(monday),
            Arc::new(LogSmsSender),
        ));

        let mut n = 0usize;
        let mut call = 0usize;
        let mut next_call = |app: Router, intent: &'static str| {
            call += 1;
            let sid = format!("CA{call:032}");
            async move {
                let start = [
                    ("CallSid", sid.as_str()),
                    ("From", "+15555550123"),
                    ("To", DEMO_PHONE_NUMBER),
                ];
                roundtrip(&app, signed("/twilio/voice", &start, usize::MAX - call)).await;
                if !intent.is_empty() {
                    let p = [
                        ("CallSid", sid.as_str()),
                        ("From", "+15555550123"),
                        ("To", DEMO_PHONE_NUMBER),
                        ("SpeechResult", intent),
                    ];
                    roundtrip(
                        &app,
                        signed("/twilio/voice/gather", &p, usize::MAX / 2 - call),
                    )
                    .await;
                }
                sid
            }
        };

        for (name, setup, speech) in [
            ("intent", "", "help"),
            (
                "date_search",
                "book a consultation",
                "what about Wednesday afternoon",
            ),
        ] {
            let mut samples = Vec::with_capacity(ROUNDS);
            let mut sid = next_call(app.clone(), setup).await;
            for i in 0..WARMUP + ROUNDS {
                // 150 turns per call, then a fresh call (the turn limit stays out of the way).
                if i % 150 == 149 {
                    sid = next_call(app.clone(), setup).await;
                }
                n += 1;
                let p = [
                    ("CallSid", sid.as_str()),
                    ("From", "+15555550123"),
                    ("To", DEMO_PHONE_NUMBER),
                    ("SpeechResult", speech),
                    ("Confidence", "0.9"),
                ];
                let d = roundtrip(&app, signed("/twilio/voice/gather", &p, n)).await;
                if i >= WARMUP {
                    samples.push(d);
                }
            }
            report(name, samples);
        }

        pool.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {db}")))
            .execute(&mut admin)
            .await
            .unwrap();
    });
}
