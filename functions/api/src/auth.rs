//! Bearer-key checks for admin routes.

use axum::http::HeaderMap;
use gomomo::db::tenants;
use gomomo::domain::TenantId;
use gomomo::http::ApiError;
use gomomo::services::privacy::Requester;
pub(crate) use sha2_compat::digest_eq;

use crate::AppState;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The key must be a live key of this very tenant. A valid key of another tenant is 403.
pub async fn tenant_admin(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
) -> Result<(), ApiError> {
    tenant_admin_key(state, headers, tenant).await.map(|_| ())
}

/// [`tenant_admin`], and which key asked (for the audit rows of privacy requests).
pub async fn tenant_admin_key(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
) -> Result<Requester, ApiError> {
    let key = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    match tenants::api_key_owner(state.pool(), key)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        None => Err(ApiError::unauthorized()),
        Some((owner, key_id, key_prefix)) if owner == tenant.0 => {
            Ok(Requester { key_id, key_prefix })
        }
        Some(_) => Err(ApiError::forbidden(
            "wrong_tenant",
            "this API key belongs to another tenant",
        )),
    }
}

/// Platform routes (creating tenants) need `GOMOMO_PLATFORM_KEY`; without it they are off.
pub fn platform_admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = state.platform_key.as_deref() else {
        return Err(ApiError::forbidden(
            "platform_admin_disabled",
            "set GOMOMO_PLATFORM_KEY to enable tenant creation over HTTP",
        ));
    };
    let key = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    if digest_eq(key, expected) {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

mod sha2_compat {
    /// Compares the SHA-256 digests of both strings without an early exit, so the time taken
    /// does not reveal how much of a guessed key was right.
    pub fn digest_eq(a: &str, b: &str) -> bool {
        let da = gomomo::db::tenants::hash_api_key(a);
        let db = gomomo::db::tenants::hash_api_key(b);
        da.iter()
            .zip(db.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
            && da.len() == db.len()
    }
}
