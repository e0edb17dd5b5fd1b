//! The spreadsheet form of a tenant's appointments: the cells a booking exports to, and the
//! reconciliation of imported rows against the stored bookings.
//!
//! Import reconciliation (rows matched by reference; each row is applied on its own):
//! - identical to the stored booking → unchanged;
//! - status `confirmed` → `cancelled` → `BookingService::cancel` with the stored email;
//! - a new start → a hold for it (session `excel-import:<reference>`) and
//!   `BookingService::reschedule` with that hold; never a direct write. When the move is
//!   refused the hold is released at once;
//! - client name/email/phone, notes, service, resource or end changed → the row is not
//!   applied at all ("field not editable");
//! - unknown reference (including another tenant's), an unparseable row, a duplicate
//!   reference, un-cancelling, or any refusal of the booking service → `sync_dead_letter`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::db::bookings::{self as q, AppointmentRow, AppointmentStatus};
use crate::db::{sync_dead_letter, tenants};
use crate::domain::{Email, ReferenceCode, TenantId};
use crate::services::booking::{BookingError, BookingService};

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

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The booking service refused the import as a whole (e.g. an unknown tenant).
    #[error(transparent)]
    Booking(#[from] BookingError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// One data row of the sheet, its cells by column (trimmed text, empty when blank).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportRow {
    /// Sheet row number (the header is row 1).
    pub row: u32,
    /// The cells in [`COLUMNS`] order.
    pub cells: [String; 10],
}

impl ImportRow {
    /// The cell of a column named in [`COLUMNS`] (empty for any other name).
    pub fn get(&self, column: &str) -> &str {
        COLUMNS
            .iter()
            .position(|c| *c == column)
            .map(|i| self.cells[i].as_str())
            .unwrap_or("")
    }

    fn is_blank(&self) -> bool {
        self.cells.iter().all(String::is_empty)
    }

