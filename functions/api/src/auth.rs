//! Bearer checks for admin routes: machine keys (`gmk_…`) and console sessions (`gms_…`).

use axum::http::HeaderMap;
use gomomo::domain::TenantId;
use gomomo::http::ApiError;
use gomomo::services::people::{self, Principal};
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

/// The caller must be a live key or a signed-in person of this very tenant; a valid
/// credential of another tenant is 403. From here on, the request's audit rows name the
/// caller.
pub async fn tenant_admin(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
) -> Result<Principal, ApiError> {
    let token = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    let now = state.booking.clock().now();
    match people::principal(state.pool(), token, now)
        .await
        .map_err(|e| ApiError::internal(&e))?
    {
        None => Err(ApiError::unauthorized()),
        Some(p) if p.tenant == tenant.0 => {
            gomomo::db::audit::set_acting(p.label());
            Ok(p)
        }
        Some(_) => Err(ApiError::forbidden(
            "wrong_tenant",
            "this credential belongs to another tenant",
        )),
    }
}

/// [`tenant_admin`] for what only an owner may do (people, keys, unredacted transcripts).
pub async fn tenant_owner(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
) -> Result<Principal, ApiError> {
    let p = tenant_admin(state, headers, tenant).await?;
    if !p.is_owner() {
        return Err(ApiError::forbidden(
            "owner_required",
            "only an owner of this tenant may do this",
        ));
    }
    Ok(p)
}

/// The bearer token itself (signing out ends the session of this very token).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    bearer(headers)
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
