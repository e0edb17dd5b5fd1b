//! Admin routes of delivery and integrations, behind the tenant API key:
//! webhook endpoints (the signing secret is shown once, at creation), webhook deliveries
//! with their dead letters (and sending one again), and the Google Calendar OAuth flow.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gomomo::adapters::google::OAuthError;
use gomomo::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use gomomo::services::delivery::webhooks::{
    self, DeliveryRow, DeliveryStatus, EndpointRow, WebhookError,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{tenant_id, uuid_field};
use crate::auth::{digest_eq, tenant_admin};
use crate::dto::ErrorBody;
use crate::AppState;

fn webhook_error(e: WebhookError) -> ApiError {
    match e {
        WebhookError::Invalid { field, reason } => ApiError::bad_request(
            match field {
                "url" => "invalid_url",
                "description" => "invalid_description",
                _ => "invalid_event_types",
            },
            format!("{field} {reason}"),
        ),
        WebhookError::Refused(_) => ApiError::bad_request("webhook_url_refused", e.to_string()),
        WebhookError::NotFound => ApiError::not_found("webhook_not_found", e.to_string()),
        WebhookError::TooMany => {
            ApiError::new(StatusCode::CONFLICT, "too_many_webhooks", e.to_string())
        }
        WebhookError::Crypto(_) | WebhookError::Database(_) => ApiError::internal(&e),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWebhookRequest {
    /// https URL (plain http is accepted in development only). Its host must resolve to
    /// public addresses: loopback, private, link-local (cloud metadata), CGNAT, multicast
    /// and unspecified addresses are refused with `webhook_url_refused`.
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://hooks.clinic.example/gomomo"
    )]
    pub url: String,
    /// Event names to send (`BookingCreated`, …); empty or missing = every event.
    #[serde(default)]
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 500, example = "Front-desk dashboard")]
    pub description: String,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateWebhookRequest {
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://hooks.clinic.example/gomomo"
    )]
    pub url: Option<String>,
    /// Replaces the list; empty = every event.
    #[schema(value_type = Option<Vec<EventType>>)]
    pub event_types: Option<Vec<String>>,
    #[schema(example = true)]
    pub enabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://hooks.clinic.example/gomomo"
    )]
    pub url: String,
    /// The events sent; empty = every event.
    #[schema(value_type = Vec<EventType>)]
    pub event_types: Vec<String>,
    #[schema(example = true)]
    pub enabled: bool,
    #[schema(max_length = 500, example = "Front-desk dashboard")]
    pub description: String,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub updated_at: DateTime<Utc>,
}

/// An event a webhook can be sent.
#[derive(Serialize, ToSchema)]
pub enum EventType {
    BookingCreated,
    BookingCancelled,
    BookingRescheduled,
    HoldExpired,
    SlotOpened,
    CalendarWriteFailed,
    CalendarRetryExhausted,
    WaitlistMatched,
    FollowupRequested,
    NoShowRecorded,
}

impl From<EndpointRow> for WebhookView {
    fn from(e: EndpointRow) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            enabled: e.enabled,
            description: e.description,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedWebhookView {
    #[serde(flatten)]
    pub endpoint: WebhookView,
    /// HMAC-SHA256 key of the `Gomomo-Signature` header. Shown once.
    #[schema(
        pattern = "^whsec_[A-Za-z0-9_-]{43}$",
        example = "whsec_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycAx"
    )]
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// The delivery id (also in the body's `id` and the `Gomomo-Delivery` header).
    #[schema(example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: Uuid,
    #[schema(example = "955e573e-0f16-40c4-84fa-7d1ca9bd6549")]
    pub endpoint_id: Uuid,
    #[schema(example = "4437cfac-a07f-4bc3-87b3-6b521305be41")]
    pub event_id: Uuid,
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// pending | delivered | dead
    #[schema(value_type = DeliveryState)]
    pub status: String,
    #[schema(minimum = 0, example = 1)]
    pub attempts: i32,
    #[schema(minimum = 1, example = 8)]
    pub max_attempts: i32,
    #[schema(example = "2026-12-01T14:10:00Z")]
    pub next_attempt_at: DateTime<Utc>,
    #[schema(example = 503)]
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    #[schema(example = "HTTP 503 from the endpoint")]
    pub last_error: Option<String>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: DateTime<Utc>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub dead_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for WebhookDeliveryView {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            max_attempts: d.max_attempts,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
            dead_at: d.dead_at,
        }
    }
}

/// Where a webhook delivery stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// pending | delivered | dead
    #[param(value_type = Option<DeliveryState>)]
    pub status: Option<String>,
    /// 1–500 (default 100; others are brought into that range)
    #[param(example = 100)]
    pub limit: Option<i64>,
}

