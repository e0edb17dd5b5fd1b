//! The iCalendar (RFC 5545) side of the CalDAV client: the VEVENT we write for a booking,
//! a parser for what servers answer (unfolding, parameters, components), and the instances
//! of each event within a window — recurrences expanded with the `rrule` crate when the
//! server did not expand them, EXDATE and RECURRENCE-ID overrides applied, DURATION or
//! DTEND, all-day dates, TZID zones (IANA names, prefixed names, the common Windows names)
//! and floating times in a zone the caller names.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::domain::ics::{escape_text, push_folded};

/// The property that marks an event as written by gomomo.
pub const OURS_PROPERTY: &str = "X-GOMOMO-BOOKING";
/// The UID prefix of gomomo's events.
pub const UID_PREFIX: &str = "gomomo-";
/// At most this many instances are looked at per recurring event (a rule that would make
/// more within the window is refused, and the caller fails closed).
const MAX_INSTANCES: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("iCalendar: {0}")]
pub struct IcalError(pub String);

fn bad(msg: impl Into<String>) -> IcalError {
    IcalError(msg.into())
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// What gomomo writes for one booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventWrite {
    pub uid: String,
    pub summary: String,
    pub description: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub sequence: u32,
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A UID as written: TEXT escaping does not apply to UID, but a line break or control
/// character would break the content line, so they are dropped.
fn clean_uid(uid: &str) -> String {
    uid.chars().filter(|c| !c.is_control()).collect()
}

/// The VCALENDAR with one VEVENT: CRLF line ends, folded at 75 octets, TEXT escaped, UTC
/// times, DTSTAMP `stamp`, and the [`OURS_PROPERTY`] marker.
pub fn render_event(ev: &EventWrite, sequence: u32, stamp: DateTime<Utc>) -> String {
    let uid = clean_uid(&ev.uid);
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//gomomo//AI receptionist//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}"),
        format!("SEQUENCE:{sequence}"),
        format!("DTSTAMP:{}", utc_stamp(stamp)),
        format!("DTSTART:{}", utc_stamp(ev.start)),
        format!("DTEND:{}", utc_stamp(ev.end)),
        format!("SUMMARY:{}", escape_text(&ev.summary)),
        format!("DESCRIPTION:{}", escape_text(&ev.description)),
        "STATUS:CONFIRMED".into(),
        "TRANSP:OPAQUE".into(),
        format!("{OURS_PROPERTY}:{}", escape_text(&uid)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    let mut out = String::with_capacity(768);
    for l in &lines {
        push_folded(&mut out, l);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/// One unfolded content line: `NAME;PARAM=v1,v2:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper case.
    pub name: String,
    /// Parameter names upper case; values unquoted.
    pub params: Vec<(String, Vec<String>)>,
    pub value: String,
}

impl Property {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }
}

/// A component (`BEGIN:X` … `END:X`) with its properties and nested components.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Component {
    pub name: String,
    pub props: Vec<Property>,
    pub children: Vec<Component>,
}

impl Component {
    pub fn prop(&self, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.name == name)
    }

    pub fn props_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.props.iter().filter(move |p| p.name == name)
    }
}

/// Unfolds physical lines (CRLF or bare LF) into content lines: a line starting with one
/// space or tab continues the previous one, and that one character is removed.
pub fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(rest);
                continue;
            }
        }
        if !line.is_empty() {
            out.push(line.to_string());
        }
    }
    out
}

/// Parses one content line.
pub fn parse_line(line: &str) -> Result<Property, IcalError> {
    let name_end = line
        .find([';', ':'])
        .ok_or_else(|| bad(format!("no ':' in content line {line:?}")))?;
    let name = &line[..name_end];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(bad(format!("bad property name in {line:?}")));
    }
    let mut params = Vec::new();
    let bytes: Vec<char> = line[name_end..].chars().collect();
    let mut i = 0;
    // At bytes[i]: ';' (another parameter) or ':' (the value).
    loop {
        match bytes.get(i) {
            Some(':') => {
                let value: String = bytes[i + 1..].iter().collect();
                return Ok(Property {
                    name: name.to_ascii_uppercase(),
                    params,
                    value,
                });
            }
            Some(';') => {
                i += 1;
                let start = i;
                while i < bytes.len() && bytes[i] != '=' {
                    i += 1;
                }
                let pname: String = bytes[start..i].iter().collect();
                if pname.is_empty()
                    || i >= bytes.len()
                    || !pname.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(bad(format!("bad parameter in {line:?}")));
                }
                i += 1; // '='
                let mut values = Vec::new();
                loop {
                    let mut v = String::new();
                    if bytes.get(i) == Some(&'"') {
                        i += 1;
                        while i < bytes.len() && bytes[i] != '"' {
                            v.push(bytes[i]);
                            i += 1;
                        }
                        if i >= bytes.len() {
                            return Err(bad(format!("unterminated quote in {line:?}")));
                        }
                        i += 1;
                    } else {
                        while i < bytes.len() && ![',', ';', ':'].contains(&bytes[i]) {
                            v.push(bytes[i]);
                            i += 1;
                        }
                    }
                    values.push(v);
                    if bytes.get(i) == Some(&',') {
                        i += 1;
                        continue;
                    }
                    break;
                }
                params.push((pname.to_ascii_uppercase(), values));
            }
            _ => return Err(bad(format!("bad content line {line:?}"))),
        }
    }
}

