//! The booking service against a real Postgres (`#[sqlx::test]`: a fresh migrated database
//! per test). Dates are pinned with a fixed clock so DST days and windows are reachable.
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{Duration, NaiveDate};
use gomomo::db::bookings::{AppointmentStatus, HoldStatus};
use gomomo::db::tenants::HoursRow;
use gomomo::domain::{
    ClientName, Email, Notes, PhoneE164, ReferenceCode, SessionId, TenantId, TimeZone,
};
use gomomo::services::admin::{self, ServiceInput, TenantSettings};
use gomomo::services::booking::{BookingError, ClientDetails};
use gomomo::services::{BookingService, Clock};
use sqlx::PgPool;
use support::{march_2_8am, ny};
use uuid::Uuid;

/// Monday 2 March 2026, 08:00 in New York (13:00Z): the week before the spring-forward change.
struct Fixture {
    svc: BookingService,
    tenant: TenantId,
    service: Uuid,
    resources: Vec<Uuid>,
}

/// A tenant with `n` resources, Mon–Fri 9–17 New York, one 30-minute service, and the given buffer.
async fn fixture(pool: &PgPool, n: usize, buffer: i32) -> Fixture {
    let created = admin::create_tenant(
        pool,
        Uuid::new_v4(),
        &TenantSettings {
            name: "Test Clinic".into(),
            time_zone: TimeZone::parse("America/New_York").unwrap(),
            slot_step_minutes: 30,
            min_notice_minutes: 60,
            max_days_ahead: 14,
            buffer_minutes: buffer,
        },
    )
    .await
    .unwrap();
    let tenant = TenantId(created.tenant.id);
    let mut resources = Vec::new();
    for i in 0..n {
        let r = admin::upsert_resource(pool, tenant, None, Some(&format!("Staff {i}")), None, None)
            .await
            .unwrap();
        resources.push(r.id);
    }
    let service = admin::upsert_service(
        pool,
        tenant,
        None,
        &ServiceInput {
            name: Some("Consultation".into()),
            description: None,
            duration_minutes: Some(30),
            active: None,
            resource_ids: Some(resources.clone()),
        },
    )
    .await
    .unwrap();
    let hours: Vec<HoursRow> = (1..=5)
        .map(|d| HoursRow {
            weekday: d,
            opens: "09:00:00".parse().unwrap(),
            closes: "17:00:00".parse().unwrap(),
        })
        .collect();
    admin::replace_hours(pool, tenant, &hours).await.unwrap();
    resources.sort();
    Fixture {
        svc: BookingService::new(
            pool.clone(),
            Clock::fixed(march_2_8am()),
            std::time::Duration::from_secs(300),
        ),
        tenant,
        service: service.id,
        resources,
    }
}

fn session(s: &str) -> SessionId {
    SessionId::parse(s).unwrap()
}

