//! The closed set of registered autonomous tools and the typed job payloads. A job row's
//! `kind` must be one of [`Tool`]; anything else is refused by the runner.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The registered autonomous tools. There is no dynamic registration: this enum is the
/// whole whitelist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    SendConfirmation,
    SendCancellation,
    SendReminder,
    RetryCalendarSync,
    EscalateCalendarFailure,
    SendHoldFollowup,
    SendWaitlistNotification,
    SendContactFollowup,
    SendNoShowFollowup,
}

impl Tool {
    pub const ALL: [Tool; 9] = [
        Tool::SendConfirmation,
        Tool::SendCancellation,
        Tool::SendReminder,
        Tool::RetryCalendarSync,
        Tool::EscalateCalendarFailure,
        Tool::SendHoldFollowup,
        Tool::SendWaitlistNotification,
        Tool::SendContactFollowup,
        Tool::SendNoShowFollowup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::SendConfirmation => "send_confirmation",
            Tool::SendCancellation => "send_cancellation",
            Tool::SendReminder => "send_reminder",
            Tool::RetryCalendarSync => "retry_calendar_sync",
            Tool::EscalateCalendarFailure => "escalate_calendar_failure",
            Tool::SendHoldFollowup => "send_hold_followup",
            Tool::SendWaitlistNotification => "send_waitlist_notification",
            Tool::SendContactFollowup => "send_contact_followup",
            Tool::SendNoShowFollowup => "send_no_show_followup",
        }
    }

    pub fn parse(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReminderKind {
    #[serde(rename = "24h")]
    H24,
    #[serde(rename = "2h")]
    H2,
}

impl ReminderKind {
    pub fn lead(self) -> Duration {
        match self {
            ReminderKind::H24 => Duration::hours(24),
            ReminderKind::H2 => Duration::hours(2),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::H24 => "24h",
            ReminderKind::H2 => "2h",
        }
    }
}

/// A job's payload, tagged by tool name (the same tag as `jobs.kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case")]
pub enum JobSpec {
    SendConfirmation {
        booking_id: Uuid,
        sequence: i32,
    },
    SendCancellation {
        booking_id: Uuid,
    },
    SendReminder {
        booking_id: Uuid,
        which: ReminderKind,
        /// The start the reminder was planned for: a moved booking makes it stale.
        start: DateTime<Utc>,
    },
    RetryCalendarSync {
        booking_id: Uuid,
    },
    EscalateCalendarFailure {
        booking_id: Uuid,
        attempts: i32,
    },
    SendHoldFollowup {
        hold_id: Uuid,
        session_id: String,
        service_id: Uuid,
        start: DateTime<Utc>,
    },
    SendWaitlistNotification {
        entry_id: Uuid,
        service_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    SendContactFollowup {
        followup_id: Uuid,
    },
    /// The client missed a booking: a message with times to book again.
    SendNoShowFollowup {
        booking_id: Uuid,
    },
}

impl JobSpec {
    pub fn tool(&self) -> Tool {
        match self {
            JobSpec::SendConfirmation { .. } => Tool::SendConfirmation,
            JobSpec::SendCancellation { .. } => Tool::SendCancellation,
            JobSpec::SendReminder { .. } => Tool::SendReminder,
            JobSpec::RetryCalendarSync { .. } => Tool::RetryCalendarSync,
            JobSpec::EscalateCalendarFailure { .. } => Tool::EscalateCalendarFailure,
            JobSpec::SendHoldFollowup { .. } => Tool::SendHoldFollowup,
            JobSpec::SendWaitlistNotification { .. } => Tool::SendWaitlistNotification,
            JobSpec::SendContactFollowup { .. } => Tool::SendContactFollowup,
            JobSpec::SendNoShowFollowup { .. } => Tool::SendNoShowFollowup,
        }
    }

    pub fn booking_id(&self) -> Option<Uuid> {
        match self {
            JobSpec::SendConfirmation { booking_id, .. }
            | JobSpec::SendCancellation { booking_id }
            | JobSpec::SendReminder { booking_id, .. }
            | JobSpec::RetryCalendarSync { booking_id }
            | JobSpec::EscalateCalendarFailure { booking_id, .. }
            | JobSpec::SendNoShowFollowup { booking_id } => Some(*booking_id),
            _ => None,
        }
    }

    /// The wait after attempt `attempt` (1-based) failed. A calendar retry's first attempt
    /// already waited 30 s, so its next ones wait 120 s and 480 s; other tools start at 30 s.
    pub fn retry_delay(&self, attempt: i32) -> Duration {
        match self {
            JobSpec::RetryCalendarSync { .. } => backoff(attempt + 1),
            _ => backoff(attempt),
        }
    }

    /// Parses a job row: the kind must be a registered tool and the payload must match it.
    pub fn from_row(kind: &str, payload: &serde_json::Value) -> Result<JobSpec, JobRefusal> {
        let tool = Tool::parse(kind).ok_or(JobRefusal::UnknownTool)?;
        let spec: JobSpec = serde_json::from_value(payload.clone())
            .map_err(|e| JobRefusal::BadPayload(e.to_string()))?;
        if spec.tool() != tool {
            return Err(JobRefusal::BadPayload(format!(
                "payload is for {}, not {kind}",
                spec.tool().name()
            )));
        }
        Ok(spec)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobRefusal {
    #[error("not a registered tool")]
    UnknownTool,
    #[error("payload does not match the tool: {0}")]
    BadPayload(String),
}

/// Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed:
/// 30 s × 4^(attempt-1), capped at an hour — 30 s, 120 s, 480 s, … (the calendar retry
/// schedule the product promises; every tool shares it).
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.saturating_sub(1).clamp(0, 10) as u32;
    let secs = 30i64.saturating_mul(4i64.saturating_pow(exp));
    Duration::seconds(secs.min(3600))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_is_30_120_480() {
        assert_eq!(backoff(1).num_seconds(), 30);
        assert_eq!(backoff(2).num_seconds(), 120);
        assert_eq!(backoff(3).num_seconds(), 480);
        assert_eq!(backoff(9).num_seconds(), 3600);
        assert_eq!(backoff(0).num_seconds(), 30);
    }

    #[test]
    fn only_registered_tools_parse() {
        for t in Tool::ALL {
            assert_eq!(Tool::parse(t.name()), Some(t));
        }
        assert_eq!(
            JobSpec::from_row("exec_shell", &json!({"tool": "exec_shell"})),
            Err(JobRefusal::UnknownTool)
        );
        let spec = JobSpec::SendCancellation {
            booking_id: Uuid::new_v4(),
        };
        let payload = serde_json::to_value(&spec).unwrap();
        assert_eq!(
            JobSpec::from_row("send_cancellation", &payload).unwrap(),
            spec
        );
        // A payload for another tool under this kind is refused.
        assert!(matches!(
            JobSpec::from_row("send_reminder", &payload),
            Err(JobRefusal::BadPayload(_))
        ));
    }
}
