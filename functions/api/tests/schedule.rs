//! Per-resource hours and date exceptions through the real router: the admin routes, the
//! public availability, holds and confirms around them (a DST week in New York), the
//! bookings a change catches and the notice to their clients, and the race of confirms
//! against a new time off.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use chrono::NaiveDate;
use gomomo::db::bookings as bookings_db;
use gomomo::db::notifications;
use gomomo::db::schedule as schedule_db;
use gomomo::domain::slots::ExceptionKind;
use gomomo::services::admin::{seed_demo, DEMO_RESOURCES, DEMO_TENANT_ID};
use gomomo::services::booking::slot_lock_key;
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, consult, december_7_8am, demo, ny, post, starts};

fn rivera() -> String {
    DEMO_RESOURCES[0].0.to_string()
}

fn chen() -> String {
    DEMO_RESOURCES[1].0.to_string()
}

async fn admin_call(
    app: &Router,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let body = body.map(|b| b.to_string());
    call(app, method, &admin(path), body.as_deref(), Some(key)).await
}

/// Hold and confirm `start` for `service`; the booking (or the refusal) as JSON.
async fn book(app: &Router, service: &str, start: &str, email: &str) -> (StatusCode, Value) {
    let (s, hold) = post(
        app,
        &demo("/holds"),
        json!({"service_id": service, "start": start}),
    )
    .await;
    if s != StatusCode::CREATED {
        return (s, hold);
    }
    post(
        app,
        &demo("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
               "client_name": "Ana Lopez", "client_email": email, "client_phone": "+1 555 555 0100"}),
    )
    .await
}

