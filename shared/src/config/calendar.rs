//! Calendar settings that are not secrets.

/// `CALENDAR_FAIL_MODE`: none | auth_error | network_error | timeout | all_ops_fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CalendarFailMode {
    #[default]
    None,
    AuthError,
    NetworkError,
    Timeout,
    AllOpsFail,
}

impl CalendarFailMode {
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::AuthError,
        Self::NetworkError,
        Self::Timeout,
        Self::AllOpsFail,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AuthError => "auth_error",
            Self::NetworkError => "network_error",
            Self::Timeout => "timeout",
            Self::AllOpsFail => "all_ops_fail",
        }
    }
}