fn client(email: &str) -> ClientDetails {
    ClientDetails {
        name: ClientName::parse("Jane Q. Doe").unwrap(),
        email: Email::parse(email).unwrap(),
        phone: Some(PhoneE164::parse("+15555550142").unwrap()),
        notes: Notes::parse(
            "prefers mornings; reach me at jane.backup@example.net or +1 555 555 0199",
        )
        .unwrap(),
        time_zone: None,
        locale: None,
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn hold_confirm_lookup_reschedule_cancel(pool: PgPool) {
    let f = fixture(&pool, 1, 0).await;
    let tue = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let a = f
        .svc
        .availability(f.tenant, f.service, tue, tue)
        .await
        .unwrap();
    assert_eq!(a.slots.len(), 16);
    assert_eq!(a.slots[0].start, ny(2026, 3, 3, 9, 0));

    // GIVEN a hold on 10:00 THEN the slot disappears from availability
    let s = session("web-1");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 10, 0), &s)
        .await
        .unwrap();
    assert_eq!(hold.expires_at, march_2_8am() + Duration::minutes(5));
    let a = f
        .svc
        .availability(f.tenant, f.service, tue, tue)
        .await
        .unwrap();
    assert_eq!(a.slots.len(), 15);
    assert!(a.slots.iter().all(|x| x.start != ny(2026, 3, 3, 10, 0)));

    // WHEN the session confirms THEN a booking exists; confirming again returns the same one
    let (b, created) = f
        .svc
        .confirm(f.tenant, hold.id, &s, &client("Jane@Example.com"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(b.status, "confirmed");
    assert_eq!(b.client_email, "jane@example.com");
    let (again, created_again) = f
        .svc
        .confirm(f.tenant, hold.id, &s, &client("jane@example.com"))
        .await
        .unwrap();
    assert!(!created_again);
    assert_eq!(again.id, b.id);
    assert_eq!(count(&pool, "SELECT count(*) FROM appointments").await, 1);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM availability_holds").await,
        0
    );

    // lookup needs the right email
    let r = ReferenceCode::parse(&b.reference).unwrap();
    let found = f
        .svc
        .lookup(f.tenant, &r, &Email::parse("JANE@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(found.id, b.id);
    assert!(matches!(
        f.svc
            .lookup(f.tenant, &r, &Email::parse("mallory@example.com").unwrap())
            .await,
        Err(BookingError::BookingNotFound)
    ));

    // reschedule to 14:00: the old slot comes back, the reference stays, sequence grows
    let s2 = session("web-1-resched");
    let h2 = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 14, 0), &s2)
        .await
        .unwrap();
    let moved = f
        .svc
        .reschedule(
            f.tenant,
            &r,
            &Email::parse("jane@example.com").unwrap(),
            h2.id,
            None,
        )
        .await
        .unwrap();
    assert_eq!(moved.reference, b.reference);
    assert_eq!(moved.start_at, ny(2026, 3, 3, 14, 0));
    assert_eq!(moved.sequence, 1);
    let a = f
        .svc
        .availability(f.tenant, f.service, tue, tue)
        .await
        .unwrap();
    assert!(a.slots.iter().any(|x| x.start == ny(2026, 3, 3, 10, 0)));
    assert!(a.slots.iter().all(|x| x.start != ny(2026, 3, 3, 14, 0)));

    // cancel frees the slot, emits SlotOpened; cancelling twice is a no-op
    let email = Email::parse("jane@example.com").unwrap();
    let c = f.svc.cancel(f.tenant, &r, &email).await.unwrap();
    assert_eq!(c.status, "cancelled");
    let c2 = f.svc.cancel(f.tenant, &r, &email).await.unwrap();
    assert_eq!(c2.sequence, c.sequence);
    let a = f
        .svc
        .availability(f.tenant, f.service, tue, tue)
        .await
        .unwrap();
    assert_eq!(a.slots.len(), 16);
    // a cancelled booking cannot be moved
    let h3 = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 15, 0), &s2)
        .await
        .unwrap();
    assert!(matches!(
        f.svc.reschedule(f.tenant, &r, &email, h3.id, None).await,
        Err(BookingError::BookingCancelled)
    ));

    let events: Vec<String> =
        sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY created_at, event_type")
            .fetch_all(&pool)
            .await
            .unwrap();
    let mut sorted = events.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            "BookingCancelled",
            "BookingCreated",
            "BookingRescheduled",
            "SlotOpened",
            "SlotOpened"
        ]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn audit_log_never_holds_raw_pii(pool: PgPool) {
    let f = fixture(&pool, 1, 0).await;
    let s = session("pii-session");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 11, 0), &s)
        .await
        .unwrap();
    let (b, _) = f
        .svc
        .confirm(f.tenant, hold.id, &s, &client("jane.doe@example.com"))
        .await
        .unwrap();
    let r = ReferenceCode::parse(&b.reference).unwrap();
    let email = Email::parse("jane.doe@example.com").unwrap();
    let h2 = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 4, 11, 0), &s)
        .await
        .unwrap();
    f.svc
        .reschedule(f.tenant, &r, &email, h2.id, None)
        .await
        .unwrap();
    f.svc.cancel(f.tenant, &r, &email).await.unwrap();
    // a hold left to expire: hold.expired and HoldExpired
    f.svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 5, 11, 0), &s)
        .await
        .unwrap();
    f.svc.clock().advance(chrono::Duration::minutes(10));
    assert_eq!(f.svc.expire_holds().await.unwrap(), 1);

    let audit: Vec<String> =
        sqlx::query_scalar("SELECT event_type || ' ' || coalesce(entity_id, '') || ' ' || payload::text FROM audit_log")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(audit.iter().any(|a| a.starts_with("booking.confirmed")));
    assert!(audit.iter().any(|a| a.starts_with("booking.rescheduled")));
    assert!(audit.iter().any(|a| a.starts_with("booking.cancelled")));
    assert!(audit.iter().any(|a| a.starts_with("hold.created")));
    assert!(audit.iter().any(|a| a.starts_with("hold.expired")));
    // identifiers and instants survive redaction: the audit trail still says what and when
    let confirmed: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM audit_log WHERE event_type = 'booking.confirmed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(confirmed["reference"], b.reference.as_str());
    assert_eq!(confirmed["hold_id"], hold.id.to_string());
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(confirmed["start"].as_str().unwrap()).unwrap(),
        ny(2026, 3, 3, 11, 0)
    );
    for row in &audit {
        for raw in [
            "jane.doe@example.com",
            "Jane Q. Doe",
            "+15555550142",
            "jane.backup",
            "555 555 0199",
            "prefers mornings",
        ] {
            assert!(
                !row.contains(raw),
                "raw PII {raw:?} reached audit_log: {row}"
            );
        }
        // the session id is a bearer secret: no audit row names it
        assert!(
            !row.contains("pii-session"),
            "session id in audit_log: {row}"
        );
    }
    // the outbox is PII-free too, and names no session
    let outbox: Vec<String> =
        sqlx::query_scalar("SELECT event_type || ' ' || payload::text FROM outbox")
            .fetch_all(&pool)
            .await
            .unwrap();
    for name in ["BookingCreated", "BookingCancelled", "HoldExpired"] {
        assert!(
            outbox.iter().any(|r| r.starts_with(name)),
            "{name}: {outbox:?}"
        );
    }
    for row in &outbox {
        assert!(!row.contains("jane"), "{row}");
        assert!(
            !row.contains("pii-session"),
            "session id in the outbox: {row}"
        );
        assert!(!row.contains("session_id"), "{row}");
    }
}