/// Parses a text into its top-level components (normally one VCALENDAR).
pub fn parse(text: &str) -> Result<Vec<Component>, IcalError> {
    let mut stack: Vec<Component> = Vec::new();
    let mut top = Vec::new();
    for line in unfold(text) {
        let p = parse_line(&line)?;
        match p.name.as_str() {
            "BEGIN" => stack.push(Component {
                name: p.value.trim().to_ascii_uppercase(),
                ..Component::default()
            }),
            "END" => {
                let done = stack
                    .pop()
                    .ok_or_else(|| bad(format!("END:{} without BEGIN", p.value)))?;
                if !done.name.eq_ignore_ascii_case(p.value.trim()) {
                    return Err(bad(format!(
                        "BEGIN:{} closed by END:{}",
                        done.name, p.value
                    )));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => top.push(done),
                }
            }
            _ => match stack.last_mut() {
                Some(c) => c.props.push(p),
                None => return Err(bad(format!("property {} outside a component", p.name))),
            },
        }
    }
    if let Some(open) = stack.last() {
        return Err(bad(format!("BEGIN:{} never ends", open.name)));
    }
    if top.is_empty() {
        return Err(bad("no component"));
    }
    Ok(top)
}

/// Reverses TEXT escaping (`\\`, `\;`, `\,`, `\n`/`\N`).
pub fn unescape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') | Some('N') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Time values
// ---------------------------------------------------------------------------------------

/// A DATE or DATE-TIME value with the zone it is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    /// The wall time (midnight for a DATE).
    pub local: NaiveDateTime,
    pub tz: Tz,
    /// A DATE value (an all-day event).
    pub date_only: bool,
}

impl When {
    /// The instant of this wall time: in a gap (spring forward) the time after the gap, in a
    /// repeated hour (fall back) the first of the two.
    pub fn instant(&self) -> DateTime<Utc> {
        resolve(self.tz, self.local)
    }
}

fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => {
            // Skipped wall time: read it with the offset in force before the gap.
            let before = tz
                .from_local_datetime(&(local - Duration::hours(3)))
                .earliest()
                .map_or(0, |t| t.offset().fix().local_minus_utc());
            DateTime::<Utc>::from_naive_utc_and_offset(
                local - Duration::seconds(i64::from(before)),
                Utc,
            )
        }
    }
}

/// Common Windows zone names (Exchange and Outlook write them as TZID).
const WINDOWS_ZONES: &[(&str, Tz)] = &[
    ("Eastern Standard Time", Tz::America__New_York),
    ("Central Standard Time", Tz::America__Chicago),
    ("Mountain Standard Time", Tz::America__Denver),
    ("US Mountain Standard Time", Tz::America__Phoenix),
    ("Pacific Standard Time", Tz::America__Los_Angeles),
    ("Alaskan Standard Time", Tz::America__Anchorage),
    ("Hawaiian Standard Time", Tz::Pacific__Honolulu),
    ("Atlantic Standard Time", Tz::America__Halifax),
    ("Canada Central Standard Time", Tz::America__Regina),
    ("Mexico Standard Time", Tz::America__Mexico_City),
    ("Central Standard Time (Mexico)", Tz::America__Mexico_City),
    ("SA Pacific Standard Time", Tz::America__Bogota),
    (
        "Argentina Standard Time",
        Tz::America__Argentina__Buenos_Aires,
    ),
    ("E. South America Standard Time", Tz::America__Sao_Paulo),
    ("GMT Standard Time", Tz::Europe__London),
    ("Greenwich Standard Time", Tz::Atlantic__Reykjavik),
    ("W. Europe Standard Time", Tz::Europe__Berlin),
    ("Romance Standard Time", Tz::Europe__Paris),
    ("Central Europe Standard Time", Tz::Europe__Budapest),
    ("Central European Standard Time", Tz::Europe__Warsaw),
    ("E. Europe Standard Time", Tz::Europe__Chisinau),
    ("FLE Standard Time", Tz::Europe__Kiev),
    ("GTB Standard Time", Tz::Europe__Bucharest),
    ("Russian Standard Time", Tz::Europe__Moscow),
    ("South Africa Standard Time", Tz::Africa__Johannesburg),
    ("Israel Standard Time", Tz::Asia__Jerusalem),
    ("Arabian Standard Time", Tz::Asia__Dubai),
    ("India Standard Time", Tz::Asia__Kolkata),
    ("China Standard Time", Tz::Asia__Shanghai),
    ("Singapore Standard Time", Tz::Asia__Singapore),
    ("Tokyo Standard Time", Tz::Asia__Tokyo),
    ("Korea Standard Time", Tz::Asia__Seoul),
    ("AUS Eastern Standard Time", Tz::Australia__Sydney),
    ("E. Australia Standard Time", Tz::Australia__Brisbane),
    ("W. Australia Standard Time", Tz::Australia__Perth),
    ("New Zealand Standard Time", Tz::Pacific__Auckland),
    ("UTC", Tz::UTC),
    ("Coordinated Universal Time", Tz::UTC),
];

