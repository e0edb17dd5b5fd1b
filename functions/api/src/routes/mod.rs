pub mod admin;
pub mod attendance;
pub mod audit;
pub mod calendars;
pub mod chat;
pub mod delivery;
pub mod excel;
pub mod health;
pub mod operations;
pub mod people;
pub mod policies;
pub mod privacy;
pub mod public;
pub mod rules;
pub mod schedule;
pub mod staff;
pub mod transcripts;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use gomomo::domain::{ClientName, Email, Notes, ParseError, PhoneE164, TenantId, TimeZone};
use gomomo::http::ApiError;
use gomomo::services::booking::ClientDetails;
use uuid::Uuid;

pub(crate) fn tenant_id(raw: &str) -> Result<TenantId, ApiError> {
    Ok(TenantId::parse(raw)?)
}

pub(crate) fn uuid_field(field: &'static str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ParseError::new(field, "expected a UUID").into())
}

pub(crate) fn date_field(field: &'static str, raw: Option<&str>) -> Result<NaiveDate, ApiError> {
    let raw = raw.ok_or_else(|| {
        ApiError::bad_request("invalid_date", format!("{field} is required (YYYY-MM-DD)"))
    })?;
    let bad = || {
        ApiError::bad_request(
            "invalid_date",
            format!("{field} must be a date YYYY-MM-DD between 1970 and 2200, got {raw:?}"),
        )
    };
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| bad())?;
    // Far-off years are always a mistake, and keep date arithmetic away from chrono's limits.
    if !(1970..=2200).contains(&d.year()) {
        return Err(bad());
    }
    Ok(d)
}

/// The client's details a booking request carries (the public confirm, a staff booking),
/// parsed: an empty phone is none, empty notes are none.
pub(crate) fn client_details(
    name: &str,
    email: &str,
    phone: Option<&str>,
    notes: Option<&str>,
    time_zone: Option<&str>,
) -> Result<ClientDetails, ApiError> {
    Ok(ClientDetails {
        name: ClientName::parse(name)?,
        email: Email::parse(email)?,
        phone: match phone.map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(PhoneE164::parse(p)?),
        },
        notes: notes.map(Notes::parse).transpose()?.flatten(),
        time_zone: TimeZone::parse_client(time_zone)?,
        locale: None,
    })
}

pub(crate) fn instant_field(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ParseError::new(
                field,
                "expected an RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00-05:00",
            )
            .into()
        })
}
