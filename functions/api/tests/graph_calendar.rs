//! A resource's Microsoft 365 calendar end to end, against the Graph-shaped server of the
//! Graph client's tests (shapes from Microsoft's documentation; it checks the PKCE verifier,
//! bearer tokens, the create's `transactionId` and every parameter): connected through the
//! admin API and the OAuth callback, a booking made by chat appears there, moves with a
//! reschedule and goes with a cancel, and the calendar's busy time removes slots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "../../../shared/tests/support/graph_server.rs"]
mod graph_server;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gomomo::services::admin::{seed_demo, DEMO_RESOURCES};
use gomomo::services::Clock;
use graph_server::{consent, Event, Server, CLIENT_ID, CLIENT_SECRET, REDIRECT};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use support::{
    admin, book_by_chat, booking_times, call, cancel_booking, code, consult, move_booking, ny,
    starts,
};
use tower::ServiceExt;

/// The callback as the browser makes it: the query Microsoft sent and the state cookie.
async fn callback(app: &axum::Router, query: &str, cookie: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .uri(format!("/api/oauth/microsoft/callback?{query}"))
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Our events in the server's calendar: (transactionId, start, end).
fn ours(
    server: &Server,
) -> Vec<(
    String,
    chrono::DateTime<chrono::Utc>,
    chrono::DateTime<chrono::Utc>,
)> {
    server
        .state()
        .events
        .iter()
        .filter_map(|e| Some((e.transaction_id.clone()?, e.start, e.end)))
        .collect()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_chat_booking_lands_in_the_microsoft_calendar_moves_and_goes(pool: PgPool) {
    let server = Server::start().await;
    let seed = seed_demo(&pool).await.unwrap();
    let key = Some(seed.api_key.as_str());
    let graph = server.settings.graph_base_url.clone();
    let authority = server.settings.authority_base_url.clone();
    let clock = Clock::fixed(ny(2026, 12, 14, 8, 0));
    // The composition root both the API and the scheduler come from.
    let core = gomomo::app::App::configured(
        support::config(&[
            ("CALENDAR_MODE", "connected"),
            ("MICROSOFT_CLIENT_ID", CLIENT_ID),
            ("MICROSOFT_CLIENT_SECRET", CLIENT_SECRET),
            ("MICROSOFT_REDIRECT_URL", REDIRECT),
            ("MICROSOFT_AUTHORITY_URL", &authority),
            ("MICROSOFT_GRAPH_BASE_URL", &graph),
        ]),
        pool.clone(),
        clock.clone(),
    );
    let app = gomomo_api::router(gomomo_api::AppState::from_app(&core));
    // GIVEN both staff members connect the clinic's Outlook calendar
    for (resource, _) in DEMO_RESOURCES {
        let (s, v) = call(
            &app,
            "POST",
            &admin(&format!("/resources/{resource}/calendar/microsoft/connect")),
            None,
            key,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let url = v["authorization_url"].as_str().unwrap();
        let (code_, state) = consent(&server, url).await;
        let query = format!("state={state}&code={code_}");
        // Not from the browser that started it: refused, and the state is not spent.
        let (s, v) = callback(&app, &query, "gomomo_oauth_state=other").await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_oauth_state")
        );
        let (s, v) = callback(&app, &query, &format!("gomomo_oauth_state={state}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["connected"], true);
        // A state is spent once.
        let (s, v) = callback(&app, &query, &format!("gomomo_oauth_state={state}")).await;
        assert_eq!(
            (s, code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_oauth_state")
        );
    }
    let (_, list) = call(&app, "GET", &admin("/calendars"), None, key).await;
    let providers: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, vec!["microsoft", "microsoft"], "{list}");

    // WHEN a client books by chat THEN the event is in the calendar, at the booking's time
    let reference = book_by_chat(&app, &pool, "ana@example.org").await;
    let (id, start, end) = booking_times(&pool, &reference).await;
    let txn = gomomo::adapters::graph::transaction_id(id);
    assert_eq!(ours(&server), vec![(txn.clone(), start, end)]);

    // WHEN someone moves our event in Outlook THEN the scheduler's read-back reports it to
    // the admin once, and the booking stays
    let report = core.scheduler.tick().await;
    assert_eq!(report.calendar_events_checked, 1, "{report:?}");
    server
        .state()
        .events
        .iter_mut()
        .find(|e| e.transaction_id.is_some())
        .unwrap()
        .start += chrono::Duration::hours(1);
    assert_eq!(
        core.scheduler.tick().await.calendar_events_checked,
        0,
        "checked recently"
    );
    clock.advance(chrono::Duration::minutes(16));
    assert_eq!(core.scheduler.tick().await.calendar_events_checked, 1);
    clock.advance(chrono::Duration::minutes(16));
    core.scheduler.tick().await;
    let reports: Vec<Value> = sqlx::query_scalar(
        "SELECT payload FROM audit_log WHERE event_type = 'calendar.event_changed_outside'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["found"], "moved");
    assert_eq!(booking_times(&pool, &reference).await, (id, start, end));

    // WHEN the client moves it THEN the same event moves (no second event), written back
    // at the booking's time
    move_booking(
        &app,
        &reference,
        "ana@example.org",
        "2026-12-16T15:00:00-05:00",
    )
    .await;
    let (_, start, end) = booking_times(&pool, &reference).await;
    assert_eq!(ours(&server), vec![(txn, start, end)]);

    // WHEN it is cancelled THEN the event is gone
    cancel_booking(&app, &reference, "ana@example.org").await;
    assert!(ours(&server).is_empty());

    // WHEN the calendar gets a meeting THEN its times are not offered
    let before = starts(&app, &consult(), "2026-12-17").await;
    assert!(before.contains(&"2026-12-17T14:00:00-05:00".to_string()));
    server.state().events.push(Event {
        id: "staff-meeting".into(),
        subject: "Staff meeting".into(),
        start: ny(2026, 12, 17, 14, 0),
        end: ny(2026, 12, 17, 15, 0),
        all_day: None,
        show_as: "busy".into(),
        cancelled: false,
        transaction_id: None,
        booking_marker: None,
    });
    let after = starts(&app, &consult(), "2026-12-17").await;
    for t in ["14:00", "14:30"] {
        assert!(
            !after.contains(&format!("2026-12-17T{t}:00-05:00")),
            "{t}: {after:?}"
        );
    }
    assert!(after.contains(&"2026-12-17T15:00:00-05:00".to_string()));
    server.assert_clean();
}
