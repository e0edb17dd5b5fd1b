//! Admin routes of the resources' calendars: the connections with their health, connecting
//! a resource's Google calendar, and disconnecting (removing our future events or leaving
//! them).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::adapters::calendars::{ConnectError, DisconnectError};
use gomomo::db::calendars::ConnectionRow;
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::delivery::{
    cleared_state_cookie_for, sent_state_cookie, start_google_flow, state_cookie_for,
    CallbackQuery, ConnectView, ConnectedView,
};
use super::{tenant_id, uuid_field};
use crate::auth::{digest_eq, tenant_admin};
use crate::dto::ErrorBody;
use crate::AppState;

/// A calendar provider.
#[derive(ToSchema)]
#[schema(example = "caldav")]
#[allow(dead_code)]
pub enum CalendarProviderName {
    #[schema(rename = "google")]
    Google,
    #[schema(rename = "caldav")]
    Caldav,
    #[schema(rename = "microsoft")]
    Microsoft,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarConnectionView {
    #[schema(example = "0b7c5a53-3f43-4e0a-9d3e-5d2f6c1e9a11")]
    pub id: Uuid,
    #[schema(example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")]
    pub resource_id: Uuid,
    #[schema(max_length = 200, example = "Dr. Lee")]
    pub resource_name: String,
    #[schema(value_type = CalendarProviderName)]
    pub provider: String,
    /// The calendar written to: Google's `primary`, the CalDAV collection's URL, or
    /// Microsoft's default calendar.
    #[schema(
        max_length = 2000,
        example = "https://dav.clinic.example/calendars/lee/work/"
    )]
    pub calendar: String,
    /// The CalDAV account (no secret is ever returned).
    #[schema(max_length = 320, example = "lee@clinic.example")]
    pub username: Option<String>,
    #[schema(format = DateTime, example = "2026-12-01T09:00:00Z")]
    pub connected_at: DateTime<Utc>,
    /// The last call to the calendar that worked.
    #[schema(format = DateTime, example = "2026-12-01T09:30:00Z")]
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last call that failed, and why.
    #[schema(format = DateTime, example = "2026-12-01T09:31:00Z")]
    pub last_error_at: Option<DateTime<Utc>>,
    #[schema(max_length = 500, example = "calendar network error")]
    pub last_error: Option<String>,
    /// Set when the provider refused the credentials (revoked consent, a changed app
    /// password): the resource's slots are withheld until it is connected again.
    #[schema(format = DateTime, example = "2026-12-01T09:31:00Z")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl CalendarConnectionView {
    fn new(c: ConnectionRow, resource_name: String) -> Self {
        Self {
            id: c.id,
            resource_id: c.resource_id,
            resource_name,
            calendar: c.calendar_url.unwrap_or(c.calendar_id),
            provider: c.provider,
            username: c.username,
            connected_at: c.connected_at,
            last_success_at: c.last_success_at,
            last_error_at: c.last_error_at,
            last_error: c.last_error,
            revoked_at: c.revoked_at,
        }
    }
}

/// The resources' calendar connections.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/calendars",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    description = "Every resource's calendar connection: its provider, the calendar, when it last worked and when it last failed (and why), and whether the provider refused the credentials.",
    responses((status = 200, body = [CalendarConnectionView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_calendars(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<CalendarConnectionView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = state
        .integrations
        .calendars
        .list(tenant.0)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(
        rows.into_iter()
            .map(|(c, name)| CalendarConnectionView::new(c, name))
            .collect(),
    ))
}

/// The resource `raw` of `tenant`, or 404 `resource_not_found`.
pub(crate) async fn tenant_resource(
    state: &AppState,
    tenant: Uuid,
    raw: &str,
) -> Result<Uuid, ApiError> {
    let resource = uuid_field("resource_id", raw)?;
    let found = state
        .integrations
        .calendars
        .resource_of_tenant(tenant, resource)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if found {
        Ok(resource)
    } else {
        Err(ApiError::not_found(
            "resource_not_found",
            "no such resource at this tenant",
        ))
    }
}

/// Start connecting a resource's Google calendar.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/resources/{resource}/calendar/google/connect",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")),
    security(("api_key" = [])),
    description = "Returns Google's consent URL for this resource's calendar (it replaces any calendar the resource had). Sets the HttpOnly cookie the callback checks, so open the URL in the browser that called this.",
    responses((status = 200, body = ConnectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "resource_not_found", body = ErrorBody),
        (status = 503, description = "calendar_not_configured", body = ErrorBody)))]
pub async fn google_connect_resource(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tid = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tid).await?;
    let resource = tenant_resource(&state, tid.0, &resource).await?;
    let (url, cookie) = start_google_flow(&state, &headers, &tenant, Some(resource)).await?;
    let mut res = Json(ConnectView {
        authorization_url: url,
    })
    .into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
