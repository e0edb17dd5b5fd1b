//! The composition root: what each role refuses at start, and that the booking service it
//! hands out publishes each committed event before the call returns.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, TimeZone as _, Utc};
use chrono_tz::America::New_York;
use gomomo::app::{check_start, Adapters, App, AppError, Role};
use gomomo::config::vars::{self, Need};
use gomomo::config::{Config, ConfigError, Environment};
use gomomo::db::outbox;
use gomomo::domain::{ClientName, Email, SessionId, TenantId};
use gomomo::ports::{EventPublisher, OutboundEvent, PublishError};
use gomomo::services::admin;
use gomomo::services::booking::ClientDetails;
use gomomo::services::Clock;
use sqlx::PgPool;
use uuid::Uuid;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |k| {
        if k == "DATABASE_URL" {
            return Some("postgres://unused/db".into());
        }
        pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
}

const PRODUCTION: [(&str, &str); 3] = [
    ("GOMOMO_ENV", "production"),
    ("GOMOMO_PLATFORM_KEY", "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS"),
    (
        "ENCRYPTION_KEY",
        "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
    ),
];

/// Real-looking delivery settings: an SMTP server and a Twilio account.
const DELIVERY: [(&str, &str); 4] = [
    ("SMTP_HOST", "smtp.example.com"),
    ("MAIL_FROM", "bookings@example.com"),
    ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
    ("TWILIO_AUTH_TOKEN", "twilio-token"),
];

#[test]
fn production_functions_refuse_to_start_without_a_bus() {
    let c = config(&PRODUCTION).unwrap();
    for role in [
        Role::Api,
        Role::ChatHttp,
        Role::Excel,
        Role::ChatWs,
        Role::Worker,
        Role::Scheduler,
    ] {
        assert_eq!(
            check_start(&c, role).unwrap_err(),
            ConfigError::Missing("EVENT_BUS_NAME"),
            "{role:?}"
        );
    }
    let mut with_bus = PRODUCTION.to_vec();
    with_bus.push(("EVENT_BUS_NAME", "gomomo-events"));
    with_bus.extend(DELIVERY);
    let c = config(&with_bus).unwrap();
    for role in [Role::Api, Role::ChatWs, Role::Worker, Role::Scheduler] {
        assert!(check_start(&c, role).is_ok(), "{role:?}");
    }
    // The migration publishes nothing.
    assert!(check_start(&config(&PRODUCTION).unwrap(), Role::Migrate).is_ok());
    // Twilio-facing processes also need the public URL and the handoff secret in production.
    for role in [Role::Voice, Role::Handoff, Role::Standalone] {
        let e = check_start(&c, role).unwrap_err();
        assert!(e.to_string().contains("PUBLIC_BASE_URL"), "{role:?}: {e}");
    }
    // Development starts with neither.
    let dev = config(&[]).unwrap();
    for role in [Role::Api, Role::Voice, Role::Worker, Role::Standalone] {
        assert!(check_start(&dev, role).is_ok(), "{role:?}");
    }
}

/// The roles that send mail start only through the entry point that links the SMTP
/// client; the plain one refuses them before reading anything.
#[tokio::test]
async fn a_mail_role_is_refused_by_the_start_without_mail() {
    for role in Role::ALL.into_iter().filter(|r| r.sends_mail()) {
        match App::from_env(role).await {
            Err(AppError::MailNotLinked(r)) => assert_eq!(r, role),
            Err(e) => panic!("{role:?}: {e}"),
            Ok(_) => panic!("{role:?} started without its mailer"),
        }
    }
}

