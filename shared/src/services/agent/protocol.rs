//! The WebSocket message protocol, the same on API Gateway and on the standalone `/ws`
//! (both run it through [`crate::services::chat_session`]). The client sends
//! `{"action":"message","tenant_id","session_id","text"}` (plus `hello` right after
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
    },
    Hello {
        tenant_id: String,
        session_id: Option<String>,
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
    Error {
        code: String,
        message: String,
    },
    Pong,
}

impl ServerMessage {
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Error {
            code: code.into(),
            message: message.into(),
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
            } => {
                let mut cut = String::new();
                for c in text.chars() {
                    if cut.len() + c.len_utf8() > MAX_FRAME_BYTES / 2 {
                        cut.push('…');
                        break;
                    }
                    cut.push(c);
                }
                Self::AssistantMessage {
                    session_id: session_id.clone(),
                    text: cut,
                    events: Vec::new(),
                }
            }
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
                session_id, state, ..
            } => Self::Status {
                session_id: session_id.clone(),
                state,
                text: String::new(),
            },
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
                text: "hi".into()
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
}