/// List webhook endpoints.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/webhooks", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    responses((status = 200, body = [WebhookView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let rows = webhooks::list_endpoints(state.pool(), tenant.0)
        .await
        .map_err(webhook_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Add a webhook endpoint (its signing secret is shown once).
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/webhooks", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), request_body = CreateWebhookRequest,
    security(("api_key" = [])),
    responses((status = 201, body = CreatedWebhookView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<CreatedWebhookView>), ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let (row, secret) = webhooks::create_endpoint(
        state.pool(),
        &state.integrations.secrets,
        tenant.0,
        &req.url,
        &req.event_types,
        &req.description,
        &state.integrations.outbound,
    )
    .await
    .map_err(webhook_error)?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookView {
            endpoint: row.into(),
            secret,
        }),
    ))
}

/// Change a webhook endpoint.
#[utoipa::path(patch, path = "/api/admin/tenants/{tenant}/webhooks/{webhook}", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("webhook" = uuid::Uuid, Path, description = "A webhook endpoint's id", example = "2ff80e91-59b5-4770-8ce4-3f0f74e6e247")),
    request_body = UpdateWebhookRequest, security(("api_key" = [])),
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, webhook)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let webhook = uuid_field("webhook", &webhook)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = webhooks::update_endpoint(
        state.pool(),
        tenant.0,
        webhook,
        req.url.as_deref(),
        req.event_types.as_deref(),
        req.enabled,
        &state.integrations.outbound,
    )
    .await
    .map_err(webhook_error)?;
    Ok(Json(row.into()))
}

/// Remove a webhook endpoint.
#[utoipa::path(delete, path = "/api/admin/tenants/{tenant}/webhooks/{webhook}", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("webhook" = uuid::Uuid, Path, description = "A webhook endpoint's id", example = "2ff80e91-59b5-4770-8ce4-3f0f74e6e247")),
    security(("api_key" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, webhook)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let webhook = uuid_field("webhook", &webhook)?;
    tenant_admin(&state, &headers, tenant).await?;
    webhooks::delete_endpoint(state.pool(), tenant.0, webhook)
        .await
        .map_err(webhook_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// List webhook deliveries.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/webhook-deliveries", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), DeliveriesQuery),
    security(("api_key" = [])),
    responses((status = 200, body = [WebhookDeliveryView]), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Vec<WebhookDeliveryView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_status",
                    "status must be pending, delivered or dead",
                )
            })
        })
        .transpose()?;
    let rows = webhooks::list_deliveries(state.pool(), tenant.0, status, q.limit.unwrap_or(100))
        .await
        .map_err(webhook_error)?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Send a dead webhook delivery again.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/webhook-deliveries/{delivery}/retry",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("delivery" = uuid::Uuid, Path, description = "A webhook delivery's id", example = "71085379-56af-42a5-86f9-6cc9da7b0c36")), security(("api_key" = [])),
    responses((status = 200, body = WebhookDeliveryView), (status = 404, body = ErrorBody)))]
pub async fn retry_delivery(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, delivery)): ApiPath<(String, String)>,
) -> Result<Json<WebhookDeliveryView>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    let delivery = uuid_field("delivery", &delivery)?;
    tenant_admin(&state, &headers, tenant).await?;
    let row = webhooks::redeliver(
        state.pool(),
        tenant.0,
        delivery,
        state.integrations.clock.now(),
    )
    .await
    .map_err(webhook_error)?;
    Ok(Json(row.into()))
}

// --- Google Calendar OAuth ----------------------------------------------------------------

fn oauth_error(e: OAuthError) -> ApiError {
    match e {
        OAuthError::NotConfigured => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "calendar_not_configured",
            e.to_string(),
        ),
        OAuthError::BadState => ApiError::bad_request("invalid_oauth_state", e.to_string()),
        OAuthError::Refused(_) => ApiError::bad_request("oauth_refused", e.to_string()),
        OAuthError::Unreachable(_) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "calendar_unreachable",
            e.to_string(),
        ),
        OAuthError::Crypto(_) | OAuthError::Database(_) => ApiError::internal(&e),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConnectView {
    /// Send the tenant's admin here (Google's consent page).
    #[schema(
        format = "uri",
        example = "https://accounts.google.com/o/oauth2/v2/auth?client_id=123.apps.googleusercontent.com&state=abc"
    )]
    pub authorization_url: String,
}

/// The cookie that binds an OAuth flow to the browser that started it.
const STATE_COOKIE: &str = "gomomo_oauth_state";
/// Where the browser sends it: Google's callback only.
const STATE_COOKIE_PATH: &str = "/api/oauth/google/callback";