#[test]
fn production_delivery_fails_closed() {
    let mut base = PRODUCTION.to_vec();
    base.extend([
        ("EVENT_BUS_NAME", "gomomo-events"),
        ("PUBLIC_BASE_URL", "https://receptionist.example.com"),
        ("HANDOFF_SECRET", "q8Zp2LmW7rT5vB1nC4yH6gF8dSk3J9x0"),
    ]);
    let without = |skip: &[&str]| {
        let mut pairs = base.clone();
        pairs.extend(DELIVERY.iter().filter(|(k, _)| !skip.contains(k)).copied());
        config(&pairs).unwrap()
    };
    let all = without(&[]);
    for role in Role::ALL {
        assert!(check_start(&all, role).is_ok(), "{role:?}");
    }

    // No SMTP server: mail would land in a folder. Refused where mail is sent.
    let folder = without(&["SMTP_HOST"]);
    for role in [Role::Worker, Role::Scheduler, Role::Standalone] {
        let e = check_start(&folder, role).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Production {
                    var: "SMTP_HOST",
                    ..
                }
            ),
            "{role:?}: {e}"
        );
        assert!(e.to_string().contains("local folder"), "{e}");
    }
    for role in [Role::Api, Role::ChatWs, Role::Voice, Role::Handoff] {
        assert!(check_start(&folder, role).is_ok(), "{role:?}");
    }

    // No Twilio account: SMS would only be logged. Refused where SMS are sent.
    let log_sms = without(&["TWILIO_ACCOUNT_SID"]);
    for role in [
        Role::Voice,
        Role::Handoff,
        Role::Worker,
        Role::Scheduler,
        Role::Standalone,
    ] {
        let e = check_start(&log_sms, role).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Production {
                    var: "TWILIO_ACCOUNT_SID",
                    ..
                }
            ),
            "{role:?}: {e}"
        );
        assert!(e.to_string().contains("only be logged"), "{e}");
    }
    for role in [Role::Api, Role::ChatWs] {
        assert!(check_start(&log_sms, role).is_ok(), "{role:?}");
    }

    // Development keeps the folder and the log.
    let dev = config(&[]).unwrap();
    for role in Role::ALL {
        assert!(check_start(&dev, role).is_ok(), "{role:?}");
    }
}

/// A production value for each `Deploy` variable, of the shape the template gives it (a
/// deploy with a PublicBaseUrl). `google` adds Google Calendar and the OpenAI key, which
/// the template gives as "" when their secrets are not named.
fn deploy_value(name: &str, google: bool) -> &'static str {
    match name {
        "DATABASE_URL" => "postgres://gomomo:secret@db.example.com:5432/gomomo",
        "GOMOMO_ENV" => "production",
        "LOG_FORMAT" => "json",
        "DB_MAX_CONNECTIONS" => "2",
        "EVENT_BUS_NAME" => "gomomo-events",
        "GOMOMO_PLATFORM_KEY" => "k3J9x0q8Zp2LmW7rT5vB1nC4yH6gF8dS",
        "ENCRYPTION_KEY" => "q6Yl0m3R1x9w2VbT8cK4nP7sZ5aD0fH2jL6uE9gI1oM=",
        "CHAT_WS_URL" => "wss://abc123.execute-api.us-east-1.amazonaws.com/prod",
        "AUTONOMY_ENABLED" => "true",
        "RETENTION_DAYS" => "90",
        "OPENAI_API_KEY" if google => "sk-test-0123456789",
        "OPENAI_API_KEY" => "",
        "OPENAI_MODEL" => "gpt-4o",
        "TWILIO_AUTH_TOKEN" => "twilio-auth-token-from-secrets",
        "TWILIO_ACCOUNT_SID" => "AC0123456789abcdef0123456789abcdef",
        "PUBLIC_BASE_URL" => "https://receptionist.example.com",
        "HANDOFF_SECRET" => "q8Zp2LmW7rT5vB1nC4yH6gF8dSk3J9x0",
        "SMTP_HOST" => "email-smtp.eu-west-1.amazonaws.com",
        "SMTP_PORT" => "587",
        "SMTP_TLS" => "starttls",
        "SMTP_USERNAME" => "smtp-user",
        "SMTP_PASSWORD" => "smtp-password",
        "MAIL_FROM" => "bookings@example.com",
        "CALENDAR_MODE" if google => "google",
        "CALENDAR_MODE" => "mock",
        "GOOGLE_CLIENT_ID" if google => "1234.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET" if google => "google-client-secret",
        "GOOGLE_CLIENT_ID" | "GOOGLE_CLIENT_SECRET" => "",
        "GOOGLE_REDIRECT_URL" => "https://receptionist.example.com/api/oauth/google/callback",
        other => panic!("no production value for the Deploy variable {other}: add one here"),
    }
}

