//! `gomomo`: the standalone server and command line.
//!
//! - `gomomo serve [--addr HOST:PORT]` — the HTTP API in one process, with the hold sweep on a timer
//! - `gomomo migrate` — apply the database migrations
//! - `gomomo seed-demo` — create (idempotently) the demo tenant and print its ids, an API key
//!   and (outside production) the console owner `owner@demo.gomomo.local` and its password
//! - `gomomo openapi` — print the REST API's OpenAPI document (no database needed)
//! - `gomomo status [--json]` — messages due but not delivered, per tenant; exit code 2 when
//!   there are any

mod chat;
mod serve;
mod status;

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use gomomo::app::App;
use gomomo::http::client_ip::TrustedProxies;
use gomomo::services::admin;
use gomomo::Config;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(
    name = "gomomo",
    version,
    about = "gomomo — a multi-tenant AI receptionist (standalone server)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (reads DATABASE_URL).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "GOMOMO_ADDR", default_value = "127.0.0.1:3000")]
        addr: SocketAddr,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Create the demo tenant (idempotent) and print {tenant_id, api_key, services} as JSON.
    SeedDemo,
    /// Print the REST API's OpenAPI 3 document as JSON (what `GET /openapi.json` serves).
    Openapi,
    /// Print the messages due but not delivered (queued past due, failed) per tenant and in
    /// total; exit code 0 when there are none, 2 when there are some.
    Status {
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        use utoipa::OpenApi;
        println!("{}", gomomo_api::ApiDoc::openapi().to_pretty_json()?);
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::from_env().context("invalid configuration")?;
    gomomo::telemetry::init(config.log_format);
    let pool = gomomo::db::connect(&config.database_url, config.db_max_connections)
        .await
        .context("cannot connect to Postgres (DATABASE_URL)")?;
    match cli.command {
        Command::Migrate => {
            gomomo::db::migrate(&pool)
                .await
                .context("migration failed")?;
            tracing::info!("migrations applied");
        }
        Command::SeedDemo => {
            let seed = admin::seed_demo_with_key(&pool, config.demo_api_key.as_deref())
                .await
                .context("seeding the demo tenant")?;
            admin::seed_demo_booking_url(&pool, &config.telephony.public_base_url)
                .await
                .context("setting the demo tenant's booking URL")?;
            let mut out = serde_json::to_value(&seed)?;
            // The demo owner signs in to the console; production gets none.
            if config.environment != gomomo::config::Environment::Production {
                let clock = gomomo::services::Clock::system_offset(config.clock_offset);
                let owner = gomomo::services::people::seed_owner(
                    &pool,
                    admin::DEMO_TENANT_ID,
                    admin::DEMO_OWNER_EMAIL,
                    config.demo_owner_password.as_deref(),
                    clock.now(),
                )
                .await
                .context("seeding the demo owner")?;
                out["owner_email"] = owner.email.into();
                out["owner_password"] = owner.password.into();
            }
            println!("{}", serde_json::to_string(&out)?);
        }
        Command::Status { json } => {
            let clock = gomomo::services::Clock::system_offset(config.clock_offset);
            return status::run(pool, clock, json).await;
        }
        Command::Serve { addr } => serve(pool, &config, addr).await?,
        Command::Openapi => {}
    }
    Ok(ExitCode::SUCCESS)
}

async fn serve(pool: sqlx::PgPool, config: &Config, addr: SocketAddr) -> anyhow::Result<()> {
    // Every service from the composition root; the worker and the scheduler run in this
    // process (events on the in-process bus, the scheduler tick on a timer). Production
    // refuses to start without a Twilio auth token or with validation off.
    let (app, runtime) = App::standalone(config.clone(), pool).context("assembling the server")?;
    // The REST API and the pages (`/`, `/widget.js`) as the api function serves them.
    let router = gomomo_api::function_router(gomomo_api::AppState::from_app(&app))
        // The chat over a WebSocket at /ws (API Gateway's WebSocket API on Lambda).
        .merge(chat::router_with(
            app.agent.clone(),
            runtime.sockets(),
            &app.config.telephony.public_base_url,
            Some(app.budgets.clone()),
            config.serve.socket_idle_timeout,
        ))
        // Twilio voice and SMS webhooks (signature-checked) and handoff links.
        .merge(gomomo_voice::router(gomomo_voice::VoiceState::from_app(
            &app,
        )))
        .merge(gomomo_handoff::router(
            gomomo_handoff::HandoffState::from_app(&app),
        ));

    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    if app.budgets.enabled() {
        tracing::info!(addr = %listener.local_addr()?, rate_limits = "on", "gomomo serving");
    } else {
        tracing::warn!(addr = %listener.local_addr()?, rate_limits = "off", "gomomo serving WITHOUT request budgets (RATE_LIMITS=off): for benchmarks and tests only");
    }
    let trusted = TrustedProxies::new(&config.budgets.trusted_proxies);
    serve::run(listener, router, config.serve, trusted, shutdown_signal()).await;
    runtime.stop();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
