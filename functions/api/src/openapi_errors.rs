//! The error responses of every operation in the OpenAPI document, each with the codes it
//! answers: what the shared extractors and the admin auth refuse with is the same on every
//! route, so it is stated once here rather than in each handler's annotation. An answer an
//! annotation already describes keeps its own words.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

/// The `…_not_found` code of a path parameter's entity.
fn not_found_code(param: &str) -> Option<&'static str> {
    Some(match param {
        "tenant" => "tenant_not_found",
        "reference" => "booking_not_found",
        "service" => "service_not_found",
        "resource" => "resource_not_found",
        "exception" => "exception_not_found",
        "webhook" => "webhook_not_found",
        "key" => "key_not_found",
        "user" => "user_not_found",
        "policy" => "policy_not_found",
        "number" => "number_not_found",
        "notification" => "notification_not_found",
        "call_sid" => "call_not_found",
        "handle" => "chat_not_found",
        "token" => "offer_not_found",
        "id" => "dead_letter_not_found",
        _ => return None,
    })
}

/// The code of a path parameter that does not parse.
fn invalid_code(param: &str) -> Option<&'static str> {
    Some(match param {
        "tenant" => "invalid_tenant_id",
        "reference" => "invalid_reference",
        "service" => "invalid_service_id",
        "resource" => "invalid_resource_id",
        "exception" => "invalid_exception_id",
        "webhook" => "invalid_webhook",
        "key" => "invalid_key",
        "user" => "invalid_user",
        "policy" => "invalid_policy",
        "notification" => "invalid_notification",
        "delivery" => "invalid_delivery",
        "id" => "invalid_id",
        "number" => "invalid_phone",
        _ => return None,
    })
}

fn path_params(op: &Operation) -> Vec<String> {
    op.parameters
        .iter()
        .flatten()
        .filter(|p| matches!(p.parameter_in, ParameterIn::Path))
        .map(|p| p.name.clone())
        .collect()
}

fn has_input(op: &Operation) -> bool {
    op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

/// The codes an answer of `status` carries on `op` when its annotation says nothing.
fn default_codes(status: &str, op: &Operation) -> Option<String> {
    let params = path_params(op);
    Some(match status {
        "400" => {
            let mut fields: Vec<String> = params
                .iter()
                .filter_map(|p| invalid_code(p))
                .map(str::to_owned)
                .collect();
            if op.request_body.is_some() {
                fields.extend(["invalid_json".into(), "invalid_body".into()]);
            }
            if op
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query))
            {
                fields.push("invalid_query".into());
            }
            fields.push("invalid_<field> (the field that does not parse)".into());
            fields.join(", ")
        }
        "401" => "unauthorized (no bearer credential, or an unknown, revoked or expired one)".into(),
        "403" => "wrong_tenant (a credential of another tenant), owner_required (a staff credential on an owners' route)".into(),
        "404" => {
            let codes: Vec<&str> = params.iter().filter_map(|p| not_found_code(p)).collect();
            if codes.is_empty() {
                "not_found".into()
            } else {
                codes.join(", ")
            }
        }
        "409" => "conflict with the current state (see the code)".into(),
        "410" => "hold_expired, offer_expired".into(),
        "413" => "payload_too_large".into(),
        "415" => "unsupported_media_type (send Content-Type: application/json)".into(),
        "429" => "rate_limited (Retry-After)".into(),
        "500" => "internal_error (nothing was changed)".into(),
        "503" => "busy (try again shortly)".into(),
        _ => return None,
    })
}

fn error_response(description: String) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

/// Fills in the error answers of `op`: the codes of those its annotation left without words,
/// and the answers every operation of its kind can give (400 for any input, 401 and 403 for
/// a credential, 404 for a path naming something, 500 for all).
pub(crate) fn describe(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let mut wanted: Vec<&str> = vec!["500"];
    if has_input(op) {
        wanted.push("400");
    }
    if secured {
        wanted.extend(["401", "403"]);
    }
    if op
        .request_body
        .as_ref()
        .is_some_and(|b| b.content.contains_key("application/json"))
    {
        wanted.push("415");
    }
    if path_params(op).iter().any(|p| not_found_code(p).is_some()) {
        wanted.push("404");
    }
    for status in wanted {
        if !op.responses.responses.contains_key(status) {
            if let Some(codes) = default_codes(status, op) {
                op.responses
                    .responses
                    .insert(status.to_owned(), error_response(codes));
            }
        }
    }
    let statuses: Vec<String> = op.responses.responses.keys().cloned().collect();
    for status in statuses {
        if !status.starts_with(['4', '5']) {
            continue;
        }
        let Some(codes) = default_codes(&status, op) else {
            continue;
        };
        if let Some(RefOr::T(r)) = op.responses.responses.get_mut(&status) {
            if r.description.trim().is_empty() {
                r.description = codes;
            }
        }
    }
}
