//! The composition root: every service is built here, once per process, from the
//! configuration and the adapters it selects. Each binary takes its parts from [`App`]:
//! the Lambda functions through [`App::from_env`], `gomomo serve` through
//! [`App::standalone`], tests through [`App::build`] with the adapters they choose.
//!
//! Every booking service handed out carries the configured calendar and the outbox relay,
//! so every entry point that writes bookings publishes its events right after commit: on
//! Lambda synchronously to EventBridge, in `gomomo serve` on the in-process bus.

pub mod local;

use std::sync::Arc;

use sqlx::PgPool;

use crate::adapters::caldav::CalDavClient;
use crate::adapters::calendars::ConnectedCalendars;
use crate::adapters::google::{GoogleCalendar, GoogleOAuth};
use crate::adapters::local::{LogSmsSender, MockCalendar};
use crate::adapters::mail::{FileMailer, SmtpMailer};
use crate::adapters::twilio_sms::TwilioSmsSender;
use crate::config::delivery::{CalendarMode, MailTransport};
use crate::config::{Config, ConfigError, Environment, TelephonyConfig};
use crate::domain::crypto::SecretBox;
use crate::http::twilio::WebhookVerifier;
use crate::ports::{
    CalendarProvider, Clock, DeliveryError, EventPublisher, Mailer, Pusher, SmsSender,
};
use crate::services::agent::Agent;
use crate::services::autonomy::Autonomy;
use crate::services::booking::BookingService;
use crate::services::budgets::Budgets;
use crate::services::delivery::{Delivery, Integrations};
use crate::services::handoff::HandoffService;
use crate::services::push::LivePush;
use crate::services::relay::OutboxRelay;
use crate::services::scheduler::Scheduler;
use crate::services::sms::SmsGate;
use crate::services::sms_inbound::InboundService;
use crate::services::voice::{VoiceLimits, VoiceService};

/// Why a process could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot connect to Postgres: {0}")]
    Database(#[from] sqlx::Error),
    #[error("delivery adapters: {0}")]
    Delivery(#[from] DeliveryError),
    /// A role that sends mail was started without the mailer (a wiring mistake).
    #[error("the {0:?} role sends mail: its binary must start with App::from_env_sending_mail")]
    MailNotLinked(Role),
}

/// What a binary serves; decides the settings it reads and the start checks that fail
/// closed. Defined next to the configuration, which reads by role.
pub use crate::config::Role;

/// Every service of the system, wired once. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Config,
    pub pool: PgPool,
    pub clock: Clock,
    /// Publishes committed outbox rows; `None` when no bus is configured (the rows wait
    /// for a process that has one).
    pub relay: Option<OutboxRelay>,
    /// Booking with the configured calendar and the relay.
    pub booking: BookingService,
    pub agent: Agent,
    pub sms: Arc<dyn SmsSender>,
    pub handoff: HandoffService,
    pub inbound: InboundService,
    pub voice: VoiceService,
    pub webhook_verifier: WebhookVerifier,
    pub integrations: Integrations,
    pub autonomy: Autonomy,
    pub delivery: Delivery,
    pub scheduler: Scheduler,
    /// Posts frames to WebSocket connections (live pushes, the chat's replies); `None` when
    /// this process cannot reach the sockets (pushes then wait for the client's next frame).
    pub pusher: Option<Arc<dyn Pusher>>,
    /// Request budgets of the public routes (kept in Postgres).
    pub budgets: Budgets,
}

/// The adapters a process runs on; [`Adapters::from_config`] picks the configured ones,
/// tests replace any of them.
#[derive(Clone)]
pub struct Adapters {
    pub publisher: Option<Arc<dyn EventPublisher>>,
    pub mailer: Arc<dyn Mailer>,
    pub sms: Arc<dyn SmsSender>,
    pub calendar: Arc<dyn CalendarProvider>,
    /// Posts pushes to the sessions' open connections right after they are written.
    pub pusher: Option<Arc<dyn Pusher>>,
}

impl Adapters {
    /// The configured mailer, SMS sender and calendar, with no event bus.
    pub fn from_config(pool: &PgPool, config: &Config, clock: &Clock) -> Result<Self, AppError> {
        Ok(Self::configured(pool, config, clock, mailer(config)?))
    }

