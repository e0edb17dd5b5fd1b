//! People and keys: signing in to the admin API (and the console), the tenant's admin users
//! with their roles, and its machine keys (created, listed by prefix, rotated, revoked).
//! Managing people and keys is for owners; at least one owner credential always remains.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::db::people::{KeyRow, UserRow};
use gomomo::http::{ApiError, ApiJson, ApiPath, ClientIp};
use gomomo::services::people::{self, Actor, NewPerson, PeopleError, PersonChange, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{tenant_id, uuid_field};
use crate::auth::{bearer_token, tenant_admin, tenant_owner};
use crate::dto::ErrorBody;
use crate::AppState;

fn people_error(e: PeopleError) -> ApiError {
    match e {
        PeopleError::Invalid(p) => p.into(),
        PeopleError::TenantNotFound => ApiError::not_found("tenant_not_found", e.to_string()),
        PeopleError::UserNotFound => ApiError::not_found("user_not_found", e.to_string()),
        PeopleError::KeyNotFound => ApiError::not_found("key_not_found", e.to_string()),
        PeopleError::EmailTaken => {
            ApiError::new(StatusCode::CONFLICT, "email_taken", e.to_string())
        }
        PeopleError::LastOwner => ApiError::new(
            StatusCode::CONFLICT,
            "last_owner",
            "this would leave the tenant without an owner (an enabled owner or a live owner key); add another owner first",
        ),
        PeopleError::BadCredentials => {
            ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string())
        }
        PeopleError::TenantRequired => {
            ApiError::new(StatusCode::CONFLICT, "tenant_required", e.to_string())
        }
        PeopleError::Hashing(_) | PeopleError::Database(_) => ApiError::internal(&e),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    #[schema(format = "email", max_length = 254, example = "owner@clinic.example")]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 256,
        format = "password",
        example = "correct horse battery"
    )]
    pub password: String,
    /// Needed only when the same email and password sign in to several tenants.
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct SignedInView {
    /// Bearer token of this session (`gms_…`); send it as `Authorization: Bearer …`.
    #[schema(
        pattern = "^gms_[A-Za-z0-9]{32}$",
        example = "gms_7hK2pQ9xL4mN8vB3cR6tY1wZ5dF0gJ2s"
    )]
    pub token: String,
    #[schema(example = "2026-12-01T22:05:12Z")]
    pub expires_at: DateTime<Utc>,
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Uuid,
    pub user: UserView,
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(
        format = "email",
        max_length = 254,
        example = "frontdesk@clinic.example"
    )]
    pub email: String,
    #[schema(max_length = 200, example = "Dana Front Desk")]
    pub name: String,
    pub role: Role,
    #[schema(example = false)]
    pub disabled: bool,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: Role::parse(&u.role).unwrap_or(Role::Staff),
            disabled: u.disabled_at.is_some(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct KeyView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    /// The first 8 characters of the key (`gmk_` and 4 more): how a key is recognised.
    #[schema(example = "gmk_3fJ9")]
    pub prefix: String,
    #[schema(max_length = 200, example = "Calendar sync")]
    pub name: String,
    pub role: Role,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who created it (`admin_user:<id>` or `admin_key:<id>`).
    #[schema(example = "admin_user:7a1e5c90-2b3d-4e6f-8a9b-0c1d2e3f4a5b")]
    pub created_by: Option<String>,
    /// The key that replaced this one, when it was rotated.
    #[schema(example = "2c2dee0a-9fbc-4e3c-8bdd-60bd3c4269c1")]
    pub replaced_by: Option<Uuid>,
}

impl From<KeyRow> for KeyView {
    fn from(k: KeyRow) -> Self {
        Self {
            id: k.id,
            prefix: k.key_prefix,
            name: k.name,
            role: Role::parse(&k.role).unwrap_or(Role::Staff),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
            created_by: k.created_by,
            replaced_by: k.replaced_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedKeyView {
    /// The key itself (`gmk_` and 32 characters). Shown only in this response.
    #[schema(
        pattern = "^gmk_[A-Za-z0-9]{32}$",
        example = "gmk_3fJ9kQ2mX7pL0vB8nR4tY6wZ1cD5hG2s"
    )]
    pub key: String,
    #[serde(flatten)]
    pub view: KeyView,
}

impl From<people::IssuedKey> for IssuedKeyView {
    fn from(issued: people::IssuedKey) -> Self {
        Self {
            key: issued.key,
            view: issued.row.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeView {
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Uuid,
    pub role: Role,
    /// `user` (a signed-in person) or `key` (a machine key).
    #[schema(value_type = PrincipalKind, example = "user")]
    pub kind: String,
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    /// The person's email, or the key's prefix.
    #[schema(example = "frontdesk@clinic.example")]
    pub label: String,
    #[schema(example = "Dana Front Desk")]
    pub name: String,
}

/// Who is signed in: a person or a machine key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Key,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(
        format = "email",
        max_length = 254,
        example = "frontdesk@clinic.example"
    )]
    pub email: String,
    #[schema(max_length = 200, example = "Dana Front Desk")]
    pub name: Option<String>,
    pub role: Role,
    /// 12 to 256 characters.
    #[schema(
        min_length = 12,
        max_length = 256,
        format = "password",
        example = "correct horse battery"
    )]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    #[schema(max_length = 200, example = "Dana Front Desk")]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// A new password (12 to 256 characters); the user's sessions end.
    #[schema(
        min_length = 12,
        max_length = 256,
        format = "password",
        example = "correct horse battery"
    )]
    pub password: Option<String>,
    /// true disables the user (their sessions end); false enables them again.
    #[schema(example = false)]
    pub disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateKeyRequest {
    #[schema(max_length = 100, example = "booking sync")]
    pub name: Option<String>,
    /// Default `staff`.
    pub role: Option<Role>,
}

