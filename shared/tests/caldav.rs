//! The CalDAV client (`gomomo::adapters::caldav`) against a real CalDAV server.
//!
//! The `#[ignore]`d tests need Radicale: `scripts/caldav-test.sh` starts it on 127.0.0.1,
//! makes the user's calendar with the PyPI `caldav` client and runs this file with
//! `--include-ignored` and the server in `CALDAV_TEST_*`; without those variables they fail.
//! Events "from another client" are made by that same `caldav` client
//! (`scripts/caldav_helper.py`), through the server's own protocol.
//!
//! The others run everywhere: the outbound guard, a stopped server, a server answering 500
//! or garbage, and a slow one — each an error, so the caller fails closed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use gomomo::adapters::caldav::{
    booking_uid, CalDavBusy, CalDavClient, CalDavCredentials, EventWrite, Stored,
};
use gomomo::adapters::outbound::guarded_client;
use gomomo::domain::outbound::OutboundPolicy;
use gomomo::ports::calendar::{BusyRange, CalendarError};
use uuid::Uuid;

#[path = "support/caldav_server.rs"]
mod caldav_server;

use caldav_server::{server, Server};

impl Server {
    fn creds(&self) -> CalDavCredentials {
        CalDavCredentials {
            server_url: self.url.clone(),
            username: self.user.clone(),
            password: self.password.clone(),
        }
    }
}

/// The policy of a development process that may reach 127.0.0.1 (as the webhook tests do).
fn loopback_policy() -> OutboundPolicy {
    OutboundPolicy::new(true, &["127.0.0.1"])
}

fn client() -> CalDavClient {
    let policy = loopback_policy();
    let http = guarded_client(&policy).build().unwrap();
    CalDavClient::new(http, policy).with_timeout(StdDuration::from_secs(10))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn range(a: &str, b: &str) -> BusyRange {
    BusyRange {
        start: utc(a),
        end: utc(b),
    }
}

fn ics(body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//another client//EN\r\n{}END:VCALENDAR\r\n",
        body.replace('\n', "\r\n")
    )
}

const NEW_YORK: &str = "BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
";

fn booking(uid: &str, start: &str, minutes: i64, sequence: u32) -> EventWrite {
    EventWrite {
        uid: uid.to_string(),
        summary: "Consultation — Ana, Acme; clinic".into(),
        description: "Booked with gomomo.\nReference ABCD-EFGH".into(),
        start: utc(start),
        end: utc(start) + Duration::minutes(minutes),
        sequence,
    }
}

#[tokio::test]
#[ignore = "needs the CalDAV server of scripts/caldav-test.sh"]
async fn discovers_the_users_calendars_that_take_events() {
    let s = server();
    // A tasks-only calendar (MKCALENDAR with VTODO only) is not offered.
    let todo_url = format!("{}{}/tasks-{}/", s.url, s.user, Uuid::new_v4().simple());
    let body = r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Tasks</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"#;
    let res = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(b"MKCALENDAR").unwrap(),
            &todo_url,
        )
        .basic_auth(&s.user, Some(&s.password))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "MKCALENDAR: {}", res.status());

    let found = client().discover(&s.creds()).await.unwrap();
    let clinic = found
        .iter()
        .find(|c| c.url == s.calendar)
        .unwrap_or_else(|| panic!("{} not among {found:?}", s.calendar));
    assert_eq!(clinic.display_name.as_deref(), Some("Clinic"));
    assert!(
        found.iter().all(|c| !c.url.starts_with(&todo_url)),
        "a VTODO-only calendar was offered: {found:?}"
    );
    // The URL given may be the calendar itself, or the principal: the same calendars.
    let mut creds = s.creds();
    creds.server_url = format!("{}{}/", s.url, s.user);
    let again = client().discover(&creds).await.unwrap();
    assert!(again.iter().any(|c| c.url == s.calendar), "{again:?}");
}

