//! Property tests over the parsers that read what strangers send: the deterministic agent's
//! language parsing (intents, entities, dates and times), the Twilio webhook gate (form
//! bodies, signatures) and the SMS keywords. Whatever the input, they return; they never
//! panic. A few properties also pin what a parse means (a signed form verifies, a changed one
//! does not; "next Tuesday" is a Tuesday in the coming two weeks).
//!
//! Case counts are fixed and the random source is seeded, so a run takes the same time and
//! explores the same inputs every time.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use gomomo::config::{SignatureMode, TelephonyConfig};
use gomomo::domain::nlu;
use gomomo::domain::{ClientName, Email, Notes, PhoneE164, ReferenceCode, SessionId};
use gomomo::http::twilio::signature::{self, SignedPayload};
use gomomo::http::twilio::WebhookVerifier;
use gomomo::services::sms_inbound::{classify, Keyword};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_6060_6d6f),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any text: every Unicode scalar, control characters and NUL included.
fn noise() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..120).prop_map(|c| c.into_iter().collect())
}

/// Words the parsers look for, put together at random: the inputs most likely to reach deep
/// into the date, time and entity rules.
const WORDS: &[&str] = &[
    "next",
    "this",
    "coming",
    "on",
    "at",
    "in",
    "the",
    "of",
    "after",
    "before",
    "between",
    "and",
    "to",
    "from",
    "until",
    "by",
    "around",
    "-",
    "–",
    "/",
    ":",
    ".",
    ",",
    "@",
    "'",
    "today",
    "tomorrow",
    "tonight",
    "yesterday",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "weekend",
    "monday",
    "Tue",
    "tuesday",
    "TUESDAY",
    "wed",
    "thursday",
    "fri",
    "saturday",
    "sunday",
    "january",
    "feb",
    "february",
    "march",
    "december",
    "dec",
    "1st",
    "2nd",
    "3rd",
    "29th",
    "31st",
    "0",
    "1",
    "3",
    "12",
    "13",
    "24",
    "29",
    "31",
    "32",
    "60",
    "99",
    "2026",
    "2027",
    "1969",
    "262143",
    "99999999999999999999",
    "-1",
    "3pm",
    "3 pm",
    "3:30pm",
    "15:00",
    "9:75",
    "25:00",
    "12am",
    "12pm",
    "noon",
    "midnight",
    "am",
    "pm",
    "a.m.",
    "p.m.",
    "o'clock",
    "morning",
    "afternoon",
    "evening",
    "half",
    "past",
    "quarter",
    "12/31",
    "2/30",
    "13/45",
    "2026-02-29",
    "2026-12-31",
    "31/12/2026",
    "my",
    "name",
    "is",
    "I'm",
    "call",
    "me",
    "Ana",
    "O'Brien",
    "email",
    "a@b.co",
    "ana@example.com",
    "@@",
    "phone",
    "+1",
    "555",
    "0100",
    "+15555550100",
    "(555)",
    "ref",
    "reference",
    "ABCD-EFGH",
    "abcdefgh",
    "book",
    "cancel",
    "reschedule",
    "change",
    "human",
    "agent",
    "yes",
    "no",
    "yeah",
    "nope",
    "first",
    "second",
    "last",
    "option",
    "#2",
    "EST",
    "PST",
    "pacific",
    "Europe/London",
    "time",
    "zone",
    "é",
    "漢",
    "😀",
    "\u{0}",
    "\u{202E}",
    "\u{200B}",
    "\n",
    "\t",
];

fn phrase() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(WORDS),
            prop::sample::select(&[" ", "", "  ", ", "][..]),
        ),
        0..14,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, sep)| format!("{w}{sep}"))
            .collect()
    })
}

/// Text for the parsers: half noise, half phrases.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![noise(), phrase()]
}

/// A day between 1970 and 2200, the range the server's clock can be in.
fn today() -> impl Strategy<Value = NaiveDate> {
    let lo = NaiveDate::from_ymd_opt(1970, 1, 1)
        .unwrap()
        .num_days_from_ce();
    let hi = NaiveDate::from_ymd_opt(2200, 12, 31)
        .unwrap()
        .num_days_from_ce();
    (lo..=hi).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap())
}

