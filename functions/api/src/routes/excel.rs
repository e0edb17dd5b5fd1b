//! Excel export and import of a tenant's appointments (issue 6), behind the tenant API key.
//!
//! Import reconciliation (rows matched by reference; each row is applied on its own):
//! - identical to the stored booking → unchanged;
//! - status `confirmed` → `cancelled` → `BookingService::cancel` with the stored email;
//! - a new start → a hold for it (session `excel-import:<reference>`) and
//!   `BookingService::reschedule` with that hold; never a direct write;
//! - client name/email/phone, notes, service, resource or end changed → the row is not
//!   applied at all ("field not editable");
//! - unknown reference (including another tenant's), an unparseable row, a duplicate
//!   reference, un-cancelling, or any refusal of the booking service → `sync_dead_letter`.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use gomomo::db::bookings::{self as q, AppointmentRow};
use gomomo::db::{sync_dead_letter, tenants};
use gomomo::domain::slots::local_to_utc;
use gomomo::domain::{ReferenceCode, SessionId, TenantId};
use gomomo::http::{ApiError, ApiPath, ApiQuery};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{date_field, tenant_id};
use crate::auth::tenant_admin;
use crate::AppState;

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The columns of the sheet, in export order.
pub const COLUMNS: [&str; 10] = [
    "reference",
    "status",
    "start",
    "end",
    "service",
    "resource",
    "client_name",
    "client_email",
    "client_phone",
    "notes",
];
/// Largest accepted upload.
const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Largest total declared uncompressed size of the archive's parts (zip-bomb guard).
const MAX_INFLATED_BYTES: u64 = 64 * 1024 * 1024;
const MAX_ROWS: usize = 5_000;
const MAX_EXPORT_ROWS: i64 = 10_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// First local date, `YYYY-MM-DD` (default: today).
    pub from: Option<String>,
    /// Last local date, inclusive (default: from + 30 days).
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetteredRow {
    /// Sheet row number (the header is row 1).
    pub row: u32,
    pub reference: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub applied: u32,
    pub unchanged: u32,
    pub dead_lettered: Vec<DeadLetteredRow>,
}

struct Names {
    services: HashMap<Uuid, String>,
    resources: HashMap<Uuid, String>,
}

async fn names(state: &AppState, tenant: TenantId) -> Result<Names, ApiError> {
    let internal = |e: sqlx::Error| ApiError::internal(&e);
    let services = tenants::list_services(state.pool(), tenant.0)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let resources = tenants::list_resources(state.pool(), tenant.0)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    Ok(Names {
        services,
        resources,
    })
}

fn row_cells(a: &AppointmentRow, tz: Tz, names: &Names) -> [String; 10] {
    [
        a.reference.clone(),
        a.status.to_string(),
        a.start_at.with_timezone(&tz).to_rfc3339(),
        a.end_at.with_timezone(&tz).to_rfc3339(),
        names
            .services
            .get(&a.service_id)
            .cloned()
            .unwrap_or_default(),
        names
            .resources
            .get(&a.resource_id)
            .cloned()
            .unwrap_or_default(),
        a.client_name.clone(),
        a.client_email.clone(),
        a.client_phone.clone().unwrap_or_default(),
        a.notes.clone().unwrap_or_default(),
    ]
}

#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/appointments.xlsx",
    params(("tenant" = String, Path), ExportQuery), security(("api_key" = [])),
    responses((status = 200, description = "the .xlsx workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = crate::dto::ErrorBody), (status = 401, body = crate::dto::ErrorBody), (status = 403, body = crate::dto::ErrorBody)))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let sched = state.booking.schedule(tenant).await?;
    let today = sched.local_date(state.booking.clock().now());
    let from = match q.from.as_deref() {
        None => today,
        Some(s) => date_field("from", Some(s))?,
    };
    let to = match q.to.as_deref() {
        None => from + Duration::days(30),
        Some(s) => date_field("to", Some(s))?,
    };
    if from > to {
        return Err(ApiError::bad_request("invalid_range", "from is after to"));
    }
    let lo = local_to_utc(sched.tz, from, NaiveTime::MIN, true);
    let hi = local_to_utc(sched.tz, to + Duration::days(1), NaiveTime::MIN, true);
    let rows = state
        .booking
        .list_bookings(tenant, lo, hi, None, MAX_EXPORT_ROWS)
        .await?;
    let names = names(&state, tenant).await?;

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    let xlsx_err = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "xlsx export failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the workbook could not be written",
        )
    };
    sheet.set_name("appointments").map_err(xlsx_err)?;
    for (c, name) in (0u16..).zip(COLUMNS) {
        sheet
            .write_string_with_format(0, c, name, &bold)
            .map_err(xlsx_err)?;
        sheet.set_column_width(c, 22).map_err(xlsx_err)?;
    }
    for (r, a) in (1u32..).zip(rows.iter()) {
        for (c, v) in (0u16..).zip(row_cells(a, sched.tz, &names)) {
            sheet.write_string(r, c, v).map_err(xlsx_err)?;
        }
    }
    let bytes = workbook.save_to_buffer().map_err(xlsx_err)?;
    let mut res = bytes.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XLSX_CONTENT_TYPE),
    );
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"appointments.xlsx\""),
    );
    Ok(res)
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_xlsx", msg)
}

