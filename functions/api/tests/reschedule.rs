//! Rescheduling through the real router on a real Postgres: a hold taken for a move does not
//! count the booking's own time as busy, may keep its staff member, only moves that booking,
//! and the same reschedule retried answers the booking again.
#![allow(clippy::unwrap_used)]

mod support;

use axum::http::StatusCode;
use axum::Router;
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{call, march_2_8am, post, PLATFORM, PLATFORM_KEY};

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

struct Tenant {
    id: String,
    service: String,
    resources: Vec<String>,
}

impl Tenant {
    fn path(&self, p: &str) -> String {
        format!("/api/tenants/{}{p}", self.id)
    }
}

/// A tenant with `n` resources doing one 30-minute service, slots every 15 minutes, no
/// buffer, open 09:00–17:00 on weekdays (America/New_York).
async fn tenant(app: &Router, n: usize) -> Tenant {
    let body = json!({"name": "Movers", "time_zone": "America/New_York", "max_days_ahead": 14,
                      "slot_step_minutes": 15, "buffer_minutes": 0})
    .to_string();
    let (s, created) = call(
        app,
        "POST",
        "/api/admin/tenants",
        Some(&body),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let t = created["tenant"]["id"].as_str().unwrap().to_string();
    let k = created["api_key"].as_str().unwrap().to_string();
    let adm = |p: &str| format!("/api/admin/tenants/{t}{p}");
    let mut resources = Vec::new();
    for i in 0..n {
        let (s, r) = call(
            app,
            "POST",
            &adm("/resources"),
            Some(&json!({"name": format!("Staff {i}")}).to_string()),
            Some(&k),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        resources.push(r["id"].as_str().unwrap().to_string());
    }
    let (s, svc) = call(
        app,
        "POST",
        &adm("/services"),
        Some(
            &json!({"name": "Visit", "duration_minutes": 30, "resource_ids": resources})
                .to_string(),
        ),
        Some(&k),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{svc}");
    let hours = json!({"hours": (1..=5).map(|d| json!({"weekday": d, "opens": "09:00", "closes": "17:00"})).collect::<Vec<_>>()}).to_string();
    let (s, _) = call(app, "PUT", &adm("/hours"), Some(&hours), Some(&k)).await;
    assert_eq!(s, StatusCode::OK);
    Tenant {
        id: t,
        service: svc["id"].as_str().unwrap().to_string(),
        resources,
    }
}

/// Hold and confirm `start` for `email`; the booking as the API shows it.
async fn book(app: &Router, t: &Tenant, start: &str, email: &str) -> Value {
    let (s, hold) = post(
        app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": start}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let (s, b) = post(
        app,
        &t.path("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
               "client_name": "Ana Lopez", "client_email": email}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

fn app(pool: PgPool) -> Router {
    support::app(pool, Clock::fixed(march_2_8am()), PLATFORM)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_booking_moves_onto_time_overlapping_its_own(pool: PgPool) {
    let app = app(pool.clone());
    let t = tenant(&app, 1).await;
    let b = book(&app, &t, "2026-03-03T10:00:00-05:00", "ana@example.com").await;
    let reference = b["reference"].as_str().unwrap().to_string();
    let to = "2026-03-03T10:15:00-05:00";

    // A plain hold still sees the booking's time as busy.
    let (s, v) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": to}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_unavailable"));
    // The booking must be proven by its reference and email.
    let (s, v) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": to,
               "reschedule": {"reference": reference, "email": "eve@example.com"}}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "booking_not_found"));

    let (s, hold) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": to,
               "reschedule": {"reference": reference, "email": "ANA@example.com"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    // Such a hold is not a new booking: confirming it is refused.
    let (s, v) = post(
        &app,
        &t.path("/bookings"),
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"],
               "client_name": "Eve", "client_email": "eve@example.com"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "hold_not_owned"));
    // Nor can another booking move onto it.
    let other = book(&app, &t, "2026-03-03T14:00:00-05:00", "bo@example.com").await;
    let (s, v) = post(
        &app,
        &t.path(&format!(
            "/bookings/{}/reschedule",
            other["reference"].as_str().unwrap()
        )),
        json!({"email": "bo@example.com", "hold_id": hold["hold_id"]}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "hold_not_owned"));

    let move_req = json!({"email": "ana@example.com", "hold_id": hold["hold_id"],
                          "session_id": hold["session_id"]});
    let path = t.path(&format!("/bookings/{reference}/reschedule"));
    let (s, moved) = post(&app, &path, &move_req).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["start"], to);
    assert_eq!(moved["end"], "2026-03-03T10:45:00-05:00");
    assert_eq!(moved["sequence"], 1);

    // The response was lost: the same request again answers the same booking, unchanged.
    let (s, again) = post(&app, &path, &move_req).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again, moved);
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE event_type = 'booking.rescheduled'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, 1, "a retried move is not a second move");
    // An unknown hold is still not found.
    let (s, v) = post(
        &app,
        &path,
        json!({"email": "ana@example.com", "hold_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "hold_not_found"));

    // The old time is free again: 10:00 is held no more by the moved booking.
    let (s, v) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": "2026-03-03T09:45:00-05:00"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_hold_request_documents_its_reschedule(pool: PgPool) {
    let app = app(pool);
    let (s, v) = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let schemas = &v["components"]["schemas"];
    assert!(
        schemas["HoldRequest"]["properties"]["reschedule"].is_object(),
        "{}",
        schemas["HoldRequest"]
    );
    let of = &schemas["HoldRescheduleOf"]["properties"];
    for field in ["reference", "email", "same_resource"] {
        assert!(
            of[field].is_object(),
            "HoldRescheduleOf lacks {field}: {of}"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_lost_race_on_a_move_is_slot_taken_and_the_booking_stays(pool: PgPool) {
    let app = app(pool.clone());
    let t = tenant(&app, 1).await;
    let b = book(&app, &t, "2026-03-03T10:00:00-05:00", "ana@example.com").await;
    let reference = b["reference"].as_str().unwrap().to_string();
    let (s, hold) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": "2026-03-03T10:15:00-05:00",
               "reschedule": {"reference": reference, "email": "ana@example.com"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    // The winner of a race the locks did not see (written directly, as a lost race leaves
    // it): 10:30–11:00 on the only resource.
    sqlx::query(
        "INSERT INTO appointments (id, tenant_id, service_id, resource_id, hold_id, session_id,
                                   reference, during, client_name, client_email)
         VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3::uuid, gen_random_uuid(), 'other',
                 'WINR-2345', tstzrange('2026-03-03T15:30:00Z', '2026-03-03T16:00:00Z'),
                 'Winner', 'win@example.com')",
    )
    .bind(&t.id)
    .bind(&t.service)
    .bind(&t.resources[0])
    .execute(&pool)
    .await
    .unwrap();
    let path = t.path(&format!("/bookings/{reference}/reschedule"));
    let (s, v) = post(
        &app,
        &path,
        json!({"email": "ana@example.com", "hold_id": hold["hold_id"]}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "slot_taken"));
    let (s, v) = post(
        &app,
        &t.path(&format!("/bookings/{reference}/lookup")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["start"], "2026-03-03T10:00:00-05:00");
    assert_eq!(v["sequence"], 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_move_may_keep_its_staff_member_and_a_retry_answers_whatever_changed(pool: PgPool) {
    let app = app(pool.clone());
    let t = tenant(&app, 2).await;
    // The first booking at 10:00 takes the resource a free choice picks first, Ana's the other.
    let first = book(&app, &t, "2026-03-03T10:00:00-05:00", "first@example.com").await;
    let b = book(&app, &t, "2026-03-03T10:00:00-05:00", "ana@example.com").await;
    let (picked_first, anas) = (first["resource_id"].clone(), b["resource_id"].clone());
    assert_ne!(picked_first, anas);
    assert!(t.resources.iter().all(|r| *r == picked_first || *r == anas));
    let reference = b["reference"].as_str().unwrap().to_string();
    let path = t.path(&format!("/bookings/{reference}/reschedule"));

    // At 11:00 both are free: any free one would be the first; the same one is the second.
    let (s, hold) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": "2026-03-03T11:00:00-05:00",
               "reschedule": {"reference": reference, "email": "ana@example.com",
                              "same_resource": true}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let (s, moved) = post(
        &app,
        &path,
        json!({"email": "ana@example.com", "hold_id": hold["hold_id"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["resource_id"], anas);
    assert_eq!(moved["start"], "2026-03-03T11:00:00-05:00");

    // Without it, the move goes to the first free resource: time and resource both change,
    // and the retry still answers the booking.
    let (s, hold) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": "2026-03-03T11:15:00-05:00",
               "reschedule": {"reference": reference, "email": "ana@example.com"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    let req = json!({"email": "ana@example.com", "hold_id": hold["hold_id"]});
    let (s, moved) = post(&app, &path, &req).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["resource_id"], picked_first);
    assert_eq!(moved["start"], "2026-03-03T11:15:00-05:00");
    assert_eq!(moved["sequence"], 2);
    let (s, again) = post(&app, &path, &req).await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again, moved);
}

/// Starts (local `HH:MM`) of the slots in an availability answer.
fn starts(v: &Value) -> Vec<String> {
    v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap()[11..16].to_string())
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_times_offered_for_a_move_include_those_overlapping_its_own(pool: PgPool) {
    let app = app(pool);
    let t = tenant(&app, 1).await;
    let b = book(&app, &t, "2026-03-03T10:00:00-05:00", "ana@example.com").await;
    let reference = b["reference"].as_str().unwrap().to_string();
    let moves = t.path(&format!("/bookings/{reference}/availability"));

    // The plain availability counts Ana's 10:00–10:30 as busy for everyone.
    let (s, plain) = call(
        &app,
        "GET",
        &t.path(&format!(
            "/availability?service={}&from=2026-03-03&to=2026-03-03",
            t.service
        )),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{plain}");
    let plain = starts(&plain);
    for busy in ["09:45", "10:00", "10:15"] {
        assert!(!plain.contains(&busy.to_string()), "{busy} in {plain:?}");
    }

    // For her move, the times overlapping her own are offered.
    let (s, mine) = post(
        &app,
        &moves,
        json!({"email": "ANA@example.com", "from": "2026-03-03", "to": "2026-03-03"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    assert_eq!(mine["service_id"], t.service.as_str());
    let mine = starts(&mine);
    for free in ["09:45", "10:00", "10:15"] {
        assert!(mine.contains(&free.to_string()), "{free} not in {mine:?}");
    }
    assert_eq!(mine.len(), plain.len() + 3, "{mine:?} vs {plain:?}");
    // And each is a start her move hold accepts.
    let (s, hold) = post(
        &app,
        &t.path("/holds"),
        json!({"service_id": t.service, "start": "2026-03-03T09:45:00-05:00",
               "reschedule": {"reference": reference, "email": "ana@example.com"}}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");

    // The booking must be proven; bad dates are a 400.
    let (s, v) = post(
        &app,
        &moves,
        json!({"email": "eve@example.com", "from": "2026-03-03", "to": "2026-03-03"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "booking_not_found"));
    let (s, v) = post(
        &app,
        &moves,
        json!({"email": "ana@example.com", "from": "March 3", "to": "2026-03-03"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_date"));

    // A cancelled booking has nowhere to move.
    let (s, v) = post(
        &app,
        &t.path(&format!("/bookings/{reference}/cancel")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = post(
        &app,
        &moves,
        json!({"email": "ana@example.com", "from": "2026-03-03", "to": "2026-03-03"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::CONFLICT, "booking_cancelled"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_times_offered_for_a_move_can_keep_its_staff_member(pool: PgPool) {
    let app = app(pool);
    let t = tenant(&app, 2).await;
    book(&app, &t, "2026-03-03T10:00:00-05:00", "first@example.com").await;
    let b = book(&app, &t, "2026-03-03T10:00:00-05:00", "ana@example.com").await;
    let reference = b["reference"].as_str().unwrap().to_string();
    // 11:00 ends up taken on Ana's staff member only.
    let x = book(&app, &t, "2026-03-03T11:00:00-05:00", "x@example.com").await;
    book(&app, &t, "2026-03-03T11:00:00-05:00", "y@example.com").await;
    let (s, v) = post(
        &app,
        &t.path(&format!(
            "/bookings/{}/cancel",
            x["reference"].as_str().unwrap()
        )),
        json!({"email": "x@example.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let moves = t.path(&format!("/bookings/{reference}/availability"));
    let day = |same| json!({"email": "ana@example.com", "from": "2026-03-03", "to": "2026-03-03", "same_resource": same});

    let (s, any) = post(&app, &moves, day(false)).await;
    assert_eq!(s, StatusCode::OK, "{any}");
    assert!(starts(&any).contains(&"11:00".to_string()), "{any}");
    let (s, same) = post(&app, &moves, day(true)).await;
    assert_eq!(s, StatusCode::OK, "{same}");
    let same = starts(&same);
    assert!(!same.contains(&"11:00".to_string()), "{same:?}");
    assert!(same.contains(&"10:15".to_string()), "{same:?}");
}