fn tz() -> impl Strategy<Value = chrono_tz::Tz> {
    (0..chrono_tz::TZ_VARIANTS.len()).prop_map(|i| chrono_tz::TZ_VARIANTS[i])
}

proptest! {
    #![proptest_config(config(1000))]

    /// Intent and entity parsing of the deterministic agent.
    #[test]
    fn the_language_parsers_never_panic(s in text(), n in 0usize..12) {
        let _ = nlu::normalize(&s);
        let _ = nlu::detect_intent(&s);
        let _ = nlu::is_handoff_request(&s);
        let _ = nlu::yes_no(&s);
        let _ = nlu::match_service(&s, &["Consultation", "Follow-up Visit", "Café ☕", ""]);
        let _ = nlu::parse_choice(&s, n);
        let _ = nlu::extract_email(&s);
        let _ = nlu::extract_phone(&s);
        let _ = nlu::extract_reference(&s);
        let _ = nlu::is_vague_request(&s);
        let _ = nlu::extract_time_zone(&s);
        if let Some(name) = nlu::extract_name(&s) {
            prop_assert!(ClientName::parse(name.as_str()).is_ok());
        }
        if let Some(name) = nlu::parse_name_reply(&s) {
            prop_assert!(ClientName::parse(name.as_str()).is_ok());
        }
    }

    /// The date and time parsing behind "next Tuesday at 3pm", for any clock in range.
    #[test]
    fn the_date_and_time_parsers_never_panic(
        s in text(),
        day in today(),
        secs in 0i64..86_400,
        zone in tz(),
    ) {
        let _ = nlu::parse_date(&s, day);
        let _ = nlu::parse_date_range(&s, day);
        let _ = nlu::parse_time(&s);
        let now = day.and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::seconds(secs);
        let _ = nlu::resolve_date(&s, now, zone);
        if let Some((from, to)) = nlu::parse_date_range(&s, day) {
            prop_assert!(from <= to, "{s:?}: {from} > {to}");
        }
    }

    /// The typed values parsed at the edge: a value that parses holds what its type promises.
    #[test]
    fn the_edge_types_never_panic_and_keep_their_promises(s in text()) {
        if let Ok(name) = ClientName::parse(&s) {
            let n = name.as_str();
            prop_assert!(!n.is_empty() && n.chars().count() <= 200);
            prop_assert!(!n.chars().any(|c| c.is_control() || gomomo::domain::is_invisible_format(c)));
        }
        if let Ok(e) = Email::parse(&s) {
            prop_assert!(e.as_str().len() <= 254 && !e.as_str().contains('\0'));
        }
        if let Ok(p) = PhoneE164::parse(&s) {
            prop_assert!(p.as_str().starts_with('+') && p.as_str()[1..].bytes().all(|b| b.is_ascii_digit()));
        }
        if let Ok(Some(n)) = Notes::parse(&s) {
            prop_assert!(!n.as_str().contains('\0'));
        }
        let _ = Notes::from_free_text(&s);
        let _ = ReferenceCode::parse(&s);
        let _ = SessionId::parse(&s);
        let _ = gomomo::domain::redact::redact_text(&s);
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// "next <weekday>" is that weekday, within the coming two weeks.
    #[test]
    fn next_weekday_is_that_weekday_soon(day in today(), w in 0u8..7, hour in 1u32..=12, pm in any::<bool>()) {
        let weekday = Weekday::try_from(w).unwrap();
        let name = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][w as usize];
        let text = format!("next {name} at {hour}{}", if pm { "pm" } else { "am" });
        let got = nlu::parse_date(&text, day);
        prop_assert!(got.is_some(), "{text:?} on {day}");
        let got = got.unwrap();
        prop_assert_eq!(got.weekday(), weekday);
        prop_assert!(got > day && got <= day + chrono::Duration::days(14), "{text:?} on {day} → {got}");
        let want = NaiveTime::from_hms_opt(hour % 12 + if pm { 12 } else { 0 }, 0, 0).unwrap();
        prop_assert_eq!(nlu::parse_time(&text), Some(nlu::TimeSpec::At(want)), "{:?}", text);
    }

    /// The Twilio gate over any request: a result, never a panic, signatures checked or not.
    #[test]
    fn the_twilio_gate_never_panics(
        path in noise(),
        content_type in prop::option::of(prop_oneof![
            Just("application/x-www-form-urlencoded".to_string()),
            Just("application/json".to_string()),
            noise(),
        ]),
        body in prop::collection::vec(any::<u8>(), 0..400),
        sig in prop::option::of(noise()),
        enforce in any::<bool>(),
    ) {
        let verifier = verifier(enforce);
        let _ = verifier.verify(&path, content_type.as_deref(), &body, sig.as_deref());
        let _ = signature::validate("token", &path, SignedPayload::Body(&body), sig.as_deref().unwrap_or(""));
    }

    /// A form signed with the token verifies and decodes to what was sent; changing one value
    /// or the URL breaks it.
    #[test]
    fn a_signed_form_verifies_and_a_changed_one_does_not(
        params in prop::collection::vec((noise(), noise()), 0..8),
        query in "[a-zA-Z0-9=&%]{0,30}",
        tamper in any::<prop::sample::Index>(),
    ) {
        let verifier = verifier(true);
        let path = format!("/twilio/sms?{query}");
        let url = verifier.public_url(&path);
        let sig = signature::sign(TOKEN, &url, &params);
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
        let form = "application/x-www-form-urlencoded";
        let got = verifier.verify(&path, Some(form), body.as_bytes(), Some(&sig));
        prop_assert!(got.is_ok(), "{params:?}");
        prop_assert_eq!(got.unwrap(), params.clone());
        let other_path = format!("{path}x");
        prop_assert!(verifier.verify(&other_path, Some(form), body.as_bytes(), Some(&sig)).is_err());
        if !params.is_empty() {
            let mut changed = params.clone();
            changed[tamper.index(params.len())].1.push('!');
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&changed).finish();
            prop_assert!(verifier.verify(&path, Some(form), body.as_bytes(), Some(&sig)).is_err());
        }
    }

    /// SMS keywords: any body classifies; a keyword in any case, padded with spaces and
    /// punctuation, is still that keyword.
    #[test]
    fn sms_keywords_classify_any_body(
        body in text(),
        k in prop::sample::select(&["STOP", "start", "Help", "c", "R", "x", "unsubscribe", "book", "Leave"][..]),
        pad in "[ \t\n.!?]{0,4}",
    ) {
        let _ = classify(&body);
        let padded = format!("{pad}{k}{pad}");
        let kind = match classify(&padded) {
            Keyword::OptOut => "out",
            Keyword::OptIn => "in",
            Keyword::Help => "help",
            Keyword::Confirm => "c",
            Keyword::Reschedule => "r",
            Keyword::Cancel => "x",
            Keyword::Book => "book",
            Keyword::Leave => "leave",
            Keyword::Other => "other",
        };
        let want = match k.to_ascii_uppercase().as_str() {
            "STOP" | "UNSUBSCRIBE" => "out",
            "START" => "in",
            "HELP" => "help",
            "C" => "c",
            "R" => "r",
            "BOOK" => "book",
            "LEAVE" => "leave",
            _ => "x",
        };
        prop_assert_eq!(kind, want, "{:?}", padded);
    }
}

const TOKEN: &str = "test-auth-token-5f0c";

fn verifier(enforce: bool) -> WebhookVerifier {
    let mut cfg = TelephonyConfig::from_lookup(
        &|k| match k {
            "TWILIO_AUTH_TOKEN" => Some(TOKEN.to_string()),
            "PUBLIC_BASE_URL" => Some("https://hooks.gomomo.test".to_string()),
            _ => None,
        },
        gomomo::config::Environment::Development,
    )
    .unwrap();
    if !enforce {
        cfg.signature_mode = SignatureMode::Off;
    }
    WebhookVerifier::new(&cfg)
}
