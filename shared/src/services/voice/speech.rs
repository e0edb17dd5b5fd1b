//! What is said on a call: prompts built from what the call gathered, and times, dates,
//! reference codes and email addresses in the form they are read out.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::text::{self, Speech};

/// The words that read values out.
fn words() -> &'static Speech {
    &text::current().speech
}

/// The booking read back before it is made: the service, when (`None` if unknown), the
/// client's name and email address.
pub fn confirm(
    tz: Tz,
    service: &str,
    start: Option<DateTime<Utc>>,
    name: &str,
    email: &str,
) -> String {
    let when = start.map(|t| speak_day_time(tz, t)).unwrap_or_default();
    (text::current().voice.confirm)(service, &when, name, &speak_email(email))
}

/// Names to choose from: "a, b, or c" (a single name alone, none as nothing).
pub fn choices(names: &[String]) -> String {
    (words().choices)(names)
}

/// Up to three open times: "9:00 AM", "9:00 AM or 9:30 AM", "9:00 AM, 9:30 AM, or 10:00 AM".
pub fn times(tz: Tz, starts: &[DateTime<Utc>]) -> String {
    let times: Vec<String> = starts.iter().map(|t| speak_time(tz, *t)).collect();
    (words().times)(&times)
}

/// "Tuesday, March 3".
pub fn speak_day(date: NaiveDate) -> String {
    date.format(words().day_format).to_string()
}

/// "10:30 AM" in the tenant's zone.
pub fn speak_time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz).format(words().time_format).to_string()
}

/// "Tuesday, March 3 at 10:30 AM" in the tenant's zone.
pub fn speak_day_time(tz: Tz, t: DateTime<Utc>) -> String {
    t.with_timezone(&tz)
        .format(words().day_time_format)
        .to_string()
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
pub fn speak_email(email: &str) -> String {
    email
        .replace('.', words().email_dot)
        .replace('@', words().email_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_forms() {
        assert_eq!(spell("ABCD-EFGH"), "A B C D, E F G H");
        assert_eq!(
            speak_email("jane.doe@gmail.com"),
            "jane dot doe at gmail dot com"
        );
    }
}
