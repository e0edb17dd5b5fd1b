//! The gomomo REST API as an axum [`Router`]. The Lambda `main.rs` runs it with
//! `lambda_http::run`, the standalone server mounts it, tests call it with `oneshot`.

pub mod auth;
pub mod dto;
mod openapi_errors;
pub mod routes;
pub mod xlsx;

use std::sync::Arc;

use axum::http::{Method, StatusCode, Uri};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use gomomo::app::App;
use gomomo::http::ApiError;
use gomomo::services::{BookingService, Clock};
use gomomo::Config;
use sqlx::PgPool;
use utoipa::OpenApi;

/// What every handler gets: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub booking: BookingService,
    /// The chat agent behind `POST /api/tenants/{tenant}/chat`.
    pub agent: gomomo::services::agent::Agent,
    /// Bearer key for platform-level routes (creating tenants); `None` disables them.
    pub platform_key: Option<Arc<str>>,
    /// Webhook secrets and the Google OAuth client.
    pub integrations: gomomo::services::delivery::Integrations,
    /// The landing page and the widget script (`CHAT_WS_URL` for the widget).
    pub web: gomomo::http::web::WebPages,
    /// Request budgets of the public routes.
    pub budgets: gomomo::services::budgets::Budgets,
    /// Production deployments accept only https widget origins.
    pub production: bool,
    /// Where the deployment's own pages are (`PUBLIC_BASE_URL`), for links in messages.
    pub public_base_url: Arc<str>,
}

impl AppState {
    /// The parts of the composition root the API serves.
    pub fn from_app(app: &App) -> Self {
        Self {
            booking: app.booking.clone(),
            agent: app.agent.clone(),
            integrations: app.integrations.clone(),
            platform_key: app.config.platform_key.as_deref().map(Arc::from),
            web: gomomo::http::web::WebPages::from_config(&app.config),
            budgets: app.budgets.clone(),
            production: app.config.environment == gomomo::config::Environment::Production,
            public_base_url: Arc::from(app.config.telephony.public_base_url.as_str()),
        }
    }

    /// The configured adapters over `pool` without an event bus (tests, tools).
    pub fn new(pool: PgPool, config: &Config, clock: Clock) -> Self {
        Self::from_app(&App::configured(config.clone(), pool, clock))
    }

