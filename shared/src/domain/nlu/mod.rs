//! Rule-based language understanding shared by the deterministic chat engine and the voice
//! channel: intent, yes/no, service, dates, times, email (typed or spoken), person name,
//! reference code (typed or spelled out), slot choice, time zone and vague-request detection.
//!
//! Every public function reads English and Spanish at once, without being told the
//! language: a client may write either, or mix them ("book una cita mañana a las 3").
//! This file holds the English patterns and the shared helpers; `es.rs` holds the Spanish
//! patterns and parsers, each of which answers only when it finds Spanish words, so English
//! text reads exactly as it would alone. [`detect_language`] names the language of a
//! message when it is clear (used to pick a chat's language from its first message).
//!
//! Adding a language is one more module beside `es.rs` (its patterns over its own folded
//! text, answering `None`/`false` on anything else) plus one line in each public function
//! here: an `.or_else(|| xx::parse_date(text, today))`, an `|| xx::is_leave_waitlist(text)`,
//! a term in the yes/no position search, and its word lists in [`detect_language`].
//!
//! Pure functions over text: no I/O and no clock. Relative dates are resolved against a
//! `today` (or a `now` plus the tenant's zone) that the caller passes in, so the server —
//! never a model — does the calendar arithmetic.
//!
//! Conventions worth knowing (also pinned by the tests):
//! - "Tuesday" / "this Tuesday" is the next Tuesday on or after today; "next Tuesday" is the
//!   next Tuesday strictly after today.
//! - "the 14th" is the next 14th on or after today (this month, else the next month that has
//!   one); "December 3" without a year is this year's, or next year's once it has passed.
//! - Numeric dates like `12/3` are month/day (US order), except in text that leans Spanish
//!   ("el 3/4", "para el 12/3"), where they are day/month.
//! - A time without am/pm ("at 3", "2:30", "half past two") is read in business hours:
//!   1–7 are afternoon (13:00–19:00), 8–12 morning/noon. The same holds in Spanish ("a las
//!   3"), unless the text says "de la mañana / tarde / noche".
//! - Spanish "mañana" is tomorrow, except as "la mañana" (the morning): "mañana por la
//!   mañana" is tomorrow morning, "por la mañana" alone is only the morning.
//! - "el próximo martes" / "el martes que viene" work like "next Tuesday"; "el martes de la
//!   semana que viene" is the Tuesday of next week (Monday to Sunday).

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{ClientName, Email, Locale, PhoneE164, ReferenceCode, TimeZone};

fn re(pattern: &str) -> Regex {
    // Patterns are literals in this file and covered by the tests below.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("nlu regex compiles")
}

macro_rules! lazy_re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| re($pat));
    };
}

mod es;

/// The language a message is clearly written in: Spanish for "¿Tienen cita para mañana?"
/// or "hola, quiero reservar", English for "I'd like to book"; `None` when it could be
/// either or neither ("ok", "2", an email, a bare name, an even mix).
pub fn detect_language(text: &str) -> Option<Locale> {
    es::detect_language(text)
}

/// Lower-cases, straightens quotes, folds "a.m."/"p.m." to "am"/"pm", turns hyphens between
/// letters into spaces ("follow-up" → "follow up") and collapses whitespace.
pub fn normalize(text: &str) -> String {
    lazy_re!(AMPM, r"(^|[^a-z])([ap])\.\s?m\b\.?");
    lazy_re!(HYPHEN, r"([a-z])-([a-z])");
    let lower = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'");
    let lower = AMPM.replace_all(&lower, "${1}${2}m");
    let lower = HYPHEN.replace_all(&lower, "$1 $2");
    let lower = HYPHEN.replace_all(&lower, "$1 $2");
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------
// Intent
// ---------------------------------------------------------------------------------------

/// What the person wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Book,
    Reschedule,
    Cancel,
    Lookup,
    Waitlist,
    /// "Text me a link": continue the conversation by SMS / web chat.
    HandoffToText,
    Help,
    Goodbye,
}

lazy_re!(
    HANDOFF_RE,
    r"\b(?:text me|sms me|send (?:me )?(?:a |the )?(?:link|text|sms)|text (?:me )?(?:a |the )?link|message me (?:a |the )?link|continue (?:by|over|via|on) (?:text|sms|chat|my phone)|switch to (?:text|chat|sms))\b"
);
lazy_re!(
    RESCHEDULE_RE,
    r"\b(?:re ?schedul\w*|re ?book\w*|move (?:my|the|it|our|this)\b|change (?:my|the|our) (?:appointment|booking|reservation|time|date|day)|(?:a |another )?different (?:time|day|date)|push (?:it|my \w+) (?:back|forward|later|earlier)|postpone)"
);
lazy_re!(
    CANCEL_RE,
    r"\b(?:cancel\w*|call (?:it )?off|scrap (?:my|the)|drop my (?:appointment|booking))\b"
);
lazy_re!(
    LOOKUP_RE,
    r"\b(?:look ?up|check (?:on )?(?:my|an existing) (?:appointment|booking|reservation)|find my (?:appointment|booking|reservation)|when is my|what time is my|(?:appointment|booking) details|status of my|do i have an? (?:appointment|booking)|already (?:have|booked)|existing (?:appointment|booking))\b"
);
lazy_re!(
    WAITLIST_RE,
    r"\b(?:wait ?list\w*|waiting list|notify me|let me know (?:if|when)|put me on (?:a|the) list|tell me when|when (?:something|a slot|a spot|one) (?:opens|frees))"
);
lazy_re!(
    BOOK_RE,
    r"\b(?:book\w*|appointments?|schedul\w*|reserv\w*|make an?\b|set up|sign up|come in|availab\w*|openings?|slots?|free time|consult\w*|see (?:the|a|someone))"
);
lazy_re!(
    HELP_RE,
    r"\b(?:help|what can you do|how does (?:this|it) work|options|menu|human|real person|representative|operator|speak to (?:a|someone))\b"
);
lazy_re!(
    GOODBYE_RE,
    r"\b(?:bye|goodbye|good bye|that'?s all|that is all|nothing else|no thanks?|no thank you|i'?m done|have a (?:good|nice|great)|see you|that'?s it)\b"
);

lazy_re!(
    LEAVE_WAITLIST_RE,
    r"\b(?:(?:take|get|drop) me off (?:the |your |a |that )?(?:wait ?list|waiting list|list)|(?:remove|delete|drop) me from (?:the |your |a |that )?(?:wait ?list|waiting list|list)|(?:leave|quit|exit|cancel) (?:the |your |my |that )?(?:wait ?list|waiting list)(?: entry| spot)?|(?:don'?t|do not|no longer) (?:need|want) (?:to be on )?(?:the |my |your |a )?(?:wait ?list|waiting list))"
);

/// True when the person asks to leave the waitlist ("take me off the waitlist", "sáquenme de
/// la lista de espera"). Checked before [`detect_intent`], which would read "waitlist" as
/// joining it.
pub fn is_leave_waitlist(text: &str) -> bool {
    LEAVE_WAITLIST_RE.is_match(&normalize(text)) || es::is_leave_waitlist(text)
}

/// The person's intent, in English or Spanish, or `None` when the text says nothing about
/// one. Checked in priority order: a handoff request, reschedule, cancel, lookup, waitlist,
/// book, help, goodbye; at each step every language's pattern is tried. "cancelar" alone is
/// a Cancel, "gracias" alone a Goodbye (English "thanks" alone is none).
pub fn detect_intent(text: &str) -> Option<Intent> {
    let t = normalize(text);
    let f = es::prep(text);
    let table: [(&LazyLock<Regex>, Intent); 8] = [
        (&HANDOFF_RE, Intent::HandoffToText),
        (&RESCHEDULE_RE, Intent::Reschedule),
        (&CANCEL_RE, Intent::Cancel),
        (&LOOKUP_RE, Intent::Lookup),
        (&WAITLIST_RE, Intent::Waitlist),
        (&BOOK_RE, Intent::Book),
        (&HELP_RE, Intent::Help),
        (&GOODBYE_RE, Intent::Goodbye),
    ];
    table
        .iter()
        .find(|(r, i)| r.is_match(&t) || es::intent(&f, *i))
        .map(|(_, i)| *i)
}

/// True when the caller asks to continue by text ("text me a link", "send me a link",
/// "mándeme un mensaje", "envíeme el enlace").
pub fn is_handoff_request(text: &str) -> bool {
    HANDOFF_RE.is_match(&normalize(text)) || es::is_handoff_request(text)
}

// ---------------------------------------------------------------------------------------
// Yes / no
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YesNo {
    Yes,
    No,
}

