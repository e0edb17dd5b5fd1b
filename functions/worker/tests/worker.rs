//! The worker over the wire and by hand.
//!
//! - Against the moto server (a local AWS emulator): booking → outbox → `PutEvents` → bus
//!   rule → SQS → `ReceiveMessage` → the worker's handler with those records → jobs →
//!   notification rows; the relay crash case (a committed row published by the scheduler's
//!   sweep); a redelivered batch changes nothing.
//! - Partial batch failure with a hand-built `SqsEvent`: a poison record fails alone.
//!
//! moto: `MOTO_ENDPOINT` (set by `make test`), else `moto_server` from PATH is started for
//! the test; neither → the test fails and says how to get it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_eventbridge as eb;
use aws_sdk_sqs::types::QueueAttributeName;
use gomomo::adapters::aws::{AwsAccess, EventBridgePublisher};
use gomomo::adapters::local::MockCalendar;
use gomomo::config::AwsCredentials;
use gomomo::db::{jobs, notifications, outbox};
use gomomo::domain::{ClientName, Email, SessionId, TenantId};
use gomomo::services::autonomy::Autonomy;
use gomomo::services::booking::ClientDetails;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::scheduler::Scheduler;
use gomomo::services::{admin, BookingService, Clock};
use gomomo_worker::Worker;
use sqlx::PgPool;
use support::{ny, CONSULT};
use uuid::Uuid;

/// A moto server: the one `make test` started, or our own (stopped on drop).
struct Moto {
    endpoint: String,
    child: Option<Child>,
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn moto() -> Moto {
    if let Ok(ep) = std::env::var("MOTO_ENDPOINT") {
        if !ep.trim().is_empty() {
            return Moto {
                endpoint: ep,
                child: None,
            };
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs the moto AWS emulator: set MOTO_ENDPOINT=http://127.0.0.1:PORT or \
                 install it with `pip install 'moto[server]'` so `moto_server` is on PATH ({e})"
            )
        });
    let moto = Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        child: Some(child),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on {port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    moto
}

async fn sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// Our own client's access to moto: the same region and credentials as [`sdk`].
fn moto_access(endpoint: &str) -> AwsAccess {
    AwsAccess::new(
        "us-east-1",
        AwsCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: Some("moto-session".into()),
        },
        Some(endpoint.to_string()),
    )
}

/// A bus with a rule routing every gomomo event to a fresh queue (with a DLQ redrive policy,
/// as in template.yaml). Returns (bus name, queue url, queue arn).
async fn wire(cfg: &aws_config::SdkConfig) -> (String, String, String) {
    let id = Uuid::new_v4().simple().to_string();
    let ebc = eb::Client::new(cfg);
    let sqs = aws_sdk_sqs::Client::new(cfg);
    let bus = format!("gomomo-test-{id}");
    ebc.create_event_bus().name(&bus).send().await.unwrap();
    let arn_of = |url: String| {
        let sqs = sqs.clone();
        async move {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap();
            attrs
                .attributes()
                .unwrap()
                .get(&QueueAttributeName::QueueArn)
                .unwrap()
                .clone()
        }
    };
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("dlq-{id}"))
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let dlq_arn = arn_of(dlq_url).await;
    let url = sqs
        .create_queue()
        .queue_name(format!("events-{id}"))
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let arn = arn_of(url.clone()).await;
    ebc.put_rule()
        .name(format!("autonomy-{id}"))
        .event_bus_name(&bus)
        .event_pattern(r#"{"source":["gomomo.booking","gomomo.calendar","gomomo.engagement"]}"#)
        .send()
        .await
        .unwrap();
    ebc.put_targets()
        .rule(format!("autonomy-{id}"))
        .event_bus_name(&bus)
        .targets(
            eb::types::Target::builder()
                .id("queue")
                .arn(&arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (bus, url, arn)
}

/// Receives until `n` messages arrived (or 20 s passed) and turns them into the event
/// Lambda's SQS integration would deliver.
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, arn: &str, n: usize) -> SqsEvent {
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while records.len() < n && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let mut r = SqsMessage::default();
            r.message_id = m.message_id().map(str::to_owned);
            r.receipt_handle = m.receipt_handle().map(str::to_owned);
            r.body = m.body().map(str::to_owned);
            r.md5_of_body = m.md5_of_body().map(str::to_owned);
            r.event_source = Some("aws:sqs".into());
            r.event_source_arn = Some(arn.to_string());
            r.aws_region = Some("us-east-1".into());
            records.push(r);
        }
    }
    assert_eq!(records.len(), n, "messages delivered to the queue");
    let mut ev = SqsEvent::default();
    ev.records = records;
    ev
}

