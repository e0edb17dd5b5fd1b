//! Excel export and import through the real router on a real Postgres: the exported sheet is
//! read back with calamine, edited with rust_xlsxwriter and imported; the summary, the
//! bookings and the `sync_dead_letter` rows are checked.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Cursor;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Utc};
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
async fn export_edit_import_reconciles_and_dead_letters(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);

    let cancel_ref = book(&app, "2026-03-03T09:00:00-05:00", "s-cancel", "Ana Lopez")
        .await
        .unwrap();
    let move_ref = book(&app, "2026-03-03T10:00:00-05:00", "s-move", "Ben Ode")
        .await
        .unwrap();
    let taken_ref = book(&app, "2026-03-03T11:00:00-05:00", "s-taken", "Cy Park")
        .await
        .unwrap();
    let name_ref = book(&app, "2026-03-03T12:00:00-05:00", "s-name", "Di Wu")
        .await
        .unwrap();
    // Fill 5 March 09:00 on every resource, so moving there is refused.
    let mut blockers = Vec::new();
    for i in 0..5 {
        match book(
            &app,
            "2026-03-05T09:00:00-05:00",
            &format!("s-block{i}"),
            "Blocker",
        )
        .await
        {
            Some(r) => blockers.push(r),
            None => break,
        }
    }
    assert!(!blockers.is_empty() && blockers.len() < 5);

    let export = format!("/api/admin/tenants/{DEMO_TENANT_ID}/appointments.xlsx");
    let (s, ct, bytes) = send(
        &app,
        "GET",
        &format!("{export}?from=2026-03-02&to=2026-03-06"),
        None,
        vec![],
        Some(key),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        ct.as_deref(),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let mut rows = read_back(&bytes);
    assert_eq!(
        rows[0],
        [
            "reference",
            "status",
            "start",
            "end",
            "service",
            "resource",
            "client_name",
            "client_email",
            "client_phone",
            "notes"
        ]
    );
    assert_eq!(rows.len(), 1 + 4 + blockers.len());
    let idx = |rows: &[Vec<String>], r: &str| rows.iter().position(|x| x[0] == *r).unwrap();
    let c = idx(&rows, &cancel_ref);
    assert_eq!(rows[c][1], "confirmed");
    assert_eq!(rows[c][2], "2026-03-03T09:00:00-05:00");
    assert_eq!(rows[c][3], "2026-03-03T09:30:00-05:00");
    assert_eq!(rows[c][4], "Consultation");
    assert_eq!(rows[c][6], "Ana Lopez");
    assert_eq!(rows[c][7], "s-cancel@example.com");
    assert_eq!(rows[c][8], "+15555550100");

    // The edits.
    rows[c][1] = "cancelled".into();
    let m = idx(&rows, &move_ref);
    rows[m][2] = "2026-03-04T09:00:00-05:00".into();
    let t = idx(&rows, &taken_ref);
    rows[t][2] = "2026-03-05T09:00:00-05:00".into();
    let n = idx(&rows, &name_ref);
    rows[n][6] = "Someone Else".into();
    let mut unknown = rows[n].clone();
    unknown[0] = "ZZZZ-2222".into();
    unknown[6] = "Di Wu".into();
    rows.push(unknown);
    let unknown_row = rows.len() as u64; // sheet rows are 1-based

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
    assert_eq!(summary["applied"], 2, "{summary}");
    assert_eq!(summary["unchanged"], blockers.len() as u64, "{summary}");
    let dead = summary["dead_lettered"].as_array().unwrap();
    assert_eq!(dead.len(), 3, "{summary}");
    let reason = |r: &str| {
        dead.iter()
            .find(|d| d["reference"] == r)
            .unwrap_or_else(|| panic!("{r} not dead-lettered: {summary}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason(&taken_ref).contains("not available"), "{summary}");
    assert!(reason(&name_ref).starts_with("field not editable: client_name"));
    assert!(reason("ZZZZ-2222").contains("unknown reference"));
    let unknown_dead = dead.iter().find(|d| d["reference"] == "ZZZZ-2222").unwrap();
    assert_eq!(unknown_dead["row"], unknown_row);

    // The database: cancelled, moved, untouched.
    let appt = |r: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_as::<_, (String, DateTime<Utc>, String, i32)>(
                "SELECT status, lower(during), client_name, sequence FROM appointments WHERE reference = $1",
            )
            .bind(r)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    assert_eq!(appt(cancel_ref.clone()).await.0, "cancelled");
    let moved = appt(move_ref.clone()).await;
    assert_eq!(
        (moved.0.as_str(), moved.1),
        ("confirmed", at("2026-03-04T09:00:00-05:00"))
    );
    assert!(moved.3 > 0, "a reschedule raises the sequence");
    let taken = appt(taken_ref.clone()).await;
    assert_eq!(
        (taken.0.as_str(), taken.1),
        ("confirmed", at("2026-03-03T11:00:00-05:00"))
    );
    let named = appt(name_ref.clone()).await;
    assert_eq!((named.0.as_str(), named.2.as_str()), ("confirmed", "Di Wu"));

    // The dead letters are stored with the row, the reference, the reason and the cells.
    let letters: Vec<(i32, Option<String>, String, String, Value, String)> = sqlx::query_as(
        "SELECT row_number, reference, operation, error, payload, source FROM sync_dead_letter
          WHERE tenant_id = $1 ORDER BY row_number",
    )
    .bind(DEMO_TENANT_ID)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(letters.len(), 3);
    assert!(letters.iter().all(|l| l.5 == "excel"));
    let l = letters
        .iter()
        .find(|l| l.1.as_deref() == Some(name_ref.as_str()))
        .unwrap();
    assert_eq!(l.2, "update");
    assert_eq!(l.4["client_name"], "Someone Else");
    let l = letters
        .iter()
        .find(|l| l.1.as_deref() == Some(taken_ref.as_str()))
        .unwrap();
    assert_eq!(l.2, "reschedule");
    assert_eq!(l.0 as usize, t + 1);

    // The applied changes were audited by the booking service.
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND event_type IN ('booking.cancelled', 'booking.rescheduled')",
    )
    .bind(DEMO_TENANT_ID)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 2, "one audit row per applied change");

    // Importing the same sheet again: nothing more applied.
    let again = read_back(
        &send(
            &app,
            "GET",
            &format!("{export}?from=2026-03-02&to=2026-03-06"),
            None,
            vec![],
            Some(key),
        )
        .await
        .2,
    );
    let (s, _, body) = send(&app, "POST", &export, None, write_xlsx(&again), Some(key)).await;
    let summary: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, StatusCode::OK, "{summary}");
    assert_eq!(summary["applied"], 0, "{summary}");
    assert_eq!(
        summary["dead_lettered"].as_array().unwrap().len(),
        0,
        "{summary}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn bad_files_and_missing_keys_are_refused(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let uri = format!("/api/admin/tenants/{DEMO_TENANT_ID}/appointments.xlsx");

    let (s, _, body) = send(
        &app,
        "POST",
        &uri,
        None,
        b"not a workbook".to_vec(),
        Some(key),
    )
    .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_xlsx"))
    );

    // A workbook without the expected header row.
    let (s, _, body) = send(
        &app,
        "POST",
        &uri,
        None,
        write_xlsx(&[vec!["hello".into(), "world".into()]]),
        Some(key),
    )
    .await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_xlsx"))
    );

    for method in ["GET", "POST"] {
        let (s, _, body) = send(&app, method, &uri, None, vec![], None).await;
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {v}");
        let (s, _, _) = send(
            &app,
            method,
            &uri,
            None,
            vec![],
            Some("wrong-key-0123456789"),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{method}");
    }
    let (s, _, body) = send(&app, "GET", "/openapi.json", None, vec![], None).await;
    assert_eq!(s, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let path = &doc["paths"]["/api/admin/tenants/{tenant}/appointments.xlsx"];
    assert!(
        path["get"].is_object() && path["post"].is_object(),
        "{path}"
    );

    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sync_dead_letter")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_move_leaves_nothing_behind(pool: PgPool) {
    let seed = seed_demo(&pool).await.unwrap();
    let key = seed.api_key.as_str();
    let app = app(pool.clone(), Clock::fixed(march_2_8am()), &[]);
    let reference = book(&app, "2026-03-03T10:00:00-05:00", "s-move", "Ben Ode")
        .await
        .unwrap();
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
    rows[1][2] = "2026-03-04T09:00:00-05:00".into();

    // The database fails the move itself, and would fail any clean-up delete after it: an
    // import that needs a second step to undo its first leaves that first step behind.
    sqlx::raw_sql(
        "CREATE FUNCTION fail_now() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER fail_moves BEFORE UPDATE ON appointments
           FOR EACH ROW EXECUTE FUNCTION fail_now();
         CREATE TRIGGER fail_hold_deletes BEFORE DELETE ON availability_holds
           FOR EACH ROW EXECUTE FUNCTION fail_now();",
    )
    .execute(&pool)
    .await
    .unwrap();
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
    assert_eq!(summary["applied"], 0, "{summary}");
    let dead = summary["dead_lettered"].as_array().unwrap();
    assert_eq!(dead.len(), 1, "{summary}");
    assert_eq!(dead[0]["reference"], reference.as_str());

    let holds: i64 = sqlx::query_scalar("SELECT count(*) FROM availability_holds")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(holds, 0, "the refused move left a hold behind");
    let (start, sequence): (DateTime<Utc>, i32) =
        sqlx::query_as("SELECT lower(during), sequence FROM appointments WHERE reference = $1")
            .bind(&reference)
            .fetch_one(&pool)
            .await
            .unwrap();
    let at = DateTime::parse_from_rfc3339("2026-03-03T10:00:00-05:00").unwrap();
    assert_eq!((start, sequence), (at.with_timezone(&Utc), 0));
}

/// Staff overriding the booking rules through the import: a move onto a day the service's
/// cap has filled is applied, and the override is audited.
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