    /// The same for a process that never sends mail: a mailer that cannot be built is
    /// logged and replaced by the log mailer instead of stopping the start.
    pub fn without_mail(pool: &PgPool, config: &Config, clock: &Clock) -> Self {
        let mailer = mailer(config).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "mailer unavailable; this process sends no mail");
            Arc::new(crate::adapters::local::LogMailer)
        });
        Self::configured(pool, config, clock, mailer)
    }

    fn configured(pool: &PgPool, config: &Config, clock: &Clock, mailer: Arc<dyn Mailer>) -> Self {
        Self {
            publisher: None,
            mailer,
            sms: sms_sender(&config.telephony),
            calendar: calendar(pool, config, clock.clone()),
            pusher: None,
        }
    }

    pub fn with_publisher(mut self, publisher: Arc<dyn EventPublisher>) -> Self {
        self.publisher = Some(publisher);
        self
    }

    pub fn with_pusher(mut self, pusher: Arc<dyn Pusher>) -> Self {
        self.pusher = Some(pusher);
        self
    }
}

impl App {
    /// A Lambda function's start for a role that sends no mail: configuration from the
    /// environment (refused when a production secret is missing), logs, the pool, the
    /// configured adapters with the log mailer, the EventBridge bus when `EVENT_BUS_NAME`
    /// is set, and the Management API pusher for the roles that post to WebSockets (both
    /// signing with the runtime's AWS region and credentials). A role that sends mail is
    /// refused here: it starts with
    /// [`App::from_env_sending_mail`], so only its binary links the SMTP client.
    pub async fn from_env(role: Role) -> Result<Self, AppError> {
        if role.sends_mail() {
            return Err(AppError::MailNotLinked(role));
        }
        Self::from_env_with(role, |_| {
            Ok(Arc::new(crate::adapters::local::LogMailer) as Arc<dyn Mailer>)
        })
        .await
    }

    /// The same for a role that sends mail (the notification dispatcher's): the configured
    /// mailer, SMTP in production (`check_start` refuses the mail folder there).
    pub async fn from_env_sending_mail(role: Role) -> Result<Self, AppError> {
        Self::from_env_with(role, mailer).await
    }

    async fn from_env_with(
        role: Role,
        mailer: impl FnOnce(&Config) -> Result<Arc<dyn Mailer>, AppError>,
    ) -> Result<Self, AppError> {
        let config = Config::from_env_for(role)?;
        crate::telemetry::init(config.log_format);
        check_start(&config, role)?;
        let pool = crate::db::connect(&config.database_url, config.db_max_connections).await?;
        let clock = process_clock(&config);
        let mut adapters = Adapters::configured(&pool, &config, &clock, mailer(&config)?);
        let aws = aws_adapters(&config, role)?;
        if let Some(publisher) = aws.publisher {
            adapters = adapters.with_publisher(publisher);
        }
        if let Some(pusher) = aws.pusher {
            adapters = adapters.with_pusher(pusher);
        }
        Ok(Self::build(config, pool, clock, adapters))
    }

    /// `gomomo serve`: the configured adapters and the in-process bus; the returned
    /// runtime feeds each event to the orchestrator and ticks the scheduler.
    pub fn standalone(
        config: Config,
        pool: PgPool,
    ) -> Result<(Self, local::LocalRuntime), AppError> {
        check_start(&config, Role::Standalone)?;
        let clock = process_clock(&config);
        let (publisher, events) = local::bus();
        let sockets = local::LocalSockets::default();
        let adapters = Adapters::from_config(&pool, &config, &clock)?
            .with_publisher(publisher)
            .with_pusher(Arc::new(sockets.clone()));
        let app = Self::build(config, pool, clock, adapters).with_chat_model();
        let runtime = local::LocalRuntime::start(&app, events, sockets);
        Ok((app, runtime))
    }

    /// The configured adapters over `pool` without an event bus (tests, tools). The
    /// configured mailer falls back to the log mailer when it cannot be built.
    pub fn configured(config: Config, pool: PgPool, clock: Clock) -> Self {
        let sms = sms_sender(&config.telephony);
        Self::configured_with_sms(config, pool, clock, sms)
    }