fn client(name: &str, email: &str) -> ClientDetails {
    ClientDetails {
        name: ClientName::parse(name).unwrap(),
        email: Email::parse(email).unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn booking_to_eventbridge_to_sqs_to_worker_to_notifications(pool: PgPool) {
    let moto = moto();
    let cfg = sdk(&moto.endpoint).await;
    let (bus, url, arn) = wire(&cfg).await;
    let sqs = aws_sdk_sqs::Client::new(&cfg);

    let tenant = TenantId(admin::seed_demo(&pool).await.unwrap().tenant_id);
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    let relay = OutboxRelay::new(
        pool.clone(),
        Arc::new(EventBridgePublisher::new(moto_access(&moto.endpoint), &bus)),
        clock.clone(),
    );
    let plain = BookingService::new(pool.clone(), clock.clone(), Duration::from_secs(300));
    let booking = plain.clone().with_relay(relay.clone());

    // GIVEN a booking whose events the API publishes right after commit
    let s1 = SessionId::parse("web-a").unwrap();
    let h1 = booking
        .create_hold(tenant, CONSULT, ny(2026, 3, 4, 10, 0), &s1)
        .await
        .unwrap();
    let (a1, _) = booking
        .confirm(tenant, h1.id, &s1, &client("Ana Lopez", "ana@example.com"))
        .await
        .unwrap();
    assert_eq!(
        outbox::unpublished_count(&pool).await.unwrap(),
        0,
        "published after commit"
    );
    // AND a booking committed by a process that died before publishing
    let s2 = SessionId::parse("web-b").unwrap();
    let h2 = plain
        .create_hold(tenant, CONSULT, ny(2026, 3, 4, 11, 0), &s2)
        .await
        .unwrap();
    let (a2, _) = plain
        .confirm(tenant, h2.id, &s2, &client("Bo Chen", "bo@example.com"))
        .await
        .unwrap();
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 1);
    // WHEN the scheduler sweeps THEN that row goes out too
    let autonomy = Autonomy::new(plain.clone(), true, Arc::new(MockCalendar::default()));
    let tick = Scheduler::new(plain.clone(), autonomy.clone(), Some(relay.clone()))
        .tick()
        .await;
    assert_eq!(tick.events_published, 1, "{tick:?}");
    assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);

    // THEN both BookingCreated events reach the queue through the bus rule, as EventBridge
    // envelopes (detail-type = event name, PII-free detail with the outbox id)
    let batch = receive(&sqs, &url, &arn, 2).await;
    for r in &batch.records {
        let v: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["detail-type"], "BookingCreated");
        assert_eq!(v["source"], "gomomo.booking");
        assert!(v["detail"]["event_id"].is_string());
        let text = v["detail"].to_string();
        assert!(
            !text.contains("@example.com") && !text.contains("Lopez"),
            "no PII on the bus: {text}"
        );
        let body = r.body.as_deref().unwrap();
        assert!(
            !body.contains("web-a") && !body.contains("web-b") && !body.contains("session_id"),
            "no chat session id on the bus: {body}"
        );
    }

    // WHEN the worker handles the batch THEN jobs and the confirmations are written
    let worker = Worker::new(autonomy.clone());
    let resp = worker.handle(batch.clone()).await.unwrap();
    assert!(resp.batch_item_failures.is_empty());
    let all_jobs = jobs::list_for_tenant(&pool, tenant.0).await.unwrap();
    assert_eq!(
        all_jobs.len(),
        6,
        "confirmation + 24 h + 2 h reminders, twice"
    );
    let notes = notifications::list_for_tenant(&pool, tenant.0)
        .await
        .unwrap();
    let mut to: Vec<_> = notes
        .iter()
        .map(|n| (n.kind.as_str(), n.recipient.as_str()))
        .collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            ("confirmation", "ana@example.com"),
            ("confirmation", "bo@example.com")
        ]
    );
    assert!(notes.iter().any(|n| n.booking_id == Some(a1.id)));
    assert!(notes.iter().any(|n| n.booking_id == Some(a2.id)));

    // WHEN SQS delivers the same messages again THEN nothing new happens
    let resp = worker.handle(batch).await.unwrap();
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        jobs::list_for_tenant(&pool, tenant.0).await.unwrap().len(),
        6
    );
    assert_eq!(
        notifications::list_for_tenant(&pool, tenant.0)
            .await
            .unwrap()
            .len(),
        2
    );
}

