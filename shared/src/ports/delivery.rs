//! Delivery ports: email and SMS. Autonomous tools and channels talk to these traits only.

use async_trait::async_trait;

use crate::domain::PhoneE164;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DeliveryError {
    /// Retrying will not help (bad address, rejected by the provider).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
    /// Worth retrying later (network, timeout, 5xx, rate limit).
    #[error("transient delivery failure: {0}")]
    Transient(String),
    /// The recipient opted out (SMS STOP ledger, provider error 21610).
    #[error("the recipient opted out")]
    OptedOut,
}

/// One outgoing email. `ics` is an RFC 5545 calendar object attached as text/calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub to: String,
    pub from_name: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub ics: Option<String>,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email; returns the provider's message id.
    async fn send_email(&self, email: &OutgoingEmail) -> Result<String, DeliveryError>;
}

#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends one SMS from `from` (None: the configured default sender); returns the
    /// provider's message id.
    async fn send_sms(
        &self,
        from: Option<&str>,
        to: &PhoneE164,
        body: &str,
    ) -> Result<String, DeliveryError>;
}
