//! `waitlist_entries` written by the chat agent: a client waiting for a service, with the
//! dates and time of day they prefer.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

pub struct NewWaitlistEntry<'a> {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub session_id: &'a str,
    pub service_id: Option<Uuid>,
    pub preferred_from: Option<NaiveDate>,
    pub preferred_to: Option<NaiveDate>,
    /// `morning`, `afternoon` or `evening`; None for any time.
    pub time_of_day: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub client_email: Option<&'a str>,
    pub client_phone: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, e: &NewWaitlistEntry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO waitlist_entries (id, tenant_id, session_id, service_id, preferred_from,
                preferred_to, time_of_day, client_name, client_email, client_phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id)
    .bind(e.tenant_id)
    .bind(e.session_id)
    .bind(e.service_id)
    .bind(e.preferred_from)
    .bind(e.preferred_to)
    .bind(e.time_of_day)
    .bind(e.client_name)
    .bind(e.client_email)
    .bind(e.client_phone)
    .execute(conn)
    .await?;
    Ok(())
}
