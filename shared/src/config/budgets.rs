//! Request budgets of the public routes (holds, chat turns, booking lookups, booking
//! changes, WebSocket connections), the proxies whose `X-Forwarded-For` is believed, and
//! the connection limits and timeouts of `gomomo serve`.

use std::net::IpAddr;
use std::time::Duration;

use super::{env_number, ConfigError, Environment};

/// One budget: at most `limit` hits in any sliding window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub window: Duration,
}

impl Budget {
    pub const fn new(limit: u32, window_seconds: u64) -> Self {
        Self {
            limit,
            window: Duration::from_secs(window_seconds),
        }
    }
}

const TEN_MINUTES: u64 = 600;
const HOUR: u64 = 3600;

/// Every budget; [`BudgetLimits::default`] is what a deployment gets without settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetLimits {
    /// Holds one client address may create within one hold lifetime (`HOLD_TTL_SECONDS`),
    /// so it never has more live holds than this (`BUDGET_LIVE_HOLDS_PER_IP`, 3).
    pub live_holds_per_ip: u32,
    /// Holds per client address per hour (`BUDGET_HOLDS_PER_IP_PER_HOUR`, 20).
    pub holds_per_ip: Budget,
    /// Holds per tenant per hour, all clients together (`BUDGET_HOLDS_PER_TENANT_PER_HOUR`, 600).
    pub holds_per_tenant: Budget,
    /// Chat turns per conversation per 10 minutes (`BUDGET_CHAT_TURNS_PER_SESSION`, 40).
    pub chat_per_session: Budget,
    /// Chat turns per client address per 10 minutes (`BUDGET_CHAT_TURNS_PER_IP`, 120).
    pub chat_per_ip: Budget,
    /// Booking lookups by reference per client address per 10 minutes
    /// (`BUDGET_LOOKUPS_PER_IP`, 20).
    pub lookups_per_ip: Budget,
    /// Cancels and reschedules per client address per hour (`BUDGET_CHANGES_PER_IP`, 20).
    pub changes_per_ip: Budget,
    /// New WebSocket connections per client address per 10 minutes
    /// (`BUDGET_WS_CONNECTS_PER_IP`, 30).
    pub ws_connects_per_ip: Budget,
    /// Sessions issued by `POST /api/tenants/{tenant}/sessions` per client address per hour
    /// (`BUDGET_SESSIONS_PER_IP_PER_HOUR`, 60).
    pub sessions_per_ip: Budget,
    /// Admin sign-in attempts per client address per 10 minutes
    /// (`BUDGET_SIGN_INS_PER_IP`, 10).
    pub sign_ins_per_ip: Budget,
}

impl Default for BudgetLimits {
    fn default() -> Self {
        Self {
            live_holds_per_ip: 3,
            holds_per_ip: Budget::new(20, HOUR),
            holds_per_tenant: Budget::new(600, HOUR),
            chat_per_session: Budget::new(40, TEN_MINUTES),
            chat_per_ip: Budget::new(120, TEN_MINUTES),
            lookups_per_ip: Budget::new(20, TEN_MINUTES),
            changes_per_ip: Budget::new(20, HOUR),
            ws_connects_per_ip: Budget::new(30, TEN_MINUTES),
            sessions_per_ip: Budget::new(60, HOUR),
            sign_ins_per_ip: Budget::new(10, TEN_MINUTES),
        }
    }
}

/// A network: an address and a prefix length (`10.0.0.0/8`, `::1/128`; a bare address is
/// one host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The shortest prefix a trusted proxy network may have: `/8` for IPv4, `/32` for
    /// IPv6. Anything wider (`0.0.0.0/0`, `::/0`) would let every client choose its own
    /// address through `X-Forwarded-For`.
    pub fn min_trusted_prefix(&self) -> u8 {
        if self.addr.is_ipv4() {
            MIN_TRUSTED_PREFIX_V4
        } else {
            MIN_TRUSTED_PREFIX_V6
        }
    }

    /// Whether `ip` is inside the network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The shortest IPv4 prefix `TRUSTED_PROXIES` accepts.
