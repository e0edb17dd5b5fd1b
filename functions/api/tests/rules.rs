//! Booking rules through the real router: a service's minimum notice and daily cap, a
//! resource's daily cap (offered slots, holds, confirms and their race), and the
//! self-service cut-off on the public cancel and move with the staff override.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use gomomo::db::schedule as schedule_db;
use gomomo::services::admin::{seed_demo, DEMO_RESOURCES, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{admin, app, call, code, consult, demo, march_2_8am, post, starts};

async fn put(app: &Router, key: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, "PUT", &admin(path), Some(&body.to_string()), Some(key)).await
}

async fn hold(app: &Router, service: &str, start: &str) -> (StatusCode, Value) {
    post(
        app,
        &demo("/holds"),
        json!({"service_id": service, "start": start}),
    )
    .await
}

async fn confirm(app: &Router, hold: &Value, email: &str) -> (StatusCode, Value) {
    post(
        app,
        &demo("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
               "client_name": "Ana Lopez", "client_email": email}),
    )
    .await
}

async fn book(app: &Router, service: &str, start: &str, email: &str) -> (StatusCode, Value) {
    let (s, h) = hold(app, service, start).await;
    if s != StatusCode::CREATED {
        return (s, h);
    }
    confirm(app, &h, email).await
}

#[sqlx::test(migrations = "../../migrations")]
async fn service_min_notice_and_daily_caps(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    // Monday 2 March 2026, 08:00 EST; the tenant's notice is 60 minutes.
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    assert_eq!(
        starts(&app, &consult(), "2026-03-02").await[0],
        "2026-03-02T09:00:00-05:00"
    );
    // Four hours' notice for consultations: nothing before noon today.
    let (s, v) = put(
        &app,
        key,
        &format!("/services/{}/rules", consult()),
        json!({"min_notice_minutes": 240}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let today = starts(&app, &consult(), "2026-03-02").await;
    assert_eq!(today[0], "2026-03-02T12:00:00-05:00");
    let (s, v) = hold(&app, &consult(), "2026-03-02T10:00:00-05:00").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{v}"
    );
    // Other services keep the tenant's notice.
    assert_eq!(
        starts(&app, &DEMO_SERVICES[1].0.to_string(), "2026-03-02").await[0],
        "2026-03-02T09:00:00-05:00"
    );

    // At most two consultations a day.
    let (s, v) = put(
        &app,
        key,
        &format!("/services/{}/rules", consult()),
        json!({"max_per_day": 2}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(
        &app,
        "GET",
        &admin(&format!("/services/{}/rules", consult())),
        None,
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v,
        json!({"max_per_day": 2, "min_notice_minutes": null,
               "buffer_before_minutes": null, "buffer_after_minutes": null})
    );
    for (t, email) in [("09:00", "a@example.com"), ("09:00", "b@example.com")] {
        let (s, b) = book(&app, &consult(), &format!("2026-03-03T{t}:00-05:00"), email).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    assert!(starts(&app, &consult(), "2026-03-03").await.is_empty());
    let (s, v) = hold(&app, &consult(), "2026-03-03T11:00:00-05:00").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "daily_limit_reached"),
        "{v}"
    );
    assert_eq!(starts(&app, &consult(), "2026-03-04").await.len(), 16);
    // Another service is not capped by it.
    assert!(!starts(&app, &DEMO_SERVICES[1].0.to_string(), "2026-03-03")
        .await
        .is_empty());

    // Dr. Rivera takes at most one booking a day, whatever the service.
    let rivera = DEMO_RESOURCES[0].0;
    let (s, v) = put(
        &app,
        key,
        &format!("/resources/{rivera}/rules"),
        json!({"max_per_day": 1}),
    )
    .await;
    assert_eq!((s, v["max_per_day"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, b) = book(
        &app,
        &consult(),
        "2026-03-05T09:00:00-05:00",
        "c@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["resource_id"], rivera.to_string().as_str());
    // The next 09:00 goes to Dr. Chen; then nobody is left at 09:00 that day.
    let (s, b) = book(
        &app,
        &consult(),
        "2026-03-05T10:00:00-05:00",
        "d@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["resource_id"], DEMO_RESOURCES[1].0.to_string().as_str());
    // Only Dr. Rivera does this service: her day is full.
    let (s, v) = call(
        &app,
        "POST",
        &admin("/services"),
        Some(
            &json!({"name": "Rivera only", "duration_minutes": 30, "resource_ids": [rivera]})
                .to_string(),
        ),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let rivera_only = v["id"].as_str().unwrap().to_string();
    assert!(starts(&app, &rivera_only, "2026-03-05").await.is_empty());
    assert_eq!(starts(&app, &rivera_only, "2026-03-06").await.len(), 16);
    let (s, v) = hold(&app, &rivera_only, "2026-03-05T14:00:00-05:00").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "daily_limit_reached"),
        "{v}"
    );

    // Bad values.
    for (path, body, want) in [
        (
            format!("/services/{}/rules", consult()),
            json!({"max_per_day": 0}),
            "invalid_max_per_day",
        ),
        (
            format!("/services/{}/rules", consult()),
            json!({"min_notice_minutes": -5}),
            "invalid_min_notice_minutes",
        ),
        (
            format!("/resources/{rivera}/rules"),
            json!({"max_per_day": 5000}),
            "invalid_max_per_day",
        ),
        (
            "/rules".to_string(),
            json!({"self_service_cutoff_minutes": -1}),
            "invalid_self_service_cutoff_minutes",
        ),
    ] {
        let (s, v) = put(&app, key, &path, body.clone()).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, want),
            "{path} {body}"
        );
    }
    let missing = "6d0e0000-0000-4000-8000-0000000000ee";
    let (s, v) = put(&app, key, &format!("/services/{missing}/rules"), json!({})).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "service_not_found"));
    let (s, v) = put(&app, key, &format!("/resources/{missing}/rules"), json!({})).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "resource_not_found"));
}

