//! Delivery on real parts: a real SMTP server (PyPI aiosmtpd, `scripts/smtp_sink.py`,
//! started here) receives the booking emails; their .ics invites are checked by a strict
//! RFC 5545 parser written here (independent of the writer); a Twilio-shaped HTTP server on
//! 127.0.0.1 takes the SMS; webhook receivers verify signatures with another HMAC
//! implementation (aws-lc) than the one that signs (RustCrypto `hmac`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use gomomo::adapters::local::{InProcessPublisher, MockCalendar};
use gomomo::config::CalendarFailMode;
use gomomo::db::bookings::AppointmentRow;
use gomomo::db::notifications::{self, NewNotification};
use gomomo::domain::{ClientName, Email, ReferenceCode, SessionId, TenantId, TimeZone};
use gomomo::ports::events::EventEnvelope;
use gomomo::services::autonomy::Autonomy;
use gomomo::services::booking::ClientDetails;
use gomomo::services::delivery::webhooks;
use gomomo::services::relay::OutboxRelay;
use gomomo::services::{admin, BookingService, Clock};
use sqlx::PgPool;
use support::{config, ny, CONSULT};
use tokio::sync::mpsc;
use uuid::Uuid;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gomomo-{tag}-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

// --- the SMTP server --------------------------------------------------------------------

/// `scripts/smtp_sink.py` (aiosmtpd) on a free port; killed on drop. Missing Python or
/// aiosmtpd fails the test loudly (`make test` installs aiosmtpd).
struct SmtpSink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    fn start(user: Option<(&str, &str)>) -> Self {
        let dir = temp_dir("smtp");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_sink.py");
        let mut cmd = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()));
        cmd.arg(&script).arg("--dir").arg(&dir);
        if let Some((u, p)) = user {
            cmd.args(["--user", u, "--password", p]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is required for the SMTP test server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the SMTP test server did not start (pip install aiosmtpd): {line:?}")
            });
        Self { child, port, dir }
    }

    /// The n-th received message (1-based), waiting up to 10 s.
    fn message(&self, n: usize) -> (String, serde_json::Value) {
        let eml = self.dir.join(format!("{n:04}.eml"));
        for _ in 0..200 {
            if eml.exists() {
                let meta = std::fs::read_to_string(self.dir.join(format!("{n:04}.json"))).unwrap();
                return (
                    std::fs::read_to_string(&eml).unwrap(),
                    serde_json::from_str(&meta).unwrap(),
                );
            }
            std::thread::sleep(StdDuration::from_millis(50));
        }
        panic!("message {n} never reached the SMTP server");
    }

    fn count(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "eml")
            })
            .count()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- a minimal MIME reader and a strict RFC 5545 parser ---------------------------------

/// The decoded bodies of the leaf parts of a MIME message, with their Content-Type.
fn mime_parts(raw: &str) -> Vec<(String, String)> {
    fn headers_and_body(s: &str) -> (HashMap<String, String>, &str) {
        let (head, body) = s.split_once("\r\n\r\n").unwrap_or((s, ""));
        let mut h: HashMap<String, String> = HashMap::new();
        let mut last = String::new();
        for line in head.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(v) = h.get_mut(&last) {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                last = k.trim().to_ascii_lowercase();
                h.insert(last.clone(), v.trim().to_string());
            }
        }
        (h, body)
    }
    fn walk(s: &str, out: &mut Vec<(String, String)>) {
        let (h, body) = headers_and_body(s);
        let ct = h.get("content-type").cloned().unwrap_or_default();
        if ct.to_ascii_lowercase().starts_with("multipart/") {
            let boundary = ct
                .split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
                .unwrap()
                .trim_matches('"')
                .to_string();
            let delim = format!("--{boundary}");
            for part in body.split(&delim).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                walk(part.trim_start_matches("\r\n"), out);
            }
        } else {
            let enc = h
                .get("content-transfer-encoding")
                .map(|e| e.to_ascii_lowercase())
                .unwrap_or_default();
            let body = body.trim_end_matches("\r\n");
            let decoded = if enc == "base64" {
                use base64::Engine;
                let compact: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .unwrap(),
                )
                .unwrap()
            } else if enc == "quoted-printable" {
                let mut out = Vec::new();
                let b = body.replace("=\r\n", "");
                let bytes = b.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'=' && i + 2 < bytes.len() {
                        out.push(
                            u8::from_str_radix(
                                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(),
                                16,
                            )
                            .unwrap(),
                        );
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            } else {
                body.to_string()
            };
            out.push((ct, decoded));
        }
    }
    let mut out = Vec::new();
    walk(raw, &mut out);
    out
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next()?;
    head.split("\r\n").find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

#[derive(Debug)]
struct Component {
    name: String,
    props: Vec<(String, String, String)>, // name, params, value
    children: Vec<Component>,
}

impl Component {
    fn get(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }
    fn params(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, p, _)| p.as_str())
    }
}