#[sqlx::test(migrations = false)]
async fn the_scrub_migration_removes_session_ids_written_before(pool: PgPool) {
    use serde_json::{json, Value};
    // GIVEN a database at the schema before the scrub, with rows written the old way
    gomomo::db::MIGRATOR.run_to(6, &pool).await.unwrap();
    let tenant = Uuid::new_v4();
    let (event, endpoint) = (Uuid::new_v4(), Uuid::new_v4());
    sqlx::query("INSERT INTO tenants (id, name, time_zone) VALUES ($1, 'T', 'UTC')")
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();
    let detail =
        json!({"tenant_id": tenant, "booking_id": Uuid::new_v4(), "session_id": "web-secret"});
    sqlx::query("INSERT INTO outbox (id, tenant_id, event_type, payload) VALUES ($1, $2, 'BookingCreated', $3)")
        .bind(event)
        .bind(tenant)
        .bind(&detail)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO webhook_endpoints (id, tenant_id, url, secret_enc) VALUES ($1, $2, 'https://x.example/h', '\\x00')")
        .bind(endpoint)
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload) VALUES ($1, $2, $3, $4, 'BookingCreated', $5)")
        .bind(Uuid::new_v4())
        .bind(tenant)
        .bind(endpoint)
        .bind(event)
        .bind(&detail)
        .execute(&pool)
        .await
        .unwrap();
    for (event_type, entity_type, entity_id, payload) in [
        (
            "event.received",
            "event",
            event.to_string(),
            json!({"event": "BookingCreated", "detail": detail}),
        ),
        (
            "hold.expired",
            "hold",
            Uuid::new_v4().to_string(),
            json!({"session_id": "web-secret", "service_id": Uuid::new_v4()}),
        ),
        (
            "followup.scheduled",
            "followup_contact",
            Uuid::new_v4().to_string(),
            json!({"channel": "email", "recipient": "kim@example.com", "session_id": "web-secret"}),
        ),
        (
            "agent.tool",
            "chat_session",
            "web-secret".to_string(),
            json!({"tool": "schedule_contact_followup", "session_id": "web-secret", "args": {"recipient": "+15555550177", "channel": "sms"}}),
        ),
    ] {
        sqlx::query("INSERT INTO audit_log (tenant_id, event_type, entity_type, entity_id, actor, payload) VALUES ($1, $2, $3, $4, 'test', $5)")
            .bind(tenant)
            .bind(event_type)
            .bind(entity_type)
            .bind(entity_id)
            .bind(payload)
            .execute(&pool)
            .await
            .unwrap();
    }

    // WHEN the rest of the migrations run
    gomomo::db::MIGRATOR.run(&pool).await.unwrap();

    // THEN no stored payload or audit row names the session, and the rest is intact
    let outbox: Value = sqlx::query_scalar("SELECT payload FROM outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    let delivery: Value = sqlx::query_scalar("SELECT payload FROM webhook_deliveries")
        .fetch_one(&pool)
        .await
        .unwrap();
    for v in [&outbox, &delivery] {
        assert!(v.get("session_id").is_none(), "{v}");
        assert_eq!(v["booking_id"], detail["booking_id"]);
    }
    let audit: Vec<(String, Option<String>, Value)> =
        sqlx::query_as("SELECT event_type, entity_id, payload FROM audit_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (event_type, entity_id, payload) in &audit {
        let row = format!("{event_type} {entity_id:?} {payload}");
        for secret in [
            "web-secret",
            "session_id",
            "kim@example.com",
            "+15555550177",
        ] {
            assert!(!row.contains(secret), "{secret:?} left in {row}");
        }
    }
    assert_eq!(audit[0].2["detail"]["booking_id"], detail["booking_id"]);
    assert_eq!(audit[2].2["recipient"], "[REDACTED]");
    assert_eq!(audit[2].2["channel"], "email");
    assert_eq!(audit[3].2["args"]["recipient"], "[REDACTED]");
    assert_eq!(audit[3].2["args"]["channel"], "sms");
    // the chat's audit rows are named as new ones are: by the session's digest
    assert_eq!(
        audit[3].1.as_deref(),
        Some(session("web-secret").audit_ref().as_str())
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn hold_rules(pool: PgPool) {
    let f = fixture(&pool, 2, 0).await;
    let s = session("a");
    // off the grid, outside hours, inside the minimum notice, past the window: all unavailable
    for start in [
        ny(2026, 3, 3, 10, 15),
        ny(2026, 3, 3, 8, 0),
        ny(2026, 3, 2, 8, 30),
        ny(2026, 3, 30, 10, 0),
        ny(2026, 3, 7, 10, 0),
    ] {
        assert!(
            matches!(
                f.svc.create_hold(f.tenant, f.service, start, &s).await,
                Err(BookingError::SlotUnavailable)
            ),
            "{start}"
        );
    }
    // two resources: two holds on one slot, the third is refused
    let t = ny(2026, 3, 3, 10, 0);
    let h1 = f
        .svc
        .create_hold(f.tenant, f.service, t, &session("s1"))
        .await
        .unwrap();
    let h2 = f
        .svc
        .create_hold(f.tenant, f.service, t, &session("s2"))
        .await
        .unwrap();
    assert_ne!(h1.resource_id, h2.resource_id);
    assert!(matches!(
        f.svc
            .create_hold(f.tenant, f.service, t, &session("s3"))
            .await,
        Err(BookingError::SlotUnavailable)
    ));
    // a new hold of the same session replaces its earlier one
    let h1b = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 11, 0), &session("s1"))
        .await
        .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM availability_holds WHERE session_id = 's1'"
        )
        .await,
        1
    );
    assert_ne!(h1b.id, h1.id);
    let h3 = f
        .svc
        .create_hold(f.tenant, f.service, t, &session("s3"))
        .await
        .unwrap();
    assert_eq!(h3.resource_id, h1.resource_id);
    // unknown tenant / service
    assert!(matches!(
        f.svc
            .create_hold(TenantId(Uuid::new_v4()), f.service, t, &s)
            .await,
        Err(BookingError::TenantNotFound)
    ));
    assert!(matches!(
        f.svc.create_hold(f.tenant, Uuid::new_v4(), t, &s).await,
        Err(BookingError::ServiceNotFound)
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn expired_and_foreign_holds_are_refused_and_swept(pool: PgPool) {
    let f = fixture(&pool, 1, 0).await;
    let s = session("owner");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 9, 0), &s)
        .await
        .unwrap();
    assert!(matches!(
        f.svc
            .confirm(
                f.tenant,
                hold.id,
                &session("intruder"),
                &client("x@example.com")
            )
            .await,
        Err(BookingError::HoldNotOwned)
    ));
    assert!(matches!(
        f.svc
            .confirm(f.tenant, Uuid::new_v4(), &s, &client("x@example.com"))
            .await,
        Err(BookingError::HoldNotFound)
    ));
    // 5 minutes later the hold is dead even before the sweep runs, and the slot is offered again
    f.svc.clock().advance(Duration::minutes(5));
    assert!(matches!(
        f.svc
            .confirm(f.tenant, hold.id, &s, &client("x@example.com"))
            .await,
        Err(BookingError::HoldExpired)
    ));
    let tue = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    assert_eq!(
        f.svc
            .availability(f.tenant, f.service, tue, tue)
            .await
            .unwrap()
            .slots
            .len(),
        16
    );
    assert_eq!(f.svc.expire_holds().await.unwrap(), 1);
    assert_eq!(f.svc.expire_holds().await.unwrap(), 0);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE event_type = 'HoldExpired'"
        )
        .await,
        1
    );
    assert!(matches!(
        f.svc
            .confirm(f.tenant, hold.id, &s, &client("x@example.com"))
            .await,
        Err(BookingError::HoldExpired)
    ));
    // another session can take the slot now
    f.svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 9, 0), &session("next"))
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn buffers_and_ranges(pool: PgPool) {
    let f = fixture(&pool, 1, 15).await;
    let s = session("buf");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 10, 0), &s)
        .await
        .unwrap();
    f.svc
        .confirm(f.tenant, hold.id, &s, &client("b@example.com"))
        .await
        .unwrap();
    let tue = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let starts: Vec<_> = f
        .svc
        .availability(f.tenant, f.service, tue, tue)
        .await
        .unwrap()
        .slots
        .iter()
        .map(|x| x.start)
        .collect();
    // with a 15-minute buffer, 09:30 and 10:30 are too close to the 10:00 booking
    assert!(starts.contains(&ny(2026, 3, 3, 9, 0)));
    assert!(!starts.contains(&ny(2026, 3, 3, 9, 30)));
    assert!(!starts.contains(&ny(2026, 3, 3, 10, 30)));
    assert!(starts.contains(&ny(2026, 3, 3, 11, 0)));
    assert!(matches!(
        f.svc
            .create_hold(
                f.tenant,
                f.service,
                ny(2026, 3, 3, 10, 30),
                &session("other")
            )
            .await,
        Err(BookingError::SlotUnavailable)
    ));
    // ranges
    let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    assert!(matches!(
        f.svc
            .availability(f.tenant, f.service, d(3, 5), d(3, 4))
            .await,
        Err(BookingError::InvalidRange(_))
    ));
    assert!(matches!(
        f.svc
            .availability(f.tenant, f.service, d(3, 2), d(3, 17))
            .await,
        Err(BookingError::RangeBeyondLookahead { max_days_ahead: 14 })
    ));
    // the last day of the window is fine, the past simply has no slots
    assert!(f
        .svc
        .availability(f.tenant, f.service, d(3, 16), d(3, 16))
        .await
        .is_ok());
    assert!(f
        .svc
        .availability(f.tenant, f.service, d(2, 2), d(2, 27))
        .await
        .unwrap()
        .slots
        .is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn dst_week_slots_are_at_local_nine(pool: PgPool) {
    // 2026-03-08 is the spring-forward Sunday; Monday 9 March opens at 09:00 EDT = 13:00Z
    let f = fixture(&pool, 1, 0).await;
    let fri = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
    let mon = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let a = f
        .svc
        .availability(f.tenant, f.service, fri, mon)
        .await
        .unwrap();
    assert_eq!(
        a.slots.len(),
        32,
        "Friday and Monday, nothing at the weekend"
    );
    assert_eq!(a.slots[0].start.to_rfc3339(), "2026-03-06T14:00:00+00:00");
    assert_eq!(a.slots[16].start.to_rfc3339(), "2026-03-09T13:00:00+00:00");
    let h = f
        .svc
        .create_hold(f.tenant, f.service, a.slots[16].start, &session("dst"))
        .await
        .unwrap();
    assert_eq!(h.start_at, ny(2026, 3, 9, 9, 0));
}

#[sqlx::test(migrations = "../migrations")]
async fn exclusion_constraint_is_the_last_guard(pool: PgPool) {
    // Two holds on one slot and resource, written behind the service's back (as if the hold
    // checks had a bug): the second confirm must lose with SlotTaken, not a 500.
    let f = fixture(&pool, 1, 0).await;
    let (start, end) = (ny(2026, 3, 3, 9, 0), ny(2026, 3, 3, 9, 30));
    let mut ids = Vec::new();
    for s in ["x1", "x2"] {
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO availability_holds (id, tenant_id, service_id, resource_id, session_id, during, expires_at)
             VALUES ($1, $2, $3, $4, $5, tstzrange($6, $7), $8)",
        )
        .bind(id)
        .bind(f.tenant.0)
        .bind(f.service)
        .bind(f.resources[0])
        .bind(s)
        .bind(start)
        .bind(end)
        .bind(march_2_8am() + Duration::minutes(5))
        .execute(&pool)
        .await
        .unwrap();
        ids.push(id);
    }
    f.svc
        .confirm(f.tenant, ids[0], &session("x1"), &client("a@example.com"))
        .await
        .unwrap();
    assert!(matches!(
        f.svc
            .confirm(f.tenant, ids[1], &session("x2"), &client("b@example.com"))
            .await,
        Err(BookingError::SlotTaken)
    ));
    assert_eq!(count(&pool, "SELECT count(*) FROM appointments").await, 1);
}