/// Sign a person in.
#[utoipa::path(post, path = "/api/admin/sign-in", request_body = SignInRequest,
    responses((status = 200, body = SignedInView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody, description = "bad_credentials"),
        (status = 409, body = ErrorBody, description = "tenant_required"),
        (status = 429, body = ErrorBody, description = "rate_limited")))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<SignedInView>, ApiError> {
    state.budgets.sign_in(ip).await?;
    let now = state.booking.clock().now();
    let done = people::sign_in(state.pool(), &req.email, &req.password, req.tenant_id, now)
        .await
        .map_err(people_error)?;
    Ok(Json(SignedInView {
        token: done.token,
        expires_at: done.expires_at,
        tenant_id: done.user.tenant_id,
        user: done.user.into(),
    }))
}

/// End this session.
#[utoipa::path(post, path = "/api/admin/sign-out", security(("api_key" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = bearer_token(&headers)
        .filter(|t| t.starts_with(people::SESSION_PREFIX))
        .ok_or_else(ApiError::unauthorized)?;
    let now = state.booking.clock().now();
    if people::sign_out(state.pool(), token, now)
        .await
        .map_err(people_error)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::unauthorized())
    }
}

/// Who this credential is.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/me", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<MeView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let p = tenant_admin(&state, &headers, tenant).await?;
    let (kind, id, label, name) = match p.actor {
        Actor::User { id, email, name } => ("user", id, email, name),
        Actor::Key { id, prefix, name } => ("key", id, prefix, name),
    };
    Ok(Json(MeView {
        tenant_id: p.tenant,
        role: p.role,
        kind: kind.into(),
        id,
        label,
        name,
    }))
}

/// List the people (owners only).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/users", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    responses((status = 200, body = [UserView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    let rows = people::list_users(state.pool(), tenant.0)
        .await
        .map_err(people_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a person (owners only).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/users", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = CreateUserRequest, security(("api_key" = [])),
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "owner_required"), (status = 409, body = ErrorBody, description = "email_taken")))]
pub async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    let user = people::create_user(
        state.pool(),
        &by,
        NewPerson {
            email: &req.email,
            name: req.name.as_deref(),
            role: req.role.as_str(),
            password: &req.password,
        },
    )
    .await
    .map_err(people_error)?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Change a person (owners only).
#[utoipa::path(patch, path = "/api/admin/tenants/{tenant}/users/{user}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("user" = uuid::Uuid, Path, description = "A person's id", example = "ee11cbb1-9052-440b-87aa-c0ca060c23ee")),
    request_body = UpdateUserRequest, security(("api_key" = [])),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "user_not_found"), (status = 409, body = ErrorBody, description = "last_owner")))]
pub async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, user)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let user = uuid_field("user", &user)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    let now = state.booking.clock().now();
    let row = people::update_user(
        state.pool(),
        &by,
        user,
        PersonChange {
            name: req.name.as_deref(),
            role: req.role.map(Role::as_str),
            password: req.password.as_deref(),
            disabled: req.disabled,
        },
        now,
    )
    .await
    .map_err(people_error)?;
    Ok(Json(row.into()))
}

/// Remove a person (owners only).
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/users/{user}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("user" = uuid::Uuid, Path, description = "A person's id", example = "ee11cbb1-9052-440b-87aa-c0ca060c23ee")), security(("api_key" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "last_owner")))]
pub async fn delete_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, user)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let user = uuid_field("user", &user)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    people::delete_user(state.pool(), &by, user)
        .await
        .map_err(people_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the API keys by prefix (owners only).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/keys", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    responses((status = 200, body = [KeyView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<KeyView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    let rows = people::list_keys(state.pool(), tenant.0)
        .await
        .map_err(people_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Create an API key, shown once (owners only).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/keys", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    request_body = CreateKeyRequest, security(("api_key" = [])),
    responses((status = 201, body = IssuedKeyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<IssuedKeyView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    let issued = people::create_key(
        state.pool(),
        &by,
        req.name.as_deref(),
        req.role.map(Role::as_str),
    )
    .await
    .map_err(people_error)?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Replace an API key with a new one (owners only).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/keys/{key}/rotate",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("key" = uuid::Uuid, Path, description = "A key's id", example = "3c6e0b8a-9c15-424a-8228-b9a98ca1531d")), security(("api_key" = [])),
    responses((status = 201, body = IssuedKeyView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "key_not_found")))]
pub async fn rotate_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, key)): ApiPath<(String, String)>,
) -> Result<(StatusCode, Json<IssuedKeyView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    let key = uuid_field("key", &key)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    let now = state.booking.clock().now();
    let issued = people::rotate_key(state.pool(), &by, key, now)
        .await
        .map_err(people_error)?;
    Ok((StatusCode::CREATED, Json(issued.into())))
}

/// Revoke an API key (owners only).
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/keys/{key}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("key" = uuid::Uuid, Path, description = "A key's id", example = "3c6e0b8a-9c15-424a-8228-b9a98ca1531d")), security(("api_key" = [])),
    responses((status = 200, body = KeyView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "key_not_found"), (status = 409, body = ErrorBody, description = "last_owner")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, key)): ApiPath<(String, String)>,
) -> Result<Json<KeyView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let key = uuid_field("key", &key)?;
    let by = tenant_owner(&state, &headers, tenant).await?;
    let now = state.booking.clock().now();
    let row = people::revoke_key(state.pool(), &by, key, now)
        .await
        .map_err(people_error)?;
    Ok(Json(row.into()))
}
