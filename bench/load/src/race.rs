//! Load benchmark over real HTTP against a running `gomomo serve` (see `scripts/race-bench.sh`,
//! which builds, starts and stops the server; `make bench` runs it). Its own package: a
//! change to the product does not rebuild it.
//!
//! 1. The race: 64 clients ask for the same slot at once, 200 rounds (a fresh slot each
//!    round). Exactly one hold may win per round; the winner confirms. Reports latency
//!    percentiles of every request.
//! 2. Throughput: concurrent workers book distinct slots (hold + confirm) for a fixed count;
//!    reports bookings per second.
//!
//! 0. Uncontended: one client books one slot after another (hold + confirm), the floor of
//!    the race's request latency.
//!
//! Each figure is also printed as a `SUMMARY|figure|value|floor|ratio|goal|met|note` line
//! for `make bench`'s table; the SQL-only booking floor comes from BENCH_FLOOR_BOOKINGS
//! (bookings/s measured by `scripts/race-bench.sh` with pgbench in the same invocation).
//!
//! Env: GOMOMO_BENCH_URL (default http://127.0.0.1:3000), GOMOMO_PLATFORM_KEY (required),
//! RACE_CLIENTS (64), RACE_ROUNDS (200), TP_WORKERS (32), TP_BOOKINGS (4000), SOLO_BOOKINGS
//! (200), BENCH_FLOOR_BOOKINGS.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime, TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn env_num(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Tenant {
    id: String,
    service: String,
}

/// One line of `make bench`'s summary table.
fn summary(figure: &str, value: &str, floor: &str, ratio: &str, goal: &str, met: bool, note: &str) {
    let met = if met { "yes" } else { "no" };
    println!("SUMMARY|{figure}|{value}|{floor}|{ratio}|{goal}|{met}|{note}");
}