/// Exactly what the table's `Deploy` rows give `role`, plus the Lambda runtime's name.
fn deploy_env(role: Role, google: bool) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = vars::VARS
        .iter()
        .filter(|v| v.need == Need::Deploy && v.roles.contains(&role))
        .map(|v| (v.name.to_string(), deploy_value(v.name, google).to_string()))
        .collect();
    env.insert(
        "AWS_LAMBDA_FUNCTION_NAME".into(),
        format!("gomomo-{role:?}"),
    );
    env
}

fn start(role: Role, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
    let c = Config::from_lookup_for(role, |k| env.get(k).cloned())?;
    check_start(&c, role)?;
    Ok(c)
}

/// Each function starts in production on its role's `Deploy` rows and nothing else, so a
/// variable its start needs cannot be missing from its rows (and, through
/// scripts/check_template.py, from its Environment in the template).
#[test]
fn each_function_starts_in_production_on_its_deploy_rows_alone() {
    let functions: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Standalone)
        .collect();
    for google in [false, true] {
        for &role in &functions {
            let c = start(role, &deploy_env(role, google))
                .unwrap_or_else(|e| panic!("{role:?} (google {google}) refuses to start: {e}"));
            assert_eq!(c.environment, Environment::Production, "{role:?}");
        }
    }
    // The rows are what makes it start: each function that does more than connect is
    // refused on the migration's rows, and the mailers are refused on the api's.
    let migrate = deploy_env(Role::Migrate, false);
    for &role in functions.iter().filter(|r| **r != Role::Migrate) {
        assert!(
            start(role, &migrate).is_err(),
            "{role:?} starts on the migration's rows"
        );
    }
    let api = deploy_env(Role::Api, false);
    for role in [Role::Worker, Role::Scheduler, Role::Voice, Role::Handoff] {
        assert!(
            start(role, &api).is_err(),
            "{role:?} starts on the api's rows"
        );
    }
}

/// Records every batch it is given, succeeding.
#[derive(Default)]
struct Recorder(Mutex<Vec<OutboundEvent>>);

#[async_trait]
impl EventPublisher for Recorder {
    async fn publish(&self, batch: &[OutboundEvent]) -> Result<Vec<Uuid>, PublishError> {
        self.0.lock().unwrap().extend_from_slice(batch);
        Ok(Vec::new())
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn every_booking_path_of_the_app_publishes_at_commit(pool: PgPool) {
    let seed = admin::seed_demo(&pool).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let config = config(&[]).unwrap();
    let clock = Clock::system();
    let adapters = Adapters::from_config(&pool, &config, &clock)
        .unwrap()
        .with_publisher(recorder.clone());
    let app = App::build(config, pool.clone(), clock, adapters);
    let tenant = TenantId(seed.tenant_id);
    let service = seed.services[0].id;

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
    let session = SessionId::parse("web-app-root").unwrap();
    let client = ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse("ana@example.com").unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    };
    // The booking service every entry point gets (REST, chat, voice, SMS share it).
    for booking in [app.booking.clone(), app.agent.booking().clone()] {
        let before = recorder.0.lock().unwrap().len();
        let hold = booking
            .create_hold(tenant, service, start, &session)
            .await
            .unwrap();
        let (confirmed, created) = booking
            .confirm(tenant, hold.id, &session, &client)
            .await
            .unwrap();
        assert!(created);
        // Published before `confirm` returned: no sleep, no sweep.
        let events = recorder.0.lock().unwrap()[before..].to_vec();
        assert!(
            events.iter().any(|e| e.name == "BookingCreated"
                && e.detail["booking_id"] == serde_json::json!(confirmed.id)),
            "{events:?}"
        );
        assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
        booking
            .cancel(
                tenant,
                &gomomo::domain::ReferenceCode::parse(&confirmed.reference).unwrap(),
                &client.email,
            )
            .await
            .unwrap();
        assert!(recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.name == "BookingCancelled"));
        assert_eq!(outbox::unpublished_count(&pool).await.unwrap(), 0);
    }
}