/// Eight clients confirm holds on one day of a service capped at one a day: exactly one
/// booking lands.
#[sqlx::test(migrations = "../../migrations")]
async fn the_daily_cap_holds_under_racing_confirms(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let (s, v) = put(
        &app,
        &seed.api_key,
        &format!("/services/{}/rules", consult()),
        json!({"max_per_day": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut holds = Vec::new();
    for h in 9..17 {
        let (s, v) = hold(&app, &consult(), &format!("2026-03-03T{h:02}:00:00-05:00")).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        holds.push(v);
    }
    let tasks: Vec<_> = holds
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let app = app.clone();
            tokio::spawn(async move { confirm(&app, &h, &format!("r{i}@example.com")).await })
        })
        .collect();
    let mut booked = 0;
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match s {
            StatusCode::CREATED => booked += 1,
            StatusCode::CONFLICT => assert_eq!(code(&v), "daily_limit_reached", "{v}"),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(booked, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn self_service_cutoff_with_the_staff_override(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let (s, v) = put(
        &app,
        key,
        "/rules",
        json!({"self_service_cutoff_minutes": 1440}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = call(&app, "GET", &admin("/rules"), None, Some(key)).await;
    assert_eq!(
        (s, v["self_service_cutoff_minutes"].as_i64()),
        (StatusCode::OK, Some(1440))
    );

    // Today 15:00 is 7 hours away: inside the cut-off.
    let (s, soon) = book(
        &app,
        &consult(),
        "2026-03-02T15:00:00-05:00",
        "ana@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{soon}");
    let soon_ref = soon["reference"].as_str().unwrap().to_string();
    // Wednesday is two days away: outside it.
    let (s, later) = book(
        &app,
        &consult(),
        "2026-03-04T15:00:00-05:00",
        "bo@example.com",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{later}");
    let later_ref = later["reference"].as_str().unwrap().to_string();

    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{soon_ref}/cancel")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "change_cutoff_passed"),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("24 hours"),
        "{v}"
    );
    // Moving it is refused too, before any time is held.
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{soon_ref}/availability")),
        json!({"email": "ana@example.com", "from": "2026-03-05", "to": "2026-03-05"}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::CONFLICT, "change_cutoff_passed"),
        "{v}"
    );
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{soon_ref}/lookup")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("confirmed"))
    );

    // Outside the cut-off the client may cancel.
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{later_ref}/cancel")),
        json!({"email": "bo@example.com"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{v}"
    );

    // Staff may, and the override is audited.
    let (s, v) = call(
        &app,
        "POST",
        &admin(&format!("/bookings/{soon_ref}/cancel")),
        None,
        Some(key),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{v}"
    );
    let appt =
        gomomo::db::bookings::appointment_by_reference(&pool, DEMO_TENANT_ID, &soon_ref, false)
            .await
            .unwrap()
            .unwrap();
    let events = schedule_db::audit_events(&pool, DEMO_TENANT_ID, "appointment", appt.id)
        .await
        .unwrap();
    assert!(
        events.contains(&"booking.rule_overridden".to_string()),
        "{events:?}"
    );
    let (s, v) = call(
        &app,
        "POST",
        &admin("/bookings/ZZZZ-ZZZZ/cancel"),
        None,
        Some(key),
    )
    .await;
    assert_eq!(s.as_u16() / 100, 4, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn service_buffers_before_and_after(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let rivera = DEMO_RESOURCES[0].0;
    let service = |name: &str, minutes: i32| {
        json!({"name": name, "duration_minutes": minutes, "resource_ids": [rivera]}).to_string()
    };
    let (s, v) = call(
        &app,
        "POST",
        &admin("/services"),
        Some(&service("Quick", 30)),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let quick = v["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        "POST",
        &admin("/services"),
        Some(&service("Surgery", 60)),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let surgery = v["id"].as_str().unwrap().to_string();
    // Surgery keeps 15 minutes free before it and 30 after it; the tenant's buffer is 0.
    let (s, v) = put(
        &app,
        key,
        &format!("/services/{surgery}/rules"),
        json!({"buffer_before_minutes": 15, "buffer_after_minutes": 30}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["buffer_after_minutes"], 30);
    let (s, b) = book(&app, &surgery, "2026-03-03T10:00:00-05:00", "s@example.com").await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let quick_starts = starts(&app, &quick, "2026-03-03").await;
    let has = |t: &str| quick_starts.contains(&format!("2026-03-03T{t}:00-05:00"));
    assert!(
        has("09:00"),
        "30 minutes before the surgery: {quick_starts:?}"
    );
    assert!(
        !has("09:30"),
        "ends when the surgery starts, inside its 15 minutes"
    );
    assert!(
        !has("11:00"),
        "starts when the surgery ends, inside its 30 minutes"
    );
    assert!(has("11:30"), "{quick_starts:?}");
    assert_eq!(quick_starts.len(), 12, "{quick_starts:?}");
    // A hold reads only the busy time that can reach its slot: the surgery's buffers
    // bring it within reach on both sides.
    for t in ["09:30", "11:00"] {
        let (s, v) = hold(&app, &quick, &format!("2026-03-03T{t}:00-05:00")).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::CONFLICT, "slot_unavailable"),
            "{t}: {v}"
        );
    }
    // A second surgery: 30 minutes after the first (its after), 30 before it (the
    // larger of the new one's 30 after and the first's 15 before).
    let surgeries = starts(&app, &surgery, "2026-03-03").await;
    assert!(!surgeries.contains(&"2026-03-03T11:00:00-05:00".to_string()));
    assert!(
        surgeries.contains(&"2026-03-03T11:30:00-05:00".to_string()),
        "{surgeries:?}"
    );
    assert!(!surgeries.contains(&"2026-03-03T09:00:00-05:00".to_string()));
    let (s, v) = put(
        &app,
        key,
        &format!("/services/{surgery}/rules"),
        json!({"buffer_before_minutes": 300}),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_buffer_before_minutes")
    );
}