/// A service only Dr. Rivera does.
async fn rivera_only(app: &Router, key: &str) -> String {
    let (s, v) = admin_call(
        app,
        key,
        "POST",
        "/services",
        Some(json!({"name": "Rivera consult", "duration_minutes": 30, "resource_ids": [rivera()]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[sqlx::test(migrations = "../../migrations")]
async fn dst_week_with_time_off_closure_own_hours_and_notices(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    // Thursday 5 March 2026, 08:00 EST; the clocks go forward on Sunday 8 March.
    let app = app(pool.clone(), Clock::fixed(ny(2026, 3, 5, 8, 0)), &[]);
    let rivera_service = rivera_only(&app, key).await;

    // A booking with Dr. Rivera on Monday 9 March 10:00 EDT, made before the time off.
    let (s, booked) = book(
        &app,
        &rivera_service,
        "2026-03-09T10:00:00-04:00",
        "ana@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{booked}");
    let reference = booked["reference"].as_str().unwrap().to_string();

    // Dr. Rivera is off all Monday: the booking is listed, not cancelled.
    let (s, off) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "time_off", "resource_id": rivera(), "start_date": "2026-03-09", "note": "conference"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{off}");
    assert_eq!(off["exception"]["kind"], "time_off");
    assert_eq!(off["exception"]["end_date"], "2026-03-09");
    let affected = off["affected"].as_array().unwrap();
    assert_eq!(affected.len(), 1, "{off}");
    assert_eq!(affected[0]["reference"], reference.as_str());
    assert_eq!(affected[0]["status"], "confirmed");
    let off_id = off["exception"]["id"].as_str().unwrap().to_string();

    // Nothing with Dr. Rivera on Monday; a hold there is refused with a clear code.
    assert!(starts(&app, &rivera_service, "2026-03-09").await.is_empty());
    let (s, v) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": rivera_service, "start": "2026-03-09T11:00:00-04:00"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "schedule_closed"),
        "{v}"
    );
    // Tuesday is untouched, in EDT after the change.
    let tue = starts(&app, &rivera_service, "2026-03-10").await;
    assert_eq!(tue.len(), 16);
    assert_eq!(tue[0], "2026-03-10T09:00:00-04:00");

    // Dr. Chen works only 12:00–15:00 on weekdays: Monday's consultations are hers alone.
    let hours: Vec<Value> = (1..=5)
        .map(|d| json!({"weekday": d, "opens": "12:00", "closes": "15:00"}))
        .collect();
    let (s, v) = admin_call(
        &app,
        key,
        "PUT",
        &format!("/resources/{}/hours", chen()),
        Some(json!({ "hours": hours })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["uses_tenant_hours"], false);
    assert_eq!(v["hours"].as_array().unwrap().len(), 5);
    let (s, v) = admin_call(
        &app,
        key,
        "GET",
        &format!("/resources/{}/hours", chen()),
        None,
    )
    .await;
    assert_eq!(
        (s, v["hours"][0]["opens"].as_str()),
        (StatusCode::OK, Some("12:00"))
    );
    let mon = starts(&app, &consult(), "2026-03-09").await;
    assert_eq!(
        mon,
        [
            "2026-03-09T12:00:00-04:00",
            "2026-03-09T12:30:00-04:00",
            "2026-03-09T13:00:00-04:00",
            "2026-03-09T13:30:00-04:00",
            "2026-03-09T14:00:00-04:00",
            "2026-03-09T14:30:00-04:00"
        ]
    );
    // Friday (EST, before the change): Rivera 9–17 and Chen 12–15 together, 16 starts.
    let fri = starts(&app, &consult(), "2026-03-06").await;
    assert_eq!(fri.len(), 16);
    assert_eq!(fri[0], "2026-03-06T09:00:00-05:00");

    // The whole clinic closes on Tuesday 13:00–15:00.
    let (s, closed) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "closed", "start_date": "2026-03-10", "start_time": "13:00", "end_time": "15:00"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{closed}");
    assert!(closed["affected"].as_array().unwrap().is_empty());
    let tue = starts(&app, &consult(), "2026-03-10").await;
    assert_eq!(tue.len(), 12, "{tue:?}");
    for t in ["13:00", "13:30", "14:00", "14:30"] {
        assert!(!tue.contains(&format!("2026-03-10T{t}:00-04:00")), "{t}");
    }
    assert!(tue.contains(&"2026-03-10T12:30:00-04:00".to_string()));
    assert!(tue.contains(&"2026-03-10T15:00:00-04:00".to_string()));
    let (s, v) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-10T13:30:00-04:00"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "schedule_closed"),
        "{v}"
    );

    // Extra hours across the change on Sunday 8 March (01:00 EST to 04:00 EDT: two hours
    // of elapsed time, the 02:00–03:00 gap skipped).
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "extra_hours", "start_date": "2026-03-08", "start_time": "01:00", "end_time": "04:00"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        starts(&app, &rivera_service, "2026-03-08").await,
        [
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00"
        ]
    );

    // The list, and the affected bookings again.
    let (s, v) = admin_call(&app, key, "GET", "/exceptions", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["exceptions"].as_array().unwrap().len(), 3);
    let (s, v) = admin_call(
        &app,
        key,
        "GET",
        &format!("/exceptions/{off_id}/affected"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["affected"][0]["reference"], reference.as_str());

    // Notify: an email and a text offering new times and the link; once per version.
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        &format!("/exceptions/{off_id}/notify"),
        Some(json!({"booking_url": "https://clinic.example/book"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["notified"][0]["reference"], reference.as_str());
    assert_eq!(v["notified"][0]["channels"], json!(["email", "sms"]));
    let sent: Vec<_> = notifications::list_for_tenant(&pool, DEMO_TENANT_ID)
        .await
        .unwrap()
        .into_iter()
        .filter(|n| n.kind == "schedule_change")
        .collect();
    assert_eq!(sent.len(), 2);
    let email = sent.iter().find(|n| n.channel == "email").unwrap();
    assert_eq!(email.recipient, "ana@example.com");
    assert!(email.body.contains(&reference), "{}", email.body);
    assert!(
        email.body.contains("https://clinic.example/book"),
        "{}",
        email.body
    );
    assert!(
        email.body.contains("Times we can offer instead"),
        "{}",
        email.body
    );
    let sms = sent.iter().find(|n| n.channel == "sms").unwrap();
    assert_eq!(sms.recipient, "+15555550100");
    assert!(
        sms.body.contains("https://clinic.example/book"),
        "{}",
        sms.body
    );
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        &format!("/exceptions/{off_id}/notify"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["notified"][0]["channels"], json!([]));
    let events = schedule_db::audit_events(
        &pool,
        DEMO_TENANT_ID,
        "schedule_exception",
        off_id.parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        events,
        [
            "schedule_exception.created",
            "schedule_exception.notified",
            "schedule_exception.notified"
        ]
    );
    // The booking itself is untouched.
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/lookup")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );

    // Moving the time off to Tuesday frees Monday and catches nothing.
    let (s, v) = admin_call(
        &app,
        key,
        "PUT",
        &format!("/exceptions/{off_id}"),
        Some(json!({"kind": "time_off", "resource_id": rivera(), "start_date": "2026-03-11"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["affected"].as_array().unwrap().is_empty());
    assert_eq!(starts(&app, &rivera_service, "2026-03-09").await.len(), 15);
    assert!(starts(&app, &rivera_service, "2026-03-11").await.is_empty());
    // Deleting it gives Wednesday back; Chen's own hours removed give her the day again.
    let (s, v) = admin_call(&app, key, "DELETE", &format!("/exceptions/{off_id}"), None).await;
    assert_eq!(
        (s, v["id"].as_str()),
        (StatusCode::OK, Some(off_id.as_str()))
    );
    assert_eq!(starts(&app, &rivera_service, "2026-03-11").await.len(), 16);
    let (s, v) = admin_call(
        &app,
        key,
        "DELETE",
        &format!("/resources/{}/hours", chen()),
        None,
    )
    .await;
    assert_eq!(
        (s, v["uses_tenant_hours"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(starts(&app, &consult(), "2026-03-09").await.len(), 16);
}

#[sqlx::test(migrations = "../../migrations")]
async fn saturday_extra_hours_are_bookable_end_to_end(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(ny(2026, 3, 5, 8, 0)), &[]);
    assert!(starts(&app, &consult(), "2026-03-07").await.is_empty());
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(
            json!({"kind": "extra_hours", "resource_id": chen(), "start_date": "2026-03-07",
                    "start_time": "09:00", "end_time": "12:00", "note": "Saturday clinic"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sat = starts(&app, &consult(), "2026-03-07").await;
    assert_eq!(sat.len(), 6);
    assert_eq!(sat[0], "2026-03-07T09:00:00-05:00");
    let (s, b) = book(
        &app,
        &consult(),
        "2026-03-07T10:00:00-05:00",
        "sat@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["resource_id"], chen().as_str());
    assert_eq!(b["start"], "2026-03-07T10:00:00-05:00");
    // Dr. Chen is the only one working then: the time is gone.
    let sat = starts(&app, &consult(), "2026-03-07").await;
    assert!(!sat.contains(&"2026-03-07T10:00:00-05:00".to_string()));
    assert_eq!(sat.len(), 5);
}

#[sqlx::test(migrations = "../../migrations")]
async fn recurring_yearly_closure(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    // Monday 7 December 2026.
    let app = app(pool.clone(), Clock::fixed(december_7_8am()), &[]);
    // Made for 2025: it recurs on Thursday 10 December 2026; a one-off in 2025 does not.
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "closed", "start_date": "2025-12-10", "recurring_yearly": true, "note": "founders' day"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "closed", "start_date": "2025-12-11"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(starts(&app, &consult(), "2026-12-10").await.is_empty());
    assert_eq!(starts(&app, &consult(), "2026-12-09").await.len(), 16);
    assert_eq!(starts(&app, &consult(), "2026-12-11").await.len(), 16);
    let (s, v) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-12-10T09:00:00-05:00"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "schedule_closed"),
        "{v}"
    );
    // The yearly one is listed even though its first date is past; the one-off is not.
    let (s, v) = admin_call(&app, key, "GET", "/exceptions", None).await;
    assert_eq!(s, StatusCode::OK);
    let list = v["exceptions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["recurring_yearly"], true);
    let (s, v) = admin_call(&app, key, "GET", "/exceptions?since=2025-01-01", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["exceptions"].as_array().unwrap().len(), 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_schedule_input_is_refused_with_codes(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(ny(2026, 3, 5, 8, 0)), &[]);
    let cases = [
        (
            json!({"kind": "holiday", "start_date": "2026-03-09"}),
            StatusCode::BAD_REQUEST,
            "invalid_kind",
        ),
        (
            json!({"kind": "closed", "resource_id": rivera(), "start_date": "2026-03-09"}),
            StatusCode::BAD_REQUEST,
            "invalid_resource_id",
        ),
        (
            json!({"kind": "time_off", "start_date": "2026-03-09"}),
            StatusCode::BAD_REQUEST,
            "invalid_resource_id",
        ),
        (
            json!({"kind": "time_off", "resource_id": "nope", "start_date": "2026-03-09"}),
            StatusCode::BAD_REQUEST,
            "invalid_resource_id",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "end_date": "2026-03-08"}),
            StatusCode::BAD_REQUEST,
            "invalid_end_date",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "end_date": "2027-03-20"}),
            StatusCode::BAD_REQUEST,
            "invalid_end_date",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "start_time": "15:00", "end_time": "13:00"}),
            StatusCode::BAD_REQUEST,
            "invalid_times",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "start_time": "15:00"}),
            StatusCode::BAD_REQUEST,
            "invalid_times",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "start_time": "25:00", "end_time": "26:00"}),
            StatusCode::BAD_REQUEST,
            "invalid_times",
        ),
        (
            json!({"kind": "extra_hours", "start_date": "2026-03-07"}),
            StatusCode::BAD_REQUEST,
            "invalid_times",
        ),
        (
            json!({"kind": "closed", "start_date": "9 March"}),
            StatusCode::BAD_REQUEST,
            "invalid_date",
        ),
        (
            json!({"kind": "closed", "start_date": "2026-03-09", "note": "a\u{202e}b"}),
            StatusCode::BAD_REQUEST,
            "invalid_note",
        ),
        (
            json!({"kind": "time_off", "resource_id": "6d0e0000-0000-4000-8000-0000000000ff", "start_date": "2026-03-09"}),
            StatusCode::NOT_FOUND,
            "resource_not_found",
        ),
        (
            json!({"start_date": "2026-03-09"}),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
    ];
    for (body, status, want) in cases {
        let (s, v) = admin_call(&app, key, "POST", "/exceptions", Some(body.clone())).await;
        assert_eq!((s, code(&v)), (status, want), "{body}: {v}");
    }
    // Without the key: 401.
    let (s, v) = call(
        &app,
        "POST",
        &admin("/exceptions"),
        Some(&json!({"kind": "closed", "start_date": "2026-03-09"}).to_string()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    let missing = "6d0e0000-0000-4000-8000-0000000000ee";
    for (method, path) in [
        ("DELETE", format!("/exceptions/{missing}")),
        ("GET", format!("/exceptions/{missing}/affected")),
        ("POST", format!("/exceptions/{missing}/notify")),
    ] {
        let (s, v) = admin_call(&app, key, method, &path, None).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::NOT_FOUND, "exception_not_found"),
            "{path}"
        );
    }
    let (s, v) = admin_call(
        &app,
        key,
        "PUT",
        &format!("/exceptions/{missing}"),
        Some(json!({"kind": "closed", "start_date": "2026-03-09"})),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::NOT_FOUND, "exception_not_found")
    );
    // Resource hours: validated like the tenant's.
    for (hours, want) in [
        (
            json!([{"weekday": 8, "opens": "09:00", "closes": "12:00"}]),
            "invalid_weekday",
        ),
        (
            json!([{"weekday": 1, "opens": "12:00", "closes": "09:00"}]),
            "invalid_hours",
        ),
        (
            json!([{"weekday": 1, "opens": "09:00", "closes": "12:00"}, {"weekday": 1, "opens": "11:00", "closes": "13:00"}]),
            "invalid_hours",
        ),
        (
            json!([{"weekday": 1, "opens": "9am", "closes": "12:00"}]),
            "invalid_hours",
        ),
    ] {
        let (s, v) = admin_call(
            &app,
            key,
            "PUT",
            &format!("/resources/{}/hours", rivera()),
            Some(json!({ "hours": hours })),
        )
        .await;
        assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, want), "{hours}");
    }
    let (s, v) = admin_call(
        &app,
        key,
        "GET",
        &format!("/resources/{missing}/hours"),
        None,
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "resource_not_found"));
    // A bad link to put in notices.
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        "/exceptions",
        Some(json!({"kind": "closed", "start_date": "2026-03-09"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = v["exception"]["id"].as_str().unwrap();
    let (s, v) = admin_call(
        &app,
        key,
        "POST",
        &format!("/exceptions/{id}/notify"),
        Some(json!({"booking_url": "javascript:alert(1)"})),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_booking_url")
    );
    // Every route is in the OpenAPI document.
    let (_, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    for p in [
        "/api/admin/tenants/{tenant}/resources/{resource}/hours",
        "/api/admin/tenants/{tenant}/exceptions",
        "/api/admin/tenants/{tenant}/exceptions/{exception}",
        "/api/admin/tenants/{tenant}/exceptions/{exception}/affected",
        "/api/admin/tenants/{tenant}/exceptions/{exception}/notify",
    ] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
}

/// Confirms of holds taken earlier race a new time off over their day: each booking either
/// lands before it (and the time off lists it) or is refused; none lands inside it unlisted.
#[sqlx::test(migrations = "../../migrations")]
async fn confirms_racing_a_new_time_off_never_land_unlisted(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.clone();
    let app = app(pool.clone(), Clock::fixed(ny(2026, 3, 5, 8, 0)), &[]);
    let service = rivera_only(&app, &key).await;
    let mut holds = Vec::new();
    for k in 0..16 {
        let (h, m) = (9 + k / 2, (k % 2) * 30);
        let (s, hold) = post(
            &app,
            &demo("/holds"),
            json!({"service_id": service, "start": format!("2026-03-09T{h:02}:{m:02}:00-04:00")}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{hold}");
        holds.push(hold);
    }
    let off = {
        let app = app.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            admin_call(
                &app,
                &key,
                "POST",
                "/exceptions",
                Some(json!({"kind": "time_off", "resource_id": rivera(), "start_date": "2026-03-09"})),
            )
            .await
        })
    };
    let mut tasks = Vec::new();
    for (i, hold) in holds.into_iter().enumerate() {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(10 * i as u64)).await;
            post(
                &app,
                &demo("/bookings"),
                json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
                       "client_name": "Racer", "client_email": format!("r{i}@example.com")}),
            )
            .await
        }));
    }
    let mut booked = Vec::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match s {
            StatusCode::CREATED => booked.push(v["reference"].as_str().unwrap().to_string()),
            StatusCode::CONFLICT => assert_eq!(code(&v), "schedule_closed", "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    let (s, off) = off.await.unwrap();
    assert_eq!(s, StatusCode::CREATED, "{off}");
    let mut listed: Vec<String> = off["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reference"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    booked.sort();
    assert_eq!(
        listed, booked,
        "every booking inside the time off is listed"
    );
}

/// A hold that queues on its day's lock while an admin adds time off over that day reads
/// the schedule after the wait (its read is a statement begun after the lock statement, so
/// under READ COMMITTED it sees what the lock holder committed) and is refused. A read made
/// by the lock statement itself would have predated the time off and let the hold through.
#[sqlx::test(migrations = "../../migrations")]
async fn a_hold_queued_behind_new_time_off_is_refused(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.clone();
    let app = app(pool.clone(), Clock::fixed(ny(2026, 3, 5, 8, 0)), &[]);
    let service = rivera_only(&app, &key).await;
    let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let resource: uuid::Uuid = rivera().parse().unwrap();
    // The admin's transaction takes the day's lock first, as every schedule change does.
    let mut admin_tx = pool.begin().await.unwrap();
    let mut keys = vec![slot_lock_key(DEMO_TENANT_ID, resource, day)];
    bookings_db::advisory_locks(&mut admin_tx, &mut keys)
        .await
        .unwrap();
    let hold = {
        let app = app.clone();
        let service = service.clone();
        tokio::spawn(async move {
            post(
                &app,
                &demo("/holds"),
                json!({"service_id": service, "start": "2026-03-09T10:00:00-04:00"}),
            )
            .await
        })
    };
    // The hold passed its lock-free pre-check (no time off yet) and now waits on the lock.
    let mut waited = 0;
    while bookings_db::advisory_lock_waiters(&pool).await.unwrap() == 0 {
        assert!(waited < 1000, "the hold never queued on the day's lock");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        waited += 1;
    }
    schedule_db::insert_exception(
        &mut admin_tx,
        DEMO_TENANT_ID,
        uuid::Uuid::new_v4(),
        &schedule_db::ExceptionInput {
            resource_id: Some(resource),
            kind: ExceptionKind::TimeOff,
            start_date: day,
            end_date: day,
            times: None,
            recurring_yearly: false,
            note: "out sick".into(),
        },
    )
    .await
    .unwrap();
    admin_tx.commit().await.unwrap();
    let (s, v) = hold.await.unwrap();
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "schedule_closed"),
        "{v}"
    );
}
