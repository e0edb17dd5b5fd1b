//! Autonomy on a real Postgres (`#[sqlx::test]`): the outbox relay on the in-process bus,
//! the orchestrator (dedup, policy, jobs), the job runner and the eight tools, the
//! scheduler tick. The clock is pinned: reminders and retries are reached by moving it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::adapters::local::{InProcessPublisher, MockCalendar};
use gomomo::config::CalendarFailMode;
use gomomo::db::jobs::{self, JobRow, JobStatus};
use gomomo::db::notifications::{self, NotificationRow, NotificationStatus};
use gomomo::db::{outbox, policy as policy_db};
use gomomo::domain::events::{self, DomainEvent};
use gomomo::domain::policy::Effect;
use gomomo::domain::{ClientName, Email, PhoneE164, ReferenceCode, SessionId, TenantId};
use gomomo::ports::events::EventEnvelope;
use gomomo::services::autonomy::policy;
use gomomo::services::autonomy::{Autonomy, EventOutcome};
use gomomo::services::booking::ClientDetails;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::scheduler::Scheduler;
use gomomo::services::{admin, BookingService, Clock};
use serde_json::json;
use sqlx::PgPool;
use support::{march_2_8am, ny, CONSULT};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Monday 2 March 2026, 08:00 in New York.
struct Env {
    pool: PgPool,
    clock: Clock,
    tenant: TenantId,
    /// Publishes right after commit (the in-process bus).
    booking: BookingService,
    autonomy: Autonomy,
    relay: OutboxRelay,
    rx: mpsc::Receiver<EventEnvelope>,
    calendar: Arc<MockCalendar>,
}

async fn env(pool: &PgPool, enabled: bool) -> Env {
    let seed = admin::seed_demo(pool).await.unwrap();
    let clock = Clock::fixed(march_2_8am());
    let (publisher, rx) = InProcessPublisher::channel(256);
    let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
    let booking = BookingService::new(
        pool.clone(),
        clock.clone(),
        std::time::Duration::from_secs(300),
    )
    .with_relay(relay.clone());
    let calendar = Arc::new(MockCalendar::new(CalendarFailMode::None));
    let autonomy =
        Autonomy::new(booking.clone(), enabled, calendar.clone()).with_relay(relay.clone());
    Env {
        pool: pool.clone(),
        clock,
        tenant: TenantId(seed.tenant_id),
        booking,
        autonomy,
        relay,
        rx,
        calendar,
    }
}

impl Env {
    /// Delivers every event waiting on the in-process bus to the orchestrator.
    async fn deliver(&mut self) -> Vec<(EventEnvelope, EventOutcome)> {
        self.relay.publish_pending(1000).await.unwrap();
        let mut out = Vec::new();
        while let Ok(env) = self.rx.try_recv() {
            let o = self.autonomy.handle_event(&env).await.unwrap();
            out.push((env, o));
        }
        out
    }

    async fn book(
        &self,
        session: &str,
        start: DateTime<Utc>,
    ) -> gomomo::db::bookings::AppointmentRow {
        self.book_in(session, start, None).await
    }

    /// A booking by a client whose own zone is `zone` (IANA name).
    async fn book_in(
        &self,
        session: &str,
        start: DateTime<Utc>,
        zone: Option<&str>,
    ) -> gomomo::db::bookings::AppointmentRow {
        self.book_as(session, start, zone, None).await
    }

    /// A booking by a client in `zone` who speaks `locale` (None: the tenant's default).
    async fn book_as(
        &self,
        session: &str,
        start: DateTime<Utc>,
        zone: Option<&str>,
        locale: Option<gomomo::domain::Locale>,
    ) -> gomomo::db::bookings::AppointmentRow {
        let s = SessionId::parse(session).unwrap();
        let hold = self
            .booking
            .create_hold(self.tenant, CONSULT, start, &s)
            .await
            .unwrap();
        let client = ClientDetails {
            name: ClientName::parse("Ana Lopez").unwrap(),
            email: Email::parse("ana@example.com").unwrap(),
            phone: Some(PhoneE164::parse("+15555550142").unwrap()),
            notes: None,
            time_zone: zone.map(|z| gomomo::domain::TimeZone::parse(z).unwrap()),
            locale,
        };
        self.booking
            .confirm(self.tenant, hold.id, &s, &client)
            .await
            .unwrap()
            .0
    }

    async fn jobs(&self) -> Vec<JobRow> {
        jobs::list_for_tenant(&self.pool, self.tenant.0)
            .await
            .unwrap()
    }

    async fn notes(&self) -> Vec<NotificationRow> {
        notifications::list_for_tenant(&self.pool, self.tenant.0)
            .await
            .unwrap()
    }