/// The status enums read and write the text columns with the same strings as before, and
/// serialize to JSON as those strings.
#[sqlx::test(migrations = "../migrations")]
async fn status_columns_round_trip(pool: PgPool) {
    let f = fixture(&pool, 1, 0).await;
    let s = session("web-status");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, ny(2026, 3, 3, 11, 0), &s)
        .await
        .unwrap();
    assert_eq!(hold.status, HoldStatus::Active);
    let (b, _) = f
        .svc
        .confirm(f.tenant, hold.id, &s, &client("ana@example.com"))
        .await
        .unwrap();
    assert_eq!(b.status, AppointmentStatus::Confirmed);
    let stored: String = sqlx::query_scalar("SELECT status FROM appointments WHERE id = $1")
        .bind(b.id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored, "confirmed");
    let reference = ReferenceCode::parse(&b.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    let c = f.svc.cancel(f.tenant, &reference, &email).await.unwrap();
    assert_eq!(c.status, AppointmentStatus::Cancelled);
    assert_eq!(serde_json::to_value(c.status).unwrap(), "cancelled");

    // Bound as a filter: the enum encodes as the column's text.
    let (lo, hi) = (ny(2026, 3, 3, 0, 0), ny(2026, 3, 4, 0, 0));
    for (filter, n) in [
        (Some(AppointmentStatus::Cancelled), 1),
        (Some(AppointmentStatus::Confirmed), 0),
        (None, 1),
    ] {
        let rows = f
            .svc
            .list_bookings(f.tenant, lo, hi, filter, 10)
            .await
            .unwrap();
        assert_eq!(rows.len(), n, "{filter:?}");
    }
    let expired: HoldStatus = sqlx::query_scalar("SELECT 'expired'::text")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(expired, HoldStatus::Expired);
}

