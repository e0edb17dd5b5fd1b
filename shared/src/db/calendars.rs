//! `calendar_connections` (one per resource: its provider and sealed credentials, with
//! health) and `calendar_events` (where each booking's event lives at the provider).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

/// A resource's calendar connection. Secrets stay sealed here; adapters open them.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct ConnectionRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub resource_id: Uuid,
    /// `google`, `caldav` or `microsoft`.
    pub provider: String,
    pub calendar_id: String,
    pub access_token_enc: Option<Vec<u8>>,
    pub refresh_token_enc: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: String,
    pub server_url: Option<String>,
    pub username: Option<String>,
    pub password_enc: Option<Vec<u8>>,
    pub calendar_url: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const CONNECTION_COLS: &str = "id, tenant_id, resource_id, provider, calendar_id, access_token_enc,
    refresh_token_enc, expires_at, scope, server_url, username, password_enc, calendar_url,
    connected_at, updated_at, last_success_at, last_error_at, last_error, revoked_at";

/// The connections of `resources` of `tenant` (resources without one are absent).
pub async fn for_resources<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resources: &[Uuid],
) -> Result<Vec<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONNECTION_COLS} FROM calendar_connections
          WHERE tenant_id = $1 AND resource_id = ANY($2)"
    )))
    .bind(tenant)
    .bind(resources)
    .fetch_all(db)
    .await
}

/// The connection of `resource`, when it has one.
pub async fn for_resource<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONNECTION_COLS} FROM calendar_connections
          WHERE tenant_id = $1 AND resource_id = $2"
    )))
    .bind(tenant)
    .bind(resource)
    .fetch_optional(db)
    .await
}

/// A connection by id.
pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONNECTION_COLS} FROM calendar_connections WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Every connection of the tenant, by resource name.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
) -> Result<Vec<(ConnectionRow, String)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        c: ConnectionRow,
        resource_name: String,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {}, r.name AS resource_name
           FROM calendar_connections c JOIN resources r ON r.id = c.resource_id
          WHERE c.tenant_id = $1 ORDER BY r.name, c.id",
        CONNECTION_COLS
            .split(',')
            .map(|c| format!("c.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(tenant)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.c, r.resource_name)).collect())
}

/// Tokens of an OAuth provider (`google`, `microsoft`) for `resource` (with the account's
/// address when the provider needs it). A connection made anew replaces the resource's
/// earlier one under a new id, so nothing recorded against the old calendar (its events,
/// a refresh in flight) is ever applied to the new one. A missing refresh token keeps the
/// one the resource had from the same provider (Google sends it only on the first consent).
/// Returns the connection id.
#[allow(clippy::too_many_arguments)]
pub async fn save_oauth<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
    provider: &str,
    access_token_enc: &[u8],
    refresh_token_enc: Option<&[u8]>,
    expires_at: DateTime<Utc>,
    scope: &str,
    account: Option<&str>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "WITH old AS (
             DELETE FROM calendar_connections WHERE resource_id = $2
             RETURNING provider, refresh_token_enc
         )
         INSERT INTO calendar_connections (id, tenant_id, resource_id, provider, access_token_enc,
                refresh_token_enc, expires_at, scope, username)
         VALUES (gen_random_uuid(), $1, $2, $3, $4,
                 COALESCE($5, (SELECT refresh_token_enc FROM old WHERE provider = $3)),
                 $6, $7, $8)
         RETURNING id",
    )
    .bind(tenant)
    .bind(resource)
    .bind(provider)
    .bind(access_token_enc)
    .bind(refresh_token_enc)
    .bind(expires_at)
    .bind(scope)
    .bind(account)
    .fetch_one(db)
    .await
}

/// A CalDAV account for `resource`, replacing its earlier connection under a new id (see
/// [`save_oauth`]).
pub async fn save_caldav<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
    server_url: &str,
    username: &str,
    password_enc: &[u8],
    calendar_url: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "WITH old AS (DELETE FROM calendar_connections WHERE resource_id = $2 RETURNING id)
         INSERT INTO calendar_connections (id, tenant_id, resource_id, provider, server_url,
                username, password_enc, calendar_url, calendar_id)
         SELECT gen_random_uuid(), $1, $2, 'caldav', $3, $4, $5, $6, $6
           FROM (SELECT count(*) FROM old) AS replaced
         RETURNING id",
    )
    .bind(tenant)
    .bind(resource)
    .bind(server_url)
    .bind(username)
    .bind(password_enc)
    .bind(calendar_url)
    .fetch_one(db)
    .await
}

/// Replaces the access token (and the refresh token, when the provider rotated it) after
/// a refresh.
pub async fn update_tokens<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    access_token_enc: &[u8],
    refresh_token_enc: Option<&[u8]>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE calendar_connections SET access_token_enc = $2,
                refresh_token_enc = COALESCE($3, refresh_token_enc), expires_at = $4,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(access_token_enc)
    .bind(refresh_token_enc)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A call through the connection worked at `at`.
pub async fn record_success<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE calendar_connections SET last_success_at = $2, revoked_at = NULL
          WHERE id = $1 AND (last_success_at IS NULL OR last_success_at < $2 - interval '1 minute'
                             OR revoked_at IS NOT NULL)",
    )
    .bind(id)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// A call through the connection failed at `at`; `revoked` when the provider refused the