fn record(id: &str, body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m.event_source = Some("aws:sqs".into());
    m
}

/// An EventBridge message as the bus rule puts it on the queue.
fn bus(detail_type: &str, detail: serde_json::Value) -> String {
    serde_json::json!({
        "version": "0", "id": Uuid::new_v4(), "detail-type": detail_type, "source": "gomomo.booking",
        "account": "123456789012", "time": "2026-03-02T13:00:00Z", "region": "us-east-1", "resources": [],
        "detail": detail,
    })
    .to_string()
}

fn hold_expired(tenant: Uuid, hold: Uuid) -> serde_json::Value {
    serde_json::json!({
        "event_id": Uuid::new_v4(), "tenant_id": tenant, "hold_id": hold,
        "service_id": CONSULT, "start": "2026-03-04T15:00:00Z", "end": "2026-03-04T15:30:00Z"
    })
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_poison_record_fails_alone(pool: PgPool) {
    let tenant = admin::seed_demo(&pool).await.unwrap().tenant_id;
    let booking = BookingService::new(
        pool.clone(),
        Clock::fixed(ny(2026, 3, 2, 8, 0)),
        Duration::from_secs(300),
    );
    let mut holds = Vec::new();
    for (session, hour) in [("s-1", 10), ("s-4", 11)] {
        let s = SessionId::parse(session).unwrap();
        let h = booking
            .create_hold(TenantId(tenant), CONSULT, ny(2026, 3, 4, hour, 0), &s)
            .await
            .unwrap();
        holds.push(h.id);
    }
    let worker = Worker::new(Autonomy::new(
        booking,
        true,
        Arc::new(MockCalendar::default()),
    ));
    // The first good record was queued when events still named the chat session.
    let mut old = hold_expired(tenant, holds[0]);
    old["session_id"] = serde_json::json!("web-legacy");
    let mut ev = SqsEvent::default();
    ev.records = vec![
        record("ok-1", &bus("HoldExpired", old)),
        record("poison-json", "{not json"),
        record(
            "poison-type",
            &bus("SelfDestruct", hold_expired(tenant, Uuid::new_v4())),
        ),
        record(
            "poison-tenant",
            &bus(
                "FollowupRequested",
                serde_json::json!({"event_id": Uuid::new_v4(), "tenant_id": Uuid::new_v4(),
                                   "followup_id": Uuid::new_v4(), "channel": "email"}),
            ),
        ),
        record("ok-2", &bus("HoldExpired", hold_expired(tenant, holds[1]))),
    ];
    let resp = worker.handle(ev).await.unwrap();
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["poison-json", "poison-type", "poison-tenant"]);
    // The good records were processed (a hold follow-up job each, for the hold's session).
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let sessions: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT session_id FROM jobs WHERE kind = 'send_hold_followup' ORDER BY session_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(sessions, vec![Some("s-1".into()), Some("s-4".into())]);
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(
        json["batchItemFailures"][0]["itemIdentifier"],
        "poison-json"
    );

    // A failing record without a messageId cannot be reported alone: the batch fails.
    let mut ev = SqsEvent::default();
    let mut m = record("x", "{not json");
    m.message_id = None;
    ev.records = vec![m];
    assert!(worker.handle(ev).await.is_err());
}

#[test]
fn sample_events_parse() {
    // events/worker-*.json are what `make test` replays against the binary; they must stay
    // valid SQS batches of gomomo envelopes.
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/worker-sqs-batch.json"
    ))
    .unwrap();
    let ev: SqsEvent = serde_json::from_str(&raw).unwrap();
    assert_eq!(ev.records.len(), 3);
    assert!(gomomo_worker::parse_body(ev.records[0].body.as_deref().unwrap()).is_ok());
    assert_eq!(
        ev.records[0].body, ev.records[1].body,
        "the second record is a duplicate delivery"
    );
    assert!(gomomo_worker::parse_body(ev.records[2].body.as_deref().unwrap()).is_err());
}