    async fn audit_count(&self, event_type: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE event_type = $1")
            .bind(event_type)
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

fn kinds(notes: &[NotificationRow]) -> Vec<(String, String)> {
    notes
        .iter()
        .map(|n| (n.kind.clone(), n.channel.clone()))
        .collect()
}

fn count_status(jobs: &[JobRow], kind: &str, status: JobStatus) -> usize {
    jobs.iter()
        .filter(|j| j.kind == kind && j.status == status)
        .count()
}

/// A booking made in Spanish keeps its language: its confirmation, the .ics-bearing email,
/// its reminders by email and text, and the confirmation of its move are written in
/// Spanish, dates with Spanish day and month names; a tenant whose default is Spanish
/// writes to a client who chose no language in Spanish too.
#[sqlx::test(migrations = "../migrations")]
async fn a_booking_made_in_spanish_is_written_to_in_spanish(pool: PgPool) {
    use gomomo::domain::Locale;
    let mut e = env(&pool, true).await;
    let appt = e
        .book_as("web-es", ny(2026, 3, 4, 10, 0), None, Some(Locale::Es))
        .await;
    assert_eq!(appt.locale, "es");
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let confirmation = notes.iter().find(|n| n.kind == "confirmation").unwrap();
    let mail = format!(
        "{} {}",
        confirmation.subject.clone().unwrap_or_default(),
        confirmation.body
    );
    assert!(
        mail.contains("miércoles 4 de marzo a las 10:00 a. m."),
        "{mail}"
    );
    assert!(
        !mail.contains("Wednesday") && !mail.contains("March"),
        "{mail}"
    );
    e.clock.set(appt.start_at - Duration::hours(24));
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    for channel in ["email", "sms"] {
        let r = notes
            .iter()
            .find(|n| n.kind == "reminder_24h" && n.channel == channel)
            .unwrap();
        let text = format!("{} {}", r.subject.clone().unwrap_or_default(), r.body);
        assert!(
            text.contains("mié 4 de mar") || text.contains("miércoles 4 de marzo"),
            "{channel}: {text}"
        );
        assert!(
            !text.contains("Reply") && !text.contains("appointment"),
            "{channel}: {text}"
        );
    }
    // An English booking of the same tenant stays English.
    let en = e.book("web-en", ny(2026, 3, 4, 11, 0)).await;
    assert_eq!(en.locale, "en");
    // A tenant whose default is Spanish: a booking with no language chosen is Spanish.
    gomomo::db::tenants::set_languages(&pool, e.tenant.0, &[Locale::Es, Locale::En])
        .await
        .unwrap();
    let default = e.book("web-default", ny(2026, 3, 5, 10, 0)).await;
    assert_eq!(default.locale, "es");
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let theirs = notes
        .iter()
        .find(|n| n.kind == "confirmation" && n.body.contains(&default.reference))
        .unwrap();
    assert!(theirs.body.contains("jueves 5 de marzo"), "{}", theirs.body);
    let english = notes
        .iter()
        .find(|n| n.kind == "confirmation" && n.body.contains(&en.reference))
        .unwrap();
    assert!(
        english.body.contains("Wednesday, March 4"),
        "{}",
        english.body
    );
}

/// New York moves its clocks on 8 March 2026, Madrid on 29 March: in between, Madrid is 5
/// hours ahead instead of 6. Every message about the booking shows the client's own time
/// beside the clinic's, computed for the booking's date; a move keeps the client's zone.
#[sqlx::test(migrations = "../migrations")]
async fn a_client_in_another_zone_reads_both_times_in_emails_and_texts_across_dst(pool: PgPool) {
    let mut e = env(&pool, true).await;
    // GIVEN a booking on Wednesday 4 March 10:00 EST by a client in Madrid (16:00 there)
    let appt = e
        .book_in("web-tz", ny(2026, 3, 4, 10, 0), Some("Europe/Madrid"))
        .await;
    assert_eq!(appt.client_time_zone.as_deref(), Some("Europe/Madrid"));
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let confirmation = notes.iter().find(|n| n.kind == "confirmation").unwrap();
    assert!(
        confirmation
            .body
            .contains("Wednesday, March 4 at 10:00 AM EST (your time: 4:00 PM Europe/Madrid)"),
        "{}",
        confirmation.body
    );
    // WHEN the 24 h reminder is due THEN its email and its text show both times
    e.clock.set(appt.start_at - Duration::hours(24));
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    for channel in ["email", "sms"] {
        let r = notes
            .iter()
            .find(|n| n.kind == "reminder_24h" && n.channel == channel)
            .unwrap();
        let text = format!("{} {}", r.subject.clone().unwrap_or_default(), r.body);
        assert!(
            text.contains("10:00 AM EST (your time: 4:00 PM Europe/Madrid)"),
            "{channel}: {text}"
        );
    }

    // WHEN the booking moves past New York's change (Tuesday 10 March 11:00 EDT) THEN it
    // keeps the client's zone, and the new confirmation says 4:00 PM (5 hours, not 6)
    let s = SessionId::parse("web-tz").unwrap();
    let hold = e
        .booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 10, 11, 0), &s)
        .await
        .unwrap();
    let moved = e
        .booking
        .reschedule(
            e.tenant,
            &ReferenceCode::parse(&appt.reference).unwrap(),
            &Email::parse("ana@example.com").unwrap(),
            hold.id,
            Some(&s),
        )
        .await
        .unwrap();
    assert_eq!(moved.client_time_zone.as_deref(), Some("Europe/Madrid"));
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let rescheduled = notes
        .iter()
        .filter(|n| n.kind == "confirmation")
        .find(|n| n.body.contains("March 10"))
        .unwrap();
    assert!(
        rescheduled
            .body
            .contains("Tuesday, March 10 at 11:00 AM EDT (your time: 4:00 PM Europe/Madrid)"),
        "{}",
        rescheduled.body
    );

