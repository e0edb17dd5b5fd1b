//! A CalDAV (RFC 4791) client for one account: discovery, the booking's event, busy time.
//!
//! - **Discovery**: `/.well-known/caldav` (RFC 6764; a redirect is followed by hand, after the
//!   address check), then the URL given: `current-user-principal` → `calendar-home-set` →
//!   a Depth 1 PROPFIND of the home for collections that are calendars and take VEVENTs.
//! - **Events**: one resource per booking, `{calendar}/{uid}.ics`, created with
//!   `If-None-Match: *` and updated with `If-Match` on the ETag and a growing SEQUENCE. On
//!   `412` someone else changed it: the current resource is fetched, ours written over it
//!   with a SEQUENCE above both, and the answer says `conflict` so the caller records it.
//!   Deleting a resource that is gone (404/410) is success.
//! - **Busy time**: a `calendar-query` REPORT with a VEVENT time-range filter. Recurrences
//!   are expanded here ([`ical`], with the `rrule` crate) in the event's own zone, EXDATE and
//!   RECURRENCE-ID overrides applied. Server-side expansion (`<C:expand>`, RFC 4791 §9.6.5)
//!   is an option ([`CalDavClient::with_server_expand`]), off by default: Radicale 3.9
//!   expands a weekly event with the first instance's UTC offset across a DST change and
//!   ignores its EXDATEs, and a wrong expansion is a double booking. What a server sends
//!   already expanded (instances with RECURRENCE-ID and no RRULE) reads the same way.
//!   Transparent and cancelled instances are not busy; gomomo's own events come back apart,
//!   for the caller to compare with its bookings.
//!
//! Every URL — the one given and every href a server answers, which may name another host —
//! passes the outbound policy before a request (address literals here, names in the
//! guarded client's resolver). Any failure, unparsable answer or unexpected status is an
//! error: the caller fails closed. The module never touches the database.

pub mod dav;
pub mod ical;

use std::fmt;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, ETAG};
use reqwest::{Method, StatusCode, Url};

use crate::adapters::outbound::{check_literal, refusal};
use crate::domain::outbound::OutboundPolicy;
use crate::ports::calendar::{BusyRange, CalendarError};

pub use ical::{EventWrite, OURS_PROPERTY, UID_PREFIX};

/// How long one request may take, by default.
pub const DEFAULT_TIMEOUT: StdDuration = StdDuration::from_secs(20);
/// The largest answer read (a calendar-query over a busy calendar stays far below).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Redirects followed by hand during discovery.
const MAX_REDIRECTS: usize = 3;
/// PUT attempts when the resource keeps changing under us.
const MAX_CONFLICT_ROUNDS: usize = 3;

/// The account: the server URL, the user name and an app password.
#[derive(Clone, PartialEq, Eq)]
pub struct CalDavCredentials {
    pub server_url: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for CalDavCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalDavCredentials")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A calendar found by [`CalDavClient::discover`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredCalendar {
    /// Absolute URL of the calendar collection (ends in `/`).
    pub url: String,
    pub display_name: Option<String>,
}

/// What the caller keeps about an event it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Absolute URL of the resource.
    pub href: String,
    pub etag: Option<String>,
}

/// The result of [`CalDavClient::put_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub href: String,
    pub etag: Option<String>,
    /// The SEQUENCE written (above the server's when a conflict was resolved).
    pub sequence: u32,
    /// Someone else had changed (or removed) the event: ours was written over it.
    pub conflict: bool,
}

/// One of gomomo's events as the server has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenEvent {
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Absolute URL of the resource holding it.
    pub href: String,
    pub etag: Option<String>,
    pub sequence: u32,
    /// STATUS:CANCELLED set in the calendar.
    pub cancelled: bool,
}

/// The busy time of a calendar, and gomomo's own events in the window.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CalDavBusy {
    pub busy: Vec<BusyRange>,
    pub ours: Vec<SeenEvent>,
}

