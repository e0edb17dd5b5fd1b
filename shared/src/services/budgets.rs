//! Request budgets of the public routes, kept in Postgres so every instance (each Lambda
//! instance, each `gomomo serve` process) counts against the same numbers.
//!
//! Each budget is a sliding window approximated by two fixed windows
//! ([`crate::db::budgets`]): the current window's hits plus the previous window's, weighted
//! by how much of it still overlaps. A refused request is not counted and learns when to
//! retry. Subjects are a tenant id, a conversation's digest, or a client address's keyed
//! digest (the raw address is never stored).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::PgPool;
use uuid::Uuid;

use crate::config::budgets::{canonical, Budget, BudgetConfig};
use crate::config::Config;
use crate::db::budgets as db;
use crate::ports::Clock;

/// The message of a socket's `rate_limited` error frame.
pub const RATE_LIMITED_MESSAGE: &str = "too many messages; try again later";

/// The error frame a socket gets for a message over budget: the `error` frame of the chat
/// protocol with code `rate_limited` and `retry_after` in seconds.
pub fn rate_limited_frame(retry_after: u64) -> String {
    serde_json::json!({
        "type": "error",
        "code": "rate_limited",
        "message": RATE_LIMITED_MESSAGE,
        "retry_after": retry_after.max(1),
    })
    .to_string()
}

/// What a budget counts; its name is the row's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    LiveHoldsPerIp,
    HoldsPerIp,
    HoldsPerTenant,
    ChatPerSession,
    ChatPerIp,
    LookupsPerIp,
    ChangesPerIp,
    WsConnectsPerIp,
    SessionsPerIp,
    SignInsPerIp,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LiveHoldsPerIp => "live_holds_ip",
            Kind::HoldsPerIp => "holds_ip",
            Kind::HoldsPerTenant => "holds_tenant",
            Kind::ChatPerSession => "chat_session",
            Kind::ChatPerIp => "chat_ip",
            Kind::LookupsPerIp => "lookups_ip",
            Kind::ChangesPerIp => "changes_ip",
            Kind::WsConnectsPerIp => "ws_connects_ip",
            Kind::SessionsPerIp => "sessions_ip",
            Kind::SignInsPerIp => "sign_ins_ip",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// Over budget: the caller may try again after `retry_after` seconds.
    #[error("too many requests ({}); retry after {retry_after} s", kind.as_str())]
    Exceeded { kind: Kind, retry_after: u64 },
    #[error("budget store: {0}")]
    Database(#[from] sqlx::Error),
}

/// The budgets of one process. Cheap to clone.
#[derive(Clone)]
pub struct Budgets {
    pool: PgPool,
    clock: Clock,
    config: Arc<BudgetConfig>,
    hold_ttl: Duration,
    key: Arc<[u8; 32]>,
}

type HmacSha256 = Hmac<Sha256>;
const KEY_LABEL: &[u8] = b"gomomo-budget-subjects:v1";

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut m = match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    for p in parts {
        m.update(p);
        m.update(&[0]);
    }
    m.finalize().into_bytes().to_vec()
}

impl Budgets {
    /// The configured budgets; subjects are keyed by a key derived from `ENCRYPTION_KEY`.
    pub fn new(pool: PgPool, clock: Clock, config: &Config) -> Self {
        let derived = mac(&config.delivery.encryption_key, &[KEY_LABEL]);
        let mut key = [0u8; 32];
        for (k, d) in key.iter_mut().zip(derived) {
            *k = d;
        }
        Self {
            pool,
            clock,
            config: Arc::new(config.budgets.clone()),
            hold_ttl: config.hold_ttl,
            key: Arc::new(key),
        }
    }

    /// Whether budgets are checked (`RATE_LIMITS`).
    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    pub fn config(&self) -> &BudgetConfig {
        &self.config
    }