lazy_re!(
    YES_RE,
    r"\b(?:yes|yeah|yea|yep|yup|ya|sure|correct|ok|okay|confirm\w*|please do|go ahead|sounds good|that works|works for me|absolutely|definitely|affirmative|do it|book it|perfect|great|of course|that'?s right|exactly|alright|all right|right)\b"
);
lazy_re!(
    NO_RE,
    r"\b(?:(?:of course|absolutely|definitely|certainly|sure|right|okay|ok) not|no|nope|nah|not|don'?t|do not|negative|wrong|incorrect|never ?mind|stop|wait)\b"
);

/// A yes or a no, in English or Spanish; when both appear, the earlier one wins ("no, not
/// yet" → No, "yes, but not Friday" → Yes, "sí, pero no el viernes" → Yes). `None` when
/// neither appears. A bare Spanish "si" (also "if") is a yes only as the answer itself; see
/// `es::yes_at`.
pub fn yes_no(text: &str) -> Option<YesNo> {
    // The folded text is the normalized one for English input, so positions compare.
    let t = es::prep(text);
    let spanish = es::leans_spanish(text);
    // English "ya" (yeah) is Spanish "already": "ya no" is a no, "ya reservé" no answer.
    let en_yes = YES_RE
        .find_iter(&t)
        .find(|m| !(m.as_str() == "ya" && (spanish || starts_with_word(&t[m.end()..], " no"))))
        .map(|m| m.start());
    let y = [en_yes, es::yes_at(text, &t)].into_iter().flatten().min();
    let n = [NO_RE.find(&t).map(|m| m.start()), es::no_at(&t)]
        .into_iter()
        .flatten()
        .min();
    // A no that starts where a yes does is the longer phrase ("of course not", "claro que
    // no"): it wins.
    match (y, n) {
        (Some(a), Some(b)) if b <= a => Some(YesNo::No),
        (Some(_), _) => Some(YesNo::Yes),
        (None, Some(_)) => Some(YesNo::No),
        (None, None) => None,
    }
}

/// `rest` starts with `word` as a whole word.
fn starts_with_word(rest: &str, word: &str) -> bool {
    rest.strip_prefix(word)
        .is_some_and(|after| !after.starts_with(char::is_alphanumeric))
}

// ---------------------------------------------------------------------------------------
// Services and choices
// ---------------------------------------------------------------------------------------

fn words(t: &str) -> Vec<&str> {
    t.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A text word matches a word of a service name: equal, a prefix of at least 4 letters
/// either way ("consult" ~ "consultation"), or a small typo ("therapie" ~ "therapy").
fn word_matches(text_word: &str, name_word: &str) -> bool {
    if text_word == name_word {
        return true;
    }
    let common = text_word.len().min(name_word.len());
    if common >= 4 && (name_word.starts_with(text_word) || text_word.starts_with(name_word)) {
        return true;
    }
    let longest = text_word.len().max(name_word.len());
    let allowed = match longest {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    };
    allowed > 0 && levenshtein(text_word, name_word) <= allowed
}

const SERVICE_STOPWORDS: &[&str] = &["a", "an", "the", "of", "and", "for", "with", "to", "in"];

/// The index of the service the text names, matched fuzzily against the tenant's service
/// names ("a consult" → "Consultation", "follow up" → "Follow-up Visit"). A bare number or
/// ordinal ("2", "the second one") picks from the list as presented. `None` when nothing
/// matches or two services match equally well.
pub fn match_service<S: AsRef<str>>(text: &str, names: &[S]) -> Option<usize> {
    let t = es::fold(&normalize(text));
    let tw = words(&t);
    let mut best: Option<(usize, f64)> = None;
    let mut tie = false;
    for (i, name) in names.iter().enumerate() {
        let n = es::fold(&normalize(name.as_ref()));
        let nw: Vec<&str> = words(&n)
            .into_iter()
            .filter(|w| !SERVICE_STOPWORDS.contains(w) && !es::SERVICE_STOPWORDS.contains(w))
            .collect();
        if nw.is_empty() {
            continue;
        }
        let matched = nw
            .iter()
            .filter(|w| tw.iter().any(|x| word_matches(x, w)))
            .count();
        if matched == 0 {
            continue;
        }
        let mut score = matched as f64 / nw.len() as f64;
        if t.contains(n.as_str()) {
            score += 1.0;
        }
        match best {
            Some((_, s)) if (score - s).abs() < 1e-9 => tie = true,
            Some((_, s)) if score < s => {}
            _ => {
                best = Some((i, score));
                tie = false;
            }
        }
    }
    match best {
        Some((i, _)) if !tie => Some(i),
        Some(_) => None,
        None => parse_choice(text, names.len()),
    }
}

const ORDINALS: &[&str] = &[
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

lazy_re!(
    CHOICE_RE,
    r"^(?:(?:i'?ll take|i want|let'?s do|let'?s go with|give me|go with|how about|take)\s+)?(?:the\s+|option\s+|number\s+|no\.?\s*|#\s*)?(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|1st|2nd|3rd|[4-9]th|10th)(?:\s+(?:one|option|slot|time))?(?:\s+(?:please|thanks|thank you))?[.!]?$"
);

/// A pick from a numbered list of `n` options ("2", "the second one", "option 3", "the
/// last one", "la segunda", "opción 3", "la última") as a 0-based index. Only whole short
/// answers count, so "2pm" or "book 2 people" are not choices.
pub fn parse_choice(text: &str, n: usize) -> Option<usize> {
    en_choice(text, n).or_else(|| es::parse_choice(text, n))
}

fn en_choice(text: &str, n: usize) -> Option<usize> {
    let t = normalize(text);
    let t = t.trim_matches(|c: char| c == '.' || c == '!' || c == ',' || c.is_whitespace());
    let caps = CHOICE_RE.captures(t)?;
    let w = caps.get(1)?.as_str();
    let k: usize = if w == "last" {
        n
    } else if let Ok(d) = w.parse::<usize>() {
        d
    } else if let Some(d) = small_number(w) {
        d as usize
    } else if let Some(p) = ORDINALS.iter().position(|o| *o == w) {
        p + 1
    } else {
        w.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse()
            .ok()?
    };
    (1..=n).contains(&k).then(|| k - 1)
}

// ---------------------------------------------------------------------------------------
// Numbers in words
// ---------------------------------------------------------------------------------------

const UNITS: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: &[(&str, u32)] = &[("twenty", 20), ("thirty", 30), ("forty", 40), ("fifty", 50)];

fn small_number(w: &str) -> Option<u32> {
    UNITS.iter().position(|u| *u == w).map(|p| p as u32)
}

const ORDINAL_UNITS: &[(&str, u32)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
    ("sixteenth", 16),
    ("seventeenth", 17),
    ("eighteenth", 18),
    ("nineteenth", 19),
    ("twentieth", 20),
    ("thirtieth", 30),
];

fn ordinal_suffix(n: u32) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Rewrites number words as digits: "twenty first" → "21st", "half past two" → "half past
/// 2", "forty five" → "45". Operates on normalized text.
fn digits_for_words(t: &str) -> String {
    let ws: Vec<&str> = t.split(' ').collect();
    let mut out: Vec<String> = Vec::with_capacity(ws.len());
    let mut i = 0;
    while i < ws.len() {
        let w = ws[i];
        let (core, tail) = split_trailing_punct(w);
        if let Some(&(_, tens)) = TENS.iter().find(|(n, _)| *n == core) {
            // "twenty first" / "thirty one" / "forty five"
            if let Some(next) = ws.get(i + 1) {
                let (nc, ntail) = split_trailing_punct(next);
                if let Some(&(_, u)) = ORDINAL_UNITS.iter().find(|(n, v)| *n == nc && *v < 10) {
                    let v = tens + u;
                    out.push(format!("{v}{}{ntail}", ordinal_suffix(v)));
                    i += 2;
                    continue;
                }
                if let Some(u) = small_number(nc).filter(|u| (1..10).contains(u)) {
                    out.push(format!("{}{ntail}", tens + u));
                    i += 2;
                    continue;
                }
            }
            out.push(format!("{tens}{tail}"));
        } else if let Some(&(_, v)) = ORDINAL_UNITS.iter().find(|(n, _)| *n == core) {
            out.push(format!("{v}{}{tail}", ordinal_suffix(v)));
        } else if let Some(v) = small_number(core) {
            out.push(format!("{v}{tail}"));
        } else if core == "oh" && i > 0 {
            // "two oh five" → "2 05"
            if let Some(u) = ws
                .get(i + 1)
                .and_then(|n| small_number(split_trailing_punct(n).0))
                .filter(|u| (1..10).contains(u))
            {
                out.push(format!("0{u}"));
                i += 2;
                continue;
            }
            out.push(w.to_string());
        } else {
            out.push(w.to_string());
        }
        i += 1;
    }
    out.join(" ")
}

fn split_trailing_punct(w: &str) -> (&str, &str) {
    let core = w.trim_end_matches([',', '.', '!', '?', ';']);
    (core, &w[core.len()..])
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";

fn month_number(m: &str) -> Option<u32> {
    let p = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|x| m.starts_with(x))?;
    Some(p as u32 + 1)
}

fn weekday_of(w: &str) -> Option<Weekday> {
    Some(match w {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tues" | "tue" => Weekday::Tue,
        "wednesday" | "weds" | "wed" => Weekday::Wed,
        "thursday" | "thurs" | "thur" | "thu" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// The next `wd` on or after `from` (strictly after when `strict`).
fn next_weekday(from: NaiveDate, wd: Weekday, strict: bool) -> NaiveDate {
    let mut ahead = (wd.num_days_from_monday() as i64
        - from.weekday().num_days_from_monday() as i64)
        .rem_euclid(7);
    if ahead == 0 && strict {
        ahead = 7;
    }
    from + Duration::days(ahead)
}

/// Month/day without a year: this year's, or next year's once it has passed.
fn upcoming_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(today.year(), month, day);
    match this {
        Some(d) if d >= today => Some(d),
        _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
    }
}

/// The next day-of-month `day` on or after today.
fn upcoming_day_of_month(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    if !(1..=31).contains(&day) {
        return None;
    }
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..13 {
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, day) {
            if d >= today {
                return Some(d);
            }
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    None
}

fn with_year(y: Option<&str>, today: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    match y {
        Some(y) => {
            let mut y: i32 = y.parse().ok()?;
            if y < 100 {
                y += 2000;
            }
            NaiveDate::from_ymd_opt(y, m, d)
        }
        None => upcoming_month_day(today, m, d),
    }
}

lazy_re!(ISO_DATE_RE, r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b");
lazy_re!(IN_DAYS_RE, r"\bin (\d{1,3}|a) (day|days|week|weeks)\b");
static MONTH_DAY_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b({MONTHS})\.? (?:the )?(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,? (\d{{4}}))?"
    ))
});
static DAY_MONTH_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({MONTHS})\b\.?(?:,? (\d{{4}}))?"
    ))
});
lazy_re!(SLASH_DATE_RE, r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b");
lazy_re!(ORDINAL_DAY_RE, r"\b(?:on|the) (\d{1,2})(?:st|nd|rd|th)\b");
lazy_re!(
    WEEKDAY_RE,
    r"\b(?:(next|this|coming|on) )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tues|weds|thurs|thur)s?\b"
);

/// A calendar date named in the text, resolved against `today` (the tenant's local date).
/// Text that leans Spanish is read as Spanish first (so "el 3/4" is the 3rd of April),
/// anything else as English first.
pub fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    if es::leans_spanish(text) {
        es::parse_date(text, today).or_else(|| en_date(text, today))
    } else {
        en_date(text, today).or_else(|| es::parse_date(text, today))
    }
}

