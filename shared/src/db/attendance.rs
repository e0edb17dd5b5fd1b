//! A tenant's attendance settings (columns of `tenants`): when a cancellation is late and
//! when clients with no-shows must confirm by reply.

use serde::Serialize;
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow, Serialize)]
pub struct AttendancePolicy {
    /// A cancellation less than this many minutes before the start is late (`late_cancel`).
    pub late_cancel_minutes: i32,
    /// Clients with at least this many no-shows must confirm by reply; None: nobody must.
    pub no_show_confirm_threshold: Option<i32>,
    /// How many hours before the start that confirmation is due.
    pub no_show_confirm_hours: i32,
}

pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Option<AttendancePolicy>, sqlx::Error> {
    sqlx::query_as(
        "SELECT late_cancel_minutes, no_show_confirm_threshold, no_show_confirm_hours
           FROM tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(db)
    .await
}

/// Replaces the settings; None when the tenant does not exist.
pub async fn put<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    p: &AttendancePolicy,
) -> Result<Option<AttendancePolicy>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE tenants SET late_cancel_minutes = $2, no_show_confirm_threshold = $3,
                no_show_confirm_hours = $4, updated_at = now()
          WHERE id = $1
          RETURNING late_cancel_minutes, no_show_confirm_threshold, no_show_confirm_hours",
    )
    .bind(tenant)
    .bind(p.late_cancel_minutes)
    .bind(p.no_show_confirm_threshold)
    .bind(p.no_show_confirm_hours)
    .fetch_optional(db)
    .await
}
