//! The connected calendars behind the calendar port: each resource's connection
//! (`calendar_connections`) names its provider, and this router sends each call to it.
//!
//! - **Writes** go to the calendar of the booking's resource. Where the event lives is kept
//!   in `calendar_events`, so a booking moved to another resource has its event removed from
//!   the old calendar before it is written to the new one, and a cancel finds it wherever
//!   it is. A resource without a calendar is not an error: nothing is written.
//! - **Reads** are per resource: one calendar failing withholds only its resource's slots.
//! - **Health**: every call records its outcome on the connection (last success, last
//!   error). A refusal of the credentials marks the connection revoked and tells the admin
//!   once (audit row and email); the write retries and their escalation go on as for any
//!   other failure.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::caldav::{self, CalDavClient, CalDavCredentials, EventWrite, Stored};
use super::google::GoogleCalendar;
use super::graph::{self, GraphClient, GraphEventWrite, GraphTokens, TokenStore};
use crate::db::calendars::{self, ConnectionRow, EventRow};
use crate::db::{audit, notifications};
use crate::domain::crypto::SecretBox;
use crate::domain::outbound::OutboundPolicy;
use crate::ports::calendar::{
    BusyRange, CalendarError, CalendarEvent, CalendarProvider, ResourceBusy,
};
use crate::ports::clock::Clock;

/// The providers a connection may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Google,
    CalDav,
    Microsoft,
}

impl Provider {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "google" => Some(Self::Google),
            "caldav" => Some(Self::CalDav),
            "microsoft" => Some(Self::Microsoft),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::CalDav => "caldav",
            Self::Microsoft => "microsoft",
        }
    }

    /// How the admin reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::CalDav => "CalDAV",
            Self::Microsoft => "Microsoft 365",
        }
    }
}

/// What a disconnection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    pub provider: String,
    /// Future events deleted from the calendar.
    pub removed: usize,
    /// Future events left in it.
    pub left: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{field} {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the address is refused: {0}")]
    Refused(String),
    #[error("the calendar provider refused the credentials")]
    Auth,
    #[error("the server could not be used: {0}")]
    Unreachable(String),
    #[error("no calendar that takes events was found for this account")]
    NoCalendar,
    #[error("this provider is not configured on this server")]
    NotConfigured,
    #[error("the sign-in is unknown, used or expired; start it again")]
    BadState,
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    #[error("this resource has no calendar connected")]
    NotConnected,
    #[error("{failed} future events could not be removed ({removed} were); the calendar stays connected")]
    Unreachable { removed: usize, failed: usize },
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

/// `ranges` minus `own` (both half-open).
fn subtract(ranges: &[BusyRange], own: &[(DateTime<Utc>, DateTime<Utc>)]) -> Vec<BusyRange> {
    let mut own = own.to_vec();
    own.sort();
    let mut out = Vec::new();
    for r in ranges {
        let mut cur = r.start;
        for (s, e) in &own {
            if *e <= cur || *s >= r.end {
                continue;
            }
            if *s > cur {
                out.push(BusyRange {
                    start: cur,
                    end: *s,
                });
            }
            cur = cur.max(*e);
            if cur >= r.end {
                break;
            }
        }
        if cur < r.end {
            out.push(BusyRange {
                start: cur,
                end: r.end,
            });
        }
    }
    out
}

/// One of our events as a calendar has it.
struct Seen {
    uid: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cancelled: bool,
}

/// Routes the calendar port to each resource's connected calendar.
#[derive(Clone)]
pub struct ConnectedCalendars {
    pool: PgPool,
    clock: Clock,
    secrets: SecretBox,
    google: Option<GoogleCalendar>,
    caldav: Option<(CalDavClient, OutboundPolicy)>,
    graph: Option<GraphClient>,
}

/// How long a consent started here may take to come back.
const STATE_TTL: chrono::Duration = chrono::Duration::minutes(10);

fn ctx_ms_access(tenant: Uuid) -> String {
    format!("microsoft:access:{tenant}")
}
fn ctx_ms_refresh(tenant: Uuid) -> String {
    format!("microsoft:refresh:{tenant}")
}

/// Graph tokens sealed for `tenant`: (access, refresh when there is one).
fn seal_graph_tokens(
    secrets: &SecretBox,
    tenant: Uuid,
    tokens: &GraphTokens,
) -> Result<(Vec<u8>, Option<Vec<u8>>), crate::domain::crypto::CryptoError> {
    let access = secrets.seal_str(&ctx_ms_access(tenant), &tokens.access_token)?;
    let refresh = tokens
        .refresh_token
        .as_deref()
        .map(|r| secrets.seal_str(&ctx_ms_refresh(tenant), r))
        .transpose()?;
    Ok((access, refresh))
}

/// A Microsoft connection's tokens, opened from and sealed into its row.
struct ConnectionTokens<'a> {
    pool: &'a PgPool,
    secrets: &'a SecretBox,
    conn: &'a ConnectionRow,
}

