//! Tracing set-up: JSON lines on Lambda (CloudWatch), human-readable locally; [`emf`]
//! formats CloudWatch metrics as log lines.

pub mod emf;

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls are no-ops (tests may call it freely).
pub fn init(format: LogFormat) {
    // Postgres notices such as "there is no transaction in progress" after a COMMIT that failed
    // with a serialization error (and is retried) are noise at info level.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=error"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .without_time()
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