/// Strict: CRLF only, ≤ 75 octets per physical line, unfolding per §3.1, well-formed
/// `name[;params]:value` lines, balanced BEGIN/END, VERSION:2.0 and PRODID on the
/// calendar, UID, DTSTAMP and DTSTART on every VEVENT.
fn parse_ics(s: &str) -> Result<Component, String> {
    if !s.ends_with("\r\n") {
        return Err("does not end with CRLF".into());
    }
    let mut logical: Vec<String> = Vec::new();
    for physical in s[..s.len() - 2].split("\r\n") {
        if physical.contains('\n') || physical.contains('\r') {
            return Err(format!("bare CR or LF in {physical:?}"));
        }
        if physical.len() > 75 {
            return Err(format!("line longer than 75 octets: {physical:?}"));
        }
        if let Some(rest) = physical
            .strip_prefix(' ')
            .or_else(|| physical.strip_prefix('\t'))
        {
            logical
                .last_mut()
                .ok_or("continuation without a line")?
                .push_str(rest);
        } else {
            logical.push(physical.to_string());
        }
    }
    let mut stack: Vec<Component> = Vec::new();
    let mut root: Option<Component> = None;
    for line in logical {
        // The value starts at the first ':' outside a quoted parameter value.
        let mut in_quote = false;
        let colon = line
            .char_indices()
            .find(|(_, c)| {
                if *c == '"' {
                    in_quote = !in_quote;
                }
                *c == ':' && !in_quote
            })
            .map(|(i, _)| i)
            .ok_or_else(|| format!("no ':' in {line:?}"))?;
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let (name, params) = head.split_once(';').unwrap_or((head, ""));
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || params
                .split(';')
                .any(|p| !params.is_empty() && !p.contains('='))
        {
            return Err(format!("malformed content line {line:?}"));
        }
        match name {
            "BEGIN" => stack.push(Component {
                name: value.to_string(),
                props: vec![],
                children: vec![],
            }),
            "END" => {
                let c = stack.pop().ok_or("END without BEGIN")?;
                if c.name != value {
                    return Err(format!("END:{value} closes {}", c.name));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(c),
                    None if root.is_none() => root = Some(c),
                    None => return Err("two top-level components".into()),
                }
            }
            _ => stack
                .last_mut()
                .ok_or("property outside a component")?
                .props
                .push((name.to_string(), params.to_string(), value.to_string())),
        }
    }
    if !stack.is_empty() {
        return Err(format!("{} not closed", stack[0].name));
    }
    let cal = root.ok_or("no VCALENDAR")?;
    if cal.name != "VCALENDAR" || cal.get("VERSION") != Some("2.0") || cal.get("PRODID").is_none() {
        return Err("VCALENDAR needs VERSION:2.0 and PRODID".into());
    }
    for ev in cal.children.iter().filter(|c| c.name == "VEVENT") {
        for req in ["UID", "DTSTAMP", "DTSTART"] {
            if ev.get(req).is_none() {
                return Err(format!("VEVENT without {req}"));
            }
        }
    }
    Ok(cal)
}

#[test]
fn the_strict_parser_accepts_a_real_invitation_and_rejects_broken_ones() {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/icalendar");
    let real = std::fs::read_to_string(fx.join("norfairking_invitation.ics")).unwrap();
    let cal = parse_ics(&real).unwrap();
    assert_eq!(cal.get("METHOD"), Some("REQUEST"));
    let ev = &cal.children[0];
    assert_eq!(ev.get("UID"), Some("84f3e9b2-f6dd-483e-971a-49fbf4cac757"));
    // The folded ATTENDEE line unfolds into one address.
    assert!(ev
        .props
        .iter()
        .any(|(n, _, v)| n == "ATTENDEE" && v == "mailto:isaac.shapira@platonic.systems"));
    let broken = std::fs::read_to_string(fx.join("norfairking_missing_end.ics")).unwrap();
    assert!(parse_ics(&broken).is_err());
    assert!(parse_ics(&real.replace("\r\n", "\n")).is_err(), "LF only");
    // RFC 5545 §3.1's own unfolding example (content_line_vectors.json).
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fx.join("content_line_vectors.json")).unwrap(),
    )
    .unwrap();
    let ex = &v["vectors"][0];
    let doc = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260101T000000Z\r\n{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        ex["folded"].as_str().unwrap()
    );
    let cal = parse_ics(&doc).unwrap();
    assert_eq!(
        format!(
            "DESCRIPTION:{}",
            cal.children[0].get("DESCRIPTION").unwrap()
        ),
        ex["unfolded"].as_str().unwrap()
    );
}

// --- booking flow helpers ---------------------------------------------------------------

struct Env {
    pool: PgPool,
    clock: Clock,
    tenant: TenantId,
    booking: BookingService,
    autonomy: Autonomy,
    relay: OutboxRelay,
    rx: mpsc::Receiver<EventEnvelope>,
}

async fn env(pool: &PgPool) -> Env {
    let seed = admin::seed_demo(pool).await.unwrap();
    let clock = Clock::fixed(ny(2026, 3, 2, 8, 0));
    let (publisher, rx) = InProcessPublisher::channel(256);
    let relay = OutboxRelay::new(pool.clone(), Arc::new(publisher), clock.clone());
    let booking = BookingService::new(pool.clone(), clock.clone(), StdDuration::from_secs(300))
        .with_relay(relay.clone());
    let calendar = Arc::new(MockCalendar::new(CalendarFailMode::None));
    let autonomy = Autonomy::new(booking.clone(), true, calendar).with_relay(relay.clone());
    Env {
        pool: pool.clone(),
        clock,
        tenant: TenantId(seed.tenant_id),
        booking,
        autonomy,
        relay,
        rx,
    }
}

