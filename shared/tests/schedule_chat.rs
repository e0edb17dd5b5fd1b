//! The schedule and the booking rules in the chat agent's deterministic engine: a time
//! closed while the client chooses it, a day at its cap, and a cancel refused by the
//! self-service cut-off (the clock pinned to Monday 7 December 2026, 08:00 in New York).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::NaiveDate;
use gomomo::db::bookings::{appointment_by_reference, AppointmentStatus};
use gomomo::domain::{SessionId, TenantId};
use gomomo::services::admin;
use gomomo::services::agent::{Agent, AgentEvent, AgentLimits, TurnResult};
use gomomo::services::booking::schedule::{ExceptionDraft, ServiceRules};
use gomomo::services::{BookingService, Clock};
use sqlx::PgPool;
use support::december_7_8am;

struct Chat {
    agent: Agent,
    booking: BookingService,
    tenant: TenantId,
    session: SessionId,
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
            agent: Agent::rules(booking.clone(), AgentLimits::default()),
            booking,
            tenant: TenantId(seed.tenant_id),
            session: SessionId::parse(&format!("web-{}", uuid::Uuid::new_v4())).unwrap(),
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
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn a_time_closed_while_choosing_is_refused_with_other_times(pool: PgPool) {
    let chat = Chat::new(pool).await;
    chat.say("I'd like to book a consultation").await;
    let r = chat.say("tomorrow morning").await;
    assert!(r.reply.contains("9:00"), "{}", r.reply);
    // The clinic closes tomorrow before the client picks a time.
    chat.booking
        .create_exception(
            chat.tenant,
            &ExceptionDraft {
                kind: "closed".into(),
                start_date: date(2026, 12, 8),
                ..ExceptionDraft::default()
            },
        )
        .await
        .unwrap();
    let r = chat.say("the first one").await;
    assert!(
        r.reply.contains("we are closed at that time"),
        "{}",
        r.reply
    );
    assert!(
        !r.events
            .iter()
            .any(|e| matches!(e, AgentEvent::BookingConfirmed { .. })),
        "{:?}",
        r.events
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_full_day_is_refused_with_other_times(pool: PgPool) {
    let chat = Chat::new(pool).await;
    chat.say("I'd like to book a consultation").await;
    let r = chat.say("tomorrow morning").await;
    assert!(r.reply.contains("9:00"), "{}", r.reply);
    // The day's cap is reached by someone else in between.
    let consult = admin::DEMO_SERVICES[0].0;
    chat.booking
        .set_service_rules(
            chat.tenant,
            consult,
            ServiceRules {
                max_per_day: Some(1),
                min_notice_minutes: None,
                buffer_before_minutes: None,
                buffer_after_minutes: None,
            },
        )
        .await
        .unwrap();
    let other = SessionId::parse("web-other").unwrap();
    let start = chat
        .booking
        .availability(chat.tenant, consult, date(2026, 12, 8), date(2026, 12, 8))
        .await
        .unwrap()
        .slots[5]
        .start;
    let hold = chat
        .booking
        .create_hold(chat.tenant, consult, start, &other)
        .await
        .unwrap();
    chat.booking
        .confirm(
            chat.tenant,
            hold.id,
            &other,
            &gomomo::services::booking::ClientDetails {
                name: gomomo::domain::ClientName::parse("Bo Lee").unwrap(),
                email: gomomo::domain::Email::parse("bo@example.com").unwrap(),
                phone: None,
                notes: None,
                time_zone: None,
                locale: None,
            },
        )
        .await
        .unwrap();
    let r = chat.say("the first one").await;
    assert!(r.reply.contains("that day is fully booked"), "{}", r.reply);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancel_inside_the_cutoff_is_refused_in_chat(pool: PgPool) {
    let chat = Chat::new(pool.clone()).await;
    chat.say("I'd like to book a consultation").await;
    chat.say("tomorrow morning").await;
    chat.say("the first one").await;
    chat.say("Jane Doe").await;
    chat.say("jane dot doe at example dot com").await;
    let done = chat.say("yes please").await;
    let reference = done
        .events
        .iter()
        .find_map(|e| match e {
            AgentEvent::BookingConfirmed { reference, .. } => Some(reference.clone()),
            _ => None,
        })
        .expect("a booking");
    // Tomorrow 9:00 is 25 hours away; changes by chat close 48 hours before.
    chat.booking
        .set_self_service_cutoff(chat.tenant, 2880)
        .await
        .unwrap();
    let r = chat
        .say(&format!(
            "cancel {reference}, my email is jane.doe@example.com"
        ))
        .await;
    assert!(r.reply.contains("Are you sure"), "{}", r.reply);
    let r = chat.say("yes, cancel it").await;
    assert!(r.reply.contains("48 hours"), "{}", r.reply);
    assert!(
        r.reply.contains("can't change that booking here"),
        "{}",
        r.reply
    );
    let appt = appointment_by_reference(&pool, chat.tenant.0, &reference, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(appt.status, AppointmentStatus::Confirmed);
}
