//! Every outbound SMS goes through [`SmsGate`]: the tenant's opt-out ledger first, then the
//! rate limit per tenant and phone (counted in Postgres, default 3 per 60 minutes: each tenant
//! has its own budget for a number, so one tenant's traffic never silences another's), then
//! the configured [`SmsSender`] (Twilio, or the recording local adapter). A provider's "opted
//! out" answer (Twilio 21610) is written back to the ledger.
//!
//! The gate is itself an [`SmsSender`], so any code that holds the port (autonomous tools,
//! reminders) gets the same checks; it resolves the tenant from the sending number.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use sqlx::PgPool;

use crate::db::{calls, sms};
use crate::domain::{PhoneE164, TenantId};
use crate::ports::clock::Clock;
use crate::ports::{DeliveryError, SmsSender};

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the recipient opted out of messages")]
    OptedOut,
    #[error("too many messages to this number; try later")]
    RateLimited,
    #[error(transparent)]
    Delivery(DeliveryError),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct SmsGate {
    pool: PgPool,
    sender: Arc<dyn SmsSender>,
    clock: Clock,
    max_per_window: i32,
    window: Duration,
}

impl SmsGate {
    pub fn new(
        pool: PgPool,
        sender: Arc<dyn SmsSender>,
        clock: Clock,
        max_per_window: u32,
        window: StdDuration,
    ) -> Self {
        Self {
            pool,
            sender,
            clock,
            max_per_window: max_per_window.min(i32::MAX as u32) as i32,
            window: Duration::from_std(window).unwrap_or(Duration::minutes(60)),
        }
    }

    /// The ledger check alone (for replies sent as TwiML, which do not go through the API).
    pub async fn may_message(&self, tenant: TenantId, to: &PhoneE164) -> Result<bool, SmsError> {
        Ok(!sms::is_opted_out(&self.pool, tenant.0, to.as_str()).await?)
    }

    /// Counts one message from `tenant` to `to` against that tenant's budget for the number
    /// (`None`: a sender no tenant owns, counted apart); `RateLimited` when over it.
    pub async fn take_rate(
        &self,
        tenant: Option<TenantId>,
        to: &PhoneE164,
    ) -> Result<(), SmsError> {
        let mut conn = self.pool.acquire().await?;
        let sent = sms::count_send(
            &mut conn,
            tenant.map(|t| t.0),
            to.as_str(),
            self.clock.now(),
            self.window,
        )
        .await?;
        if sent > self.max_per_window {
            tracing::info!(sent, "sms rate limit reached");
            return Err(SmsError::RateLimited);
        }
        Ok(())
    }

    /// Sends one SMS for a tenant from `from` (the tenant's number) after the ledger and the
    /// rate limit allow it.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant))]
    pub async fn send(
        &self,
        tenant: TenantId,
        from: Option<&str>,
        to: &PhoneE164,
        body: &str,
    ) -> Result<String, SmsError> {
        if !self.may_message(tenant, to).await? {
            return Err(SmsError::OptedOut);
        }
        self.take_rate(Some(tenant), to).await?;
        match self.sender.send_sms(from, to, body).await {
            Ok(id) => Ok(id),
            Err(DeliveryError::OptedOut) => {
                sms::set_opt_out(
                    &self.pool,
                    tenant.0,
                    to.as_str(),
                    true,
                    "provider:21610",
                    None,
                    self.clock.now(),
                )
                .await?;
                Err(SmsError::OptedOut)
            }
            Err(e) => Err(SmsError::Delivery(e)),
        }
    }
}

#[async_trait]
impl SmsSender for SmsGate {
    async fn send_sms(
        &self,
        from: Option<&str>,
        to: &PhoneE164,
        body: &str,
    ) -> Result<String, DeliveryError> {
        let db = |e: sqlx::Error| DeliveryError::Transient(format!("database: {e}"));
        let tenant = match from {
            Some(f) => calls::number(&self.pool, f)
                .await
                .map_err(db)?
                .map(|n| TenantId(n.tenant_id)),
            None => None,
        };
        let result = match tenant {
            Some(t) => self.send(t, from, to, body).await,
            None => {
                // Unknown sender: refuse if the number opted out of anyone (fail closed).
                if sms::is_opted_out_anywhere(&self.pool, to.as_str())
                    .await
                    .map_err(db)?
                {
                    return Err(DeliveryError::OptedOut);
                }
                match self.take_rate(None, to).await {
                    Ok(()) => self
                        .sender
                        .send_sms(from, to, body)
                        .await
                        .map_err(SmsError::Delivery),
                    Err(e) => Err(e),
                }
            }
        };
        result.map_err(|e| match e {
            SmsError::OptedOut => DeliveryError::OptedOut,
            SmsError::RateLimited => DeliveryError::Transient("sms rate limit reached".into()),
            SmsError::Delivery(d) => d,
            SmsError::Database(e) => db(e),
        })
    }
}
