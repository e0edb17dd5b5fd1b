//! `oauth_states` (one-time, expiring states of the OAuth flow, bound to a tenant) and
//! `calendar_connections` (a tenant's Google tokens, stored sealed).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// Stores a new state for `tenant`, valid until `expires_at`.
pub async fn insert_state<'e>(
    db: impl PgExecutor<'e>,
    state: &str,
    tenant: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_states (state, tenant_id, provider, created_at, expires_at)
         VALUES ($1, $2, 'google', $3, $4)",
    )
    .bind(state)
    .bind(tenant)
    .bind(now)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Uses a state up: returns its tenant, or `None` when the state is unknown, used or
/// expired at `now`.
pub async fn consume_state<'e>(
    db: impl PgExecutor<'e>,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE oauth_states SET consumed_at = $2
          WHERE state = $1 AND consumed_at IS NULL AND expires_at > $2 RETURNING tenant_id",
    )
    .bind(state)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// A tenant's sealed tokens.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct StoredTokens {
    pub access_token_enc: Vec<u8>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub expires_at: DateTime<Utc>,
}

pub async fn tokens<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Option<StoredTokens>, sqlx::Error> {
    sqlx::query_as(
        "SELECT access_token_enc, refresh_token_enc, expires_at FROM calendar_connections
          WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(db)
    .await
}

/// Stores the tokens of a (re)connected calendar. A missing refresh token keeps the one
/// stored before (Google sends it only on the first consent).
pub async fn save_tokens<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    access_token_enc: &[u8],
    refresh_token_enc: Option<&[u8]>,
    expires_at: DateTime<Utc>,
    scope: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calendar_connections (tenant_id, access_token_enc, refresh_token_enc, expires_at, scope)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id) DO UPDATE SET access_token_enc = EXCLUDED.access_token_enc,
             refresh_token_enc = COALESCE(EXCLUDED.refresh_token_enc, calendar_connections.refresh_token_enc),
             expires_at = EXCLUDED.expires_at, scope = EXCLUDED.scope, updated_at = now()",
    )
    .bind(tenant)
    .bind(access_token_enc)
    .bind(refresh_token_enc)
    .bind(expires_at)
    .bind(scope)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces the access token after a refresh.
pub async fn update_access_token<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    access_token_enc: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE calendar_connections SET access_token_enc = $2, expires_at = $3, updated_at = now()
          WHERE tenant_id = $1",
    )
    .bind(tenant)
    .bind(access_token_enc)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}
