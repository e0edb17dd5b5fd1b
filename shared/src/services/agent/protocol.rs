//! The WebSocket message protocol, the same on API Gateway and on the standalone `/ws`
//! (both run it through [`crate::services::chat_session`]). The client sends
//! `{"action":"message","tenant_id","session_id","text"}` (optionally `client_time_zone`,
//! the browser's IANA zone, and `locale`, the language the client chose: "en", "es") (plus
//! `hello` right after
//! connecting, since API Gateway cannot post to a connection during `$connect`, and
//! `ping`); the server sends typed messages.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::tools::AgentEvent;

/// API Gateway WebSocket frames are limited to 32 KB; we stay under with room to spare.
pub const MAX_FRAME_BYTES: usize = 32 * 1024 - 512;
/// Longest user message accepted.
pub const MAX_TEXT_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ClientMessage {
    Message {
        tenant_id: String,
        session_id: Option<String>,
        text: String,
        /// The client's own time zone (the browser's IANA name), when the client sends it.
        #[serde(default)]
        client_time_zone: Option<String>,
        /// The language the client chose ("en", "es"); the chat still follows a message
        /// written clearly in another language the tenant offers.
        #[serde(default)]
        locale: Option<String>,
    },
    Hello {
        tenant_id: String,
        session_id: Option<String>,
        /// The language the client chose, answered in `status: connected`.
        #[serde(default)]
        locale: Option<String>,
    },
    Ping,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Typing {
        session_id: String,
        active: bool,
    },
    Status {
        session_id: String,
        /// `connected` | `working` | `idle`
        state: &'static str,
        text: String,
        /// On `connected`: the languages the tenant offers, its default first.
        #[serde(skip_serializing_if = "Option::is_none")]
        languages: Option<Vec<&'static str>>,
        /// On `connected`: the language the chat speaks to this client.
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: Option<&'static str>,
    },
    AssistantMessage {
        session_id: String,
        text: String,
        events: Vec<AgentEvent>,
    },
    Push {
        session_id: String,
        id: Uuid,
        push_type: String,
        payload: Value,
    },
    /// The conversation so far, oldest first, sent after `status: connected` on `hello`.
    /// `continues` names the channel a handoff came from ("voice", "sms"), if any.
    History {
        session_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        continues: Option<String>,
        messages: Vec<HistoryLine>,
    },
    Error {
        code: String,
        message: String,
    },
    /// An `error` frame with code `rate_limited` and `retry_after` in seconds (what
    /// [`crate::services::budgets::rate_limited_frame`] writes).
    #[serde(rename = "error")]
    RateLimited {
        code: &'static str,
        message: &'static str,
        retry_after: u64,
    },
    /// The session the server issued for this connection (after a `hello` without one, or
    /// with one that was not issued for the tenant, or a first `message` without one): the
    /// client keeps it and names it in its next frames.
    Session {
        session_id: String,
    },
    Pong,
}

/// One line of a [`ServerMessage::History`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryLine {
    /// `user` | `assistant`
    pub role: &'static str,
    pub text: String,
}

impl ServerMessage {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Error {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The `rate_limited` error frame: wait `retry_after` seconds (at least one).
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::RateLimited {
            code: "rate_limited",
            message: crate::services::budgets::RATE_LIMITED_MESSAGE,
            retry_after: retry_after.max(1),
        }
    }

