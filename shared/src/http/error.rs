//! One HTTP error type. Client mistakes get a 4xx with a stable snake_case code; internal
//! causes are logged with their chain and the client sees an opaque 500.

use std::borrow::Cow;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::ParseError;
use crate::services::booking::BookingError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid Authorization: Bearer <api key> header is required",
        )
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// Logs the cause; the client only learns that something failed on our side.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = cause.to_string();
        let mut src = cause.source();
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        tracing::error!(error = %chain, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "something went wrong on our side; nothing was changed",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
            },
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            format!("invalid_{}", e.field),
            e.to_string(),
        )
    }
}

impl From<BookingError> for ApiError {
    fn from(e: BookingError) -> Self {
        use BookingError as B;
        let msg = e.to_string();
        match e {
            B::TenantNotFound => Self::not_found("tenant_not_found", msg),
            B::ServiceNotFound => Self::not_found("service_not_found", msg),
            B::ResourceNotFound => Self::not_found("resource_not_found", msg),
            B::HoldNotFound => Self::not_found("hold_not_found", msg),
            B::BookingNotFound => Self::not_found(
                "booking_not_found",
                "no booking with that reference and email",
            ),
            B::HoldExpired => Self::new(StatusCode::GONE, "hold_expired", msg),
            B::HoldNotOwned => Self::forbidden("hold_not_owned", msg),
            B::SlotUnavailable => Self::new(StatusCode::CONFLICT, "slot_unavailable", msg),
            B::SlotTaken => Self::new(StatusCode::CONFLICT, "slot_taken", msg),
            B::BookingCancelled => Self::new(StatusCode::CONFLICT, "booking_cancelled", msg),
            B::InvalidRange(_) => Self::bad_request("invalid_range", msg),
            B::RangeBeyondLookahead { .. } => Self::bad_request("range_beyond_lookahead", msg),
            B::Invalid(p) => p.into(),
            B::Contention => Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", msg),
            B::CalendarUnavailable { .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "calendar_unavailable",
                "the calendar could not be updated, so the booking was not made; the time is held for you again, please try again",
            ),
            B::Database(sqlx::Error::PoolTimedOut) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the service is busy; try again",
            ),
            ref other @ (B::TenantConfig(_) | B::Database(_)) => Self::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => {
                Self::bad_request("invalid_json", format!("malformed JSON: {}", e.body_text()))
            }
            JsonRejection::JsonDataError(e) => Self::bad_request("invalid_body", e.body_text()),
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json",
            ),
            other => Self::new(other.status(), "invalid_body", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request("invalid_query", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request("invalid_path", r.body_text())
    }
}
