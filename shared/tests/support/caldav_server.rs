//! The Radicale server `scripts/caldav-test.sh` starts (its URL and account in
//! `CALDAV_TEST_*`), and the PyPI `caldav` client on the same account: another program that
//! makes calendars and events through the server's own protocol. Shared by the CalDAV
//! client's tests and the API's CalDAV calendar test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub struct Server {
    pub url: String,
    pub user: String,
    pub password: String,
    /// The calendar the script made.
    pub calendar: String,
    python: String,
    helper: String,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run scripts/caldav-test.sh, which starts the CalDAV server")
    })
}

/// The server of the script; panics (the test fails) without it.
pub fn server() -> Server {
    Server {
        url: var("CALDAV_TEST_URL"),
        user: var("CALDAV_TEST_USER"),
        password: var("CALDAV_TEST_PASSWORD"),
        calendar: var("CALDAV_TEST_CALENDAR"),
        python: var("CALDAV_TEST_PYTHON"),
        helper: var("CALDAV_TEST_HELPER"),
    }
}

impl Server {
    /// The `caldav` Python client, another program on the same account.
    pub fn helper(&self, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new(&self.python)
            .arg(&self.helper)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the caldav helper starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "caldav helper {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A fresh calendar of the user, made by the `caldav` client.
    pub fn new_calendar(&self, name: &str) -> String {
        let id = format!("{name}-{}", Uuid::new_v4().simple());
        self.helper(
            &["mkcal", &self.url, &self.user, &self.password, &id, name],
            "",
        )
    }

    /// An event created by the `caldav` client in `calendar`.
    pub fn add(&self, calendar: &str, ics: &str) -> String {
        self.helper(&["add", calendar, &self.user, &self.password], ics)
    }

    /// The calendar's events as the `caldav` client reads them: (UID, start, end).
    pub fn events(&self, calendar: &str) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
        self.helper(&["list", calendar, &self.user, &self.password], "")
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                let uid = f.next().unwrap().to_string();
                let t = |s: Option<&str>| {
                    DateTime::parse_from_rfc3339(s.unwrap())
                        .unwrap()
                        .with_timezone(&Utc)
                };
                (uid, t(f.next()), t(f.next()))
            })
            .collect()
    }
}
