//! Knowing a chat session is not enough to change its bookings: the deterministic engine
//! asks for the booking's email for each cancel or reschedule and ignores the email the
//! conversation remembers; a wrong email gets the same answer as a wrong reference.
#![allow(clippy::unwrap_used)]

mod support;

use gomomo::domain::{SessionId, TenantId};
use gomomo::services::agent::{Agent, AgentEvent, AgentLimits};
use gomomo::services::{admin, BookingService, Clock};
use sqlx::PgPool;
use support::december_7_8am;

struct Chat {
    agent: Agent,
    tenant: TenantId,
    session: SessionId,
}

impl Chat {
    async fn say(&self, text: &str) -> String {
        self.agent
            .handle_turn(self.tenant, &self.session, "web", text, None)
            .await
            .unwrap()
            .reply
    }
}

async fn status(pool: &PgPool, reference: &str) -> String {
    sqlx::query_scalar("SELECT status FROM appointments WHERE reference = $1")
        .bind(reference)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancel_needs_the_booking_email_not_the_remembered_one(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(december_7_8am()),
        std::time::Duration::from_secs(300),
    );
    let chat = Chat {
        agent: Agent::rules(booking, AgentLimits::default()),
        tenant: TenantId(seed.tenant_id),
        session: SessionId::parse("gs_security-chat-changes").unwrap(),
    };
    // GIVEN a booking made in this conversation (its email is remembered)
    for t in [
        "I'd like to book a consultation",
        "tomorrow morning",
        "the first one",
        "Jane Doe",
        "jane.doe@example.com",
    ] {
        chat.say(t).await;
    }
    let r = chat
        .agent
        .handle_turn(chat.tenant, &chat.session, "web", "yes", None)
        .await
        .unwrap();
    let reference = r
        .events
        .iter()
        .find_map(|e| match e {
            AgentEvent::BookingConfirmed { reference, .. } => Some(reference.clone()),
            _ => None,
        })
        .unwrap();

    // WHEN the session (anyone who has its id) asks to cancel, with a yes ready
    let r = chat.say(&format!("cancel booking {reference}")).await;
    // THEN the email is asked for; a yes is not taken for it
    assert!(r.contains("type the email address"), "{r}");
    let r = chat.say("yes").await;
    assert!(!r.contains("has been cancelled"), "{r}");
    assert_eq!(status(&pool, &reference).await, "confirmed");

    // a wrong email: the same answer as a wrong reference
    chat.say(&format!("cancel booking {reference}")).await;
    let r = chat.say("eve@example.com").await;
    assert!(r.contains("couldn't find a booking"), "{r}");
    assert_eq!(status(&pool, &reference).await, "confirmed");

    // the booking's email typed for the change: it goes ahead after the yes
    chat.say(&format!("cancel booking {reference}")).await;
    let r = chat.say("jane.doe@example.com").await;
    assert!(r.contains("Are you sure"), "{r}");
    let r = chat.say("yes").await;
    assert!(r.contains("has been cancelled"), "{r}");
    assert_eq!(status(&pool, &reference).await, "cancelled");
}