pub struct CalDavConnectRequest {
    /// The CalDAV server (or the account's principal or calendar URL). https; it must
    /// resolve to public addresses (loopback, private and link-local addresses are refused
    /// with `calendar_url_refused`). Plain http is accepted in development only.
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://caldav.fastmail.com/"
    )]
    pub server_url: String,
    #[schema(min_length = 1, max_length = 320, example = "lee@clinic.example")]
    pub username: String,
    /// An app password (stored encrypted, never returned).
    #[schema(min_length = 1, max_length = 1000, format = Password, example = "abcd-efgh-ijkl-mnop")]
    pub password: String,
    /// One of the account's calendars (from discovery); none: the first that takes events.
    #[serde(default)]
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://caldav.fastmail.com/dav/calendars/user/lee@clinic.example/work/"
    )]
    pub calendar_url: Option<String>,
}

/// Connect a resource's CalDAV calendar.
#[utoipa::path(put, path = "/api/admin/tenants/{tenant}/resources/{resource}/calendar/caldav",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")),
    request_body = CalDavConnectRequest, security(("api_key" = [])),
    description = "Signs in to the CalDAV account (iCloud, Fastmail, Nextcloud, any RFC 4791 server), discovers its calendars (principal, calendar home, calendars that take events) and connects the chosen one to the resource, replacing any calendar it had. The resource's bookings are written there and its busy time read back. Audited `calendar.connected`.",
    responses((status = 200, body = CalendarConnectionView),
        (status = 400, description = "invalid_server_url, invalid_username, invalid_password, calendar_url_refused, calendar_credentials_refused, no_calendar_found", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "resource_not_found", body = ErrorBody),
        (status = 502, description = "calendar_unreachable", body = ErrorBody),
        (status = 503, description = "calendar_not_configured", body = ErrorBody)))]
pub async fn connect_caldav(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<CalDavConnectRequest>,
) -> Result<Json<CalendarConnectionView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let principal = tenant_admin(&state, &headers, tenant).await?;
    let resource = tenant_resource(&state, tenant.0, &resource).await?;
    let (row, name) = state
        .integrations
        .calendars
        .connect_caldav(
            tenant.0,
            resource,
            &req.server_url,
            &req.username,
            &req.password,
            req.calendar_url.as_deref(),
            &principal.label(),
        )
        .await
        .map_err(connect_error)?;
    Ok(Json(CalendarConnectionView::new(row, name)))
}

/// Where Microsoft sends the browser back (the state cookie is sent there only).
const MICROSOFT_CALLBACK: &str = "/api/oauth/microsoft/callback";

fn connect_error(e: ConnectError) -> ApiError {
    match e {
        ConnectError::Invalid { field, .. } => ApiError::bad_request(
            match field {
                "server_url" => "invalid_server_url",
                "username" => "invalid_username",
                _ => "invalid_password",
            },
            e.to_string(),
        ),
        ConnectError::Refused(_) => ApiError::bad_request("calendar_url_refused", e.to_string()),
        ConnectError::Auth => ApiError::bad_request("calendar_credentials_refused", e.to_string()),
        ConnectError::NoCalendar => ApiError::bad_request("no_calendar_found", e.to_string()),
        ConnectError::BadState => ApiError::bad_request("invalid_oauth_state", e.to_string()),
        ConnectError::Unreachable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "calendar_unreachable",
            e.to_string(),
        ),
        ConnectError::NotConfigured => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "calendar_not_configured",
            e.to_string(),
        ),
        ConnectError::Database(_) => ApiError::internal(&e),
    }
}

fn secure_callback(state: &AppState) -> bool {
    state
        .integrations
        .calendars
        .microsoft_redirect_url()
        .is_some_and(|u| u.starts_with("https://"))
}

/// Start connecting a resource's Microsoft 365 calendar.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/resources/{resource}/calendar/microsoft/connect",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204")),
    security(("api_key" = [])),
    description = "Returns Microsoft's consent URL for this resource's Outlook calendar (authorization code with PKCE; the verifier stays on the server). It replaces any calendar the resource had. Sets the HttpOnly cookie the callback checks, so open the URL in the browser that called this.",
    responses((status = 200, body = ConnectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "resource_not_found", body = ErrorBody),
        (status = 503, description = "calendar_not_configured", body = ErrorBody)))]
pub async fn microsoft_connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let resource = tenant_resource(&state, tenant.0, &resource).await?;
    let (url, minted) = state
        .integrations
        .calendars
        .start_microsoft(tenant.0, resource)
        .await
        .map_err(connect_error)?;
    let mut res = Json(ConnectView {
        authorization_url: url,
    })
    .into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        state_cookie_for(MICROSOFT_CALLBACK, &minted, secure_callback(&state)),
    );
    Ok(res)
}

