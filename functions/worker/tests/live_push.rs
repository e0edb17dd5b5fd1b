//! Live pushes from the worker: a cancelled booking opens a slot, the worker (fed the
//! events as SQS records carrying EventBridge envelopes) runs the waitlist offer, and the
//! push it writes is posted at once through the API Gateway Management API pusher of the
//! composition root to the session's open connections — here a local HTTP server standing
//! in for `@connections`. Delivered pushes are marked, Gone connections removed, and a
//! failed post leaves the push pending without failing the job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use gomomo::adapters::aws::{ApiGatewayPusher, AwsAccess};
use gomomo::adapters::local::{LogMailer, LogSmsSender, MockCalendar};
use gomomo::app::{Adapters, App};
use gomomo::config::AwsCredentials;
use gomomo::db::chat;
use gomomo::domain::{Email, ReferenceCode, TenantId};
use gomomo::ports::{EventPublisher, OutboundEvent, PublishError};
use gomomo::services::{admin, Clock};
use gomomo::Config;
use gomomo_worker::Worker;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::ny;
use support::scene::{ana_books, lee_waits, ANA_EMAIL};
use uuid::Uuid;

/// What the stand-in `@connections` endpoint received: (path, SigV4-signed?, frame).
#[derive(Clone, Default)]
struct Posts(Arc<Mutex<Vec<(String, bool, Value)>>>);

impl Posts {
    fn to(&self, connection: &str) -> Vec<Value> {
        let path = format!("/@connections/{connection}");
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| *p == path)
            .map(|(_, _, f)| f.clone())
            .collect()
    }
}

/// `POST /@connections/{id}`: ids starting with `gone` answer 410, with `deny` 403 (a
/// missing `execute-api:ManageConnections`), with `slow` not before a minute, the others
/// 200.
async fn at_connections(
    State(posts): State<Posts>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256"));
    let frame = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    posts.0.lock().unwrap().push((path.clone(), signed, frame));
    let id = path.trim_start_matches("/@connections/");
    if id.starts_with("slow") {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        StatusCode::OK
    } else if id.starts_with("gone") {
        StatusCode::GONE
    } else if id.starts_with("deny") {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    }
}

async fn connections_server() -> (String, Posts) {
    let posts = Posts::default();
    let app = Router::new()
        .fallback(at_connections)
        .with_state(posts.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), posts)
}

/// Keeps what the outbox relay publishes, to hand it to the worker as SQS records.
#[derive(Default, Clone)]
struct Published(Arc<Mutex<Vec<OutboundEvent>>>);

#[async_trait]
impl EventPublisher for Published {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(Vec::new())
    }
}

impl Published {
    /// Everything published so far as one SQS batch, each body the EventBridge envelope
    /// the bus rule puts on the queue.
    fn take_batch(&self) -> SqsEvent {
        let events = std::mem::take(&mut *self.0.lock().unwrap());
        let mut ev = SqsEvent::default();
        ev.records = events
            .iter()
            .map(|e| {
                let mut m = SqsMessage::default();
                m.message_id = Some(Uuid::new_v4().to_string());
                m.body = Some(
                    json!({
                        "version": "0",
                        "id": Uuid::new_v4(),
                        "detail-type": e.name,
                        "source": e.source,
                        "account": "123456789012",
                        "time": e.time,
                        "region": "us-east-1",
                        "resources": [],
                        "detail": e.detail,
                    })
                    .to_string(),
                );
                m
            })
            .collect();
        ev
    }
}

struct Env {
    app: App,
    worker: Worker,
    published: Published,
    tenant: TenantId,
    endpoint: String,
    posts: Posts,
}