    /// A client address's subject: a keyed digest, never the address itself. An IPv6
    /// client counts by its /64 (one subscriber's network: a client picks any address in
    /// it at will); an IPv4 client, or an IPv4-mapped IPv6 one, by its address.
    pub fn client_subject(&self, ip: IpAddr) -> String {
        let ip = client_network(ip);
        format!(
            "ip:{}",
            hex::encode(&mac(&self.key[..], &[b"ip", ip.as_bytes()])[..16])
        )
    }

    fn session_subject(&self, session: &str) -> String {
        format!(
            "s:{}",
            hex::encode(&mac(&self.key[..], &[b"session", session.as_bytes()])[..16])
        )
    }

    /// A new hold: at most [`live_holds_per_ip`](crate::config::budgets::BudgetLimits)
    /// holds per client address within one hold lifetime (so never more live at once),
    /// the hourly cap per address, and the hourly cap per tenant. A hold one of them
    /// refuses counts against none (a tenant at its cap leaves the address's budgets).
    pub async fn hold(&self, tenant: Uuid, client: Option<IpAddr>) -> Result<(), BudgetError> {
        if !self.enabled() {
            return Ok(());
        }
        let l = &self.config.limits;
        let mut steps: Vec<(Kind, String, Budget)> = Vec::with_capacity(3);
        if let Some(ip) = client {
            let subject = self.client_subject(ip);
            let live = Budget {
                limit: l.live_holds_per_ip,
                window: self.hold_ttl,
            };
            steps.push((Kind::LiveHoldsPerIp, subject.clone(), live));
            steps.push((Kind::HoldsPerIp, subject, l.holds_per_ip));
        }
        steps.push((Kind::HoldsPerTenant, tenant.to_string(), l.holds_per_tenant));
        self.take_all(&steps).await
    }

    /// A hold counted by [`Budgets::hold`] was not created (the slot was taken, the request
    /// was invalid): it does not count against the address's live holds. The hourly
    /// budgets keep counting the attempt.
    pub async fn hold_not_created(&self, client: Option<IpAddr>) {
        let Some(ip) = client.filter(|_| self.enabled()) else {
            return;
        };
        let w = Windows::at(self.clock.now(), self.hold_ttl);
        let subject = self.client_subject(ip);
        if let Err(e) =
            db::give_back(&self.pool, Kind::LiveHoldsPerIp.as_str(), &subject, w.start).await
        {
            tracing::warn!(error = %e, "could not give back a hold's budget");
        }
    }