#[async_trait]
impl TokenStore for ConnectionTokens<'_> {
    async fn load(&self) -> Result<Option<GraphTokens>, CalendarError> {
        let (Some(access), Some(expires_at)) = (&self.conn.access_token_enc, self.conn.expires_at)
        else {
            return Ok(None);
        };
        let tenant = self.conn.tenant_id;
        let access_token = self
            .secrets
            .open_str(&ctx_ms_access(tenant), access)
            .map_err(|_| CalendarError::Auth)?;
        let refresh_token = self
            .conn
            .refresh_token_enc
            .as_ref()
            .and_then(|r| self.secrets.open_str(&ctx_ms_refresh(tenant), r).ok());
        Ok(Some(GraphTokens {
            access_token,
            refresh_token,
            expires_at,
            scope: self.conn.scope.clone(),
        }))
    }

    async fn save(&self, tokens: &GraphTokens) -> Result<(), CalendarError> {
        let (access, refresh) = seal_graph_tokens(self.secrets, self.conn.tenant_id, tokens)
            .map_err(|e| CalendarError::Other(e.to_string()))?;
        calendars::update_tokens(
            self.pool,
            self.conn.id,
            &access,
            refresh.as_deref(),
            tokens.expires_at,
        )
        .await
        .map_err(database)
    }
}

/// The AAD of a CalDAV app password: sealed for its tenant.
fn ctx_caldav(tenant: Uuid) -> String {
    format!("caldav:password:{tenant}")
}

fn database(e: sqlx::Error) -> CalendarError {
    CalendarError::Other(format!("database: {e}"))
}

fn not_configured(p: Provider) -> CalendarError {
    CalendarError::Other(format!("{} is not configured on this server", p.label()))
}

impl ConnectedCalendars {
    pub fn new(pool: PgPool, clock: Clock, secrets: SecretBox) -> Self {
        Self {
            pool,
            clock,
            secrets,
            google: None,
            caldav: None,
            graph: None,
        }
    }

    /// Microsoft 365 calendars through `client`.
    pub fn with_graph(mut self, client: GraphClient) -> Self {
        self.graph = Some(client);
        self
    }

    /// Where Microsoft sends the browser back, when Microsoft 365 is configured.
    pub fn microsoft_redirect_url(&self) -> Option<&str> {
        self.graph
            .as_ref()
            .map(|g| g.settings().redirect_url.as_str())
    }

    fn graph(&self) -> Result<&GraphClient, CalendarError> {
        self.graph
            .as_ref()
            .ok_or_else(|| not_configured(Provider::Microsoft))
    }

    fn tokens<'a>(&'a self, conn: &'a ConnectionRow) -> ConnectionTokens<'a> {
        ConnectionTokens {
            pool: &self.pool,
            secrets: &self.secrets,
            conn,
        }
    }

