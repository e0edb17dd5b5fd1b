//! Who may act for a tenant: people (admin users with a role, who sign in with a password)
//! and machine keys. An owner manages people and keys; at least one owner credential (an
//! enabled owner or a live owner key) always remains, so a tenant cannot lock itself out.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::people::{self as db, KeyRow, NewKey, NewUser, TokenOwner, UserChange, UserRow};
use crate::db::tenants::generate_api_key;
use crate::domain::{Email, ParseError};
use crate::services::admin::audit_as;

/// A signed-in person's token starts with this; machine keys with `gmk_`.
pub const SESSION_PREFIX: &str = "gms_";
/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 12;
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including people, keys and unredacted transcripts.
    Owner,
    /// The day's work: bookings, the schedule, the waitlist, notifications.
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw {
            "owner" => Ok(Role::Owner),
            "staff" => Ok(Role::Staff),
            _ => Err(ParseError::new("role", "must be owner or staff")),
        }
    }
}

/// What acted: a person or a machine key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User {
        id: Uuid,
        email: String,
        name: String,
    },
    Key {
        id: Uuid,
        prefix: String,
        name: String,
    },
}

/// An authenticated caller of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: Uuid,
    pub role: Role,
    pub actor: Actor,
}

impl Principal {
    /// The audit rows' actor: `admin_user:<id>` or `admin_key:<id>`.
    pub fn label(&self) -> String {
        match &self.actor {
            Actor::User { id, .. } => format!("admin_user:{id}"),
            Actor::Key { id, .. } => format!("admin_key:{id}"),
        }
    }

    /// Who acted, for an audit payload (the key's public prefix, the user's email).
    pub fn audit_extra(&self) -> serde_json::Value {
        match &self.actor {
            Actor::User { id, email, .. } => json!({"user_id": id, "user_email": email}),
            Actor::Key { id, prefix, .. } => json!({"key_id": id, "key_prefix": prefix}),
        }
    }

    pub fn is_owner(&self) -> bool {
        self.role == Role::Owner
    }

