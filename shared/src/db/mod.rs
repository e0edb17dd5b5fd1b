//! Postgres access: the pool, migrations, and queries grouped by table.

pub mod attendance;
pub mod audit;
pub mod bookings;
pub mod budgets;
pub mod calendars;
pub mod calls;
pub mod chat;
pub mod followups;
pub mod handoff;
pub mod jobs;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod people;
pub mod phone_codes;
pub mod policy;
pub mod privacy;
pub mod schedule;
pub mod sessions;
pub mod sms;
pub mod sync_dead_letter;
pub mod tenants;
pub mod voicemail;
pub mod waitlist;
pub mod webhooks;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The migrations in `../migrations`, embedded at compile time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let opts: PgConnectOptions = url.parse()?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts.application_name("gomomo"))
        .await
}

/// Bounds every statement of this session (`statement_timeout`): a statement still
/// running after `millis` is cancelled by Postgres. Sent as a statement, not as a startup
/// option, so it also works through connection poolers (RDS Proxy refuses startup options).
pub async fn set_statement_timeout(
    conn: &mut sqlx::PgConnection,
    millis: u128,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT set_config('statement_timeout', $1, false)")
        .bind(format!("{millis}ms"))
        .execute(conn)
        .await
        .map(|_| ())
}

/// One trivial round trip: is the database reachable?
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// SQLSTATEs we act on.
pub mod sqlstate {
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    pub const EXCLUSION_VIOLATION: &str = "23P01";
    pub const UNIQUE_VIOLATION: &str = "23505";
}

/// The SQLSTATE and constraint of a database error, if it is one.
pub fn db_error_code(err: &sqlx::Error) -> Option<(String, Option<String>)> {
    match err {
        sqlx::Error::Database(db) => Some((
            db.code().map(|c| c.into_owned()).unwrap_or_default(),
            db.constraint().map(str::to_owned),
        )),
        _ => None,
    }
}

/// True for errors after which the whole transaction may simply be run again.
pub fn is_retryable(err: &sqlx::Error) -> bool {
    matches!(
        db_error_code(err),
        Some((code, _)) if code == sqlstate::SERIALIZATION_FAILURE || code == sqlstate::DEADLOCK_DETECTED
    )
}
