//! Live pushes from the scheduler: a calendar write that failed is retried on a later
//! tick; its success writes a push, which the tick posts at once, through the pusher of the
//! composition root, to the session's open connection (a recording pusher here; the worker's
//! tests post through the real Management API client).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use gomomo::adapters::local::{InProcessPublisher, LogMailer, LogSmsSender, MockCalendar};
use gomomo::app::{Adapters, App};
use gomomo::db::{chat, outbox};
use gomomo::domain::events::{CalendarWriteFailed, DomainEvent};
use gomomo::domain::TenantId;
use gomomo::ports::{Pusher, SendError};
use gomomo::services::{admin, Clock};
use gomomo::Config;
use serde_json::Value;
use sqlx::PgPool;
use support::scene::{ana_books, ANA_SESSION};
use support::{march_2_8am, ny};

/// Every post: (endpoint, connection id, frame).
#[derive(Default, Clone)]
struct Recorded(Arc<Mutex<Vec<(String, String, Value)>>>);

#[async_trait]
impl Pusher for Recorded {
    async fn post(&self, endpoint: &str, id: &str, frame: String) -> Result<(), SendError> {
        let frame = serde_json::from_str(&frame).unwrap();
        self.0
            .lock()
            .unwrap()
            .push((endpoint.into(), id.into(), frame));
        Ok(())
    }
}

fn tick_event() -> EventBridgeEvent<Value> {
    let path = format!(
        "{}/../../events/scheduler-tick.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_calendar_retry_success_is_posted_by_the_tick_that_runs_it(pool: PgPool) {
    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let vars = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("AUTONOMY_ENABLED", "true"),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
    let clock = Clock::fixed(march_2_8am());
    let (publisher, mut events) = InProcessPublisher::channel(64);
    let posts = Recorded::default();
    let adapters = Adapters {
        publisher: Some(Arc::new(publisher)),
        mailer: Arc::new(LogMailer),
        sms: Arc::new(LogSmsSender),
        calendar: Arc::new(MockCalendar::default()),
        pusher: Some(Arc::new(posts.clone())),
    };
    let app = App::build(config, pool.clone(), clock.clone(), adapters);

    // GIVEN Ana's booking whose calendar write failed (the event names the booking, not her
    // chat session), from her chat session, open in a tab
    let appt = ana_books(&app.booking, tenant, ny(2026, 3, 4, 10, 0)).await;
    let failed = DomainEvent::CalendarWriteFailed(CalendarWriteFailed {
        tenant_id: tenant.0,
        booking_id: appt.id,
        reference: appt.reference.clone(),
        operation: "create".into(),
        error_kind: "timeout".into(),
    });
    outbox::append(&mut pool.acquire().await.unwrap(), &failed)
        .await
        .unwrap();
    let endpoint = "https://abc123.execute-api.us-east-1.amazonaws.com/prod";
    chat::put_connection(&pool, "tab-1", tenant.0, ANA_SESSION, endpoint)
        .await
        .unwrap();
    // (the sweep publishes the event; the worker's orchestrator plans the retry)
    gomomo_scheduler::handle(&app.scheduler, tick_event())
        .await
        .unwrap();
    while let Ok(env) = events.try_recv() {
        app.autonomy.handle_event(&env).await.unwrap();
    }
    assert!(posts.0.lock().unwrap().is_empty(), "nothing pushed yet");

    // WHEN the retry is due and a tick runs it
    clock.advance(chrono::Duration::seconds(30));
    gomomo_scheduler::handle(&app.scheduler, tick_event())
        .await
        .unwrap();

    // THEN the success is posted to the open tab at the connection's endpoint
    let posted = posts.0.lock().unwrap().clone();
    let pushes: Vec<_> = posted
        .iter()
        .filter(|(_, _, f)| f["type"] == "push")
        .collect();
    assert_eq!(pushes.len(), 1, "{posted:?}");
    let (at, id, frame) = pushes[0];
    assert_eq!((at.as_str(), id.as_str()), (endpoint, "tab-1"));
    assert_eq!(frame["push_type"], "calendar_retry_success");
    assert_eq!(frame["payload"]["reference"], appt.reference.as_str());
    let delivered: bool = sqlx::query_scalar(
        "SELECT delivered_at IS NOT NULL FROM push_events WHERE session_id = $1",
    )
    .bind(ANA_SESSION)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(delivered);
}
