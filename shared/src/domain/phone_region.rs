//! Where a phone number is from, as far as its E.164 country calling code tells: a hint about
//! a caller's time zone, never a fact. Countries with one time zone name it; countries with
//! several (the North American +1, Russia, Brazil, Australia, …) name none.

use chrono::{DateTime, Offset, Utc};
use chrono_tz::Tz;

/// Country calling codes we know, longest first where one is a prefix of another, with the
/// zone of countries that keep a single one.
const CODES: &[(&str, Option<Tz>)] = &[
    ("351", Some(Tz::Europe__Lisbon)),
    ("353", Some(Tz::Europe__Dublin)),
    ("358", Some(Tz::Europe__Helsinki)),
    ("420", Some(Tz::Europe__Prague)),
    ("852", Some(Tz::Asia__Hong_Kong)),
    ("971", Some(Tz::Asia__Dubai)),
    ("972", Some(Tz::Asia__Jerusalem)),
    ("1", None),
    ("7", None),
    ("20", Some(Tz::Africa__Cairo)),
    ("27", Some(Tz::Africa__Johannesburg)),
    ("30", Some(Tz::Europe__Athens)),
    ("31", Some(Tz::Europe__Amsterdam)),
    ("32", Some(Tz::Europe__Brussels)),
    ("33", Some(Tz::Europe__Paris)),
    ("34", Some(Tz::Europe__Madrid)),
    ("39", Some(Tz::Europe__Rome)),
    ("41", Some(Tz::Europe__Zurich)),
    ("43", Some(Tz::Europe__Vienna)),
    ("44", Some(Tz::Europe__London)),
    ("45", Some(Tz::Europe__Copenhagen)),
    ("46", Some(Tz::Europe__Stockholm)),
    ("47", Some(Tz::Europe__Oslo)),
    ("48", Some(Tz::Europe__Warsaw)),
    ("49", Some(Tz::Europe__Berlin)),
    ("52", None),
    ("54", Some(Tz::America__Argentina__Buenos_Aires)),
    ("55", None),
    ("56", None),
    ("57", Some(Tz::America__Bogota)),
    ("61", None),
    ("64", Some(Tz::Pacific__Auckland)),
    ("65", Some(Tz::Asia__Singapore)),
    ("81", Some(Tz::Asia__Tokyo)),
    ("82", Some(Tz::Asia__Seoul)),
    ("86", Some(Tz::Asia__Shanghai)),
    ("90", Some(Tz::Europe__Istanbul)),
    ("91", Some(Tz::Asia__Kolkata)),
];

/// What a number's calling code says about where it is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// The country calling code, without "+".
    pub code: &'static str,
    /// The zone of a country that keeps one; `None` when the country has several.
    pub zone: Option<Tz>,
}

/// The region of an E.164 number ("+34…"); `None` for a code outside the table.
pub fn region(e164: &str) -> Option<Region> {
    let digits = e164.strip_prefix('+')?;
    CODES
        .iter()
        .find(|(code, _)| digits.starts_with(code))
        .map(|(code, zone)| Region { code, zone: *zone })
}

/// Whether a caller from `caller` may read another clock than the clinic in `clinic_zone`
/// (whose own number is `clinic_number`) at `now`: the calling codes differ, or the caller's
/// country keeps one zone whose offset differs from the clinic's. A hint, never a zone.
pub fn caller_may_be_elsewhere(
    caller: &str,
    clinic_number: &str,
    clinic_zone: Tz,
    now: DateTime<Utc>,
) -> bool {
    let Some(theirs) = region(caller) else {
        return false;
    };
    if region(clinic_number).is_some_and(|ours| ours.code != theirs.code) {
        return true;
    }
    theirs.zone.is_some_and(|z| {
        now.with_timezone(&z).offset().fix() != now.with_timezone(&clinic_zone).offset().fix()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn calling_codes() {
        assert_eq!(
            region("+34600111222").unwrap().zone,
            Some(Tz::Europe__Madrid)
        );
        assert_eq!(region("+351912345678").unwrap().code, "351");
        assert_eq!(region("+12125550100").unwrap().zone, None);
        assert_eq!(region("+999"), None);
        assert_eq!(region("34600"), None);
    }

    #[test]
    fn a_spanish_caller_to_a_us_clinic_is_elsewhere() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 15, 0, 0).unwrap();
        let ny = Tz::America__New_York;
        assert!(caller_may_be_elsewhere(
            "+34600111222",
            "+12125550100",
            ny,
            now
        ));
        assert!(!caller_may_be_elsewhere(
            "+13105550100",
            "+12125550100",
            ny,
            now
        ));
        // Without the clinic's number, a one-zone country's offset decides.
        assert!(caller_may_be_elsewhere("+34600111222", "", ny, now));
        assert!(!caller_may_be_elsewhere(
            "+33600111222",
            "",
            Tz::Europe__Madrid,
            now
        ));
    }
}
