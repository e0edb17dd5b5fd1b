//! Newtypes parsed at the edge: once a value is one of these, it is valid.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a raw value from outside was refused. `field` names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// A tenant's id (a UUID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub Uuid);

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        Uuid::parse_str(raw.trim())
            .map(Self)
            .map_err(|_| ParseError::new("tenant_id", "expected a UUID"))
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An email address: trimmed, at most 254 characters, one `@`, a dotted domain, no spaces.
/// Comparison is case-insensitive (the stored form is lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let err = |r: &str| ParseError::new("email", r.to_string());
        if s.is_empty() {
            return Err(err("is empty"));
        }
        if s.len() > 254 {
            return Err(err("is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains whitespace"));
        }
        let (local, domain) = s.split_once('@').ok_or_else(|| err("has no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(err("local part must be 1 to 64 characters"));
        }
        if domain.contains('@') {
            return Err(err("has more than one @"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(err("domain is not valid"));
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164: `+`, a non-zero first digit, 8 to 15 digits in all.
/// Spaces, dots, dashes and parentheses are accepted on input and dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneE164(String);

impl PhoneE164 {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        let err = |r: &str| ParseError::new("phone", r.to_string());
        let rest = s
            .strip_prefix('+')
            .ok_or_else(|| err("must be in E.164 form, starting with +"))?;
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(err("may only contain digits")),
            }
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(err("must have 8 to 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(err("country code cannot start with 0"));
        }
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Characters that change how the text around them reads without being seen themselves:
/// bidirectional embeddings, overrides, isolates and marks, zero-width spaces and joiners,
/// invisible operators, the byte-order mark and the soft hyphen. Names and descriptions
/// refuse them, so what an admin or a client reads is what was typed.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A client's name as they gave it: 1 to 200 characters, no control characters and no
/// invisible formatting characters ([`is_invisible_format`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ClientName(String);

impl ClientName {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ParseError::new("client_name", "is empty"));
        }
        if s.chars().count() > 200 {
            return Err(ParseError::new(
                "client_name",
                "is longer than 200 characters",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ParseError::new(
                "client_name",
                "contains control characters",
            ));
        }
        if s.chars().any(is_invisible_format) {
            return Err(ParseError::new(
                "client_name",
                "contains invisible formatting characters (bidirectional or zero-width)",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's notes for a booking: trimmed, 1 to [`Notes::MAX_CHARS`] characters, no
/// control characters other than line breaks and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Notes(String);

impl Notes {
    pub const MAX_CHARS: usize = 2000;

    /// Notes as a client sent them; blank means none (`Ok(None)`).
    pub fn parse(raw: &str) -> Result<Option<Self>, ParseError> {
        if raw.chars().any(|c| !Self::allowed(c)) {
            return Err(ParseError::new(
                "notes",
                "may not contain control characters",
            ));
        }
        let s = raw.trim();
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ParseError::new(
                "notes",
                format!("at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok((!s.is_empty()).then(|| Self(s.to_string())))
    }

    /// Free text from a language model, made into notes instead of refused: control
    /// characters dropped, trimmed, cut at [`Notes::MAX_CHARS`]; blank means none.
    pub fn from_free_text(raw: &str) -> Option<Self> {
        let kept: String = raw.chars().filter(|c| Self::allowed(*c)).collect();
        let s: String = kept.trim().chars().take(Self::MAX_CHARS).collect();
        let s = s.trim_end();
        (!s.is_empty()).then(|| Self(s.to_string()))
    }

    fn allowed(c: char) -> bool {
        !c.is_control() || matches!(c, '\n' | '\t' | '\r')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of a chat, web or call session that owns holds: 1 to 128 of `[A-Za-z0-9_.:-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 128 {
            return Err(ParseError::new("session_id", "must be 1 to 128 characters"));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        {
            return Err(ParseError::new(
                "session_id",
                "may only contain letters, digits, '_', '-', '.', ':'",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A stable handle that names this session in the audit log without revealing it (the
    /// id itself is a bearer secret): `chat-` and the first 24 hex digits of its SHA-256.
    pub fn audit_ref(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.0.as_bytes());
        format!("chat-{}", hex::encode(&digest[..12]))
    }
}

/// An IANA time zone name, e.g. `America/New_York`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        chrono_tz::Tz::from_str(raw.trim())
            .map(Self)
            .map_err(|_| ParseError::new("time_zone", "not an IANA time zone name"))
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The client's own zone from a request's optional `client_time_zone` field: absent or
    /// blank is `None`; anything else must be an IANA name.
    pub fn parse_client(raw: Option<&str>) -> Result<Option<Self>, ParseError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(z) => chrono_tz::Tz::from_str(z)
                .map(|tz| Some(Self(tz)))
                .map_err(|_| ParseError::new("client_time_zone", "not an IANA time zone name")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_session_audit_ref_is_stable_and_does_not_reveal_the_id() {
        let a = SessionId::parse("web-4f1c9a").unwrap();
        let r = a.audit_ref();
        assert_eq!(r, SessionId::parse(" web-4f1c9a ").unwrap().audit_ref());
        assert_ne!(r, SessionId::parse("web-4f1c9b").unwrap().audit_ref());
        assert!(!r.contains("4f1c9a"), "{r}");
        assert!(r.starts_with("chat-") && r.len() == 5 + 24, "{r}");
        assert!(r[5..].chars().all(|c| c.is_ascii_hexdigit()), "{r}");
    }

    #[test]
    fn email_accepts_and_normalises() {
        assert_eq!(
            Email::parse("  Jane.Doe+x@Example.COM ").unwrap().as_str(),
            "jane.doe+x@example.com"
        );
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@example",
            "jane doe@example.com",
            "a@b@example.com",
            "jane@-ex.com",
            "jane@ex..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn phone_is_e164() {
        assert_eq!(
            PhoneE164::parse("+1 (800) 555-0100").unwrap().as_str(),
            "+18005550100"
        );
        assert_eq!(
            PhoneE164::parse("+442071838750").unwrap().as_str(),
            "+442071838750"
        );
        for bad in [
            "8005550100",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
            "+1800CALLNOW",
            "",
        ] {
            assert!(PhoneE164::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_sessions_zones_tenants() {
        assert!(ClientName::parse("  ").is_err());
        assert!(ClientName::parse("Ana\u{0007}").is_err());
        assert_eq!(
            ClientName::parse(" Ana Lopez ").unwrap().as_str(),
            "Ana Lopez"
        );
        assert!(SessionId::parse("web-1234:abc").is_ok());
        assert!(SessionId::parse("has space").is_err());
        assert!(SessionId::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            TimeZone::parse("America/New_York").unwrap().name(),
            "America/New_York"
        );
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TenantId::parse("not-a-uuid").is_err());
        assert!(TenantId::parse("6d0e0000-0000-4000-8000-000000000001").is_ok());
    }

    #[test]
    fn notes_refuse_control_characters_and_length() {
        assert_eq!(Notes::parse("  ").unwrap(), None);
        assert_eq!(
            Notes::parse(" first visit\nback pain ")
                .unwrap()
                .unwrap()
                .as_str(),
            "first visit\nback pain"
        );
        assert!(Notes::parse("bell\u{0007}").is_err());
        assert!(Notes::parse(&"x".repeat(Notes::MAX_CHARS + 1)).is_err());
        assert!(Notes::parse(&format!(" {} ", "x".repeat(Notes::MAX_CHARS))).is_ok());
        let cut = Notes::from_free_text(&format!("a\u{0007}{}", "x".repeat(3000))).unwrap();
        assert_eq!(cut.as_str().chars().count(), Notes::MAX_CHARS);
        assert!(cut.as_str().starts_with("ax"));
        assert_eq!(Notes::from_free_text(" \u{0000} "), None);
        for n in [cut.as_str(), "ok\ttabs"] {
            assert_eq!(Notes::parse(n).unwrap().unwrap().as_str(), n);
        }
    }

    /// Property-style check without extra crates: every string the parser accepts
    /// re-parses to itself (normal forms are fixed points).
    #[test]
    fn parsers_are_idempotent() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet: Vec<char> = "ab+@.-_ 019()XYZé".chars().collect();
        for _ in 0..20_000 {
            let len = (seed % 24) as usize;
            let mut s = String::new();
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            if let Ok(e) = Email::parse(&s) {
                assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
            if let Ok(p) = PhoneE164::parse(&s) {
                assert_eq!(PhoneE164::parse(p.as_str()).unwrap(), p);
                assert!(p.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
            }
        }
    }
}
