//! `oauth_states`: one-time, expiring states of an OAuth flow, bound to the tenant and the
//! resource (or all of the tenant's resources) it connects, with the PKCE verifier when the
//! provider takes one.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// What a state was minted for.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct StateRow {
    pub tenant_id: Uuid,
    /// `None`: every resource of the tenant.
    pub resource_id: Option<Uuid>,
    pub provider: String,
    pub code_verifier: Option<String>,
}

/// Stores a new state for `tenant` (and `resource`, or all of its resources), valid until
/// `expires_at`.
#[allow(clippy::too_many_arguments)]
pub async fn insert_state<'e>(
    db: impl PgExecutor<'e>,
    state: &str,
    provider: &str,
    tenant: Uuid,
    resource: Option<Uuid>,
    code_verifier: Option<&str>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_states (state, tenant_id, provider, resource_id, code_verifier,
                created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(state)
    .bind(tenant)
    .bind(provider)
    .bind(resource)
    .bind(code_verifier)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Uses a state of `provider` up: what it was minted for, or `None` when the state is
/// unknown, another provider's, used or expired at `now`.
pub async fn consume_state<'e>(
    db: impl PgExecutor<'e>,
    state: &str,
    provider: &str,
    now: DateTime<Utc>,
) -> Result<Option<StateRow>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE oauth_states SET consumed_at = $2
          WHERE state = $1 AND provider = $3 AND consumed_at IS NULL AND expires_at > $2
      RETURNING tenant_id, resource_id, provider, code_verifier",
    )
    .bind(state)
    .bind(now)
    .bind(provider)
    .fetch_optional(db)
    .await
}