/// The first sheet as rows of trimmed strings (header included).
fn read_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| invalid("the body is not an .xlsx file"))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip
            .by_index_raw(i)
            .map_err(|_| invalid("the .xlsx archive is damaged"))?;
        total = total.saturating_add(part.size());
    }
    if total > MAX_INFLATED_BYTES {
        return Err(invalid("the workbook is too large once unpacked"));
    }
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|_| invalid("the body is not a readable .xlsx workbook"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| invalid("the workbook has no sheet"))?
        .map_err(|_| invalid("the first sheet cannot be read"))?;
    Ok(range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect())
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        other => other.to_string().trim().to_string(),
    }
}

/// A start as written in the sheet: RFC 3339 with an offset, or a local time in the tenant's
/// zone (`YYYY-MM-DDTHH:MM[:SS]`, a space also accepted).
fn parse_start(raw: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())?;
    naive
        .and_local_timezone(tz)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// One sheet row by column name.
type Fields = HashMap<&'static str, String>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map(String::as_str).unwrap_or("")
}

enum Outcome {
    Applied,
    Unchanged,
    Dead {
        operation: &'static str,
        reason: String,
    },
}

fn dead(operation: &'static str, reason: impl Into<String>) -> Outcome {
    Outcome::Dead {
        operation,
        reason: reason.into(),
    }
}

#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/appointments.xlsx",
    params(("tenant" = String, Path)), security(("api_key" = [])),
    request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    responses((status = 200, body = ImportSummary), (status = 400, body = crate::dto::ErrorBody),
        (status = 401, body = crate::dto::ErrorBody), (status = 403, body = crate::dto::ErrorBody), (status = 413, body = crate::dto::ErrorBody)))]
pub async fn import_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    body: Body,
) -> Result<Json<ImportSummary>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let bytes = axum::body::to_bytes(body, MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the workbook must be at most {MAX_UPLOAD_BYTES} bytes"),
            )
        })?;
    let rows = tokio::task::spawn_blocking(move || read_sheet(&bytes))
        .await
        .map_err(|e| ApiError::internal(&e))??;
    let mut it = rows.into_iter();
    let header_row = it.next().ok_or_else(|| invalid("the sheet is empty"))?;
    let col: HashMap<String, usize> = header_row
        .iter()
        .enumerate()
        .map(|(i, h)| (h.to_ascii_lowercase(), i))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !col.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "the header row lacks the column(s): {}",
            missing.join(", ")
        )));
    }
    let data: Vec<Vec<String>> = it.collect();
    if data.len() > MAX_ROWS {
        return Err(ApiError::bad_request(
            "too_many_rows",
            format!("at most {MAX_ROWS} rows per import"),
        ));
    }

    let sched = state.booking.schedule(tenant).await?;
    let names = names(&state, tenant).await?;
    let mut summary = ImportSummary {
        applied: 0,
        unchanged: 0,
        dead_lettered: Vec::new(),
    };
    let mut seen = HashSet::new();
    for (row_no, cells) in (2u32..).zip(data) {
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let fields: Fields = COLUMNS
            .iter()
            .map(|&c| {
                let v = col.get(c).and_then(|&i| cells.get(i)).cloned();
                (c, v.unwrap_or_default())
            })
            .collect();
        let get = |name: &str| field(&fields, name);
        let raw_ref = get("reference").to_string();
        let payload: serde_json::Map<String, serde_json::Value> = COLUMNS
            .iter()
            .map(|c| (c.to_string(), serde_json::Value::from(get(c))))
            .collect();
        let key = ReferenceCode::parse(&raw_ref)
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|_| raw_ref.to_ascii_uppercase());
        let outcome = if !raw_ref.is_empty() && !seen.insert(key) {
            dead("parse", "duplicate reference in the sheet")
        } else {
            reconcile(&state, tenant, sched.tz, &names, &raw_ref, &fields).await?
        };
        match outcome {
            Outcome::Applied => summary.applied += 1,
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Dead { operation, reason } => {
                let reference = (!raw_ref.is_empty()).then_some(raw_ref);
                let payload = serde_json::Value::Object(payload);
                sync_dead_letter::insert(
                    state.pool(),
                    &sync_dead_letter::NewDeadLetter {
                        tenant_id: tenant.0,
                        source: "excel",
                        row_number: i32::try_from(row_no).unwrap_or(i32::MAX),
                        reference: reference.as_deref(),
                        operation,
                        payload: &payload,
                        error: &reason,
                    },
                )
                .await
                .map_err(|e| ApiError::internal(&e))?;
                summary.dead_lettered.push(DeadLetteredRow {
                    row: row_no,
                    reference,
                    reason,
                });
            }
        }
    }
    tracing::info!(
        tenant_id = %tenant,
        applied = summary.applied,
        unchanged = summary.unchanged,
        dead_lettered = summary.dead_lettered.len(),
        "excel import"
    );
    Ok(Json(summary))
}