#[tokio::test]
#[ignore = "needs the CalDAV server of scripts/caldav-test.sh"]
async fn a_booking_is_written_moved_reapplied_after_a_conflict_and_deleted() {
    let s = server();
    let cal = s.new_calendar("bookings");
    let c = client();
    let creds = s.creds();
    let uid = booking_uid(Uuid::new_v4());
    let tz = Tz::America__New_York;
    let (from, to) = (utc("2026-03-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"));

    // Book: created, and read back as ours (not as busy time).
    let ev = booking(&uid, "2026-03-10T14:00:00Z", 30, 0);
    let w = c.put_event(&creds, &cal, &ev, None).await.unwrap();
    assert!(
        w.href.starts_with(&cal) && w.href.ends_with(".ics"),
        "{w:?}"
    );
    assert!(w.etag.is_some() && !w.conflict);
    let b = c.busy(&creds, &cal, from, to, tz).await.unwrap();
    assert!(b.busy.is_empty(), "our own event is not busy time: {b:?}");
    assert_eq!(b.ours.len(), 1);
    assert_eq!(
        (b.ours[0].uid.as_str(), b.ours[0].start, b.ours[0].end),
        (uid.as_str(), ev.start, ev.end)
    );
    assert_eq!(b.ours[0].href, w.href);
    // A retried create (the first answer lost) is not a conflict and changes nothing.
    let again = c.put_event(&creds, &cal, &ev, None).await.unwrap();
    assert!(!again.conflict, "{again:?}");
    assert_eq!(again.href, w.href);

    // Reschedule: If-Match on the ETag, SEQUENCE grows, the ETag changes.
    let moved = booking(&uid, "2026-03-11T15:00:00Z", 45, 1);
    let known = Stored {
        href: w.href.clone(),
        etag: again.etag.clone(),
    };
    let w2 = c
        .put_event(&creds, &cal, &moved, Some(&known))
        .await
        .unwrap();
    assert!(!w2.conflict);
    assert_eq!(w2.sequence, 1);
    assert_ne!(w2.etag, w.etag);
    let seen = c.get_event(&creds, &w2.href).await.unwrap().unwrap();
    assert_eq!(
        (seen.start, seen.end, seen.sequence),
        (moved.start, moved.end, 1)
    );
    assert_eq!(seen.etag, w2.etag);
    // The same reschedule retried with the ETag from before it (its answer lost): the
    // server already has it, so no conflict and nothing changes.
    let retried = c
        .put_event(&creds, &cal, &moved, Some(&known))
        .await
        .unwrap();
    assert!(!retried.conflict, "{retried:?}");
    assert_eq!((retried.sequence, &retried.etag), (1, &w2.etag));

    // Someone edits it in their calendar program (moves it, bumps SEQUENCE to 5).
    let theirs = ics(&format!(
        "BEGIN:VEVENT\nUID:{uid}\nSEQUENCE:5\nDTSTAMP:20260301T000000Z\n\
         DTSTART:20260312T090000Z\nDTEND:20260312T100000Z\nSUMMARY:moved by hand\nEND:VEVENT\n"
    ));
    s.helper(&["edit", &w2.href, &s.user, &s.password], &theirs);
    let edited = c.get_event(&creds, &w2.href).await.unwrap().unwrap();
    assert_eq!(edited.start, utc("2026-03-12T09:00:00Z"));
    assert_ne!(edited.etag, w2.etag);
    // The caller sees it moved outside gomomo in the busy read.
    let b = c.busy(&creds, &cal, from, to, tz).await.unwrap();
    assert_eq!(b.ours[0].start, utc("2026-03-12T09:00:00Z"));

    // Our next write with the old ETag gets 412: fetched, ours re-applied above their
    // SEQUENCE, and reported as a conflict.
    let ours_again = booking(&uid, "2026-03-11T15:00:00Z", 45, 2);
    let stale = Stored {
        href: w2.href.clone(),
        etag: w2.etag.clone(),
    };
    let w3 = c
        .put_event(&creds, &cal, &ours_again, Some(&stale))
        .await
        .unwrap();
    assert!(w3.conflict, "{w3:?}");
    assert!(w3.sequence > 5, "{w3:?}");
    let seen = c.get_event(&creds, &w3.href).await.unwrap().unwrap();
    assert_eq!((seen.start, seen.end), (ours_again.start, ours_again.end));
    assert_eq!(seen.sequence, w3.sequence);
    assert_eq!(seen.etag, w3.etag);

    // Cancel after yet another edit elsewhere: the If-Match fails (412), the event is
    // deleted all the same; gone; deleting again (404) is success.
    s.helper(&["edit", &w3.href, &s.user, &s.password], &theirs);
    let stored = Stored {
        href: w3.href.clone(),
        etag: w3.etag.clone(),
    };
    assert_ne!(
        c.get_event(&creds, &w3.href).await.unwrap().unwrap().etag,
        stored.etag
    );
    c.delete_event(&creds, &stored).await.unwrap();
    assert_eq!(c.get_event(&creds, &w3.href).await.unwrap(), None);
    c.delete_event(&creds, &stored).await.unwrap();
    let b = c.busy(&creds, &cal, from, to, tz).await.unwrap();
    assert_eq!(b, CalDavBusy::default());

    // Removed outside gomomo, then rescheduled: written again, as a conflict.
    let w4 = c
        .put_event(
            &creds,
            &cal,
            &booking(&uid, "2026-03-13T15:00:00Z", 30, 3),
            Some(&stored),
        )
        .await
        .unwrap();
    assert!(w4.conflict);
    assert!(c.get_event(&creds, &w4.href).await.unwrap().is_some());
}

