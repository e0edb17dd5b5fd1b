//! Staff overriding the booking rules through the admin's Excel import: a move onto a day
//! the service's cap has filled is applied, and the override is audited.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Cursor;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use calamine::{Data, Reader, Xlsx};
use gomomo::db::bookings::appointment_by_reference;
use gomomo::db::schedule as schedule_db;
use gomomo::services::admin::{seed_demo, DEMO_SERVICES, DEMO_TENANT_ID};
use gomomo::services::Clock;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use sqlx::PgPool;
use support::{app, march_2_8am};
use tower::ServiceExt;

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    bearer: Option<&str>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(k) = bearer {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, ct, bytes)
}

async fn post_json(app: &Router, path: &str, body: Value) -> (StatusCode, Value) {
    let uri = format!("/api/tenants/{DEMO_TENANT_ID}{path}");
    let (s, _, b) = send(
        app,
        "POST",
        &uri,
        Some("application/json"),
        body.to_string().into_bytes(),
        None,
    )
    .await;
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// Books a Consultation at `start`; None when the time is not free.
async fn book(app: &Router, start: &str, session: &str, name: &str) -> Option<String> {
    let (s, hold) = post_json(
        app,
        "/holds",
        json!({"service_id": DEMO_SERVICES[0].0.to_string(), "start": start}),
    )
    .await;
    if s != StatusCode::CREATED {
        return None;
    }
    let (s, b) = post_json(
        app,
        "/bookings",
        json!({"hold_id": hold["hold_id"], "session_id": hold["session_id"], "client_name": name,
               "client_email": format!("{session}@example.com"), "client_phone": "+1 555 555 0100"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    Some(b["reference"].as_str().unwrap().to_string())
}

fn read_back(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|d| match d {
                    Data::Empty => String::new(),
                    d => d.to_string(),
                })
                .collect()
        })
        .collect()
}

fn write_xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in (0u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            if !v.is_empty() {
                sheet.write_string(r, c, v).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_import_may_move_a_booking_past_the_daily_cap(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let a = book(&app, "2026-03-03T10:00:00-05:00", "s-a", "Ann Ode")
        .await
        .unwrap();
    book(&app, "2026-03-04T09:00:00-05:00", "s-b", "Ben Ode")
        .await
        .unwrap();
    // One consultation a day from now on: Wednesday is full.
    let (s, _, b) = send(
        &app,
        "PUT",
        &format!(
            "/api/admin/tenants/{DEMO_TENANT_ID}/services/{}/rules",
            DEMO_SERVICES[0].0
        ),
        Some("application/json"),
        json!({"max_per_day": 1}).to_string().into_bytes(),
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert!(book(&app, "2026-03-04T11:00:00-05:00", "s-c", "Cy Ode")
        .await
        .is_none());

    let export = format!("/api/admin/tenants/{DEMO_TENANT_ID}/appointments.xlsx");
    let (s, _, bytes) = send(
        &app,
        "GET",
        &format!("{export}?from=2026-03-02&to=2026-03-06"),
        None,
        vec![],
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut rows = read_back(&bytes);
    let row = rows.iter().position(|r| r.contains(&a)).unwrap();
    rows[row][2] = "2026-03-04T11:00:00-05:00".into();
    let (s, _, body) = send(
        &app,
        "POST",
        &export,
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        write_xlsx(&rows),
        Some(key),
    )
    .await;
    let summary: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, StatusCode::OK, "{summary}");
    assert_eq!(summary["applied"], 1, "{summary}");
    let moved = appointment_by_reference(&pool, DEMO_TENANT_ID, &a, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.start_at,
        support::ny(2026, 3, 4, 11, 0),
        "moved past the cap"
    );
    let events = schedule_db::audit_events(&pool, DEMO_TENANT_ID, "appointment", moved.id)
        .await
        .unwrap();
    assert!(
        events.contains(&"booking.rule_overridden".to_string()),
        "{events:?}"
    );
}