pub const MIN_TRUSTED_PREFIX_V4: u8 = 8;
/// The shortest IPv6 prefix `TRUSTED_PROXIES` accepts.
pub const MIN_TRUSTED_PREFIX_V6: u8 = 32;

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The budgets' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetConfig {
    /// `RATE_LIMITS` (`on` by default; `off` for benchmarks and tests that hammer from one
    /// loopback client, refused in production).
    pub enabled: bool,
    pub limits: BudgetLimits,
    /// `TRUSTED_PROXIES` (`gomomo serve`): peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            limits: BudgetLimits::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `gomomo serve`'s connection handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Open connections at most (`SERVE_MAX_CONNECTIONS`, 1024); one more is answered 503
    /// and closed.
    pub max_connections: usize,
    /// A request's header must arrive within this, counted from the connection's start or
    /// from the end of the previous response on a kept-alive connection
    /// (`SERVE_HEADER_TIMEOUT_SECONDS`, 10).
    pub header_timeout: Duration,
    /// An HTTP request must be answered within this (`SERVE_REQUEST_TIMEOUT_SECONDS`, 60).
    pub request_timeout: Duration,
    /// A WebSocket that sends nothing for this long is closed (`WS_IDLE_TIMEOUT_SECONDS`, 600).
    pub socket_idle_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            socket_idle_timeout: Duration::from_secs(600),
        }
    }
}

fn flag(get: &dyn Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    match get(var)
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .as_deref()
    {
        None | Some("on") | Some("true") | Some("1") | Some("yes") => Ok(true),
        Some("off") | Some("false") | Some("0") | Some("no") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not on or off"),
        }),
    }
}

impl BudgetConfig {
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        environment: Environment,
    ) -> Result<Self, ConfigError> {
        let get = &|k: &str| get(k).filter(|v| !v.trim().is_empty());
        let enabled = flag(get, "RATE_LIMITS")?;
        if !enabled && environment == Environment::Production {
            return Err(ConfigError::Production {
                var: "RATE_LIMITS",
                reason: "request budgets cannot be switched off in production",
            });
        }
        let d = BudgetLimits::default();
        let n = |var: &'static str, default: &Budget| -> Result<Budget, ConfigError> {
            let limit = env_number(
                get(var).as_deref(),
                var,
                u64::from(default.limit),
                1,
                100_000,
            )?;
            Ok(Budget {
                // bounded by the maximum above
                limit: limit as u32,
                window: default.window,
            })
        };
        let live = env_number(
            get("BUDGET_LIVE_HOLDS_PER_IP").as_deref(),
            "BUDGET_LIVE_HOLDS_PER_IP",
            u64::from(d.live_holds_per_ip),
            1,
            1000,
        )? as u32;
        let limits = BudgetLimits {
            live_holds_per_ip: live,
            holds_per_ip: n("BUDGET_HOLDS_PER_IP_PER_HOUR", &d.holds_per_ip)?,
            holds_per_tenant: n("BUDGET_HOLDS_PER_TENANT_PER_HOUR", &d.holds_per_tenant)?,
            chat_per_session: n("BUDGET_CHAT_TURNS_PER_SESSION", &d.chat_per_session)?,
            chat_per_ip: n("BUDGET_CHAT_TURNS_PER_IP", &d.chat_per_ip)?,
            lookups_per_ip: n("BUDGET_LOOKUPS_PER_IP", &d.lookups_per_ip)?,
            changes_per_ip: n("BUDGET_CHANGES_PER_IP", &d.changes_per_ip)?,
            ws_connects_per_ip: n("BUDGET_WS_CONNECTS_PER_IP", &d.ws_connects_per_ip)?,
            sessions_per_ip: n("BUDGET_SESSIONS_PER_IP_PER_HOUR", &d.sessions_per_ip)?,
            sign_ins_per_ip: n("BUDGET_SIGN_INS_PER_IP", &d.sign_ins_per_ip)?,
        };
        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let net = Cidr::parse(s).ok_or_else(|| ConfigError::Invalid {
                        var: "TRUSTED_PROXIES",
                        reason: format!("{s:?} is not an address or a CIDR network"),
                    })?;
                    if net.prefix() < net.min_trusted_prefix() {
                        return Err(ConfigError::Invalid {
                            var: "TRUSTED_PROXIES",
                            reason: format!(
                                "{s:?} is too wide to trust: a proxy network needs a prefix \
                                 of at least /{} (every client could otherwise choose its \
                                 address through X-Forwarded-For)",
                                net.min_trusted_prefix()
                            ),
                        });
                    }
                    Ok(net)
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Self {
            enabled,
            limits,
            trusted_proxies,
        })
    }
}

