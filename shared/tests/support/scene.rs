//! The live-push scene the worker's, the scheduler's and `gomomo serve`'s tests share: Ana
//! books the demo consultation from her chat, Lee waits for a morning from his. A cancelled
//! booking of Ana's then opens a slot for Lee, whose open socket should hear of it at once.
//!
//! Each crate includes this file by path (`#[path = …] mod scene;`) next to its own test
//! support, so the scene is written once without a test-only API in the library.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{DateTime, NaiveDate, Utc};
use gomomo::db::bookings::AppointmentRow;
use gomomo::domain::{ClientName, Email, SessionId, TenantId};
use gomomo::services::booking::ClientDetails;
use gomomo::services::BookingService;
use sqlx::PgPool;
use uuid::Uuid;

/// The demo tenant's 30-minute consultation (`admin::DEMO_SERVICES[0]`).
pub const CONSULT: Uuid = Uuid::from_u128(0x6d0e0000_0000_4000_8000_0000000005e1);
/// Ana's chat session.
pub const ANA_SESSION: &str = "web-ana";
/// Ana's email, which her cancellation needs with the reference.
pub const ANA_EMAIL: &str = "ana@example.com";

/// Ana's details as she gives them when she books.
pub fn ana() -> ClientDetails {
    ClientDetails {
        name: ClientName::parse("Ana Lopez").unwrap(),
        email: Email::parse(ANA_EMAIL).unwrap(),
        phone: None,
        notes: None,
        time_zone: None,
        locale: None,
    }
}

/// Ana holds and confirms the consultation at `start` from [`ANA_SESSION`]: her booking.
pub async fn ana_books(
    booking: &BookingService,
    tenant: TenantId,
    start: DateTime<Utc>,
) -> AppointmentRow {
    let session = SessionId::parse(ANA_SESSION).unwrap();
    let hold = booking
        .create_hold(tenant, CONSULT, start, &session)
        .await
        .unwrap();
    let (booked, _) = booking
        .confirm(tenant, hold.id, &session, &ana())
        .await
        .unwrap();
    booked
}

/// Lee Park waits for a morning consultation on a day from `from` to `to`, asked from chat
/// session `session`: the waitlist entry's id.
pub async fn lee_waits(
    pool: &PgPool,
    tenant: TenantId,
    session: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Uuid {
    let entry = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from, preferred_to, time_of_day, client_name, client_email)
         VALUES ($1, $2, $3, $4, $5, $6, 'morning', 'Lee Park', 'lee@example.com')",
    )
    .bind(entry)
    .bind(tenant.0)
    .bind(session)
    .bind(CONSULT)
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .unwrap();
    entry
}
