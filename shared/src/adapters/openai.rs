//! The [`ChatModel`] port over async-openai, against any OpenAI-compatible server.
//! Temperature 0.3. Each request has a timeout; 429 and 5xx answers are retried with
//! exponential backoff (async-openai's default executor: up to 3 retries, honouring
//! `Retry-After`).

use std::time::Duration as StdDuration;

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{ChatCompletionMessageToolCalls, CreateChatCompletionRequest};
use async_openai::Client;
use async_trait::async_trait;
use serde_json::{json, Value};

use crate::config::AgentConfig;
use crate::ports::model::{ChatModel, ModelError, ModelReply, ToolCall};

pub const TEMPERATURE: f32 = 0.3;

pub struct OpenAiModel {
    client: Client<OpenAIConfig>,
    model: String,
}

impl OpenAiModel {
    pub fn new(config: &AgentConfig) -> Self {
        let mut oc =
            OpenAIConfig::new().with_api_key(config.openai_api_key.clone().unwrap_or_default());
        if let Some(base) = &config.openai_base_url {
            oc = oc.with_api_base(base.trim_end_matches('/'));
        }
        let http = reqwest::Client::builder()
            .timeout(config.openai_timeout)
            .connect_timeout(StdDuration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            client: Client::build(http, oc),
            model: config.openai_model.clone(),
        }
    }
}

#[async_trait]
impl ChatModel for OpenAiModel {
    async fn complete(
        &self,
        messages: &[Value],
        tools: &[Value],
        force_text: bool,
    ) -> Result<ModelReply, ModelError> {
        let body = json!({
            "model": self.model,
            "temperature": TEMPERATURE,
            "messages": messages,
            "tools": tools,
            "tool_choice": if force_text { "none" } else { "auto" },
        });
        let req: CreateChatCompletionRequest =
            serde_json::from_value(body).map_err(|e| ModelError::Request(e.to_string()))?;
        let resp = self
            .client
            .chat()
            .create(req)
            .await
            .map_err(|e| ModelError::Failed(e.to_string()))?;
        let msg = resp
            .choices
            .into_iter()
            .next()
            .ok_or(ModelError::Empty)?
            .message;
        Ok(ModelReply {
            content: msg.content,
            tool_calls: msg
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .filter_map(|c| match c {
                    ChatCompletionMessageToolCalls::Function(f) => Some(ToolCall {
                        id: f.id,
                        name: f.function.name,
                        arguments: f.function.arguments,
                    }),
                    ChatCompletionMessageToolCalls::Custom(_) => None,
                })
                .collect(),
        })
    }
}
