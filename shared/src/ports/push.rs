//! The `Pusher` port: posts a frame to one WebSocket connection by id. The API Gateway
//! adapter ([`crate::adapters::aws::ApiGatewayPusher`], feature `aws`) posts through the
//! Management API; an in-process server can implement it over its own sockets.

use async_trait::async_trait;

/// Why a frame could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The connection is gone (API Gateway 410): forget it.
    #[error("the connection is gone")]
    Gone,
    #[error("sending failed: {0}")]
    Failed(String),
}

/// Posts frames to WebSocket connections.
#[async_trait]
pub trait Pusher: Send + Sync {
    /// Posts `frame` to `connection_id` at `endpoint` (the Management API base URL the
    /// connection was recorded with).
    async fn post(
        &self,
        endpoint: &str,
        connection_id: &str,
        frame: String,
    ) -> Result<(), SendError>;
}
