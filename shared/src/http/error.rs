//! One HTTP error type. Client mistakes get a 4xx with a stable snake_case code; internal
//! causes are logged with their chain and the client sees an opaque 500.

use std::borrow::Cow;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::ParseError;
use crate::services::booking::{BookingError, BookingErrorKind};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Seconds for a `Retry-After` header (a refusal over budget).
    pub retry_after: Option<u64>,
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
            retry_after: None,
        }
    }

    /// 429 `rate_limited` with a `Retry-After` of `retry_after` seconds.
    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; try again later",
            )
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

    /// `413 payload_too_large`: the one code every route answers an oversized body with.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// Logs the cause; the client only learns that something failed on our side. Text that
    /// Postgres cannot store (a NUL character) that reached it unchecked is the client's
    /// mistake, not ours: `400 invalid_text`.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        if unstorable_text(cause) {
            return Self::bad_request(
                "invalid_text",
                "the text contains a character that cannot be stored (NUL)",
            );
        }
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

/// True when `cause` (or one of its sources) is Postgres refusing a character in text:
/// `22021` (a NUL byte) or `22P05` (a character the encoding cannot hold).
fn unstorable_text(cause: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(cause);
    while let Some(e) = next {
        if let Some(sqlx::Error::Database(db)) = e.downcast_ref::<sqlx::Error>() {
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return true;
            }
        }
        next = e.source();
    }
    false
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
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}

impl From<crate::services::budgets::BudgetError> for ApiError {
    fn from(e: crate::services::budgets::BudgetError) -> Self {
        use crate::services::budgets::BudgetError as B;
        match e {
            B::Exceeded { retry_after, .. } => Self::rate_limited(retry_after),
            B::Database(e) => Self::internal(&e),
        }
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

impl From<crate::services::sessions::SessionError> for ApiError {
    fn from(e: crate::services::sessions::SessionError) -> Self {
        use crate::services::sessions::{SessionError, NOT_FOUND_MESSAGE};
        match e {
            SessionError::NotFound => Self::not_found("session_not_found", NOT_FOUND_MESSAGE),
            SessionError::TenantNotFound => Self::not_found("tenant_not_found", "tenant not found"),
            SessionError::Database(d) => Self::internal(&d),
        }
    }
}

impl From<BookingError> for ApiError {
    /// The status follows from the error's kind and the code is the error's own code; a
    /// parse error keeps its `invalid_<field>` code, internal causes are logged and opaque.
    fn from(e: BookingError) -> Self {
        use BookingErrorKind as K;
        let e = match e {
            BookingError::Invalid(p) => return p.into(),
            other => other,
        };
        let kind = e.kind();
        let status = match kind {
            K::TenantNotFound
            | K::ServiceNotFound
            | K::ResourceNotFound
            | K::HoldNotFound
            | K::OfferNotFound
            | K::BookingNotFound
            | K::ExceptionNotFound => StatusCode::NOT_FOUND,
            K::HoldExpired | K::OfferExpired => StatusCode::GONE,
            K::HoldNotOwned => StatusCode::FORBIDDEN,
            K::SlotUnavailable
            | K::SlotTaken
            | K::ScheduleClosed
            | K::DailyLimitReached
            | K::ChangeCutoffPassed
            | K::BookingCancelled
            | K::OutcomeTooEarly
            | K::OfferClosed => StatusCode::CONFLICT,
            K::InvalidRange | K::RangeBeyondLookahead | K::InvalidArgument => {
                StatusCode::BAD_REQUEST
            }
            K::CalendarUnavailable | K::Busy => StatusCode::SERVICE_UNAVAILABLE,
            K::Internal => return Self::internal(&e),
        };
        let message = match kind {
            // A reference alone reveals nothing: the message names both inputs.
            K::BookingNotFound => "no booking with that reference and email".to_string(),
            K::CalendarUnavailable => "the calendar could not be updated, so the booking was not made; the time is held for you again, please try again".to_string(),
            K::Busy if matches!(e, BookingError::Database(_)) => {
                "the service is busy; try again".to_string()
            }
            _ => e.to_string(),
        };
        Self::new(status, kind.code(), message)
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
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::payload_too_large("the request body is larger than this route accepts")
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booking_errors_keep_their_status_and_code() {
        use BookingError as B;
        let cases: Vec<(BookingError, StatusCode, &str)> = vec![
            (B::TenantNotFound, StatusCode::NOT_FOUND, "tenant_not_found"),
            (
                B::ServiceNotFound,
                StatusCode::NOT_FOUND,
                "service_not_found",
            ),
            (
                B::ResourceNotFound,
                StatusCode::NOT_FOUND,
                "resource_not_found",
            ),
            (B::HoldNotFound, StatusCode::NOT_FOUND, "hold_not_found"),
            (
                B::BookingNotFound,
                StatusCode::NOT_FOUND,
                "booking_not_found",
            ),
            (B::HoldExpired, StatusCode::GONE, "hold_expired"),
            (B::HoldNotOwned, StatusCode::FORBIDDEN, "hold_not_owned"),
            (B::SlotUnavailable, StatusCode::CONFLICT, "slot_unavailable"),
            (B::SlotTaken, StatusCode::CONFLICT, "slot_taken"),
            (
                B::BookingCancelled,
                StatusCode::CONFLICT,
                "booking_cancelled",
            ),
            (
                B::InvalidRange("x"),
                StatusCode::BAD_REQUEST,
                "invalid_range",
            ),
            (
                B::RangeBeyondLookahead { max_days_ahead: 3 },
                StatusCode::BAD_REQUEST,
                "range_beyond_lookahead",
            ),
            (
                B::Invalid(ParseError::new("email", "has no @")),
                StatusCode::BAD_REQUEST,
                "invalid_email",
            ),
            (B::Contention, StatusCode::SERVICE_UNAVAILABLE, "busy"),
            (
                B::Database(sqlx::Error::PoolTimedOut),
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
            ),
            (
                B::TenantConfig("bad zone".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
            (
                B::Database(sqlx::Error::RowNotFound),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        for (e, status, code) in cases {
            let api = ApiError::from(e);
            assert_eq!((api.status, api.code.as_ref()), (status, code));
        }
        let api = ApiError::from(B::BookingNotFound);
        assert_eq!(api.message, "no booking with that reference and email");
    }
}
