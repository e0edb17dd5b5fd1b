//! PII redaction for everything written to `audit_log`:
//! named fields (personal data, credentials, chat session ids, message recipients) are
//! replaced whole, any key matching /email|phone|token|password|secret/i
//! likewise, and free text is scrubbed of email addresses and phone numbers.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

/// Field names that always hold personal data or credentials. A chat session id is a
/// bearer credential (it lets its holder act in that chat); a recipient is an email
/// address or a phone number.
pub const PII_FIELDS: &[&str] = &[
    "session_id",
    "recipient",
    "client_email",
    "client_name",
    "client_phone",
    "phone",
    "email",
    "name_of_client",
    "full_name",
    "caller_name",
    "first_name",
    "last_name",
    "notes",
    "access_token",
    "refresh_token",
    "api_key",
    "recording_url",
    "transcription",
];

static KEY_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a literal pattern, checked by the tests
    Regex::new(r"(?i)email|phone|token|password|secret").unwrap()
});
static EMAIL_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}").unwrap()
});
// 7 or more digits, optionally led by + and split by spaces, dots, dashes or parentheses.
static PHONE_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"\+?\(?\d(?:[\s.\-()]*\d){6,}").unwrap()
});

pub fn is_pii_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    PII_FIELDS.contains(&lower.as_str()) || KEY_PATTERN.is_match(key)
}

/// Identifiers and instants are not personal data and must survive redaction intact
/// (the digit runs inside them would otherwise look like phone numbers).
fn is_structured(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
        || chrono::DateTime::parse_from_rfc3339(s).is_ok()
        || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Scrubs emails and phone numbers out of free text. A digit run counts as a phone number
/// only with 7 to 15 digits and when it is not glued to a date, a time or a hex identifier.
pub fn redact_text(s: &str) -> String {
    if is_structured(s) {
        return s.to_string();
    }
    let s = EMAIL_IN_TEXT.replace_all(s, "[REDACTED_EMAIL]");
    PHONE_IN_TEXT
        .replace_all(&s, |c: &regex::Captures<'_>| {
            let Some(m) = c.get(0) else {
                return String::new();
            };
            let text = m.as_str();
            let digits = text.chars().filter(char::is_ascii_digit).count();
            let glued = |ch: Option<char>| {
                ch.is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == ':')
            };
            let before = s[..m.start()].chars().next_back();
            let after = s[m.end()..].chars().next();
            if (7..=15).contains(&digits)
                && !glued(before)
                && !glued(after)
                && !looks_like_date(text)
            {
                "[REDACTED_PHONE]".to_string()
            } else {
                text.to_string()
            }
        })
        .into_owned()
}

fn looks_like_date(m: &str) -> bool {
    let t = m.trim();
    t.get(..10)
        .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
}

/// A redacted copy of a JSON value.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_pii_key(k) && !v.is_null() {
                        Value::String(REDACTED.to_string())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_text(s)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn named_and_pattern_fields_are_replaced() {
        let v = json!({
            "client_name": "Jane Doe",
            "client_email": "jane@example.com",
            "contactEmail": "x@y.io",
            "PhoneNumber": "+15555550100",
            "refresh_token": "abc",
            "db_password": "hunter2",
            "webhook_secret": "s",
            "notes": "call me maybe",
            "reference": "ABCD-EFGH",
            "nested": [{"email": "a@b.co", "service": "Haircut"}],
            "missing_phone": null,
        });
        let r = redact(&v);
        for key in [
            "client_name",
            "client_email",
            "contactEmail",
            "PhoneNumber",
            "refresh_token",
            "db_password",
            "webhook_secret",
            "notes",
        ] {
            assert_eq!(r[key], REDACTED, "{key}");
        }
        assert_eq!(r["reference"], "ABCD-EFGH");
        assert_eq!(r["nested"][0]["email"], REDACTED);
        assert_eq!(r["nested"][0]["service"], "Haircut");
        assert!(r["missing_phone"].is_null());
    }

    #[test]
    fn session_ids_and_recipients_are_replaced() {
        let v = json!({
            "session_id": "web-0f8e2b6c",
            "recipient": "kim@example.com",
            "args": {"recipient": "+15555550177", "channel": "sms"},
            "detail": {"session_id": "web-1", "hold_id": "0f8e2b6c-1d3a-4b8e-b881-25d4c1e0a9f7"},
        });
        let r = redact(&v);
        assert_eq!(r["session_id"], REDACTED);
        assert_eq!(r["recipient"], REDACTED);
        assert_eq!(r["args"]["recipient"], REDACTED);
        assert_eq!(r["args"]["channel"], "sms");
        assert_eq!(r["detail"]["session_id"], REDACTED);
        assert_eq!(r["detail"]["hold_id"], v["detail"]["hold_id"]);
    }

    #[test]
    fn free_text_is_scrubbed() {
        let s = redact_text(
            "reach jane.doe@mail.example.org or +1 (555) 555-0100, ref ABCD-EFGH at 10:30",
        );
        assert!(!s.contains("jane.doe"), "{s}");
        assert!(!s.contains("555-0100"), "{s}");
        assert!(s.contains("ABCD-EFGH"));
        assert!(s.contains("10:30"), "times are not phone numbers: {s}");
        let v = redact(&json!({"message": "mail me at bob@x.com"}));
        assert_eq!(v["message"], "mail me at [REDACTED_EMAIL]");
    }

    #[test]
    fn identifiers_and_instants_survive() {
        let v = json!({
            "start": "2026-03-03T15:00:00Z",
            "end": "2026-03-03T15:30:00+00:00",
            "date": "2026-03-03",
            "service_id": "6d0e0000-0000-4000-8000-0000000005e1",
            "hold_id": "0f8e2b6c-1d3a-4b8e-b881-25d4c1e0a9f7",
            "reference": "7KQM-3XPD",
            "message": "booked 2026-03-03T15:00:00Z, hold 0f8e2b6c-1d3a-4b8e-b881-25d4c1e0a9f7, call 555-555-0100",
        });
        let r = redact(&v);
        for key in ["start", "end", "date", "service_id", "hold_id", "reference"] {
            assert_eq!(r[key], v[key], "{key} must not be redacted");
        }
        let m = r["message"].as_str().unwrap_or_default();
        assert!(m.contains("2026-03-03T15:00:00Z"), "{m}");
        assert!(m.contains("0f8e2b6c-1d3a-4b8e-b881-25d4c1e0a9f7"), "{m}");
        assert!(!m.contains("555-555-0100"), "{m}");
    }
}
