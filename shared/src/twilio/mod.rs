//! Twilio: webhook signatures, TwiML, the webhook gate for axum, the Messages API adapter
//! of the SMS port, and the telephony settings.

pub mod config;
pub mod signature;
pub mod sms;
pub mod twiml;
pub mod webhook;

pub use config::{SignatureMode, TelephonyConfig};
pub use sms::TwilioSmsSender;
pub use webhook::{TwilioWebhook, WebhookVerifier};

use std::sync::Arc;

use crate::adapters::ports::{LogSmsSender, SmsSender};

/// The SMS adapter the configuration asks for: Twilio's Messages API when an account SID and
/// auth token are set, otherwise the local adapter that records messages in the log.
pub fn sms_sender_from_config(cfg: &TelephonyConfig) -> Arc<dyn SmsSender> {
    match (&cfg.account_sid, &cfg.auth_token) {
        (Some(sid), Some(token)) => match TwilioSmsSender::new(&cfg.api_base_url, sid, token, None)
        {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::error!(error = %e, "twilio sms adapter unavailable; recording sms locally");
                Arc::new(LogSmsSender)
            }
        },
        _ => Arc::new(LogSmsSender),
    }
}