async fn reconcile(
    state: &AppState,
    tenant: TenantId,
    tz: Tz,
    names: &Names,
    raw_ref: &str,
    fields: &Fields,
) -> Result<Outcome, ApiError> {
    let get = |name: &str| field(fields, name);
    let Ok(reference) = ReferenceCode::parse(raw_ref) else {
        return Ok(dead("parse", format!("unparseable reference {raw_ref:?}")));
    };
    let stored = q::appointment_by_reference(state.pool(), tenant.0, reference.as_str(), false)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(stored) = stored else {
        return Ok(dead("parse", "unknown reference for this tenant"));
    };
    let status = get("status").to_ascii_lowercase();
    if status != "confirmed" && status != "cancelled" {
        return Ok(dead(
            "parse",
            format!(
                "unparseable status {:?} (confirmed or cancelled)",
                get("status")
            ),
        ));
    }
    let Some(start) = parse_start(get("start"), tz) else {
        return Ok(dead(
            "parse",
            format!("unparseable start {:?}", get("start")),
        ));
    };
    let current = row_cells(&stored, tz, names);
    let moved = start != stored.start_at;
    // Fields the import never changes: any edit makes the whole row a dead letter.
    let mut locked: Vec<&str> = [
        (4, "service"),
        (5, "resource"),
        (6, "client_name"),
        (7, "client_email"),
        (8, "client_phone"),
        (9, "notes"),
    ]
    .into_iter()
    .filter(|&(i, name)| get(name) != current[i].trim())
    .map(|(_, name)| name)
    .collect();
    // The end follows from the start and the service; it only counts when the start is kept.
    if !moved && parse_start(get("end"), tz) != Some(stored.end_at) {
        locked.push("end");
    }
    if !locked.is_empty() {
        return Ok(dead(
            "update",
            format!(
                "field not editable: {} (client details change through the client)",
                locked.join(", ")
            ),
        ));
    }
    let Ok(email) = gomomo::domain::Email::parse(&stored.client_email) else {
        return Ok(dead("update", "the stored client email cannot be used"));
    };
    match (stored.status.as_str(), status.as_str()) {
        ("cancelled", "confirmed") => Ok(dead(
            "update",
            "a cancelled booking cannot be restored; book again",
        )),
        ("cancelled", _) if moved => Ok(dead("reschedule", "the booking is cancelled")),
        ("cancelled", _) => Ok(Outcome::Unchanged),
        (_, "cancelled") => match state.booking.cancel(tenant, &reference, &email).await {
            Ok(_) => Ok(Outcome::Applied),
            Err(e) => Ok(dead("cancel", e.to_string())),
        },
        _ if moved => {
            let session = SessionId::parse(&format!("excel-import:{}", reference.as_str()))
                .map_err(ApiError::from)?;
            let hold = match state
                .booking
                .create_hold(tenant, stored.service_id, start, &session)
                .await
            {
                Ok(h) => h,
                Err(e) => return Ok(dead("reschedule", format!("new start refused: {e}"))),
            };
            match state
                .booking
                .reschedule(tenant, &reference, &email, hold.id, Some(&session))
                .await
            {
                Ok(_) => Ok(Outcome::Applied),
                Err(e) => Ok(dead("reschedule", format!("move refused: {e}"))),
            }
        }
        _ => Ok(Outcome::Unchanged),
    }
}
