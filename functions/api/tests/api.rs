//! Every route through the real router (`oneshot`, no socket) on a real Postgres, including
//! each bad input and the 64-way races.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use gomomo::services::admin::{seed_demo, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use serde_json::{json, Value};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use support::{app, call, march_2_8am, post, PLATFORM, PLATFORM_KEY};
use tower::ServiceExt;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error code>")
}

fn demo(path: &str) -> String {
    format!("/api/tenants/{DEMO_TENANT_ID}{path}")
}

fn consult() -> String {
    DEMO_SERVICES[0].0.to_string()
}

#[sqlx::test(migrations = "../../migrations")]
async fn booking_flow_end_to_end(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);

    let (s, v) = call(&app, "GET", "/healthz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (s, v) = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/tenants/{tenant}/availability",
        "/api/tenants/{tenant}/holds",
        "/api/tenants/{tenant}/bookings/{reference}/cancel",
        "/api/tenants/{tenant}/bookings/{reference}/lookup",
        "/api/admin/tenants/{tenant}/hours",
    ] {
        assert!(v["paths"].get(p).is_some(), "openapi lacks {p}");
    }

    let (s, v) = call(&app, "GET", &demo(""), None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["time_zone"], "America/New_York");
    assert_eq!(v["services"].as_array().unwrap().len(), 3);

    let (s, v) = call(
        &app,
        "GET",
        &demo(&format!(
            "/availability?service={}&from=2026-03-03&to=2026-03-03",
            consult()
        )),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let slots = v["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 16);
    assert_eq!(slots[0]["start"], "2026-03-03T09:00:00-05:00");
    assert_eq!(slots[0]["end"], "2026-03-03T09:30:00-05:00");

    // a hold without a session: the server issues one and returns it with the hold
    let (s, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-03T09:00:00-05:00"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{hold}");
    assert_eq!(hold["start"], "2026-03-03T09:00:00-05:00");
    let hold_id = hold["hold_id"].as_str().unwrap().to_string();
    let sid = hold["session_id"].as_str().unwrap().to_string();
    assert!(sid.starts_with("gs_"), "{hold}");

    let confirm = json!({"hold_id": hold_id, "session_id": sid, "client_name": "Ana Lopez", "client_email": "ana@example.com", "client_phone": "+1 555 555 0100"});
    let (s, b) = post(&app, &demo("/bookings"), confirm.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "confirmed");
    assert_eq!(b["client_phone"], "+15555550100");
    let reference = b["reference"].as_str().unwrap().to_string();
    // the same hold again: 200 with the same booking
    let (s, b2) = post(&app, &demo("/bookings"), confirm).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b2["reference"], reference.as_str());

    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/lookup")),
        json!({"email": "ANA@example.com"}),
    )
    .await;
    assert_eq!(
        (s, v["reference"].as_str()),
        (StatusCode::OK, Some(reference.as_str()))
    );
    // references are accepted in lower case without the dash
    let loose = reference.replace('-', "").to_lowercase();
    let (s, _) = post(
        &app,
        &demo(&format!("/bookings/{loose}/lookup")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    let (s, h2) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-04T15:00:00Z", "session_id": sid}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{h2}");
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        json!({"email": "ana@example.com", "hold_id": h2["hold_id"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["start"], "2026-03-04T10:00:00-05:00");
    assert_eq!(v["sequence"], 1);

    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/cancel")),
        json!({"email": "ana@example.com"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments WHERE status = 'cancelled'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// Whether a schema is of this type (`"string"`, or `["string", "null"]`).
fn is_type(schema: &Value, ty: &str) -> bool {
    match &schema["type"] {
        Value::String(t) => t == ty,
        Value::Array(ts) => ts.iter().any(|t| t == ty),
        _ => false,
    }
}

/// A string, number or boolean schema found in the document, with what it says of its
/// values.
struct ValueAt {
    at: String,
    /// Not a string, or a string with a format, enum, pattern, const or example.
    described: bool,
    /// An example (its own or its array's), or an enum or const that lists the values.
    exemplified: bool,
}

/// Collects, under `at`, every string, number and boolean schema in `schema`. An array's
/// example speaks for its items.
fn values(schema: &Value, at: &str, example_above: bool, out: &mut Vec<ValueAt>) {
    let has = |k: &str| schema.get(k).is_some();
    let here = example_above || has("example") || has("examples");
    let string = is_type(schema, "string");
    if string
        || ["integer", "number", "boolean"]
            .iter()
            .any(|t| is_type(schema, t))
    {
        out.push(ValueAt {
            at: at.to_string(),
            described: !string
                || here
                || ["format", "enum", "pattern", "const"]
                    .iter()
                    .any(|k| has(k)),
            exemplified: here || has("enum") || has("const"),
        });
    }
    if let Some(props) = schema["properties"].as_object() {
        for (name, p) in props {
            values(p, &format!("{at}.{name}"), false, out);
        }
    }
    if schema["items"].is_object() {
        values(&schema["items"], &format!("{at}[]"), here, out);
    }
    if schema["additionalProperties"].is_object() {
        values(
            &schema["additionalProperties"],
            &format!("{at}{{}}"),
            here,
            out,
        );
    }
    for k in ["oneOf", "anyOf", "allOf"] {
        for (i, s) in schema[k].as_array().into_iter().flatten().enumerate() {
            values(s, &format!("{at}<{k}{i}>"), here, out);
        }
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_openapi_document_describes_every_field_and_parameter(pool: PgPool) {
    let app = app(pool, Clock::fixed(march_2_8am()), PLATFORM);
    let (s, doc) = call(&app, "GET", "/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);

    // Every field of every schema: an example, and a string's format, pattern or values.
    let mut fields = Vec::new();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    assert!(schemas.len() > 50, "{} schemas", schemas.len());
    for (name, schema) in schemas {
        values(schema, name, false, &mut fields);
    }
    // Parameters and inline bodies: at least a format, pattern, enum or example.
    let mut inline = Vec::new();
    let mut parameters_without_example = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(op) = op.as_object() else { continue };
            operations += 1;
            let at = format!("{} {path}", method.to_uppercase());
            for p in op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = p["name"].as_str().unwrap_or("?");
                let example = p.get("example").is_some() || p.get("examples").is_some();
                let listed = ["example", "enum", "$ref"]
                    .iter()
                    .any(|k| p["schema"].get(*k).is_some());
                if !example && !listed {
                    parameters_without_example.push(format!("{at} ({name})"));
                }
                values(
                    &p["schema"],
                    &format!("{at} ({name})"),
                    example,
                    &mut inline,
                );
            }
            let bodies = op.get("requestBody").into_iter().chain(
                op.get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|r| r.values()),
            );
            for body in bodies {
                for (media, c) in body["content"].as_object().into_iter().flatten() {
                    values(&c["schema"], &format!("{at} [{media}]"), false, &mut inline);
                }
            }
        }
    }
    assert!(operations > 80, "{operations} operations");
    assert!(fields.len() > 300, "{} fields", fields.len());

    let undescribed: Vec<&str> = fields
        .iter()
        .chain(&inline)
        .filter(|s| !s.described)
        .map(|s| s.at.as_str())
        .collect();
    assert!(
        undescribed.is_empty(),
        "{} string fields or parameters without a format, enum, pattern or example:\n  {}",
        undescribed.len(),
        undescribed.join("\n  ")
    );
    let without_example: Vec<&str> = fields
        .iter()
        .filter(|s| !s.exemplified)
        .map(|s| s.at.as_str())
        .collect();
    assert!(
        without_example.is_empty(),
        "{} fields without an example:\n  {}",
        without_example.len(),
        without_example.join("\n  ")
    );

    assert!(
        parameters_without_example.is_empty(),
        "{} parameters without an example:\n  {}",
        parameters_without_example.len(),
        parameters_without_example.join("\n  ")
    );

    // The webhook event names in the document are the ones the server sends.
    let names: Vec<&str> = doc["components"]["schemas"]["EventType"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names, gomomo::domain::events::EVENT_NAMES);
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_bad_input_is_a_4xx_with_a_stable_code(pool: PgPool) {
    seed_demo(&pool).await.unwrap();
    let clock = Clock::fixed(march_2_8am());
    let app = app(pool.clone(), clock.clone(), PLATFORM);
    let svc = consult();
    let avail = |q: &str| demo(&format!("/availability?{q}"));
    let unknown = "/api/tenants/00000000-0000-4000-8000-000000000000";
    let (s, v) = post(&app, &demo("/sessions"), "").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let sid = v["session_id"].as_str().unwrap().to_string();

    let cases: Vec<(&str, String, Option<String>, StatusCode, &str)> = vec![
        ("GET", "/api/tenants/not-a-uuid".into(), None, StatusCode::BAD_REQUEST, "invalid_tenant_id"),
        ("GET", unknown.into(), None, StatusCode::NOT_FOUND, "tenant_not_found"),
        ("GET", format!("{unknown}/availability?service={svc}&from=2026-03-03&to=2026-03-03"), None, StatusCode::NOT_FOUND, "tenant_not_found"),
        ("GET", avail(&format!("service={svc}&from=2026-13-01&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("GET", avail(&format!("service={svc}&from=tomorrow&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("GET", avail(&format!("service={svc}&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("GET", avail(&format!("service={svc}&from=2026-03-05&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_range"),
        ("GET", avail(&format!("service={svc}&from=2026-03-03&to=2026-04-30")), None, StatusCode::BAD_REQUEST, "range_beyond_lookahead"),
        ("GET", avail("from=2026-03-03&to=2026-03-03"), None, StatusCode::BAD_REQUEST, "invalid_service_id"),
        ("GET", avail("service=xyz&from=2026-03-03&to=2026-03-03"), None, StatusCode::BAD_REQUEST, "invalid_service_id"),
        ("GET", avail("service=00000000-0000-4000-8000-000000000000&from=2026-03-03&to=2026-03-03"), None, StatusCode::NOT_FOUND, "service_not_found"),
        ("POST", demo("/holds"), Some("{\"service_id\": ".into()), StatusCode::BAD_REQUEST, "invalid_json"),
        ("POST", demo("/holds"), Some("{\"service_id\": \"x\"}".into()), StatusCode::BAD_REQUEST, "invalid_body"),
        ("POST", demo("/holds"), Some(json!({"service_id": svc, "start": "March 3rd", "session_id": sid}).to_string()), StatusCode::BAD_REQUEST, "invalid_start"),
        ("POST", demo("/holds"), Some(json!({"service_id": svc, "start": "2026-03-03T09:00:00", "session_id": sid}).to_string()), StatusCode::BAD_REQUEST, "invalid_start"),
        ("POST", demo("/holds"), Some(json!({"service_id": svc, "start": "2026-03-03T09:00:00-05:00", "session_id": "bad session"}).to_string()), StatusCode::NOT_FOUND, "session_not_found"),
        ("POST", demo("/holds"), Some(json!({"service_id": svc, "start": "2026-03-03T09:00:00-05:00", "session_id": "web-abc"}).to_string()), StatusCode::NOT_FOUND, "session_not_found"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": "web-abc", "client_name": "A", "client_email": "a@example.com"}).to_string()), StatusCode::NOT_FOUND, "session_not_found"),
        ("POST", demo("/holds"), Some(json!({"service_id": svc, "start": "2026-03-03T09:10:00-05:00", "session_id": sid}).to_string()), StatusCode::CONFLICT, "slot_unavailable"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": "A", "client_email": "a@example.com"}).to_string()), StatusCode::NOT_FOUND, "hold_not_found"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "nope", "session_id": sid, "client_name": "A", "client_email": "a@example.com"}).to_string()), StatusCode::BAD_REQUEST, "invalid_hold_id"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": "A", "client_email": "not-an-email"}).to_string()), StatusCode::BAD_REQUEST, "invalid_email"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": " ", "client_email": "a@example.com"}).to_string()), StatusCode::BAD_REQUEST, "invalid_client_name"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": "A", "client_email": "a@example.com", "client_phone": "555-0100"}).to_string()), StatusCode::BAD_REQUEST, "invalid_phone"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": "A", "client_email": "a@example.com", "notes": "x".repeat(2001)}).to_string()), StatusCode::BAD_REQUEST, "invalid_notes"),
        ("POST", demo("/bookings/ABCD-EFGH/lookup"), Some(json!({"email": "a@example.com"}).to_string()), StatusCode::NOT_FOUND, "booking_not_found"),
        ("POST", demo("/bookings/ABCD-EF0H/lookup"), Some(json!({"email": "a@example.com"}).to_string()), StatusCode::BAD_REQUEST, "invalid_reference"),
        ("POST", demo("/bookings/ABCD-EFGH/lookup"), Some(json!({"email": ""}).to_string()), StatusCode::BAD_REQUEST, "invalid_email"),
        ("GET", demo("/bookings/ABCD-EFGH?email=a@example.com"), None, StatusCode::BAD_REQUEST, "email_in_url"),
        ("GET", demo("/bookings/ABCD-EFGH"), None, StatusCode::BAD_REQUEST, "invalid_email"),
        ("POST", demo("/bookings/ABCD-EFGH/cancel"), Some(json!({"email": "a@example.com"}).to_string()), StatusCode::NOT_FOUND, "booking_not_found"),
        ("POST", demo("/bookings/ABCD-EFGH/reschedule"), Some(json!({"email": "a@example.com", "hold_id": "00000000-0000-4000-8000-000000000000"}).to_string()), StatusCode::NOT_FOUND, "booking_not_found"),
        ("GET", "/api/nope".into(), None, StatusCode::NOT_FOUND, "route_not_found"),
        ("GET", avail(&format!("service={svc}&from=-262143-01-01&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("GET", avail(&format!("service={svc}&from=1900-01-01&to=2026-03-03")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("GET", avail(&format!("service={svc}&from=2026-03-03&to=%2B262142-12-31")), None, StatusCode::BAD_REQUEST, "invalid_date"),
        ("POST", demo("/bookings"), Some(json!({"hold_id": "00000000-0000-4000-8000-000000000000", "session_id": sid, "client_name": "A", "client_email": "a@example.com", "notes": "nul\u{0}byte"}).to_string()), StatusCode::BAD_REQUEST, "invalid_notes"),
        ("DELETE", demo("/holds"), None, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
    ];
    for (method, uri, body, want_status, want_code) in cases {
        let (s, v) = call(&app, method, &uri, body.as_deref(), None).await;
        assert_eq!(
            (s, code(&v)),
            (want_status, want_code),
            "{method} {uri} {body:?} → {v}"
        );
    }

    // an old `from` is clamped to today: the past has no slots, history is not scanned
    let (s, v) = call(
        &app,
        "GET",
        &avail(&format!("service={svc}&from=2000-01-01&to=2026-03-03")),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["slots"].as_array().unwrap().len(),
        16 + 16,
        "Monday after 09:00 plus Tuesday"
    );

    // a body without a JSON content type
    let req = Request::post(demo("/holds"))
        .body(Body::from("{}"))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // a foreign hold, a wrong email, an expired hold
    let (_, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": svc, "start": "2026-03-03T11:00:00-05:00"}),
    )
    .await;
    let owner = hold["session_id"].as_str().unwrap().to_string();
    let body = |session: &str| json!({"hold_id": hold["hold_id"], "session_id": session, "client_name": "Bo", "client_email": "bo@example.com"});
    let (s, v) = post(&app, &demo("/bookings"), body(&sid)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "hold_not_owned"));
    let (s, b) = post(&app, &demo("/bookings"), body(&owner)).await;
    assert_eq!(s, StatusCode::CREATED);
    let reference = b["reference"].as_str().unwrap();
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/lookup")),
        json!({"email": "eve@example.com"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "booking_not_found"));
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/cancel")),
        json!({"email": "eve@example.com"}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "booking_not_found"));

    let (_, h2) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": svc, "start": "2026-03-03T12:00:00-05:00", "session_id": sid}),
    )
    .await;
    clock.advance(chrono::Duration::minutes(6));
    let (s, v) = post(&app, &demo("/bookings"), json!({"hold_id": h2["hold_id"], "session_id": sid, "client_name": "Cy", "client_email": "cy@example.com"})).await;
    assert_eq!((s, code(&v)), (StatusCode::GONE, "hold_expired"));
    let (s, v) = post(
        &app,
        &demo(&format!("/bookings/{reference}/reschedule")),
        json!({"email": "bo@example.com", "hold_id": h2["hold_id"]}),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::GONE, "hold_expired"));

    // nothing half-written: one booking, no stray holds beyond the expired one
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn admin_routes_need_the_tenants_key(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), PLATFORM);
    let key = seed.api_key.as_str();

    // tenant creation: platform key only
    let body = json!({"name": "Salon Uno", "time_zone": "Europe/Madrid", "max_days_ahead": 30})
        .to_string();
    let (s, v) = call(&app, "POST", "/api/admin/tenants", Some(&body), None).await;
    assert_eq!((s, code(&v)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (s, _) = call(&app, "POST", "/api/admin/tenants", Some(&body), Some(key)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let bad_tz = json!({"name": "X", "time_zone": "Mars/Base"}).to_string();
    let (s, v) = call(
        &app,
        "POST",
        "/api/admin/tenants",
        Some(&bad_tz),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_time_zone")
    );
    let (s, created) = call(
        &app,
        "POST",
        "/api/admin/tenants",
        Some(&body),
        Some(PLATFORM_KEY),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let t2 = created["tenant"]["id"].as_str().unwrap().to_string();
    let k2 = created["api_key"].as_str().unwrap().to_string();
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT key_hash FROM tenant_api_keys WHERE tenant_id = $1::uuid")
            .bind(&t2)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_ne!(stored, k2.as_bytes(), "keys are stored hashed");

    let adm = |p: &str| format!("/api/admin/tenants/{t2}{p}");
    // no key, a wrong key, another tenant's key
    let (s, _) = call(&app, "GET", &adm("/resources"), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, "GET", &adm("/resources"), None, Some("gmk_wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = call(&app, "GET", &adm("/resources"), None, Some(key)).await;
    assert_eq!((s, code(&v)), (StatusCode::FORBIDDEN, "wrong_tenant"));

    // build the tenant: a resource, a service, hours
    let (s, r) = call(
        &app,
        "POST",
        &adm("/resources"),
        Some(&json!({"name": "Chair 1", "kind": "room"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    let (s, v) = call(
        &app,
        "PATCH",
        &adm(&format!("/resources/{rid}")),
        Some(&json!({"name": "Chair One", "kind": "staff"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, v["name"].as_str(), v["kind"].as_str()),
        (StatusCode::OK, Some("Chair One"), Some("staff"))
    );
    let (s, v) = call(
        &app,
        "PATCH",
        &adm("/resources/00000000-0000-4000-8000-000000000000"),
        Some(&json!({"name": "Ghost"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "resource_not_found"));
    let (s, v) = call(&app, "GET", &adm("/resources"), None, Some(&k2)).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (s, v) = call(
        &app,
        "PATCH",
        &adm(""),
        Some(&json!({"time_zone": "Nowhere/City"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_time_zone")
    );
    let (s, v) = call(
        &app,
        "POST",
        &adm("/resources"),
        Some(&json!({"name": "X", "kind": "robot"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_kind"));
    let svc_body =
        json!({"name": "Haircut", "duration_minutes": 45, "resource_ids": [r["id"]]}).to_string();
    let (s, svc) = call(&app, "POST", &adm("/services"), Some(&svc_body), Some(&k2)).await;
    assert_eq!(s, StatusCode::CREATED, "{svc}");
    assert_eq!(svc["resource_ids"][0], r["id"]);
    let foreign =
        json!({"name": "Y", "duration_minutes": 30, "resource_ids": [gomomo::services::admin::DEMO_RESOURCES[0].0]})
            .to_string();
    let (s, v) = call(&app, "POST", &adm("/services"), Some(&foreign), Some(&k2)).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, "resource_not_found"));
    let (s, v) = call(
        &app,
        "POST",
        &adm("/services"),
        Some(&json!({"name": "Z", "duration_minutes": 1}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_duration_minutes")
    );
    let too_many: Vec<String> = (0..65).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (s, v) = call(
        &app,
        "POST",
        &adm("/services"),
        Some(
            &json!({"name": "Many", "duration_minutes": 30, "resource_ids": too_many}).to_string(),
        ),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_resource_ids")
    );
    let (s, v) = call(
        &app,
        "POST",
        &adm("/services"),
        Some(&json!({"name": "Nul", "duration_minutes": 30, "description": "a\u{0}b"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_description")
    );
    let sid = svc["id"].as_str().unwrap();
    let (s, v) = call(
        &app,
        "PATCH",
        &adm(&format!("/services/{sid}")),
        Some(&json!({"duration_minutes": 60}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, v["duration_minutes"].as_i64()),
        (StatusCode::OK, Some(60))
    );
    let hours = json!({"hours": [{"weekday": 2, "opens": "10:00", "closes": "14:00"}, {"weekday": 2, "opens": "15:00", "closes": "19:00"}]}).to_string();
    let (s, v) = call(&app, "PUT", &adm("/hours"), Some(&hours), Some(&k2)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // concurrent replacements of the week serialise instead of failing
    let mut puts = Vec::new();
    for _ in 0..8 {
        let (app, uri, body, key) = (app.clone(), adm("/hours"), hours.clone(), k2.clone());
        puts.push(tokio::spawn(async move {
            call(&app, "PUT", &uri, Some(&body), Some(&key)).await.0
        }));
    }
    for p in puts {
        assert_eq!(p.await.unwrap(), StatusCode::OK);
    }
    let overlapping = json!({"hours": [{"weekday": 2, "opens": "10:00", "closes": "14:00"}, {"weekday": 2, "opens": "13:00", "closes": "19:00"}]}).to_string();
    let (s, v) = call(&app, "PUT", &adm("/hours"), Some(&overlapping), Some(&k2)).await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_hours"));
    let (s, v) = call(
        &app,
        "PATCH",
        &adm(""),
        Some(&json!({"buffer_minutes": 10, "name": "Salon Uno Centro"}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, v["booking_rules"]["buffer_minutes"].as_i64()),
        (StatusCode::OK, Some(10))
    );
    let (s, v) = call(
        &app,
        "PATCH",
        &adm(""),
        Some(&json!({"max_days_ahead": 0}).to_string()),
        Some(&k2),
    )
    .await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_max_days_ahead")
    );

    // the new tenant is bookable: Tuesday 3 March, Madrid time, 60-minute slots on a 30-minute grid
    let (s, v) = call(
        &app,
        "GET",
        &format!("/api/tenants/{t2}/availability?service={sid}&from=2026-03-03&to=2026-03-03"),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let starts: Vec<&str> = v["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["start"].as_str().unwrap())
        .collect();
    assert_eq!(starts.first(), Some(&"2026-03-03T10:00:00+01:00"));
    assert!(starts.contains(&"2026-03-03T13:00:00+01:00"));
    assert!(
        !starts.contains(&"2026-03-03T13:30:00+01:00"),
        "would run past the 14:00 break"
    );
    assert!(starts.contains(&"2026-03-03T15:00:00+01:00"));

    // list bookings of the demo tenant
    let (_, hold) = post(
        &app,
        &demo("/holds"),
        json!({"service_id": consult(), "start": "2026-03-03T09:00:00-05:00"}),
    )
    .await;
    post(&app, &demo("/bookings"), json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": "Li", "client_email": "li@example.com"})).await;
    let list =
        format!("/api/admin/tenants/{DEMO_TENANT_ID}/bookings?from=2026-03-02&to=2026-03-06");
    let (s, v) = call(&app, "GET", &list, None, Some(key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["bookings"].as_array().unwrap().len(), 1);
    let (s, v) = call(
        &app,
        "GET",
        &format!("{list}&status=maybe"),
        None,
        Some(key),
    )
    .await;
    assert_eq!((s, code(&v)), (StatusCode::BAD_REQUEST, "invalid_status"));
}

/// A tenant with ONE resource so a slot has exactly one winner. Returns (tenant, service).
async fn single_resource_tenant(app: &Router) -> (String, String) {
    let body =
        json!({"name": "Solo", "time_zone": "America/New_York", "max_days_ahead": 14}).to_string();
    let (_, created) = call(
        app,
        "POST",
        "/api/admin/tenants",
        Some(&body),
        Some(PLATFORM_KEY),
    )
    .await;
    let t = created["tenant"]["id"].as_str().unwrap().to_string();
    let k = created["api_key"].as_str().unwrap().to_string();
    let adm = |p: &str| format!("/api/admin/tenants/{t}{p}");
    let (_, r) = call(
        app,
        "POST",
        &adm("/resources"),
        Some(&json!({"name": "Only"}).to_string()),
        Some(&k),
    )
    .await;
    let (_, svc) = call(
        app,
        "POST",
        &adm("/services"),
        Some(
            &json!({"name": "Visit", "duration_minutes": 30, "resource_ids": [r["id"]]})
                .to_string(),
        ),
        Some(&k),
    )
    .await;
    let hours = json!({"hours": (1..=5).map(|d| json!({"weekday": d, "opens": "09:00", "closes": "17:00"})).collect::<Vec<_>>()}).to_string();
    let (s, _) = call(app, "PUT", &adm("/hours"), Some(&hours), Some(&k)).await;
    assert_eq!(s, StatusCode::OK);
    (t, svc["id"].as_str().unwrap().to_string())
}

/// The races hammer one tenant from one client: request budgets off, as in benchmarks.
const RACE: &[(&str, &str)] = &[
    ("GOMOMO_PLATFORM_KEY", PLATFORM_KEY),
    ("RATE_LIMITS", "off"),
];

async fn race_pool(opts: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(40)
        .connect_with(opts)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn race_64_holds_on_one_slot_one_winner(_p: PgPoolOptions, opts: PgConnectOptions) {
    let pool = race_pool(opts).await;
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), RACE);
    let (t, svc) = single_resource_tenant(&app).await;
    let uri = format!("/api/tenants/{t}/holds");
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (app, uri, svc) = (app.clone(), uri.clone(), svc.clone());
        tasks.push(tokio::spawn(async move {
            post(
                &app,
                &uri,
                json!({"service_id": svc, "start": "2026-03-03T10:00:00-05:00"}),
            )
            .await
        }));
    }
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        if s == StatusCode::CONFLICT {
            assert_eq!(code(&v), "slot_unavailable");
        }
        *by_status.entry(s.as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&63), "{by_status:?}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM availability_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn race_64_confirms_on_one_slot_one_winner(_p: PgPoolOptions, opts: PgConnectOptions) {
    let pool = race_pool(opts).await;
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), RACE);
    let (t, svc) = single_resource_tenant(&app).await;
    // GIVEN 64 live holds on the same slot and resource (written directly: the hold path
    // would never grant them) WHEN all 64 sessions confirm at once THEN exactly one books.
    let (_, first) = post(
        &app,
        &format!("/api/tenants/{t}/holds"),
        json!({"service_id": svc, "start": "2026-03-03T10:00:00-05:00"}),
    )
    .await;
    let hold0: uuid::Uuid = first["hold_id"].as_str().unwrap().parse().unwrap();
    for i in 1..64 {
        sqlx::query(
            "INSERT INTO availability_holds (id, tenant_id, service_id, resource_id, session_id, during, expires_at)
             SELECT gen_random_uuid(), tenant_id, service_id, resource_id, $2, during, expires_at FROM availability_holds WHERE id = $1",
        )
        .bind(hold0)
        .bind(format!("gs_racer-{i}"))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO issued_sessions (id, tenant_id) VALUES ($1, $2::uuid)")
            .bind(format!("gs_racer-{i}"))
            .bind(&t)
            .execute(&pool)
            .await
            .unwrap();
    }
    let holds: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, session_id FROM availability_holds")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(holds.len(), 64);
    let uri = format!("/api/tenants/{t}/bookings");
    let mut tasks = Vec::new();
    for (id, session) in holds {
        let (app, uri) = (app.clone(), uri.clone());
        tasks.push(tokio::spawn(async move {
            post(&app, &uri, json!({"hold_id": id, "session_id": session, "client_name": "Racer", "client_email": "racer@example.com"})).await
        }));
    }
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert!(!s.is_server_error(), "{s} {v}");
        if s == StatusCode::CONFLICT {
            assert_eq!(code(&v), "slot_taken");
        }
        *by_status.entry(s.as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&201), Some(&1), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&63), "{by_status:?}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn race_64_clients_hold_then_confirm_one_slot_one_booking(
    _p: PgPoolOptions,
    opts: PgConnectOptions,
) {
    // GIVEN 64 clients without sessions WHEN each, at the same moment, holds the same slot
    // and confirms its hold with the session the hold gave it THEN exactly one booking is
    // made and every other client gets a 409 (slot_unavailable at the hold or slot_taken
    // at the confirm), never a 5xx.
    let pool = race_pool(opts).await;
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), RACE);
    let (t, svc) = single_resource_tenant(&app).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(64));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (app, t, svc, barrier) = (app.clone(), t.clone(), svc.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let (s, hold) = post(
                &app,
                &format!("/api/tenants/{t}/holds"),
                json!({"service_id": svc, "start": "2026-03-03T10:00:00-05:00"}),
            )
            .await;
            if s != StatusCode::CREATED {
                return ("hold", s, hold);
            }
            let confirm = json!({
                "hold_id": hold["hold_id"],
                "session_id": hold["session_id"],
                "client_name": "Racer",
                "client_email": format!("racer{i}@example.com"),
            });
            let (s, v) = post(&app, &format!("/api/tenants/{t}/bookings"), confirm).await;
            ("confirm", s, v)
        }));
    }
    let mut outcomes: HashMap<(&str, u16, String), usize> = HashMap::new();
    for task in tasks {
        let (step, s, v) = task.await.unwrap();
        assert!(!s.is_server_error(), "{step}: {s} {v}");
        if s == StatusCode::CONFLICT {
            let expected = if step == "hold" {
                "slot_unavailable"
            } else {
                "slot_taken"
            };
            assert_eq!(code(&v), expected, "{step}: {v}");
        } else {
            assert_eq!((step, s), ("confirm", StatusCode::CREATED), "{v}");
        }
        *outcomes
            .entry((step, s.as_u16(), code(&v).to_string()))
            .or_default() += 1;
    }
    let booked = outcomes
        .iter()
        .filter(|((step, s, _), _)| *step == "confirm" && *s == 201)
        .map(|(_, n)| *n)
        .sum::<usize>();
    assert_eq!(booked, 1, "{outcomes:?}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM appointments")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}
