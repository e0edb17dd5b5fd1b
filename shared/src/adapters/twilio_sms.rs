//! The Twilio adapter of the [`SmsSender`] port: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`
//! with basic auth and a form body (`To`, `From`, `Body`). The base URL is configurable so
//! tests run it against a local HTTP server.
//!
//! Twilio's errors map onto [`DeliveryError`]: 21610 (the recipient replied STOP) is
//! [`DeliveryError::OptedOut`]; other 4xx are permanent; 429, 5xx and network failures are
//! worth retrying.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use crate::domain::PhoneE164;
use crate::ports::{DeliveryError, SmsSender};

use super::lazy_http::LazyClient;

/// Twilio's error code for "the recipient has opted out" (STOP).
pub const ERROR_OPTED_OUT: i64 = 21610;

#[derive(Clone)]
pub struct TwilioSmsSender {
    http: LazyClient,
    base_url: String,
    account_sid: String,
    auth_token: String,
    default_from: Option<String>,
}

impl std::fmt::Debug for TwilioSmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSmsSender")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioSmsSender {
    pub fn new(
        base_url: &str,
        account_sid: &str,
        auth_token: &str,
        default_from: Option<String>,
    ) -> Result<Self, DeliveryError> {
        let http = LazyClient::new("twilio", || {
            reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .connect_timeout(Duration::from_secs(5))
        });
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            default_from,
        })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.account_sid
        )
    }
}

#[async_trait]
impl SmsSender for TwilioSmsSender {
    async fn send_sms(
        &self,
        from: Option<&str>,
        to: &PhoneE164,
        body: &str,
    ) -> Result<String, DeliveryError> {
        let from = from
            .or(self.default_from.as_deref())
            .ok_or_else(|| DeliveryError::Permanent("no sender number".into()))?;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", to.as_str())
            .append_pair("From", from)
            .append_pair("Body", body)
            .finish();
        let http = self
            .http
            .get()
            .ok_or_else(|| DeliveryError::Transient("the HTTP client cannot be built".into()))?;
        let res = http
            .post(self.messages_url())
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(format!("twilio unreachable: {e}")))?;
        let status = res.status();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| DeliveryError::Transient(format!("twilio response: {e}")))?;
        if status.is_success() {
            let created: Created = serde_json::from_slice(&bytes).map_err(|e| {
                DeliveryError::Transient(format!("unexpected twilio response: {e}"))
            })?;
            tracing::info!(message_sid = %created.sid, "sms sent through twilio");
            return Ok(created.sid);
        }
        let err: Option<TwilioError> = serde_json::from_slice(&bytes).ok();
        let code = err.as_ref().and_then(|e| e.code);
        let message = err
            .and_then(|e| e.message)
            .unwrap_or_else(|| format!("HTTP {status}"));
        if code == Some(ERROR_OPTED_OUT) {
            return Err(DeliveryError::OptedOut);
        }
        if status.as_u16() == 429 || status.is_server_error() {
            Err(DeliveryError::Transient(format!(
                "twilio {status}: {message}"
            )))
        } else {
            Err(DeliveryError::Permanent(format!(
                "twilio {status} (code {}): {message}",
                code.unwrap_or_default()
            )))
        }
    }
}
