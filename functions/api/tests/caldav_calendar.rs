//! A resource's CalDAV calendar end to end, against a real CalDAV server (Radicale on
//! 127.0.0.1, started by `scripts/caldav-test.sh`, which sets `CALDAV_TEST_*`): connected
//! through the admin API, a booking made by chat appears there, moves with a reschedule and
//! goes with a cancel; an event another program puts there removes its slots; our event
//! deleted there is reported to the admin and the booking stays. The calendar is read and
//! changed through the server's own protocol with the PyPI `caldav` client
//! (`scripts/caldav_helper.py`), never through gomomo's client.
//!
//! `#[ignore]`d for a plain `cargo test` (no server); they fail without the variables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::http::StatusCode;
use gomomo::services::admin::{seed_demo, DEMO_RESOURCES};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{
    admin, book_by_chat, booking_times, call, cancel_booking, code, consult, december_7_8am,
    move_booking, starts,
};
use uuid::Uuid;

#[path = "../../../shared/tests/support/caldav_server.rs"]
mod caldav_server;

use caldav_server::server;

fn uid(booking: Uuid) -> String {
    format!("gomomo-{}", booking.simple())
}

#[sqlx::test(migrations = "../../migrations")]
#[ignore = "needs the CalDAV server that scripts/caldav-test.sh starts"]
async fn a_chat_booking_lands_in_the_caldav_calendar_moves_and_goes(pool: PgPool) {
    let srv = server();
    let calendar = srv.new_calendar("clinic");
    let seed = seed_demo(&pool).await.unwrap();
    let key = Some(seed.api_key.as_str());
    let app = support::app(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        &[
            ("CALENDAR_MODE", "connected"),
            ("OUTBOUND_ALLOW_HOSTS", "127.0.0.1"),
        ],
    );
    // GIVEN both staff members keep the clinic's CalDAV calendar
    let connect = |password: &str| {
        json!({"server_url": srv.url, "username": srv.user, "password": password,
               "calendar_url": calendar})
        .to_string()
    };
    let (s, v) = call(
        &app,
        "PUT",
        &admin(&format!(
            "/resources/{}/calendar/caldav",
            DEMO_RESOURCES[0].0
        )),
        Some(&connect("wrong")),
        key,
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "calendar_credentials_refused"),
        "{v}"
    );
    for (resource, _) in DEMO_RESOURCES {
        let (s, v) = call(
            &app,
            "PUT",
            &admin(&format!("/resources/{resource}/calendar/caldav")),
            Some(&connect(&srv.password)),
            key,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["provider"], "caldav");
        assert_eq!(
            v["calendar"].as_str().unwrap().trim_end_matches('/'),
            calendar.trim_end_matches('/')
        );
        assert!(v.get("password").is_none());
    }
    let (_, list) = call(&app, "GET", &admin("/calendars"), None, key).await;
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let sealed: Vec<u8> = sqlx::query_scalar(
        "SELECT password_enc FROM calendar_connections WHERE provider = 'caldav' LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!sealed
        .windows(srv.password.len())
        .any(|w| w == srv.password.as_bytes()));

    // WHEN a client books by chat THEN the event is in the calendar, at the booking's time
    let reference = book_by_chat(&app, &pool, "ana@example.org").await;
    let (id, start, end) = booking_times(&pool, &reference).await;
    assert_eq!(srv.events(&calendar), vec![(uid(id), start, end)]);

    // WHEN the client moves it THEN the same event moves
    move_booking(
        &app,
        &reference,
        "ana@example.org",
        "2026-12-09T15:00:00-05:00",
    )
    .await;
    let (_, start, end) = booking_times(&pool, &reference).await;
    assert_eq!(srv.events(&calendar), vec![(uid(id), start, end)]);

    // WHEN it is cancelled THEN the event is gone
    cancel_booking(&app, &reference, "ana@example.org").await;
    assert!(srv.events(&calendar).is_empty());

    // WHEN another program puts a meeting in the calendar THEN its times are not offered
    let before = starts(&app, &consult(), "2026-12-10").await;
    assert!(before.contains(&"2026-12-10T14:00:00-05:00".to_string()));
    let meeting = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n\
        UID:staff-meeting-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261210T190000Z\r\n\
        DTEND:20261210T200000Z\r\nSUMMARY:Staff meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    srv.helper(&["add", &calendar, &srv.user, &srv.password], meeting);
    let after = starts(&app, &consult(), "2026-12-10").await;
    for t in ["14:00", "14:30"] {
        assert!(
            !after.contains(&format!("2026-12-10T{t}:00-05:00")),
            "{t} is in the meeting: {after:?}"
        );
    }
    assert!(after.contains(&"2026-12-10T15:00:00-05:00".to_string()));

    // WHEN our event is deleted in the calendar THEN the admin is told once, and the
    // booking stays as it is
    let reference = book_by_chat(&app, &pool, "bo@example.org").await;
    let (id, _, _) = booking_times(&pool, &reference).await;
    let href = format!("{}/{}.ics", calendar.trim_end_matches('/'), uid(id));
    srv.helper(&["delete", &href, &srv.user, &srv.password], "");
    for _ in 0..2 {
        starts(&app, &consult(), "2026-12-08").await;
    }
    let reports: Vec<Value> = sqlx::query_scalar(
        "SELECT payload FROM audit_log WHERE event_type = 'calendar.event_changed_outside'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["found"], "missing");
    assert_eq!(reports[0]["reference"], reference.as_str());
    let status: String = sqlx::query_scalar("SELECT status FROM appointments WHERE reference = $1")
        .bind(&reference)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "confirmed");

    // WHEN the staff member disconnects, removing future events THEN the calendar keeps
    // nothing of ours and the other staff member's connection stays
    let resource: Uuid =
        sqlx::query_scalar("SELECT resource_id FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    let (s, v) = call(
        &app,
        "DELETE",
        &admin(&format!(
            "/resources/{resource}/calendar?future_events=remove"
        )),
        None,
        key,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["provider"].as_str(), v["removed"].as_u64()),
        (Some("caldav"), Some(1))
    );
    let left: Vec<String> = srv.events(&calendar).into_iter().map(|e| e.0).collect();
    assert_eq!(left, vec!["staff-meeting-1".to_string()]);
    let (_, list) = call(&app, "GET", &admin("/calendars"), None, key).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_ne!(list[0]["resource_id"], resource.to_string());
}
