//! What is said on a call: prompts built from what the call gathered, and times, dates,
//! reference codes and email addresses in the form they are read out.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::Locale;
use crate::text::Speech;

/// The words that read values out.
fn words(locale: Locale) -> &'static Speech {
    &locale.text().speech
}

/// The booking read back before it is made: the service, when (`None` if unknown), the
/// client's name and email address.
pub fn confirm(
    locale: Locale,
    tz: Tz,
    service: &str,
    start: Option<DateTime<Utc>>,
    name: &str,
    email: &str,
) -> String {
    let when = start
        .map(|t| speak_day_time(locale, tz, t))
        .unwrap_or_default();
    (locale.text().voice.confirm)(service, &when, name, &speak_email(locale, email))
}

/// Names to choose from: "a, b, or c" (a single name alone, none as nothing).
pub fn choices(locale: Locale, names: &[String]) -> String {
    (words(locale).choices)(names)
}

/// Up to three open times: "9:00 AM", "9:00 AM or 9:30 AM", "9:00 AM, 9:30 AM, or 10:00 AM".
pub fn times(locale: Locale, tz: Tz, starts: &[DateTime<Utc>]) -> String {
    let times: Vec<String> = starts.iter().map(|t| speak_time(locale, tz, *t)).collect();
    (words(locale).times)(&times)
}

/// "Tuesday, March 3".
pub fn speak_day(locale: Locale, date: NaiveDate) -> String {
    locale.date(date, words(locale).day_format)
}

/// "10:30 AM" in the tenant's zone.
pub fn speak_time(locale: Locale, tz: Tz, t: DateTime<Utc>) -> String {
    locale.at(&t.with_timezone(&tz), words(locale).time_format)
}

/// "Tuesday, March 3 at 10:30 AM" in the tenant's zone.
pub fn speak_day_time(locale: Locale, tz: Tz, t: DateTime<Utc>) -> String {
    locale.at(&t.with_timezone(&tz), words(locale).day_time_format)
}

/// A code read letter by letter: "A B C D, E F G H".
pub fn spell(code: &str) -> String {
    code.split('-')
        .map(|part| {
            part.chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An email address as it is said: "jane dot doe at gmail dot com".
pub fn speak_email(locale: Locale, email: &str) -> String {
    email
        .replace('.', words(locale).email_dot)
        .replace('@', words(locale).email_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_forms() {
        assert_eq!(spell("ABCD-EFGH"), "A B C D, E F G H");
        assert_eq!(
            speak_email(Locale::En, "jane.doe@gmail.com"),
            "jane dot doe at gmail dot com"
        );
    }
}
