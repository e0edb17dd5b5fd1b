//! The chat model port: one completion request with tools, answered by text or by tool
//! calls. The OpenAI-compatible adapter lives in `adapters::openai` (feature `llm`); tests
//! script their own.

use async_trait::async_trait;
use serde_json::Value;

/// One function call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as the model wrote them (JSON text, not yet parsed).
    pub arguments: String,
}

/// The model's answer to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelReply {
    pub content: Option<String>,
    pub tool_calls: Vec<ToolCall>,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("language model request failed: {0}")]
    Failed(String),
    #[error("could not build the request: {0}")]
    Request(String),
    #[error("the model returned no choices")]
    Empty,
}

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// One completion over `messages` (OpenAI chat format) with the function `tools`;
    /// `force_text` forbids tool calls (`tool_choice: none`).
    async fn complete(
        &self,
        messages: &[Value],
        tools: &[Value],
        force_text: bool,
    ) -> Result<ModelReply, ModelError>;
}