/// The zone a TZID names: an IANA name, an IANA name behind a vendor prefix
/// (`/mozilla.org/20050126_1/America/New_York`), a common Windows name, or — for a TZID
/// only the calendar's own VTIMEZONE defines — a whole-hour fixed offset taken from it.
fn zone(tzid: &str, vtimezones: &HashMap<String, Component>) -> Result<Tz, IcalError> {
    let id = tzid.trim().trim_matches('"');
    if let Ok(tz) = Tz::from_str(id) {
        return Ok(tz);
    }
    let parts: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    for n in (1..parts.len().min(3) + 1).rev() {
        let tail = parts[parts.len() - n..].join("/");
        if let Ok(tz) = Tz::from_str(&tail) {
            if n > 1 || tail.eq_ignore_ascii_case("UTC") {
                return Ok(tz);
            }
        }
    }
    if let Some((_, tz)) = WINDOWS_ZONES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(id))
    {
        return Ok(*tz);
    }
    if let Some(vt) = vtimezones.get(id) {
        let offsets: Vec<&str> = vt
            .children
            .iter()
            .filter_map(|o| o.prop("TZOFFSETTO").map(|p| p.value.trim()))
            .collect();
        if let Some(first) = offsets.first() {
            if offsets.iter().all(|o| o == first) {
                if let Some(tz) = fixed_zone(first) {
                    return Ok(tz);
                }
            }
        }
    }
    Err(bad(format!("unknown time zone {id:?}")))
}

/// `+0100`, `-0500`: the `Etc/GMT∓h` zone of a whole-hour offset.
fn fixed_zone(offset: &str) -> Option<Tz> {
    if !offset.is_ascii() || offset.len() < 5 {
        return None;
    }
    let (sign, digits) = offset.split_at(1);
    if &digits[2..4] != "00" {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let name = match (sign, hours) {
        (_, 0) => "Etc/UTC".to_string(),
        // The Etc zones' signs are inverted (POSIX): UTC+1 is Etc/GMT-1.
        ("+", h) => format!("Etc/GMT-{h}"),
        ("-", h) => format!("Etc/GMT+{h}"),
        _ => return None,
    };
    Tz::from_str(&name).ok()
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d")
        .ok()
        .filter(|_| s.len() == 8)
}

/// One DATE or DATE-TIME text in the context of a property's parameters.
fn parse_when_value(
    value: &str,
    date_param: bool,
    tzid: Option<&str>,
    floating: Tz,
    vtimezones: &HashMap<String, Component>,
) -> Result<When, IcalError> {
    let v = value.trim();
    if date_param || (v.len() == 8 && !v.contains('T')) {
        let d = parse_date(v).ok_or_else(|| bad(format!("bad DATE {v:?}")))?;
        let tz = match tzid {
            Some(id) => zone(id, vtimezones)?,
            None => floating,
        };
        return Ok(When {
            local: d.and_time(NaiveTime::MIN),
            tz,
            date_only: true,
        });
    }
    let (text, utc) = match v.strip_suffix(['Z', 'z']) {
        Some(t) => (t, true),
        None => (v, false),
    };
    let local = NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
        .map_err(|_| bad(format!("bad DATE-TIME {v:?}")))?;
    let tz = if utc {
        Tz::UTC
    } else {
        match tzid {
            Some(id) => zone(id, vtimezones)?,
            None => floating,
        }
    };
    Ok(When {
        local,
        tz,
        date_only: false,
    })
}

fn prop_when(
    p: &Property,
    floating: Tz,
    vtz: &HashMap<String, Component>,
) -> Result<When, IcalError> {
    let date = p
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    parse_when_value(&p.value, date, p.param("TZID"), floating, vtz)
}

/// EXDATE / RDATE values (comma-separated, possibly several lines).
fn prop_whens(
    p: &Property,
    floating: Tz,
    vtz: &HashMap<String, Component>,
) -> Result<Vec<When>, IcalError> {
    let date = p
        .param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("DATE"));
    if p.param("VALUE")
        .is_some_and(|v| v.eq_ignore_ascii_case("PERIOD"))
    {
        // RDATE periods: the start of each period.
        return p
            .value
            .split(',')
            .map(|s| {
                let start = s.split('/').next().unwrap_or_default();
                parse_when_value(start, false, p.param("TZID"), floating, vtz)
            })
            .collect();
    }
    p.value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_when_value(s, date, p.param("TZID"), floating, vtz))
        .collect()
}

/// A DURATION value: nominal days (weeks count as 7) and exact seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dur {
    pub days: i64,
    pub seconds: i64,
}

