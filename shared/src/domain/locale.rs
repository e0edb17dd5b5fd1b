//! The languages the service speaks, as a value the domain can carry (on a tenant, a chat,
//! a call, a booking). The words of each language live in `crate::text`; what the client
//! says is read by `crate::domain::nlu` in every language at once.

use serde::{Deserialize, Serialize};

/// A language the service speaks. English is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    /// Every locale, in the order a language menu offers them.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Es];

    /// The ISO 639-1 code stored in the database and used by the API ("en", "es").
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    /// The locale of a code ("es", "es-US", "ES_mx" → Spanish); `None` for a language the
    /// service does not speak.
    pub fn from_code(code: &str) -> Option<Locale> {
        let primary = code
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        Locale::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The BCP 47 tag given to the phone provider's speech recognition and voice.
    pub fn speech_tag(self) -> &'static str {
        match self {
            Locale::En => "en-US",
            Locale::Es => "es-US",
        }
    }

    /// The language's own name, as a language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Es => "Español",
        }
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_regions_are_ignored() {
        for l in Locale::ALL {
            assert_eq!(Locale::from_code(l.code()), Some(l));
        }
        assert_eq!(Locale::from_code("es-US"), Some(Locale::Es));
        assert_eq!(Locale::from_code(" ES_mx "), Some(Locale::Es));
        assert_eq!(Locale::from_code("fr"), None);
        assert_eq!(Locale::from_code(""), None);
    }
}