    /// The same with `sms` as the SMS sender.
    pub fn configured_with_sms(
        config: Config,
        pool: PgPool,
        clock: Clock,
        sms: Arc<dyn SmsSender>,
    ) -> Self {
        let adapters = Adapters {
            sms,
            ..Adapters::without_mail(&pool, &config, &clock)
        };
        Self::build(config, pool, clock, adapters)
    }

    /// Wires every service over the given adapters.
    pub fn build(config: Config, pool: PgPool, clock: Clock, adapters: Adapters) -> Self {
        let relay = adapters
            .publisher
            .map(|p| OutboxRelay::new(pool.clone(), p, clock.clone()));
        let mut booking = BookingService::new(pool.clone(), clock.clone(), config.hold_ttl)
            .with_waitlist_offer_ttl(config.waitlist_offer_ttl);
        booking = if config.delivery.calendar_mode == CalendarMode::Connected {
            booking.with_calendar(adapters.calendar.clone())
        } else {
            booking.with_calendar_writes(adapters.calendar.clone())
        };
        booking = booking.with_calendar_sync_required(config.delivery.calendar_sync_required);
        if let Some(relay) = &relay {
            booking = booking.with_relay(relay.clone());
        }
        let t = &config.telephony;
        let handoff = HandoffService::new(
            pool.clone(),
            clock.clone(),
            &t.handoff_secret,
            t.handoff_ttl,
            &t.public_base_url,
            sms_gate(&pool, &config, &clock, adapters.sms.clone()),
        )
        .with_hold_ttl(config.hold_ttl);
        let voice = VoiceService::new(
            booking.clone(),
            handoff.clone(),
            VoiceLimits::from_config(t),
            &t.public_base_url,
        );
        let inbound = InboundService::new(booking.clone(), handoff.clone());
        let mut autonomy = Autonomy::new(
            booking.clone(),
            config.autonomy_enabled,
            adapters.calendar.clone(),
        )
        .with_public_base_url(&t.public_base_url);
        if let Some(relay) = &relay {
            autonomy = autonomy.with_relay(relay.clone());
        }
        if let Some(pusher) = &adapters.pusher {
            autonomy = autonomy.with_live_push(LivePush::new(pool.clone(), pusher.clone()));
        }
        let d = &config.delivery;
        let delivery = delivery(
            pool.clone(),
            &config,
            clock.clone(),
            adapters.mailer.clone(),
            adapters.sms.clone(),
        );
        let budgets = Budgets::new(pool.clone(), clock.clone(), &config);
        let mut scheduler = Scheduler::new(booking.clone(), autonomy.clone(), relay.clone())
            .with_delivery(delivery.clone())
            .with_retention(config.retention_days)
            .with_budgets(budgets.clone());
        if config.delivery.calendar_mode == CalendarMode::Connected {
            scheduler =
                scheduler.with_calendar_checks(connected_calendars(&pool, &config, clock.clone()));
        }
        let secrets = SecretBox::new(&d.encryption_key);
        let integrations = Integrations {
            google: d.google.as_ref().map(|g| {
                GoogleOAuth::new(
                    pool.clone(),
                    g.clone(),
                    secrets.clone(),
                    clock.clone(),
                    d.calendar_timeout,
                )
            }),
            calendars: connected_calendars(&pool, &config, clock.clone()),
            secrets,
            outbound: d.outbound.clone(),
            clock: clock.clone(),
        };
        Self {
            budgets,
            // The deterministic engine; `with_chat_model` puts the configured model in.
            agent: Agent::new(booking.clone(), &config.agent, None),
            webhook_verifier: WebhookVerifier::new(t),
            sms: adapters.sms,
            pusher: adapters.pusher,
            relay,
            booking,
            handoff,
            inbound,
            voice,
            integrations,
            autonomy,
            delivery,
            scheduler,
            config,
            pool,
            clock,
        }
    }

