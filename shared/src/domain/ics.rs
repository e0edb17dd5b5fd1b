//! RFC 5545 calendar objects for booking emails (iTIP, RFC 5546): `METHOD:REQUEST` for a
//! new or moved booking, `METHOD:CANCEL` for a cancelled one. The UID is stable per booking
//! (so a client's calendar updates the same entry) and SEQUENCE is the booking's sequence,
//! which grows on every reschedule and on cancel.
//!
//! Content lines end in CRLF and are folded so no physical line exceeds 75 octets (RFC 5545
//! §3.1); a fold never splits a UTF-8 sequence nor a TEXT escape (`\n`, `\,`, `\;`, `\\`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// RFC 5545 §3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding the line break."
pub const MAX_LINE_OCTETS: usize = 75;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub method: Method,
    pub booking_id: Uuid,
    pub sequence: i32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub stamp: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub location: Option<String>,
    pub organizer_name: String,
    pub organizer_email: String,
    pub attendee_name: Option<String>,
    pub attendee_email: String,
}

/// The UID of a booking's event: the same for every message about that booking.
pub fn booking_uid(booking: Uuid) -> String {
    format!("booking-{}@gomomo", booking.simple())
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A quoted parameter value (RFC 5545 §3.2): DQUOTE and control characters are not allowed
/// inside, so they are dropped.
fn param_value(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// Folds one content line and appends it with CRLF.
pub fn push_folded(out: &mut String, line: &str) {
    let mut used = 0usize;
    let mut chars = line.chars().peekable();
    let mut limit = MAX_LINE_OCTETS;
    while let Some(c) = chars.next() {
        // Keep a TEXT escape (backslash + next char) on one physical line.
        let unit_len = if c == '\\' {
            c.len_utf8() + chars.peek().map_or(0, |n| n.len_utf8())
        } else {
            c.len_utf8()
        };
        if used + unit_len > limit {
            out.push_str("\r\n ");
            used = 0;
            // The leading space of a continuation line counts towards its 75 octets.
            limit = MAX_LINE_OCTETS - 1;
        }
        out.push(c);
        used += c.len_utf8();
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
                used += n.len_utf8();
            }
        }
    }
    out.push_str("\r\n");
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

impl Invite {
    /// The whole VCALENDAR, CRLF line ends, folded.
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = vec![
            "BEGIN:VCALENDAR".into(),
            "VERSION:2.0".into(),
            "PRODID:-//gomomo//AI receptionist//EN".into(),
            "CALSCALE:GREGORIAN".into(),
            format!(
                "METHOD:{}",
                match self.method {
                    Method::Request => "REQUEST",
                    Method::Cancel => "CANCEL",
                }
            ),
            "BEGIN:VEVENT".into(),
            format!("UID:{}", booking_uid(self.booking_id)),
            format!("SEQUENCE:{}", self.sequence.max(0)),
            format!("DTSTAMP:{}", utc(self.stamp)),
            format!("DTSTART:{}", utc(self.start)),
            format!("DTEND:{}", utc(self.end)),
            format!("SUMMARY:{}", escape_text(&self.summary)),
            format!("DESCRIPTION:{}", escape_text(&self.description)),
        ];
        if let Some(loc) = &self.location {
            lines.push(format!("LOCATION:{}", escape_text(loc)));
        }
        lines.push(format!(
            "ORGANIZER;CN={}:mailto:{}",
            param_value(&self.organizer_name),
            self.organizer_email
        ));
        let cn = self
            .attendee_name
            .as_deref()
            .map(|n| format!(";CN={}", param_value(n)))
            .unwrap_or_default();
        match self.method {
            Method::Request => {
                lines.push(format!(
                    "ATTENDEE{cn};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{}",
                    self.attendee_email
                ));
                lines.push("STATUS:CONFIRMED".into());
            }
            Method::Cancel => {
                lines.push(format!(
                    "ATTENDEE{cn};ROLE=REQ-PARTICIPANT:mailto:{}",
                    self.attendee_email
                ));
                lines.push("STATUS:CANCELLED".into());
            }
        }
        lines.push("TRANSP:OPAQUE".into());
        lines.push("END:VEVENT".into());
        lines.push("END:VCALENDAR".into());
        let mut out = String::with_capacity(1024);
        for l in &lines {
            push_folded(&mut out, l);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "").replace("\r\n\t", "")
    }

    #[test]
    fn escapes_text() {
        // collective/icalendar test_issue_1226::test_escape_char_accepts_bytes
        assert_eq!(escape_text("hello,world;test"), "hello\\,world\\;test");
        assert_eq!(escape_text("a\\b\nc"), "a\\\\b\\nc");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_utf8_or_escapes() {
        // collective/icalendar test_icalendar::test_long_lines (input line)
        let long = "123456789 ".repeat(10);
        let mut out = String::new();
        push_folded(&mut out, &long);
        for l in out.trim_end_matches("\r\n").split("\r\n") {
            assert!(l.len() <= MAX_LINE_OCTETS, "{l:?}");
        }
        assert_eq!(unfold(&out), format!("{long}\r\n"));
        // Multi-byte characters and escapes near every fold position.
        for pad in 60..90 {
            let text = format!("{}é\\nü\\,ß€{}", "x".repeat(pad), "y".repeat(pad));
            let mut out = String::new();
            push_folded(&mut out, &text);
            for l in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(l.len() <= MAX_LINE_OCTETS);
                assert!(!l.ends_with('\\'), "a fold split an escape: {l:?}");
            }
            assert_eq!(unfold(&out), format!("{text}\r\n"));
        }
    }

    #[test]
    fn renders_request_and_cancel() {
        let b = Uuid::new_v4();
        let t = DateTime::parse_from_rfc3339("2026-03-10T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut inv = Invite {
            method: Method::Request,
            booking_id: b,
            sequence: 2,
            start: t,
            end: t + chrono::Duration::minutes(30),
            stamp: t,
            summary: "Consultation, Acme; Clinic".into(),
            description: "Reference ABCD-EFGH".into(),
            location: None,
            organizer_name: "Acme \"Clinic\"".into(),
            organizer_email: "noreply@example.com".into(),
            attendee_name: Some("Ana".into()),
            attendee_email: "ana@example.com".into(),
        };
        let s = inv.render();
        assert!(s.ends_with("END:VCALENDAR\r\n"));
        assert!(!s.replace("\r\n", "").contains('\n'), "bare LF");
        let u = unfold(&s);
        assert!(u.contains(&format!("UID:{}\r\n", booking_uid(b))));
        assert!(u.contains("SEQUENCE:2\r\n"));
        assert!(u.contains("METHOD:REQUEST\r\n"));
        assert!(u.contains("DTSTART:20260310T140000Z\r\n"));
        assert!(u.contains("SUMMARY:Consultation\\, Acme\\; Clinic\r\n"));
        assert!(u.contains("ORGANIZER;CN=\"Acme Clinic\":mailto:noreply@example.com"));
        inv.method = Method::Cancel;
        let u = unfold(&inv.render());
        assert!(u.contains("METHOD:CANCEL\r\n") && u.contains("STATUS:CANCELLED\r\n"));
    }
}