    fn from_owner(row: TokenOwner, user: bool) -> Option<Self> {
        let role = Role::parse(&row.role).ok()?;
        let actor = if user {
            Actor::User {
                id: row.id,
                email: row.label,
                name: row.name,
            }
        } else {
            Actor::Key {
                id: row.id,
                prefix: row.label,
                name: row.name,
            }
        };
        Some(Self {
            tenant: row.tenant_id,
            role,
            actor,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("no such tenant")]
    TenantNotFound,
    #[error("no such user")]
    UserNotFound,
    #[error("no such live key")]
    KeyNotFound,
    #[error("this tenant already has a user with that email")]
    EmailTaken,
    #[error("the tenant would be left without an owner")]
    LastOwner,
    #[error("wrong email or password")]
    BadCredentials,
    #[error("that email signs in to several tenants; say which")]
    TenantRequired,
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Resolves a bearer token (a machine key or a console session) to who it is.
pub async fn principal(
    pool: &PgPool,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Principal>, sqlx::Error> {
    if token.starts_with(SESSION_PREFIX) {
        Ok(db::session_owner(pool, token, now)
            .await?
            .and_then(|r| Principal::from_owner(r, true)))
    } else {
        Ok(db::key_owner(pool, token, now)
            .await?
            .and_then(|r| Principal::from_owner(r, false)))
    }
}

fn check_password(raw: &str) -> Result<&str, ParseError> {
    let n = raw.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        return Err(ParseError::new(
            "password",
            format!("must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(raw)
}

fn check_user_name(raw: Option<&str>) -> Result<String, ParseError> {
    let t = raw.unwrap_or("").trim();
    if t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(ParseError::new(
            "name",
            "must be at most 200 printable characters",
        ));
    }
    Ok(t.to_owned())
}

fn check_key_name(raw: Option<&str>) -> Result<String, ParseError> {
    let t = raw.unwrap_or("").trim();
    if t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(ParseError::new(
            "name",
            "must be at most 100 printable characters",
        ));
    }
    Ok(t.to_owned())
}

/// An argon2id PHC string of the password (the crate's default parameters).
fn hash_password(password: &str) -> Result<String, PeopleError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PeopleError::Hashing(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Runs argon2 off the async workers (it is tens of milliseconds of CPU by design).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PeopleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PeopleError::Hashing(e.to_string()))
}

/// A hash to compare with when no user matched, so a wrong email takes as long as a wrong
/// password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

/// A new session token: the prefix and 32 base62 characters.
fn session_token() -> String {
    let key = generate_api_key();
    let body = key.strip_prefix("gmk_").unwrap_or(&key);
    format!("{SESSION_PREFIX}{body}")
}

#[derive(Debug, Clone, Serialize)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserRow,
}

/// Signs a person in with email and password (of `tenant`, or of the one tenant the email
/// and password match).
pub async fn sign_in(
    pool: &PgPool,
    email: &str,
    password: &str,
    tenant: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<SignedIn, PeopleError> {
    let email = Email::parse(email).map_err(|_| PeopleError::BadCredentials)?;
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(PeopleError::BadCredentials);
    }
    let candidates = db::credentials_by_email(pool, email.as_str(), tenant).await?;
    let password = password.to_owned();
    let hashes: Vec<String> = candidates.iter().map(|c| c.password_hash.clone()).collect();
    let matched: Vec<usize> = blocking(move || {
        if hashes.is_empty() {
            let _ = password_matches(&password, decoy_hash());
            return Vec::new();
        }
        hashes
            .iter()
            .enumerate()
            .filter(|(_, h)| password_matches(&password, h))
            .map(|(i, _)| i)
            .collect()
    })
    .await?;
    let user = match matched.as_slice() {
        [] => return Err(PeopleError::BadCredentials),
        [i] => candidates[*i].user.clone(),
        _ => return Err(PeopleError::TenantRequired),
    };
    let token = session_token();
    let expires_at = now + Duration::hours(SESSION_HOURS);
    let mut tx = pool.begin().await?;
    db::insert_session(&mut tx, &token, &user, expires_at).await?;
    audit_as(
        &mut tx,
        user.tenant_id,
        "admin.signed_in",
        "admin_user",
        user.id,
        &format!("admin_user:{}", user.id),
        json!({"user_email": user.email}),
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

pub async fn sign_out(pool: &PgPool, token: &str, now: DateTime<Utc>) -> Result<bool, PeopleError> {
    Ok(db::revoke_session(pool, token, now).await?)
}

async fn locked(pool: &PgPool, tenant: Uuid) -> Result<sqlx::PgTransaction<'_>, PeopleError> {
    let mut tx = pool.begin().await?;
    if !db::lock_tenant(&mut tx, tenant).await? {
        return Err(PeopleError::TenantNotFound);
    }
    Ok(tx)
}

async fn ensure_an_owner_remains(conn: &mut PgConnection, tenant: Uuid) -> Result<(), PeopleError> {
    if db::owner_credentials(conn, tenant).await? == 0 {
        return Err(PeopleError::LastOwner);
    }
    Ok(())
}

pub struct NewPerson<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: &'a str,
    pub password: &'a str,
}

pub async fn create_user(
    pool: &PgPool,
    by: &Principal,
    new: NewPerson<'_>,
) -> Result<UserRow, PeopleError> {
    let email = Email::parse(new.email)?;
    let name = check_user_name(new.name)?;
    let role = Role::parse(new.role)?;
    let password = check_password(new.password)?.to_owned();
    let hash = blocking(move || hash_password(&password)).await??;
    let mut tx = locked(pool, by.tenant).await?;
    let user = db::insert_user(
        &mut tx,
        NewUser {
            id: Uuid::new_v4(),
            tenant: by.tenant,
            email: email.as_str(),
            name: &name,
            role: role.as_str(),
            password_hash: &hash,
        },
    )
    .await?
    .ok_or(PeopleError::EmailTaken)?;
    audit_as(
        &mut tx,
        by.tenant,
        "admin.user_created",
        "admin_user",
        user.id,
        &by.label(),
        json!({"user_email": user.email, "role": user.role}),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub struct PersonChange<'a> {
    pub name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub password: Option<&'a str>,
    pub disabled: Option<bool>,
}

pub async fn update_user(
    pool: &PgPool,
    by: &Principal,
    id: Uuid,
    change: PersonChange<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow, PeopleError> {
    let name = change.name.map(|n| check_user_name(Some(n))).transpose()?;
    let role = change.role.map(Role::parse).transpose()?;
    let hash = match change.password {
        Some(p) => {
            let p = check_password(p)?.to_owned();
            Some(blocking(move || hash_password(&p)).await??)
        }
        None => None,
    };
    let mut tx = locked(pool, by.tenant).await?;
    let before = db::user(&mut *tx, by.tenant, id)
        .await?
        .ok_or(PeopleError::UserNotFound)?;
    let user = db::update_user(
        &mut tx,
        by.tenant,
        id,
        UserChange {
            name: name.as_deref(),
            role: role.map(Role::as_str),
            password_hash: hash.as_deref(),
            disabled: change.disabled,
        },
        now,
    )
    .await?
    .ok_or(PeopleError::UserNotFound)?;
    ensure_an_owner_remains(&mut tx, by.tenant).await?;
    let lost_access = hash.is_some()
        || (user.disabled_at.is_some() && before.disabled_at.is_none())
        || (user.role != before.role);
    if lost_access {
        db::revoke_user_sessions(&mut tx, id, now).await?;
    }
    audit_as(
        &mut tx,
        by.tenant,
        "admin.user_changed",
        "admin_user",
        id,
        &by.label(),
        json!({
            "user_email": user.email,
            "role": user.role,
            "role_before": before.role,
            "disabled": user.disabled_at.is_some(),
            "password_changed": hash.is_some(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn delete_user(pool: &PgPool, by: &Principal, id: Uuid) -> Result<(), PeopleError> {
    let mut tx = locked(pool, by.tenant).await?;
    let user = db::user(&mut *tx, by.tenant, id)
        .await?
        .ok_or(PeopleError::UserNotFound)?;
    db::delete_user(&mut tx, by.tenant, id).await?;
    ensure_an_owner_remains(&mut tx, by.tenant).await?;
    audit_as(
        &mut tx,
        by.tenant,
        "admin.user_deleted",
        "admin_user",
        id,
        &by.label(),
        json!({"user_email": user.email, "role": user.role}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A key as it is shown once, at creation or rotation.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedKey {
    /// The secret; shown only now, stored only as a digest.
    pub key: String,
    #[serde(flatten)]
    pub row: KeyRow,
}

pub async fn create_key(
    pool: &PgPool,
    by: &Principal,
    name: Option<&str>,
    role: Option<&str>,
) -> Result<IssuedKey, PeopleError> {
    let name = check_key_name(name)?;
    let role = role.map(Role::parse).transpose()?.unwrap_or(Role::Staff);
    let mut tx = locked(pool, by.tenant).await?;
    let issued = issue_key(&mut tx, by, &name, role).await?;
    tx.commit().await?;
    Ok(issued)
}

async fn issue_key(
    tx: &mut PgConnection,
    by: &Principal,
    name: &str,
    role: Role,
) -> Result<IssuedKey, PeopleError> {
    let key = generate_api_key();
    let row = db::insert_key(
        tx,
        NewKey {
            tenant: by.tenant,
            key: &key,
            name,
            role: role.as_str(),
            created_by: &by.label(),
        },
    )
    .await?;
    audit_as(
        tx,
        by.tenant,
        "admin.key_created",
        "api_key",
        row.id,
        &by.label(),
        json!({"key_prefix": row.key_prefix, "name": row.name, "role": row.role}),
    )
    .await?;
    Ok(IssuedKey { key, row })
}

/// A new key with the same name and role; the old one stops working at once.
pub async fn rotate_key(
    pool: &PgPool,
    by: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<IssuedKey, PeopleError> {
    let mut tx = locked(pool, by.tenant).await?;
    let old = db::key(&mut *tx, by.tenant, id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or(PeopleError::KeyNotFound)?;
    let role = Role::parse(&old.role)?;
    let issued = issue_key(&mut tx, by, &old.name, role).await?;
    db::revoke_key(&mut tx, by.tenant, id, Some(issued.row.id), now)
        .await?
        .ok_or(PeopleError::KeyNotFound)?;
    audit_as(
        &mut tx,
        by.tenant,
        "admin.key_rotated",
        "api_key",
        id,
        &by.label(),
        json!({"key_prefix": old.key_prefix, "new_key_prefix": issued.row.key_prefix}),
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

pub async fn revoke_key(
    pool: &PgPool,
    by: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<KeyRow, PeopleError> {
    let mut tx = locked(pool, by.tenant).await?;
    let row = db::revoke_key(&mut tx, by.tenant, id, None, now)
        .await?
        .ok_or(PeopleError::KeyNotFound)?;
    ensure_an_owner_remains(&mut tx, by.tenant).await?;
    audit_as(
        &mut tx,
        by.tenant,
        "admin.key_revoked",
        "api_key",
        id,
        &by.label(),
        json!({"key_prefix": row.key_prefix, "name": row.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn list_users(pool: &PgPool, tenant: Uuid) -> Result<Vec<UserRow>, PeopleError> {
    Ok(db::list_users(pool, tenant).await?)
}

pub async fn list_keys(pool: &PgPool, tenant: Uuid) -> Result<Vec<KeyRow>, PeopleError> {
    Ok(db::list_keys(pool, tenant).await?)
}

/// The scheduler's sweep of ended sessions.
pub async fn purge_sessions(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    db::purge_sessions(pool, now).await
}

/// An owner put in place by a seed (the demo tenant's, for local runs).
#[derive(Debug, Clone, Serialize)]
pub struct SeededOwner {
    pub email: String,
    /// The password when this run set it (given, or minted because the owner was new);
    /// `None` when an existing owner kept the one it had.
    pub password: Option<String>,
    pub created: bool,
}

/// Makes sure `tenant` has an enabled owner with `email`: created when absent (with
/// `password`, or a random one returned once), and when `password` is given an existing
/// one gets it (and the owner role) again, so a script that sets it can always sign in.
/// Audited with the actor `system`.
pub async fn seed_owner(
    pool: &PgPool,
    tenant: Uuid,
    email: &str,
    password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SeededOwner, PeopleError> {
    let email = Email::parse(email)?;
    let given = password.map(check_password).transpose()?.map(str::to_owned);
    let minted = given.is_none().then(|| {
        let key = generate_api_key();
        key.strip_prefix("gmk_").unwrap_or(&key).to_owned()
    });
    let mut tx = locked(pool, tenant).await?;
    let existing = db::list_users(&mut *tx, tenant)
        .await?
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(email.as_str()));
    let (user, set, created) = match existing {
        Some(user) => {
            let Some(pw) = given else {
                return Ok(SeededOwner {
                    email: user.email,
                    password: None,
                    created: false,
                });
            };
            let hashed = pw.clone();
            let hash = blocking(move || hash_password(&hashed)).await??;
            let change = UserChange {
                role: Some(Role::Owner.as_str()),
                password_hash: Some(&hash),
                disabled: Some(false),
                ..Default::default()
            };
            let user = db::update_user(&mut tx, tenant, user.id, change, now)
                .await?
                .ok_or(PeopleError::UserNotFound)?;
            (user, pw, false)
        }
        None => {
            let pw = given.or(minted).unwrap_or_default();
            let hashed = pw.clone();
            let hash = blocking(move || hash_password(&hashed)).await??;
            let user = db::insert_user(
                &mut tx,
                NewUser {
                    id: Uuid::new_v4(),
                    tenant,
                    email: email.as_str(),
                    name: "Demo owner",
                    role: Role::Owner.as_str(),
                    password_hash: &hash,
                },
            )
            .await?
            .ok_or(PeopleError::EmailTaken)?;
            (user, pw, true)
        }
    };
    audit_as(
        &mut tx,
        tenant,
        if created {
            "admin.user_created"
        } else {
            "admin.user_updated"
        },
        "admin_user",
        user.id,
        "system",
        json!({"user_email": user.email, "role": user.role, "seeded": true}),
    )
    .await?;
    tx.commit().await?;
    Ok(SeededOwner {
        email: user.email,
        password: Some(set),
        created,
    })
}
