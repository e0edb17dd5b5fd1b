//! Staff at the desk through the router: a booking for a client who walked in, the guard
//! against double booking, overriding the minimum notice (audited with the person), moving
//! a booking, a booking's history, the Excel dead letters, and the demo tenant's owner.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Cursor;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use calamine::{Data, Reader, Xlsx};
use gomomo::services::admin::{seed_demo, DEMO_OWNER_EMAIL, DEMO_RESOURCES, DEMO_TENANT_ID};
use gomomo::services::people::seed_owner;
use gomomo::services::Clock;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, consult, december_7_8am, ny};
use tower::ServiceExt;

const STAFF_PASSWORD: &str = "a long staff password";

async fn setup(pool: PgPool, clock: Clock) -> (Router, String) {
    let seed = seed_demo(&pool).await.unwrap();
    (app(pool, clock, &[]), seed.api_key)
}

fn walk_in(start: &str, resource: Option<usize>, override_rules: bool) -> String {
    let mut body = json!({
        "service_id": consult(),
        "start": start,
        "client_name": "Walk In",
        "client_email": "walkin@example.com",
        "client_phone": "+15555550123",
        "notes": "came to the desk",
        "override_rules": override_rules,
    });
    if let Some(i) = resource {
        body["resource_id"] = json!(DEMO_RESOURCES[i].0.to_string());
    }
    body.to_string()
}

async fn book(app: &Router, key: &str, body: &str) -> (StatusCode, Value) {
    call(app, "POST", &admin("/bookings"), Some(body), Some(key)).await
}