impl Env {
    /// Events → orchestrator → due jobs (the worker's path), so notifications are queued.
    async fn settle(&mut self) {
        self.relay.publish_pending(1000).await.unwrap();
        while let Ok(env) = self.rx.try_recv() {
            self.autonomy.handle_event(&env).await.unwrap();
        }
        self.autonomy.run_due_jobs(50).await.unwrap();
    }

    async fn book(&self, start: DateTime<Utc>) -> AppointmentRow {
        self.book_in(start, None).await
    }

    /// A booking by a client whose own zone is `zone` (IANA name).
    async fn book_in(&self, start: DateTime<Utc>, zone: Option<&str>) -> AppointmentRow {
        let s = SessionId::parse("web-1").unwrap();
        let hold = self
            .booking
            .create_hold(self.tenant, CONSULT, start, &s)
            .await
            .unwrap();
        let client = ClientDetails {
            name: ClientName::parse("Ana Lopez").unwrap(),
            email: Email::parse("ana@example.com").unwrap(),
            phone: None,
            notes: None,
            time_zone: zone.map(|z| TimeZone::parse(z).unwrap()),
            locale: None,
        };
        self.booking
            .confirm(self.tenant, hold.id, &s, &client)
            .await
            .unwrap()
            .0
    }

    async fn status_of(&self, kind: &str) -> Vec<(String, i32)> {
        sqlx::query_as(
            "SELECT status, attempts FROM notification_outbox WHERE kind = $1 ORDER BY created_at",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }
}

fn ics_of(raw: &str) -> Component {
    let parts = mime_parts(raw);
    let (ct, ics) = parts
        .iter()
        .find(|(ct, _)| ct.starts_with("text/calendar"))
        .expect("a text/calendar part");
    let cal = parse_ics(ics).unwrap_or_else(|e| panic!("{e}\n{ics}"));
    let method = cal.get("METHOD").unwrap().to_ascii_lowercase();
    assert!(
        ct.to_ascii_lowercase()
            .contains(&format!("method={method}")),
        "{ct}"
    );
    cal
}

// --- email ------------------------------------------------------------------------------

#[sqlx::test(migrations = "../migrations")]
async fn booking_emails_reach_a_real_smtp_server_with_a_stable_uid_and_growing_sequence(
    pool: PgPool,
) {
    let sink = SmtpSink::start(Some(("mailer", "s3cret")));
    let mut e = env(&pool).await;
    let cfg = config(&[(
        "SMTP_URL",
        &format!("smtp://mailer:s3cret@127.0.0.1:{}", sink.port),
    )]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();

    // GIVEN a confirmed booking on Wednesday 10:00 New York time
    let appt = e.book(ny(2026, 3, 4, 10, 0)).await;
    e.settle().await;
    // WHEN the dispatcher runs THEN the confirmation goes out over SMTP with credentials
    let r = delivery.tick(50).await;
    assert_eq!(r.notifications_sent, 1, "{r:?}");
    let (raw, meta) = sink.message(1);
    assert_eq!(meta["login"], "mailer");
    assert_eq!(meta["rcpt_tos"][0], "ana@example.com");
    assert_eq!(meta["mail_from"], "bookings@clinic.example");
    // In the tenant's name and time zone, plain text and HTML.
    let from = header(&raw, "From").unwrap();
    assert!(from.contains("Demo") || from.contains("Clinic"), "{from}");
    assert!(from.contains("<bookings@clinic.example>"), "{from}");
    let parts = mime_parts(&raw);
    let text = &parts
        .iter()
        .find(|(c, _)| c.starts_with("text/plain"))
        .unwrap()
        .1;
    let html = &parts
        .iter()
        .find(|(c, _)| c.starts_with("text/html"))
        .unwrap()
        .1;
    assert!(text.contains(&appt.reference), "{text}");
    assert!(
        text.contains("Wednesday, March 4 at 10:00 AM EST"),
        "{text}"
    );
    assert!(
        html.contains(&appt.reference) && html.contains("<p"),
        "{html}"
    );
    // The invite: REQUEST, the booking's UID, SEQUENCE 0, the right instant.
    let cal = ics_of(&raw);
    assert_eq!(cal.get("METHOD"), Some("REQUEST"));
    let ev = &cal.children[0];
    let uid = ev.get("UID").unwrap().to_string();
    assert_eq!(uid, format!("booking-{}@gomomo", appt.id.simple()));
    assert_eq!(ev.get("SEQUENCE"), Some("0"));
    assert_eq!(ev.get("DTSTART"), Some("20260304T150000Z"));
    assert_eq!(ev.get("DTEND"), Some("20260304T153000Z"));
    assert_eq!(ev.get("STATUS"), Some("CONFIRMED"));
    assert!(ev.params("ORGANIZER").unwrap().contains("CN="));
    assert_eq!(ev.get("ATTENDEE"), Some("mailto:ana@example.com"));
    assert_eq!(e.status_of("confirmation").await, vec![("sent".into(), 1)]);

    // WHEN the booking is moved THEN the new confirmation carries the same UID, SEQUENCE 1
    let s = SessionId::parse("web-1").unwrap();
    let hold = e
        .booking
        .create_hold(e.tenant, CONSULT, ny(2026, 3, 5, 11, 0), &s)
        .await
        .unwrap();
    let reference = ReferenceCode::parse(&appt.reference).unwrap();
    let email = Email::parse("ana@example.com").unwrap();
    e.booking
        .reschedule(e.tenant, &reference, &email, hold.id, Some(&s))
        .await
        .unwrap();
    e.settle().await;
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
    let (raw, _) = sink.message(2);
    let ev = &ics_of(&raw).children[0];
    assert_eq!(ev.get("UID"), Some(uid.as_str()));
    assert_eq!(ev.get("SEQUENCE"), Some("1"));
    assert_eq!(ev.get("DTSTART"), Some("20260305T160000Z"));

    // WHEN it is cancelled THEN METHOD:CANCEL for the same UID with a higher SEQUENCE
    e.booking
        .cancel(e.tenant, &reference, &email)
        .await
        .unwrap();
    e.settle().await;
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
    let (raw, _) = sink.message(3);
    let cal = ics_of(&raw);
    assert_eq!(cal.get("METHOD"), Some("CANCEL"));
    let ev = &cal.children[0];
    assert_eq!(ev.get("UID"), Some(uid.as_str()));
    assert_eq!(ev.get("SEQUENCE"), Some("2"));
    assert_eq!(ev.get("STATUS"), Some("CANCELLED"));

    // Nothing is sent twice; every send is audited.
    assert!(delivery.tick(50).await.is_idle());
    assert_eq!(sink.count(), 3);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE event_type = 'notification.sent'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(audited, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn smtp_failures_back_off_and_end_failed_without_losing_the_notification(pool: PgPool) {
    let mut e = env(&pool).await;
    // A port nobody listens on: every attempt is a transient failure.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let cfg = config(&[
        ("SMTP_URL", &format!("smtp://127.0.0.1:{port}")),
        ("NOTIFICATION_MAX_ATTEMPTS", "3"),
    ]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    e.book(ny(2026, 3, 4, 10, 0)).await;
    e.settle().await;

    let r = delivery.tick(50).await;
    assert_eq!(r.notifications_retried, 1, "{r:?}");
    assert_eq!(
        e.status_of("confirmation").await,
        vec![("queued".into(), 1)]
    );
    // Not due again before the backoff (30 s).
    assert!(delivery.tick(50).await.is_idle());
    e.clock.advance(Duration::seconds(31));
    assert_eq!(delivery.tick(50).await.notifications_retried, 1);
    // 2 minutes after the second failure: the third and last attempt.
    e.clock.advance(Duration::seconds(60));
    assert!(delivery.tick(50).await.is_idle());
    e.clock.advance(Duration::seconds(61));
    assert_eq!(delivery.tick(50).await.notifications_failed, 1);
    let (status, attempts, err): (String, i32, Option<String>) = sqlx::query_as(
        "SELECT status, attempts, last_error FROM notification_outbox WHERE kind = 'confirmation'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert!(err.unwrap().contains("smtp"));

    // Wrong credentials are permanent: failed at the first attempt, row kept.
    let sink = SmtpSink::start(Some(("mailer", "right")));
    let cfg = config(&[(
        "SMTP_URL",
        &format!("smtp://mailer:wrong@127.0.0.1:{}", sink.port),
    )]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    e.book(ny(2026, 3, 4, 11, 0)).await;
    e.settle().await;
    let started = std::time::Instant::now();
    let r = delivery.tick(50).await;
    assert_eq!(
        r.notifications_failed,
        1,
        "{r:?} after {:?}",
        started.elapsed()
    );
    assert_eq!(sink.count(), 0);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification_outbox WHERE status = 'failed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(rows, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_local_default_writes_one_eml_file_per_message(pool: PgPool) {
    let mut e = env(&pool).await;
    let dir = temp_dir("maildir");
    let cfg = config(&[("MAIL_DIR", dir.to_str().unwrap())]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    let appt = e.book(ny(2026, 3, 4, 10, 0)).await;
    e.settle().await;
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].extension().is_some_and(|x| x == "eml"));
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(header(&raw, "To"), Some("ana@example.com"));
    let ev = &ics_of(&raw).children[0];
    assert_eq!(
        ev.get("UID").unwrap(),
        format!("booking-{}@gomomo", appt.id.simple())
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_email_and_invite_of_a_client_in_another_zone_name_both_times(pool: PgPool) {
    let mut e = env(&pool).await;
    let dir = temp_dir("maildir-zone");
    let cfg = config(&[("MAIL_DIR", dir.to_str().unwrap())]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    // GIVEN a booking at 10:00 New York time by a client in Madrid (16:00 there)
    let appt = e
        .book_in(ny(2026, 3, 4, 10, 0), Some("Europe/Madrid"))
        .await;
    e.settle().await;
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    let parts = mime_parts(&raw);
    let text = &parts
        .iter()
        .find(|(c, _)| c.starts_with("text/plain"))
        .unwrap()
        .1;
    // THEN the email shows the clinic's time with the client's beside it
    assert!(
        text.contains("Wednesday, March 4 at 10:00 AM EST (your time: 4:00 PM Europe/Madrid)"),
        "{text}"
    );
    // AND the invite keeps the instant in UTC and names both times in its description
    let ev = &ics_of(&raw).children[0];
    assert_eq!(ev.get("DTSTART"), Some("20260304T150000Z"));
    let description = ev.get("DESCRIPTION").unwrap().replace("\\,", ",");
    assert!(description.contains(&appt.reference), "{description}");
    assert!(
        description.contains("When: Wednesday")
            && description.contains("10:00 AM EST (your time: 4:00 PM Europe/Madrid)"),
        "{description}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_invite_of_a_client_in_the_clinics_zone_is_unchanged(pool: PgPool) {
    let mut e = env(&pool).await;
    let dir = temp_dir("maildir-same-zone");
    let cfg = config(&[("MAIL_DIR", dir.to_str().unwrap())]);
    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    // Toronto reads the same clock as New York: nothing is added.
    e.book_in(ny(2026, 3, 4, 10, 0), Some("America/Toronto"))
        .await;
    e.settle().await;
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .collect();
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!raw.contains("your time"), "{raw}");
    let ev = &ics_of(&raw).children[0];
    assert!(!ev.get("DESCRIPTION").unwrap().contains("When:"));
}

// --- SMS --------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct TwilioFake {
    seen: Arc<Mutex<Vec<(Option<String>, HashMap<String, String>)>>>,
}

async fn twilio_messages(
    State(t): State<TwilioFake>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    t.seen.lock().unwrap().push((auth, form.clone()));
    if form.get("To").map(String::as_str) == Some("+15555550199") {
        // Twilio's answer for a number that replied STOP.
        return (
            StatusCode::BAD_REQUEST,
            r#"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}"#.into(),
        );
    }
    (
        StatusCode::CREATED,
        format!(
            r#"{{"sid": "SM{}", "status": "queued"}}"#,
            Uuid::new_v4().simple()
        ),
    )
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

async fn queue_sms(pool: &PgPool, tenant: Uuid, to: &str, key: &str) {
    let mut conn = pool.acquire().await.unwrap();
    notifications::enqueue(
        &mut conn,
        &NewNotification {
            tenant_id: tenant,
            channel: "sms",
            kind: "contact_followup",
            recipient: to.into(),
            subject: None,
            body: "Demo Clinic: you asked us to get back to you. Reply STOP to opt out.".into(),
            metadata: serde_json::json!({}),
            idempotency_key: key.into(),
            booking_id: None,
            job_id: None,
        },
    )
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn sms_go_through_twilio_honouring_the_ledger_the_rate_limit_and_21610(pool: PgPool) {
    let e = env(&pool).await;
    let fake = TwilioFake::default();
    let base = serve(
        Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(twilio_messages),
            )
            .with_state(fake.clone()),
    )
    .await;
    let sid = format!("AC{}", "0".repeat(32));
    let cfg = config(&[("SMS_RATE_LIMIT_MAX", "2")]);
    let twilio =
        gomomo::adapters::twilio_sms::TwilioSmsSender::new(&base, &sid, "tok", None).unwrap();
    let delivery = gomomo::app::delivery(
        pool.clone(),
        &cfg,
        e.clock.clone(),
        Arc::new(gomomo::adapters::local::LogMailer),
        Arc::new(twilio),
    );
    let t = e.tenant.0;
    // GIVEN the tenant's number, one opted-out client, one Twilio knows as unsubscribed
    gomomo::db::calls::assign_number(&mut pool.acquire().await.unwrap(), t, "+18005550100")
        .await
        .unwrap();
    gomomo::db::sms::set_opt_out(&pool, t, "+15555550111", true, "STOP", None, e.clock.now())
        .await
        .unwrap();
    queue_sms(&pool, t, "+15555550142", "a").await;
    queue_sms(&pool, t, "+15555550111", "b").await;
    queue_sms(&pool, t, "+15555550199", "c").await;
    // WHEN the dispatcher runs
    let r = delivery.tick(50).await;
    // THEN one SMS went out, the opted-out one was never sent, 21610 joined the ledger
    assert_eq!(
        (r.notifications_sent, r.notifications_skipped),
        (1, 2),
        "{r:?}"
    );
    let seen = fake.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "the opted-out number never reaches Twilio");
    let (auth, form) = seen
        .iter()
        .find(|(_, f)| f["To"] == "+15555550142")
        .unwrap();
    use base64::Engine;
    assert_eq!(
        auth.as_deref(),
        Some(
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{sid}:tok"))
            )
            .as_str()
        )
    );
    assert_eq!(form["To"], "+15555550142");
    assert_eq!(form.get("From").map(String::as_str), Some("+18005550100"));
    assert!(form["Body"].contains("STOP"));
    assert!(gomomo::db::sms::is_opted_out(&pool, t, "+15555550199")
        .await
        .unwrap());
    let statuses: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT recipient, status, last_error FROM notification_outbox ORDER BY recipient",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(statuses[0].1, "skipped");
    assert_eq!(statuses[1].1, "sent");
    assert_eq!(statuses[2].1, "skipped");
    assert!(statuses[2].2.as_deref().unwrap().contains("opted out"));

    // The per-phone rate limit (2 per window): the third waits for a later attempt.
    queue_sms(&pool, t, "+15555550142", "d").await;
    queue_sms(&pool, t, "+15555550142", "e").await;
    let r = delivery.tick(50).await;
    assert_eq!(
        (r.notifications_sent, r.notifications_retried),
        (1, 1),
        "{r:?}"
    );
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE status = 'queued' AND last_error LIKE '%rate limit%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(queued, 1);
    // After the window it goes.
    e.clock.advance(Duration::minutes(61));
    assert_eq!(delivery.tick(50).await.notifications_sent, 1);
}

// --- webhooks ---------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Receiver {
    /// Status codes to answer, in order; then 200.
    script: Arc<Mutex<Vec<u16>>>,
    got: Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push((headers, body.to_vec()));
    let mut s = r.script.lock().unwrap();
    let code = if s.is_empty() { 200 } else { s.remove(0) };
    StatusCode::from_u16(code).unwrap()
}

/// The receiver's side, written with aws-lc's HMAC (the sender uses RustCrypto's).
fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_string()),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mut msg = t.into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    let Ok(sig) = hex::decode(v1) else {
        return false;
    };
    aws_lc_rs::hmac::verify(&key, &msg, &sig).is_ok()
}

#[sqlx::test(migrations = "../migrations")]
async fn webhooks_are_signed_retried_and_dead_lettered(pool: PgPool) {
    let e = env(&pool).await;
    let ok = Receiver::default();
    ok.script.lock().unwrap().extend([500, 503]);
    let ok_url = serve(
        Router::new()
            .route("/hook", post(receive))
            .with_state(ok.clone()),
    )
    .await;
    let broken = Receiver::default();
    broken.script.lock().unwrap().extend([500; 10]);
    let broken_url = serve(
        Router::new()
            .route("/hook", post(receive))
            .with_state(broken.clone()),
    )
    .await;
    let cfg = config(&[
        ("WEBHOOK_MAX_ATTEMPTS", "3"),
        ("OUTBOUND_ALLOW_HOSTS", "127.0.0.1"),
    ]);
    let secrets = gomomo::domain::crypto::SecretBox::new(&cfg.delivery.encryption_key);
    let t = e.tenant.0;
    let (ep, secret) = webhooks::create_endpoint(
        &pool,
        &secrets,
        t,
        &format!("{ok_url}/hook"),
        &["BookingCreated".into()],
        "crm",
        &cfg.delivery.outbound,
    )
    .await
    .unwrap();
    let (ep2, _) = webhooks::create_endpoint(
        &pool,
        &secrets,
        t,
        &format!("{broken_url}/hook"),
        &[],
        "",
        &cfg.delivery.outbound,
    )
    .await
    .unwrap();
    // The secret is stored encrypted, never in clear.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT secret_enc FROM webhook_endpoints WHERE id = $1")
            .bind(ep.id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!stored.windows(6).any(|w| w == b"whsec_"));

    let delivery = gomomo::app::configured_delivery(pool.clone(), &cfg, e.clock.clone()).unwrap();
    // GIVEN a booking (BookingCreated in the outbox)
    let appt = e.book(ny(2026, 3, 4, 10, 0)).await;
    // WHEN the dispatcher runs THEN one delivery per endpoint (the first only subscribed to
    // BookingCreated), both answered 5xx → retried
    let r = delivery.tick(50).await;
    assert_eq!(r.webhooks_fanned_out, 2, "{r:?}");
    assert_eq!(r.webhooks_retried, 2, "{r:?}");
    e.clock.advance(Duration::seconds(31));
    assert_eq!(delivery.tick(50).await.webhooks_retried, 2);
    e.clock.advance(Duration::seconds(121));
    let r = delivery.tick(50).await;
    assert_eq!((r.webhooks_delivered, r.webhooks_dead), (1, 1), "{r:?}");

    // THEN every attempt carried the same body, signed with the endpoint's secret
    let got = ok.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    for (i, (h, body)) in got.iter().enumerate() {
        let sig = h.get("gomomo-signature").unwrap().to_str().unwrap();
        assert!(verify(&secret, sig, body), "attempt {i}: bad signature");
        assert!(!verify("whsec_other", sig, body));
        assert_eq!(body, &got[0].1, "the body is identical on every attempt");
        assert_eq!(h.get("gomomo-attempt").unwrap(), &(i + 1).to_string());
    }
    let mut tampered = got[0].1.clone();
    tampered[5] ^= 1;
    assert!(!verify(
        &secret,
        got[0].0.get("gomomo-signature").unwrap().to_str().unwrap(),
        &tampered
    ));
    let body: serde_json::Value = serde_json::from_slice(&got[0].1).unwrap();
    assert_eq!(body["type"], "BookingCreated");
    assert_eq!(body["data"]["booking_id"], appt.id.to_string());
    assert_eq!(
        body["id"].as_str().unwrap(),
        got[0].0.get("gomomo-delivery").unwrap().to_str().unwrap()
    );
    assert!(
        !String::from_utf8_lossy(&got[0].1).contains("ana@example.com"),
        "webhook bodies carry no PII"
    );
    // nor the chat session that booked (a bearer secret)
    assert!(body["data"].get("session_id").is_none(), "{body}");
    assert!(
        !String::from_utf8_lossy(&got[0].1).contains("web-1"),
        "{body}"
    );

    // The dead letter is visible to the tenant and can be sent again.
    let dead = webhooks::list_deliveries(&pool, t, Some(webhooks::DeliveryStatus::Dead), 50)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].endpoint_id, ep2.id);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].last_status_code, Some(500));
    assert!(
        delivery.tick(50).await.is_idle(),
        "a dead letter is not retried by itself"
    );
    broken.script.lock().unwrap().clear();
    webhooks::redeliver(&pool, t, dead[0].id, e.clock.now())
        .await
        .unwrap();
    assert_eq!(delivery.tick(50).await.webhooks_delivered, 1);
    // A later event is not delivered twice by a second fan-out pass.
    assert!(delivery.tick(50).await.is_idle());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_webhook_to_an_internal_address_is_refused_at_delivery_and_nothing_is_sent(pool: PgPool) {
    let e = env(&pool).await;
    let seen = Receiver::default();
    let url = serve(
        Router::new()
            .route("/hook", post(receive))
            .with_state(seen.clone()),
    )
    .await;
    let port = url.rsplit(':').next().unwrap().to_string();
    // GIVEN two endpoints on this machine, registered while the development allow-list
    // let them: one by address, one by a name that resolves to loopback
    let allowed = config(&[("OUTBOUND_ALLOW_HOSTS", "127.0.0.1,localhost")]);
    let secrets = gomomo::domain::crypto::SecretBox::new(&allowed.delivery.encryption_key);
    let t = e.tenant.0;
    for u in [
        format!("{url}/hook"),
        format!("http://localhost:{port}/hook"),
    ] {
        webhooks::create_endpoint(&pool, &secrets, t, &u, &[], "", &allowed.delivery.outbound)
            .await
            .unwrap();
    }
    // WHEN a booking's event is delivered by a process without the allow-list
    let strict = config(&[]);
    assert!(!strict.delivery.outbound.has_allow_list());
    let delivery =
        gomomo::app::configured_delivery(pool.clone(), &strict, e.clock.clone()).unwrap();
    e.book(ny(2026, 3, 4, 10, 0)).await;
    let r = delivery.tick(50).await;
    // THEN both are dead at once (not retried), and nothing reached the receiver
    assert_eq!(
        (r.webhooks_fanned_out, r.webhooks_dead, r.webhooks_retried),
        (2, 2, 0),
        "{r:?}"
    );
    assert_eq!(seen.got.lock().unwrap().len(), 0, "nothing may be sent");
    let dead = webhooks::list_deliveries(&pool, t, Some(webhooks::DeliveryStatus::Dead), 50)
        .await
        .unwrap();
    assert_eq!(dead.len(), 2);
    for d in &dead {
        assert_eq!(d.attempts, 1);
        assert_eq!(d.last_status_code, None, "no remote status when refused");
        let err = d.last_error.as_deref().unwrap();
        assert!(
            err.starts_with("refused:") && err.contains("loopback"),
            "{err}"
        );
    }
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE event_type = 'webhook.dead_lettered' \
         AND payload->>'refused' = 'true'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(audited, 2);
    // Sent again by a process still without the allow-list: refused again.
    for d in &dead {
        webhooks::redeliver(&pool, t, d.id, e.clock.now())
            .await
            .unwrap();
    }
    assert_eq!(delivery.tick(50).await.webhooks_dead, 2);
    assert_eq!(seen.got.lock().unwrap().len(), 0);

    // With the allow-list, the same deliveries go through.
    let local = gomomo::app::configured_delivery(pool.clone(), &allowed, e.clock.clone()).unwrap();
    for d in &dead {
        webhooks::redeliver(&pool, t, d.id, e.clock.now())
            .await
            .unwrap();
    }
    let r = local.tick(50).await;
    assert_eq!(r.webhooks_delivered, 2, "{r:?}");
    assert_eq!(seen.got.lock().unwrap().len(), 2);
}