    // AND a booking without a zone of the client's reads as before
    let plain = e.book("web-plain", ny(2026, 3, 4, 11, 0)).await;
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let theirs = notes
        .iter()
        .find(|n| n.kind == "confirmation" && n.body.contains(&plain.reference))
        .unwrap();
    assert!(!theirs.body.contains("your time"), "{}", theirs.body);
}

#[sqlx::test(migrations = "../migrations")]
async fn booking_gets_confirmation_and_reminders_reschedule_and_cancel_retire_them(pool: PgPool) {
    let mut e = env(&pool, true).await;
    // GIVEN a booking on Wednesday 10:00 (50 hours ahead)
    let appt = e.book("web-1", ny(2026, 3, 4, 10, 0)).await;
    // THEN the relay published BookingCreated right after commit, nothing is left unpublished
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
    let handled = e.deliver().await;
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].0.event.name(), "BookingCreated");
    assert_eq!(handled[0].1.jobs_enqueued, 3);
    let jobs = e.jobs().await;
    let reminders: Vec<_> = jobs.iter().filter(|j| j.kind == "send_reminder").collect();
    assert_eq!(reminders.len(), 2);
    let mut run_ats: Vec<_> = reminders.iter().map(|j| j.run_at).collect();
    run_ats.sort();
    assert_eq!(
        run_ats,
        vec![
            appt.start_at - Duration::hours(24),
            appt.start_at - Duration::hours(2)
        ]
    );

    // WHEN the runner runs THEN only the confirmation is due and is queued as an email
    let r = e.autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(r.completed, 1);
    let notes = e.notes().await;
    assert_eq!(kinds(&notes), vec![("confirmation".into(), "email".into())]);
    assert_eq!(notes[0].recipient, "ana@example.com");
    assert!(notes[0].body.contains(&appt.reference), "{}", notes[0].body);
    assert!(
        notes[0].body.contains("Wednesday, March 4 at 10:00 AM EST"),
        "{}",
        notes[0].body
    );
    assert_eq!(notes[0].status, NotificationStatus::Queued);

    // WHEN the clock reaches 24 h before THEN the 24 h reminder goes out by email and SMS
    e.clock.set(appt.start_at - Duration::hours(24));
    let r = e.autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(r.completed, 1);
    let notes = e.notes().await;
    assert!(kinds(&notes).contains(&("reminder_24h".into(), "sms".into())));
    assert!(kinds(&notes).contains(&("reminder_24h".into(), "email".into())));

    // WHEN the booking moves to Thursday 11:00 THEN the old 2 h reminder is cancelled and new
    // reminders and a "rescheduled" confirmation are planned
    let s = SessionId::parse("web-1").unwrap();
    let hold = e
        .booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 5, 11, 0), &s)
        .await
        .unwrap();
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    let moved = e
        .booking
        .reschedule(e.tenant, &reference, &email, hold.id, Some(&s))
        .await
        .unwrap();
    let handled = e.deliver().await;
    let names: Vec<_> = handled.iter().map(|(env, _)| env.event.name()).collect();
    assert!(
        names.contains(&"BookingRescheduled") && names.contains(&"SlotOpened"),
        "{names:?}"
    );
    let jobs = e.jobs().await;
    assert_eq!(
        count_status(&jobs, "send_reminder", JobStatus::Cancelled),
        1,
        "old 2 h reminder"
    );
    assert_eq!(
        count_status(&jobs, "send_reminder", JobStatus::Completed),
        1,
        "24 h reminder already sent"
    );
    let pending: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind == "send_reminder" && j.status == JobStatus::Pending)
        .collect();
    assert_eq!(pending.len(), 2);
    assert!(pending
        .iter()
        .all(|j| j.payload["start"] == json!(moved.start_at)));
    e.autonomy.run_due_jobs(50).await.unwrap();
    let confirmations = e
        .notes()
        .await
        .into_iter()
        .filter(|n| n.kind == "confirmation")
        .count();
    assert_eq!(confirmations, 2, "the reschedule confirmation");

    // WHEN it is cancelled THEN its pending reminders are cancelled and a cancellation goes out
    e.booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    e.deliver().await;
    let jobs = e.jobs().await;
    assert_eq!(count_status(&jobs, "send_reminder", JobStatus::Pending), 0);
    assert_eq!(
        count_status(&jobs, "send_reminder", JobStatus::Cancelled),
        3
    );
    e.autonomy.run_due_jobs(50).await.unwrap();
    assert!(kinds(&e.notes().await).contains(&("cancellation".into(), "email".into())));
    // Every job lifecycle step is audited.
    assert!(e.audit_count("job.created").await >= 7);
    assert!(e.audit_count("job.completed").await >= 4);
    assert_eq!(e.audit_count("job.cancelled").await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn unpublished_outbox_row_is_swept_and_duplicates_change_nothing(pool: PgPool) {
    let mut e = env(&pool, true).await;
    // GIVEN a booking committed by a process that died before publishing (no relay)
    let crashed = BookingService::new(
        pool.clone(),
        e.clock.clone(),
        std::time::Duration::from_secs(300),
    );
    let s = SessionId::parse("web-2").unwrap();
    let hold = crashed
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 14, 0), &s)
        .await
        .unwrap();
    let client = ClientDetails {
        name: ClientName::parse("Bo Chen").unwrap(),
        email: Email::parse("bo@example.com").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    crashed
        .confirm(e.tenant, hold.id, &s, &client)
        .await
        .unwrap();
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 1);
    assert!(e.rx.try_recv().is_err(), "nothing was published");

    // WHEN the scheduler ticks THEN the row is published and marked
    let scheduler = Scheduler::new(e.booking.clone(), e.autonomy.clone(), Some(e.relay.clone()));
    let tick = scheduler.tick().await;
    assert_eq!(tick.events_published, 1, "{tick:?}");
    assert!(tick.errors.is_empty());
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
    let env1 = e.rx.try_recv().expect("the swept event");
    assert_eq!(env1.event.name(), "BookingCreated");

    // WHEN it is delivered three times (at-least-once) THEN one set of jobs, one confirmation
    let first = e.autonomy.handle_event(&env1).await.unwrap();
    assert!(!first.duplicate);
    assert_eq!(first.jobs_enqueued, 3);
    e.autonomy.run_due_jobs(50).await.unwrap();
    for _ in 0..2 {
        let again = e.autonomy.handle_event(&env1).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.jobs_enqueued, 0);
        e.autonomy.run_due_jobs(50).await.unwrap();
    }
    assert_eq!(e.jobs().await.len(), 3);
    assert_eq!(
        kinds(&e.notes().await),
        vec![("confirmation".into(), "email".into())]
    );
    assert_eq!(e.audit_count("event.received").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn policy_default_deny_tenant_override_conditions_and_audit(pool: PgPool) {
    let mut e = env(&pool, true).await;
    let t = e.tenant.0;
    let mut conn = pool.acquire().await.unwrap();
    let ctx = json!({"channel": "email", "hours_until_start": 30});

    // Global default rules allow the standard tools.
    let d = policy::decide(&mut conn, t, "send_reminder", &ctx, None)
        .await
        .unwrap();
    assert!(d.allowed());
    // An action without a rule is denied (default deny), with no rule named.
    let d = policy::decide(&mut conn, t, "exec_shell", &ctx, None)
        .await
        .unwrap();
    assert!(!d.allowed());
    assert_eq!(d.rule_id, None);

    // A tenant deny beats the global allow, for this tenant only.
    let deny = policy_db::insert_rule(
        &mut *conn,
        Some(t),
        "send_reminder",
        Effect::Deny,
        &json!({}).as_object().unwrap().clone(),
        0,
    )
    .await
    .unwrap();
    let d = policy::decide(&mut conn, t, "send_reminder", &ctx, None)
        .await
        .unwrap();
    assert!(!d.allowed());
    assert_eq!(d.rule_id, Some(deny));
    let other = Uuid::new_v4();
    assert!(
        policy::decide(&mut conn, other, "send_reminder", &ctx, None)
            .await
            .unwrap()
            .allowed()
    );

    // A higher-priority tenant allow with conditions: only far-enough appointments by email.
    let cond =
        json!({"channel": "email", "min_hours_until_start": 24, "max_hours_until_start": 72});
    policy_db::insert_rule(
        &mut *conn,
        Some(t),
        "send_reminder",
        Effect::Allow,
        cond.as_object().unwrap(),
        10,
    )
    .await
    .unwrap();
    assert!(policy::decide(&mut conn, t, "send_reminder", &ctx, None)
        .await
        .unwrap()
        .allowed());
    for blocked in [
        json!({"channel": "sms", "hours_until_start": 30}),
        json!({"channel": "email", "hours_until_start": 3}),
        json!({"channel": "email", "hours_until_start": 100}),
        json!({"channel": "email"}),
    ] {
        assert!(
            !policy::decide(&mut conn, t, "send_reminder", &blocked, None)
                .await
                .unwrap()
                .allowed(),
            "{blocked}"
        );
    }
    drop(conn);

    // Both outcomes are audited, with the rule and the reason.
    assert!(e.audit_count("policy.allowed").await >= 3);
    assert!(e.audit_count("policy.denied").await >= 5);
    let payload: serde_json::Value = sqlx::query_scalar(
        "SELECT payload FROM audit_log WHERE event_type = 'policy.denied' AND payload->>'action' = 'exec_shell'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(payload["reason"], "default deny: no matching rule");

    // Through the orchestrator: a booking 80 h ahead is outside the tenant's allow window,
    // so its reminders fall to the tenant deny; the confirmation keeps the global allow.
    e.clock.set(ny(2026, 3, 2, 8, 0));
    e.book("web-3", ny(2026, 3, 5, 16, 0)).await; // 80 h ahead
    e.deliver().await;
    let jobs = e.jobs().await;
    assert_eq!(
        count_status(&jobs, "send_confirmation", JobStatus::Pending),
        1
    );
    assert_eq!(
        jobs.iter().filter(|j| j.kind == "send_reminder").count(),
        0,
        "denied by the tenant rule"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn switch_off_audits_and_decides_but_executes_nothing(pool: PgPool) {
    let mut e = env(&pool, false).await;
    e.book("web-4", ny(2026, 3, 4, 10, 0)).await;
    let handled = e.deliver().await;
    assert_eq!(handled.len(), 1);
    let out = &handled[0].1;
    assert_eq!(out.jobs_enqueued, 0);
    assert_eq!(out.skipped_disabled, 3);
    assert!(e.jobs().await.is_empty());
    // Even a job already in the table does not run while the switch is off.
    let mut conn = pool.acquire().await.unwrap();
    jobs::enqueue(
        &mut conn,
        &jobs::NewJob {
            tenant_id: e.tenant.0,
            kind: "send_cancellation".into(),
            payload: json!({"tool": "send_cancellation", "booking_id": Uuid::new_v4()}),
            priority: 0,
            run_at: e.clock.now(),
            max_attempts: 3,
            idempotency_key: "manual".into(),
            booking_id: None,
            session_id: None,
            source_event_id: None,
        },
        e.clock.now(),
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(e.autonomy.run_due_jobs(50).await.unwrap().total(), 0);
    assert!(e.notes().await.is_empty());
    assert_eq!(e.jobs().await[0].status, JobStatus::Pending);
    // The event and the policy decisions are on record.
    assert_eq!(e.audit_count("event.received").await, 1);
    assert_eq!(e.audit_count("policy.allowed").await, 3);
    assert_eq!(e.audit_count("job.skipped_autonomy_disabled").await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_job_type_is_refused_and_audited(pool: PgPool) {
    let e = env(&pool, true).await;
    let mut conn = pool.acquire().await.unwrap();
    for (kind, payload, key) in [
        ("exec_shell", json!({"cmd": "rm -rf /"}), "evil"),
        (
            "send_reminder",
            json!({"tool": "send_cancellation", "booking_id": Uuid::new_v4()}),
            "mismatch",
        ),
    ] {
        jobs::enqueue(
            &mut conn,
            &jobs::NewJob {
                tenant_id: e.tenant.0,
                kind: kind.into(),
                payload,
                priority: 0,
                run_at: e.clock.now(),
                max_attempts: 3,
                idempotency_key: key.into(),
                booking_id: None,
                session_id: None,
                source_event_id: None,
            },
            e.clock.now(),
        )
        .await
        .unwrap();
    }
    drop(conn);
    let r = e.autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(r.refused, 2);
    assert!(e.jobs().await.iter().all(|j| j.status == JobStatus::Failed));
    assert_eq!(e.audit_count("job.refused").await, 2);
    assert!(e.notes().await.is_empty());
}

async fn append(pool: &PgPool, ev: DomainEvent) {
    let mut conn = pool.acquire().await.unwrap();
    outbox::append(&mut conn, &ev).await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn calendar_retries_at_30_120_480_then_escalates(pool: PgPool) {
    let mut e = env(&pool, true).await;
    sqlx::query("UPDATE tenants SET admin_email = 'owner@example.com' WHERE id = $1")
        .bind(e.tenant.0)
        .execute(&pool)
        .await
        .unwrap();
    let appt = e.book("web-5", ny(2026, 3, 4, 10, 0)).await;
    e.deliver().await;
    e.autonomy.run_due_jobs(50).await.unwrap();
    e.calendar.set_mode(CalendarFailMode::NetworkError);
    append(
        &pool,
        DomainEvent::CalendarWriteFailed(events::CalendarWriteFailed {
            tenant_id: e.tenant.0,
            booking_id: appt.id,
            reference: appt.reference.clone(),
            operation: "create".into(),
            error_kind: "network_error".into(),
        }),
    )
    .await;
    e.deliver().await;
    let t0 = e.clock.now();
    let retry = |jobs: Vec<JobRow>| {
        jobs.into_iter()
            .find(|j| j.kind == "retry_calendar_sync")
            .unwrap()
    };
    let planned = retry(e.jobs().await);
    assert_eq!(planned.run_at, t0 + Duration::seconds(30));
    assert_eq!(
        planned.session_id.as_deref(),
        Some("web-5"),
        "the session is read from the booking, not the event"
    );
    assert_eq!(
        e.autonomy.run_due_jobs(50).await.unwrap().total(),
        0,
        "not due yet"
    );

    // Attempt 1 at +30 s fails → attempt 2 at +120 s → attempt 3 at +480 s.
    let mut at = t0 + Duration::seconds(30);
    for (attempt, wait) in [(1, 120), (2, 480)] {
        e.clock.set(at);
        let r = e.autonomy.run_due_jobs(50).await.unwrap();
        assert_eq!(r.retried, 1, "attempt {attempt}");
        let j = retry(e.jobs().await);
        assert_eq!(j.attempts, attempt);
        assert_eq!(j.run_at, at + Duration::seconds(wait));
        at += Duration::seconds(wait);
    }
    e.clock.set(at);
    let r = e.autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(r.failed, 1);
    assert_eq!(retry(e.jobs().await).status, JobStatus::Failed);
    assert_eq!(e.audit_count("calendar.retry_failed").await, 3);

    // The exhaustion is an event; the escalation tool tells the client and the owner.
    let handled = e.deliver().await;
    assert_eq!(handled.len(), 1);
    assert_eq!(handled[0].0.event.name(), "CalendarRetryExhausted");
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    let esc: Vec<_> = notes
        .iter()
        .filter(|n| n.kind.starts_with("calendar_escalation"))
        .collect();
    assert_eq!(esc.len(), 2);
    assert!(esc
        .iter()
        .any(|n| n.recipient == "owner@example.com" && n.kind == "calendar_escalation_admin"));
    assert_eq!(e.audit_count("calendar.escalated").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn calendar_retry_success_pushes_to_the_session(pool: PgPool) {
    let mut e = env(&pool, true).await;
    let appt = e.book("web-6", ny(2026, 3, 4, 11, 0)).await;
    e.deliver().await;
    append(
        &pool,
        DomainEvent::CalendarWriteFailed(events::CalendarWriteFailed {
            tenant_id: e.tenant.0,
            booking_id: appt.id,
            reference: appt.reference.clone(),
            operation: "create".into(),
            error_kind: "timeout".into(),
        }),
    )
    .await;
    e.deliver().await;
    e.clock.advance(Duration::seconds(30));
    let r = e.autonomy.run_due_jobs(50).await.unwrap();
    assert_eq!(r.completed, 2, "confirmation and calendar retry");
    let (kind, payload): (String, serde_json::Value) =
        sqlx::query_as("SELECT type, payload FROM push_events WHERE session_id = 'web-6'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kind, "calendar_retry_success");
    assert_eq!(payload["reference"], json!(appt.reference));
}

#[sqlx::test(migrations = "../migrations")]
async fn hold_followup_once_per_session_in_30_minutes(pool: PgPool) {
    let mut e = env(&pool, true).await;
    sqlx::query("INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient) VALUES ($1, $2, 'web-7', 'email', 'kim@example.com')")
        .bind(Uuid::new_v4())
        .bind(e.tenant.0)
        .execute(&pool)
        .await
        .unwrap();
    let s = SessionId::parse("web-7").unwrap();
    // Two holds expire ten minutes apart: one follow-up.
    for start in [ny(2026, 3, 4, 9, 0), ny(2026, 3, 4, 9, 30)] {
        e.booking
            .create_hold(e.tenant, CONSULT, start, &s)
            .await
            .unwrap();
        e.clock.advance(Duration::minutes(6));
        assert_eq!(e.booking.expire_holds().await.unwrap(), 1);
        e.deliver().await;
        e.autonomy.run_due_jobs(50).await.unwrap();
    }
    let jobs = e.jobs().await;
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == "send_hold_followup")
            .count(),
        1
    );
    assert_eq!(e.audit_count("job.cooldown").await, 1);
    let notes = e.notes().await;
    assert_eq!(
        kinds(&notes),
        vec![("hold_followup".into(), "email".into())]
    );
    assert_eq!(notes[0].recipient, "kim@example.com");
    // After the cooldown, another expiry gets another follow-up.
    e.clock.advance(Duration::minutes(31));
    e.booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 10, 0), &s)
        .await
        .unwrap();
    e.clock.advance(Duration::minutes(6));
    e.booking.expire_holds().await.unwrap();
    e.deliver().await;
    assert_eq!(
        e.jobs()
            .await
            .iter()
            .filter(|j| j.kind == "send_hold_followup")
            .count(),
        2
    );
}

/// An event as it sat in a queue before events stopped naming sessions.
fn legacy(name: &str, mut detail: serde_json::Value) -> EventEnvelope {
    detail["event_id"] = json!(Uuid::new_v4());
    detail["session_id"] = json!("web-forged");
    EventEnvelope::from_detail(name, &detail).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_comes_from_postgres_never_from_the_event(pool: PgPool) {
    let e = env(&pool, true).await;
    sqlx::query("INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient) VALUES ($1, $2, 'web-12', 'email', 'kim@example.com')")
        .bind(Uuid::new_v4())
        .bind(e.tenant.0)
        .execute(&pool)
        .await
        .unwrap();
    let s = SessionId::parse("web-12").unwrap();
    let start = ny(2026, 3, 4, 9, 0);
    let hold = e
        .booking
        .create_hold(e.tenant, CONSULT, start, &s)
        .await
        .unwrap();
    e.clock.advance(Duration::minutes(6));
    assert_eq!(e.booking.expire_holds().await.unwrap(), 1);
    let detail = json!({"tenant_id": e.tenant.0, "hold_id": hold.id, "service_id": CONSULT,
                        "start": start, "end": start + Duration::minutes(30)});

    // GIVEN a HoldExpired written when events still carried a session id (a forged one here)
    // WHEN the orchestrator handles it THEN it parses, and the job is for the hold's session
    let out = e
        .autonomy
        .handle_event(&legacy("HoldExpired", detail.clone()))
        .await
        .unwrap();
    assert_eq!(out.jobs_enqueued, 1);
    let job = e
        .jobs()
        .await
        .into_iter()
        .find(|j| j.kind == "send_hold_followup")
        .unwrap();
    assert_eq!(job.session_id.as_deref(), Some("web-12"));
    assert_eq!(job.payload["session_id"], "web-12");
    e.autonomy.run_due_jobs(50).await.unwrap();
    let notes = e.notes().await;
    assert_eq!(
        kinds(&notes),
        vec![("hold_followup".into(), "email".into())]
    );
    assert_eq!(notes[0].recipient, "kim@example.com");

    // A second expiry of the same session within the cooldown is audited without the session.
    let hold2 = e
        .booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 4, 10, 0), &s)
        .await
        .unwrap();
    e.clock.advance(Duration::minutes(6));
    e.booking.expire_holds().await.unwrap();
    let mut d2 = detail.clone();
    d2["hold_id"] = json!(hold2.id);
    e.autonomy
        .handle_event(&legacy("HoldExpired", d2))
        .await
        .unwrap();
    let cooldown: serde_json::Value =
        sqlx::query_scalar("SELECT payload FROM audit_log WHERE event_type = 'job.cooldown'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(cooldown["hold_id"], json!(hold2.id));

    // A hold whose row is gone (purged a day after expiry) plans nothing and says why.
    let mut gone = detail.clone();
    gone["hold_id"] = json!(Uuid::new_v4());
    let out = e
        .autonomy
        .handle_event(&legacy("HoldExpired", gone))
        .await
        .unwrap();
    assert_eq!(out.jobs_enqueued, 0);
    assert_eq!(e.audit_count("job.source_gone").await, 1);

    // Nothing the orchestrator audited names a session, the forged one included.
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT event_type || ' ' || coalesce(entity_id, '') || ' ' || payload::text FROM audit_log",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(audit.iter().any(|a| a.starts_with("event.received")));
    for row in &audit {
        assert!(
            !row.contains("web-12") && !row.contains("web-forged") && !row.contains("session_id"),
            "{row}"
        );
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn opened_slot_notifies_the_waitlist_and_pushes_clickable_slots(pool: PgPool) {
    let mut e = env(&pool, true).await;
    let appt = e.book("web-8", ny(2026, 3, 4, 10, 0)).await;
    e.deliver().await;
    let entry = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from, preferred_to, time_of_day, client_name, client_email)
         VALUES ($1, $2, 'web-9', $3, '2026-03-04', '2026-03-06', 'morning', 'Lee Park', 'lee@example.com')",
    )
    .bind(entry)
    .bind(e.tenant.0)
    .bind(CONSULT)
    .execute(&pool)
    .await
    .unwrap();
    // An afternoon-only entry does not match a 10:00 slot.
    sqlx::query("INSERT INTO waitlist_entries (id, tenant_id, session_id, time_of_day, client_email) VALUES ($1, $2, 'web-10', 'afternoon', 'pm@example.com')")
        .bind(Uuid::new_v4())
        .bind(e.tenant.0)
        .execute(&pool)
        .await
        .unwrap();
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    e.booking
        .cancel(
            e.tenant,
            &reference,
            &Email::parse("ana@example.com").unwrap(),
        )
        .await
        .unwrap();
    e.deliver().await;
    let jobs = e.jobs().await;
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == "send_waitlist_notification")
            .count(),
        1
    );
    e.autonomy.run_due_jobs(50).await.unwrap();
    let (kind, payload): (String, serde_json::Value) =
        sqlx::query_as("SELECT type, payload FROM push_events WHERE session_id = 'web-9'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kind, "waitlist_match");
    let slots = payload["slots"].as_array().unwrap();
    assert!(!slots.is_empty() && slots.len() <= 3);
    assert_eq!(slots[0]["start"], "2026-03-04T10:00:00-05:00");
    let status: String = sqlx::query_scalar("SELECT status FROM waitlist_entries WHERE id = $1")
        .bind(entry)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "offered", "the opened time is offered with a hold");
    assert!(e
        .notes()
        .await
        .iter()
        .any(|n| n.kind == "waitlist_match" && n.recipient == "lee@example.com"));
}

#[sqlx::test(migrations = "../migrations")]
async fn contact_followup_and_stale_claims(pool: PgPool) {
    let mut e = env(&pool, true).await;
    let fu = Uuid::new_v4();
    sqlx::query("INSERT INTO followup_contacts (id, tenant_id, session_id, channel, recipient, reason) VALUES ($1, $2, 'web-11', 'sms', '+15555550177', 'a Saturday opening')")
        .bind(fu)
        .bind(e.tenant.0)
        .execute(&pool)
        .await
        .unwrap();
    append(
        &pool,
        DomainEvent::FollowupRequested(events::FollowupRequested {
            tenant_id: e.tenant.0,
            followup_id: fu,
            channel: "sms".into(),
        }),
    )
    .await;
    e.deliver().await;
    // GIVEN the job was claimed by a runner that then died
    let mut conn = pool.acquire().await.unwrap();
    let claimed = jobs::claim_due(&mut conn, e.clock.now(), 10).await.unwrap();
    drop(conn);
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].session_id.as_deref(), Some("web-11"));
    assert_eq!(
        e.autonomy.run_due_jobs(50).await.unwrap().total(),
        0,
        "claimed jobs are not run twice"
    );
    // WHEN five minutes pass THEN the scheduler returns it and it runs
    e.clock.advance(Duration::minutes(4));
    assert_eq!(e.autonomy.reclaim_stale().await.unwrap(), 0);
    e.clock.advance(Duration::minutes(2));
    assert_eq!(e.autonomy.reclaim_stale().await.unwrap(), 1);
    assert_eq!(e.autonomy.run_due_jobs(50).await.unwrap().completed, 1);
    let notes = e.notes().await;
    assert_eq!(
        kinds(&notes),
        vec![("contact_followup".into(), "sms".into())]
    );
    assert_eq!(notes[0].recipient, "+15555550177");
    assert!(notes[0].body.contains("Saturday"));
    let status: String = sqlx::query_scalar("SELECT status FROM followup_contacts WHERE id = $1")
        .bind(fu)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "sent");
    assert_eq!(e.audit_count("job.reclaimed").await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn standalone_runs_it_all_in_process(pool: PgPool) {
    // The standalone server's wiring from the composition root: relay → in-process bus →
    // orchestrator → due jobs, with the scheduler on a timer.
    let seed = admin::seed_demo(&pool).await.unwrap();
    let config = gomomo::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some("postgres://unused/db".into()),
        "AUTONOMY_ENABLED" => Some("true".into()),
        "HOLD_SWEEP_INTERVAL_SECONDS" => Some("1".into()),
        _ => None,
    })
    .unwrap();
    let (app, local) = gomomo::app::App::standalone(config, pool.clone()).unwrap();
    let booking = app.booking.clone();
    let tenant = TenantId(seed.tenant_id);
    // The next weekday at least two days out, 10:00 New York.
    let mut day = Utc::now().with_timezone(&New_York).date_naive() + Duration::days(2);
    while matches!(
        chrono::Datelike::weekday(&day),
        chrono::Weekday::Sat | chrono::Weekday::Sun
    ) {
        day += Duration::days(1);
    }
    let start = New_York
        .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let s = SessionId::parse("web-local").unwrap();
    let hold = booking
        .create_hold(tenant, CONSULT, start, &s)
        .await
        .unwrap();
    let client = ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse("ana@example.com").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    booking.confirm(tenant, hold.id, &s, &client).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let notes = notifications::list_for_tenant(&pool, tenant.0)
            .await
            .unwrap();
        if notes.iter().any(|n| n.kind == "confirmation") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no confirmation within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let jobs = jobs::list_for_tenant(&pool, tenant.0).await.unwrap();
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == "send_reminder" && j.status == JobStatus::Pending)
            .count(),
        2
    );
    local.stop();
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_bus_slows_the_relay_down_and_loses_no_event(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let clock = Clock::fixed(march_2_8am());
    // Room for one event, and a consumer that takes one every 50 ms.
    let (publisher, mut rx) = InProcessPublisher::channel(1);
    let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
    let booking = BookingService::new(pool.clone(), clock, std::time::Duration::from_secs(300))
        .with_relay(relay);
    let consumer = tokio::spawn(async move {
        let mut got = Vec::new();
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            match tokio::time::timeout(std::time::Duration::from_secs(2), rx.recv()).await {
                Ok(Some(env)) => got.push(env.event_id),
                _ => return got,
            }
        }
    });
    let client = ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse("ana@example.com").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    let tenant = TenantId(seed.tenant_id);
    for i in 0..5 {
        let s = SessionId::parse(&format!("web-flood-{i}")).unwrap();
        let hold = booking
            .create_hold(tenant, CONSULT, ny(2026, 3, 3, 9 + i, 0), &s)
            .await
            .unwrap();
        booking.confirm(tenant, hold.id, &s, &client).await.unwrap();
    }
    // Every booking's event went through the bus; none was left for the sweep.
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
    let got = consumer.await.unwrap();
    assert_eq!(got.len(), 5, "{got:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn an_events_audit_rows_are_written_together_in_order_and_redacted(pool: PgPool) {
    let mut e = env(&pool, false).await;
    let b = e.book("web-audit-order", ny(2026, 3, 4, 10, 0)).await;
    let handled = e.deliver().await;
    assert_eq!(handled.len(), 1);
    let event_id = handled[0].0.event_id;
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT event_type, payload FROM audit_log
          WHERE actor IN ('orchestrator', 'policy_engine') AND tenant_id = $1 ORDER BY id",
    )
    .bind(e.tenant.0)
    .fetch_all(&pool)
    .await
    .unwrap();
    let types: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
    // The event first, then each planned job: its decision, then what became of it.
    assert_eq!(types.first(), Some(&"event.received"), "{types:?}");
    assert!(types.len() >= 3, "{types:?}");
    for pair in types[1..].chunks(2) {
        assert_eq!(pair[0], "policy.allowed", "{types:?}");
        assert_eq!(
            pair.get(1),
            Some(&"job.skipped_autonomy_disabled"),
            "{types:?}"
        );
    }
    let received: (String,) = sqlx::query_as(
        "SELECT entity_id FROM audit_log WHERE event_type = 'event.received' AND tenant_id = $1",
    )
    .bind(e.tenant.0)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(received.0, event_id.to_string());
    assert_eq!(b.status.as_str(), "confirmed");

    // Rows written together are redacted like rows written one by one.
    let entry = |n: usize| gomomo::db::audit::AuditEntry {
        tenant_id: Some(e.tenant.0),
        event_type: "test.batch",
        entity_type: "test",
        entity_id: Some(n.to_string()),
        actor: "test",
        payload: json!({"n": n, "client_email": "ana@example.com", "client_phone": "+15555550142"}),
    };
    let mut conn = pool.acquire().await.unwrap();
    gomomo::db::audit::record_many(&mut conn, &[entry(1), entry(2), entry(3)])
        .await
        .unwrap();
    gomomo::db::audit::record(&mut conn, entry(4))
        .await
        .unwrap();
    let batch: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT entity_id, payload FROM audit_log WHERE event_type = 'test.batch' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let ids: Vec<&str> = batch.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    for (_, p) in &batch {
        assert_eq!(p["client_email"], batch[3].1["client_email"], "{p}");
        assert_eq!(p["client_phone"], batch[3].1["client_phone"], "{p}");
        assert_ne!(p["client_email"], "ana@example.com", "{p}");
    }
}