async fn listed(app: &Router, key: &str, date: &str) -> Vec<Value> {
    let (s, v) = call(
        app,
        "GET",
        &admin(&format!("/bookings?from={date}&to={date}")),
        None,
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["bookings"].as_array().unwrap().clone()
}

async fn audit_count(app: &Router, key: &str) -> usize {
    let (s, v) = call(app, "GET", &admin("/audit?limit=500"), None, Some(key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().len()
}

async fn staff_token(app: &Router, key: &str) -> (String, String) {
    let (s, v) = call(
        app,
        "POST",
        &admin("/users"),
        Some(
            &json!({"email": "desk@clinic.example", "name": "Desk", "role": "staff", "password": STAFF_PASSWORD})
                .to_string(),
        ),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        app,
        "POST",
        "/api/admin/sign-in",
        Some(&json!({"email": "desk@clinic.example", "password": STAFF_PASSWORD}).to_string()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    (v["token"].as_str().unwrap().to_string(), id)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_walk_in_is_booked_and_listed(pool: PgPool) {
    let (app, key) = setup(pool, Clock::fixed(december_7_8am())).await;
    let (s, b) = book(
        &app,
        &key,
        &walk_in("2026-12-08T10:00:00-05:00", None, false),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["start"], "2026-12-08T10:00:00-05:00");
    assert_eq!(b["client_phone"], "+15555550123");
    assert!(b["id"].as_str().is_some(), "{b}");
    let reference = b["reference"].as_str().unwrap();

    let list = listed(&app, &key, "2026-12-08").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["reference"], reference);

    // The booking's event went to the outbox like any booking (the client is told).
    let (s, v) = call(
        &app,
        "GET",
        &admin(&format!(
            "/audit?event_type=booking.confirmed&entity_id={}",
            b["id"].as_str().unwrap()
        )),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0]["actor"].as_str().unwrap().starts_with("admin_key:"),
        "{v}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_double_booking_is_refused_and_writes_nothing(pool: PgPool) {
    let (app, key) = setup(pool.clone(), Clock::fixed(december_7_8am())).await;
    let at = "2026-12-08T10:00:00-05:00";
    let (s, _) = book(&app, &key, &walk_in(at, Some(0), false)).await;
    assert_eq!(s, StatusCode::CREATED);
    let before = audit_count(&app, &key).await;
    let outbox_before = gomomo::db::outbox::unpublished_count(&pool).await.unwrap();

    // The same staff member at the same time.
    let (s, v) = book(&app, &key, &walk_in(at, Some(0), false)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code(&v), "slot_unavailable");
    // Overriding the rules never passes an overlap.
    let (s, v) = book(&app, &key, &walk_in(at, Some(0), true)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Any staff member: the other one is free, then nobody is.
    let (s, v) = book(&app, &key, &walk_in(at, None, false)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["resource_id"], DEMO_RESOURCES[1].0.to_string());
    let after_second = audit_count(&app, &key).await;
    let (s, v) = book(&app, &key, &walk_in(at, None, true)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    assert_eq!(listed(&app, &key, "2026-12-08").await.len(), 2);
    assert!(after_second > before);
    assert_eq!(
        audit_count(&app, &key).await,
        after_second,
        "a refusal is not audited"
    );
    assert_eq!(
        gomomo::db::outbox::unpublished_count(&pool).await.unwrap(),
        outbox_before + 1,
        "only the second booking's event"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn staff_may_override_the_minimum_notice_and_it_is_audited_with_the_person(pool: PgPool) {
    // 09:10 on a Monday: 09:30 is inside the demo's 60-minute notice.
    let (app, key) = setup(pool, Clock::fixed(ny(2026, 12, 7, 9, 10))).await;
    let (token, user_id) = staff_token(&app, &key).await;
    let at = "2026-12-07T09:30:00-05:00";
    let (s, v) = book(&app, &token, &walk_in(at, None, false)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code(&v), "slot_unavailable");
    assert!(listed(&app, &key, "2026-12-07").await.is_empty());

    let (s, b) = book(&app, &token, &walk_in(at, None, true)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["start"], at);

    let (s, d) = call(
        &app,
        "GET",
        &admin(&format!("/bookings/{}", b["reference"].as_str().unwrap())),
        None,
        Some(&token),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let history = d["history"].as_array().unwrap();
    let overridden: Vec<&Value> = history
        .iter()
        .filter(|r| r["event_type"] == "booking.rule_overridden")
        .collect();
    assert_eq!(overridden.len(), 1, "{d}");
    assert_eq!(overridden[0]["actor"], format!("admin_user:{user_id}"));
    assert_eq!(overridden[0]["actor_label"], "desk@clinic.example");
    assert_eq!(overridden[0]["payload"]["action"], "create");
    let confirmed = history
        .iter()
        .find(|r| r["event_type"] == "booking.confirmed")
        .unwrap();
    assert_eq!(confirmed["actor"], format!("admin_user:{user_id}"));

    // Hours still hold, override or not: 08:00 is before opening.
    let (s, v) = book(
        &app,
        &token,
        &walk_in("2026-12-08T08:00:00-05:00", None, true),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn clients_without_a_key_and_other_tenants_keys_are_refused(pool: PgPool) {
    let (app, _key) = setup(pool, Clock::fixed(december_7_8am())).await;
    let body = walk_in("2026-12-08T10:00:00-05:00", None, false);
    let (s, v) = call(&app, "POST", &admin("/bookings"), Some(&body), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let (s, _) = call(
        &app,
        "POST",
        &admin("/bookings"),
        Some(&body),
        Some("gmk_not_a_key"),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        &app,
        "POST",
        &admin("/bookings/K7QM-3XRP/reschedule"),
        Some(r#"{"start":"2026-12-08T11:00:00-05:00"}"#),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, "GET", &admin("/bookings/K7QM-3XRP"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, "GET", &admin("/excel/dead-letters"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_fields_are_4xx_with_their_codes(pool: PgPool) {
    let (app, key) = setup(pool, Clock::fixed(december_7_8am())).await;
    let cases = [
        (
            json!({"service_id": "nope", "start": "2026-12-08T10:00:00-05:00", "client_name": "A", "client_email": "a@example.com"}),
            "invalid_service_id",
        ),
        (
            json!({"service_id": consult(), "start": "tomorrow", "client_name": "A", "client_email": "a@example.com"}),
            "invalid_start",
        ),
        (
            json!({"service_id": consult(), "start": "2026-12-08T10:00:00-05:00", "client_name": "A", "client_email": "not an email"}),
            "invalid_email",
        ),
        (
            json!({"service_id": consult(), "start": "2026-12-08T10:00:00-05:00", "client_name": "A", "client_email": "a@example.com", "client_phone": "555"}),
            "invalid_phone",
        ),
    ];
    for (body, want) in cases {
        let (s, v) = book(&app, &key, &body.to_string()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert_eq!(code(&v), want, "{body}");
    }
    let (s, v) = book(
        &app,
        &key,
        &json!({"service_id": consult(), "resource_id": uuid::Uuid::new_v4().to_string(), "start": "2026-12-08T10:00:00-05:00", "client_name": "A", "client_email": "a@example.com"}).to_string(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(code(&v), "resource_not_found");
    let (s, v) = call(
        &app,
        "POST",
        &admin("/bookings"),
        Some(r#"{"service_id":"#),
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(&app, "GET", &admin("/bookings/K7QM-3XRP"), None, Some(&key)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(code(&v), "booking_not_found");
}

#[sqlx::test(migrations = "../../migrations")]
async fn staff_move_a_booking_keeping_its_reference_and_the_detail_shows_the_history(pool: PgPool) {
    let (app, key) = setup(pool, Clock::fixed(december_7_8am())).await;
    let (s, b) = book(
        &app,
        &key,
        &walk_in("2026-12-08T10:00:00-05:00", Some(0), false),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let reference = b["reference"].as_str().unwrap().to_string();
    let (s, other) = book(
        &app,
        &key,
        &walk_in("2026-12-08T11:00:00-05:00", Some(0), false),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{other}");

    let move_to = |start: &str, resource: Option<usize>| {
        let mut body = json!({"start": start});
        if let Some(i) = resource {
            body["resource_id"] = json!(DEMO_RESOURCES[i].0.to_string());
        }
        body.to_string()
    };
    let path = admin(&format!("/bookings/{reference}/reschedule"));
    // Onto the other booking's time on the same staff member: refused, nothing moves.
    let (s, v) = call(
        &app,
        "POST",
        &path,
        Some(&move_to("2026-12-08T11:00:00-05:00", Some(0))),
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let (s, m) = call(
        &app,
        "POST",
        &path,
        Some(&move_to("2026-12-08T13:00:00-05:00", None)),
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!(m["reference"], reference);
    assert_eq!(m["start"], "2026-12-08T13:00:00-05:00");
    assert_eq!(
        m["sequence"].as_i64().unwrap(),
        b["sequence"].as_i64().unwrap() + 1
    );
    // The old time is free again.
    let (s, v) = book(
        &app,
        &key,
        &walk_in("2026-12-08T10:00:00-05:00", Some(0), false),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // Within the notice only with the override.
    let (s, v) = call(
        &app,
        "POST",
        &path,
        Some(&move_to("2026-12-07T08:30:00-05:00", None)),
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let (s, d) = call(
        &app,
        "GET",
        &admin(&format!("/bookings/{}", reference.to_lowercase())),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["booking"]["reference"], reference);
    assert_eq!(d["booking"]["id"], b["id"]);
    assert_eq!(d["booking"]["start"], "2026-12-08T13:00:00-05:00");
    let events: Vec<&str> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["hold.created", "booking.confirmed", "booking.rescheduled"],
        "{d}"
    );
    let ids: Vec<i64> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    let moved = &d["history"][2];
    assert!(
        moved["actor"].as_str().unwrap().starts_with("admin_key:"),
        "{moved}"
    );
    assert!(moved["payload"]["old_start"].as_str().is_some());
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Vec<u8>,
    key: &str,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"));
    if method == "POST" {
        req = req.header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        );
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn read_back(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    d => d.to_string(),
                })
                .collect()
        })
        .collect()
}

fn write_xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in (0u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            if !v.is_empty() {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn dead_letters_are_listed_and_retried(pool: PgPool) {
    let (app, key) = setup(pool, Clock::fixed(december_7_8am())).await;
    // A booking to move, and both staff members busy at the time it is to move to.
    let (_, a) = book(
        &app,
        &key,
        &walk_in("2026-12-08T10:00:00-05:00", Some(0), false),
    )
    .await;
    let (_, b1) = book(
        &app,
        &key,
        &walk_in("2026-12-08T14:00:00-05:00", Some(0), false),
    )
    .await;
    let (_, b2) = book(
        &app,
        &key,
        &walk_in("2026-12-08T14:00:00-05:00", Some(1), false),
    )
    .await;
    let reference = a["reference"].as_str().unwrap().to_string();

    let (s, bytes) = send(
        &app,
        "GET",
        &admin("/appointments.xlsx?from=2026-12-08&to=2026-12-08"),
        Vec::new(),
        &key,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut rows = read_back(&bytes);
    let header = rows[0].clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let row = rows
        .iter()
        .position(|r| r[col("reference")] == reference)
        .unwrap();
    rows[row][col("start")] = "2026-12-08T14:00:00-05:00".into();
    let (s, _) = send(
        &app,
        "POST",
        &admin("/appointments.xlsx"),
        write_xlsx(&rows),
        &key,
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    let (s, list) = call(&app, "GET", &admin("/excel/dead-letters"), None, Some(&key)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let letter = &list[0];
    assert_eq!(letter["reference"], reference);
    assert_eq!(letter["operation"], "reschedule");
    assert_eq!(letter["attempts"], 1);
    assert!(letter["resolved_at"].is_null());
    assert!(letter["created_at"].as_str().is_some());
    assert!(!letter["error"].as_str().unwrap().is_empty());
    let id = letter["id"].as_str().unwrap().to_string();
    let retry = admin(&format!("/excel/dead-letters/{id}/retry"));

    // Still taken: one more attempt, still open.
    let (s, v) = call(&app, "POST", &retry, None, Some(&key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["attempts"], 2);
    assert!(v["resolved_at"].is_null());

    // One of the two cancels; the retry moves the booking and resolves the letter.
    let (s, _) = call(
        &app,
        "POST",
        &admin(&format!(
            "/bookings/{}/cancel",
            b1["reference"].as_str().unwrap()
        )),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = call(&app, "POST", &retry, None, Some(&key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["attempts"], 3);
    assert!(v["resolved_at"].as_str().is_some(), "{v}");
    let (_, d) = call(
        &app,
        "GET",
        &admin(&format!("/bookings/{reference}")),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(d["booking"]["start"], "2026-12-08T14:00:00-05:00");
    assert_eq!(d["booking"]["resource_id"], b1["resource_id"]);
    let _ = b2;

    let (s, v) = call(&app, "POST", &retry, None, Some(&key)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(code(&v), "dead_letter_resolved");
    let unknown = admin(&format!(
        "/excel/dead-letters/{}/retry",
        uuid::Uuid::new_v4()
    ));
    let (s, v) = call(&app, "POST", &unknown, None, Some(&key)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(code(&v), "dead_letter_not_found");

    let (_, open) = call(&app, "GET", &admin("/excel/dead-letters"), None, Some(&key)).await;
    assert!(open.as_array().unwrap().is_empty(), "{open}");
    let (_, all) = call(
        &app,
        "GET",
        &admin("/excel/dead-letters?resolved=true"),
        None,
        Some(&key),
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_seeded_demo_owner_signs_in(pool: PgPool) {
    let (app, _key) = setup(pool.clone(), Clock::fixed(december_7_8am())).await;
    let now = december_7_8am();
    let first = seed_owner(&pool, DEMO_TENANT_ID, DEMO_OWNER_EMAIL, None, now)
        .await
        .unwrap();
    assert!(first.created);
    let password = first.password.clone().unwrap();
    let sign_in = |password: String| {
        let app = app.clone();
        async move {
            call(
                &app,
                "POST",
                "/api/admin/sign-in",
                Some(&json!({"email": DEMO_OWNER_EMAIL, "password": password}).to_string()),
                None,
            )
            .await
        }
    };
    let (s, v) = sign_in(password.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["role"], "owner");

    // Again without a password: nothing changes, nothing is shown.
    let again = seed_owner(&pool, DEMO_TENANT_ID, DEMO_OWNER_EMAIL, None, now)
        .await
        .unwrap();
    assert!(!again.created && again.password.is_none());
    let (s, _) = sign_in(password.clone()).await;
    assert_eq!(s, StatusCode::OK);

    // A chosen password (DEMO_OWNER_PASSWORD) replaces it.
    let chosen = "the demo owner's password";
    let set = seed_owner(&pool, DEMO_TENANT_ID, DEMO_OWNER_EMAIL, Some(chosen), now)
        .await
        .unwrap();
    assert_eq!(set.password.as_deref(), Some(chosen));
    let (s, _) = sign_in(password).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = sign_in(chosen.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A password too short for a person is refused.
    assert!(
        seed_owner(&pool, DEMO_TENANT_ID, DEMO_OWNER_EMAIL, Some("short"), now)
            .await
            .is_err()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_staff_bookings_of_one_time_make_one_booking(pool: PgPool) {
    let (app, key) = setup(pool, Clock::fixed(december_7_8am())).await;
    let body = walk_in("2026-12-08T15:00:00-05:00", Some(1), true);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (app, key, body) = (app.clone(), key.clone(), body.clone());
        set.spawn(async move { book(&app, &key, &body).await });
    }
    let answers = set.join_all().await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    for (s, v) in &answers {
        assert!(
            *s == StatusCode::CREATED || *s == StatusCode::CONFLICT,
            "{s} {v}"
        );
    }
    assert_eq!(listed(&app, &key, "2026-12-08").await.len(), 1);
}