/// credentials. Returns true when this is the first refusal since the last success (the
/// moment to tell the admin).
pub async fn record_error<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    at: DateTime<Utc>,
    error: &str,
    revoked: bool,
) -> Result<bool, sqlx::Error> {
    let newly: Option<bool> = sqlx::query_scalar(
        "UPDATE calendar_connections c SET last_error_at = $2, last_error = left($3, 500),
                revoked_at = CASE WHEN $4 THEN COALESCE(c.revoked_at, $2) ELSE c.revoked_at END
           FROM (SELECT revoked_at FROM calendar_connections WHERE id = $1) old
          WHERE c.id = $1
      RETURNING $4 AND old.revoked_at IS NULL",
    )
    .bind(id)
    .bind(at)
    .bind(error)
    .bind(revoked)
    .fetch_optional(db)
    .await?;
    Ok(newly.unwrap_or(false))
}

/// Removes the connection of `resource`; returns it (None when there was none).
pub async fn delete<'e>(
    db: impl PgExecutor<'e>,
    tenant: Uuid,
    resource: Uuid,
) -> Result<Option<ConnectionRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM calendar_connections WHERE tenant_id = $1 AND resource_id = $2
         RETURNING {CONNECTION_COLS}"
    )))
    .bind(tenant)
    .bind(resource)
    .fetch_optional(db)
    .await
}

/// Where a booking's event lives.
#[derive(Debug, Clone, FromRow, PartialEq)]
pub struct EventRow {
    pub booking_id: Uuid,
    pub tenant_id: Uuid,
    pub connection_id: Uuid,
    pub external_id: String,
    pub etag: Option<String>,
    pub sequence: i32,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub drift_reported_at: Option<DateTime<Utc>>,
}

const EVENT_COLS: &str = "booking_id, tenant_id, connection_id, external_id, etag, sequence,
    start_at, end_at, drift_reported_at";

pub async fn event_of<'e>(
    db: impl PgExecutor<'e>,
    booking: Uuid,
) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLS} FROM calendar_events WHERE booking_id = $1"
    )))
    .bind(booking)
    .fetch_optional(db)
    .await
}

/// Records our write of a booking's event (a new write clears an earlier drift report).
pub async fn save_event<'e>(db: impl PgExecutor<'e>, e: &EventRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calendar_events (booking_id, tenant_id, connection_id, external_id, etag,
                sequence, start_at, end_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (booking_id) DO UPDATE SET connection_id = EXCLUDED.connection_id,
             external_id = EXCLUDED.external_id, etag = EXCLUDED.etag,
             sequence = EXCLUDED.sequence, start_at = EXCLUDED.start_at,
             end_at = EXCLUDED.end_at, written_at = now(), drift_reported_at = NULL",
    )
    .bind(e.booking_id)
    .bind(e.tenant_id)
    .bind(e.connection_id)
    .bind(&e.external_id)
    .bind(&e.etag)
    .bind(e.sequence)
    .bind(e.start_at)
    .bind(e.end_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_event<'e>(db: impl PgExecutor<'e>, booking: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM calendar_events WHERE booking_id = $1")
        .bind(booking)
        .execute(db)
        .await?;
    Ok(())
}

/// The events of a connection that end after `from`, oldest first.
pub async fn events_of_connection<'e>(
    db: impl PgExecutor<'e>,
    connection: Uuid,
    from: DateTime<Utc>,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLS} FROM calendar_events WHERE connection_id = $1 AND end_at > $2
          ORDER BY start_at"
    )))
    .bind(connection)
    .bind(from)
    .fetch_all(db)
    .await
}

/// Marks a booking's event as reported moved or deleted outside gomomo; false when it was
/// reported already.
pub async fn mark_drift<'e>(
    db: impl PgExecutor<'e>,
    booking: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let n = sqlx::query(
        "UPDATE calendar_events SET drift_reported_at = $2
          WHERE booking_id = $1 AND drift_reported_at IS NULL",
    )
    .bind(booking)
    .bind(at)
    .execute(db)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Our events still to come that were not read back from their calendar since
/// `checked_before` (never-checked first), at most `limit`.
pub async fn events_due_for_check<'e>(
    db: impl PgExecutor<'e>,
    now: DateTime<Utc>,
    checked_before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {EVENT_COLS} FROM calendar_events
          WHERE drift_reported_at IS NULL AND end_at > $1
            AND (checked_at IS NULL OR checked_at < $2)
          ORDER BY checked_at NULLS FIRST, end_at LIMIT $3"
    )))
    .bind(now)
    .bind(checked_before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The event of `booking` was read back at `at`.
pub async fn mark_checked<'e>(
    db: impl PgExecutor<'e>,
    booking: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE calendar_events SET checked_at = $2 WHERE booking_id = $1")
        .bind(booking)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

/// Live bookings within `[from, to)` whose events are in `conn`'s calendar: the resource's
/// own, and those written through another connection to the same calendar (the same CalDAV
/// collection, the same Microsoft mailbox, or one Google consent shared by resources). Only
/// these may be taken out of the calendar's busy time: anything else there is someone
/// else's.
pub async fn own_ranges<'e>(
    db: impl PgExecutor<'e>,
    conn: &ConnectionRow,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT lower(a.during), upper(a.during) FROM appointments a
          WHERE a.tenant_id = $1 AND a.status <> 'cancelled' AND a.during && tstzrange($3, $4)
            AND (a.resource_id = $2 OR EXISTS (
                 SELECT 1 FROM calendar_events e
                   JOIN calendar_connections c ON c.id = e.connection_id
                  WHERE e.booking_id = a.id AND c.provider = $5
                    AND (c.calendar_url = $6 OR c.username = $7 OR c.refresh_token_enc = $8)))",
    )
    .bind(conn.tenant_id)
    .bind(conn.resource_id)
    .bind(from)
    .bind(to)
    .bind(&conn.provider)
    .bind(&conn.calendar_url)
    .bind(&conn.username)
    .bind(&conn.refresh_token_enc)
    .fetch_all(db)
    .await
}