    pub fn pool(&self) -> &PgPool {
        self.booking.pool()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gomomo API",
        description = "Multi-tenant AI receptionist: availability, holds, bookings, tenant admin. \
            Errors are {\"error\": {\"code\", \"message\"}} with a stable snake_case code. \
            Chat sessions are issued by the server (POST /api/tenants/{tenant}/sessions, or a chat \
            message or hold sent without session_id); client-chosen session ids are refused with \
            404 session_not_found."
    ),
    paths(
        routes::public::healthz,
        routes::public::get_tenant,
        routes::public::availability,
        routes::public::create_session,
        routes::public::create_hold,
        routes::public::confirm_booking,
        routes::public::get_booking,
        routes::public::lookup_booking,
        routes::public::move_availability,
        routes::public::reschedule_booking,
        routes::public::cancel_booking,
        routes::chat::chat,
        routes::admin::create_tenant,
        routes::admin::update_tenant,
        routes::admin::create_service,
        routes::admin::update_service,
        routes::admin::list_resources,
        routes::admin::create_resource,
        routes::admin::update_resource,
        routes::admin::put_hours,
        routes::schedule::get_resource_hours,
        routes::schedule::put_resource_hours,
        routes::schedule::delete_resource_hours,
        routes::schedule::list_exceptions,
        routes::schedule::create_exception,
        routes::schedule::update_exception,
        routes::schedule::delete_exception,
        routes::schedule::exception_affected,
        routes::schedule::notify_affected,
        routes::rules::get_service_rules,
        routes::rules::put_service_rules,
        routes::rules::get_resource_rules,
        routes::rules::put_resource_rules,
        routes::rules::get_tenant_rules,
        routes::rules::put_tenant_rules,
        routes::rules::admin_cancel_booking,
        routes::admin::list_bookings,
        routes::staff::staff_create_booking,
        routes::staff::staff_reschedule_booking,
        routes::staff::booking_detail,
        routes::attendance::record_outcome,
        routes::attendance::attendance,
        routes::attendance::get_attendance_policy,
        routes::attendance::put_attendance_policy,
        routes::attendance::get_offer,
        routes::attendance::accept_offer,
        routes::admin::get_widget_origins,
        routes::admin::put_widget_origins,
        routes::admin::get_languages,
        routes::admin::put_languages,
        routes::admin::get_public_booking_url,
        routes::admin::put_public_booking_url,
        routes::delivery::list_webhooks,
        routes::delivery::create_webhook,
        routes::delivery::update_webhook,
        routes::delivery::delete_webhook,
        routes::delivery::list_deliveries,
        routes::delivery::retry_delivery,
        routes::health::delivery_health,
        routes::delivery::google_connect,
        routes::delivery::google_callback,
        routes::calendars::list_calendars,
        routes::calendars::google_connect_resource,
        routes::calendars::connect_caldav,
        routes::calendars::microsoft_connect,
        routes::calendars::microsoft_callback,
        routes::calendars::disconnect_calendar,
        routes::excel::export_xlsx,
        routes::excel::import_xlsx,
        routes::excel::list_dead_letters,
        routes::excel::retry_dead_letter,
        routes::privacy::export_client,
        routes::privacy::erase_client,
        routes::people::sign_in,
        routes::people::sign_out,
        routes::people::me,
        routes::people::list_users,
        routes::people::create_user,
        routes::people::update_user,
        routes::people::delete_user,
        routes::people::list_keys,
        routes::people::create_key,
        routes::people::rotate_key,
        routes::people::revoke_key,
        routes::audit::list_audit,
        routes::operations::list_notifications,
        routes::operations::retry_notification,
        routes::operations::list_waitlist,
        routes::operations::get_admin_email,
        routes::operations::put_admin_email,
        routes::operations::list_numbers,
        routes::operations::put_number,
        routes::operations::delete_number,
        routes::policies::list_policies,
        routes::policies::create_policy,
        routes::policies::update_policy,
        routes::policies::delete_policy,
        routes::transcripts::list_calls,
        routes::transcripts::get_call,
        routes::transcripts::list_chats,
        routes::transcripts::get_chat,
    ),
    servers((url = "/", description = "This deployment")),
    tags(
        (name = "public", description = "Booking without an account: availability, holds, bookings, sessions"),
        (name = "chat", description = "The chat agent over REST"),
        (name = "waitlist", description = "Waitlist offers and attendance"),
        (name = "operations", description = "Notifications, the waitlist, the admin email, phone numbers"),
        (name = "admin", description = "Tenant settings, services, resources, bookings"),
        (name = "staff", description = "Staff bookings for clients who phone or walk in, moves, a booking's history"),
        (name = "schedule", description = "Resource hours and date exceptions"),
        (name = "rules", description = "Booking rules"),
        (name = "people", description = "People, sessions and API keys"),
        (name = "audit", description = "The audit trail"),
        (name = "policies", description = "The rules of the autonomous follow-ups"),
        (name = "transcripts", description = "Call and chat transcripts, redacted by default"),
        (name = "delivery", description = "Webhooks, Google Calendar for the whole tenant, delivery health"),
        (name = "calendars", description = "Each resource's calendar: Google, CalDAV, Microsoft 365; health and disconnection"),
        (name = "excel", description = "The appointments workbook"),
        (name = "privacy", description = "One client's data: export and erasure"),
    ),
    modifiers(&BearerAuth, &Tags, &ErrorAnswers)
)]
pub struct ApiDoc;

/// Each operation's tag from its module (`routes::public` → `public`); operations that
/// need no credential say so with an empty security requirement.
struct Tags;

impl utoipa::Modify for Tags {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        each_operation(openapi, |op| {
            if let Some(tags) = op.tags.as_mut() {
                for t in tags.iter_mut() {
                    let name = match t.trim_start_matches("routes::") {
                        "attendance" => "waitlist",
                        "health" => "delivery",
                        other => other,
                    };
                    *t = name.to_owned();
                }
            }
            if op.security.is_none() {
                op.security = Some(Vec::new());
            }
        });
    }
}

/// Every operation's error answers with their codes (see [`openapi_errors`]).
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        each_operation(openapi, openapi_errors::describe);
    }
}