/// A UTC tenant open 24 hours every day with a 365-day window, no notice, 5-minute slots
/// and `resources` resources, so the benchmark never runs out of distinct slots.
async fn make_tenant(http: &reqwest::Client, base: &str, key: &str, resources: usize) -> Tenant {
    let created: Value = http
        .post(format!("{base}/api/admin/tenants"))
        .bearer_auth(key)
        .json(&json!({"name": "Bench", "time_zone": "UTC", "slot_step_minutes": 5, "min_notice_minutes": 0, "max_days_ahead": 365}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["tenant"]["id"]
        .as_str()
        .expect("tenant creation failed: is GOMOMO_PLATFORM_KEY the server's?")
        .to_string();
    let k = created["api_key"].as_str().unwrap().to_string();
    let mut rids = Vec::new();
    for i in 0..resources {
        let r: Value = http
            .post(format!("{base}/api/admin/tenants/{id}/resources"))
            .bearer_auth(&k)
            .json(&json!({"name": format!("R{i}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rids.push(r["id"].clone());
    }
    let svc: Value = http
        .post(format!("{base}/api/admin/tenants/{id}/services"))
        .bearer_auth(&k)
        .json(&json!({"name": "Slot", "duration_minutes": 5, "resource_ids": rids}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hours: Vec<Value> = (1..=7)
        .map(|d| json!({"weekday": d, "opens": "00:00", "closes": "23:55"}))
        .collect();
    let s = http
        .put(format!("{base}/api/admin/tenants/{id}/hours"))
        .bearer_auth(&k)
        .json(&json!({ "hours": hours }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, StatusCode::OK);
    Tenant {
        id,
        service: svc["id"].as_str().unwrap().to_string(),
    }
}

/// The n-th distinct slot from tomorrow on (slot starts every 5 minutes, 00:00–23:50).
fn slot(n: usize) -> String {
    let per_day = 287; // (23:55 - 00:00) / 5 min, the last slot ends at 23:55
    let day = Utc::now().date_naive() + Days::new(1 + (n / per_day) as u64);
    let t = NaiveTime::MIN + chrono::Duration::minutes(5 * (n % per_day) as i64);
    Utc.from_utc_datetime(&day.and_time(t)).to_rfc3339()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let base = std::env::var("GOMOMO_BENCH_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let key = std::env::var("GOMOMO_PLATFORM_KEY")
        .expect("GOMOMO_PLATFORM_KEY must be the server's platform key");
    let clients = env_num("RACE_CLIENTS", 64);
    let rounds = env_num("RACE_ROUNDS", 200);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();

    // ---- 0. uncontended: the floor of a request's latency ----
    let solo = make_tenant(&http, &base, &key, 1).await;
    let mut solo_lat = Vec::new();
    for n in 0..env_num("SOLO_BOOKINGS", 200) {
        let t0 = Instant::now();
        let r = http
            .post(format!("{base}/api/tenants/{}/holds", solo.id))
            .json(&json!({"service_id": solo.service, "start": slot(n)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "uncontended hold refused");
        let hold: Value = r.json().await.unwrap();
        solo_lat.push(t0.elapsed());
        let t0 = Instant::now();
        let s = http
            .post(format!("{base}/api/tenants/{}/bookings", solo.id))
            .json(&json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": "Bench", "client_email": "bench@example.com"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, StatusCode::CREATED, "uncontended confirm refused");
        solo_lat.push(t0.elapsed());
    }
    solo_lat.sort();
    let solo_p99 = pct(&solo_lat, 0.99);
    println!(
        "uncontended: request latency ms  p50 {:.2}  p99 {solo_p99:.2}  (n = {})",
        pct(&solo_lat, 0.5),
        solo_lat.len()
    );

    // ---- 1. the race ----
    let race = make_tenant(&http, &base, &key, 1).await;
    let holds_url = Arc::new(format!("{base}/api/tenants/{}/holds", race.id));
    let book_url = Arc::new(format!("{base}/api/tenants/{}/bookings", race.id));
    let mut lat = Vec::with_capacity(clients * rounds + rounds);
    let mut server_errors = 0usize;
    let mut bad_rounds = 0usize;
    let started = Instant::now();
    for round in 0..rounds {
        let start = slot(round);
        let barrier = Arc::new(tokio::sync::Barrier::new(clients));
        let mut tasks = Vec::with_capacity(clients);
        for _ in 0..clients {
            let (http, url, svc, start, barrier) = (
                http.clone(),
                holds_url.clone(),
                race.service.clone(),
                start.clone(),
                barrier.clone(),
            );
            tasks.push(tokio::spawn(async move {
                // The server issues each client's session with its hold.
                barrier.wait().await;
                let t0 = Instant::now();
                let res = http
                    .post(url.as_str())
                    .json(&json!({"service_id": svc, "start": start}))
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (t0.elapsed(), status, body)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            let (d, status, body) = t.await.unwrap();
            lat.push(d);
            if status.is_server_error() {
                server_errors += 1;
            }
            if status == StatusCode::CREATED {
                winners.push(body);
            }
        }
        if winners.len() != 1 {
            bad_rounds += 1;
            continue;
        }
        let hold = &winners[0];
        let t0 = Instant::now();
        let s = http
            .post(book_url.as_str())
            .json(&json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": "Bench", "client_email": "bench@example.com"}))
            .send()
            .await
            .unwrap()
            .status();
        lat.push(t0.elapsed());
        if s != StatusCode::CREATED {
            bad_rounds += 1;
        }
    }
    let race_elapsed = started.elapsed();
    lat.sort();
    println!(
        "race: rate limits {} (RATE_LIMITS of the server under test)",
        std::env::var("RATE_LIMITS").unwrap_or_else(|_| "on".into())
    );
    println!(
        "race: {clients} clients x {rounds} rounds in {:.1}s",
        race_elapsed.as_secs_f64()
    );
    println!(
        "race: rounds with exactly one winner that booked: {}/{rounds}; 5xx: {server_errors}",
        rounds - bad_rounds
    );
    println!(
        "race: request latency ms  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  (n = {})",
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        pct(&lat, 1.0),
        lat.len()
    );

    // ---- 2. throughput on distinct slots ----
    let workers = env_num("TP_WORKERS", 32);
    let total = env_num("TP_BOOKINGS", 4000);
    let tp = make_tenant(&http, &base, &key, 4).await;
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (http, next, ok, failed) = (http.clone(), next.clone(), ok.clone(), failed.clone());
        let holds = format!("{base}/api/tenants/{}/holds", tp.id);
        let book = format!("{base}/api/tenants/{}/bookings", tp.id);
        let svc = tp.service.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                // spread workers over days so they rarely share a day's lock
                let idx = (n % workers) * 287 + n / workers;
                let t0 = Instant::now();
                let r = http.post(&holds).json(&json!({"service_id": svc, "start": slot(idx)})).send().await.unwrap();
                if r.status() != StatusCode::CREATED {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let hold: Value = r.json().await.unwrap();
                let s = http
                    .post(&book)
                    .json(&json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": "Bench", "client_email": "bench@example.com"}))
                    .send()
                    .await
                    .unwrap()
                    .status();
                lat.push(t0.elapsed());
                if s == StatusCode::CREATED {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let mut blat = Vec::new();
    for t in tasks {
        blat.extend(t.await.unwrap());
    }
    let el = started.elapsed().as_secs_f64();
    blat.sort();
    let okn = ok.load(Ordering::Relaxed);
    println!(
        "throughput: {okn} bookings (hold + confirm) by {workers} workers in {el:.2}s = {:.0} bookings/s; failed {}",
        okn as f64 / el,
        failed.load(Ordering::Relaxed)
    );
    println!(
        "throughput: booking latency ms  p50 {:.2}  p99 {:.2}",
        pct(&blat, 0.5),
        pct(&blat, 0.99)
    );
    let race_p99 = pct(&lat, 0.99);
    summary(
        &format!("{clients}-way race: rounds with exactly one winner"),
        &format!("{}/{rounds}", rounds - bad_rounds),
        "-",
        "-",
        "every round",
        bad_rounds == 0,
        &format!("{clients} clients a round; 5xx: {server_errors}"),
    );
    summary(
        &format!("{clients}-way race: request p99 (ms)"),
        &format!("{race_p99:.1}"),
        &format!("{solo_p99:.1}"),
        &format!("{:.2}x", race_p99 / solo_p99.max(0.001)),
        "<= 5x one uncontended hold + confirm",
        race_p99 <= 5.0 * solo_p99 && server_errors == 0,
        "floor: p99 of one client booking alone",
    );
    let rate = okn as f64 / el;
    match std::env::var("BENCH_FLOOR_BOOKINGS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        Some(floor) => summary(
            "bookings/s over HTTP (hold + confirm)",
            &format!("{rate:.0}"),
            &format!("{floor:.0}"),
            &format!("{:.3}", rate / floor),
            ">= 1/3 of the SQL-only floor",
            rate * 3.0 >= floor,
            &format!("{workers} workers, 1 tenant x 4 resources; floor: pgbench on the same shape"),
        ),
        None => summary(
            "bookings/s over HTTP (hold + confirm)",
            &format!("{rate:.0}"),
            "-",
            "-",
            ">= 1/3 of the SQL-only floor",
            false,
            "no floor measured (BENCH_FLOOR_BOOKINGS unset)",
        ),
    }
    if bad_rounds > 0 || server_errors > 0 {
        eprintln!(
            "FAILED: {bad_rounds} rounds without exactly one winner, {server_errors} server errors"
        );
        std::process::exit(1);
    }
}
