//! The autonomy policy rules: the global defaults (read-only here) and the tenant's own,
//! which take precedence. Rules name a registered tool and conditions on the decision's
//! context; anything else is refused with the list of what exists.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::db::policy::PolicyRow;
use gomomo::http::{ApiError, ApiJson, ApiPath};
use gomomo::services::autonomy::policy::{self, PolicyDraft, PolicyError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{tenant_id, uuid_field};
use crate::auth::{tenant_admin, tenant_owner};
use crate::dto::ErrorBody;
use crate::AppState;

fn policy_error(e: PolicyError) -> ApiError {
    match e {
        PolicyError::Invalid { field, .. } => ApiError::bad_request(
            match field {
                "action" => "invalid_action",
                "effect" => "invalid_effect",
                "priority" => "invalid_priority",
                "description" => "invalid_description",
                _ => "invalid_conditions",
            },
            e.to_string(),
        ),
        PolicyError::NotFound => ApiError::not_found("policy_not_found", e.to_string()),
        PolicyError::Database(_) => ApiError::internal(&e),
    }
}

/// allow or deny.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyEffect {
    Allow,
    Deny,
}

impl PolicyEffect {
    fn as_str(self) -> &'static str {
        match self {
            PolicyEffect::Allow => "allow",
            PolicyEffect::Deny => "deny",
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PolicyRequest {
    /// A registered tool: send_confirmation, send_cancellation, send_reminder,
    /// retry_calendar_sync, escalate_calendar_failure, send_hold_followup,
    /// send_waitlist_notification, send_contact_followup, send_no_show_followup.
    #[schema(pattern = "^[a-z_]{1,64}$", example = "send_reminder")]
    pub action: String,
    pub effect: PolicyEffect,
    /// Every entry must hold for the rule to apply: `field: value` (equal), `min_field`,
    /// `max_field` (bounds). Fields: event_type, channel, hours_until_start, rescheduled,
    /// operation, error_kind, attempts, no_shows, phase, attempt, reminder.
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"reminder": "2h"}))]
    pub conditions: serde_json::Map<String, serde_json::Value>,
    /// Higher first among the tenant's rules (-1000 to 1000, default 0).
    #[serde(default)]
    #[schema(minimum = -1000, maximum = 1000, example = 10)]
    pub priority: i32,
    /// Default true.
    #[schema(example = true)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 500, example = "No reminders by SMS")]
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct PolicyView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    /// Null for a global default (read-only).
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Option<Uuid>,
    /// A registered tool (see the request's `action`).
    #[schema(pattern = "^[a-z_]{1,64}$", example = "send_reminder")]
    pub action: String,
    #[schema(value_type = PolicyEffect)]
    pub effect: String,
    #[schema(value_type = Object)]
    pub conditions: serde_json::Value,
    /// Higher first among the tenant's rules.
    #[schema(minimum = -1000, maximum = 1000, example = 10)]
    pub priority: i32,
    #[schema(example = true)]
    pub enabled: bool,
    #[schema(max_length = 500, example = "No reminders by SMS")]
    pub description: String,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
}

impl From<PolicyRow> for PolicyView {
    fn from(r: PolicyRow) -> Self {
        Self {
            id: r.id,
            tenant_id: r.tenant_id,
            action: r.action,
            effect: r.effect,
            conditions: r.conditions,
            priority: r.priority,
            enabled: r.enabled,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

fn draft(req: &PolicyRequest) -> PolicyDraft<'_> {
    PolicyDraft {
        action: &req.action,
        effect: req.effect.as_str(),
        conditions: &req.conditions,
        priority: req.priority,
        enabled: req.enabled.unwrap_or(true),
        description: &req.description,
    }
}

/// The tenant's rules and the global defaults, by action (tenant rules first).
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/policies",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = [PolicyView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_policies(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<PolicyView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = policy::list_rules(state.pool(), tenant.0)
        .await
        .map_err(policy_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a rule of the tenant (owners only).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/policies",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = PolicyRequest,
    security(("api_key" = [])),
    responses((status = 201, body = PolicyView), (status = 400, body = ErrorBody, description = "invalid_action, invalid_conditions, …"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "owner_required")))]
pub async fn create_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<PolicyRequest>,
) -> Result<(StatusCode, Json<PolicyView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_owner(&state, &headers, tenant).await?;
    let row = policy::write_rule(state.pool(), tenant.0, None, Some(&draft(&req)))
        .await
        .map_err(policy_error)?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Replace a rule of the tenant (owners only).
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/policies/{policy}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("policy" = uuid::Uuid, Path, description = "A rule's id", example = "f4af8b57-8957-4c00-8ce9-105b25609bd6")),
    request_body = PolicyRequest, security(("api_key" = [])),
    responses((status = 200, body = PolicyView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "policy_not_found (global rules are read-only)")))]
pub async fn update_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<PolicyRequest>,
) -> Result<Json<PolicyView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let id = uuid_field("policy", &id)?;
    tenant_owner(&state, &headers, tenant).await?;
    let row = policy::write_rule(state.pool(), tenant.0, Some(id), Some(&draft(&req)))
        .await
        .map_err(policy_error)?;
    Ok(Json(row.into()))
}

/// Remove a rule of the tenant (owners only).
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/policies/{policy}",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("policy" = uuid::Uuid, Path, description = "A rule's id", example = "f4af8b57-8957-4c00-8ce9-105b25609bd6")),
    security(("api_key" = [])),
    responses((status = 200, body = PolicyView, description = "the rule as it was"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "policy_not_found")))]
pub async fn delete_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<PolicyView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let id = uuid_field("policy", &id)?;
    tenant_owner(&state, &headers, tenant).await?;
    let row = policy::write_rule(state.pool(), tenant.0, Some(id), None)
        .await
        .map_err(policy_error)?;
    Ok(Json(row.into()))
}