/// Calls `f` on every operation of the document.
fn each_operation(
    openapi: &mut utoipa::openapi::OpenApi,
    mut f: impl FnMut(&mut utoipa::openapi::path::Operation),
) {
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            f(op);
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Everything in one process (`gomomo serve`, the web tests): the REST API, the REST chat,
/// the spreadsheet routes and the web pages.
pub fn function_router(state: AppState) -> Router {
    let web = gomomo::http::web::router(state.web.clone(), state.booking.clone());
    router(state).merge(web)
}

/// What the `api` Lambda serves: the REST API without the REST chat and the spreadsheet
/// routes (their own functions), and the web pages — the landing page (`/`) and the widget
/// (`/widget.js`) of [`gomomo::http::web`]. The chat's model client and the workbook code
/// are never reached from here, so the `api` binary does not link them.
pub fn api_function_router(state: AppState) -> Router {
    let web = gomomo::http::web::router(state.web.clone(), state.booking.clone());
    finish(rest_routes(), state).merge(web)
}

/// What the `chat-http` Lambda serves: the REST chat (and `/healthz`).
pub fn chat_function_router(state: AppState) -> Router {
    finish(health_routes().merge(chat_routes()), state)
}

/// What the `excel` Lambda serves: the appointments workbook, export and import (and
/// `/healthz`).
pub fn excel_function_router(state: AppState) -> Router {
    finish(health_routes().merge(excel_routes()), state)
}

/// Every route of the REST API, the REST chat and the spreadsheet included (and the JSON
/// 404/405 fallbacks).
pub fn router(state: AppState) -> Router {
    finish(
        rest_routes().merge(chat_routes()).merge(excel_routes()),
        state,
    )
}

fn health_routes() -> Router<AppState> {
    Router::new().route("/healthz", get(routes::public::healthz))
}

/// The REST chat fallback of the widget (its answers are the WebSocket agent's).
fn chat_routes() -> Router<AppState> {
    Router::new().route("/api/tenants/{tenant}/chat", post(routes::chat::chat))
}

/// The appointments workbook, and the rows of imports that could not be applied.
fn excel_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/admin/tenants/{tenant}/appointments.xlsx",
            get(routes::excel::export_xlsx).post(routes::excel::import_xlsx),
        )
        .route(
            "/api/admin/tenants/{tenant}/excel/dead-letters",
            get(routes::excel::list_dead_letters),
        )
        .route(
            "/api/admin/tenants/{tenant}/excel/dead-letters/{id}/retry",
            post(routes::excel::retry_dead_letter),
        )
}

