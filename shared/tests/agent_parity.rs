//! The deterministic engine at parity with the LLM path: notes on the booking, contact
//! follow-ups through the same tool (and its limits), the tenant's services described
//! (`#[sqlx::test]`, the demo tenant, the clock pinned to Monday 7 December 2026, 08:00 in
//! New York).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::Duration;
use gomomo::db::{bookings, followups, tenants};
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::admin;
use gomomo::services::agent::{Agent, AgentEvent, AgentLimits, TurnResult};
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
    async fn with_limits(pool: PgPool, limits: AgentLimits) -> Self {
        let seed = admin::seed_demo(&pool).await.unwrap();
        let booking = BookingService::new(
            pool.clone(),
            Clock::fixed(december_7_8am()),
            std::time::Duration::from_secs(300),
        );
        Self {
            agent: Agent::rules(booking, limits),
            tenant: TenantId(seed.tenant_id),
            session: SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap(),
            pool,
        }
    }

    async fn new(pool: PgPool) -> Self {
        Self::with_limits(pool, AgentLimits::default()).await
    }

    /// The same agent and tenant, another conversation.
    fn other_session(&self) -> Self {
        Self {
            agent: self.agent.clone(),
            tenant: self.tenant,
            session: SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap(),
            pool: self.pool.clone(),
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

    async fn followups(&self) -> i64 {
        followups::count_for_session(&self.pool, self.tenant.0, self.session.as_str())
            .await
            .unwrap()
    }
}

fn booked(r: &TurnResult) -> Option<String> {
    r.events.iter().find_map(|e| match e {
        AgentEvent::BookingConfirmed { reference, .. } => Some(reference.clone()),
        _ => None,
    })
}

#[sqlx::test(migrations = "../migrations")]
async fn a_note_given_during_the_booking_lands_on_the_booking(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    chat.say("I'd like to book a consultation").await;
    chat.say("tomorrow morning").await;
    let r = chat.say("note: I'd like the window seat").await;
    assert!(r.reply.contains("I'd like the window seat"), "{}", r.reply);
    // The dialogue goes on where it was: the times are asked for again.
    assert!(r.reply.contains("1."), "{}", r.reply);
    chat.say("the first one").await;
    chat.say("Jane Doe").await;
    let r = chat.say("jane.doe@example.com").await;
    assert!(
        r.reply.contains("window seat"),
        "the summary reads it back: {}",
        r.reply
    );
    let r = chat.say("yes please").await;
    let reference = booked(&r).expect("a booking");
    let row = bookings::appointment_by_reference(&pool, chat.tenant.0, &reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.notes.as_deref(), Some("I'd like the window seat"));
    // The note went with that booking only.
    let r = chat.say("book a consultation on Wednesday morning").await;
    assert!(!r.reply.contains("window seat"), "{}", r.reply);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_note_before_the_booking_is_kept_for_it_and_length_limited(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let long = "x".repeat(1900);
    let r = chat
        .say(&format!("can you note that I use a wheelchair {long}"))
        .await;
    assert!(r.reply.contains("I use a wheelchair"), "{}", r.reply);
    chat.say("book a consultation tomorrow morning").await;
    chat.say("1").await;
    chat.say("Jane Doe").await;
    chat.say("jane.doe@example.com").await;
    let reference = booked(&chat.say("yes").await).expect("a booking");
    let row = bookings::appointment_by_reference(&pool, chat.tenant.0, &reference, false)
        .await
        .unwrap()
        .unwrap();
    let notes = row.notes.unwrap();
    assert!(notes.starts_with("I use a wheelchair"), "{notes}");
    assert_eq!(
        notes.chars().count(),
        gomomo::services::agent::engine::NOTE_MAX_CHARS
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_services_are_described_from_the_tenants_list(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let services = tenants::list_services(&pool, chat.tenant.0).await.unwrap();
    assert!(services.len() >= 2);
    let r = chat.say("What services do you offer?").await;
    for s in &services {
        assert!(r.reply.contains(&s.name), "{} missing: {}", s.name, r.reply);
        assert!(
            r.reply.contains(&format!("{} min", s.duration_minutes)),
            "{}",
            r.reply
        );
    }
    // The list leads into booking one.
    let r = chat.say(&services[0].name).await;
    assert!(r.reply.to_lowercase().contains("day"), "{}", r.reply);

    let other = chat.other_session();
    let r = other
        .say(&format!("how much is a {}?", services[1].name))
        .await;
    assert!(r.reply.contains(&services[1].name), "{}", r.reply);
    assert!(!r.reply.contains(&services[0].name), "{}", r.reply);
    assert!(r.reply.contains("don't have prices"), "{}", r.reply);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_call_back_request_becomes_a_follow_up_through_the_tool(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    let r = chat.say("Can someone call me back?").await;
    // Never a promised call.
    assert!(r.reply.contains("can't make"), "{}", r.reply);
    assert!(
        gomomo::services::agent::unsafe_reply(gomomo::domain::Locale::En, &r.reply, &[]).is_none()
    );
    let r = chat.say("yes").await;
    assert!(
        r.reply.contains("email"),
        "asks for the address: {}",
        r.reply
    );
    assert_eq!(chat.followups().await, 0);
    let r = chat.say("ana@example.org").await;
    assert!(
        r.events.iter().any(
            |e| matches!(e, AgentEvent::FollowupScheduled { channel, .. } if channel == "email")
        ),
        "{}",
        r.reply
    );
    assert_eq!(chat.followups().await, 1);
    // A second one to the same address within the cooldown is refused like on the LLM path.
    chat.say("have someone email me").await;
    let r = chat.say("yes").await;
    assert!(r.reply.contains("on its way"), "{}", r.reply);
    assert_eq!(chat.followups().await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn no_openings_then_no_waitlist_offers_a_follow_up(pool: PgPool) {
    let chat = Chat::with_limits(
        pool.clone(),
        AgentLimits {
            followup_max_per_session: 2,
            followup_cooldown: Duration::minutes(60),
            followup_max_per_tenant_per_day: 1,
        },
    )
    .await;
    chat.say("my email is ana@example.org").await;
    // The demo tenant is closed on weekends: nothing on Saturday evening.
    chat.say("book a consultation").await;
    let r = chat.say("Saturday evening").await;
    assert!(r.reply.contains("waitlist"), "{}", r.reply);
    let r = chat.say("no").await;
    assert!(r.reply.contains("follow up"), "{}", r.reply);
    assert!(
        gomomo::services::agent::unsafe_reply(gomomo::domain::Locale::En, &r.reply, &[]).is_none()
    );
    let r = chat.say("yes").await;
    assert!(r.reply.contains("scheduled"), "{}", r.reply);
    assert_eq!(chat.followups().await, 1);
    // The tenant's daily cap (1) refuses the next conversation's follow-up.
    let other = chat.other_session();
    other.say("my email is bo@example.org").await;
    other.say("could someone email me?").await;
    let r = other.say("yes").await;
    assert!(r.reply.contains("today"), "{}", r.reply);
    assert_eq!(other.followups().await, 0);
}