    /// The chat agent on the configured model (`OPENAI_API_KEY`), for the processes that
    /// chat; every other process keeps the deterministic engine that [`App::build`] gives,
    /// so its binary never reaches, and never links, the model client.
    pub fn with_chat_model(mut self) -> Self {
        self.agent = agent(self.booking.clone(), &self.config.agent);
        self
    }
}

/// What must hold before a process serves anything. Twilio-facing processes refuse a
/// production start without an auth token, a public https URL and a strong handoff secret;
/// a production Lambda refuses to start without a bus, since its events would never leave.
/// Delivery fails closed: in production a role that sends mail refuses the mail folder
/// (no SMTP server configured), and a role that sends SMS refuses to only log them (no
/// Twilio account SID and auth token).
pub fn check_start(config: &Config, role: Role) -> Result<(), ConfigError> {
    if role.serves_twilio() {
        config.telephony.check_webhooks(config.environment)?;
    }
    let production = config.environment == Environment::Production;
    if role != Role::Standalone
        && role != Role::Migrate
        && production
        && config.event_bus_name.is_none()
    {
        return Err(ConfigError::Missing("EVENT_BUS_NAME"));
    }
    if production && role.sends_mail() && matches!(config.delivery.mail, MailTransport::Folder(_)) {
        return Err(ConfigError::Production {
            var: "SMTP_HOST",
            reason: "email would be written to a local folder instead of being sent; configure an SMTP server (SMTP_HOST or SMTP_URL)",
        });
    }
    if production && role.sends_sms() && !config.telephony.twilio_sms_enabled() {
        let var = if config.telephony.account_sid.is_none() {
            "TWILIO_ACCOUNT_SID"
        } else {
            "TWILIO_AUTH_TOKEN"
        };
        return Err(ConfigError::Production {
            var,
            reason: "text messages would only be logged, never sent; configure Twilio (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)",
        });
    }
    Ok(())
}

/// The system clock, moved by the development-only offset when one is configured.
fn process_clock(config: &Config) -> Clock {
    if config.clock_offset.is_zero() {
        Clock::system()
    } else {
        tracing::warn!(
            offset_seconds = config.clock_offset.num_seconds(),
            "development clock offset in effect"
        );
        Clock::system_offset(config.clock_offset)
    }
}

/// The adapters a Lambda function takes from AWS.
#[derive(Default)]
struct AwsAdapters {
    publisher: Option<Arc<dyn EventPublisher>>,
    pusher: Option<Arc<dyn Pusher>>,
}

/// The EventBridge publisher when `EVENT_BUS_NAME` is set, and the Management API pusher
/// for the roles that post to WebSockets, both signing with the runtime's region and
/// credentials (a start that needs them without them is refused).
fn aws_adapters(config: &Config, role: Role) -> Result<AwsAdapters, AppError> {
    use crate::adapters::aws::{ApiGatewayPusher, AwsAccess, EventBridgePublisher};
    if config.event_bus_name.is_none() {
        tracing::warn!("EVENT_BUS_NAME is unset: domain events wait in the outbox");
        if !role.posts_to_sockets() {
            return Ok(AwsAdapters::default());
        }
    }
    let aws = AwsAccess::from_config(&config.aws)?;
    Ok(AwsAdapters {
        publisher: config.event_bus_name.as_ref().map(|bus| {
            Arc::new(EventBridgePublisher::new(aws.clone(), bus)) as Arc<dyn EventPublisher>
        }),
        pusher: role
            .posts_to_sockets()
            .then(|| Arc::new(ApiGatewayPusher::new(aws)) as Arc<dyn Pusher>),
    })
}

/// The chat agent: the OpenAI-compatible model when `OPENAI_API_KEY` is set and the binary
/// has the `llm` feature, otherwise the deterministic engine.
pub fn agent(booking: BookingService, config: &crate::config::AgentConfig) -> Agent {
    #[cfg(feature = "llm")]
    if config.openai_api_key.is_some() {
        let model: Arc<dyn crate::ports::ChatModel> =
            Arc::new(crate::adapters::openai::OpenAiModel::new(config));
        return Agent::new(booking, config, Some(model));
    }
    Agent::new(booking, config, None)
}