/// The CalDAV client. `http` should come from
/// [`crate::adapters::outbound::guarded_client`] with the same policy (it checks the
/// addresses names resolve to; this client checks literals and schemes).
#[derive(Clone)]
pub struct CalDavClient {
    http: reqwest::Client,
    policy: OutboundPolicy,
    timeout: StdDuration,
    server_expand: bool,
}

/// The UID of a booking's event.
pub fn booking_uid(booking: uuid::Uuid) -> String {
    format!("{UID_PREFIX}{}", booking.simple())
}

/// An ETag usable in `If-Match`: a weak one (`W/"…"`) never matches there (RFC 9110
/// §13.1.1), so it is not sent.
fn strong(etag: &str) -> Option<String> {
    let e = etag.trim();
    (!e.is_empty() && !e.starts_with("W/")).then(|| e.to_string())
}

fn other(msg: impl Into<String>) -> CalendarError {
    CalendarError::Other(msg.into())
}

fn send_error(e: &reqwest::Error) -> CalendarError {
    if let Some(r) = refusal(e) {
        return other(format!("outbound address refused: {r}"));
    }
    if e.is_timeout() {
        CalendarError::Timeout
    } else {
        CalendarError::Network
    }
}

/// A URL without its query and credentials, for messages.
fn shown(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn etag(&self) -> Option<String> {
        self.headers
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl CalDavClient {
    pub fn new(http: reqwest::Client, policy: OutboundPolicy) -> Self {
        Self {
            http,
            policy,
            timeout: DEFAULT_TIMEOUT,
            server_expand: false,
        }
    }

    /// The time one request may take.
    pub fn with_timeout(mut self, timeout: StdDuration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether busy-time queries ask the server to expand recurrences (off by default:
    /// every recurrence is expanded here; see the module documentation).
    pub fn with_server_expand(mut self, on: bool) -> Self {
        self.server_expand = on;
        self
    }

    /// The scheme and address check every URL passes before a request.
    pub fn check_url(&self, url: &Url) -> Result<(), CalendarError> {
        match url.scheme() {
            "https" => {}
            "http" if self.policy.allow_http => {}
            s => return Err(other(format!("the URL scheme {s:?} is not allowed"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(other("a URL must not carry credentials"));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| other("the URL has no host"))?;
        check_literal(&self.policy, host)
            .map_err(|r| other(format!("outbound address refused: {r}")))
    }

    fn parse_url(&self, s: &str) -> Result<Url, CalendarError> {
        let url = Url::parse(s.trim()).map_err(|_| other("the CalDAV URL is not a valid URL"))?;
        self.check_url(&url)?;
        Ok(url)
    }

    /// An href from the server, against the URL it answered for.
    fn join(&self, base: &Url, href: &str) -> Result<Url, CalendarError> {
        let url = base
            .join(href.trim())
            .map_err(|_| other(format!("the server answered a bad href {href:?}")))?;
        self.check_url(&url)?;
        Ok(url)
    }

    async fn request(
        &self,
        creds: &CalDavCredentials,
        method: Method,
        url: &Url,
        headers: &[(&'static str, String)],
        body: Option<(String, &'static str)>,
    ) -> Result<Answer, CalendarError> {
        self.check_url(url)?;
        let mut req = self
            .http
            .request(method, url.clone())
            .timeout(self.timeout)
            .basic_auth(&creds.username, Some(&creds.password));
        for (k, v) in headers {
            let v = HeaderValue::from_str(v).map_err(|_| other("a bad header value"))?;
            req = req.header(*k, v);
        }
        if let Some((b, ct)) = body {
            req = req.header(CONTENT_TYPE, ct).body(b);
        }
        let mut res = req.send().await.map_err(|e| send_error(&e))?;
        let status = res.status();
        let headers = res.headers().clone();
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| send_error(&e))? {
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(other("the CalDAV answer is too large"));
            }
            bytes.extend_from_slice(&chunk);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(CalendarError::Auth);
        }
        Ok(Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    }

    async fn propfind(
        &self,
        creds: &CalDavCredentials,
        url: &Url,
        depth: &str,
        body: &str,
    ) -> Result<Answer, CalendarError> {
        self.request(
            creds,
            propfind_method(),
            url,
            &[("Depth", depth.to_string())],
            Some((body.to_string(), "application/xml; charset=utf-8")),
        )
        .await
    }

    /// A multistatus answer or an error naming the status.
    fn multistatus(
        &self,
        what: &str,
        url: &Url,
        a: &Answer,
    ) -> Result<Vec<dav::DavResponse>, CalendarError> {
        if a.status != StatusCode::MULTI_STATUS {
            return Err(other(format!(
                "{what} {}: HTTP {}",
                shown(url),
                a.status.as_u16()
            )));
        }
        dav::parse_multistatus(&a.body).map_err(|e| other(format!("{what} {}: {e}", shown(url))))
    }

    /// The principal found from `start`, following redirects by hand (each target checked);
    /// `Ok(None)` when that URL does not lead to one.
    async fn principal_from(
        &self,
        creds: &CalDavCredentials,
        start: Url,
    ) -> Result<Option<(Url, Url)>, CalendarError> {
        let mut url = start;
        for _ in 0..=MAX_REDIRECTS {
            let a = self
                .propfind(creds, &url, "0", dav::PROPFIND_PRINCIPAL)
                .await?;
            if a.status.is_redirection() {
                let Some(loc) = a.headers.get("location").and_then(|v| v.to_str().ok()) else {
                    return Ok(None);
                };
                url = self.join(&url, loc)?;
                continue;
            }
            if a.status != StatusCode::MULTI_STATUS {
                return Ok(None);
            }
            let rs = self.multistatus("PROPFIND", &url, &a)?;
            if let Some(p) = rs.iter().find_map(|r| r.principal.clone()) {
                return Ok(Some((self.join(&url, &p)?, url)));
            }
            return Ok(None);
        }
        Ok(None)
    }

    /// Finds the account's calendars that hold events.
    pub async fn discover(
        &self,
        creds: &CalDavCredentials,
    ) -> Result<Vec<DiscoveredCalendar>, CalendarError> {
        let given = self.parse_url(&creds.server_url)?;
        let mut well_known = given.clone();
        well_known.set_path("/.well-known/caldav");
        well_known.set_query(None);
        let principal = match self.principal_from(creds, well_known).await {
            Ok(Some((p, _))) => Some(p),
            // A server may guard or lack the well-known URL: the given URL decides.
            Ok(None) | Err(CalendarError::Auth) | Err(CalendarError::Other(_)) => self
                .principal_from(creds, given.clone())
                .await?
                .map(|(p, _)| p),
            Err(e) => return Err(e),
        };
        // The home: from the principal, else from the given URL, else the given URL itself.
        let mut home = None;
        for url in principal.iter().chain(std::iter::once(&given)) {
            let a = self.propfind(creds, url, "0", dav::PROPFIND_HOME).await?;
            if a.status != StatusCode::MULTI_STATUS {
                continue;
            }
            let rs = self.multistatus("PROPFIND", url, &a)?;
            if let Some(h) = rs.iter().find_map(|r| r.home.clone()) {
                home = Some(self.join(url, &h)?);
                break;
            }
        }
        let home = home.unwrap_or_else(|| given.clone());
        let a = self
            .propfind(creds, &home, "1", dav::PROPFIND_CALENDARS)
            .await?;
        let rs = self.multistatus("PROPFIND", &home, &a)?;
        let mut out: Vec<DiscoveredCalendar> = Vec::new();
        for r in rs {
            let takes_events = r
                .components
                .as_ref()
                .is_none_or(|c| c.iter().any(|n| n == "VEVENT"));
            if !r.is_calendar || !takes_events {
                continue;
            }
            let mut url = self.join(&home, &r.href)?;
            if !url.path().ends_with('/') {
                let p = format!("{}/", url.path());
                url.set_path(&p);
            }
            if out.iter().all(|c| c.url != url.as_str()) {
                out.push(DiscoveredCalendar {
                    url: url.to_string(),
                    display_name: r.display_name,
                });
            }
        }
        Ok(out)
    }

    /// The resource URL of a new event in `calendar_url`.
    fn event_url(&self, calendar_url: &str, uid: &str) -> Result<Url, CalendarError> {
        let mut base = self.parse_url(calendar_url)?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let name: String = form_urlencoded::byte_serialize(format!("{uid}.ics").as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        self.join(&base, &name)
    }

    async fn put(
        &self,
        creds: &CalDavCredentials,
        url: &Url,
        body: &str,
        precondition: Option<(&'static str, String)>,
    ) -> Result<Answer, CalendarError> {
        let headers: Vec<(&'static str, String)> = precondition.into_iter().collect();
        self.request(
            creds,
            Method::PUT,
            url,
            &headers,
            Some((body.to_string(), "text/calendar; charset=utf-8")),
        )
        .await
    }

    /// The ETag of a resource (HEAD; a GET when HEAD gives none), or `None`.
    async fn fetch_etag(
        &self,
        creds: &CalDavCredentials,
        url: &Url,
    ) -> Result<Option<String>, CalendarError> {
        let a = self.request(creds, Method::HEAD, url, &[], None).await?;
        if let Some(e) = a.etag().filter(|_| a.status.is_success()) {
            return Ok(Some(e));
        }
        let a = self.request(creds, Method::GET, url, &[], None).await?;
        Ok(a.etag().filter(|_| a.status.is_success()))
    }

    /// Writes the booking's event: creates it (`known` = None) or updates it.
    pub async fn put_event(
        &self,
        creds: &CalDavCredentials,
        calendar_url: &str,
        ev: &EventWrite,
        known: Option<&Stored>,
    ) -> Result<Written, CalendarError> {
        let url = match known {
            Some(k) => self.parse_url(&k.href)?,
            None => self.event_url(calendar_url, &ev.uid)?,
        };
        let mut sequence = ev.sequence;
        let mut precondition = match known {
            None => Some(("If-None-Match", "*".to_string())),
            Some(Stored { etag, .. }) => etag.as_deref().and_then(strong).map(|e| ("If-Match", e)),
        };
        let mut conflict = false;
        for _ in 0..MAX_CONFLICT_ROUNDS {
            let body = ical::render_event(ev, sequence, Utc::now());
            let a = self.put(creds, &url, &body, precondition.clone()).await?;
            if a.status.is_success() {
                let etag = match a.etag() {
                    Some(e) => Some(e),
                    None => self.fetch_etag(creds, &url).await?,
                };
                return Ok(Written {
                    href: url.to_string(),
                    etag,
                    sequence,
                    conflict,
                });
            }
            if a.status != StatusCode::PRECONDITION_FAILED {
                return Err(other(format!(
                    "PUT {}: HTTP {}",
                    shown(&url),
                    a.status.as_u16()
                )));
            }
            // The resource is not what we last saw: read it and write ours over it.
            let current = self.request(creds, Method::GET, &url, &[], None).await?;
            match current.status {
                s if s.is_success() => {
                    let theirs = ical::read_events(&current.body, Tz::UTC)
                        .map_err(|e| other(format!("GET {}: {e}", shown(&url))))?;
                    let master = theirs.iter().find(|e| e.recurrence_id.is_none());
                    // What we are writing is already there (a retry after a lost answer,
                    // so the ETag we hold is the one before our own write): no conflict.
                    if let Some(m) = master {
                        let same = m.uid == ev.uid
                            && m.sequence == sequence
                            && m.start.instant() == ev.start
                            && ev.end == m_end(m)
                            && !m.cancelled;
                        if same {
                            return Ok(Written {
                                href: url.to_string(),
                                etag: current.etag(),
                                sequence,
                                conflict: false,
                            });
                        }
                    }
                    let their_seq = theirs.iter().map(|e| e.sequence).max().unwrap_or(0);
                    sequence = sequence.max(their_seq.saturating_add(1));
                    conflict = true;
                    // Over exactly what we read where the ETag allows, else over whatever
                    // is there.
                    let e = current.etag().as_deref().and_then(strong);
                    precondition = Some(("If-Match", e.unwrap_or_else(|| "*".to_string())));
                }
                StatusCode::NOT_FOUND | StatusCode::GONE => {
                    // Removed outside gomomo: written again.
                    conflict = true;
                    precondition = Some(("If-None-Match", "*".to_string()));
                }
                s => {
                    return Err(other(format!("GET {}: HTTP {}", shown(&url), s.as_u16())));
                }
            }
        }
        Err(other(format!(
            "PUT {}: the event kept changing on the server",
            shown(&url)
        )))
    }

    /// Deletes the booking's event; one that is already gone is success.
    pub async fn delete_event(
        &self,
        creds: &CalDavCredentials,
        stored: &Stored,
    ) -> Result<(), CalendarError> {
        let url = self.parse_url(&stored.href)?;
        let mut etag = stored.etag.clone();
        for _ in 0..2 {
            let headers: Vec<(&'static str, String)> = etag
                .as_deref()
                .and_then(strong)
                .map(|e| ("If-Match", e))
                .into_iter()
                .collect();
            let a = self
                .request(creds, Method::DELETE, &url, &headers, None)
                .await?;
            match a.status {
                s if s.is_success() => return Ok(()),
                StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(()),
                StatusCode::PRECONDITION_FAILED => {
                    // Changed since we wrote it: the booking is gone all the same.
                    match self.fetch_etag(creds, &url).await? {
                        Some(e) => etag = Some(e),
                        None => return Ok(()),
                    }
                }
                s => {
                    return Err(other(format!(
                        "DELETE {}: HTTP {}",
                        shown(&url),
                        s.as_u16()
                    )))
                }
            }
        }
        Err(other(format!(
            "DELETE {}: the event kept changing on the server",
            shown(&url)
        )))
    }

    /// Busy time of the calendar within `[from, to)`, and gomomo's own events there.
    /// `floating_tz` is the zone of floating times and all-day dates without a TZID.
    pub async fn busy(
        &self,
        creds: &CalDavCredentials,
        calendar_url: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        floating_tz: Tz,
    ) -> Result<CalDavBusy, CalendarError> {
        let url = self.parse_url(calendar_url)?;
        let a = self
            .request(
                creds,
                Method::from_bytes(b"REPORT").map_err(|_| other("REPORT"))?,
                &url,
                &[("Depth", "1".to_string())],
                Some((
                    dav::calendar_query(from, to, self.server_expand),
                    "application/xml; charset=utf-8",
                )),
            )
            .await?;
        let rs = self.multistatus("REPORT", &url, &a)?;
        let mut out = CalDavBusy::default();
        for r in rs {
            if r.status.is_some_and(|s| s == 404 || s == 410) {
                continue;
            }
            let data = r.calendar_data.as_deref().ok_or_else(|| {
                other(format!(
                    "REPORT {}: a response without calendar-data",
                    shown(&url)
                ))
            })?;
            let href = self.join(&url, &r.href)?;
            let events = ical::read_events(data, floating_tz)
                .map_err(|e| other(format!("REPORT {}: {e}", shown(&url))))?;
            let instances = ical::instances(&events, from, to)
                .map_err(|e| other(format!("REPORT {}: {e}", shown(&url))))?;
            for i in instances {
                if i.ours {
                    out.ours.push(SeenEvent {
                        uid: i.uid,
                        start: i.start,
                        end: i.end,
                        href: href.to_string(),
                        etag: r.etag.clone(),
                        sequence: i.sequence,
                        cancelled: i.cancelled,
                    });
                } else if !i.transparent && !i.cancelled && i.end > i.start {
                    out.busy.push(BusyRange {
                        start: i.start.max(from),
                        end: i.end.min(to),
                    });
                }
            }
        }
        out.busy.sort_by_key(|b| (b.start, b.end));
        out.ours.sort_by_key(|e| (e.start, e.uid.clone()));
        Ok(out)
    }

    /// One event as the server has it (`None` when it is gone). Floating times are read
    /// as UTC (gomomo writes UTC).
    pub async fn get_event(
        &self,
        creds: &CalDavCredentials,
        href: &str,
    ) -> Result<Option<SeenEvent>, CalendarError> {
        let url = self.parse_url(href)?;
        let a = self.request(creds, Method::GET, &url, &[], None).await?;
        match a.status {
            StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(None),
            s if s.is_success() => {}
            s => return Err(other(format!("GET {}: HTTP {}", shown(&url), s.as_u16()))),
        }
        let events = ical::read_events(&a.body, Tz::UTC)
            .map_err(|e| other(format!("GET {}: {e}", shown(&url))))?;
        let ev = events
            .iter()
            .find(|e| e.recurrence_id.is_none())
            .or(events.first())
            .ok_or_else(|| other(format!("GET {}: no VEVENT", shown(&url))))?;
        Ok(Some(SeenEvent {
            uid: ev.uid.clone(),
            start: ev.start.instant(),
            end: m_end(ev),
            href: url.to_string(),
            etag: a.etag(),
            sequence: ev.sequence,
            cancelled: ev.cancelled,
        }))
    }
}

fn m_end(ev: &ical::Vevent) -> DateTime<Utc> {
    ev.end_at_start()
}

fn propfind_method() -> Method {
    Method::from_bytes(b"PROPFIND").unwrap_or(Method::GET)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let c = CalDavCredentials {
            server_url: "https://dav.example.com/".into(),
            username: "ana".into(),
            password: "hunter2-app-password".into(),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("ana") && s.contains("dav.example.com"));
    }

    #[test]
    fn urls_are_checked_before_any_request() {
        let strict = CalDavClient::new(reqwest::Client::new(), OutboundPolicy::strict());
        for bad in [
            "http://203.0.113.10/dav/",
            "https://127.0.0.1/dav/",
            "https://[::1]:8443/",
            "https://169.254.169.254/latest/",
            "https://user:pw@dav.example.com/",
            "ftp://dav.example.com/",
            "not a url",
        ] {
            assert!(strict.parse_url(bad).is_err(), "{bad}");
        }
        assert!(strict.parse_url("https://dav.example.com/cal/").is_ok());
        // An href from the server pointing at an internal host is refused too.
        let base = Url::parse("https://dav.example.com/cal/").unwrap();
        assert!(strict.join(&base, "https://10.0.0.5/x.ics").is_err());
        assert!(strict.join(&base, "/other/x.ics").is_ok());
        let dev = CalDavClient::new(
            reqwest::Client::new(),
            OutboundPolicy::new(true, &["127.0.0.1"]),
        );
        assert!(dev.parse_url("http://127.0.0.1:5232/").is_ok());
        assert!(dev.parse_url("http://127.0.0.2:5232/").is_err());
    }

    #[test]
    fn weak_etags_are_not_preconditions() {
        assert_eq!(strong("\"abc\""), Some("\"abc\"".to_string()));
        assert_eq!(strong("W/\"abc\""), None);
        assert_eq!(strong(" "), None);
    }

    #[test]
    fn event_urls_escape_the_uid() {
        let c = CalDavClient::new(
            reqwest::Client::new(),
            OutboundPolicy::new(true, &["127.0.0.1"]),
        );
        let u = c
            .event_url("http://127.0.0.1:5232/ana/cal", "gomomo-ab/c d")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:5232/ana/cal/gomomo-ab%2Fc%20d.ics"
        );
    }
}
