//! The calendar write at booking time and its failure modes: after confirm / reschedule /
//! cancel commit, the attached calendar is written outside the transaction. Lenient
//! (default): the booking stands and `CalendarWriteFailed` goes to the outbox. Strict
//! (`CALENDAR_SYNC_REQUIRED=true`): the booking is undone and the session holds the same
//! slot again; the API answers 503 `calendar_unavailable`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use gomomo::adapters::local::{MockCalendar, MockCalendarOp};
use gomomo::config::CalendarFailMode;
use gomomo::db::bookings::HoldRow;
use gomomo::domain::{ClientName, Email, ReferenceCode, SessionId, TenantId};
use gomomo::http::ApiError;
use gomomo::services::booking::{BookingError, ClientDetails};
use gomomo::services::{admin, BookingService, Clock};
use sqlx::PgPool;
use support::{ny, CONSULT};
use uuid::Uuid;

struct Env {
    tenant: TenantId,
    clock: Clock,
    cal: Arc<MockCalendar>,
    booking: BookingService,
}

async fn env(pool: &PgPool, mode: CalendarFailMode, strict: bool) -> Env {
    let seed = admin::seed_demo(pool).await.unwrap();
    // Monday 2026-03-02 08:00 New York: the week's slots are open.
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    let cal = Arc::new(MockCalendar::new(mode));
    let booking = BookingService::new(pool.clone(), clock.clone(), StdDuration::from_secs(300))
        .with_calendar_writes(cal.clone())
        .with_calendar_sync_required(strict);
    Env {
        tenant: TenantId(seed.tenant_id),
        clock,
        cal,
        booking,
    }
}

fn client() -> ClientDetails {
    ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse("ana@example.com").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    }
}

async fn hold(e: &Env, at: DateTime<Utc>, s: &SessionId) -> HoldRow {
    e.booking
        .create_hold(e.tenant, CONSULT, at, s)
        .await
        .unwrap()
}

