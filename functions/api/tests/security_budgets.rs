//! Request budgets of the public routes: a client flooding holds, lookups or chat turns is
//! stopped with 429 `rate_limited` and a `Retry-After`, other clients are not, and the
//! counts are shared by every instance on the database. The client's address comes from
//! API Gateway's `sourceIp` on Lambda, or from the socket peer under `gomomo serve`
//! (`X-Forwarded-For` only from a trusted proxy).
#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use gomomo::config::budgets::Cidr;
use gomomo::http::client_ip::TrustedProxies;
use gomomo::services::admin::{seed_demo, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use gomomo_api::{router, AppState};
use http_body_util::BodyExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use support::{app, config, march_2_8am};
use tower::ServiceExt;

/// Where a request comes from.
#[derive(Clone, Copy)]
enum From<'a> {
    /// API Gateway's HTTP API request context (the Lambda adapter).
    Gateway(&'a str),
    /// A socket peer under `gomomo serve`, with the trusted proxies and an
    /// `X-Forwarded-For`.
    Peer(&'a str, &'a [&'a str], Option<&'a str>),
}

struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Value>,
    from: From<'_>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let From::Peer(_, _, Some(xff)) = from {
        req = req.header("x-forwarded-for", xff);
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    match from {
        From::Gateway(ip) => {
            let mut ctx = ApiGatewayV2httpRequestContext::default();
            ctx.http.source_ip = Some(ip.to_string());
            req.extensions_mut()
                .insert(RequestContext::ApiGatewayV2(ctx));
        }
        From::Peer(ip, trusted, _) => {
            let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
            req.extensions_mut().insert(ConnectInfo(peer));
            let cidrs: Vec<Cidr> = trusted.iter().map(|c| Cidr::parse(c).unwrap()).collect();
            req.extensions_mut().insert(TrustedProxies::new(&cidrs));
        }
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        retry_after,
    }
}

fn demo(path: &str) -> String {
    format!("/api/tenants/{DEMO_TENANT_ID}{path}")
}

/// A hold under a session the server issues with it (no `session_id`).
fn hold(slot: usize) -> Value {
    // 16 consultation slots from 09:00 on Tuesday 3 March, every 30 minutes.
    let (h, m) = (
        9 + slot / 2,
        if slot.is_multiple_of(2) { "00" } else { "30" },
    );
    json!({"service_id": DEMO_SERVICES[0].0.to_string(), "start": format!("2026-03-03T{h:02}:{m}:00-05:00")})
}

/// A well-formed reference nobody booked.
fn reference(n: usize) -> String {
    let digits: Vec<char> = "23456789".chars().collect();
    let code: String = (0..4).map(|i| digits[(n / 8usize.pow(i)) % 8]).collect();
    format!("ABCD-{code}")
}

/// A session issued by the server (asked from an address of its own, so the test's
/// clients keep their budgets).
async fn issue(app: &Router) -> String {
    let a = send(
        app,
        "POST",
        &demo("/sessions"),
        None,
        From::Gateway("192.0.2.250"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["session_id"].as_str().unwrap().to_string()
}

/// The body of a booking lookup (`POST …/bookings/{reference}/lookup`).
fn lookup() -> Value {
    json!({"email": "ana@example.com"})
}

fn assert_limited(a: &Answer) {
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert_eq!(a.body["error"]["code"], "rate_limited");
    let secs = a.retry_after.expect("a Retry-After header in seconds");
    assert!(secs >= 1, "{secs}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_hold_flood_from_one_address_stops_at_its_cap_while_others_still_book(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let flooder = From::Peer("198.51.100.7", &[], None);
    // GIVEN one client holding slot after slot, each under a fresh session
    for slot in 0..3 {
        let a = send(&app, "POST", &demo("/holds"), Some(hold(slot)), flooder).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    // WHEN it asks for more THEN it is refused with a time to come back
    for slot in 3..8 {
        let a = send(&app, "POST", &demo("/holds"), Some(hold(slot)), flooder).await;
        assert_limited(&a);
    }
    let held: i64 =
        sqlx::query_scalar("SELECT count(*) FROM availability_holds WHERE status = 'active'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(held, 3, "no more than the cap of the day is held");
    // AND another client still books a free slot
    let other = From::Peer("203.0.113.20", &[], None);
    let a = send(&app, "POST", &demo("/holds"), Some(hold(10)), other).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    // AND no client address is stored as such
    let raw: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rate_budgets WHERE subject LIKE '%198.51.100.7%' OR subject LIKE '%203.0.113.20%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(raw, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_reference_lookup_flood_is_refused(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let enumerator = From::Gateway("192.0.2.44");
    let mut refused = 0;
    for n in 0..40 {
        let uri = demo(&format!("/bookings/{}/lookup", reference(n)));
        let a = send(&app, "POST", &uri, Some(lookup()), enumerator).await;
        match a.status {
            StatusCode::NOT_FOUND => assert_eq!(refused, 0, "a miss after a refusal"),
            _ => {
                assert_limited(&a);
                refused += 1;
            }
        }
    }
    assert_eq!(refused, 20, "the default allows 20 lookups per 10 minutes");
    // Another address is not affected.
    let uri = demo(&format!("/bookings/{}/lookup", reference(99)));
    let a = send(
        &app,
        "POST",
        &uri,
        Some(lookup()),
        From::Gateway("192.0.2.45"),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
}

#[sqlx::test(migrations = "../../migrations")]
async fn chat_turns_are_budgeted_per_session_and_per_address(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(
        pool.clone(),
        Clock::fixed(march_2_8am()),
        &[
            ("BUDGET_CHAT_TURNS_PER_SESSION", "3"),
            ("BUDGET_CHAT_TURNS_PER_IP", "5"),
        ],
    );
    let client = From::Gateway("192.0.2.80");
    let turn = |session: &str| json!({"session_id": session, "message": "hello"});
    let (chatty, second, third, other) = (
        issue(&app).await,
        issue(&app).await,
        issue(&app).await,
        issue(&app).await,
    );
    for _ in 0..3 {
        let a = send(&app, "POST", &demo("/chat"), Some(turn(&chatty)), client).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    assert_limited(&send(&app, "POST", &demo("/chat"), Some(turn(&chatty)), client).await);
    // A new conversation from the same address: the address's budget still has room …
    for _ in 0..2 {
        let a = send(&app, "POST", &demo("/chat"), Some(turn(&second)), client).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    // … until it is spent too.
    assert_limited(&send(&app, "POST", &demo("/chat"), Some(turn(&third)), client).await);
    let a = send(
        &app,
        "POST",
        &demo("/chat"),
        Some(turn(&other)),
        From::Gateway("192.0.2.81"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_instances_on_one_database_share_the_budgets(
    _p: PgPoolOptions,
    opts: PgConnectOptions,
) {
    // GIVEN two instances (their own pools, their own services) on one database
    let pool = |opts: PgConnectOptions| async move {
        PgPoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .unwrap()
    };
    let (a_pool, b_pool) = (pool(opts.clone()).await, pool(opts).await);
    seed_demo(&a_pool).await.unwrap();
    let cfg = config(&[("BUDGET_LOOKUPS_PER_IP", "4")]);
    let a = router(AppState::new(a_pool, &cfg, Clock::fixed(march_2_8am())));
    let b = router(AppState::new(b_pool, &cfg, Clock::fixed(march_2_8am())));
    let client = From::Gateway("192.0.2.90");
    // WHEN one client spreads its lookups over both
    for (n, app) in [&a, &b, &a, &b].into_iter().enumerate() {
        let uri = demo(&format!("/bookings/{}/lookup", reference(n)));
        assert_eq!(
            send(app, "POST", &uri, Some(lookup()), client).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // THEN each instance refuses the next one
    for app in [&a, &b] {
        let uri = demo(&format!("/bookings/{}/lookup", reference(9)));
        assert_limited(&send(app, "POST", &uri, Some(lookup()), client).await);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn forwarded_for_counts_only_behind_a_trusted_proxy(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(
        pool.clone(),
        Clock::fixed(march_2_8am()),
        &[("BUDGET_LOOKUPS_PER_IP", "2")],
    );
    let at = |n: usize| demo(&format!("/bookings/{}/lookup", reference(n)));
    // An untrusted peer that claims a new address each time is still one client.
    for (n, claim) in ["1.1.1.1", "1.1.1.2"].into_iter().enumerate() {
        let from = From::Peer("203.0.113.5", &["10.0.0.0/8"], Some(claim));
        assert_eq!(
            send(&app, "POST", &at(n), Some(lookup()), from)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let from = From::Peer("203.0.113.5", &["10.0.0.0/8"], Some("1.1.1.3"));
    assert_limited(&send(&app, "POST", &at(3), Some(lookup()), from).await);
    // Behind a trusted proxy, the clients it forwards are told apart (the rightmost hop
    // that is not a proxy; what the client itself wrote to the left does not count).
    for n in 0..2 {
        let from = From::Peer("10.0.0.1", &["10.0.0.0/8"], Some("6.6.6.6, 198.51.100.1"));
        assert_eq!(
            send(&app, "POST", &at(n), Some(lookup()), from)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let from = From::Peer("10.0.0.1", &["10.0.0.0/8"], Some("7.7.7.7, 198.51.100.1"));
    assert_limited(&send(&app, "POST", &at(5), Some(lookup()), from).await);
    let from = From::Peer("10.0.0.1", &["10.0.0.0/8"], Some("198.51.100.2, 10.0.0.9"));
    assert_eq!(
        send(&app, "POST", &at(6), Some(lookup()), from)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn budgets_can_be_switched_off_for_benchmarks(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(
        pool.clone(),
        Clock::fixed(march_2_8am()),
        &[("RATE_LIMITS", "off"), ("BUDGET_LOOKUPS_PER_IP", "1")],
    );
    for n in 0..5 {
        let uri = demo(&format!("/bookings/{}/lookup", reference(n)));
        let a = send(
            &app,
            "POST",
            &uri,
            Some(lookup()),
            From::Gateway("192.0.2.1"),
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_concurrent_hold_burst_from_one_address_gets_only_its_cap(
    _p: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let pool = PgPoolOptions::new()
        .max_connections(20)
        .connect_with(opts)
        .await
        .unwrap();
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    // 16 holds at once on the day's 16 slots, each under a session issued with it.
    let tasks: Vec<_> = (0..16)
        .map(|slot| {
            let app = app.clone();
            tokio::spawn(async move {
                let body = hold(slot);
                send(
                    &app,
                    "POST",
                    &demo("/holds"),
                    Some(body),
                    From::Gateway("192.0.2.66"),
                )
                .await
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let a = t.await.unwrap();
        if a.status == StatusCode::CREATED {
            created += 1;
        } else {
            assert_limited(&a);
        }
    }
    assert_eq!(created, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_hold_refused_for_a_taken_slot_does_not_count_as_live(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    // Other clients take 09:00 on every resource that offers it.
    let others = ["192.0.2.200", "192.0.2.202", "192.0.2.203", "192.0.2.204"];
    let mut taken = 0;
    for ip in others {
        let a = send(
            &app,
            "POST",
            &demo("/holds"),
            Some(hold(0)),
            From::Gateway(ip),
        )
        .await;
        if a.status != StatusCode::CREATED {
            assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
            break;
        }
        taken += 1;
    }
    assert!((1..4).contains(&taken), "{taken}");
    // A client that keeps asking for the slot that is gone hears 409 each time, and still
    // has its whole budget of live holds afterwards.
    let client = From::Gateway("192.0.2.201");
    let full = send(&app, "POST", &demo("/holds"), Some(hold(0)), client).await;
    assert_eq!(full.body["error"]["code"], "slot_unavailable");
    for _ in 0..3 {
        let a = send(&app, "POST", &demo("/holds"), Some(hold(0)), client).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    }
    for slot in 1..4 {
        let a = send(&app, "POST", &demo("/holds"), Some(hold(slot)), client).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn sessions_issued_on_request_are_budgeted_per_address(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(
        pool.clone(),
        Clock::fixed(march_2_8am()),
        &[("BUDGET_SESSIONS_PER_IP_PER_HOUR", "3")],
    );
    let client = From::Gateway("192.0.2.30");
    for _ in 0..3 {
        let a = send(&app, "POST", &demo("/sessions"), None, client).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    assert_limited(&send(&app, "POST", &demo("/sessions"), None, client).await);
    let issued: i64 = sqlx::query_scalar("SELECT count(*) FROM issued_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(issued, 3, "a refused request issues nothing");
    let other = send(
        &app,
        "POST",
        &demo("/sessions"),
        None,
        From::Gateway("192.0.2.31"),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);
}

#[sqlx::test(migrations = "../../migrations")]
async fn holds_placed_through_the_chat_count_against_the_address_like_rest_holds(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let client = From::Gateway("192.0.2.71");
    let live = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM availability_holds WHERE status = 'active'",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    // GIVEN one client opening conversation after conversation, each taking the first time
    // offered for tomorrow
    let mut replies = Vec::new();
    for _ in 0..4 {
        let first = send(
            &app,
            "POST",
            &demo("/chat"),
            Some(json!({"message": "I'd like to book a consultation tomorrow"})),
            client,
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let session = first.body["session_id"].as_str().unwrap().to_string();
        let pick = send(
            &app,
            "POST",
            &demo("/chat"),
            Some(json!({"session_id": session, "message": "1"})),
            client,
        )
        .await;
        assert_eq!(pick.status, StatusCode::OK, "{}", pick.body);
        replies.push(pick.body["reply"].as_str().unwrap().to_string());
    }
    // THEN the chat held no more than the address's cap of live holds, and said why
    assert_eq!(live().await, 3, "{replies:?}");
    assert!(replies[3].contains("too many"), "{}", replies[3]);
    // AND the same address is refused on the REST route too: one budget for both
    assert_limited(&send(&app, "POST", &demo("/holds"), Some(hold(12)), client).await);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_padded_session_id_is_the_same_conversation_budget(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(
        pool.clone(),
        Clock::fixed(march_2_8am()),
        &[("BUDGET_CHAT_TURNS_PER_SESSION", "2")],
    );
    let session = issue(&app).await;
    let turn = |session: String| json!({"session_id": session, "message": "hello"});
    // GIVEN one conversation, its id sent with spaces around it (the same session once
    // trimmed), from addresses of their own
    for (n, padded) in [format!(" {session}"), format!("{session} ")]
        .into_iter()
        .enumerate()
    {
        let from = format!("192.0.2.{}", 90 + n);
        let a = send(
            &app,
            "POST",
            &demo("/chat"),
            Some(turn(padded)),
            From::Gateway(&from),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["session_id"], json!(session));
    }
    // THEN a third spelling is the same conversation, over its budget
    for padded in [
        format!("\t{session}\n"),
        format!("  {session}"),
        session.clone(),
    ] {
        let a = send(
            &app,
            "POST",
            &demo("/chat"),
            Some(turn(padded)),
            From::Gateway("192.0.2.99"),
        )
        .await;
        assert_limited(&a);
    }
}
