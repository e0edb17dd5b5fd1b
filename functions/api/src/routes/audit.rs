//! The audit trail: every change at the tenant, newest first, naming who acted (the
//! person's email or the key's prefix beside the actor id).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::db::audit::{self, AuditFilter, AuditRow};
use gomomo::http::{ApiError, ApiPath, ApiQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{instant_field, tenant_id};
use crate::auth::tenant_admin;
use crate::dto::ErrorBody;
use crate::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only rows about this entity (a booking's id, a hold's id, …).
    #[param(max_length = 100, example = "3f6c1a2b-8d4e-4f7a-9b0c-1d2e3f4a5b6c")]
    pub entity_id: Option<String>,
    /// Only this event, e.g. `booking.cancelled`.
    #[param(max_length = 100, example = "booking.cancelled")]
    pub event_type: Option<String>,
    /// Only this actor, e.g. `admin_user:<id>`, `client`, `system`.
    #[param(max_length = 100, example = "system")]
    pub actor: Option<String>,
    /// From this instant (RFC 3339, inclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    pub from: Option<String>,
    /// Up to this instant (RFC 3339, exclusive).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-02T00:00:00Z")]
    pub to: Option<String>,
    /// The next page: rows with an id below this one.
    #[param(minimum = 1, example = 1042)]
    pub before_id: Option<i64>,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    #[schema(example = 1042)]
    pub id: i64,
    /// What happened, `<entity>.<verb>`.
    #[schema(example = "booking.confirmed")]
    pub event_type: String,
    #[schema(example = "appointment")]
    pub entity_type: String,
    /// The entity's id (a UUID for most entities).
    #[schema(example = "3f6c1a2b-8d4e-4f7a-9b0c-1d2e3f4a5b6c")]
    pub entity_id: Option<String>,
    /// `client`, `agent`, `system`, …, or `admin_user:<id>` / `admin_key:<id>`.
    #[schema(example = "admin_user:7a1e5c90-2b3d-4e6f-8a9b-0c1d2e3f4a5b")]
    pub actor: String,
    /// The acting person's email or key's prefix.
    #[schema(example = "owner@clinic.example")]
    pub actor_label: Option<String>,
    /// Redacted when it was written.
    pub payload: serde_json::Value,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
}

impl From<AuditRow> for AuditView {
    fn from(r: AuditRow) -> Self {
        Self {
            id: r.id,
            event_type: r.event_type,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            actor: r.actor,
            actor_label: r.actor_label,
            payload: r.payload,
            created_at: r.created_at,
        }
    }
}

fn short(field: &'static str, v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 100 => Err(ApiError::bad_request(
            "invalid_query",
            format!("{field} is longer than 100 characters"),
        )),
        other => Ok(other.map(str::to_owned)),
    }
}

/// The audit trail, newest first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/audit", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), AuditQuery),
    security(("api_key" = [])),
    responses((status = 200, body = [AuditView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let entity_id = short("entity_id", q.entity_id.as_deref())?;
    let event_type = short("event_type", q.event_type.as_deref())?;
    let actor = short("actor", q.actor.as_deref())?;
    let from = q
        .from
        .as_deref()
        .map(|f| instant_field("from", f))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|t| instant_field("to", t))
            .transpose()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be 1 to 500",
        ));
    }
    let rows = audit::list(
        state.pool(),
        tenant.0,
        &AuditFilter {
            entity_id: entity_id.as_deref(),
            event_type: event_type.as_deref(),
            actor: actor.as_deref(),
            from,
            to,
            before_id: q.before_id,
            limit,
        },
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
