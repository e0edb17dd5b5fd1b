//! Excel export and import of a tenant's appointments, behind the tenant API key. The
//! workbook is read and written here; the rows are reconciled with the bookings by
//! `services::excel_import` (what an import may change is documented there).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Duration, NaiveTime};
use gomomo::domain::slots::local_to_utc;
use gomomo::http::{ApiError, ApiPath, ApiQuery};
use gomomo::services::excel_import::{self, ImportError, ImportRow, COLUMNS};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::admin::date_window;
use super::tenant_id;
use crate::auth::tenant_admin;
use crate::xlsx::{self, Limits, WorkbookError};
use crate::AppState;

pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Largest accepted upload.
const MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows per import (the header row comes on top).
const MAX_ROWS: usize = 5_000;
/// What an uploaded workbook may hold, whatever it declares about itself.
const LIMITS: Limits = Limits {
    rows: MAX_ROWS as u32 + 1,
    columns: 64,
    strings: 100_000,
    text_bytes: 16 * 1024 * 1024,
    inflated_bytes: 64 * 1024 * 1024,
    parts: 1_000,
};
const MAX_EXPORT_ROWS: i64 = 10_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// First local date, `YYYY-MM-DD` (default: today).
    #[param(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-08")]
    pub from: Option<String>,
    /// Last local date, inclusive (default: from + 30 days).
    #[param(value_type = Option<String>, format = Date, pattern = "^(19[7-9][0-9]|2[01][0-9]{2})-[0-9]{2}-[0-9]{2}$", example = "2026-12-14")]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeadLetteredRow {
    /// Sheet row number (the header is row 1).
    #[schema(minimum = 2, example = 7)]
    pub row: u32,
    /// The row's reference as read (it may be malformed: that can be the reason).
    #[schema(example = "K7QM-3XRP")]
    pub reference: Option<String>,
    #[schema(example = "the start is not a slot of the service")]
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    #[schema(example = 12)]
    pub applied: u32,
    #[schema(example = 30)]
    pub unchanged: u32,
    pub dead_lettered: Vec<DeadLetteredRow>,
}

impl From<excel_import::ImportSummary> for ImportSummary {
    fn from(s: excel_import::ImportSummary) -> Self {
        Self {
            applied: s.applied,
            unchanged: s.unchanged,
            dead_lettered: s
                .dead_lettered
                .into_iter()
                .map(|d| DeadLetteredRow {
                    row: d.row,
                    reference: d.reference,
                    reason: d.reason,
                })
                .collect(),
        }
    }
}

/// Export the appointments workbook.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/appointments.xlsx",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ExportQuery), security(("api_key" = [])),
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
    let (from, to) = date_window(today, q.from.as_deref(), q.to.as_deref())?;
    let lo = local_to_utc(sched.tz, from, NaiveTime::MIN, true);
    let hi = local_to_utc(sched.tz, to + Duration::days(1), NaiveTime::MIN, true);
    let rows = state
        .booking
        .list_bookings(tenant, lo, hi, None, MAX_EXPORT_ROWS)
        .await?;
    let names = excel_import::Names::load(&state.booking, tenant)
        .await
        .map_err(|e| ApiError::internal(&e))?;

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
        for (c, v) in (0u16..).zip(excel_import::export_cells(a, sched.tz, &names)) {
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

/// The first sheet as rows of trimmed strings (header included), read under [`LIMITS`].
fn read_sheet(bytes: &[u8]) -> Result<Vec<Vec<String>>, ApiError> {
    xlsx::read_first_sheet(bytes, LIMITS).map_err(|e| match e {
        WorkbookError::Invalid(msg) => invalid(msg),
        WorkbookError::TooManyRows(_) => ApiError::bad_request(
            "too_many_rows",
            format!(
                "at most {MAX_ROWS} rows per import (sheet rows 2 to {})",
                MAX_ROWS + 1
            ),
        ),
        WorkbookError::TooLarge(msg) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg)
        }
    })
}

/// An `.xlsx` workbook, sent as the request's raw bytes (in the document only: the route
/// reads the body itself).
pub struct Workbook;

impl utoipa::PartialSchema for Workbook {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The workbook's bytes (.xlsx)"))
            .examples(["<the bytes of appointments.xlsx>"])
            .into()
    }
}

impl utoipa::ToSchema for Workbook {}