    /// The tenant's zone (floating and all-day times are read in it).
    async fn zone(&self, tenant: Uuid) -> Result<chrono_tz::Tz, CalendarError> {
        Ok(crate::db::tenants::time_zone(&self.pool, tenant)
            .await
            .map_err(database)?
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::Tz::UTC))
    }

    /// Starts connecting `resource` to a Microsoft 365 calendar: a one-time state bound to
    /// it, with the PKCE verifier kept server-side, and the consent URL.
    pub async fn start_microsoft(
        &self,
        tenant: Uuid,
        resource: Uuid,
    ) -> Result<(String, String), ConnectError> {
        let graph = self.graph.as_ref().ok_or(ConnectError::NotConfigured)?;
        let pkce = graph::pkce();
        let state = crate::domain::crypto::random_token::<32>();
        let now = self.clock.now();
        crate::db::oauth::insert_state(
            &self.pool,
            &state,
            "microsoft",
            tenant,
            Some(resource),
            Some(&pkce.verifier),
            now,
            now + STATE_TTL,
        )
        .await?;
        Ok((
            graph::authorize_url(graph.settings(), &state, &pkce.challenge),
            state,
        ))
    }

    /// Microsoft's redirect back: spends the state, exchanges the code with the verifier,
    /// finds the mailbox and stores the sealed tokens on the resource's connection.
    pub async fn finish_microsoft(&self, state: &str, code: &str) -> Result<Uuid, ConnectError> {
        let graph = self.graph.as_ref().ok_or(ConnectError::NotConfigured)?;
        let now = self.clock.now();
        let started = crate::db::oauth::consume_state(&self.pool, state, "microsoft", now)
            .await?
            .ok_or(ConnectError::BadState)?;
        let (Some(resource), Some(verifier)) = (started.resource_id, started.code_verifier) else {
            return Err(ConnectError::BadState);
        };
        let tenant = started.tenant_id;
        let tokens = graph
            .exchange_code(code, &verifier)
            .await
            .map_err(|e| match e {
                CalendarError::Auth | CalendarError::Other(_) => ConnectError::Auth,
                e => ConnectError::Unreachable(e.to_string()),
            })?;
        let profile = graph
            .me(&tokens.access_token)
            .await
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        let (access, refresh) = seal_graph_tokens(&self.secrets, tenant, &tokens)
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let id = calendars::save_oauth(
            &mut *tx,
            tenant,
            resource,
            "microsoft",
            &access,
            refresh.as_deref(),
            tokens.expires_at,
            &tokens.scope,
            profile.schedule_address(),
        )
        .await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant),
                event_type: "calendar.connected",
                entity_type: "calendar_connection",
                entity_id: Some(id.to_string()),
                actor: crate::db::audit::ADMIN,
                payload: json!({"provider": "microsoft", "resource_id": resource}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(tenant)
    }

    /// CalDAV accounts through `client`, whose addresses pass `policy` (the one the client
    /// was built with).
    pub fn with_caldav(mut self, client: CalDavClient, policy: OutboundPolicy) -> Self {
        self.caldav = Some((client, policy));
        self
    }

    fn caldav(&self) -> Result<&CalDavClient, CalendarError> {
        self.caldav
            .as_ref()
            .map(|(c, _)| c)
            .ok_or_else(|| not_configured(Provider::CalDav))
    }

    /// The account of a CalDAV connection (the app password opened) and its calendar.
    fn caldav_account(
        &self,
        conn: &ConnectionRow,
    ) -> Result<(CalDavCredentials, String), CalendarError> {
        let (Some(server_url), Some(username), Some(sealed), Some(calendar)) = (
            &conn.server_url,
            &conn.username,
            &conn.password_enc,
            &conn.calendar_url,
        ) else {
            return Err(CalendarError::Other(
                "an incomplete CalDAV connection".into(),
            ));
        };
        let password = self
            .secrets
            .open_str(&ctx_caldav(conn.tenant_id), sealed)
            .map_err(|_| CalendarError::Auth)?;
        Ok((
            CalDavCredentials {
                server_url: server_url.clone(),
                username: username.clone(),
                password,
            },
            calendar.clone(),
        ))
    }

    pub fn with_google(mut self, google: GoogleCalendar) -> Self {
        self.google = Some(google);
        self
    }

    fn provider(conn: &ConnectionRow) -> Result<Provider, CalendarError> {
        Provider::parse(&conn.provider)
            .ok_or_else(|| CalendarError::Other(format!("unknown provider {}", conn.provider)))
    }

    /// Writes `event` through `conn`; `known` is our last write there (same connection).
    async fn write(
        &self,
        conn: &ConnectionRow,
        event: &CalendarEvent,
        known: Option<&EventRow>,
    ) -> Result<EventRow, CalendarError> {
        let sequence = known.map_or(0, |k| k.sequence + 1);
        let external_id = match Self::provider(conn)? {
            Provider::Google => {
                let google = self
                    .google
                    .as_ref()
                    .ok_or_else(|| not_configured(Provider::Google))?;
                google.upsert(conn, event).await?
            }
            Provider::CalDav => {
                let client = self.caldav()?;
                let (account, calendar) = self.caldav_account(conn)?;
                let ev = EventWrite {
                    uid: caldav::booking_uid(event.booking_id),
                    summary: event.summary.clone(),
                    description: format!("Booked with gomomo. Reference {}.", event.reference),
                    start: event.start,
                    end: event.end,
                    sequence: u32::try_from(sequence).unwrap_or(0),
                };
                let stored = known.map(|k| Stored {
                    href: k.external_id.clone(),
                    etag: k.etag.clone(),
                });
                let w = client
                    .put_event(&account, &calendar, &ev, stored.as_ref())
                    .await?;
                if w.conflict {
                    self.note_overwritten(conn, event).await;
                }
                return Ok(EventRow {
                    booking_id: event.booking_id,
                    tenant_id: event.tenant_id,
                    connection_id: conn.id,
                    external_id: w.href,
                    etag: w.etag,
                    sequence: i32::try_from(w.sequence).unwrap_or(i32::MAX),
                    start_at: event.start,
                    end_at: event.end,
                    drift_reported_at: None,
                });
            }
            Provider::Microsoft => {
                let graph = self.graph()?;
                let ev = GraphEventWrite::from_booking(event);
                let known_id = known.map(|k| k.external_id.clone());
                graph
                    .with_token(&self.tokens(conn), |token| {
                        let (ev, known_id) = (&ev, known_id.as_deref());
                        async move { graph.upsert_event(&token, known_id, ev).await }
                    })
                    .await?
            }
        };
        Ok(EventRow {
            booking_id: event.booking_id,
            tenant_id: event.tenant_id,
            connection_id: conn.id,
            external_id,
            etag: None,
            sequence,
            start_at: event.start,
            end_at: event.end,
            drift_reported_at: None,
        })
    }

    /// Removes our event `booking` from `conn` (`known`: where we wrote it, when recorded).
    async fn remove(
        &self,
        conn: &ConnectionRow,
        booking: Uuid,
        known: Option<&EventRow>,
    ) -> Result<(), CalendarError> {
        match Self::provider(conn)? {
            Provider::Google => {
                let google = self
                    .google
                    .as_ref()
                    .ok_or_else(|| not_configured(Provider::Google))?;
                google.delete(conn, booking).await
            }
            // Every CalDAV write is recorded: without a record nothing was written.
            Provider::CalDav => match known {
                Some(k) => {
                    let client = self.caldav()?;
                    let (account, _) = self.caldav_account(conn)?;
                    let stored = Stored {
                        href: k.external_id.clone(),
                        etag: k.etag.clone(),
                    };
                    client.delete_event(&account, &stored).await
                }
                None => Ok(()),
            },
            Provider::Microsoft => match known {
                Some(k) => {
                    let graph = self.graph()?;
                    let id = k.external_id.as_str();
                    graph
                        .with_token(&self.tokens(conn), |token| async move {
                            graph.delete_event(&token, id).await
                        })
                        .await
                }
                None => Ok(()),
            },
        }
    }

    async fn read(
        &self,
        conn: &ConnectionRow,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        match Self::provider(conn)? {
            Provider::Google => {
                let google = self
                    .google
                    .as_ref()
                    .ok_or_else(|| not_configured(Provider::Google))?;
                let ranges = google.busy(conn, from, to).await?;
                self.without_ours(conn, from, to, ranges).await
            }
            Provider::CalDav => {
                let client = self.caldav()?;
                let (account, calendar) = self.caldav_account(conn)?;
                let tz = self.zone(conn.tenant_id).await?;
                let read = client.busy(&account, &calendar, from, to, tz).await?;
                let seen: Vec<Seen> = read
                    .ours
                    .iter()
                    .map(|e| Seen {
                        uid: e.uid.clone(),
                        start: e.start,
                        end: e.end,
                        cancelled: e.cancelled,
                    })
                    .collect();
                self.check_drift(conn, from, to, &seen).await;
                Ok(read.busy)
            }
            Provider::Microsoft => {
                let graph = self.graph()?;
                let tz = self.zone(conn.tenant_id).await?;
                let mailbox = conn.username.as_deref();
                let ranges = graph
                    .with_token(&self.tokens(conn), |token| async move {
                        graph.busy(&token, mailbox, from, to, tz).await
                    })
                    .await?;
                self.without_ours(conn, from, to, ranges).await
            }
        }
    }

    /// Busy `ranges` of a calendar that reports our own events as busy (Google's freeBusy,
    /// Graph's schedule) without the bookings written there: they are in Postgres already.
    async fn without_ours(
        &self,
        conn: &ConnectionRow,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        ranges: Vec<BusyRange>,
    ) -> Result<Vec<BusyRange>, CalendarError> {
        if ranges.is_empty() {
            return Ok(ranges);
        }
        let own = calendars::own_ranges(&self.pool, conn, from, to)
            .await
            .map_err(database)?;
        Ok(subtract(&ranges, &own))
    }

    /// Reads back our events still to come that were not checked for `every` (at most
    /// `limit` per call) and reports any moved, cancelled or gone in their calendar, as
    /// [`Self::check_drift`] does for CalDAV reads. Returns how many were read back. The
    /// scheduler runs it each tick; a calendar that cannot be read is left for a later one.
    pub async fn check_events(
        &self,
        every: chrono::Duration,
        limit: i64,
        budget: std::time::Duration,
    ) -> Result<usize, sqlx::Error> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let due = calendars::events_due_for_check(&self.pool, now, now - every, limit).await?;
        let mut read = 0;
        let mut failing: Vec<Uuid> = Vec::new();
        for event in &due {
            // Within its time budget, so the rest of the scheduler's tick always runs.
            if started.elapsed() > budget {
                break;
            }
            // A calendar that failed once this tick is not asked again until its events are
            // due again: they count as checked.
            if failing.contains(&event.connection_id) {
                calendars::mark_checked(&self.pool, event.booking_id, now).await?;
                continue;
            }
            let Some(conn) = calendars::get(&self.pool, event.connection_id).await? else {
                continue;
            };
            let seen = match self.read_back(&conn, event).await {
                Ok(seen) => seen,
                Err(e) => {
                    tracing::warn!(booking_id = %event.booking_id, error = %e, "reading an event back failed; checked again later");
                    self.health(&conn, &Err::<(), _>(e)).await;
                    failing.push(conn.id);
                    calendars::mark_checked(&self.pool, event.booking_id, now).await?;
                    continue;
                }
            };
            read += 1;
            calendars::mark_checked(&self.pool, event.booking_id, now).await?;
            let found = match seen {
                None => "missing",
                Some((_, _, true)) => "cancelled",
                Some((start, end, false)) if (start, end) != (event.start_at, event.end_at) => {
                    "moved"
                }
                Some(_) => continue,
            };
            self.report_drift(&conn, event, found).await?;
        }
        Ok(read)
    }

    /// One of our events as its calendar has it now: `(start, end, cancelled)`, or `None`.
    async fn read_back(
        &self,
        conn: &ConnectionRow,
        event: &EventRow,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>, bool)>, CalendarError> {
        match Self::provider(conn)? {
            Provider::Google => {
                let google = self
                    .google
                    .as_ref()
                    .ok_or_else(|| not_configured(Provider::Google))?;
                google.get(conn, event.booking_id).await
            }
            Provider::CalDav => {
                let client = self.caldav()?;
                let (account, _) = self.caldav_account(conn)?;
                Ok(client
                    .get_event(&account, &event.external_id)
                    .await?
                    .map(|e| (e.start, e.end, e.cancelled)))
            }
            Provider::Microsoft => {
                let graph = self.graph()?;
                let id = event.external_id.as_str();
                let seen = graph
                    .with_token(&self.tokens(conn), |token| async move {
                        graph.get_event(&token, id).await
                    })
                    .await?;
                Ok(seen.map(|e| (e.start, e.end, e.cancelled)))
            }
        }
    }

    /// Compares our events as the calendar has them (`seen`, within `[from, to)`) with what
    /// we wrote: one moved, cancelled or gone there is reported to the admin once. The
    /// booking is never changed from it.
    async fn check_drift(
        &self,
        conn: &ConnectionRow,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        seen: &[Seen],
    ) {
        let written = match calendars::events_of_connection(&self.pool, conn.id, from).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(connection_id = %conn.id, error = %e, "reading our events failed; drift not checked");
                return;
            }
        };
        for w in written
            .iter()
            .filter(|w| w.start_at < to && w.drift_reported_at.is_none())
        {
            let uid = caldav::booking_uid(w.booking_id);
            // Not in the window at all: deleted there, or moved out of the window.
            let found = match seen.iter().find(|s| s.uid == uid) {
                None => "missing",
                Some(s) if s.cancelled => "cancelled",
                Some(s) if (s.start, s.end) != (w.start_at, w.end_at) => "moved",
                Some(_) => continue,
            };
            if let Err(e) = self.report_drift(conn, w, found).await {
                tracing::warn!(booking_id = %w.booking_id, error = %e, "reporting a calendar drift failed");
            }
        }
    }

    async fn report_drift(
        &self,
        conn: &ConnectionRow,
        event: &EventRow,
        found: &str,
    ) -> Result<(), sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        if !calendars::mark_drift(&mut *tx, event.booking_id, now).await? {
            return Ok(());
        }
        let reference = crate::db::bookings::appointment_by_id(&mut *tx, event.booking_id)
            .await?
            .map_or_else(|| event.booking_id.to_string(), |a| a.reference);
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(conn.tenant_id),
                event_type: "calendar.event_changed_outside",
                entity_type: "appointment",
                entity_id: Some(event.booking_id.to_string()),
                actor: "system",
                payload: json!({
                    "reference": reference,
                    "provider": conn.provider,
                    "resource_id": conn.resource_id,
                    "found": found,
                }),
            },
        )
        .await?;
        if let Some(admin) = notifications::tenant_admin_email(&mut *tx, conn.tenant_id).await? {
            let text = &crate::text::current().mail;
            let resource = self.resource_name(&mut tx, conn).await?;
            notifications::enqueue(
                &mut tx,
                &notifications::NewNotification {
                    tenant_id: conn.tenant_id,
                    channel: "email",
                    kind: "calendar_drift",
                    recipient: admin,
                    subject: Some((text.calendar_drift_subject)(&reference)),
                    body: (text.calendar_drift_body)(&reference, &resource, found),
                    metadata: json!({"connection_id": conn.id, "found": found}),
                    idempotency_key: format!(
                        "calendar_drift:{}:{}",
                        event.booking_id,
                        now.timestamp()
                    ),
                    booking_id: Some(event.booking_id),
                    job_id: None,
                },
            )
            .await?;
        }
        tx.commit().await
    }

    async fn resource_name(
        &self,
        conn: &mut sqlx::PgConnection,
        c: &ConnectionRow,
    ) -> Result<String, sqlx::Error> {
        Ok(crate::db::tenants::list_resources(&mut *conn, c.tenant_id)
            .await?
            .into_iter()
            .find(|r| r.id == c.resource_id)
            .map_or_else(|| "a resource".to_string(), |r| r.name))
    }

    /// The event of a booking that moved away could not be removed from `conn`: audited, so
    /// the admin can take it out by hand.
    async fn note_left_behind(&self, conn: &ConnectionRow, event: &EventRow) {
        let written = async {
            let mut db = self.pool.acquire().await?;
            audit::record(
                &mut db,
                audit::AuditEntry {
                    tenant_id: Some(event.tenant_id),
                    event_type: "calendar.event_left_behind",
                    entity_type: "appointment",
                    entity_id: Some(event.booking_id.to_string()),
                    actor: "system",
                    payload: json!({"provider": conn.provider, "resource_id": conn.resource_id}),
                },
            )
            .await
        }
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "auditing an event left behind failed");
        }
    }

    /// Our event had been changed in the calendar and was written over: audited.
    async fn note_overwritten(&self, conn: &ConnectionRow, event: &CalendarEvent) {
        let mut db = match self.pool.acquire().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "auditing an overwritten event failed");
                return;
            }
        };
        let written = audit::record(
            &mut db,
            audit::AuditEntry {
                tenant_id: Some(event.tenant_id),
                event_type: "calendar.event_overwritten",
                entity_type: "appointment",
                entity_id: Some(event.booking_id.to_string()),
                actor: "system",
                payload: json!({
                    "reference": event.reference,
                    "provider": conn.provider,
                    "resource_id": conn.resource_id,
                }),
            },
        )
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "auditing an overwritten event failed");
        }
    }

    /// Records the outcome of a call on the connection; a refused credential is noticed
    /// once and told to the admin.
    async fn health<T>(&self, conn: &ConnectionRow, outcome: &Result<T, CalendarError>) {
        let now = self.clock.now();
        let recorded = match outcome {
            Ok(_) => calendars::record_success(&self.pool, conn.id, now)
                .await
                .map(|()| false),
            Err(e) => {
                calendars::record_error(
                    &self.pool,
                    conn.id,
                    now,
                    &e.to_string(),
                    *e == CalendarError::Auth,
                )
                .await
            }
        };
        match recorded {
            Ok(true) => {
                if let Err(e) = self.tell_revoked(conn, now).await {
                    tracing::error!(connection_id = %conn.id, error = %e, "telling the admin of a revoked calendar failed");
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(connection_id = %conn.id, error = %e, "recording calendar health failed")
            }
        }
    }

    async fn tell_revoked(
        &self,
        conn: &ConnectionRow,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let provider = Provider::parse(&conn.provider).map_or("calendar", Provider::label);
        let mut tx = self.pool.begin().await?;
        let resource = self.resource_name(&mut tx, conn).await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(conn.tenant_id),
                event_type: "calendar.revoked",
                entity_type: "calendar_connection",
                entity_id: Some(conn.id.to_string()),
                actor: "system",
                payload: json!({"provider": conn.provider, "resource_id": conn.resource_id}),
            },
        )
        .await?;
        if let Some(admin) = notifications::tenant_admin_email(&mut *tx, conn.tenant_id).await? {
            let text = &crate::text::current().mail;
            notifications::enqueue(
                &mut tx,
                &notifications::NewNotification {
                    tenant_id: conn.tenant_id,
                    channel: "email",
                    kind: "calendar_revoked",
                    recipient: admin,
                    subject: Some((text.calendar_revoked_subject)(&resource)),
                    body: (text.calendar_revoked_body)(
                        &resource,
                        provider,
                        "the credentials were refused",
                    ),
                    metadata: json!({"connection_id": conn.id, "resource_id": conn.resource_id}),
                    idempotency_key: format!("calendar_revoked:{}:{}", conn.id, now.timestamp()),
                    booking_id: None,
                    job_id: None,
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Whether `resource` is one of `tenant`'s.
    pub async fn resource_of_tenant(
        &self,
        tenant: Uuid,
        resource: Uuid,
    ) -> Result<bool, sqlx::Error> {
        crate::db::schedule::resource_of_tenant(&self.pool, tenant, resource).await
    }

    /// Connects `resource` to a CalDAV account: the URL must pass the outbound policy (no
    /// internal address), the account must sign in, and discovery must find a calendar that
    /// takes events (`calendar_url` when given must be one of them; otherwise the first).
    /// The app password is stored sealed. Replaces whatever the resource had. Returns the
    /// connection and its resource's name.
    #[allow(clippy::too_many_arguments)]
    pub async fn connect_caldav(
        &self,
        tenant: Uuid,
        resource: Uuid,
        server_url: &str,
        username: &str,
        password: &str,
        calendar_url: Option<&str>,
        actor: &str,
    ) -> Result<(ConnectionRow, String), ConnectError> {
        let (client, policy) = self.caldav.as_ref().ok_or(ConnectError::NotConfigured)?;
        let invalid =
            |field: &'static str, reason: &'static str| ConnectError::Invalid { field, reason };
        let server_url = server_url.trim();
        if server_url.is_empty() || server_url.len() > 2000 {
            return Err(invalid(
                "server_url",
                "must be a URL of at most 2000 characters",
            ));
        }
        if username.trim().is_empty() || username.len() > 320 {
            return Err(invalid("username", "must be 1 to 320 characters"));
        }
        if password.is_empty() || password.len() > 1000 {
            return Err(invalid("password", "must be 1 to 1000 characters"));
        }
        let url = reqwest::Url::parse(server_url)
            .map_err(|_| invalid("server_url", "is not a valid URL"))?;
        client
            .check_url(&url)
            .map_err(|e| ConnectError::Refused(e.to_string()))?;
        let host = url.host_str().unwrap_or_default();
        super::outbound::check_host(policy, host)
            .await
            .map_err(|r| ConnectError::Refused(r.to_string()))?;
        let account = CalDavCredentials {
            server_url: server_url.to_string(),
            username: username.trim().to_string(),
            password: password.to_string(),
        };
        let found = client.discover(&account).await.map_err(|e| match e {
            CalendarError::Auth => ConnectError::Auth,
            CalendarError::Other(m) if m.contains("outbound address refused") => {
                ConnectError::Refused(m)
            }
            e => ConnectError::Unreachable(e.to_string()),
        })?;
        let calendar = match calendar_url.map(str::trim).filter(|c| !c.is_empty()) {
            Some(wanted) => found
                .iter()
                .find(|c| c.url.trim_end_matches('/') == wanted.trim_end_matches('/'))
                .ok_or(ConnectError::NoCalendar)?,
            None => found.first().ok_or(ConnectError::NoCalendar)?,
        };
        let sealed = self
            .secrets
            .seal_str(&ctx_caldav(tenant), password)
            .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let id = calendars::save_caldav(
            &mut *tx,
            tenant,
            resource,
            &account.server_url,
            &account.username,
            &sealed,
            &calendar.url,
        )
        .await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant),
                event_type: "calendar.connected",
                entity_type: "calendar_connection",
                entity_id: Some(id.to_string()),
                actor,
                payload: json!({"provider": "caldav", "resource_id": resource, "calendar": calendar.url}),
            },
        )
        .await?;
        let row = calendars::get(&mut *tx, id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let name = self.resource_name(&mut tx, &row).await?;
        tx.commit().await?;
        Ok((row, name))
    }

    /// The tenant's connections with their resource's name.
    pub async fn list(&self, tenant: Uuid) -> Result<Vec<(ConnectionRow, String)>, sqlx::Error> {
        calendars::list(&self.pool, tenant).await
    }

    /// Disconnects `resource`'s calendar. With `remove_future`, our events that have not
    /// ended yet are deleted from it first; when any of them cannot be, the connection stays
    /// (nothing is half done) and the error says so. Without, they are left where they are.
    pub async fn disconnect(
        &self,
        tenant: Uuid,
        resource: Uuid,
        remove_future: bool,
        actor: &str,
    ) -> Result<Disconnected, DisconnectError> {
        let conn = calendars::for_resource(&self.pool, tenant, resource)
            .await?
            .ok_or(DisconnectError::NotConnected)?;
        let events = calendars::events_of_connection(&self.pool, conn.id, self.clock.now()).await?;
        let mut removed = 0;
        if remove_future {
            let mut failed = 0;
            for e in &events {
                match self.remove(&conn, e.booking_id, Some(e)).await {
                    Ok(()) => {
                        calendars::delete_event(&self.pool, e.booking_id).await?;
                        removed += 1;
                    }
                    Err(err) => {
                        tracing::warn!(booking_id = %e.booking_id, error = %err, "removing a future event failed");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                return Err(DisconnectError::Unreachable { removed, failed });
            }
        }
        let mut tx = self.pool.begin().await?;
        calendars::delete(&mut *tx, tenant, resource).await?;
        audit::record(
            &mut tx,
            audit::AuditEntry {
                tenant_id: Some(tenant),
                event_type: "calendar.disconnected",
                entity_type: "calendar_connection",
                entity_id: Some(conn.id.to_string()),
                actor,
                payload: json!({
                    "provider": conn.provider,
                    "resource_id": resource,
                    "future_events": if remove_future { "removed" } else { "left" },
                    "removed": removed,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Disconnected {
            provider: conn.provider,
            removed,
            left: if remove_future { 0 } else { events.len() },
        })
    }

    /// Legacy events (written before events were recorded) of Google connections: found
    /// by the id derived from the booking, on the calendar of the booking's resource.
    async fn legacy_connection(
        &self,
        tenant: Uuid,
        booking: Uuid,
    ) -> Result<Option<ConnectionRow>, CalendarError> {
        let Some(appt) = crate::db::bookings::appointment_by_id(&self.pool, booking)
            .await
            .map_err(database)?
        else {
            return Ok(None);
        };
        let conn = calendars::for_resource(&self.pool, tenant, appt.resource_id)
            .await
            .map_err(database)?;
        Ok(conn.filter(|c| c.provider == Provider::Google.as_str()))
    }
}

#[async_trait]
impl CalendarProvider for ConnectedCalendars {
    async fn create_event(&self, event: &CalendarEvent) -> Result<String, CalendarError> {
        let conn = calendars::for_resource(&self.pool, event.tenant_id, event.resource_id)
            .await
            .map_err(database)?;
        let known = calendars::event_of(&self.pool, event.booking_id)
            .await
            .map_err(database)?;
        let here = match (&known, &conn) {
            (Some(k), Some(c)) if k.connection_id == c.id => known.as_ref(),
            // Written to another calendar (the booking moved to another resource, or the
            // resource connected another calendar): take it out of there first.
            // A calendar that cannot take it out now does not keep the booking from its new
            // calendar: the event left there is logged and audited.
            (Some(k), _) => {
                if let Some(old) = calendars::get(&self.pool, k.connection_id)
                    .await
                    .map_err(database)?
                {
                    let removed = self.remove(&old, k.booking_id, Some(k)).await;
                    self.health(&old, &removed).await;
                    if let Err(e) = removed {
                        tracing::warn!(booking_id = %k.booking_id, error = %e, "the event stays in the calendar the booking left");
                        self.note_left_behind(&old, k).await;
                    }
                }
                calendars::delete_event(&self.pool, k.booking_id)
                    .await
                    .map_err(database)?;
                None
            }
            (None, _) => None,
        };
        let Some(conn) = conn else {
            return Ok(String::new());
        };
        let written = self.write(&conn, event, here).await;
        self.health(&conn, &written).await;
        let row = written?;
        calendars::save_event(&self.pool, &row)
            .await
            .map_err(database)?;
        Ok(row.external_id)
    }

    async fn delete_event(&self, tenant: Uuid, booking: Uuid) -> Result<(), CalendarError> {
        let known = calendars::event_of(&self.pool, booking)
            .await
            .map_err(database)?;
        let conn = match &known {
            Some(k) => calendars::get(&self.pool, k.connection_id)
                .await
                .map_err(database)?,
            None => self.legacy_connection(tenant, booking).await?,
        };
        if let Some(conn) = conn {
            let removed = self.remove(&conn, booking, known.as_ref()).await;
            self.health(&conn, &removed).await;
            removed?;
        }
        if known.is_some() {
            calendars::delete_event(&self.pool, booking)
                .await
                .map_err(database)?;
        }
        Ok(())
    }

    async fn free_busy(
        &self,
        tenant: Uuid,
        resources: &[Uuid],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<ResourceBusy> {
        let conns = match calendars::for_resources(&self.pool, tenant, resources).await {
            Ok(c) => c,
            // Which resources have a calendar is unknown: every one is withheld.
            Err(e) => {
                let e = database(e);
                return resources
                    .iter()
                    .map(|r| ResourceBusy {
                        resource_id: *r,
                        busy: Err(e.clone()),
                    })
                    .collect();
            }
        };
        let mut out = Vec::with_capacity(conns.len());
        for conn in conns {
            let busy = self.read(&conn, from, to).await;
            self.health(&conn, &busy).await;
            out.push(ResourceBusy {
                resource_id: conn.resource_id,
                busy,
            });
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, h, m, 0).unwrap()
    }

    #[test]
    fn own_bookings_are_cut_out_of_merged_ranges() {
        // Google merges our 10:00–10:30 booking with an external 10:30–11:00 meeting.
        let r = [BusyRange {
            start: t(10, 0),
            end: t(11, 0),
        }];
        let got = subtract(&r, &[(t(10, 0), t(10, 30))]);
        assert_eq!(
            got,
            vec![BusyRange {
                start: t(10, 30),
                end: t(11, 0)
            }]
        );
        // A range that is only our booking disappears; an unrelated one stays whole.
        assert!(subtract(
            &[BusyRange {
                start: t(9, 0),
                end: t(9, 30)
            }],
            &[(t(9, 0), t(9, 30))]
        )
        .is_empty());
        let got = subtract(
            &[BusyRange {
                start: t(12, 0),
                end: t(13, 0),
            }],
            &[(t(12, 15), t(12, 30))],
        );
        assert_eq!(
            got,
            vec![
                BusyRange {
                    start: t(12, 0),
                    end: t(12, 15)
                },
                BusyRange {
                    start: t(12, 30),
                    end: t(13, 0)
                }
            ]
        );
    }
}