/// `Set-Cookie` for a started flow: HttpOnly, SameSite=Lax (the provider's redirect back is
/// a top-level GET), sent only to the callback at `path`, Secure when the callback is served
/// over https (production refuses any other), for the state's 10 minutes.
pub(crate) fn state_cookie_for(path: &str, state: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v =
        format!("{STATE_COOKIE}={state}; Path={path}; Max-Age=600; HttpOnly; SameSite=Lax{secure}");
    // The state is base64url and the rest is fixed text: always a valid header value.
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn state_cookie(state: &str, secure: bool) -> HeaderValue {
    state_cookie_for(STATE_COOKIE_PATH, state, secure)
}

/// The cookie that ends the binding at `path`, once the callback has run.
pub(crate) fn cleared_state_cookie_for(path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{STATE_COOKIE}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn cleared_state_cookie(secure: bool) -> HeaderValue {
    cleared_state_cookie_for(STATE_COOKIE_PATH, secure)
}

/// The value of the state cookie the browser sent, if any.
pub(crate) fn sent_state_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == STATE_COOKIE)
        .map(|(_, value)| value)
}

fn google_oauth(state: &AppState) -> Result<&gomomo::adapters::google::GoogleOAuth, ApiError> {
    state
        .integrations
        .google
        .as_ref()
        .ok_or_else(|| oauth_error(OAuthError::NotConfigured))
}

/// Start connecting Google Calendar for every resource of the tenant.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/calendar/google/connect", params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")),
    security(("api_key" = [])),
    responses((status = 200, description = "the consent URL; sets the HttpOnly cookie the callback needs, so start the flow in the browser that will finish it", body = ConnectView),
        (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn google_connect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (url, cookie) = start_google_flow(&state, &headers, &tenant, None).await?;
    let mut res = Json(ConnectView {
        authorization_url: url,
    })
    .into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

/// Checks the key, mints the state: the consent URL and the cookie that binds it. The
/// calendar becomes `resource`'s, or (None) every resource's of the tenant.
pub(crate) async fn start_google_flow(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &str,
    resource: Option<Uuid>,
) -> Result<(String, HeaderValue), ApiError> {
    let tenant = tenant_id(tenant)?;
    tenant_admin(state, headers, tenant).await?;
    let oauth = google_oauth(state)?;
    let started = oauth.start(tenant.0, resource).await.map_err(oauth_error)?;
    let secure = oauth.settings().redirect_url.starts_with("https://");
    Ok((
        started.authorization_url,
        state_cookie(&started.state, secure),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The state this deployment signed when the connection began.
    #[param(max_length = 2000, example = "eyJ0IjoiM2Y2YyJ9.c2lnbmF0dXJl")]
    pub state: Option<String>,
    /// Google's authorization code.
    #[param(max_length = 2000, example = "4/0AeaYSHb-example-code")]
    pub code: Option<String>,
    /// Set by Google when the user declined.
    #[param(max_length = 200, example = "access_denied")]
    pub error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectedView {
    #[schema(example = "6d0e0000-0000-4000-8000-000000000001")]
    pub tenant_id: Uuid,
    #[schema(example = true)]
    pub connected: bool,
}

/// Google redirects the admin's browser here; the one-time `state` (not an API key) proves
/// which tenant started the flow, and the cookie set when it started proves this is the
/// browser that started it.
#[utoipa::path(get, path = "/api/oauth/google/callback", params(CallbackQuery),
    responses((status = 200, body = ConnectedView),
        (status = 400, description = "invalid_oauth_state (unknown, spent or expired, or not started in this browser), invalid_oauth_callback, oauth_refused", body = ErrorBody),
        (status = 404, description = "google_not_configured", body = ErrorBody)))]
pub async fn google_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
    let oauth = state.integrations.google.as_ref().ok_or_else(|| {
        ApiError::not_found(
            "google_not_configured",
            "Google Calendar is not configured on this server",
        )
    })?;
    let secure = oauth.settings().redirect_url.starts_with("https://");
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
        let bound = sent_state_cookie(&headers).is_some_and(|c| digest_eq(c, &st));
        if !bound {
            return Err(ApiError::bad_request(
                "invalid_oauth_state",
                "this sign-in was not started in this browser; start it again from the admin page",
            ));
        }
        oauth.callback(&st, &code).await.map_err(oauth_error)
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
    res.headers_mut()
        .append(header::SET_COOKIE, cleared_state_cookie(secure));
    Ok(res)
}

/// `GET /api/oauth/google/connect?tenant=…` with the API key: a redirect to the consent page
/// (for browsers; the POST route returns the URL as JSON). Both set the state cookie.
pub async fn google_connect_redirect(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ConnectQuery>,
) -> Result<Response, ApiError> {
    let (url, cookie) = start_google_flow(&state, &headers, &q.tenant, None).await?;
    let mut res = Redirect::to(&url).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectQuery {
    pub tenant: String,
}