/// The REST API: public booking routes, the admin API, OAuth, the OpenAPI document.
fn rest_routes() -> Router<AppState> {
    use routes::{admin, public};
    Router::new()
        .route("/healthz", get(public::healthz))
        .route("/openapi.json", get(openapi_json))
        .route("/api/tenants/{tenant}", get(public::get_tenant))
        .route(
            "/api/tenants/{tenant}/availability",
            get(public::availability),
        )
        .route(
            "/api/tenants/{tenant}/sessions",
            post(public::create_session),
        )
        .route("/api/tenants/{tenant}/holds", post(public::create_hold))
        .route(
            "/api/tenants/{tenant}/bookings",
            post(public::confirm_booking),
        )
        .route(
            "/api/tenants/{tenant}/bookings/{reference}",
            get(public::get_booking),
        )
        .route(
            "/api/tenants/{tenant}/bookings/{reference}/lookup",
            post(public::lookup_booking),
        )
        .route(
            "/api/tenants/{tenant}/bookings/{reference}/availability",
            post(public::move_availability),
        )
        .route(
            "/api/tenants/{tenant}/bookings/{reference}/reschedule",
            post(public::reschedule_booking),
        )
        .route(
            "/api/tenants/{tenant}/bookings/{reference}/cancel",
            post(public::cancel_booking),
        )
        .route(
            "/waitlist/offer",
            get(routes::attendance::offer_page).post(routes::attendance::offer_page_accept),
        )
        .route(
            "/api/tenants/{tenant}/waitlist/offers/{token}",
            get(routes::attendance::get_offer),
        )
        .route(
            "/api/tenants/{tenant}/waitlist/offers/{token}/accept",
            post(routes::attendance::accept_offer),
        )
        .route("/api/admin/tenants", post(admin::create_tenant))
        .route("/api/admin/tenants/{tenant}", patch(admin::update_tenant))
        .route(
            "/api/admin/tenants/{tenant}/services",
            post(admin::create_service),
        )
        .route(
            "/api/admin/tenants/{tenant}/services/{service}",
            patch(admin::update_service),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources",
            get(admin::list_resources).post(admin::create_resource),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}",
            patch(admin::update_resource),
        )
        .route("/api/admin/tenants/{tenant}/hours", put(admin::put_hours))
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/hours",
            get(routes::schedule::get_resource_hours)
                .put(routes::schedule::put_resource_hours)
                .delete(routes::schedule::delete_resource_hours),
        )
        .route(
            "/api/admin/tenants/{tenant}/exceptions",
            get(routes::schedule::list_exceptions).post(routes::schedule::create_exception),
        )
        .route(
            "/api/admin/tenants/{tenant}/exceptions/{exception}",
            put(routes::schedule::update_exception).delete(routes::schedule::delete_exception),
        )
        .route(
            "/api/admin/tenants/{tenant}/exceptions/{exception}/affected",
            get(routes::schedule::exception_affected),
        )
        .route(
            "/api/admin/tenants/{tenant}/exceptions/{exception}/notify",
            post(routes::schedule::notify_affected),
        )
        .route(
            "/api/admin/tenants/{tenant}/services/{service}/rules",
            get(routes::rules::get_service_rules).put(routes::rules::put_service_rules),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/rules",
            get(routes::rules::get_resource_rules).put(routes::rules::put_resource_rules),
        )
        .route(
            "/api/admin/tenants/{tenant}/rules",
            get(routes::rules::get_tenant_rules).put(routes::rules::put_tenant_rules),
        )
        .route(
            "/api/admin/tenants/{tenant}/bookings/{reference}/cancel",
            post(routes::rules::admin_cancel_booking),
        )
        .route(
            "/api/admin/tenants/{tenant}/widget-origins",
            get(admin::get_widget_origins).put(admin::put_widget_origins),
        )
        .route(
            "/api/admin/tenants/{tenant}/languages",
            get(admin::get_languages).put(admin::put_languages),
        )
        .route(
            "/api/admin/tenants/{tenant}/public-booking-url",
            get(admin::get_public_booking_url).put(admin::put_public_booking_url),
        )
        .route(
            "/api/admin/tenants/{tenant}/bookings",
            get(admin::list_bookings).post(routes::staff::staff_create_booking),
        )
        .route(
            "/api/admin/tenants/{tenant}/bookings/{reference}",
            get(routes::staff::booking_detail),
        )
        .route(
            "/api/admin/tenants/{tenant}/bookings/{reference}/reschedule",
            post(routes::staff::staff_reschedule_booking),
        )
        .route(
            "/api/admin/tenants/{tenant}/bookings/{reference}/outcome",
            post(routes::attendance::record_outcome),
        )
        .route(
            "/api/admin/tenants/{tenant}/attendance",
            get(routes::attendance::attendance),
        )
        .route(
            "/api/admin/tenants/{tenant}/attendance-policy",
            get(routes::attendance::get_attendance_policy)
                .put(routes::attendance::put_attendance_policy),
        )
        .route(
            "/api/admin/tenants/{tenant}/webhooks",
            get(routes::delivery::list_webhooks).post(routes::delivery::create_webhook),
        )
        .route(
            "/api/admin/tenants/{tenant}/webhooks/{webhook}",
            patch(routes::delivery::update_webhook).delete(routes::delivery::delete_webhook),
        )
        .route(
            "/api/admin/tenants/{tenant}/webhook-deliveries",
            get(routes::delivery::list_deliveries),
        )
        .route(
            "/api/admin/tenants/{tenant}/webhook-deliveries/{delivery}/retry",
            post(routes::delivery::retry_delivery),
        )
        .route(
            "/api/admin/tenants/{tenant}/delivery-health",
            get(routes::health::delivery_health),
        )
        .route(
            "/api/admin/tenants/{tenant}/calendar/google/connect",
            post(routes::delivery::google_connect),
        )
        .route(
            "/api/admin/tenants/{tenant}/calendars",
            get(routes::calendars::list_calendars),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/calendar/google/connect",
            post(routes::calendars::google_connect_resource),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/calendar",
            delete(routes::calendars::disconnect_calendar),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/calendar/caldav",
            put(routes::calendars::connect_caldav),
        )
        .route(
            "/api/admin/tenants/{tenant}/resources/{resource}/calendar/microsoft/connect",
            post(routes::calendars::microsoft_connect),
        )
        .route(
            "/api/admin/tenants/{tenant}/privacy/export",
            post(routes::privacy::export_client),
        )
        .route(
            "/api/admin/tenants/{tenant}/privacy/erase",
            post(routes::privacy::erase_client),
        )
        .route(
            "/api/admin/tenants/{tenant}/audit",
            get(routes::audit::list_audit),
        )
        .route(
            "/api/admin/tenants/{tenant}/notifications",
            get(routes::operations::list_notifications),
        )
        .route(
            "/api/admin/tenants/{tenant}/notifications/{notification}/retry",
            post(routes::operations::retry_notification),
        )
        .route(
            "/api/admin/tenants/{tenant}/waitlist",
            get(routes::operations::list_waitlist),
        )
        .route(
            "/api/admin/tenants/{tenant}/admin-email",
            get(routes::operations::get_admin_email).put(routes::operations::put_admin_email),
        )
        .route(
            "/api/admin/tenants/{tenant}/phone-numbers",
            get(routes::operations::list_numbers),
        )
        .route(
            "/api/admin/tenants/{tenant}/phone-numbers/{number}",
            put(routes::operations::put_number).delete(routes::operations::delete_number),
        )
        .route(
            "/api/admin/tenants/{tenant}/policies",
            get(routes::policies::list_policies).post(routes::policies::create_policy),
        )
        .route(
            "/api/admin/tenants/{tenant}/policies/{policy}",
            put(routes::policies::update_policy).delete(routes::policies::delete_policy),
        )
        .route(
            "/api/admin/tenants/{tenant}/calls",
            get(routes::transcripts::list_calls),
        )
        .route(
            "/api/admin/tenants/{tenant}/calls/{call_sid}",
            get(routes::transcripts::get_call),
        )
        .route(
            "/api/admin/tenants/{tenant}/chats",
            get(routes::transcripts::list_chats),
        )
        .route(
            "/api/admin/tenants/{tenant}/chats/{handle}",
            get(routes::transcripts::get_chat),
        )
        .route("/api/admin/sign-in", post(routes::people::sign_in))
        .route("/api/admin/sign-out", post(routes::people::sign_out))
        .route("/api/admin/tenants/{tenant}/me", get(routes::people::me))
        .route(
            "/api/admin/tenants/{tenant}/users",
            get(routes::people::list_users).post(routes::people::create_user),
        )
        .route(
            "/api/admin/tenants/{tenant}/users/{user}",
            patch(routes::people::update_user).delete(routes::people::delete_user),
        )
        .route(
            "/api/admin/tenants/{tenant}/keys",
            get(routes::people::list_keys).post(routes::people::create_key),
        )
        .route(
            "/api/admin/tenants/{tenant}/keys/{key}",
            axum::routing::delete(routes::people::revoke_key),
        )
        .route(
            "/api/admin/tenants/{tenant}/keys/{key}/rotate",
            post(routes::people::rotate_key),
        )
        .route(
            "/api/oauth/google/connect",
            get(routes::delivery::google_connect_redirect),
        )
        .route(
            "/api/oauth/google/callback",
            get(routes::delivery::google_callback),
        )
        .route(
            "/api/oauth/microsoft/callback",
            get(routes::calendars::microsoft_callback),
        )
}