// --- a stalled SMTP server --------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stall {
    /// Accepts the connection and never sends the greeting.
    BeforeGreeting,
    /// Greets, then never answers EHLO.
    AfterGreeting,
    /// Greets, answers EHLO offering AUTH, then never answers AUTH.
    AtAuth,
}

#[derive(Clone, Default)]
struct StallLog {
    /// The commands the client sent.
    commands: Arc<Mutex<Vec<String>>>,
    /// How long each connection stayed open before the client closed it.
    closed_after: Arc<Mutex<Vec<StdDuration>>>,
}

/// A TCP server on 127.0.0.1 that speaks SMTP only up to `mode` and then stays silent.
async fn stalled_smtp(mode: Stall) -> (u16, StallLog) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = StallLog::default();
    let l = log.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let log = l.clone();
            tokio::spawn(async move {
                let accepted = std::time::Instant::now();
                let (r, mut w) = sock.into_split();
                if mode != Stall::BeforeGreeting {
                    w.write_all(b"220 stall.test ESMTP\r\n").await.unwrap();
                }
                let mut lines = tokio::io::BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let ehlo = line.to_ascii_uppercase().starts_with("EHLO");
                    log.commands.lock().unwrap().push(line);
                    if mode == Stall::AtAuth && ehlo {
                        w.write_all(b"250-stall.test\r\n250 AUTH PLAIN LOGIN\r\n")
                            .await
                            .unwrap();
                    }
                }
                log.closed_after.lock().unwrap().push(accepted.elapsed());
            });
        }
    });
    (port, log)
}