/// A released hold frees its time at once; only the session that holds it can release it.
#[sqlx::test(migrations = "../migrations")]
async fn release_hold_frees_the_time_for_its_session_only(pool: PgPool) {
    let f = fixture(&pool, 1, 0).await;
    let at = ny(2026, 3, 3, 14, 0);
    let tue = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let mine = session("excel-import:ABCD-EFGH");
    let hold = f
        .svc
        .create_hold(f.tenant, f.service, at, &mine)
        .await
        .unwrap();
    let offered =
        |a: gomomo::services::booking::Availability| a.slots.iter().any(|s| s.start == at);
    assert!(!offered(
        f.svc
            .availability(f.tenant, f.service, tue, tue)
            .await
            .unwrap()
    ));
    assert!(!f
        .svc
        .release_hold(f.tenant, hold.id, &session("web-other"))
        .await
        .unwrap());
    assert!(f.svc.release_hold(f.tenant, hold.id, &mine).await.unwrap());
    assert!(offered(
        f.svc
            .availability(f.tenant, f.service, tue, tue)
            .await
            .unwrap()
    ));
    assert!(!f.svc.release_hold(f.tenant, hold.id, &mine).await.unwrap());
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE event_type = 'hold.released'"
        )
        .await,
        1
    );
}

/// A tenant in `zone` open every day 00:00–23:50, 10-minute grid, one resource, one
/// 30-minute service and a 30-minute buffer, seen at `now`.
async fn midnight_fixture(
    pool: &PgPool,
    zone: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Fixture {
    let created = admin::create_tenant(
        pool,
        Uuid::new_v4(),
        &TenantSettings {
            name: "Night Clinic".into(),
            time_zone: TimeZone::parse(zone).unwrap(),
            slot_step_minutes: 10,
            min_notice_minutes: 60,
            max_days_ahead: 14,
            buffer_minutes: 30,
        },
    )
    .await
    .unwrap();
    let tenant = TenantId(created.tenant.id);
    let r = admin::upsert_resource(pool, tenant, None, Some("Night staff"), None, None)
        .await
        .unwrap();
    let service = admin::upsert_service(
        pool,
        tenant,
        None,
        &ServiceInput {
            name: Some("Night consultation".into()),
            description: None,
            duration_minutes: Some(30),
            active: None,
            resource_ids: Some(vec![r.id]),
        },
    )
    .await
    .unwrap();
    let hours: Vec<HoursRow> = (1..=7)
        .map(|d| HoursRow {
            weekday: d,
            opens: "00:00:00".parse().unwrap(),
            closes: "23:50:00".parse().unwrap(),
        })
        .collect();
    admin::replace_hours(pool, tenant, &hours).await.unwrap();
    Fixture {
        svc: BookingService::new(
            pool.clone(),
            Clock::fixed(now),
            std::time::Duration::from_secs(300),
        ),
        tenant,
        service: service.id,
        resources: vec![r.id],
    }
}

/// The last slot of local `day` (ending 10 minutes before midnight) and the first of the
/// next day (at its first instant) are both offered while nothing is booked, yet lie
/// closer together than the buffer. Two clients book them at the same moment, round after
/// round: each round exactly one of them gets a booking. Returns the two starts (UTC).
async fn book_across_midnight(
    pool: &PgPool,
    f: &Fixture,
    day: NaiveDate,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let next = day.succ_opt().unwrap();
    let a = f
        .svc
        .availability(f.tenant, f.service, day, next)
        .await
        .unwrap();
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&a.time_zone).date_naive();
    let late = *a.slots.iter().rfind(|s| local(s.start) == day).unwrap();
    let early = *a.slots.iter().find(|s| local(s.start) == next).unwrap();
    assert!(early.start - late.end < Duration::minutes(30));
    let rounds = 40;
    for round in 0..rounds {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let mut tasks = Vec::new();
        for (i, start) in [late.start, early.start].into_iter().enumerate() {
            let (svc, tenant, service, barrier) =
                (f.svc.clone(), f.tenant, f.service, barrier.clone());
            tasks.push(tokio::spawn(async move {
                let s = session(&format!("night-{round}-{i}"));
                barrier.wait().await;
                let hold = svc.create_hold(tenant, service, start, &s).await?;
                svc.confirm(tenant, hold.id, &s, &client("night@example.com"))
                    .await
                    .map(|(appt, _)| appt)
            }));
        }
        let mut booked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => booked += 1,
                Err(BookingError::SlotUnavailable | BookingError::SlotTaken) => {}
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(
            booked, 1,
            "round {round}: both sides of midnight were booked"
        );
        assert_eq!(
            count(
                pool,
                "SELECT count(*) FROM appointments WHERE status <> 'cancelled'"
            )
            .await,
            1
        );
        sqlx::query("DELETE FROM appointments")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM availability_holds")
            .execute(pool)
            .await
            .unwrap();
    }
    (late.start, early.start)
}