/// Busy time made by another client: opaque, transparent, cancelled, all-day, and a weekly
/// event across New York's change to daylight time (8 March 2026), expanded by us.
#[tokio::test]
#[ignore = "needs the CalDAV server of scripts/caldav-test.sh"]
async fn busy_time_from_another_client_removes_the_right_ranges() {
    let s = server();
    let cal = s.new_calendar("busy");
    let creds = s.creds();
    s.add(
        &cal,
        &ics(
            "BEGIN:VEVENT\nUID:dentist@elsewhere\nDTSTAMP:20260201T000000Z\n\
              DTSTART:20260303T150000Z\nDTEND:20260303T160000Z\nSUMMARY:Dentist\nEND:VEVENT\n",
        ),
    );
    s.add(
        &cal,
        &ics(
            "BEGIN:VEVENT\nUID:reminder@elsewhere\nDTSTAMP:20260201T000000Z\n\
              DTSTART:20260304T150000Z\nDTEND:20260304T160000Z\nSUMMARY:FYI\n\
              TRANSP:TRANSPARENT\nEND:VEVENT\n",
        ),
    );
    s.add(
        &cal,
        &ics(
            "BEGIN:VEVENT\nUID:called-off@elsewhere\nDTSTAMP:20260201T000000Z\n\
              DTSTART:20260305T150000Z\nDTEND:20260305T160000Z\nSUMMARY:Called off\n\
              STATUS:CANCELLED\nEND:VEVENT\n",
        ),
    );
    s.add(
        &cal,
        &ics(
            "BEGIN:VEVENT\nUID:holiday@elsewhere\nDTSTAMP:20260201T000000Z\n\
              DTSTART;VALUE=DATE:20260316\nDTEND;VALUE=DATE:20260317\nSUMMARY:Closed\nEND:VEVENT\n",
        ),
    );
    s.add(
        &cal,
        &ics(&format!(
            "{NEW_YORK}BEGIN:VEVENT\nUID:standup@elsewhere\nDTSTAMP:20260201T000000Z\n\
             DTSTART;TZID=America/New_York:20260226T090000\n\
             DTEND;TZID=America/New_York:20260226T093000\n\
             RRULE:FREQ=WEEKLY;COUNT=5\nEXDATE;TZID=America/New_York:20260319T090000\n\
             SUMMARY:Stand-up\nEND:VEVENT\n"
        )),
    );
    let (from, to) = (utc("2026-02-20T00:00:00Z"), utc("2026-04-01T00:00:00Z"));
    let want = vec![
        // Stand-up at 09:00 EST (14:00Z) ...
        range("2026-02-26T14:00:00Z", "2026-02-26T14:30:00Z"),
        range("2026-03-03T15:00:00Z", "2026-03-03T16:00:00Z"),
        range("2026-03-05T14:00:00Z", "2026-03-05T14:30:00Z"),
        // ... then 09:00 EDT (13:00Z) after 8 March; 19 March excluded.
        range("2026-03-12T13:00:00Z", "2026-03-12T13:30:00Z"),
        // The all-day event is the whole local day in New York (EDT).
        range("2026-03-16T04:00:00Z", "2026-03-17T04:00:00Z"),
        range("2026-03-26T13:00:00Z", "2026-03-26T13:30:00Z"),
    ];
    let c = client();
    let b = c
        .busy(&creds, &cal, from, to, Tz::America__New_York)
        .await
        .unwrap();
    assert_eq!(b.busy, want);
    assert!(b.ours.is_empty());
    // A narrower window clips to itself and finds only what overlaps it.
    let b = c
        .busy(
            &creds,
            &cal,
            utc("2026-03-12T13:15:00Z"),
            utc("2026-03-16T12:00:00Z"),
            Tz::America__New_York,
        )
        .await
        .unwrap();
    assert_eq!(
        b.busy,
        vec![
            range("2026-03-12T13:15:00Z", "2026-03-12T13:30:00Z"),
            range("2026-03-16T04:00:00Z", "2026-03-16T12:00:00Z"),
        ]
    );
    // With the server's expansion asked for, single events read the same (recurrences are
    // left to our expansion: Radicale's keeps the EST offset after the change).
    let c = client().with_server_expand(true);
    for (a, z, want) in [
        (
            "2026-03-01T00:00:00Z",
            "2026-03-05T00:00:00Z",
            vec![range("2026-03-03T15:00:00Z", "2026-03-03T16:00:00Z")],
        ),
        (
            "2026-03-16T00:00:00Z",
            "2026-03-18T00:00:00Z",
            vec![range("2026-03-16T04:00:00Z", "2026-03-17T04:00:00Z")],
        ),
    ] {
        let b = c
            .busy(&creds, &cal, utc(a), utc(z), Tz::America__New_York)
            .await
            .unwrap();
        assert_eq!(b.busy, want, "{a}..{z} expanded by the server");
    }
}