/// Import the appointments workbook.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/appointments.xlsx",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001")), security(("api_key" = [])),
    request_body(content = Workbook, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
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

    let rows = data
        .into_iter()
        .zip(2u32..)
        .map(|(cells, row)| ImportRow {
            row,
            cells: COLUMNS.map(|c| {
                col.get(c)
                    .and_then(|&i| cells.get(i))
                    .cloned()
                    .unwrap_or_default()
            }),
        })
        .collect();
    let summary = excel_import::reconcile(&state.booking, tenant, rows)
        .await
        .map_err(|e| match e {
            ImportError::Booking(b) => ApiError::from(b),
            ImportError::Database(d) => ApiError::internal(&d),
        })?;
    tracing::info!(
        tenant_id = %tenant,
        applied = summary.applied,
        unchanged = summary.unchanged,
        dead_lettered = summary.dead_lettered.len(),
        "excel import"
    );
    Ok(Json(summary.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Also the resolved ones (default: only open ones).
    #[param(example = false)]
    pub resolved: Option<bool>,
    /// 1–500 (default 100).
    #[param(minimum = 1, maximum = 500, example = 100)]
    pub limit: Option<i64>,
}

/// A row of an import that could not be applied.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeadLetterView {
    #[schema(format = Uuid, example = "b80bb774-0288-4da1-8201-890375a60c8f")]
    pub id: uuid::Uuid,
    /// Sheet row number (the header is row 1).
    #[schema(minimum = 2, example = 7)]
    pub row_number: Option<i32>,
    #[schema(example = "K7QM-3XRP")]
    pub reference: Option<String>,
    /// What applying the row attempted.
    #[schema(example = "reschedule")]
    pub operation: DeadLetterOperation,
    /// The row as read, by column name.
    #[schema(value_type = Object)]
    pub row: serde_json::Value,
    /// Why it was not applied (the latest attempt's reason).
    #[schema(example = "the start is not a slot of the service")]
    pub error: String,
    /// How many times applying it was tried (the import's own try included).
    #[schema(minimum = 1, example = 2)]
    pub attempts: i32,
    /// When a retry applied it; null while open.
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(example = "2026-12-01T14:05:12.345Z")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What applying a dead-lettered row attempted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterOperation {
    Parse,
    Update,
    Cancel,
    Reschedule,
    Other,
}

impl From<gomomo::db::sync_dead_letter::DeadLetterRow> for DeadLetterView {
    fn from(d: gomomo::db::sync_dead_letter::DeadLetterRow) -> Self {
        let operation = match d.operation.as_str() {
            "parse" => DeadLetterOperation::Parse,
            "update" => DeadLetterOperation::Update,
            "cancel" => DeadLetterOperation::Cancel,
            "reschedule" => DeadLetterOperation::Reschedule,
            _ => DeadLetterOperation::Other,
        };
        Self {
            id: d.id,
            row_number: d.row_number,
            reference: d.reference,
            operation,
            row: d.payload,
            error: d.error,
            attempts: d.attempts,
            resolved_at: d.resolved_at,
            created_at: d.created_at,
        }
    }
}

/// The rows of imports that could not be applied, newest first.
#[utoipa::path(get, path = "/api/admin/tenants/{tenant}/excel/dead-letters",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), DeadLetterQuery), security(("api_key" = [])),
    description = "Rows of Excel imports that could not be applied (unknown reference, a field that cannot change, a refused move or cancel, …), newest first, open ones only unless `resolved=true`.",
    responses((status = 200, body = [DeadLetterView]),
        (status = 400, description = "invalid_limit, invalid_query, invalid_tenant_id", body = crate::dto::ErrorBody),
        (status = 401, description = "unauthorized", body = crate::dto::ErrorBody),
        (status = 403, description = "wrong_tenant", body = crate::dto::ErrorBody)))]
pub async fn list_dead_letters(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(tenant): ApiPath<String>,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Json<Vec<DeadLetterView>>, ApiError> {
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_limit",
            "limit must be from 1 to 500",
        ));
    }
    let rows = gomomo::db::sync_dead_letter::list(
        state.pool(),
        tenant.0,
        "excel",
        q.resolved.unwrap_or(false),
        limit,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Apply a dead-lettered row again.
#[utoipa::path(post, path = "/api/admin/tenants/{tenant}/excel/dead-letters/{id}/retry",
    params(("tenant" = uuid::Uuid, Path, description = "The tenant's id", example = "6d0e0000-0000-4000-8000-000000000001"), ("id" = uuid::Uuid, Path, description = "The dead letter's id", example = "b80bb774-0288-4da1-8201-890375a60c8f")), security(("api_key" = [])),
    description = "Applies the row again as the import would, against the bookings as they are now. Answers the dead letter: `resolved_at` set when the row now applies (or the bookings already hold it), else one more attempt and the new `error`.",
    responses((status = 200, body = DeadLetterView),
        (status = 400, description = "invalid_id, invalid_tenant_id", body = crate::dto::ErrorBody),
        (status = 401, description = "unauthorized", body = crate::dto::ErrorBody),
        (status = 403, description = "wrong_tenant", body = crate::dto::ErrorBody),
        (status = 404, description = "dead_letter_not_found", body = crate::dto::ErrorBody),
        (status = 409, description = "dead_letter_resolved", body = crate::dto::ErrorBody),
        (status = 503, description = "busy", body = crate::dto::ErrorBody)))]
pub async fn retry_dead_letter(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((tenant, id)): ApiPath<(String, String)>,
) -> Result<Json<DeadLetterView>, ApiError> {
    use excel_import::RetryError;
    let tenant = tenant_id(&tenant)?;
    tenant_admin(&state, &headers, tenant).await?;
    let id = super::uuid_field("id", &id)?;
    let row = excel_import::retry_dead_letter(&state.booking, tenant, id)
        .await
        .map_err(|e| match e {
            RetryError::NotFound => {
                ApiError::not_found("dead_letter_not_found", "no such dead letter")
            }
            RetryError::AlreadyResolved => ApiError::new(
                StatusCode::CONFLICT,
                "dead_letter_resolved",
                "the dead letter is already resolved",
            ),
            RetryError::Import(ImportError::Booking(b)) => ApiError::from(b),
            RetryError::Import(ImportError::Database(d)) => ApiError::internal(&d),
        })?;
    Ok(Json(row.into()))
}