pub fn parse_duration(s: &str) -> Result<Dur, IcalError> {
    let err = || bad(format!("bad DURATION {s:?}"));
    let s = s.trim();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.strip_prefix(['P', 'p']).ok_or_else(err)?;
    let mut d = Dur::default();
    let mut num = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            '0'..='9' => num.push(c),
            'T' if num.is_empty() && !in_time => in_time = true,
            u @ ('W' | 'D' | 'H' | 'M' | 'S') => {
                let n: i64 = num.parse().map_err(|_| err())?;
                num.clear();
                any = true;
                match (u, in_time) {
                    ('W', false) => d.days += 7 * n,
                    ('D', false) => d.days += n,
                    ('H', true) => d.seconds += 3600 * n,
                    ('M', true) => d.seconds += 60 * n,
                    ('S', true) => d.seconds += n,
                    _ => return Err(err()),
                }
            }
            _ => return Err(err()),
        }
    }
    if !num.is_empty() || !any {
        return Err(err());
    }
    if neg {
        d.days = -d.days;
        d.seconds = -d.seconds;
    }
    Ok(d)
}

// ---------------------------------------------------------------------------------------
// Events and their instances
// ---------------------------------------------------------------------------------------

/// How long each instance lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    /// Calendar days on the wall clock, then exact seconds (DURATION, all-day DTEND).
    Nominal(Dur),
    /// Exact (a timed DTEND).
    Exact(Duration),
}

/// One VEVENT as read.
#[derive(Debug, Clone)]
pub struct Vevent {
    pub uid: String,
    pub recurrence_id: Option<When>,
    pub start: When,
    length: Length,
    pub rrule: Option<String>,
    pub rdates: Vec<When>,
    pub exdates: Vec<When>,
    pub transparent: bool,
    pub cancelled: bool,
    pub ours: bool,
    pub sequence: u32,
    pub summary: Option<String>,
}

impl Vevent {
    /// The end of the first instance.
    pub fn end_at_start(&self) -> DateTime<Utc> {
        self.end_of(self.start)
    }

    /// The end of the instance starting at wall time `start` (in this event's zone).
    fn end_of(&self, start: When) -> DateTime<Utc> {
        match self.length {
            Length::Exact(d) => start.instant() + d,
            Length::Nominal(d) => {
                let local = start.local + Duration::days(d.days);
                resolve(start.tz, local) + Duration::seconds(d.seconds)
            }
        }
    }
}

/// Whether a UID or the marker property says the event is gomomo's.
pub fn is_ours_uid(uid: &str) -> bool {
    uid.starts_with(UID_PREFIX)
}

fn read_vevent(
    c: &Component,
    floating: Tz,
    vtz: &HashMap<String, Component>,
) -> Result<Vevent, IcalError> {
    let uid = c
        .prop("UID")
        .map(|p| p.value.trim().to_string())
        .ok_or_else(|| bad("VEVENT without UID"))?;
    let start = prop_when(
        c.prop("DTSTART")
            .ok_or_else(|| bad(format!("VEVENT {uid} without DTSTART")))?,
        floating,
        vtz,
    )?;
    let length = if let Some(end) = c.prop("DTEND") {
        let end = prop_when(end, floating, vtz)?;
        if start.date_only {
            let days = (end.local.date() - start.local.date()).num_days();
            Length::Nominal(Dur { days, seconds: 0 })
        } else {
            Length::Exact(end.instant() - start.instant())
        }
    } else if let Some(d) = c.prop("DURATION") {
        Length::Nominal(parse_duration(&d.value)?)
    } else if start.date_only {
        Length::Nominal(Dur {
            days: 1,
            seconds: 0,
        })
    } else {
        Length::Exact(Duration::zero())
    };
    let recurrence_id = c
        .prop("RECURRENCE-ID")
        .map(|p| prop_when(p, floating, vtz))
        .transpose()?;
    let mut exdates = Vec::new();
    for p in c.props_named("EXDATE") {
        exdates.extend(prop_whens(p, floating, vtz)?);
    }
    let mut rdates = Vec::new();
    for p in c.props_named("RDATE") {
        rdates.extend(prop_whens(p, floating, vtz)?);
    }
    let upper = |name: &str| {
        c.prop(name)
            .map(|p| p.value.trim().to_ascii_uppercase())
            .unwrap_or_default()
    };
    Ok(Vevent {
        ours: is_ours_uid(&uid) || c.prop(OURS_PROPERTY).is_some(),
        uid,
        recurrence_id,
        start,
        length,
        rrule: c.prop("RRULE").map(|p| p.value.trim().to_string()),
        rdates,
        exdates,
        transparent: upper("TRANSP") == "TRANSPARENT",
        cancelled: upper("STATUS") == "CANCELLED",
        sequence: c
            .prop("SEQUENCE")
            .and_then(|p| p.value.trim().parse().ok())
            .unwrap_or(0),
        summary: c.prop("SUMMARY").map(|p| unescape_text(&p.value)),
    })
}

