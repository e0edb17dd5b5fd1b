//! The chat agent's deterministic engine and tool executor against a real Postgres
//! (`#[sqlx::test]`: a fresh migrated database per test, the demo tenant seeded, the clock
//! pinned to Monday 7 December 2026, 08:00 in New York).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::admin;
use gomomo::services::agent::tools::{FollowupArgs, TurnCtx};
use gomomo::services::agent::{
    Agent, AgentEvent, AgentLimits, SessionState, ToolExecutor, TurnResult,
};
use gomomo::services::{BookingService, Clock};
use sqlx::PgPool;
use support::december_7_8am;

struct Chat {
    agent: Agent,
    tenant: TenantId,
    session: SessionId,
    pool: PgPool,
}

impl Chat {
    async fn new(pool: PgPool) -> Self {
        let seed = admin::seed_demo(&pool).await.unwrap();
        let booking = BookingService::new(
            pool.clone(),
            Clock::fixed(december_7_8am()),
            std::time::Duration::from_secs(300),
        );
        Self {
            agent: Agent::rules(booking, AgentLimits::default()),
            tenant: TenantId(seed.tenant_id),
            session: SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap(),
            pool,
        }
    }

    async fn say(&self, text: &str) -> TurnResult {
        let r = self
            .agent
            .handle_turn(self.tenant, &self.session, "web", text, None)
            .await
            .unwrap();
        println!("> {text}\n< {}", r.reply);
        r
    }

    async fn book(&self) -> String {
        self.say("I'd like to book a consultation").await;
        self.say("tomorrow morning").await;
        self.say("the first one").await;
        self.say("Jane Doe").await;
        self.say("jane dot doe at example dot com").await;
        let done = self.say("yes please").await;
        done.events
            .iter()
            .find_map(|e| match e {
                AgentEvent::BookingConfirmed { reference, .. } => Some(reference.clone()),
                _ => None,
            })
            .expect("a booking")
    }
}