/// Microsoft sends the admin's browser here after the consent; the one-time state proves
/// which tenant and resource started it, and the cookie that this browser did.
#[utoipa::path(get, path = "/api/oauth/microsoft/callback", params(CallbackQuery),
    responses((status = 200, body = ConnectedView),
        (status = 400, description = "invalid_oauth_state (unknown, spent or expired, or not started in this browser), invalid_oauth_callback, oauth_refused, calendar_credentials_refused", body = ErrorBody),
        (status = 502, description = "calendar_unreachable", body = ErrorBody),
        (status = 503, description = "calendar_not_configured", body = ErrorBody)))]
pub async fn microsoft_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let secure = secure_callback(&state);
    let outcome = async {
        if let Some(e) = q.error {
            return Err(ApiError::bad_request(
                "oauth_refused",
                format!("the authorization was not granted: {e}"),
            ));
        }
        let (Some(st), Some(code)) = (q.state, q.code) else {
            return Err(ApiError::bad_request(
                "invalid_oauth_callback",
                "state and code are required",
            ));
        };
        if !sent_state_cookie(&headers).is_some_and(|c| digest_eq(c, &st)) {
            return Err(ApiError::bad_request(
                "invalid_oauth_state",
                "this sign-in was not started in this browser; start it again from the admin page",
            ));
        }
        state
            .integrations
            .calendars
            .finish_microsoft(&st, &code)
            .await
            .map_err(connect_error)
    }
    .await;
    let mut res = match outcome {
        Ok(tenant) => Json(ConnectedView {
            tenant_id: tenant,
            connected: true,
        })
        .into_response(),
        Err(e) => e.into_response(),
    };
    res.headers_mut().append(
        header::SET_COOKIE,
        cleared_state_cookie_for(MICROSOFT_CALLBACK, secure),
    );
    Ok(res)
}

/// What to do with our events that have not happened yet.
#[derive(ToSchema)]
#[schema(example = "remove")]
#[allow(dead_code)]
pub enum FutureEvents {
    #[schema(rename = "remove")]
    Remove,
    #[schema(rename = "keep")]
    Keep,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DisconnectQuery {
    /// Required: `remove` deletes our events that have not ended from the calendar first,
    /// `keep` leaves them there.
    #[param(value_type = FutureEvents, inline)]
    pub future_events: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DisconnectedView {
    #[schema(value_type = CalendarProviderName)]
    pub provider: String,
    /// Future events deleted from the calendar.
    #[schema(minimum = 0, example = 3)]
    pub removed: usize,
    /// Future events left in it.
    #[schema(minimum = 0, example = 0)]
    pub left: usize,
}

/// Disconnect a resource's calendar.
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/resources/{resource}/calendar",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("resource" = uuid::Uuid, Path, description = "A resource's id", example = "96ab4e16-3f4e-403a-8a4d-1051aa51d204"), DisconnectQuery),
    security(("api_key" = [])),
    description = "Disconnects the resource's calendar; `future_events` says whether our events that have not ended are removed from it first or left. When some cannot be removed, nothing is disconnected (502 `calendar_unreachable`). Audited `calendar.disconnected`.",
    responses((status = 200, body = DisconnectedView),
        (status = 400, description = "invalid_future_events", body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, description = "resource_not_found, calendar_not_connected", body = ErrorBody),
        (status = 502, description = "calendar_unreachable", body = ErrorBody)))]
pub async fn disconnect_calendar(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, resource)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<DisconnectQuery>,
) -> Result<Json<DisconnectedView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let principal = tenant_admin(&state, &headers, tenant).await?;
    let resource = tenant_resource(&state, tenant.0, &resource).await?;
    let remove = match q.future_events.as_deref() {
        Some("remove") => true,
        Some("keep") => false,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_future_events",
                "future_events must be remove (delete our future events from the calendar) or keep (leave them)",
            ))
        }
    };
    let done = state
        .integrations
        .calendars
        .disconnect(tenant.0, resource, remove, &principal.label())
        .await
        .map_err(|e| match e {
            DisconnectError::NotConnected => {
                ApiError::not_found("calendar_not_connected", e.to_string())
            }
            DisconnectError::Unreachable { .. } => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "calendar_unreachable",
                e.to_string(),
            ),
            DisconnectError::Database(_) => ApiError::internal(&e),
        })?;
    Ok(Json(DisconnectedView {
        provider: done.provider,
        removed: done.removed,
        left: done.left,
    }))
}