/// The JSON fallbacks, the layers every function's router shares, and the state.
fn finish(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::map_request(gateway_source_ip))
        .layer(axum::middleware::from_fn(acting_scope))
        // A bug must still answer with the JSON error contract, not a dropped connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

/// On Lambda, API Gateway's `sourceIp` (HTTP API or REST API request context) as the
/// client's address for [`gomomo::http::ClientIp`]; elsewhere nothing is added.
async fn gateway_source_ip(mut req: axum::extract::Request) -> axum::extract::Request {
    use gomomo::http::client_ip::GatewaySourceIp;
    use lambda_http::request::RequestContext;
    let source = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(c)) => {
            GatewaySourceIp::parse(c.http.source_ip.as_deref())
        }
        Some(RequestContext::ApiGatewayV1(c)) => {
            GatewaySourceIp::parse(c.identity.source_ip.as_deref())
        }
        _ => None,
    };
    if let Some(ip) = source {
        req.extensions_mut().insert(ip);
    }
    req
}

/// Gives each request its own place for who is acting (filled in by the admin auth, read
/// when audit rows are written).
async fn acting_scope(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    gomomo::db::audit::acting_scope(next.run(req)).await
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found("route_not_found", format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!("handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "something went wrong on our side; nothing was changed",
    )
    .into_response()
}