/// Every VEVENT of a calendar object text (the VTIMEZONEs it carries are used for TZIDs).
pub fn read_events(text: &str, floating: Tz) -> Result<Vec<Vevent>, IcalError> {
    let top = parse(text)?;
    let mut out = Vec::new();
    for cal in &top {
        if cal.name != "VCALENDAR" {
            return Err(bad(format!("expected VCALENDAR, got {}", cal.name)));
        }
        let vtz: HashMap<String, Component> = cal
            .children
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .filter_map(|c| {
                c.prop("TZID")
                    .map(|p| (p.value.trim().to_string(), c.clone()))
            })
            .collect();
        for c in cal.children.iter().filter(|c| c.name == "VEVENT") {
            out.push(read_vevent(c, floating, &vtz)?);
        }
    }
    Ok(out)
}

/// One instance of an event within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Not busy (TRANSP:TRANSPARENT).
    pub transparent: bool,
    /// STATUS:CANCELLED.
    pub cancelled: bool,
    pub ours: bool,
    pub sequence: u32,
}

fn same_instance(a: &When, b: &When) -> bool {
    if a.date_only || b.date_only {
        a.local.date() == b.local.date()
    } else {
        a.instant() == b.instant()
    }
}

/// The start wall times of a recurring master within reach of `[from, to)`.
fn recurrence_starts(
    ev: &Vevent,
    rule: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<When>, IcalError> {
    let tz = ev.start.tz;
    let rtz = rrule::Tz::Tz(tz);
    let dtstart = rtz
        .from_local_datetime(&ev.start.local)
        .earliest()
        .unwrap_or_else(|| rtz.from_utc_datetime(&ev.start.instant().naive_utc()));
    // UNTIL is read here (the crate would read a local UNTIL in the machine's zone): a DATE
    // or local UNTIL is the wall time in the event's zone; it becomes UTC.
    let mut parts = Vec::new();
    for part in rule.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        if k.eq_ignore_ascii_case("UNTIL") {
            let w = parse_when_value(v, false, None, tz, &HashMap::new())?;
            let local = if w.date_only {
                w.local + Duration::days(1) - Duration::seconds(1)
            } else {
                w.local
            };
            let until = if w.tz == Tz::UTC {
                DateTime::<Utc>::from_naive_utc_and_offset(local, Utc)
            } else {
                resolve(tz, local)
            };
            if until < ev.start.instant() {
                // Nothing recurs: the event is its DTSTART alone.
                return Ok(vec![ev.start]);
            }
            parts.push(format!("UNTIL={}", utc_stamp(until)));
        } else {
            parts.push(part.to_string());
        }
    }
    let rrule: rrule::RRule<rrule::Unvalidated> = parts
        .join(";")
        .parse()
        .map_err(|e| bad(format!("RRULE of {}: {e}", ev.uid)))?;
    let rrule = rrule
        .validate(dtstart)
        .map_err(|e| bad(format!("RRULE of {}: {e}", ev.uid)))?;
    let set = rrule::RRuleSet::new(dtstart).rrule(rrule);
    let mut out = Vec::new();
    // An instance that starts before `from` may still reach into the window: look back
    // by the longest an instance can last.
    let reach = ev.end_of(ev.start) - ev.start.instant();
    let earliest = from - reach.max(Duration::zero()) - Duration::days(1);
    for (n, t) in set.into_iter().enumerate() {
        if n > MAX_INSTANCES * 5 {
            return Err(bad(format!("RRULE of {} has too many instances", ev.uid)));
        }
        let at = t.with_timezone(&Utc);
        if at >= to {
            break;
        }
        if at < earliest {
            continue;
        }
        out.push(When {
            local: t.with_timezone(&tz).naive_local(),
            tz,
            date_only: ev.start.date_only,
        });
        if out.len() > MAX_INSTANCES {
            return Err(bad(format!("RRULE of {} has too many instances", ev.uid)));
        }
    }
    Ok(out)
}