#[sqlx::test(migrations = "../migrations")]
async fn buffers_hold_across_midnight_in_utc(pool: PgPool) {
    let f = midnight_fixture(&pool, "UTC", march_2_8am()).await;
    let (late, early) =
        book_across_midnight(&pool, &f, NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()).await;
    assert_eq!(late.to_rfc3339(), "2026-03-03T23:20:00+00:00");
    assert_eq!(early.to_rfc3339(), "2026-03-04T00:00:00+00:00");
}

#[sqlx::test(migrations = "../migrations")]
async fn buffers_hold_across_a_dst_change_at_midnight(pool: PgPool) {
    // Santiago springs forward at Sunday 6 September 2026 00:00 (-04 → -03): Saturday's last
    // slot ends 23:50 -04 = 03:50Z, Sunday opens at the first instant, 01:00 -03 = 04:00Z.
    let now = "2026-09-01T12:00:00Z".parse().unwrap();
    let f = midnight_fixture(&pool, "America/Santiago", now).await;
    let (late, early) =
        book_across_midnight(&pool, &f, NaiveDate::from_ymd_opt(2026, 9, 5).unwrap()).await;
    assert_eq!(late.to_rfc3339(), "2026-09-06T03:20:00+00:00");
    assert_eq!(early.to_rfc3339(), "2026-09-06T04:00:00+00:00");
}