fn en_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let t = digits_for_words(&normalize(text));
    if let Some(c) = ISO_DATE_RE.captures(&t) {
        return NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    }
    if t.contains("day after tomorrow") {
        return Some(today + Duration::days(2));
    }
    if words(&t)
        .iter()
        .any(|w| matches!(*w, "tomorrow" | "tmrw" | "tmr" | "tomorow" | "tommorow"))
    {
        return Some(today + Duration::days(1));
    }
    if words(&t).iter().any(|w| matches!(*w, "today" | "tonight"))
        || t.contains("this morning")
        || t.contains("this afternoon")
        || t.contains("this evening")
    {
        return Some(today);
    }
    if let Some(c) = IN_DAYS_RE.captures(&t) {
        let n: i64 = if &c[1] == "a" { 1 } else { c[1].parse().ok()? };
        let days = if c[2].starts_with("week") { n * 7 } else { n };
        return Some(today + Duration::days(days));
    }
    if let Some(c) = MONTH_DAY_RE.captures(&t) {
        let m = month_number(&c[1])?;
        return with_year(c.get(3).map(|x| x.as_str()), today, m, c[2].parse().ok()?);
    }
    if let Some(c) = DAY_MONTH_RE.captures(&t) {
        let m = month_number(&c[2])?;
        return with_year(c.get(3).map(|x| x.as_str()), today, m, c[1].parse().ok()?);
    }
    if let Some(c) = SLASH_DATE_RE.captures(&t) {
        let (m, d) = (c[1].parse().ok()?, c[2].parse().ok()?);
        return with_year(c.get(3).map(|x| x.as_str()), today, m, d);
    }
    if let Some(c) = ORDINAL_DAY_RE.captures(&t) {
        return upcoming_day_of_month(today, c[1].parse().ok()?);
    }
    if let Some(c) = WEEKDAY_RE.captures(&t) {
        let wd = weekday_of(&c[2])?;
        let strict = c.get(1).map(|m| m.as_str()) == Some("next");
        return Some(next_weekday(today, wd, strict));
    }
    None
}

/// [`parse_date`] with `today` taken as `now`'s date in the tenant's zone.
pub fn resolve_date(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<NaiveDate> {
    parse_date(text, now.with_timezone(&tz).date_naive())
}

/// A date range named in the text: "this week" (today to Sunday), "next week" (Monday to
/// Sunday), "this weekend", "next few days" (and "esta semana", "la semana que viene", "el
/// fin de semana", "los próximos días"), or a single date as a one-day range.
pub fn parse_date_range(text: &str, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let t = normalize(text);
    let to_sunday =
        |d: NaiveDate| d + Duration::days(6 - d.weekday().num_days_from_monday() as i64);
    if t.contains("next week") {
        let monday = next_weekday(today, Weekday::Mon, true);
        return Some((monday, monday + Duration::days(6)));
    }
    if t.contains("this week") || t.contains("later this week") || t.contains("rest of the week") {
        return Some((today, to_sunday(today)));
    }
    if t.contains("weekend") {
        let sat = next_weekday(today, Weekday::Sat, t.contains("next weekend"));
        return Some((sat, sat + Duration::days(1)));
    }
    if t.contains("next few days") || t.contains("coming days") {
        return Some((today, today + Duration::days(3)));
    }
    es::parse_date_range(text, today).or_else(|| parse_date(text, today).map(|d| (d, d)))
}

// ---------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayPeriod {
    Morning,
    Afternoon,
    Evening,
}

impl DayPeriod {
    /// Whether a local wall-clock time falls in this period (morning < 12:00, afternoon
    /// 12:00–17:00, evening ≥ 17:00).
    pub fn contains(self, t: NaiveTime) -> bool {
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap_or_default();
        let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default();
        match self {
            DayPeriod::Morning => t < noon,
            DayPeriod::Afternoon => t >= noon && t < five,
            DayPeriod::Evening => t >= five,
        }
    }
}

/// A time of day the person asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum TimeSpec {
    At(NaiveTime),
    Period(DayPeriod),
}

lazy_re!(HM_RE, r"\b(\d{1,2}):(\d{2})\s*(am|pm)?\b");
lazy_re!(H_AMPM_RE, r"\b(\d{1,2})(?:\s(\d{2}))?\s*(am|pm)\b");
lazy_re!(OCLOCK_RE, r"\b(\d{1,2})\s*o'?\s?clock\b");
lazy_re!(
    PAST_RE,
    r"\b(half|quarter|(\d{1,2}) minutes?) (past|after|to|til|till|before) (\d{1,2})\b(?:\s*(am|pm))?"
);
lazy_re!(
    H_MM_WORDS_RE,
    r"\b(\d{1,2}) (15|30|45|[0-5]\d)\b(?:\s*(am|pm))?"
);
lazy_re!(
    AT_H_RE,
    r"\b(?:at|around|about|by) (\d{1,2})\b(?:\s*(am|pm))?"
);