/// The composition root as the worker function builds it, with autonomy on, the clock on
/// Monday 2 March 2026 08:00 New York, and a SigV4-signing Management API pusher.
async fn env(pool: &PgPool) -> Env {
    let tenant = TenantId(admin::seed_demo(pool).await.unwrap().tenant_id);
    let (endpoint, posts) = connections_server().await;
    let vars = HashMap::from([
        ("DATABASE_URL", "postgres://unused/db"),
        ("AUTONOMY_ENABLED", "true"),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
    let published = Published::default();
    let adapters = Adapters {
        publisher: Some(Arc::new(published.clone())),
        mailer: Arc::new(LogMailer),
        sms: Arc::new(LogSmsSender),
        calendar: Arc::new(MockCalendar::new(config.calendar_fail_mode)),
        pusher: Some(Arc::new(test_pusher())),
    };
    let app = App::build(
        config,
        pool.clone(),
        Clock::fixed(ny(2026, 3, 2, 8, 0)),
        adapters,
    );
    let worker = Worker::from_app(&app);
    Env {
        app,
        worker,
        published,
        tenant,
        endpoint,
        posts,
    }
}

impl Env {
    /// Books Wednesday 10:00 for Ana and lets the worker handle its events.
    async fn book(&self) -> ReferenceCode {
        let a = ana_books(&self.app.booking, self.tenant, ny(2026, 3, 4, 10, 0)).await;
        self.run_worker().await;
        ReferenceCode::parse(&a.reference).unwrap()
    }

    /// Lee waits for a Wednesday to Friday morning consultation from chat session `session`.
    async fn waitlist(&self, session: &str) -> Uuid {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        lee_waits(
            self.app.booking.pool(),
            self.tenant,
            session,
            day(4),
            day(6),
        )
        .await
    }

    async fn connect(&self, id: &str, session: &str) {
        chat::put_connection(
            self.app.booking.pool(),
            id,
            self.tenant.0,
            session,
            &self.endpoint,
        )
        .await
        .unwrap();
    }

    /// Ana cancels: the slot opens and the worker runs the waitlist offer.
    async fn cancel(&self, reference: &ReferenceCode) {
        self.app
            .booking
            .cancel(self.tenant, reference, &Email::parse(ANA_EMAIL).unwrap())
            .await
            .unwrap();
        self.run_worker().await;
    }

    async fn run_worker(&self) {
        let batch = self.published.take_batch();
        assert!(!batch.records.is_empty(), "the relay published the events");
        let resp = self.worker.handle(batch).await.unwrap();
        assert!(resp.batch_item_failures.is_empty(), "every record handled");
    }

    async fn pushes(&self, session: &str) -> Vec<(String, bool)> {
        sqlx::query_as(
            "SELECT type, delivered_at IS NOT NULL FROM push_events WHERE session_id = $1",
        )
        .bind(session)
        .fetch_all(self.app.booking.pool())
        .await
        .unwrap()
    }

    async fn connections(&self) -> Vec<String> {
        let mut ids: Vec<String> =
            sqlx::query_scalar("SELECT connection_id FROM ws_connections ORDER BY 1")
                .fetch_all(self.app.booking.pool())
                .await
                .unwrap();
        ids.sort();
        ids
    }

    async fn job_status(&self, kind: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT status FROM jobs WHERE tenant_id = $1 AND kind = $2")
            .bind(self.tenant.0)
            .bind(kind)
            .fetch_all(self.app.booking.pool())
            .await
            .unwrap()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_waitlist_offer_is_posted_at_once_and_gone_connections_are_removed(pool: PgPool) {
    let e = env(&pool).await;
    let reference = e.book().await;
    let entry = e.waitlist("web-lee").await;
    // GIVEN Lee's session open in two tabs, one of which API Gateway already closed, and
    // another client's session open elsewhere
    e.connect("tab-1", "web-lee").await;
    e.connect("gone-tab-2", "web-lee").await;
    e.connect("other", "web-other").await;

    // WHEN the worker handles the cancellation
    e.cancel(&reference).await;

    // THEN the offer is posted, signed, to Lee's open tab without Lee sending anything
    let frames = e.posts.to("tab-1");
    assert_eq!(frames.len(), 1, "one frame to the open tab: {frames:?}");
    let push = &frames[0];
    assert_eq!(push["type"], "push");
    assert_eq!(push["push_type"], "waitlist_match");
    assert_eq!(push["session_id"], "web-lee");
    assert_eq!(push["payload"]["entry_id"], json!(entry));
    assert_eq!(
        push["payload"]["slots"][0]["start"],
        "2026-03-04T10:00:00-05:00"
    );
    assert!(
        e.posts
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|(_, signed, _)| *signed),
        "every post is SigV4-signed"
    );
    // AND the closed tab was tried, answered 410 and is forgotten
    assert_eq!(e.posts.to("gone-tab-2").len(), 1);
    assert_eq!(e.connections().await, vec!["other", "tab-1"]);
    // AND nothing went to the other session
    assert!(e.posts.to("other").is_empty());
    // AND the push is marked delivered (a later hello does not repeat it)
    assert_eq!(
        e.pushes("web-lee").await,
        vec![("waitlist_match".to_string(), true)]
    );
    assert_eq!(
        e.job_status("send_waitlist_notification").await,
        ["completed"]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_push_that_cannot_be_posted_stays_pending_and_the_job_completes(pool: PgPool) {
    let e = env(&pool).await;
    let reference = e.book().await;
    e.waitlist("web-lee").await;
    // GIVEN a connection the Management API refuses to post to (403)
    e.connect("deny-1", "web-lee").await;

    e.cancel(&reference).await;

    // THEN the post was tried, the push waits for Lee's next hello, the connection stays
    // and the job is done all the same
    assert_eq!(e.posts.to("deny-1").len(), 1);
    assert_eq!(
        e.pushes("web-lee").await,
        vec![("waitlist_match".to_string(), false)]
    );
    assert_eq!(e.connections().await, vec!["deny-1"]);
    assert_eq!(
        e.job_status("send_waitlist_notification").await,
        ["completed"]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_push_for_a_session_without_connections_waits_in_postgres(pool: PgPool) {
    let e = env(&pool).await;
    let reference = e.book().await;
    e.waitlist("web-lee").await;

    e.cancel(&reference).await;

    assert!(e.posts.0.lock().unwrap().is_empty(), "nothing to post to");
    assert_eq!(
        e.pushes("web-lee").await,
        vec![("waitlist_match".to_string(), false)]
    );
}

/// A Management API pusher that signs with test credentials.
fn test_pusher() -> ApiGatewayPusher {
    ApiGatewayPusher::new(AwsAccess::new(
        "us-east-1",
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
        None,
    ))
}

#[tokio::test]
async fn the_management_api_pusher_refuses_a_local_endpoint_without_a_call() {
    use gomomo::ports::{Pusher, SendError};
    let (url, posts) = connections_server().await;
    let port = url.rsplit(':').next().unwrap();
    let pusher = test_pusher();
    // Connections `gomomo serve` recorded (this process's form and the older one), and
    // plain http to a host that is not loopback — 0.0.0.0 would reach the recording server
    // on this machine, so a call that should not happen would show.
    for endpoint in [
        "local:6d0e0000-0000-4000-8000-000000000001".to_string(),
        "local".to_string(),
        format!("http://0.0.0.0:{port}"),
        format!("ftp://127.0.0.1:{port}"),
    ] {
        let r = pusher.post(&endpoint, "refused-1", "{}".into()).await;
        assert!(matches!(r, Err(SendError::Failed(_))), "{endpoint}: {r:?}");
    }
    let seen = posts.0.lock().unwrap().clone();
    assert!(seen.is_empty(), "no request reached the server: {seen:?}");
    // The server does record a call the pusher makes: plain http to loopback (an emulator).
    let r = pusher.post(&url, "taken-1", "{}".into()).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(posts.to("taken-1").len(), 1);
}

#[tokio::test]
async fn a_post_to_an_endpoint_that_does_not_answer_gives_up_in_time() {
    use gomomo::adapters::aws::POST_TIMEOUT;
    use gomomo::ports::{Pusher, SendError};
    let (url, posts) = connections_server().await;
    let started = std::time::Instant::now();
    // Live delivery holds the session's pushes locked while it posts: a hanging endpoint
    // must fail the post after the operation timeout, not hold them for a minute.
    let r = tokio::time::timeout(
        POST_TIMEOUT * 3,
        test_pusher().post(&url, "slow-1", "{}".into()),
    )
    .await
    .expect("the post gives up on its own");
    assert!(matches!(r, Err(SendError::Failed(_))), "{r:?}");
    assert!(started.elapsed() >= POST_TIMEOUT.mul_f32(0.9));
    assert_eq!(posts.to("slow-1").len(), 1, "the post reached the endpoint");
}