async fn outbox_events(pool: &PgPool, name: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT payload FROM outbox WHERE event_type = $1 ORDER BY created_at")
        .bind(name)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn confirm_writes_the_event_and_reschedule_and_cancel_follow(pool: PgPool) {
    let e = env(&pool, CalendarFailMode::None, false).await;
    let s = SessionId::parse("web-cal-1").unwrap();
    // WHEN a booking is confirmed
    let h = hold(&e, ny(2026, 3, 3, 10, 0), &s).await;
    let (appt, created) = e
        .booking
        .confirm(e.tenant, h.id, &s, &client())
        .await
        .unwrap();
    assert!(created);
    // THEN the calendar holds one event for that booking at that time
    let ops = e.cal.operations();
    assert_eq!(ops.len(), 1);
    let MockCalendarOp::Upsert(ev) = &ops[0] else {
        panic!("expected a create, got {ops:?}");
    };
    assert_eq!(ev.booking_id, appt.id);
    assert_eq!(ev.tenant_id, e.tenant.0);
    assert_eq!((ev.start, ev.end), (appt.start_at, appt.end_at));
    assert!(ev.summary.contains(&appt.reference));
    // AND a repeated confirm (same hold) writes nothing again
    e.booking
        .confirm(e.tenant, h.id, &s, &client())
        .await
        .unwrap();
    assert_eq!(e.cal.operations().len(), 1);

    // WHEN it is rescheduled THEN the same event (same booking id) moves to the new time
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    let h2 = hold(&e, ny(2026, 3, 4, 14, 0), &s).await;
    let moved = e
        .booking
        .reschedule(e.tenant, &reference, &email, h2.id, Some(&s))
        .await
        .unwrap();
    let ops = e.cal.operations();
    assert_eq!(ops.len(), 2);
    let MockCalendarOp::Upsert(ev) = &ops[1] else {
        panic!("expected an update, got {ops:?}");
    };
    assert_eq!(ev.booking_id, appt.id);
    assert_eq!(ev.start, moved.start_at);
    assert_eq!(ev.start, ny(2026, 3, 4, 14, 0));

    // WHEN it is cancelled THEN the event is deleted; a second cancel deletes nothing more
    e.booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    e.booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    let ops = e.cal.operations();
    assert_eq!(
        ops[2..],
        [MockCalendarOp::Delete {
            tenant_id: e.tenant.0,
            booking_id: appt.id
        }]
    );
    // AND nothing failed
    assert!(outbox_events(&pool, "CalendarWriteFailed").await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn lenient_failure_keeps_the_booking_and_emits_calendar_write_failed(pool: PgPool) {
    let e = env(&pool, CalendarFailMode::AllOpsFail, false).await;
    let s = SessionId::parse("web-cal-2").unwrap();
    let h = hold(&e, ny(2026, 3, 3, 11, 0), &s).await;
    // WHEN the calendar refuses every call
    let (appt, created) = e
        .booking
        .confirm(e.tenant, h.id, &s, &client())
        .await
        .unwrap();
    // THEN the booking stands (the user is not told)
    assert!(created);
    assert_eq!(appt.status, "confirmed");
    let status: String = sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
        .bind(appt.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "confirmed");
    assert!(e.cal.operations().is_empty());
    // AND CalendarWriteFailed waits in the outbox with what the retry job needs
    let failed = outbox_events(&pool, "CalendarWriteFailed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["booking_id"], appt.id.to_string());
    assert!(
        failed[0].get("session_id").is_none(),
        "the event names the booking, never the session: {}",
        failed[0]
    );
    assert_eq!(failed[0]["reference"], appt.reference.as_str());
    assert_eq!(failed[0]["operation"], "create");
    assert_eq!(failed[0]["error_kind"], "other");
    assert_eq!(outbox_events(&pool, "BookingCreated").await.len(), 1);

    // Reschedule and cancel failures are recorded the same way.
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    let h2 = hold(&e, ny(2026, 3, 4, 9, 0), &s).await;
    e.booking
        .reschedule(e.tenant, &reference, &email, h2.id, Some(&s))
        .await
        .unwrap();
    e.booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    let ops: Vec<String> = outbox_events(&pool, "CalendarWriteFailed")
        .await
        .iter()
        .map(|p| p["operation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ops, ["create", "create", "delete"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn strict_failure_undoes_the_booking_and_holds_the_slot_again(pool: PgPool) {
    let e = env(&pool, CalendarFailMode::NetworkError, true).await;
    let s = SessionId::parse("web-cal-3").unwrap();
    let at = ny(2026, 3, 3, 15, 0);
    let h = hold(&e, at, &s).await;
    e.clock.advance(chrono::Duration::minutes(2));
    // WHEN the calendar write fails in strict mode
    let err = e
        .booking
        .confirm(e.tenant, h.id, &s, &client())
        .await
        .unwrap_err();
    // THEN the caller gets the typed error with a fresh hold on the same slot
    let BookingError::CalendarUnavailable {
        hold_id,
        expires_at,
    } = err
    else {
        panic!("expected CalendarUnavailable, got {err:?}");
    };
    assert_ne!(hold_id, h.id);
    assert_eq!(
        expires_at,
        e.clock.now() + chrono::Duration::seconds(300),
        "a fresh TTL"
    );
    // AND no live appointment remains; the one made is cancelled and audited
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, status FROM appointments WHERE tenant_id = $1")
            .bind(e.tenant.0)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "cancelled");
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE event_type = 'booking.rolled_back_calendar' AND entity_id = $1",
    )
    .bind(rows[0].0.to_string())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);
    // AND the session holds the same slot and resource again
    let live: Vec<(Uuid, String, Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, session_id, resource_id, service_id FROM availability_holds
          WHERE tenant_id = $1 AND status = 'active' AND during = tstzrange($2, $3)",
    )
    .bind(e.tenant.0)
    .bind(h.start_at)
    .bind(h.end_at)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        live,
        [(hold_id, "web-cal-3".into(), h.resource_id, h.service_id)]
    );
    // AND no BookingCreated is left to announce a booking that does not exist, and no
    // retry is started
    assert!(outbox_events(&pool, "BookingCreated").await.is_empty());
    assert!(outbox_events(&pool, "CalendarWriteFailed").await.is_empty());
    // AND the API answers 503 calendar_unavailable, telling the user to try again
    let api: ApiError = BookingError::CalendarUnavailable {
        hold_id,
        expires_at,
    }
    .into();
    assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.code, "calendar_unavailable");
    assert!(api.message.contains("try again"));
    assert_eq!(
        api.into_response().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    // WHEN the calendar is back THEN the new hold confirms and the event is written
    e.cal.set_mode(CalendarFailMode::None);
    let (appt, created) = e
        .booking
        .confirm(e.tenant, hold_id, &s, &client())
        .await
        .unwrap();
    assert!(created);
    assert_eq!(appt.start_at, at);
    assert_eq!(e.cal.operations().len(), 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn strict_mode_does_not_undo_reschedule_or_cancel(pool: PgPool) {
    let e = env(&pool, CalendarFailMode::None, true).await;
    let s = SessionId::parse("web-cal-4").unwrap();
    let h = hold(&e, ny(2026, 3, 5, 10, 0), &s).await;
    let (appt, _) = e
        .booking
        .confirm(e.tenant, h.id, &s, &client())
        .await
        .unwrap();
    // The strict rule is for confirm only: a failed update or delete is retried.
    e.cal.set_mode(CalendarFailMode::AllOpsFail);
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    let h2 = hold(&e, ny(2026, 3, 5, 13, 0), &s).await;
    let moved = e
        .booking
        .reschedule(e.tenant, &reference, &email, h2.id, Some(&s))
        .await
        .unwrap();
    assert_eq!(moved.status, "confirmed");
    let cancelled = e
        .booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(outbox_events(&pool, "CalendarWriteFailed").await.len(), 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_calendar_nothing_changes(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    // Strict, but no calendar attached: nothing to write, nothing can fail.
    let booking = BookingService::new(pool.clone(), clock, StdDuration::from_secs(300))
        .with_calendar_sync_required(true);
    let tenant = TenantId(seed.tenant_id);
    let s = SessionId::parse("web-cal-5").unwrap();
    let h = booking
        .create_hold(tenant, CONSULT, ny(2026, 3, 3, 10, 0), &s)
        .await
        .unwrap();
    let (appt, created) = booking.confirm(tenant, h.id, &s, &client()).await.unwrap();
    assert!(created);
    assert_eq!(appt.status, "confirmed");
    assert!(outbox_events(&pool, "CalendarWriteFailed").await.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn failed_writes_are_retried_by_the_worker_create_and_delete(pool: PgPool) {
    use gomomo::adapters::local::InProcessPublisher;
    use gomomo::services::autonomy::Autonomy;
    use gomomo::services::relay::OutboxRelay;

    let seed = admin::seed_demo(&pool).await.unwrap();
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    let (publisher, mut rx) = InProcessPublisher::channel(256);
    let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
    let cal = Arc::new(MockCalendar::new(CalendarFailMode::Timeout));
    let booking = BookingService::new(pool.clone(), clock.clone(), StdDuration::from_secs(300))
        .with_relay(relay.clone())
        .with_calendar_writes(cal.clone());
    let autonomy = Autonomy::new(booking.clone(), true, cal.clone()).with_relay(relay.clone());
    let tenant = TenantId(seed.tenant_id);
    let deliver = |rx: &mut tokio::sync::mpsc::Receiver<_>| {
        let mut out = Vec::new();
        while let Ok(env) = rx.try_recv() {
            out.push(env);
        }
        out
    };
    let s = SessionId::parse("web-cal-6").unwrap();

    // GIVEN a booking whose calendar write timed out (lenient)
    let h = booking
        .create_hold(tenant, CONSULT, ny(2026, 3, 3, 10, 0), &s)
        .await
        .unwrap();
    let (appt, _) = booking.confirm(tenant, h.id, &s, &client()).await.unwrap();
    relay.publish_pending(100).await.unwrap();
    for env in deliver(&mut rx) {
        autonomy.handle_event(&env).await.unwrap();
    }
    // WHEN the calendar is back and the retry is due THEN the event is written
    cal.set_mode(CalendarFailMode::None);
    clock.advance(chrono::Duration::seconds(31));
    autonomy.run_due_jobs(50).await.unwrap();
    assert!(matches!(
        cal.operations().as_slice(),
        [MockCalendarOp::Upsert(ev)] if ev.booking_id == appt.id
    ));

    // GIVEN the booking is cancelled while every calendar call fails
    cal.set_mode(CalendarFailMode::AllOpsFail);
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    booking.cancel(tenant, &reference, &email).await.unwrap();
    relay.publish_pending(100).await.unwrap();
    for env in deliver(&mut rx) {
        autonomy.handle_event(&env).await.unwrap();
    }
    // WHEN the calendar is back and the retry runs THEN the event is deleted
    cal.set_mode(CalendarFailMode::None);
    clock.advance(chrono::Duration::seconds(31));
    autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(
        cal.operations().last(),
        Some(&MockCalendarOp::Delete {
            tenant_id: tenant.0,
            booking_id: appt.id
        })
    );
    let statuses: Vec<String> = sqlx::query_scalar(
        "SELECT status FROM jobs WHERE kind = 'retry_calendar_sync' ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(statuses, ["completed", "completed"]);
}