async fn sms_seen_at(
    State(seen): State<Arc<Mutex<Vec<std::time::Instant>>>>,
) -> (StatusCode, String) {
    seen.lock().unwrap().push(std::time::Instant::now());
    (
        StatusCode::CREATED,
        format!(
            r#"{{"sid": "SM{}", "status": "queued"}}"#,
            Uuid::new_v4().simple()
        ),
    )
}

#[sqlx::test(migrations = "../migrations")]
async fn a_stalled_smtp_server_is_bounded_by_the_timeout_and_sms_go_out_meanwhile(pool: PgPool) {
    let mut e = env(&pool).await;
    let seen: Arc<Mutex<Vec<std::time::Instant>>> = Arc::default();
    let base = serve(
        Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(sms_seen_at),
            )
            .with_state(seen.clone()),
    )
    .await;
    let sid = format!("AC{}", "0".repeat(32));
    let t = e.tenant.0;
    gomomo::db::calls::assign_number(&mut pool.acquire().await.unwrap(), t, "+18005550100")
        .await
        .unwrap();
    let timeout = StdDuration::from_secs(1);
    let cases = [
        (Stall::BeforeGreeting, "connect", 10),
        (Stall::AfterGreeting, "connect", 11),
        (Stall::AtAuth, "AUTH", 12),
    ];
    for (i, (mode, step, hour)) in cases.into_iter().enumerate() {
        // GIVEN an SMTP server that stalls, a 1 s timeout, an email and an SMS queued
        let (port, log) = stalled_smtp(mode).await;
        let cfg = config(&[
            (
                "SMTP_URL",
                &format!("smtp://mailer:s3cret@127.0.0.1:{port}"),
            ),
            ("SMTP_TIMEOUT_SECONDS", "1"),
            ("SMS_RATE_LIMIT_MAX", "10"),
        ]);
        let twilio =
            gomomo::adapters::twilio_sms::TwilioSmsSender::new(&base, &sid, "tok", None).unwrap();
        let delivery = gomomo::app::delivery(
            pool.clone(),
            &cfg,
            e.clock.clone(),
            gomomo::app::mailer(&cfg).unwrap(),
            Arc::new(twilio),
        );
        let appt = e.book(ny(2026, 3, 4, hour, 0)).await;
        e.settle().await;
        queue_sms(&pool, t, &format!("+1555555014{i}"), &format!("stall-{i}")).await;
        seen.lock().unwrap().clear();

        // WHEN the dispatcher runs
        let started = std::time::Instant::now();
        let r = tokio::time::timeout(StdDuration::from_secs(10), delivery.tick(50))
            .await
            .unwrap_or_else(|_| panic!("{mode:?}: the delivery tick hung past 10 s"));
        let took = started.elapsed();

        // THEN the email gave up after about the timeout and stays queued for a retry
        assert_eq!(
            (r.notifications_sent, r.notifications_retried),
            (1, 1),
            "{mode:?}: {r:?}"
        );
        assert!(
            took >= timeout && took < timeout * 3,
            "{mode:?}: the tick took {took:?}"
        );
        let (status, err): (String, Option<String>) = sqlx::query_as(
            "SELECT status, last_error FROM notification_outbox WHERE booking_id = $1 AND kind = 'confirmation'",
        )
        .bind(appt.id)
        .fetch_one(&pool)
        .await
        .unwrap();
        let err = err.unwrap_or_default();
        assert_eq!(status, "queued", "{mode:?}: {err}");
        assert!(
            err.contains(&format!("{step} timed out")),
            "{mode:?}: {err}"
        );
        // AND the SMS went out while the email was still waiting on the server
        let sms = seen.lock().unwrap().clone();
        assert_eq!(sms.len(), 1, "{mode:?}");
        assert!(
            sms[0].duration_since(started) < timeout,
            "{mode:?}: the SMS waited {:?} for the stalled email",
            sms[0].duration_since(started)
        );
        // AND the stalled connection was closed at the timeout
        let mut closed = Vec::new();
        for _ in 0..50 {
            closed = log.closed_after.lock().unwrap().clone();
            if !closed.is_empty() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        assert_eq!(closed.len(), 1, "{mode:?}: {closed:?}");
        assert!(closed[0] < timeout * 2, "{mode:?}: {closed:?}");
        let commands = log.commands.lock().unwrap().clone();
        let verbs: Vec<String> = commands
            .iter()
            .map(|c| {
                c.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase()
            })
            .collect();
        let expected: &[&str] = match mode {
            Stall::BeforeGreeting => &[],
            Stall::AfterGreeting => &["EHLO"],
            Stall::AtAuth => &["EHLO", "AUTH"],
        };
        assert_eq!(verbs, expected, "{mode:?}: {commands:?}");
    }
}