/// 24-hour time from an hour, minute and optional am/pm, with the business-hours reading of
/// a bare hour (1–7 → afternoon).
fn clock_time(h: u32, m: u32, ampm: Option<&str>) -> Option<NaiveTime> {
    let h = match ampm {
        Some("am") if (1..=12).contains(&h) => h % 12,
        Some("pm") if (1..=12).contains(&h) => h % 12 + 12,
        Some(_) => return None,
        None if (1..=7).contains(&h) => h + 12,
        None => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// A time of day: "3pm", "3:30 pm", "15:30", "noon", "half past two", "quarter to four",
/// "two thirty", "at 3", "a las tres y media", "a las cuatro menos cuarto", "3 de la
/// tarde", or a period ("morning", "afternoon", "evening", "por la mañana", "temprano",
/// "en la noche"). A Spanish clock time is read first (it only answers with a Spanish cue,
/// and "9:30 de la noche" is 21:30), then English, then a Spanish period.
pub fn parse_time(text: &str) -> Option<TimeSpec> {
    es::parse_time(text)
        .or_else(|| en_time(text))
        .or_else(|| es::parse_period(text).map(TimeSpec::Period))
}

fn en_time(text: &str) -> Option<TimeSpec> {
    let t = digits_for_words(&normalize(text));
    if let Some(c) = HM_RE.captures(&t) {
        let time = clock_time(
            c[1].parse().ok()?,
            c[2].parse().ok()?,
            c.get(3).map(|m| m.as_str()),
        )?;
        return Some(TimeSpec::At(time));
    }
    if let Some(c) = H_AMPM_RE.captures(&t) {
        let m = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
        return clock_time(c[1].parse().ok()?, m, Some(&c[3])).map(TimeSpec::At);
    }
    if let Some(c) = OCLOCK_RE.captures(&t) {
        return clock_time(c[1].parse().ok()?, 0, None).map(TimeSpec::At);
    }
    let w = words(&t);
    if w.iter()
        .any(|x| matches!(*x, "noon" | "midday" | "lunchtime"))
    {
        return NaiveTime::from_hms_opt(12, 0, 0).map(TimeSpec::At);
    }
    if let Some(c) = PAST_RE.captures(&t) {
        let mins: i64 = match &c[1] {
            "half" => 30,
            "quarter" => 15,
            _ => c.get(2)?.as_str().parse().ok()?,
        };
        if !(1..60).contains(&mins) {
            return None;
        }
        let hour: u32 = c[4].parse().ok()?;
        let base = clock_time(hour, 0, c.get(5).map(|m| m.as_str()))?;
        let before = matches!(&c[3], "to" | "til" | "till" | "before");
        let delta = if before { -mins } else { mins };
        return Some(TimeSpec::At(base + Duration::minutes(delta)));
    }
    if let Some(c) = H_MM_WORDS_RE.captures(&t) {
        let h: u32 = c[1].parse().ok()?;
        if (1..=12).contains(&h) {
            let m: u32 = c[2].parse().ok()?;
            return clock_time(h, m, c.get(3).map(|m| m.as_str())).map(TimeSpec::At);
        }
    }
    if let Some(c) = AT_H_RE.captures(&t) {
        // "at 3" but not "at 3rd" / a date like "the 14th at ..." (handled by the \b).
        let end = c.get(1)?.end();
        let next = t[end..].chars().next();
        if !matches!(next, Some('s' | 'n' | 'r' | 't' | '/' | '-')) {
            return clock_time(c[1].parse().ok()?, 0, c.get(2).map(|m| m.as_str()))
                .map(TimeSpec::At);
        }
    }
    if w.contains(&"morning") || w.contains(&"am") {
        return Some(TimeSpec::Period(DayPeriod::Morning));
    }
    if w.contains(&"afternoon") || t.contains("after lunch") || w.contains(&"pm") {
        return Some(TimeSpec::Period(DayPeriod::Afternoon));
    }
    if w.contains(&"evening") || w.contains(&"tonight") || t.contains("after work") {
        return Some(TimeSpec::Period(DayPeriod::Evening));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------------------

lazy_re!(
    EMAIL_RE,
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
);

fn email_joiner(w: &str, in_domain: bool) -> Option<&'static str> {
    Some(match w {
        "dot" | "period" | "point" | "." => ".",
        "dash" | "hyphen" | "-" => "-",
        "underscore" | "_" if !in_domain => "_",
        "plus" | "+" if !in_domain => "+",
        _ => return None,
    })
}

fn email_word(w: &str) -> bool {
    !w.is_empty()
        && w.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        && w.chars().any(|c| c.is_alphanumeric())
        && !matches!(
            w,
            "is" | "my" | "email" | "mail" | "address" | "its" | "it's" | "and" | "at"
        )
}

fn domain_word(w: &str) -> bool {
    w.chars().any(char::is_alphanumeric)
        && w.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
        && email_joiner(w, true).is_none()
}

/// An email address typed ("Jane.Doe@Example.com") or spoken ("jane dot doe at gmail dot
/// com", "j a n e at example dot org", "jane underscore doe at mail dot example dot com",
/// "juan punto perez arroba gmail punto com", "ana guion bajo ruiz arroba correo punto es").
pub fn extract_email(text: &str) -> Option<Email> {
    if let Some(m) = EMAIL_RE.find(text) {
        if let Ok(e) = Email::parse(m.as_str().trim_end_matches('.')) {
            return Some(e);
        }
    }
    spoken_email(&normalize(text))
        .or_else(|| es::email_as_english(text).and_then(|t| spoken_email(&t)))
}

/// An email spoken with the English words ("dot", "at", "dash", …) in normalized text.
fn spoken_email(t: &str) -> Option<Email> {
    let t = t
        .replace(" at sign ", " at ")
        .replace(" at symbol ", " at ");
    let toks: Vec<&str> = t
        .split([' ', ','])
        .map(|w| w.trim_end_matches(['!', '?', ';', ':']))
        .map(|w| {
            if w.len() > 1 {
                w.trim_end_matches('.')
            } else {
                w
            }
        })
        .filter(|w| !w.is_empty())
        .collect();
    for (i, tok) in toks.iter().enumerate().rev() {
        if *tok != "at" && *tok != "@" {
            continue;
        }
        // Local part: walk back over `word (joiner word)*` and runs of spelled letters.
        let mut j = i;
        let mut local: Vec<String> = Vec::new();
        if j == 0 || !email_word(toks[j - 1]) {
            continue;
        }
        j -= 1;
        local.push(toks[j].to_string());
        loop {
            let leftmost_single = local.last().is_some_and(|s| s.chars().count() == 1);
            if j >= 2 && email_joiner(toks[j - 1], false).is_some() && email_word(toks[j - 2]) {
                local.push(email_joiner(toks[j - 1], false).unwrap_or(".").to_string());
                local.push(toks[j - 2].to_string());
                j -= 2;
            } else if j >= 1
                && leftmost_single
                && toks[j - 1].chars().count() == 1
                && toks[j - 1].chars().all(char::is_alphanumeric)
            {
                local.push(toks[j - 1].to_string());
                j -= 1;
            } else {
                break;
            }
        }
        local.reverse();
        // Domain: `word (dot word)+`, or a word that already has its dots.
        let mut k = i + 1;
        let mut domain = String::new();
        if k >= toks.len() || !domain_word(toks[k]) {
            continue;
        }
        domain.push_str(toks[k]);
        k += 1;
        while k + 1 < toks.len() {
            match email_joiner(toks[k], true) {
                Some(sep) if domain_word(toks[k + 1]) => {
                    domain.push_str(sep);
                    domain.push_str(toks[k + 1]);
                    k += 2;
                }
                _ => break,
            }
        }
        let candidate = format!("{}@{}", local.concat(), domain);
        if let Ok(e) = Email::parse(&candidate) {
            return Some(e);
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------

lazy_re!(
    NAME_INTRO_RE,
    r"(?i)\b(?:my name is|my name's|name is|name's|i am|i'm|im|this is|it's|it is|call me|the name is)\s+(.+)"
);

const NAME_STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "also",
    "an",
    "and",
    "any",
    "at",
    "available",
    "back",
    "book",
    "booking",
    "busy",
    "but",
    "calling",
    "can",
    "cancel",
    "checking",
    "confused",
    "curious",
    "done",
    "email",
    "fine",
    "for",
    "free",
    "from",
    "glad",
    "going",
    "good",
    "great",
    "happy",
    "here",
    "hoping",
    "in",
    "interested",
    "just",
    "looking",
    "my",
    "need",
    "new",
    "no",
    "not",
    "now",
    "of",
    "ok",
    "okay",
    "on",
    "phone",
    "please",
    "ready",
    "really",
    "reschedule",
    "sorry",
    "so",
    "still",
    "sure",
    "that",
    "the",
    "thinking",
    "to",
    "tomorrow",
    "today",
    "trying",
    "very",
    "wanting",
    "well",
    "with",
    "wondering",
    "would",
    "yes",
    "your",
    "you",
    "is",
    "was",
    "will",
    "im",
    "i",
    "and",
    "call",
    "there",
    "what",
    "who",
    "how",
    "why",
    "when",
    "where",
    "this",
    "it",
    "thanks",
    "thank",
    "hi",
    "hello",
    "hey",
];

fn name_word(w: &str) -> bool {
    let core = w.trim_end_matches(['.', ',']);
    !core.is_empty()
        && core
            .chars()
            .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && core.chars().next().is_some_and(char::is_alphabetic)
        && !NAME_STOPWORDS.contains(&core.to_lowercase().as_str())
}

fn title_case_if_lower(s: &str) -> String {
    if s.chars().any(char::is_uppercase) {
        return s.to_string();
    }
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn take_name_words(rest: &str, max: usize) -> Option<ClientName> {
    let mut taken: Vec<&str> = Vec::new();
    for w in rest.split_whitespace() {
        if taken.len() == max || !name_word(w) {
            break;
        }
        let ends_clause = w.ends_with([',', '.']);
        taken.push(w.trim_end_matches(['.', ',']));
        if ends_clause {
            break;
        }
    }
    if taken.is_empty() {
        return None;
    }
    ClientName::parse(&title_case_if_lower(&taken.join(" "))).ok()
}

/// A person's name introduced in the text: "my name is Jane Doe", "I'm Jane", "this is Ana
/// Lopez calling", "me llamo Ana López", "soy María de la Cruz", "a nombre de Juan Pérez".
/// Names are 1–4 words of letters (hyphens and apostrophes allowed; Spanish particles
/// "de/del/la" inside); all-lower-case names are title-cased. "I'm looking for…" and "soy
/// nueva" are not names.
pub fn extract_name(text: &str) -> Option<ClientName> {
    let t = text.replace(['\u{2019}', '\u{2018}'], "'");
    NAME_INTRO_RE
        .captures_iter(&t)
        .find_map(|c| take_name_words(c.get(1)?.as_str(), 4))
        .or_else(|| es::extract_name(&t))
}

/// The answer to "what is your name?": an introduction as in [`extract_name`], or the bare
/// name itself ("Jane Doe", "sure, it's jane"). Refuses anything with digits, an `@`, or
/// more than four words.
pub fn parse_name_reply(text: &str) -> Option<ClientName> {
    if let Some(n) = extract_name(text) {
        return Some(n);
    }
    let t = text.trim().trim_end_matches(['.', '!']);
    let lower = t.to_lowercase();
    let t = [
        "sure, ", "sure ", "yes, ", "yes ", "ok, ", "ok ", "it's ", "its ",
    ]
    .iter()
    .chain(es::NAME_REPLY_PREFIXES)
    .find_map(|p| (lower.starts_with(p) && t.is_char_boundary(p.len())).then(|| &t[p.len()..]))
    .unwrap_or(t)
    .trim();
    let ws: Vec<&str> = t.split_whitespace().collect();
    if ws.is_empty() || ws.len() > 4 || t.contains('@') || t.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if !ws.iter().all(|w| name_word(w) && !es::is_reply_stopword(w)) {
        return None;
    }
    ClientName::parse(&title_case_if_lower(&ws.join(" "))).ok()
}

// ---------------------------------------------------------------------------------------
// Reference codes
// ---------------------------------------------------------------------------------------

const NATO: &[(&str, char)] = &[
    ("alpha", 'A'),
    ("alfa", 'A'),
    ("bravo", 'B'),
    ("charlie", 'C'),
    ("delta", 'D'),
    ("echo", 'E'),
    ("foxtrot", 'F'),
    ("golf", 'G'),
    ("hotel", 'H'),
    ("india", 'I'),
    ("juliet", 'J'),
    ("juliett", 'J'),
    ("kilo", 'K'),
    ("lima", 'L'),
    ("mike", 'M'),
    ("november", 'N'),
    ("oscar", 'O'),
    ("papa", 'P'),
    ("quebec", 'Q'),
    ("romeo", 'R'),
    ("sierra", 'S'),
    ("tango", 'T'),
    ("uniform", 'U'),
    ("victor", 'V'),
    ("whiskey", 'W'),
    ("whisky", 'W'),
    ("xray", 'X'),
    ("yankee", 'Y'),
    ("zulu", 'Z'),
];

enum RefTok {
    Chars(String),
    Sep,
    Break,
}

fn ref_token(orig: &str, spanish: bool) -> RefTok {
    let lower = orig.to_lowercase();
    if matches!(lower.as_str(), "dash" | "hyphen" | "-" | "minus") {
        return RefTok::Sep;
    }
    if spanish {
        if es::is_dash_word(&lower) {
            return RefTok::Sep;
        }
        if let Some(c) = es::spelled_char(&lower) {
            return RefTok::Chars(c.to_string());
        }
    }
    if orig.chars().count() == 1 && orig.chars().all(|c| c.is_ascii_alphanumeric()) {
        return RefTok::Chars(orig.to_ascii_uppercase());
    }
    if let Some((_, c)) = NATO.iter().find(|(w, _)| *w == lower) {
        return RefTok::Chars(c.to_string());
    }
    if let Some(d) = small_number(&lower).filter(|d| *d < 10) {
        return RefTok::Chars(d.to_string());
    }
    // A chunk written in capitals or digits ("ABCD", "7K") inside a spelled sequence.
    if (2..=8).contains(&orig.len())
        && orig
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return RefTok::Chars(orig.to_string());
    }
    RefTok::Break
}

fn typed_reference(text: &str) -> Option<ReferenceCode> {
    let toks: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .flat_map(|w| {
            // keep a lone '-' as its own token, strip dashes at the edges otherwise
            if w == "-" {
                vec![w]
            } else {
                vec![w.trim_matches('-')]
            }
        })
        .filter(|w| !w.is_empty())
        .collect();
    let confident = |s: &str| {
        s.chars().any(|c| c.is_ascii_digit()) || s.chars().all(|c| !c.is_ascii_lowercase())
    };
    for (i, w) in toks.iter().enumerate() {
        let plain: String = w.chars().filter(|c| *c != '-').collect();
        if plain.len() == 8 && plain.chars().all(|c| c.is_ascii_alphanumeric()) {
            let dashed = w.len() == 9 && w.as_bytes().get(4) == Some(&b'-');
            if dashed || confident(w) {
                if let Ok(r) = ReferenceCode::parse(&plain) {
                    return Some(r);
                }
            }
        }
        if w.len() == 4 && w.chars().all(|c| c.is_ascii_alphanumeric()) {
            let mut k = i + 1;
            if toks.get(k) == Some(&"-") {
                k += 1;
            }
            if let Some(next) = toks.get(k) {
                if next.len() == 4 && next.chars().all(|c| c.is_ascii_alphanumeric()) {
                    let both = format!("{w}{next}");
                    if confident(&both) || k == i + 2 {
                        if let Ok(r) = ReferenceCode::parse(&both) {
                            return Some(r);
                        }
                    }
                }
            }
        }
    }
    None
}

fn spelled_reference(text: &str) -> Option<ReferenceCode> {
    // Spanish letter names ("be", "de", "te") are English words too: only in Spanish text.
    let spanish = es::leans_spanish(text);
    let t = text.replace("x-ray", "xray").replace("X-ray", "xray");
    let toks: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':' | '!' | '?'))
        .filter(|w| !w.is_empty())
        .collect();
    // Runs of characters, each char tagged with whether a separator came right before it.
    let mut runs: Vec<Vec<(char, bool)>> = vec![Vec::new()];
    let mut sep_pending = false;
    for tok in toks {
        match ref_token(tok, spanish) {
            RefTok::Chars(s) => {
                let run = runs.last_mut()?;
                for (n, c) in s.chars().enumerate() {
                    run.push((c, n == 0 && sep_pending));
                }
                sep_pending = false;
            }
            RefTok::Sep => sep_pending = true,
            RefTok::Break => {
                runs.push(Vec::new());
                sep_pending = false;
            }
        }
    }
    for run in runs.iter().filter(|r| r.len() >= 8) {
        let starts: Vec<usize> = (0..=run.len() - 8).collect();
        // Prefer a window with the dash after its 4th character, then the last window.
        let mut order: Vec<usize> = starts.iter().copied().filter(|s| run[s + 4].1).collect();
        order.extend(starts.iter().rev().copied());
        for s in order {
            let code: String = run[s..s + 8].iter().map(|(c, _)| *c).collect();
            if let Ok(r) = ReferenceCode::parse(&code) {
                return Some(r);
            }
        }
    }
    None
}

lazy_re!(PHONE_RE, r"\+\d[\d \-.()]{6,20}\d");

/// A phone number typed in international form ("+1 555 555 0142", "+44 20-7946-0958").
/// Only numbers written with their leading `+` are taken, so dates, times and choices
/// ("the 2nd", "10:30") never read as one.
pub fn extract_phone(text: &str) -> Option<PhoneE164> {
    PHONE_RE
        .find_iter(text)
        .find_map(|m| PhoneE164::parse(m.as_str()).ok())
}

/// A booking reference typed ("ABCD-EFGH", "abcd-efgh", "7KQ2 M9XA") or spelled out ("A B C
/// D dash E F G H", "alpha bravo charlie delta echo foxtrot golf hotel", "seven K Q two…").
/// Two undashed lower-case words ("want next") are not taken for a code unless they hold a
/// digit.
pub fn extract_reference(text: &str) -> Option<ReferenceCode> {
    typed_reference(text).or_else(|| spelled_reference(text))
}

// ---------------------------------------------------------------------------------------
// Vague requests and time zones
// ---------------------------------------------------------------------------------------

lazy_re!(
    VAGUE_COUNT_RE,
    r"\b(?:next|first|the) (\d+|two|three|four|five|six|seven|eight|nine|ten|dozen|[a-z]+ty(?: [a-z]+)?) (?:available|open|free|slots?|openings?|times?|appointments?|spots?)\b"
);
lazy_re!(
    VAGUE_ALL_RE,
    r"\b(?:all|every|each)(?: of)?(?: the| your)? (?:available |open |free )?(?:slots?|times?|openings?|availability|appointments?|spots?|dates?|days?)\b|\bwhatever(?:'s| is)? (?:available|open|free)\b|\b(?:everything|anything) (?:you have|available|open)\b"
);

/// A request too vague to act on without a clarifying question: "the next 24 available",
/// "all your openings", "whatever is free". "The next available" (one slot) is not vague.
pub fn is_vague_request(text: &str) -> bool {
    let t = normalize(text);
    VAGUE_COUNT_RE.is_match(&t) || VAGUE_ALL_RE.is_match(&t) || es::is_vague_request(text)
}

/// The client asks for the first opening rather than a date ("as soon as possible", "next
/// available", "any day", "lo antes posible", "el primer hueco", "cuando sea").
pub fn is_next_available(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "earliest",
        "soonest",
        "as soon as possible",
        "asap",
        "next available",
        "first available",
        "any day",
        "anytime",
        "any time",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || es::is_next_available(text)
}

lazy_re!(
    ZONE_WORD_RE,
    r"\b(eastern|central|mountain|pacific|alaska|hawaii|arizona|atlantic)(?: standard| daylight)?(?: time| timezone| time zone)\b"
);
lazy_re!(
    ZONE_ABBR_RE,
    r"\b(EST|EDT|CST|CDT|MST|MDT|PST|PDT|AKST|HST|GMT|UTC|BST|CET|CEST)\b"
);
lazy_re!(
    ZONE_IANA_RE,
    r"\b([A-Z][A-Za-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b"
);

/// A time zone the person says they are in: "Pacific time", "PST", "Europe/London", "hora
/// del Pacífico", "hora de México".
pub fn extract_time_zone(text: &str) -> Option<TimeZone> {
    en_time_zone(text).or_else(|| es::extract_time_zone(text))
}

fn en_time_zone(text: &str) -> Option<TimeZone> {
    if let Some(c) = ZONE_IANA_RE.captures(text) {
        if let Ok(z) = TimeZone::parse(&c[1]) {
            return Some(z);
        }
    }
    let name = if let Some(c) = ZONE_WORD_RE.captures(&normalize(text)) {
        match &c[1] {
            "eastern" => "America/New_York",
            "central" => "America/Chicago",
            "mountain" => "America/Denver",
            "pacific" => "America/Los_Angeles",
            "alaska" => "America/Anchorage",
            "hawaii" => "Pacific/Honolulu",
            "arizona" => "America/Phoenix",
            _ => "America/Halifax",
        }
    } else if let Some(c) = ZONE_ABBR_RE.captures(text) {
        match &c[1] {
            "EST" | "EDT" => "America/New_York",
            "CST" | "CDT" => "America/Chicago",
            "MST" | "MDT" => "America/Denver",
            "PST" | "PDT" => "America/Los_Angeles",
            "AKST" => "America/Anchorage",
            "HST" => "Pacific/Honolulu",
            "BST" => "Europe/London",
            "CET" | "CEST" => "Europe/Paris",
            _ => "UTC",
        }
    } else {
        return None;
    };
    TimeZone::parse(name).ok()
}

// ---------------------------------------------------------------------------------------
// Notes, follow-up requests, questions about the services
// ---------------------------------------------------------------------------------------

lazy_re!(
    NOTE_RE,
    r"(?is)^\s*(?:(?:please|pls|can you|could you|would you|will you|i'?d like to|i want to)\s+)?(?:(?:add|make|leave|take|put)\s+(?:a\s+)?)?note\b(?:\s+(?:down|that|this|for me))*\s*[:,\-]?\s*(.+)$"
);
lazy_re!(
    PLEASE_NOTE_RE,
    r"(?is)^\s*please\s+note(?:\s+that)?\s*[:,\-]?\s*(.+)$"
);

/// The note the client asks to add to their booking ("note: I'd like the window seat",
/// "can you note that I use a wheelchair", "please note …", "nota: …", "¿puede anotar que
/// …?"), trimmed; `None` when the message is not a note.
pub fn extract_note(text: &str) -> Option<String> {
    en_note(text).or_else(|| es::extract_note(text))
}

fn en_note(text: &str) -> Option<String> {
    let caps = PLEASE_NOTE_RE
        .captures(text)
        .or_else(|| NOTE_RE.captures(text))?;
    let note = caps.get(1)?.as_str().trim();
    (note.chars().filter(|c| c.is_alphanumeric()).count() >= 2).then(|| note.to_string())
}

lazy_re!(
    FOLLOWUP_RE,
    r"\b(?:call me (?:back|later|tomorrow|today)|please call me|(?:can|could|would|will) (?:you|someone|somebody|anyone|a person|the team|staff) (?:please )?(?:call|phone|ring|email|e mail|text|contact|reach) me|call ?back|(?:contact|reach|email|e mail) me|get back to me|(?:have|get|ask) (?:someone|somebody|a person|the team|staff|a human|the office) (?:to )?(?:call|phone|email|e mail|text|contact|reach|get back to|follow up)|follow up with me|(?:someone|somebody) (?:to )?(?:call|email|contact|text) me)\b"
);
lazy_re!(FOLLOWUP_CALL_RE, r"\b(?:call|phone|ring)\b");
lazy_re!(FOLLOWUP_SMS_RE, r"\b(?:text|sms)\b");

/// How the client asked to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowupAsk {
    /// By phone: we cannot call, so the answer says so and offers a message instead.
    Call,
    Email,
    Sms,
}

/// The client asks to be contacted later ("call me back", "have someone email me",
/// "llámenme", "prefiero que me llamen", "que me escriban un correo").
pub fn followup_request(text: &str) -> Option<FollowupAsk> {
    en_followup(text).or_else(|| es::followup_request(text))
}

fn en_followup(text: &str) -> Option<FollowupAsk> {
    let t = normalize(text);
    if !FOLLOWUP_RE.is_match(&t) {
        return None;
    }
    Some(if FOLLOWUP_CALL_RE.is_match(&t) {
        FollowupAsk::Call
    } else if FOLLOWUP_SMS_RE.is_match(&t) {
        FollowupAsk::Sms
    } else {
        FollowupAsk::Email
    })
}

lazy_re!(
    SERVICES_RE,
    r"\b(?:what|which) (?:services|treatments|kinds? of (?:appointments?|services)|types? of (?:appointments?|services))\b|\bwhat (?:do|does) (?:you|the \w+|your \w+) (?:offer|do|provide)\b|\b(?:list|menu) of (?:services|treatments)\b|\b(?:your|the) (?:services|prices|price list)\b|\bhow long (?:is|does|do|will|are)\b|\bhow much (?:is|does|do|are|for|will)\b|\b(?:price|prices|pricing|cost|costs)\b"
);

/// The client asks what the services are, how long or how much one is ("what services do
/// you offer?", "¿qué servicios tienen?", "¿cuánto cuesta?").
pub fn is_services_question(text: &str) -> bool {
    SERVICES_RE.is_match(&normalize(text)) || es::is_services_question(text)
}

/// The client asks what something costs ("how much", "price", "¿cuánto cuesta?").
pub fn is_price_question(text: &str) -> bool {
    let lower = normalize(text);
    ["how much", "price", "cost"]
        .iter()
        .any(|w| lower.contains(w))
        || es::is_price_question(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn hm(h: u32, m: u32) -> Option<TimeSpec> {
        Some(TimeSpec::At(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
    }

    #[test]
    fn leaving_the_waitlist_is_not_joining_it() {
        for t in [
            "take me off the waitlist",
            "Please remove me from the waiting list",
            "I want to leave the wait list",
            "cancel my waitlist entry",
            "I don't need the waitlist anymore",
        ] {
            assert!(is_leave_waitlist(t), "{t}");
        }
        for t in [
            "put me on the waitlist",
            "cancel my booking",
            "add me to the list",
        ] {
            assert!(!is_leave_waitlist(t), "{t}");
        }
    }

    #[test]
    fn phones_need_their_plus() {
        assert_eq!(
            extract_phone("text me at +1 (555) 555-0142 please").map(|p| p.as_str().to_string()),
            Some("+15555550142".into())
        );
        assert_eq!(
            extract_phone("jane@example.com, +44 20 7946 0958").map(|p| p.as_str().to_string()),
            Some("+442079460958".into())
        );
        assert!(extract_phone("555 555 0142").is_none());
        assert!(extract_phone("December 8 at 10:30, option 2").is_none());
        assert!(extract_phone("+12").is_none());
    }

    #[test]
    fn intents() {
        use Intent::*;
        let cases: &[(&str, Option<Intent>)] = &[
            ("I'd like to book an appointment", Some(Book)),
            ("Do you have anything available tomorrow?", Some(Book)),
            ("can I schedule a consultation", Some(Book)),
            ("I need to reschedule my appointment", Some(Reschedule)),
            ("can we move it to Friday", Some(Reschedule)),
            ("I want a different time", Some(Reschedule)),
            ("please cancel my booking", Some(Cancel)),
            ("I have to call it off", Some(Cancel)),
            ("when is my appointment?", Some(Lookup)),
            ("can you look up my booking", Some(Lookup)),
            ("put me on the waitlist", Some(Waitlist)),
            ("let me know if something opens up", Some(Waitlist)),
            ("can you text me a link", Some(HandoffToText)),
            ("just send me a link please", Some(HandoffToText)),
            ("help", Some(Help)),
            ("what can you do?", Some(Help)),
            ("can I speak to a real person", Some(Help)),
            ("no thanks, bye", Some(Goodbye)),
            ("that's all", Some(Goodbye)),
            ("purple monkey dishwasher", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(detect_intent(text), *want, "{text:?}");
        }
        assert!(is_handoff_request("Text me the link"));
        assert!(!is_handoff_request("I'd like to book"));
    }

    #[test]
    fn yes_and_no() {
        for y in [
            "yes",
            "Yeah sure",
            "yep that works",
            "OK",
            "confirm",
            "sounds good!",
            "that's right",
            "yes, but not Friday",
        ] {
            assert_eq!(yes_no(y), Some(YesNo::Yes), "{y:?}");
        }
        for n in [
            "no",
            "Nope",
            "no, not yet",
            "that's not right",
            "don't",
            "wrong",
            "never mind",
        ] {
            assert_eq!(yes_no(n), Some(YesNo::No), "{n:?}");
        }
        assert_eq!(yes_no("blue"), None);
        assert_eq!(yes_no("I know"), None, "'know' is not 'no'");
    }

    #[test]
    fn services() {
        let names = ["Consultation", "Follow-up Visit", "Therapy Session"];
        assert_eq!(match_service("a consult", &names), Some(0));
        assert_eq!(
            match_service("I'd like a consultation please", &names),
            Some(0)
        );
        assert_eq!(match_service("consultaton", &names), Some(0), "typo");
        assert_eq!(match_service("follow up", &names), Some(1));
        assert_eq!(match_service("a followup visit", &names), Some(1));
        assert_eq!(match_service("therapy", &names), Some(2));
        assert_eq!(match_service("THERAPY SESSION", &names), Some(2));
        assert_eq!(match_service("the second one", &names), Some(1));
        assert_eq!(match_service("3", &names), Some(2));
        assert_eq!(match_service("a haircut", &names), None);
        assert_eq!(match_service("", &names), None);
        // equally good matches are ambiguous
        assert_eq!(
            match_service("session", &["Short Session", "Long Session"]),
            None
        );
        assert_eq!(
            match_service("long session", &["Short Session", "Long Session"]),
            Some(1)
        );
    }

    #[test]
    fn choices() {
        assert_eq!(parse_choice("2", 3), Some(1));
        assert_eq!(parse_choice("the first one", 3), Some(0));
        assert_eq!(parse_choice("Option 3", 3), Some(2));
        assert_eq!(parse_choice("I'll take the second one please", 3), Some(1));
        assert_eq!(parse_choice("last", 4), Some(3));
        assert_eq!(parse_choice("#2", 3), Some(1));
        assert_eq!(parse_choice("4", 3), None);
        assert_eq!(parse_choice("0", 3), None);
        assert_eq!(parse_choice("2pm", 3), None);
        assert_eq!(parse_choice("book 2 people", 3), None);
    }

    #[test]
    fn dates_relative_and_absolute() {
        // Thursday 2026-12-10
        let today = d(2026, 12, 10);
        assert_eq!(today.weekday(), Weekday::Thu);
        let cases: &[(&str, NaiveDate)] = &[
            ("today", today),
            ("tomorrow please", d(2026, 12, 11)),
            ("the day after tomorrow", d(2026, 12, 12)),
            ("in 3 days", d(2026, 12, 13)),
            ("in a week", d(2026, 12, 17)),
            ("Friday", d(2026, 12, 11)),
            ("this thursday", today),
            ("next Thursday", d(2026, 12, 17)),
            ("next Tuesday", d(2026, 12, 15)),
            ("on tuesday at 3", d(2026, 12, 15)),
            ("the 14th", d(2026, 12, 14)),
            ("on the 3rd", d(2027, 1, 3)),
            ("the fourteenth", d(2026, 12, 14)),
            ("the twenty first", d(2026, 12, 21)),
            ("December 3", d(2027, 12, 3)),
            ("Dec 24th", d(2026, 12, 24)),
            ("january 5", d(2027, 1, 5)),
            ("3rd of March", d(2027, 3, 3)),
            ("march third", d(2027, 3, 3)),
            ("2027-02-01", d(2027, 2, 1)),
            ("12/15", d(2026, 12, 15)),
            ("1/4/2027", d(2027, 1, 4)),
            ("December 3, 2027", d(2027, 12, 3)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date(text, today), Some(*want), "{text:?}");
        }
        for none in [
            "",
            "whenever",
            "may I book",
            "February 30",
            "2026-13-01",
            "wait a second",
        ] {
            assert_eq!(parse_date(none, today), None, "{none:?}");
        }
        // the 31st skips months without one
        assert_eq!(parse_date("the 31st", d(2027, 2, 5)), Some(d(2027, 3, 31)));
        // leap day
        assert_eq!(parse_date("feb 29", d(2027, 3, 1)), Some(d(2028, 2, 29)));
    }

    #[test]
    fn dates_resolve_in_the_tenants_zone() {
        // 2026-12-11 03:30 UTC is still Thursday the 10th in New York.
        let now = DateTime::parse_from_rfc3339("2026-12-11T03:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ny: Tz = "America/New_York".parse().unwrap();
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(resolve_date("tomorrow", now, ny), Some(d(2026, 12, 11)));
        assert_eq!(resolve_date("tomorrow", now, tokyo), Some(d(2026, 12, 12)));
    }

    #[test]
    fn date_ranges() {
        let today = d(2026, 12, 10); // Thursday
        assert_eq!(
            parse_date_range("next week", today),
            Some((d(2026, 12, 14), d(2026, 12, 20)))
        );
        assert_eq!(
            parse_date_range("sometime this week", today),
            Some((today, d(2026, 12, 13)))
        );
        assert_eq!(
            parse_date_range("tomorrow", today),
            Some((d(2026, 12, 11), d(2026, 12, 11)))
        );
        assert_eq!(parse_date_range("hello", today), None);
    }

    #[test]
    fn times() {
        let cases: &[(&str, Option<TimeSpec>)] = &[
            ("3pm", hm(15, 0)),
            ("3 pm", hm(15, 0)),
            ("3 p.m.", hm(15, 0)),
            ("10am", hm(10, 0)),
            ("12pm", hm(12, 0)),
            ("12am", hm(0, 0)),
            ("3:30 pm", hm(15, 30)),
            ("15:30", hm(15, 30)),
            ("9:15", hm(9, 15)),
            ("2:30", hm(14, 30)),
            ("noon", hm(12, 0)),
            ("half past two", hm(14, 30)),
            ("quarter past ten", hm(10, 15)),
            ("quarter to four", hm(15, 45)),
            ("two thirty", hm(14, 30)),
            ("three o'clock", hm(15, 0)),
            ("eleven am", hm(11, 0)),
            ("at 3", hm(15, 0)),
            ("around 10", hm(10, 0)),
            ("the 14th at 3", hm(15, 0)),
            ("tomorrow at 9 am", hm(9, 0)),
            ("10 45 am", hm(10, 45)),
            ("in the morning", Some(TimeSpec::Period(DayPeriod::Morning))),
            (
                "sometime in the afternoon",
                Some(TimeSpec::Period(DayPeriod::Afternoon)),
            ),
            ("evening", Some(TimeSpec::Period(DayPeriod::Evening))),
            ("on the 3rd", None),
            ("December 3", None),
            ("hello", None),
            ("25:00", None),
            ("13pm", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_time(text), *want, "{text:?}");
        }
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
        assert!(DayPeriod::Afternoon.contains(noon));
        assert!(!DayPeriod::Morning.contains(noon));
    }

    #[test]
    fn emails_typed_and_spoken() {
        let cases: &[(&str, &str)] = &[
            ("my email is Jane.Doe@Example.com.", "jane.doe@example.com"),
            ("jane dot doe at gmail dot com", "jane.doe@gmail.com"),
            (
                "My email is jane dot doe at gmail dot com please",
                "jane.doe@gmail.com",
            ),
            ("it's bob at example dot co dot uk", "bob@example.co.uk"),
            ("j a n e at example dot org", "jane@example.org"),
            (
                "jane underscore doe at mail dash box dot com",
                "jane_doe@mail-box.com",
            ),
            ("ana at sign clinic dot io", "ana@clinic.io"),
            ("sam at example.com", "sam@example.com"),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_email(text)
                    .map(|e| e.as_str().to_string())
                    .as_deref(),
                Some(*want),
                "{text:?}"
            );
        }
        for none in [
            "I'll be there at noon",
            "meet at the clinic",
            "my email is",
            "at gmail dot com",
            "",
        ] {
            assert_eq!(extract_email(none), None, "{none:?}");
        }
    }

    #[test]
    fn names() {
        let cases: &[(&str, Option<&str>)] = &[
            ("My name is Jane Doe", Some("Jane Doe")),
            ("my name is jane doe and my email is x", Some("Jane Doe")),
            ("I'm Ana Lopez.", Some("Ana Lopez")),
            ("this is Mary-Kate O'Neil calling", Some("Mary-Kate O'Neil")),
            ("I'm looking to book", None),
            ("I'm not sure", None),
            ("it's for tomorrow", None),
            ("hello", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_name(text)
                    .map(|n| n.as_str().to_string())
                    .as_deref(),
                *want,
                "{text:?}"
            );
        }
        assert_eq!(parse_name_reply("Jane Doe").unwrap().as_str(), "Jane Doe");
        assert_eq!(
            parse_name_reply("sure, it's jane").unwrap().as_str(),
            "Jane"
        );
        assert_eq!(parse_name_reply("jane@example.com"), None);
        assert_eq!(parse_name_reply("3pm"), None);
        assert_eq!(parse_name_reply("one two three four five six"), None);
        assert_eq!(parse_name_reply("yes"), None);
    }

    #[test]
    fn references_typed_and_spelled() {
        let cases: &[(&str, &str)] = &[
            ("my code is ABCD-EFGH", "ABCD-EFGH"),
            ("abcd-efgh", "ABCD-EFGH"),
            ("ref 7KQ2 M9XA please", "7KQ2-M9XA"),
            ("7kq2m9xa", "7KQ2-M9XA"),
            ("A B C D dash E F G H", "ABCD-EFGH"),
            ("it's a, b, c, d - e, f, g, h.", "ABCD-EFGH"),
            (
                "alpha bravo charlie delta echo foxtrot golf hotel",
                "ABCD-EFGH",
            ),
            ("seven K Q two dash M nine X alpha", "7KQ2-M9XA"),
            ("ABCD E F G H", "ABCD-EFGH"),
        ];
        for (text, want) in cases {
            assert_eq!(
                extract_reference(text).map(|r| r.to_string()).as_deref(),
                Some(*want),
                "{text:?}"
            );
        }
        for none in [
            "I want next week",
            "hello there",
            "A B C",
            "ABCD-EFG0",
            "my email is jane dot doe at gmail dot com",
            "",
        ] {
            assert_eq!(extract_reference(none), None, "{none:?}");
        }
    }

    #[test]
    fn vague_requests() {
        for v in [
            "the next 24 available",
            "give me the next 10 slots",
            "all available times",
            "whatever is free",
            "every opening you have",
            "the next twenty four available",
        ] {
            assert!(is_vague_request(v), "{v:?}");
        }
        for ok in [
            "the next available",
            "tomorrow afternoon",
            "next 2 weeks",
            "book a consultation",
        ] {
            assert!(!is_vague_request(ok), "{ok:?}");
        }
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            extract_time_zone("I'm on Pacific time").unwrap().name(),
            "America/Los_Angeles"
        );
        assert_eq!(
            extract_time_zone("3pm EST").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(
            extract_time_zone("I live in Europe/London").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(extract_time_zone("the pacific ocean"), None);
        assert_eq!(extract_time_zone("best time"), None);
    }

    /// Garbage in never panics, whatever the bytes.
    #[test]
    fn never_panics_on_noise() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet: Vec<char> = "aZ09 -:/@.,'’éñ漢\u{0}thpmdotatfirst".chars().collect();
        let today = d(2026, 12, 10);
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7) % alphabet.len()])
                .collect();
            let _ = detect_intent(&s);
            let _ = yes_no(&s);
            let _ = match_service(&s, &["Consultation", "Follow-up Visit"]);
            let _ = parse_date(&s, today);
            let _ = parse_date_range(&s, today);
            let _ = parse_time(&s);
            let _ = extract_email(&s);
            let _ = extract_name(&s);
            let _ = parse_name_reply(&s);
            let _ = extract_reference(&s);
            let _ = is_vague_request(&s);
            let _ = extract_time_zone(&s);
            let _ = parse_choice(&s, 5);
        }
    }

    #[test]
    fn notes_followups_and_service_questions() {
        assert_eq!(
            extract_note("note: I'd like the window seat").as_deref(),
            Some("I'd like the window seat")
        );
        assert_eq!(
            extract_note("Can you note that I use a wheelchair?").as_deref(),
            Some("I use a wheelchair?")
        );
        assert_eq!(
            extract_note("please note my knee is sore").as_deref(),
            Some("my knee is sore")
        );
        assert_eq!(extract_note("I'd like to book a consultation"), None);
        assert_eq!(extract_note("notebook"), None);
        assert_eq!(extract_note("note:"), None);
        assert_eq!(
            followup_request("can you call me back?"),
            Some(FollowupAsk::Call)
        );
        assert_eq!(
            followup_request("have someone email me"),
            Some(FollowupAsk::Email)
        );
        assert_eq!(
            followup_request("could someone text me"),
            Some(FollowupAsk::Sms)
        );
        assert_eq!(followup_request("call me Bob"), None);
        assert_eq!(followup_request("book a consultation"), None);
        assert!(is_services_question("What services do you offer?"));
        assert!(is_services_question("how long is a consultation"));
        assert!(is_services_question("How much is a therapy session?"));
        assert!(!is_services_question(
            "I'd like to book a consultation tomorrow"
        ));
        assert!(!is_services_question("2"));
    }
}

// ---------------------------------------------------------------------------------------
// A person to talk to
// ---------------------------------------------------------------------------------------

lazy_re!(
    PERSON_RE,
    r"(?:\b(?:talk|speak|chat) (?:to|with) (?:a |an |the |some )?(?:real |live |actual )?(?:human|person|somebody|someone|anyone|representative|rep|agent|operator|receptionist|reception|front desk|staff|member of staff)\b|\b(?:real|live|actual) (?:person|human)\b|\bhuman\b|\brepresentative\b|\boperator\b|\breceptionist\b|\breception\b|\bfront desk\b|\b(?:con|a) (?:una|alguna|otra) persona\b|^una persona\b|\bpersona real\b|\bun humano\b|\brecepcionista\b|\brecepci[oó]n\b|\boperador(?:a)?\b|\brepresentante\b|\bhablar con alguien\b|\bcomunicarme con alguien\b)"
);

/// True when the caller asks for a person instead of the receptionist ("a human", "real
/// person", "representative", "operator", "speak to someone", "reception"; Spanish "una
/// persona", "un humano", "recepcionista").
pub fn is_person_request(text: &str) -> bool {
    PERSON_RE.is_match(&normalize(text))
}

#[cfg(test)]
mod person_tests {
    use super::*;

    #[test]
    fn asking_for_a_person() {
        for ask in [
            "I want to talk to a human",
            "Can I speak to a real person?",
            "representative",
            "Operator, please",
            "let me speak to someone",
            "put me through to reception",
            "is there a receptionist",
            "speak with the front desk",
            "quiero hablar con una persona",
            "un humano por favor",
            "la recepcionista",
            "comunicarme con alguien",
        ] {
            assert!(is_person_request(ask), "{ask}");
        }
        for not in [
            "book a consultation for one person",
            "I'd like to book for Tuesday",
            "text me a link",
            "my name is Ana",
            "yes",
            "cancel my appointment",
            "quiero reservar una cita",
        ] {
            assert!(!is_person_request(not), "{not}");
        }
    }
}