/// Delivery over the configured mailer and SMS sender (tests, tools).
pub fn configured_delivery(
    pool: PgPool,
    config: &Config,
    clock: Clock,
) -> Result<Delivery, AppError> {
    Ok(delivery(
        pool,
        config,
        clock,
        mailer(config)?,
        sms_sender(&config.telephony),
    ))
}

/// Delivery over the given mailer and SMS sender, behind the opt-out ledger and rate limit.
pub fn delivery(
    pool: PgPool,
    config: &Config,
    clock: Clock,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
) -> Delivery {
    let gate = sms_gate(&pool, config, &clock, sms);
    Delivery::new(pool, clock, mailer, gate, &config.delivery)
}

/// `sender` behind the opt-out ledger and the rate limit per tenant and phone of the configuration.
fn sms_gate(pool: &PgPool, config: &Config, clock: &Clock, sender: Arc<dyn SmsSender>) -> SmsGate {
    let t = &config.telephony;
    SmsGate::new(
        pool.clone(),
        sender,
        clock.clone(),
        t.sms_rate_limit_max,
        t.sms_rate_limit_window,
    )
}

/// The configured mailer: SMTP when `SMTP_URL`/`SMTP_HOST` is set, else the mail folder.
pub fn mailer(config: &Config) -> Result<Arc<dyn Mailer>, AppError> {
    let d = &config.delivery;
    Ok(match &d.mail {
        MailTransport::Smtp(s) => Arc::new(SmtpMailer::new(s, &d.mail_from)?),
        MailTransport::Folder(dir) => Arc::new(FileMailer::new(dir.clone(), &d.mail_from)),
    })
}

/// The SMS adapter the configuration asks for: Twilio's Messages API when an account SID
/// and auth token are set, otherwise the local adapter that records messages in the log.
pub fn sms_sender(cfg: &TelephonyConfig) -> Arc<dyn SmsSender> {
    match (&cfg.account_sid, &cfg.auth_token) {
        (Some(sid), Some(token)) => match TwilioSmsSender::new(&cfg.api_base_url, sid, token, None)
        {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "twilio sms adapter unavailable; recording sms locally");
                Arc::new(LogSmsSender)
            }
        },
        _ => Arc::new(LogSmsSender),
    }
}

/// The calendar adapter `CALENDAR_MODE` asks for: each resource's connected calendar, or
/// the built-in calendar with `CALENDAR_FAIL_MODE`.
pub fn calendar(pool: &PgPool, config: &Config, clock: Clock) -> Arc<dyn CalendarProvider> {
    if config.delivery.calendar_mode != CalendarMode::Connected {
        return Arc::new(MockCalendar::new(config.calendar_fail_mode));
    }
    Arc::new(connected_calendars(pool, config, clock))
}

/// The router over the resources' connected calendars, with the providers configured.
pub fn connected_calendars(pool: &PgPool, config: &Config, clock: Clock) -> ConnectedCalendars {
    let d = &config.delivery;
    let secrets = SecretBox::new(&d.encryption_key);
    let mut connected = ConnectedCalendars::new(pool.clone(), clock.clone(), secrets.clone());
    match crate::adapters::outbound::guarded_client(&d.outbound)
        .connect_timeout(d.calendar_timeout)
        .build()
    {
        Ok(http) => {
            let client =
                CalDavClient::new(http, d.outbound.clone()).with_timeout(d.calendar_timeout);
            connected = connected.with_caldav(client, d.outbound.clone());
        }
        Err(e) => {
            tracing::error!(error = %e, "the CalDAV HTTP client cannot be built; CalDAV calendars are unavailable")
        }
    }
    if let Some(m) = &d.microsoft {
        let timeout = d.calendar_timeout;
        let http = crate::adapters::lazy_http::LazyClient::new("microsoft", move || {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
        });
        connected = connected.with_graph(
            crate::adapters::graph::GraphClient::lazy(http, m.clone()).with_clock(clock.clone()),
        );
    }
    if let Some(g) = &d.google {
        let oauth = GoogleOAuth::new(pool.clone(), g.clone(), secrets, clock, d.calendar_timeout);
        connected = connected.with_google(GoogleCalendar::new(oauth, d.freebusy_cache));
    }
    connected
}