    /// The JSON frame, guaranteed under [`MAX_FRAME_BYTES`]: oversized events or payloads
    /// are dropped first, then the text is cut.
    pub fn to_frame(&self) -> String {
        let full = serde_json::to_string(self).unwrap_or_default();
        if full.len() <= MAX_FRAME_BYTES {
            return full;
        }
        let shrunk = match self {
            Self::AssistantMessage {
                session_id, text, ..
            } => Self::AssistantMessage {
                session_id: session_id.clone(),
                text: cut_text(text, MAX_FRAME_BYTES / 2),
                events: Vec::new(),
            },
            Self::Push {
                session_id,
                id,
                push_type,
                ..
            } => Self::Push {
                session_id: session_id.clone(),
                id: *id,
                push_type: push_type.clone(),
                payload: serde_json::json!({"truncated": true}),
            },
            Self::Status {
                session_id,
                state,
                languages,
                locale,
                ..
            } => Self::Status {
                session_id: session_id.clone(),
                state,
                text: String::new(),
                languages: languages.clone(),
                locale: *locale,
            },
            Self::History {
                session_id,
                continues,
                messages,
            } => {
                // The newest lines that fit, each cut to a fair share of the frame; sizes
                // are measured as serialized, so escaping cannot push the frame over.
                let mut used = json_len(&Self::History {
                    session_id: session_id.clone(),
                    continues: continues.clone(),
                    messages: Vec::new(),
                });
                let mut kept = Vec::new();
                for m in messages.iter().rev() {
                    let line = HistoryLine {
                        role: m.role,
                        text: cut_text(&m.text, MAX_FRAME_BYTES / 8),
                    };
                    let cost = json_len(&line) + 1;
                    if used + cost > MAX_FRAME_BYTES {
                        break;
                    }
                    used += cost;
                    kept.push(line);
                }
                kept.reverse();
                Self::History {
                    session_id: session_id.clone(),
                    continues: continues.clone(),
                    messages: kept,
                }
            }
            Self::Error { code, .. } => Self::Error {
                code: code.chars().take(64).collect(),
                message: "error".into(),
            },
            other => other.clone(),
        };
        let s = serde_json::to_string(&shrunk).unwrap_or_default();
        if s.len() <= MAX_FRAME_BYTES {
            s
        } else {
            r#"{"type":"error","code":"frame_too_large","message":"a message was too large to send"}"#
                .to_string()
        }
    }
}

/// The length of `v` as JSON (over any budget when it cannot be serialized).
fn json_len<T: Serialize>(v: &T) -> usize {
    serde_json::to_string(v).map_or(MAX_FRAME_BYTES + 1, |s| s.len())
}

/// `text` cut to at most `max` bytes (on a character boundary, ending in "…" when cut).
fn cut_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = String::new();
    for c in text.chars() {
        if cut.len() + c.len_utf8() > max {
            cut.push('…');
            break;
        }
        cut.push(c);
    }
    cut
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_protocol() {
        let m: ClientMessage = serde_json::from_str(
            r#"{"action":"message","tenant_id":"t","session_id":"s","text":"hi"}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            ClientMessage::Message {
                tenant_id: "t".into(),
                session_id: Some("s".into()),
                text: "hi".into(),
                client_time_zone: None,
                locale: None,
            }
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"action":"dance"}"#).is_err());
        let f = ServerMessage::Typing {
            session_id: "s".into(),
            active: true,
        }
        .to_frame();
        assert_eq!(f, r#"{"type":"typing","session_id":"s","active":true}"#);
    }

    #[test]
    fn frames_stay_under_32_kb() {
        let big = ServerMessage::AssistantMessage {
            session_id: "s".into(),
            text: "é".repeat(40_000),
            events: vec![AgentEvent::SlotUnavailable; 2_000],
        };
        let f = big.to_frame();
        assert!(f.len() <= MAX_FRAME_BYTES, "{}", f.len());
        assert!(f.contains("assistant_message"));
        let push = ServerMessage::Push {
            session_id: "s".into(),
            id: Uuid::nil(),
            push_type: "waitlist_match".into(),
            payload: serde_json::json!({"x": "y".repeat(50_000)}),
        };
        let f = push.to_frame();
        assert!(f.len() <= MAX_FRAME_BYTES);
        assert!(f.contains("truncated"));
    }

    #[test]
    fn a_long_history_keeps_its_newest_lines_under_32_kb() {
        let messages: Vec<HistoryLine> = (0..400)
            .map(|i| HistoryLine {
                role: if i % 2 == 0 { "user" } else { "assistant" },
                // quotes and newlines double in JSON: the worst case for the budget
                text: format!("{i:03} {}", "\"\n".repeat(200)),
            })
            .collect();
        let f = ServerMessage::History {
            session_id: "s".into(),
            continues: Some("voice".into()),
            messages,
        }
        .to_frame();
        assert!(f.len() <= MAX_FRAME_BYTES, "{}", f.len());
        let v: Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["type"], "history");
        assert_eq!(v["continues"], "voice");
        let kept = v["messages"].as_array().unwrap();
        assert!(kept.len() > 5, "{}", kept.len());
        assert!(kept.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .starts_with("399"));

        let small = ServerMessage::History {
            session_id: "s".into(),
            continues: None,
            messages: vec![HistoryLine {
                role: "user",
                text: "hi".into(),
            }],
        }
        .to_frame();
        assert_eq!(
            small,
            r#"{"type":"history","session_id":"s","messages":[{"role":"user","text":"hi"}]}"#
        );
    }
}
