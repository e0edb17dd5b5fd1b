//! `admin_users`, `admin_sessions` and the management side of `tenant_api_keys`: who may act
//! for a tenant. Tokens and keys are stored as SHA-256 digests only.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use super::tenants::hash_api_key;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct UserRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// A user with the stored PHC string, for checking a password.
#[derive(Debug, Clone, FromRow)]
pub struct UserCredential {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub password_hash: String,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct KeyRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub key_prefix: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_by: Option<String>,
    pub replaced_by: Option<Uuid>,
}

/// Who a live bearer token is: the columns the auth layer needs.
#[derive(Debug, Clone, FromRow)]
pub struct TokenOwner {
    pub tenant_id: Uuid,
    /// The key's or the user's id.
    pub id: Uuid,
    /// The key's prefix, or the user's email.
    pub label: String,
    pub name: String,
    pub role: String,
}

const USER_COLUMNS: &str = "id, tenant_id, email, name, role, created_at, updated_at, disabled_at";
const KEY_COLUMNS: &str = "id, tenant_id, key_prefix, name, role, created_at, last_used_at, revoked_at, created_by, replaced_by";

/// Takes the tenant's row lock: changes to who may act for a tenant run one at a time, so
/// the "an owner remains" check cannot be raced.
pub async fn lock_tenant(conn: &mut PgConnection, tenant: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Uuid>("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
            .bind(tenant)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Live owner credentials: enabled owner users plus unrevoked owner keys.
pub async fn owner_credentials(conn: &mut PgConnection, tenant: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM admin_users
                  WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL)
              + (SELECT count(*) FROM tenant_api_keys
                  WHERE tenant_id = $1 AND role = 'owner' AND revoked_at IS NULL)",
    )
    .bind(tenant)
    .fetch_one(conn)
    .await
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub tenant: Uuid,
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

/// Inserts a user; `None` when the tenant already has one with this email.
pub async fn insert_user(
    conn: &mut PgConnection,
    new: NewUser<'_>,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO admin_users (id, tenant_id, email, name, role, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, lower(email)) DO NOTHING
         RETURNING {USER_COLUMNS}"
    )))
    .bind(new.id)
    .bind(new.tenant)
    .bind(new.email)
    .bind(new.name)
    .bind(new.role)
    .bind(new.password_hash)
    .fetch_optional(conn)
    .await
}

pub async fn list_users<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM admin_users WHERE tenant_id = $1 ORDER BY lower(email)"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

pub async fn user<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM admin_users WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// What a change to a user sets; `None` leaves the column as it is.
#[derive(Default)]
pub struct UserChange<'a> {
    pub name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    /// `Some(true)` disables (now), `Some(false)` enables.
    pub disabled: Option<bool>,
}

pub async fn update_user(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    change: UserChange<'_>,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE admin_users
            SET name = coalesce($3, name),
                role = coalesce($4, role),
                password_hash = coalesce($5, password_hash),
                disabled_at = CASE WHEN $6::boolean IS NULL THEN disabled_at
                                   WHEN $6 THEN coalesce(disabled_at, $7)
                                   ELSE NULL END,
                updated_at = $7
          WHERE tenant_id = $1 AND id = $2
      RETURNING {USER_COLUMNS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(change.name)
    .bind(change.role)
    .bind(change.password_hash)
    .bind(change.disabled)
    .bind(now)
    .fetch_optional(conn)
    .await
}

pub async fn delete_user(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM admin_users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Enabled users with this email (any tenant, or only `tenant`), with their password hashes.
pub async fn credentials_by_email<'e>(
    db: impl PgExecutor<'e>,
    email: &str,
    tenant: Option<Uuid>,
) -> Result<Vec<UserCredential>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS}, password_hash FROM admin_users
          WHERE lower(email) = lower($1) AND disabled_at IS NULL
            AND ($2::uuid IS NULL OR tenant_id = $2)
          ORDER BY created_at
          LIMIT 10"
    )))
    .bind(email)
    .bind(tenant)
    .fetch_all(db)
    .await
}

pub async fn insert_session(
    conn: &mut PgConnection,
    token: &str,
    user: &UserRow,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO admin_sessions (id, token_hash, user_id, tenant_id, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(hash_api_key(token))
    .bind(user.id)
    .bind(user.tenant_id)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The signed-in user behind a live session token.
pub async fn session_owner<'e>(
    db: impl PgExecutor<'e>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenOwner>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.tenant_id, u.id, u.email AS label, u.name, u.role
           FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
            AND u.disabled_at IS NULL",
    )
    .bind(hash_api_key(token))
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Ends the session of this token; false when there was no live one.
pub async fn revoke_session<'e>(
    db: impl PgExecutor<'e>,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE admin_sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_api_key(token))
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Ends every session of a user (disabled, demoted, password changed, deleted).
pub async fn revoke_user_sessions(
    conn: &mut PgConnection,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE admin_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user)
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Removes sessions that ended more than a day ago (the scheduler's sweep).
pub async fn purge_sessions<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM admin_sessions
          WHERE coalesce(revoked_at, expires_at) < $1 - interval '1 day'",
    )
    .bind(now)
    .execute(db)
    .await?
    .rows_affected())
}

/// The machine key behind a bearer token; marks it used (at most once a minute, so the
/// write does not follow every request).
pub async fn key_owner<'e>(
    db: impl PgExecutor<'e>,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<TokenOwner>, sqlx::Error> {
    sqlx::query_as(
        "WITH k AS (
             SELECT id, tenant_id, key_prefix, name, role, last_used_at FROM tenant_api_keys
              WHERE key_hash = $1 AND revoked_at IS NULL),
         touched AS (
             UPDATE tenant_api_keys t SET last_used_at = $2
               FROM k
              WHERE t.id = k.id
                AND (k.last_used_at IS NULL OR k.last_used_at < $2 - interval '1 minute'))
         SELECT tenant_id, id, key_prefix AS label, name, role FROM k",
    )
    .bind(hash_api_key(key))
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn list_keys<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<KeyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM tenant_api_keys WHERE tenant_id = $1
          ORDER BY revoked_at IS NOT NULL, created_at DESC"
    )))
    .bind(tenant)
    .fetch_all(db)
    .await
}

pub async fn key<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM tenant_api_keys WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub struct NewKey<'a> {
    pub tenant: Uuid,
    pub key: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub created_by: &'a str,
}

pub async fn insert_key(conn: &mut PgConnection, new: NewKey<'_>) -> Result<KeyRow, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO tenant_api_keys (id, tenant_id, key_hash, key_prefix, name, role, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING {KEY_COLUMNS}"
    )))
    .bind(Uuid::new_v4())
    .bind(new.tenant)
    .bind(hash_api_key(new.key))
    .bind(new.key.chars().take(8).collect::<String>())
    .bind(new.name)
    .bind(new.role)
    .bind(new.created_by)
    .fetch_one(conn)
    .await
}

/// Revokes a live key (and records the key that replaced it, for a rotation). `None` when
/// the tenant has no such live key.
pub async fn revoke_key(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    replaced_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Option<KeyRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE tenant_api_keys SET revoked_at = $3, replaced_by = $4
          WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL
      RETURNING {KEY_COLUMNS}"
    )))
    .bind(tenant)
    .bind(id)
    .bind(now)
    .bind(replaced_by)
    .fetch_optional(conn)
    .await
}