/// Holds and confirms `start` for a client of its own session, straight through the
/// booking service.
async fn book_as(
    booking: &BookingService,
    tenant: TenantId,
    service: uuid::Uuid,
    who: &str,
    email: &str,
    start: DateTime<Utc>,
) -> gomomo::db::bookings::AppointmentRow {
    use gomomo::domain::{ClientName, Email};
    use gomomo::services::booking::ClientDetails;

    let s = SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap();
    let hold = booking
        .create_hold(tenant, service, start, &s)
        .await
        .unwrap();
    let details = ClientDetails {
        name: ClientName::parse(who).unwrap(),
        email: Email::parse(email).unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    booking
        .confirm(tenant, hold.id, &s, &details)
        .await
        .unwrap()
        .0
}

#[sqlx::test(migrations = "../migrations")]
async fn books_an_appointment_end_to_end(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    // GIVEN a new conversation WHEN the client asks to book
    let r = chat.say("Hi! I'd like to book a consultation").await;
    assert!(r.reply.contains("What day"), "{}", r.reply);
    // a vague day is clarified by the server-side date resolution
    let r = chat.say("tomorrow morning").await;
    assert!(r.reply.contains("Tuesday, December 8"), "{}", r.reply);
    assert!(r.reply.contains("1. 9:00 AM"), "{}", r.reply);
    assert!(matches!(r.events.first(), Some(AgentEvent::Slots { .. })));
    let r = chat.say("10am").await;
    assert!(
        r.reply.contains("holding Tue, Dec 8 at 10:00 AM"),
        "{}",
        r.reply
    );
    assert!(r.reply.contains("name"), "{}", r.reply);
    let r = chat.say("my name is jane doe").await;
    assert!(r.reply.contains("email"), "{}", r.reply);
    let r = chat.say("jane dot doe at example dot com").await;
    assert!(r.reply.contains("Please confirm: Consultation on Tue, Dec 8 at 10:00 AM for Jane Doe (jane.doe@example.com)"), "{}", r.reply);
    // nothing is booked before the explicit yes
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM appointments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = chat.say("yes").await;
    assert!(r.reply.contains("You're all set"), "{}", r.reply);
    let reference = match &r.events[0] {
        AgentEvent::BookingConfirmed { reference, .. } => reference.clone(),
        e => panic!("{e:?}"),
    };
    assert!(r.reply.contains(&reference));
    // THEN the booking is in Postgres, for the right client and time
    let (email, name, start, session): (String, String, DateTime<Utc>, String) = sqlx::query_as(
        "SELECT client_email, client_name, lower(during), session_id FROM appointments WHERE reference = $1",
    )
    .bind(&reference)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(email, "jane.doe@example.com");
    assert_eq!(name, "Jane Doe");
    assert_eq!(
        start,
        New_York
            .with_ymd_and_hms(2026, 12, 8, 10, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    );
    assert_eq!(session, chat.session.as_str());
    // the conversation and every tool call were recorded
    let (msgs,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM chat_messages WHERE session_id = $1")
            .bind(chat.session.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(msgs, 12);
    let (tools,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_log WHERE event_type = 'agent.tool' AND entity_id = $1",
    )
    .bind(chat.session.audit_ref())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tools, 3, "check_availability, hold_slot, confirm_booking");
    let leaked: (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE payload::text ILIKE '%jane.doe@%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(leaked.0, 0, "audit payloads are redacted");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_phone_given_in_the_chat_is_on_the_booking(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    chat.say("I'd like to book a consultation").await;
    chat.say("tomorrow morning").await;
    chat.say("the first one").await;
    chat.say("Jane Doe").await;
    // WHEN the client gives a phone number with the email
    let r = chat
        .say("jane.doe@example.com, text me at +1 555 555 0142")
        .await;
    assert!(r.reply.contains("Please confirm"), "{}", r.reply);
    let r = chat.say("yes").await;
    assert!(r.reply.contains("You're all set"), "{}", r.reply);
    // THEN the booking carries it in E.164 form (reminders can go out by SMS)
    let (phone,): (Option<String>,) =
        sqlx::query_as("SELECT client_phone FROM appointments WHERE session_id = $1")
            .bind(chat.session.as_str())
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(phone.as_deref(), Some("+15555550142"));
}

#[sqlx::test(migrations = "../migrations")]
async fn looks_up_reschedules_and_cancels(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let reference = chat.book().await;
    // lookup with the code spelled out; the email is remembered from the booking
    let spelled: String = reference
        .chars()
        .filter(|c| *c != '-')
        .map(|c| format!("{c} "))
        .collect();
    let r = chat
        .say(&format!("when is my appointment? the code is {spelled}"))
        .await;
    assert!(r.reply.contains("Tue, Dec 8 at 9:00 AM"), "{}", r.reply);
    assert!(r.reply.contains(&reference), "{}", r.reply);

    // reschedule
    let r = chat.say("I need to reschedule").await;
    assert!(r.reply.contains("reference code"), "{}", r.reply);
    let r = chat.say(&reference.to_lowercase()).await;
    // the email the conversation remembers is not enough to change a booking
    assert!(
        r.reply
            .contains("type the email address the booking was made with"),
        "{}",
        r.reply
    );
    let r = chat.say("jane.doe@example.com").await;
    assert!(r.reply.contains("What new day"), "{}", r.reply);
    let r = chat.say("wednesday afternoon").await;
    assert!(r.reply.contains("Wednesday, December 9"), "{}", r.reply);
    let r = chat.say("2").await;
    assert!(
        r.reply
            .contains("Move your appointment to Wed, Dec 9 at 12:30 PM"),
        "{}",
        r.reply
    );
    let r = chat.say("yes").await;
    assert!(
        r.reply.contains("rescheduled to Wed, Dec 9 at 12:30 PM"),
        "{}",
        r.reply
    );
    assert!(matches!(
        r.events.last(),
        Some(AgentEvent::BookingRescheduled { .. })
    ));
    let (start, status): (DateTime<Utc>, String) =
        sqlx::query_as("SELECT lower(during), status FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        start,
        New_York
            .with_ymd_and_hms(2026, 12, 9, 12, 30, 0)
            .unwrap()
            .with_timezone(&Utc)
    );
    assert_eq!(status, "confirmed");

    // cancel: "no" keeps it, "yes" cancels it
    let r = chat
        .say(&format!("please cancel booking {reference}"))
        .await;
    assert!(r.reply.contains("type the email address"), "{}", r.reply);
    let r = chat.say("it's jane.doe@example.com").await;
    assert!(r.reply.contains("Are you sure"), "{}", r.reply);
    let r = chat.say("no").await;
    assert!(r.reply.contains("left your appointment"), "{}", r.reply);
    // the email given with the request counts for it
    let r = chat
        .say(&format!(
            "cancel {reference}, my email is jane.doe@example.com"
        ))
        .await;
    assert!(r.reply.contains("Are you sure"), "{}", r.reply);
    let r = chat.say("yes, cancel it").await;
    assert!(r.reply.contains("has been cancelled"), "{}", r.reply);
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "cancelled");
}

#[sqlx::test(migrations = "../migrations")]
async fn waitlist_when_nothing_is_free(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    // Saturday and Sunday are closed, and the search runs to the end of the window
    // for the last days: ask for the last day of the window, a Sunday.
    let r = chat.say("book a therapy session on December 20").await;
    assert!(r.reply.contains("don't see any openings"), "{}", r.reply);
    let r = chat.say("yes").await;
    assert!(r.reply.contains("email"), "{}", r.reply);
    let r = chat.say("it's ana@example.org").await;
    assert!(
        r.reply
            .contains("You're on the waitlist for Therapy Session"),
        "{}",
        r.reply
    );
    let (email, status, session): (String, String, String) =
        sqlx::query_as("SELECT client_email, status, session_id FROM waitlist_entries")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (email.as_str(), status.as_str()),
        ("ana@example.org", "waiting")
    );
    assert_eq!(session, chat.session.as_str());
}

#[sqlx::test(migrations = "../migrations")]
async fn garbage_input_asks_again_and_never_crashes(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let r = chat.say("asdf qwerty ;;; 🙃").await;
    assert!(r.reply.contains("didn't catch that"), "{}", r.reply);
    chat.say("book a consultation").await;
    let r = chat.say("purple").await;
    assert!(
        r.reply.contains("didn't catch that") && r.reply.contains("What day"),
        "{}",
        r.reply
    );
    chat.say("tomorrow").await;
    let r = chat.say("banana").await;
    assert!(r.reply.contains("Which time"), "{}", r.reply);
    let r = chat.say("7:45").await;
    assert!(
        r.reply.contains("isn't one of the open times"),
        "{}",
        r.reply
    );
    for noise in ["", "   "] {
        assert!(chat
            .agent
            .handle_turn(chat.tenant, &chat.session, "web", noise, None)
            .await
            .is_err());
    }
    let long = "x".repeat(2_001);
    assert!(chat
        .agent
        .handle_turn(chat.tenant, &chat.session, "web", &long, None)
        .await
        .is_err());
    for junk in [
        "\u{1F600}",
        "DROP TABLE appointments;",
        "99999999999",
        "yes",
        "no",
        "2",
        "the 45th",
        "ABCD-EFGH",
        "@@@",
        "next 24 available",
    ] {
        let r = chat.say(junk).await;
        assert!(!r.reply.is_empty());
    }
    // vague requests get a clarifying question, and no availability call
    let chat2 = Chat {
        session: SessionId::parse("web-vague").unwrap(),
        ..Chat::new(pool.clone()).await
    };
    let r = chat2
        .say("I want the next 24 available consultations")
        .await;
    assert!(r.reply.contains("which day"), "{}", r.reply);
    let (n,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM audit_log WHERE entity_id = $1 AND payload->>'tool' = 'check_availability'",
    )
    .bind(chat2.session.audit_ref())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn far_future_hold_needs_an_earlier_confirmation_and_busy_sessions_are_refused(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    sqlx::query("UPDATE tenants SET max_days_ahead = 60")
        .execute(&pool)
        .await
        .unwrap();
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let chat = Chat {
        agent: Agent::rules(booking, AgentLimits::default()),
        tenant: TenantId(seed.tenant_id),
        session: SessionId::parse("web-far").unwrap(),
        pool: pool.clone(),
    };
    let r = chat.say("book a consultation on January 20").await;
    assert!(
        r.reply
            .contains("Just to confirm, you mean Wednesday, January 20, 2027"),
        "{}",
        r.reply
    );
    let r = chat.say("yes").await;
    assert!(r.reply.contains("Here are open times"), "{}", r.reply);
    let r = chat.say("1").await;
    assert!(r.reply.contains("holding Wed, Jan 20"), "{}", r.reply);

    // a turn in progress holds the session
    sqlx::query(
        "UPDATE chat_sessions SET busy_until = now() + interval '1 minute' WHERE id = 'web-far'",
    )
    .execute(&chat.pool)
    .await
    .unwrap();
    let e = chat
        .agent
        .handle_turn(chat.tenant, &chat.session, "web", "hello", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "session_busy");
}

async fn ctx(pool: &PgPool, session: &str, state: SessionState) -> (ToolExecutor, TurnCtx) {
    ctx_with(pool, session, state, 200).await
}

/// [`ctx`] with the tenant's daily follow-up cap (seeding the demo tenant again changes nothing).
async fn ctx_with(
    pool: &PgPool,
    session: &str,
    state: SessionState,
    per_tenant_per_day: i64,
) -> (ToolExecutor, TurnCtx) {
    let seed = admin::seed_demo(pool).await.unwrap();
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let tenant = TenantId(seed.tenant_id);
    let sched = booking.schedule(tenant).await.unwrap();
    let services = gomomo::db::tenants::list_services(pool, tenant.0)
        .await
        .unwrap();
    let exec = ToolExecutor::new(
        booking,
        AgentLimits {
            followup_max_per_session: 2,
            followup_cooldown: Duration::minutes(60),
            followup_max_per_tenant_per_day: per_tenant_per_day,
        },
    );
    (
        exec,
        TurnCtx {
            tenant,
            session: SessionId::parse(session).unwrap(),
            sched,
            services,
            state,
            now: december_7_8am(),
            vague: false,
            succeeded: vec![],
            events: vec![],
            locale: gomomo::domain::Locale::En,
        },
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn hold_far_future_and_confirm_guards_in_the_executor(pool: PgPool) {
    sqlx::query("SELECT 1").execute(&pool).await.unwrap();
    let (exec, mut c) = ctx(&pool, "web-guards", SessionState::default()).await;
    sqlx::query("UPDATE tenants SET max_days_ahead = 60")
        .execute(&pool)
        .await
        .unwrap();
    let service = c.services[0].id;
    let far = New_York
        .with_ymd_and_hms(2027, 1, 21, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let e = exec.hold_slot(&mut c, service, far).await.unwrap_err();
    assert_eq!(e.code(), "date_confirmation_required");
    // the same turn cannot confirm it for itself: still refused
    let e = exec.hold_slot(&mut c, service, far).await.unwrap_err();
    assert_eq!(e.code(), "date_confirmation_required");
    // confirm_booking without a live hold of this session
    let v = exec
        .dispatch(&mut c, "confirm_booking", &serde_json::json!({"hold_id": uuid::Uuid::new_v4().to_string(), "client_name": "A", "client_email": "a@example.com"}))
        .await;
    assert_eq!(v["error"]["code"], "no_live_hold");
    // unknown tools and bad arguments are errors, not panics
    let v = exec
        .dispatch(&mut c, "exec_shell", &serde_json::json!({}))
        .await;
    assert_eq!(v["error"]["code"], "unknown_tool");
    let v = exec
        .dispatch(&mut c, "hold_slot", &serde_json::json!({"service_id": 7}))
        .await;
    assert_eq!(v["error"]["code"], "invalid_argument");
}

fn followup(channel: &str, to: Option<&str>) -> FollowupArgs {
    FollowupArgs {
        channel: channel.into(),
        recipient: to.map(Into::into),
        reason: "options".into(),
        confirmed_additional: true,
    }
}

/// (follow-up rows, `FollowupRequested` events in the outbox)
async fn queued(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM followup_contacts),
                (SELECT count(*) FROM outbox WHERE event_type = 'FollowupRequested')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn audit_kinds(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM audit_log WHERE event_type LIKE 'followup.%' ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn followups_limit_cooldown_confirmation(pool: PgPool) {
    let state = SessionState {
        client_email: Some("ana@example.org".into()),
        client_phone: Some("+15555550100".into()),
        ..Default::default()
    };
    let (exec, mut c) = ctx(&pool, "web-fu", state).await;
    // first: fine (the client's own address, however it is spelled)
    exec.schedule_followup(&mut c, &followup("email", Some("Ana@Example.org")))
        .await
        .unwrap();
    // same recipient within the cooldown
    let e = exec
        .schedule_followup(&mut c, &followup("email", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "followup_cooldown");
    // another channel: needs an explicit yes from an earlier turn, whatever the model says
    let e = exec
        .schedule_followup(&mut c, &followup("sms", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "confirmation_required");
    assert!(c.state.followup_confirmation_pending);
    c.state.followup_additional_confirmed = true;
    exec.schedule_followup(&mut c, &followup("sms", Some("+1 555 555 0100")))
        .await
        .unwrap();
    // the limit (2 per session), even once the cooldown is over
    c.state.followup_additional_confirmed = true;
    c.now += Duration::hours(2);
    let e = exec
        .schedule_followup(&mut c, &followup("email", None))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "followup_limit_reached");
    let kinds = audit_kinds(&pool).await;
    for k in [
        "followup.scheduled",
        "followup.cooldown_blocked",
        "followup.additional_confirmation_required",
        "followup.limit_reached",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    let recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipient FROM followup_contacts ORDER BY created_at, channel")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(recipients, ["ana@example.org", "+15555550100"]);
    assert_eq!(queued(&pool).await, (2, 2));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_followup_to_anyone_but_the_client_is_refused(pool: PgPool) {
    let state = SessionState {
        client_email: Some("ana@example.org".into()),
        ..Default::default()
    };
    let (exec, mut c) = ctx(&pool, "web-fu-other", state).await;
    // a recipient the client did not give for their booking: refused, nothing queued
    let v = exec
        .dispatch(
            &mut c,
            "schedule_contact_followup",
            &serde_json::json!({"channel": "email", "recipient": "victim@example.net", "reason": "pay now"}),
        )
        .await;
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["error"]["code"], "recipient_not_allowed", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was scheduled"),
        "{v}"
    );
    // a phone number the client never gave: refused as well
    let v = exec
        .dispatch(
            &mut c,
            "schedule_contact_followup",
            &serde_json::json!({"channel": "sms", "recipient": "+15555550199"}),
        )
        .await;
    assert_eq!(v["error"]["code"], "contact_required", "{v}");
    assert_eq!(queued(&pool).await, (0, 0));
    assert!(!c.succeeded.contains(&"schedule_contact_followup"));
    // audited, without the recipient anywhere in the log
    let kinds = audit_kinds(&pool).await;
    assert_eq!(
        kinds,
        ["followup.recipient_refused", "followup.recipient_refused"]
    );
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM audit_log")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(!payloads.is_empty());
    for p in &payloads {
        assert!(!p.contains("victim") && !p.contains("5555550199"), "{p}");
    }
    // the client's own address still works
    exec.schedule_followup(&mut c, &followup("email", None))
        .await
        .unwrap();
    assert_eq!(queued(&pool).await, (1, 1));
}

#[sqlx::test(migrations = "../migrations")]
async fn followups_are_capped_per_tenant_per_day(pool: PgPool) {
    // GIVEN a cap of 3 follow-ups per tenant per day
    let mut sessions = Vec::new();
    for i in 1..=4 {
        let state = SessionState {
            client_email: Some(format!("client{i}@example.org")),
            ..Default::default()
        };
        sessions.push(ctx_with(&pool, &format!("web-cap-{i}"), state, 3).await);
    }
    // WHEN four conversations each ask for one
    for (exec, c) in sessions.iter_mut().take(3) {
        exec.schedule_followup(c, &followup("email", None))
            .await
            .unwrap();
    }
    let (exec, c) = &mut sessions[3];
    let v = exec
        .dispatch(
            c,
            "schedule_contact_followup",
            &serde_json::json!({"channel": "email"}),
        )
        .await;
    // THEN the fourth is refused with an error the model can relay, and nothing is queued
    assert_eq!(v["error"]["code"], "followup_daily_limit_reached", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was scheduled"),
        "{v}"
    );
    assert_eq!(queued(&pool).await, (3, 3));
    assert!(audit_kinds(&pool)
        .await
        .iter()
        .any(|k| k == "followup.daily_limit_reached"));
    // a day later the tenant may schedule again
    c.now += Duration::hours(24);
    exec.schedule_followup(c, &followup("email", None))
        .await
        .unwrap();
    assert_eq!(queued(&pool).await, (4, 4));
}

#[sqlx::test(migrations = "../migrations")]
async fn concurrent_followups_of_one_session_pass_the_guards_one_at_a_time(pool: PgPool) {
    // GIVEN three turns of one session, each about to ask for a follow-up to the same address
    let state = SessionState {
        client_email: Some("ana@example.org".into()),
        followup_additional_confirmed: true,
        ..Default::default()
    };
    let (e1, mut c1) = ctx(&pool, "web-fu-race", state.clone()).await;
    let (e2, mut c2) = ctx(&pool, "web-fu-race", state.clone()).await;
    let (e3, mut c3) = ctx(&pool, "web-fu-race", state).await;
    // and the tenant's follow-up lock held elsewhere while all three start
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 13))")
        .bind(format!("followup_contacts:{}", c1.tenant.0))
        .execute(&mut *holder)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        holder.commit().await.unwrap();
    };
    // WHEN they run at once
    let ask = followup("email", None);
    let (r1, r2, r3, ()) = tokio::join!(
        e1.schedule_followup(&mut c1, &ask),
        e2.schedule_followup(&mut c2, &ask),
        e3.schedule_followup(&mut c3, &ask),
        release,
    );
    // THEN exactly one is scheduled; the others meet the cooldown the first one started
    let codes: Vec<&str> = [&r1, &r2, &r3]
        .iter()
        .filter_map(|r| r.as_ref().err().map(|e| e.code()))
        .collect();
    assert_eq!(
        codes,
        ["followup_cooldown", "followup_cooldown"],
        "{codes:?}"
    );
    assert_eq!(queued(&pool).await, (1, 1));
}

#[sqlx::test(migrations = "../migrations")]
async fn pending_pushes_are_delivered_once_newest_per_type(pool: PgPool) {
    use gomomo::services::agent::{deliver_pending_pushes, SendError, ServerMessage};
    let seed = admin::seed_demo(&pool).await.unwrap();
    let tenant = TenantId(seed.tenant_id);
    let session = SessionId::parse("web-push").unwrap();
    for (i, t) in ["waitlist_match", "waitlist_match", "calendar_retry_success"]
        .iter()
        .enumerate()
    {
        sqlx::query("INSERT INTO push_events (id, tenant_id, session_id, type, payload, created_at) VALUES ($1, $2, 'web-push', $3, $4, now() - make_interval(secs => $5))")
            .bind(uuid::Uuid::new_v4())
            .bind(tenant.0)
            .bind(t)
            .bind(serde_json::json!({"n": i}))
            .bind(100.0 - i as f64)
            .execute(&pool)
            .await
            .unwrap();
    }
    // a failing connection leaves them pending
    let n = deliver_pending_pushes(&pool, tenant, &session, |_m| async { Err(SendError::Gone) })
        .await
        .unwrap();
    assert_eq!(n, 0);
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = sent.clone();
    let n = deliver_pending_pushes(&pool, tenant, &session, move |m| {
        s2.lock().unwrap().push(m);
        async { Ok::<(), SendError>(()) }
    })
    .await
    .unwrap();
    assert_eq!(n, 2, "one per type");
    let got = sent.lock().unwrap().clone();
    match &got[0] {
        ServerMessage::Push {
            push_type, payload, ..
        } => {
            assert_eq!(push_type, "waitlist_match");
            assert_eq!(payload["n"], 1, "the newest waitlist match");
        }
        m => panic!("{m:?}"),
    }
    // nothing twice
    let n = deliver_pending_pushes(&pool, tenant, &session, |_m| async { Ok(()) })
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (left,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM push_events WHERE delivered_at IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_reschedule_tool_moves_a_booking_onto_time_overlapping_its_own(pool: PgPool) {
    let (exec, mut c) = ctx(&pool, "web-move", SessionState::default()).await;
    let follow_up = admin::DEMO_SERVICES[1].0; // 60 minutes
    let at = |h, m| {
        New_York
            .with_ymd_and_hms(2026, 12, 8, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    // Jane at 10:00–11:00 on the first resource; the second is taken 10:00–11:00 too.
    let mut jane = String::new();
    for (who, email) in [
        ("Jane Doe", "jane@example.com"),
        ("Bo Li", "bo@example.com"),
    ] {
        let appt = book_as(exec.booking(), c.tenant, follow_up, who, email, at(10, 0)).await;
        if jane.is_empty() {
            jane = appt.reference;
        }
    }
    // 10:30 is free only once Jane's own hour does not count against her: the model is
    // offered it when it names the booking it is finding a time for.
    let offered = |v: &serde_json::Value| -> Vec<String> {
        v["result"]["slots"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|s| s["start"].as_str().unwrap()[11..16].to_string())
            .collect()
    };
    let day = serde_json::json!({"service_id": follow_up, "start_date": "2026-12-08"});
    let plain = exec.dispatch(&mut c, "check_availability", &day).await;
    assert!(!offered(&plain).contains(&"10:30".to_string()), "{plain}");
    let mut for_move = day.clone();
    for_move["reschedule_reference"] = jane.clone().into();
    for_move["reschedule_email"] = "jane@example.com".into();
    let moving = exec.dispatch(&mut c, "check_availability", &for_move).await;
    assert!(offered(&moving).contains(&"10:30".to_string()), "{moving}");
    // A booking keeps its service: another service's times are not offered for its move.
    for_move["service_id"] = admin::DEMO_SERVICES[0].0.to_string().into();
    let other = exec.dispatch(&mut c, "check_availability", &for_move).await;
    assert!(other.get("error").is_some(), "{other}");
    c.state.turn_email = Some("jane@example.com".into());
    let v = exec
        .dispatch(
            &mut c,
            "reschedule_booking",
            &serde_json::json!({"reference": jane, "email": "jane@example.com",
                                "new_start_time": "2026-12-08T10:30:00-05:00"}),
        )
        .await;
    assert!(v.get("error").is_none(), "{v}");
    assert!(c
        .events
        .iter()
        .any(|e| matches!(e, AgentEvent::BookingRescheduled { .. })));
    let (start, end): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT lower(during), upper(during) FROM appointments WHERE reference = $1",
    )
    .bind(&jane)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((start, end), (at(10, 30), at(11, 30)));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_reschedule_by_chat_is_offered_times_overlapping_its_own(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let follow_up = admin::DEMO_SERVICES[1].0; // 60 minutes, slots every 30
    let at = |h, m| {
        New_York
            .with_ymd_and_hms(2026, 12, 8, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    // Bo 9:00–10:00 and Cy 10:00–11:00 on one doctor, Jane 9:00–10:00 on the other.
    let mut refs = Vec::new();
    for (who, email, h) in [
        ("Bo Li", "bo@example.com", 9),
        ("Jane Doe", "jane@example.com", 9),
        ("Cy Ode", "cy@example.com", 10),
    ] {
        refs.push(book_as(&booking, chat.tenant, follow_up, who, email, at(h, 0)).await);
    }
    assert_eq!(
        refs[0].resource_id, refs[2].resource_id,
        "Bo and Cy share a doctor"
    );
    let jane = refs[1].reference.clone();
    // For a new booking 9:30 is not open: Jane's doctor is busy until 10, the other until 11.
    let plain = booking
        .availability(
            chat.tenant,
            follow_up,
            at(9, 0).date_naive(),
            at(9, 0).date_naive(),
        )
        .await
        .unwrap();
    assert!(plain.slots.iter().all(|s| s.start != at(9, 30)));

    chat.say("I need to reschedule").await;
    chat.say(&jane).await;
    let r = chat.say("jane@example.com").await;
    assert!(r.reply.contains("What new day"), "{}", r.reply);
    let r = chat.say("tomorrow morning").await;
    assert!(r.reply.contains("9:30 AM"), "{}", r.reply);
    let r = chat.say("9:30").await;
    assert!(
        r.reply
            .contains("Move your appointment to Tue, Dec 8 at 9:30 AM"),
        "{}",
        r.reply
    );
    let r = chat.say("yes").await;
    assert!(
        r.reply.contains("rescheduled to Tue, Dec 8 at 9:30 AM"),
        "{}",
        r.reply
    );
    let (start, end): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT lower(during), upper(during) FROM appointments WHERE reference = $1",
    )
    .bind(&jane)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((start, end), (at(9, 30), at(10, 30)));
}

/// The LLM path's tools label every time with the client's own time beside the clinic's
/// when the session knows a zone of the client's (here one where it is already the next
/// day), and the booking they make keeps that zone.
#[sqlx::test(migrations = "../migrations")]
async fn the_tools_label_times_with_the_clients_zone_and_the_booking_keeps_it(pool: PgPool) {
    let state = SessionState {
        time_zone: Some("Pacific/Auckland".into()),
        ..Default::default()
    };
    let (exec, mut c) = ctx(&pool, "web-nz", state).await;
    let service = admin::DEMO_SERVICES[0].0.to_string();
    let v = exec
        .dispatch(
            &mut c,
            "check_availability",
            &serde_json::json!({"service_id": service, "start_date": "2026-12-08"}),
        )
        .await;
    let first = &v["result"]["slots"][0];
    assert_eq!(
        first["label"], "Tue, Dec 8 at 9:00 AM (your time: Wed, Dec 9 at 3:00 AM Pacific/Auckland)",
        "{v}"
    );
    let v = exec
        .dispatch(
            &mut c,
            "hold_slot",
            &serde_json::json!({"service_id": service, "start_time": first["start"]}),
        )
        .await;
    let hold_id = v["result"]["hold_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    assert!(
        v["result"]["label"]
            .as_str()
            .unwrap()
            .ends_with("(your time: Wed, Dec 9 at 3:00 AM Pacific/Auckland)"),
        "{v}"
    );
    let v = exec
        .dispatch(
            &mut c,
            "confirm_booking",
            &serde_json::json!({"hold_id": hold_id, "client_name": "Kiri Smith", "client_email": "kiri@example.com"}),
        )
        .await;
    assert!(
        v["result"]["label"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .contains("your time: Wed, Dec 9 at 3:00 AM Pacific/Auckland"),
        "{v}"
    );
    let reference = v["result"]["reference"].as_str().unwrap();
    let row = gomomo::db::bookings::appointment_by_reference(&pool, c.tenant.0, reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.client_time_zone.as_deref(), Some("Pacific/Auckland"));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_second_booking_for_someone_else_takes_their_name_at_the_summary(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    chat.book().await;
    // GIVEN a second booking in the same chat: the summary starts from the first details
    chat.say("my husband needs one too, a consultation tomorrow")
        .await;
    let r = chat.say("the first one").await;
    assert!(r.reply.contains("for Jane Doe"), "{}", r.reply);
    // WHEN the client gives his name there
    let r = chat.say("John Doe").await;
    // THEN the summary shows it, and the booking has it
    assert!(r.reply.contains("for John Doe"), "{}", r.reply);
    let reference = chat
        .say("yes")
        .await
        .events
        .iter()
        .find_map(|e| match e {
            AgentEvent::BookingConfirmed { reference, .. } => Some(reference.clone()),
            _ => None,
        })
        .expect("a second booking");
    let a = gomomo::db::bookings::appointment_by_reference(&pool, chat.tenant.0, &reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.client_name, "John Doe");
}