impl ServeLimits {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = &|k: &str| get(k).filter(|v| !v.trim().is_empty());
        let d = Self::default();
        let secs = |var: &'static str, default: Duration, min: u64, max: u64| {
            env_number(get(var).as_deref(), var, default.as_secs(), min, max)
                .map(Duration::from_secs)
        };
        Ok(Self {
            max_connections: env_number(
                get("SERVE_MAX_CONNECTIONS").as_deref(),
                "SERVE_MAX_CONNECTIONS",
                d.max_connections as u64,
                1,
                1_000_000,
            )? as usize,
            header_timeout: secs("SERVE_HEADER_TIMEOUT_SECONDS", d.header_timeout, 1, 300)?,
            request_timeout: secs("SERVE_REQUEST_TIMEOUT_SECONDS", d.request_timeout, 1, 3600)?,
            socket_idle_timeout: secs("WS_IDLE_TIMEOUT_SECONDS", d.socket_idle_timeout, 1, 86_400)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let host = Cidr::parse("127.0.0.1").unwrap();
        assert!(host.contains("127.0.0.1".parse().unwrap()));
        assert!(!host.contains("127.0.0.2".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("fd00::/8")
            .unwrap()
            .contains("fd12::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("nope").is_none());
    }

    #[test]
    fn the_switch_is_refused_in_production() {
        let off = lookup(&[("RATE_LIMITS", "off")]);
        assert!(
            !BudgetConfig::from_lookup(&off, Environment::Development)
                .unwrap()
                .enabled
        );
        let e = BudgetConfig::from_lookup(&off, Environment::Production).unwrap_err();
        assert!(e.to_string().contains("RATE_LIMITS"), "{e}");
        let none = lookup(&[]);
        let c = BudgetConfig::from_lookup(&none, Environment::Production).unwrap();
        assert!(c.enabled);
        assert_eq!(c.limits, BudgetLimits::default());
        let bad = lookup(&[("TRUSTED_PROXIES", "10.0.0.0/8, bogus")]);
        let e = BudgetConfig::from_lookup(&bad, Environment::Development).unwrap_err();
        assert!(e.to_string().contains("TRUSTED_PROXIES"), "{e}");
    }

    #[test]
    fn trusted_proxy_networks_that_cover_everyone_are_refused() {
        for wide in [
            "0.0.0.0/0",
            "::/0",
            "10.0.0.0/7",
            "2001:db8::/31",
            "10.0.0.1, ::/0",
        ] {
            let get = lookup(&[("TRUSTED_PROXIES", wide)]);
            let e = BudgetConfig::from_lookup(&get, Environment::Development).unwrap_err();
            let text = e.to_string();
            assert!(text.contains("TRUSTED_PROXIES"), "{wide}: {text}");
            assert!(text.contains("too wide"), "{wide}: {text}");
        }
        let get = lookup(&[(
            "TRUSTED_PROXIES",
            "10.0.0.0/8, 2001:db8::/32, 127.0.0.1, ::1",
        )]);
        let c = BudgetConfig::from_lookup(&get, Environment::Development).unwrap();
        assert_eq!(c.trusted_proxies.len(), 4);
    }
}