    /// One chat turn (REST chat, a WebSocket `message`): per conversation and per address.
    /// The conversation is its id as sessions are accepted (trimmed), so padding the id
    /// does not make a new budget.
    pub async fn chat_turn(
        &self,
        session: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<(), BudgetError> {
        if !self.enabled() {
            return Ok(());
        }
        // The conversation first; a refused later budget gives back the earlier ones, so
        // a refused turn leaves every budget as it was.
        let l = &self.config.limits;
        let mut steps: Vec<(Kind, String, Budget)> = Vec::with_capacity(2);
        if let Some(s) = session {
            steps.push((
                Kind::ChatPerSession,
                self.session_subject(s.trim()),
                l.chat_per_session,
            ));
        }
        if let Some(ip) = client {
            steps.push((Kind::ChatPerIp, self.client_subject(ip), l.chat_per_ip));
        }
        self.take_all(&steps).await
    }

    /// A booking lookup by reference (the enumeration case).
    pub async fn lookup(&self, client: Option<IpAddr>) -> Result<(), BudgetError> {
        self.per_ip(
            Kind::LookupsPerIp,
            client,
            self.config.limits.lookups_per_ip,
        )
        .await
    }

    /// A cancel or a reschedule.
    pub async fn change(&self, client: Option<IpAddr>) -> Result<(), BudgetError> {
        self.per_ip(
            Kind::ChangesPerIp,
            client,
            self.config.limits.changes_per_ip,
        )
        .await
    }

    /// A new WebSocket connection.
    pub async fn ws_connect(&self, client: Option<IpAddr>) -> Result<(), BudgetError> {
        self.per_ip(
            Kind::WsConnectsPerIp,
            client,
            self.config.limits.ws_connects_per_ip,
        )
        .await
    }

    /// A session issued on request (`POST /api/tenants/{tenant}/sessions`).
    pub async fn session(&self, client: Option<IpAddr>) -> Result<(), BudgetError> {
        self.per_ip(
            Kind::SessionsPerIp,
            client,
            self.config.limits.sessions_per_ip,
        )
        .await
    }

    /// An admin sign-in attempt (the password-guessing case).
    pub async fn sign_in(&self, client: Option<IpAddr>) -> Result<(), BudgetError> {
        self.per_ip(
            Kind::SignInsPerIp,
            client,
            self.config.limits.sign_ins_per_ip,
        )
        .await
    }

    /// Removes counters that no longer count (the scheduler's sweep); returns how many.
    pub async fn purge(&self) -> Result<u64, sqlx::Error> {
        db::purge_expired(&self.pool, self.clock.now()).await
    }

    async fn per_ip(
        &self,
        kind: Kind,
        client: Option<IpAddr>,
        budget: Budget,
    ) -> Result<(), BudgetError> {
        match client {
            Some(ip) if self.enabled() => self
                .take(kind, &self.client_subject(ip), budget)
                .await
                .map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Takes each budget in turn; when one refuses (or the store fails), the ones already
    /// taken are given back, so a refused request counts against none of them.
    async fn take_all(&self, steps: &[(Kind, String, Budget)]) -> Result<(), BudgetError> {
        let mut taken = Vec::with_capacity(steps.len());
        for (kind, subject, budget) in steps {
            match self.take(*kind, subject, *budget).await {
                Ok(t) => taken.push(t),
                Err(e) => {
                    self.give_back(&taken).await;
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Gives back hits taken by [`Budgets::take`]; a failure is logged (the hit then counts
    /// until its window passes).
    async fn give_back(&self, taken: &[Taken<'_>]) {
        for t in taken {
            if let Err(e) =
                db::give_back(&self.pool, t.kind.as_str(), t.subject, t.window_start).await
            {
                tracing::warn!(error = %e, kind = t.kind.as_str(), "could not give back a budget hit");
            }
        }
    }

    async fn take<'s>(
        &self,
        kind: Kind,
        subject: &'s str,
        budget: Budget,
    ) -> Result<Taken<'s>, BudgetError> {
        let w = Windows::at(self.clock.now(), budget.window);
        let take = db::Take {
            kind: kind.as_str(),
            subject,
            window_start: w.start,
            previous_start: w.previous,
            window_seconds: w.seconds as i32,
            previous_weight: 1.0 - w.elapsed_fraction(),
            limit: i32::try_from(budget.limit).unwrap_or(i32::MAX),
            expires_at: w.start + chrono::Duration::seconds(2 * w.seconds),
        };
        if db::take(&self.pool, &take).await? {
            return Ok(Taken {
                kind,
                subject,
                window_start: w.start,
            });
        }
        let (current, previous) = db::hits(&self.pool, &take).await?;
        Err(BudgetError::Exceeded {
            kind,
            retry_after: retry_after(&w, budget.limit, current, previous),
        })
    }
}

/// What a client address counts as: an IPv4 address as itself, an IPv6 address as its /64
/// (written `net/64`).
fn client_network(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", std::net::Ipv6Addr::from(net))
        }
    }
}

/// One counted hit, to give back when a later budget of the same request refuses.
#[derive(Debug, Clone, Copy)]
struct Taken<'s> {
    kind: Kind,
    subject: &'s str,
    window_start: DateTime<Utc>,
}

/// The fixed windows around an instant.
#[derive(Debug, Clone, Copy)]
struct Windows {
    start: DateTime<Utc>,
    previous: DateTime<Utc>,
    seconds: i64,
    /// Seconds since `start` (with the fraction).
    elapsed: f64,
}

impl Windows {
    fn at(now: DateTime<Utc>, window: Duration) -> Self {
        let seconds = i64::try_from(window.as_secs())
            .unwrap_or(i64::MAX)
            .clamp(1, i64::from(i32::MAX));
        let ts = now.timestamp();
        let start_ts = ts - ts.rem_euclid(seconds);
        let start = Utc.timestamp_opt(start_ts, 0).single().unwrap_or(now);
        let elapsed = (now - start).num_milliseconds() as f64 / 1000.0;
        Self {
            start,
            previous: start - chrono::Duration::seconds(seconds),
            seconds,
            elapsed,
        }
    }

    fn elapsed_fraction(&self) -> f64 {
        (self.elapsed / self.seconds as f64).clamp(0.0, 1.0)
    }
}

/// Seconds until one more hit fits: the current window's hits stay until the window ends
/// and then fade over the next one; the previous window's fade over this one.
fn retry_after(w: &Windows, limit: u32, current: i32, previous: i32) -> u64 {
    let (limit, current, previous) = (f64::from(limit), f64::from(current), f64::from(previous));
    let span = w.seconds as f64;
    let wait = if current + 1.0 > limit {
        let fade = if current > 0.0 {
            span * (1.0 - (limit - 1.0) / current)
        } else {
            0.0
        };
        (span - w.elapsed) + fade
    } else if previous > 0.0 {
        let needed = 1.0 - (limit - current - 1.0) / previous;
        needed * span - w.elapsed
    } else {
        1.0
    };
    (wait.ceil().max(1.0) as u64).min(2 * w.seconds as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        let env = std::collections::HashMap::from([("DATABASE_URL", "postgres://unused/db")]);
        let config = match Config::from_lookup(|k| env.get(k).map(|v| v.to_string())) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let pool = match sqlx::postgres::PgPoolOptions::new().connect_lazy("postgres://unused/db") {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        Budgets::new(pool, Clock::fixed(Utc::now()), &config)
    }

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(ip) => ip,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[tokio::test]
    async fn an_ipv6_client_counts_by_its_64() {
        let b = budgets();
        let subject = |s: &str| b.client_subject(ip(s));
        // One /64: any address a client picks in its network is the same subject.
        assert_eq!(
            subject("2001:db8:1:2::1"),
            subject("2001:db8:1:2:ffff:ffff:ffff:fffe")
        );
        assert_eq!(subject("2001:db8:1:2::1"), subject("2001:db8:1:2:abcd::9"));
        // Another /64 is another subject.
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db8:1:3::1"));
        assert_ne!(subject("2001:db8:1:2::1"), subject("2001:db9:1:2::1"));
        // IPv4 counts per address, mapped or not.
        assert_eq!(subject("192.0.2.1"), subject("::ffff:192.0.2.1"));
        assert_ne!(subject("192.0.2.1"), subject("192.0.2.2"));
        assert_ne!(subject("::ffff:192.0.2.1"), subject("::ffff:192.0.2.2"));
        // The subject is a digest, never the address or its network.
        assert!(!subject("2001:db8:1:2::1").contains("2001"));
    }

    #[test]
    fn a_refused_caller_waits_until_one_more_fits() {
        let now = Utc
            .timestamp_opt(1_000_000_200, 0)
            .single()
            .unwrap_or_else(Utc::now);
        let w = Windows::at(now, Duration::from_secs(600));
        assert_eq!(w.start.timestamp() % 600, 0);
        assert!((0.0..600.0).contains(&w.elapsed));
        // Full in this window: wait for the window's end, then part of the next one.
        let full = retry_after(&w, 10, 10, 0);
        assert!(full as f64 >= 600.0 - w.elapsed, "{full}");
        assert!(full <= 1200);
        // Room in this window, but the previous one still weighs too much.
        let fading = retry_after(&w, 10, 2, 10);
        assert!(
            fading >= 1 && (fading as f64) <= 600.0 - w.elapsed,
            "{fading}"
        );
    }
}