#[tokio::test]
#[ignore = "needs the CalDAV server of scripts/caldav-test.sh"]
async fn a_wrong_password_is_an_auth_error() {
    let s = server();
    let mut creds = s.creds();
    creds.password = "not-the-app-password".into();
    let c = client();
    assert_eq!(c.discover(&creds).await, Err(CalendarError::Auth));
    let (from, to) = (utc("2026-03-01T00:00:00Z"), utc("2026-03-02T00:00:00Z"));
    assert_eq!(
        c.busy(&creds, &s.calendar, from, to, Tz::UTC).await,
        Err(CalendarError::Auth)
    );
    let ev = booking(&booking_uid(Uuid::new_v4()), "2026-03-10T14:00:00Z", 30, 0);
    assert_eq!(
        c.put_event(&creds, &s.calendar, &ev, None).await,
        Err(CalendarError::Auth)
    );
}

#[tokio::test]
#[ignore = "needs the CalDAV server of scripts/caldav-test.sh"]
async fn a_calendar_that_does_not_exist_is_an_error() {
    let s = server();
    let c = client();
    let gone = format!("{}{}/no-such-calendar/", s.url, s.user);
    let (from, to) = (utc("2026-03-01T00:00:00Z"), utc("2026-03-02T00:00:00Z"));
    let e = c
        .busy(&s.creds(), &gone, from, to, Tz::UTC)
        .await
        .unwrap_err();
    assert!(matches!(e, CalendarError::Other(_)), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// Without a CalDAV server
// ---------------------------------------------------------------------------------------

/// A local server that answers every request with `status` and `body` (after `delay`),
/// counting the requests.
async fn canned(status: u16, body: &'static str, delay: StdDuration) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                [("content-type", "application/xml")],
                body,
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/cal/"), hits)
}

fn creds_for(url: &str) -> CalDavCredentials {
    CalDavCredentials {
        server_url: url.to_string(),
        username: "ana".into(),
        password: "app-password".into(),
    }
}

#[tokio::test]
async fn loopback_is_refused_when_the_policy_does_not_allow_it() {
    let (url, hits) = canned(207, "<multistatus xmlns=\"DAV:\"/>", StdDuration::ZERO).await;
    // http allowed (development), but no allow-list: 127.0.0.1 is an internal address.
    let policy = OutboundPolicy::new(true, &[] as &[&str]);
    let c = CalDavClient::new(guarded_client(&policy).build().unwrap(), policy);
    let creds = creds_for(&url);
    let (from, to) = (utc("2026-03-01T00:00:00Z"), utc("2026-03-02T00:00:00Z"));
    for e in [
        c.discover(&creds).await.unwrap_err(),
        c.busy(&creds, &url, from, to, Tz::UTC).await.unwrap_err(),
        c.put_event(
            &creds,
            &url,
            &booking("gomomo-x", "2026-03-01T10:00:00Z", 30, 0),
            None,
        )
        .await
        .unwrap_err(),
    ] {
        match e {
            CalendarError::Other(m) => assert!(m.contains("refused"), "{m}"),
            e => panic!("expected a refusal, got {e:?}"),
        }
    }
    // A name resolving to loopback is refused by the guarded resolver.
    let by_name = url.replace("127.0.0.1", "localhost");
    let e = c
        .busy(&creds_for(&by_name), &by_name, from, to, Tz::UTC)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CalendarError::Other(m) if m.contains("refused")),
        "{e:?}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused URL was requested"
    );
    // The same server with 127.0.0.1 allowed is reached.
    let b = client()
        .busy(&creds, &url, from, to, Tz::UTC)
        .await
        .unwrap();
    assert_eq!(b, CalDavBusy::default());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failing_server_is_an_error_never_an_empty_calendar() {
    let (from, to) = (utc("2026-03-01T00:00:00Z"), utc("2026-03-02T00:00:00Z"));
    // 500 on every request.
    let (url, _) = canned(500, "boom", StdDuration::ZERO).await;
    let c = client();
    let creds = creds_for(&url);
    assert!(matches!(
        c.busy(&creds, &url, from, to, Tz::UTC).await,
        Err(CalendarError::Other(_))
    ));
    assert!(c.discover(&creds).await.is_err());
    assert!(c
        .put_event(
            &creds,
            &url,
            &booking("gomomo-y", "2026-03-01T10:00:00Z", 30, 0),
            None
        )
        .await
        .is_err());
    assert!(c
        .delete_event(
            &creds,
            &Stored {
                href: format!("{url}a.ics"),
                etag: None
            }
        )
        .await
        .is_err());
    // A 207 that is not a multistatus, and calendar data that does not parse.
    let (url, _) = canned(207, "<html>maintenance</html>", StdDuration::ZERO).await;
    assert!(c
        .busy(&creds_for(&url), &url, from, to, Tz::UTC)
        .await
        .is_err());
    let (url, _) = canned(
        207,
        r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/cal/a.ics</href><propstat><prop><getetag>"1"</getetag><C:calendar-data>BEGIN:VCALENDAR
BEGIN:VEVENT
UID:a
DTSTART:not-a-time
END:VEVENT
END:VCALENDAR
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
        StdDuration::ZERO,
    )
    .await;
    assert!(c
        .busy(&creds_for(&url), &url, from, to, Tz::UTC)
        .await
        .is_err());
    // A server that answers too slowly: a timeout.
    let (url, _) = canned(
        207,
        "<multistatus xmlns=\"DAV:\"/>",
        StdDuration::from_secs(5),
    )
    .await;
    let slow = client().with_timeout(StdDuration::from_millis(300));
    assert_eq!(
        slow.busy(&creds_for(&url), &url, from, to, Tz::UTC).await,
        Err(CalendarError::Timeout)
    );
    // A stopped server: nothing listens on the port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/cal/");
    assert_eq!(
        c.busy(&creds_for(&url), &url, from, to, Tz::UTC).await,
        Err(CalendarError::Network)
    );
    assert_eq!(
        c.discover(&creds_for(&url)).await,
        Err(CalendarError::Network)
    );
}

/// A server without `/.well-known/caldav` whose principal names a calendar home on an
/// internal address: discovery goes on from the given URL, and the home is refused before
/// any request reaches it.
#[tokio::test]
async fn discovery_checks_every_href_the_server_answers() {
    use axum::http::{Method, Uri};
    let hits = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
        let h = h.clone();
        async move {
            h.lock().unwrap().push(format!("{method} {}", uri.path()));
            let ms = |inner: &str| {
                format!(
                    r#"<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>{}</href><propstat><prop>{inner}</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
                    uri.path()
                )
            };
            match uri.path() {
                "/dav/" => (
                    axum::http::StatusCode::MULTI_STATUS,
                    ms("<current-user-principal><href>/dav/principals/ana/</href></current-user-principal>"),
                ),
                "/dav/principals/ana/" => (
                    axum::http::StatusCode::MULTI_STATUS,
                    ms("<C:calendar-home-set><href>http://169.254.169.254/latest/</href></C:calendar-home-set>"),
                ),
                _ => (axum::http::StatusCode::NOT_FOUND, String::new()),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let creds = creds_for(&format!("http://{addr}/dav/"));
    let e = client().discover(&creds).await.unwrap_err();
    assert!(
        matches!(&e, CalendarError::Other(m) if m.contains("refused") && m.contains("link-local")),
        "{e:?}"
    );
    assert_eq!(
        *hits.lock().unwrap(),
        vec![
            "PROPFIND /.well-known/caldav",
            "PROPFIND /dav/",
            "PROPFIND /dav/principals/ana/",
        ]
    );
}