/// The instances of `events` overlapping `[from, to)`: recurrences expanded, EXDATEs
/// removed, RECURRENCE-ID overrides in place of the instances they replace.
pub fn instances(
    events: &[Vevent],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Instance>, IcalError> {
    let overrides: Vec<&Vevent> = events
        .iter()
        .filter(|e| e.recurrence_id.is_some())
        .collect();
    let mut out = Vec::new();
    let push = |ev: &Vevent, start: When, out: &mut Vec<Instance>| {
        let s = start.instant();
        let e = ev.end_of(start);
        let overlaps = if e > s {
            s < to && e > from
        } else {
            s >= from && s < to
        };
        if overlaps {
            out.push(Instance {
                uid: ev.uid.clone(),
                start: s,
                end: e,
                transparent: ev.transparent,
                cancelled: ev.cancelled,
                ours: ev.ours,
                sequence: ev.sequence,
            });
        }
    };
    for ev in events.iter().filter(|e| e.recurrence_id.is_none()) {
        let mut starts = match &ev.rrule {
            Some(rule) => recurrence_starts(ev, rule, from, to)?,
            None => vec![ev.start],
        };
        for r in &ev.rdates {
            let r = When {
                date_only: ev.start.date_only,
                ..*r
            };
            if !starts.iter().any(|s| same_instance(s, &r)) {
                starts.push(r);
            }
        }
        for start in starts {
            if ev.exdates.iter().any(|x| same_instance(x, &start)) {
                continue;
            }
            let replaced = overrides.iter().any(|o| {
                o.uid == ev.uid
                    && o.recurrence_id
                        .as_ref()
                        .is_some_and(|rid| same_instance(rid, &start))
            });
            if replaced {
                continue;
            }
            push(ev, start, &mut out);
        }
    }
    // Overrides stand on their own (a server that expanded sends nothing else).
    for o in &overrides {
        push(o, o.start, &mut out);
    }
    out.sort_by_key(|i| (i.start, i.end));
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cal(body: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n{}END:VCALENDAR\r\n",
            body.replace('\n', "\r\n")
        )
    }

    fn window(text: &str, from: &str, to: &str, floating: Tz) -> Vec<Instance> {
        let evs = read_events(text, floating).unwrap();
        instances(&evs, utc(from), utc(to)).unwrap()
    }

    #[test]
    fn unfolds_the_rfc_example_and_keeps_the_second_space() {
        // RFC 5545 §3.1 example (content_line_vectors.json: rfc5545_3_1_unfold_example).
        let folded = "DESCRIPTION:This is a lo\r\n ng description\r\n  that exists on a long line.";
        assert_eq!(
            unfold(folded),
            vec!["DESCRIPTION:This is a long description that exists on a long line."]
        );
        // Unfolding as in the conformance vectors of the fixtures folder; bare LF and tab folds.
        assert_eq!(
            unfold("DESCRIPTION:Hello\r\n World"),
            vec!["DESCRIPTION:HelloWorld"]
        );
        assert_eq!(unfold("A:x\n\ty\nB:z"), vec!["A:xy", "B:z"]);
    }

    #[test]
    fn parses_parameters_quotes_and_colons_in_values() {
        let p =
            parse_line("DTSTART;TZID=\"America/New_York\";X-A=b,\"c:d\":20260301T090000").unwrap();
        assert_eq!(p.name, "DTSTART");
        assert_eq!(p.param("TZID"), Some("America/New_York"));
        assert_eq!(p.params[1].1, vec!["b".to_string(), "c:d".to_string()]);
        assert_eq!(p.value, "20260301T090000");
        let p = parse_line("url:https://example.com/a;b").unwrap();
        assert_eq!(
            (p.name.as_str(), p.value.as_str()),
            ("URL", "https://example.com/a;b")
        );
        // An empty parameter is malformed (a conformance vector of the fixtures folder).
        assert!(parse_line("DTSTART;;VALUE=DATE-TIME:20140409T093000").is_err());
        assert!(parse_line("no colon here").is_err());
        assert!(parse("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n").is_err());
        assert!(parse("BEGIN:VCALENDAR\r\n").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn writes_a_folded_escaped_event_that_reads_back() {
        let ev = EventWrite {
            uid: "gomomo-0123456789abcdef".into(),
            summary: "Consultation, Ana; \"VIP\" \\ follow-up".into(),
            description: format!("Line one\nLine two with ünïcödé {}", "x".repeat(120)),
            start: utc("2026-03-10T14:00:00Z"),
            end: utc("2026-03-10T14:30:00Z"),
            sequence: 3,
        };
        let text = render_event(&ev, 3, utc("2026-03-01T00:00:00Z"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        for line in text.trim_end_matches("\r\n").split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
            assert!(!line.contains('\n') && !line.contains('\r'));
            assert!(!line.ends_with('\\'), "a fold split an escape: {line:?}");
        }
        assert!(text.contains("SUMMARY:Consultation\\, Ana\\; \"VIP\" \\\\ follow-up\r\n"));
        assert!(text.contains("DTSTAMP:20260301T000000Z\r\n"));
        assert!(text.contains("DTSTART:20260310T140000Z\r\nDTEND:20260310T143000Z\r\n"));
        let top = parse(&text).unwrap();
        let vevent = &top[0].children[0];
        assert_eq!(
            unescape_text(&vevent.prop("DESCRIPTION").unwrap().value),
            ev.description
        );
        assert_eq!(
            unescape_text(&vevent.prop("SUMMARY").unwrap().value),
            ev.summary
        );
        let evs = read_events(&text, Tz::UTC).unwrap();
        assert_eq!(evs.len(), 1);
        assert!(evs[0].ours);
        assert_eq!(evs[0].sequence, 3);
        let inst = instances(&evs, ev.start, ev.end).unwrap();
        assert_eq!((inst[0].start, inst[0].end), (ev.start, ev.end));
    }

    #[test]
    fn tzid_duration_and_all_day_values() {
        // The fixture norfairking_duration.ics: a floating DTSTART with DURATION P15DT5H0M20S.
        let fx = include_str!("../../../tests/fixtures/icalendar/norfairking_duration.ics");
        let evs = read_events(fx, Tz::Europe__Paris).unwrap();
        let i = instances(
            &evs,
            utc("1996-01-01T00:00:00Z"),
            utc("1997-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(i[0].start, utc("1996-09-18T12:30:00Z"));
        // 15 nominal days on the Paris wall clock, then 5 h 0 min 20 s.
        assert_eq!(i[0].end, utc("1996-10-03T17:30:20Z"));
        // The fixture norfairking_date.ics: VALUE=DATE 18–20 Sep, two local days.
        let fx = include_str!("../../../tests/fixtures/icalendar/norfairking_date.ics");
        let evs = read_events(fx, Tz::America__New_York).unwrap();
        let i = instances(
            &evs,
            utc("1996-01-01T00:00:00Z"),
            utc("1997-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (i[0].start, i[0].end),
            (utc("1996-09-18T04:00:00Z"), utc("1996-09-20T04:00:00Z"))
        );
        // A DATE without DTEND lasts one day.
        let t = cal("BEGIN:VEVENT\nUID:a\nDTSTART;VALUE=DATE:20260310\nEND:VEVENT\n");
        let i = window(
            &t,
            "2026-03-01T00:00:00Z",
            "2026-04-01T00:00:00Z",
            Tz::Asia__Tokyo,
        );
        assert_eq!(
            (i[0].start, i[0].end),
            (utc("2026-03-09T15:00:00Z"), utc("2026-03-10T15:00:00Z"))
        );
        // TZID with an IANA name, a vendor-prefixed one, a Windows one; DURATION of weeks.
        for tzid in [
            "America/New_York",
            "/mozilla.org/20050126_1/America/New_York",
            "Eastern Standard Time",
        ] {
            let t = cal(&format!(
                "BEGIN:VEVENT\nUID:b\nDTSTART;TZID=\"{tzid}\":20260310T090000\nDURATION:PT45M\nEND:VEVENT\n"
            ));
            let i = window(&t, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", Tz::UTC);
            assert_eq!(
                (i[0].start, i[0].end),
                (utc("2026-03-10T13:00:00Z"), utc("2026-03-10T13:45:00Z")),
                "{tzid}"
            );
        }
        assert_eq!(
            parse_duration("P1W").unwrap(),
            Dur {
                days: 7,
                seconds: 0
            }
        );
        assert_eq!(
            parse_duration("-PT1H30M").unwrap(),
            Dur {
                days: 0,
                seconds: -5400
            }
        );
        // A DURATION without the P (a conformance vector of the fixtures folder).
        assert!(parse_duration("1H").is_err());
        assert!(parse_duration("P").is_err());
        assert!(parse_duration("PT5").is_err());
        // A TZID defined only by the calendar's VTIMEZONE with one offset (the fixture
        // norfairking_zoned.ics defines Foo and Bar that way).
        let fx = include_str!("../../../tests/fixtures/icalendar/norfairking_zoned.ics");
        let evs = read_events(fx, Tz::UTC).unwrap();
        let i = instances(
            &evs,
            utc("1996-01-01T00:00:00Z"),
            utc("1997-01-01T00:00:00Z"),
        )
        .unwrap();
        // Bar is +0600, Foo -0400: 14:30 at +6 starts, 14:30 at -4 ends.
        assert_eq!(
            (i[0].start, i[0].end),
            (utc("1996-09-18T08:30:00Z"), utc("1996-09-18T18:30:00Z"))
        );
        let t =
            cal("BEGIN:VEVENT\nUID:c\nDTSTART;TZID=Nowhere/Special:20260310T090000\nEND:VEVENT\n");
        assert!(read_events(&t, Tz::UTC).is_err());
    }

    #[test]
    fn weekly_event_keeps_its_wall_time_across_the_march_dst_change() {
        // New York springs forward on Sunday 8 March 2026: 09:00 EST is 14:00Z, 09:00 EDT 13:00Z.
        let t = cal(
            "BEGIN:VEVENT\nUID:weekly\nDTSTART;TZID=America/New_York:20260226T090000\n\
             DTEND;TZID=America/New_York:20260226T100000\nRRULE:FREQ=WEEKLY;COUNT=4\nEND:VEVENT\n",
        );
        let i = window(&t, "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z", Tz::UTC);
        let got: Vec<_> = i.iter().map(|x| (x.start, x.end)).collect();
        assert_eq!(
            got,
            vec![
                (utc("2026-02-26T14:00:00Z"), utc("2026-02-26T15:00:00Z")),
                (utc("2026-03-05T14:00:00Z"), utc("2026-03-05T15:00:00Z")),
                (utc("2026-03-12T13:00:00Z"), utc("2026-03-12T14:00:00Z")),
                (utc("2026-03-19T13:00:00Z"), utc("2026-03-19T14:00:00Z")),
            ]
        );
        // UNTIL in UTC ends the rule (inclusive); a wall time skipped by the change
        // (02:30 on 8 March) is read with the offset before the gap, as RFC 5545 says.
        let t = cal(
            "BEGIN:VEVENT\nUID:until\nDTSTART;TZID=America/New_York:20260226T090000\n\
             DURATION:PT1H\nRRULE:FREQ=WEEKLY;UNTIL=20260312T130000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:gap\nDTSTART;TZID=America/New_York:20260308T023000\n\
             DURATION:PT30M\nEND:VEVENT\n",
        );
        let i = window(&t, "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z", Tz::UTC);
        let got: Vec<_> = i.iter().map(|x| (x.uid.as_str(), x.start)).collect();
        assert_eq!(
            got,
            vec![
                ("until", utc("2026-02-26T14:00:00Z")),
                ("until", utc("2026-03-05T14:00:00Z")),
                ("gap", utc("2026-03-08T07:30:00Z")),
                ("until", utc("2026-03-12T13:00:00Z")),
            ]
        );
        // A window in the middle finds only its instances; an instance running into the
        // window from before it counts.
        let i = window(&t, "2026-03-12T13:30:00Z", "2026-03-13T00:00:00Z", Tz::UTC);
        assert_eq!(i.len(), 1);
        assert_eq!(i[0].start, utc("2026-03-12T13:00:00Z"));
    }

    #[test]
    fn exdate_recurrence_id_until_and_rdate() {
        let t = cal(
            "BEGIN:VEVENT\nUID:daily\nDTSTART;TZID=Europe/Berlin:20260302T100000\nDURATION:PT1H\n\
             RRULE:FREQ=DAILY;UNTIL=20260306T235959\n\
             EXDATE;TZID=Europe/Berlin:20260303T100000\n\
             RDATE;TZID=Europe/Berlin:20260310T080000\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:daily\nRECURRENCE-ID;TZID=Europe/Berlin:20260304T100000\n\
             DTSTART;TZID=Europe/Berlin:20260304T150000\nDTEND;TZID=Europe/Berlin:20260304T153000\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:daily\nRECURRENCE-ID;TZID=Europe/Berlin:20260305T100000\n\
             DTSTART;TZID=Europe/Berlin:20260305T100000\nDURATION:PT1H\nSTATUS:CANCELLED\nEND:VEVENT\n",
        );
        let i = window(&t, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", Tz::UTC);
        let got: Vec<_> = i.iter().map(|x| (x.start, x.end, x.cancelled)).collect();
        assert_eq!(
            got,
            vec![
                (
                    utc("2026-03-02T09:00:00Z"),
                    utc("2026-03-02T10:00:00Z"),
                    false
                ),
                // 3 March excluded; 4 March moved to 15:00; 5 March cancelled by its override.
                (
                    utc("2026-03-04T14:00:00Z"),
                    utc("2026-03-04T14:30:00Z"),
                    false
                ),
                (
                    utc("2026-03-05T09:00:00Z"),
                    utc("2026-03-05T10:00:00Z"),
                    true
                ),
                (
                    utc("2026-03-06T09:00:00Z"),
                    utc("2026-03-06T10:00:00Z"),
                    false
                ),
                (
                    utc("2026-03-10T07:00:00Z"),
                    utc("2026-03-10T08:00:00Z"),
                    false
                ),
            ]
        );
        // An all-day weekly event with an EXDATE of DATE values.
        let t = cal(
            "BEGIN:VEVENT\nUID:allday\nDTSTART;VALUE=DATE:20260302\nDTEND;VALUE=DATE:20260303\n\
             RRULE:FREQ=WEEKLY;COUNT=3\nEXDATE;VALUE=DATE:20260309\nTRANSP:TRANSPARENT\nEND:VEVENT\n",
        );
        let i = window(
            &t,
            "2026-03-01T00:00:00Z",
            "2026-04-01T00:00:00Z",
            Tz::America__New_York,
        );
        let got: Vec<_> = i.iter().map(|x| (x.start, x.end, x.transparent)).collect();
        assert_eq!(
            got,
            vec![
                (
                    utc("2026-03-02T05:00:00Z"),
                    utc("2026-03-03T05:00:00Z"),
                    true
                ),
                // 16 March is after the change: local midnight is 04:00Z.
                (
                    utc("2026-03-16T04:00:00Z"),
                    utc("2026-03-17T04:00:00Z"),
                    true
                ),
            ]
        );
    }

    #[test]
    fn expanded_instances_from_a_server_stand_alone() {
        // A server that expanded sends instances with RECURRENCE-ID and no master.
        let t = cal(
            "BEGIN:VEVENT\nUID:x\nRECURRENCE-ID:20260305T140000Z\nDTSTART:20260305T140000Z\n\
             DTEND:20260305T150000Z\nEND:VEVENT\n\
             BEGIN:VEVENT\nUID:x\nRECURRENCE-ID:20260312T130000Z\nDTSTART:20260312T130000Z\n\
             DTEND:20260312T140000Z\nEND:VEVENT\n",
        );
        let i = window(&t, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", Tz::UTC);
        assert_eq!(i.len(), 2);
        assert_eq!(i[1].start, utc("2026-03-12T13:00:00Z"));
    }
}