    fn payload(&self) -> serde_json::Value {
        serde_json::Value::Object(
            COLUMNS
                .iter()
                .zip(&self.cells)
                .map(|(c, v)| (c.to_string(), serde_json::Value::from(v.as_str())))
                .collect(),
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetteredRow {
    pub row: u32,
    pub reference: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub applied: u32,
    pub unchanged: u32,
    pub dead_lettered: Vec<DeadLetteredRow>,
}

/// Service and resource names of a tenant, by id (what the sheet shows).
pub struct Names {
    services: HashMap<Uuid, String>,
    resources: HashMap<Uuid, String>,
}

impl Names {
    pub async fn load(booking: &BookingService, tenant: TenantId) -> Result<Self, sqlx::Error> {
        let services = tenants::list_services(booking.pool(), tenant.0)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let resources = tenants::list_resources(booking.pool(), tenant.0)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect();
        Ok(Self {
            services,
            resources,
        })
    }
}

/// A booking as sheet cells, in [`COLUMNS`] order, times local to `tz`.
pub fn export_cells(a: &AppointmentRow, tz: Tz, names: &Names) -> [String; 10] {
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

/// A start as written in the sheet: RFC 3339 with an offset, or a local time in the tenant's
/// zone (`YYYY-MM-DDTHH:MM[:SS]`, a space also accepted).
pub fn parse_start(raw: &str, tz: Tz) -> Option<DateTime<Utc>> {
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

/// Applies the rows of an imported sheet to the tenant's bookings, each on its own, and
/// records every row that could not be applied in `sync_dead_letter` (source `excel`).
pub async fn reconcile(
    booking: &BookingService,
    tenant: TenantId,
    rows: Vec<ImportRow>,
) -> Result<ImportSummary, ImportError> {
    let sched = booking.schedule(tenant).await?;
    let names = Names::load(booking, tenant).await?;
    let mut summary = ImportSummary::default();
    let mut seen = HashSet::new();
    for row in rows {
        if row.is_blank() {
            continue;
        }
        let raw_ref = row.get("reference");
        let key = ReferenceCode::parse(raw_ref)
            .map(|r| r.as_str().to_string())
            .unwrap_or_else(|_| raw_ref.to_ascii_uppercase());
        let outcome = if !raw_ref.is_empty() && !seen.insert(key) {
            dead("parse", "duplicate reference in the sheet")
        } else {
            reconcile_row(booking, tenant, sched.tz, &names, &row).await?
        };
        match outcome {
            Outcome::Applied => summary.applied += 1,
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Dead { operation, reason } => {
                let reference = (!raw_ref.is_empty()).then(|| raw_ref.to_string());
                sync_dead_letter::insert(
                    booking.pool(),
                    &sync_dead_letter::NewDeadLetter {
                        tenant_id: tenant.0,
                        source: "excel",
                        row_number: i32::try_from(row.row).unwrap_or(i32::MAX),
                        reference: reference.as_deref(),
                        operation,
                        payload: &row.payload(),
                        error: &reason,
                    },
                )
                .await?;
                summary.dead_lettered.push(DeadLetteredRow {
                    row: row.row,
                    reference,
                    reason,
                });
            }
        }
    }
    Ok(summary)
}

async fn reconcile_row(
    booking: &BookingService,
    tenant: TenantId,
    tz: Tz,
    names: &Names,
    row: &ImportRow,
) -> Result<Outcome, ImportError> {
    let raw_ref = row.get("reference");
    let Ok(reference) = ReferenceCode::parse(raw_ref) else {
        return Ok(dead("parse", format!("unparseable reference {raw_ref:?}")));
    };
    let stored =
        q::appointment_by_reference(booking.pool(), tenant.0, reference.as_str(), false).await?;
    let Some(stored) = stored else {
        return Ok(dead("parse", "unknown reference for this tenant"));
    };
    let Ok(wanted) = row
        .get("status")
        .to_ascii_lowercase()
        .parse::<AppointmentStatus>()
    else {
        return Ok(dead(
            "parse",
            format!(
                "unparseable status {:?} (confirmed or cancelled)",
                row.get("status")
            ),
        ));
    };
    let Some(start) = parse_start(row.get("start"), tz) else {
        return Ok(dead(
            "parse",
            format!("unparseable start {:?}", row.get("start")),
        ));
    };
    let current = export_cells(&stored, tz, names);
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
    .filter(|&(i, name)| row.get(name) != current[i].trim())
    .map(|(_, name)| name)
    .collect();
    // The end follows from the start and the service; it only counts when the start is kept.
    if !moved && parse_start(row.get("end"), tz) != Some(stored.end_at) {
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
    let Ok(email) = Email::parse(&stored.client_email) else {
        return Ok(dead("update", "the stored client email cannot be used"));
    };
    use AppointmentStatus::{Cancelled, Confirmed};
    match (stored.status, wanted) {
        (Cancelled, Confirmed) => Ok(dead(
            "update",
            "a cancelled booking cannot be restored; book again",
        )),
        (Cancelled, Cancelled) if moved => Ok(dead("reschedule", "the booking is cancelled")),
        (Cancelled, Cancelled) => Ok(Outcome::Unchanged),
        (Confirmed, Cancelled) => match booking
            .cancel_by(
                tenant,
                &reference,
                &email,
                crate::services::booking::ChangeBy::Admin,
            )
            .await
        {
            Ok(_) => Ok(Outcome::Applied),
            Err(e) => Ok(dead("cancel", e.to_string())),
        },
        // One transaction, no hold: a refused move leaves nothing behind.
        (Confirmed, Confirmed) if moved => {
            match booking.move_to(tenant, &reference, &email, start).await {
                Ok(_) => Ok(Outcome::Applied),
                Err(e) => Ok(dead("reschedule", format!("move refused: {e}"))),
            }
        }
        (Confirmed, Confirmed) => Ok(Outcome::Unchanged),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;
    use chrono_tz::America::New_York;

    #[test]
    fn starts_are_read_with_an_offset_or_in_the_tenant_zone() {
        let want = New_York
            .with_ymd_and_hms(2026, 3, 4, 10, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        for raw in [
            "2026-03-04T10:30:00-05:00",
            "2026-03-04T10:30",
            "2026-03-04 10:30:00",
            "2026-03-04 10:30",
        ] {
            assert_eq!(parse_start(raw, New_York), Some(want), "{raw}");
        }
        assert_eq!(parse_start("next Tuesday", New_York), None);
        // 02:30 on the spring-forward day does not exist in New York.
        assert_eq!(parse_start("2026-03-08T02:30", New_York), None);
    }

    #[test]
    fn rows_read_cells_by_column_name() {
        let mut row = ImportRow {
            row: 2,
            ..ImportRow::default()
        };
        row.cells[1] = "cancelled".into();
        assert_eq!(row.get("status"), "cancelled");
        assert_eq!(row.get("reference"), "");
        assert_eq!(row.get("no_such_column"), "");
        assert_eq!(row.payload()["status"], "cancelled");
        assert!(!row.is_blank());
        assert!(ImportRow::default().is_blank());
    }
}

/// Why a dead letter could not be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("no such dead letter")]
    NotFound,
    #[error("the dead letter is already resolved")]
    AlreadyResolved,
    #[error(transparent)]
    Import(#[from] ImportError),
}

impl From<sqlx::Error> for RetryError {
    fn from(e: sqlx::Error) -> Self {
        Self::Import(ImportError::Database(e))
    }
}

/// Applies a dead-lettered row of an import again, as the import would (the row as it was
/// read, against the bookings as they are now). The dead letter stays row-locked while it
/// runs, so two retries of it run one after the other and the second finds it resolved.
/// Resolved when the row now applies or is already what the bookings hold; otherwise one
/// more attempt and the new reason.
pub async fn retry_dead_letter(
    booking: &BookingService,
    tenant: TenantId,
    id: Uuid,
) -> Result<sync_dead_letter::DeadLetterRow, RetryError> {
    let mut tx = booking.pool().begin().await?;
    let letter = sync_dead_letter::get_for_update(&mut tx, tenant.0, id)
        .await?
        .filter(|d| d.source == "excel")
        .ok_or(RetryError::NotFound)?;
    if letter.resolved_at.is_some() {
        return Err(RetryError::AlreadyResolved);
    }
    let row = ImportRow {
        row: u32::try_from(letter.row_number.unwrap_or(0)).unwrap_or(0),
        cells: COLUMNS.map(|c| {
            letter
                .payload
                .get(c)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        }),
    };
    let sched = booking.schedule(tenant).await.map_err(ImportError::from)?;
    let names = Names::load(booking, tenant).await?;
    let outcome = reconcile_row(booking, tenant, sched.tz, &names, &row).await?;
    let now = booking.clock().now();
    let updated = match outcome {
        Outcome::Applied | Outcome::Unchanged => {
            sync_dead_letter::record_attempt(&mut tx, id, Some(now), None).await?
        }
        Outcome::Dead { reason, .. } => {
            sync_dead_letter::record_attempt(&mut tx, id, None, Some(&reason)).await?
        }
    };
    tx.commit().await?;
    Ok(updated)
}
