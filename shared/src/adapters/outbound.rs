//! Outbound HTTP to URLs a tenant set, under the [`OutboundPolicy`].
//!
//! The check runs on the addresses a host resolves to, and the request goes to exactly
//! those: [`guarded_client`] gives reqwest a resolver ([`GuardedResolver`]) that resolves a
//! name once, refuses it when any of its addresses is internal, and hands the connector the
//! checked addresses. A DNS answer that changes between a check and the connection (a
//! rebind) therefore never reaches an internal address: there is no second lookup. An
//! address literal is never given to a resolver, so [`check_literal`] checks it before the
//! request. Proxies from the environment are off (a proxy would resolve the host itself),
//! and redirects are not followed.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::outbound::{OutboundPolicy, Refusal};

/// The host of a URL as an address, when it is a literal (`127.0.0.1`, `[::1]`).
fn literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// How long one name lookup may take.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

async fn lookup(host: &str) -> std::io::Result<Vec<SocketAddr>> {
    match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, 0))).await {
        Ok(found) => Ok(found?.collect()),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "looking up {host} took longer than {} s",
                LOOKUP_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// Checks an address literal host; a name passes here (its addresses are checked when it
/// is resolved).
pub fn check_literal(policy: &OutboundPolicy, host: &str) -> Result<(), Refusal> {
    match literal(host) {
        Some(ip) => policy.check_addr(host, ip),
        None => Ok(()),
    }
}

/// Resolves `host` (a name or a literal) and checks every address it resolves to; a name
/// that does not resolve is refused. Used when a URL is registered; deliveries check again
/// through [`GuardedResolver`].
pub async fn check_host(policy: &OutboundPolicy, host: &str) -> Result<Vec<IpAddr>, Refusal> {
    if let Some(ip) = literal(host) {
        policy.check_addr(host, ip)?;
        return Ok(vec![ip]);
    }
    let ips: Vec<IpAddr> = lookup(host)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.ip())
        .collect();
    policy.check_resolved(host, &ips)?;
    Ok(ips)
}

/// A reqwest resolver that refuses names resolving to internal addresses and returns the
/// addresses it checked (the connector connects to those and no others).
#[derive(Clone)]
pub struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: OutboundPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = lookup(&host).await?;
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            policy.check_resolved(&host, &ips)?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// A client builder for requests to tenant URLs: the guarded resolver, no proxy, no
/// redirects. Callers add timeouts and the user agent.
pub fn guarded_client(policy: &OutboundPolicy) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(GuardedResolver::new(policy.clone()))
        .redirect(reqwest::redirect::Policy::none())
}

/// The refusal behind a failed request, when the guarded resolver refused its host.
pub fn refusal(e: &reqwest::Error) -> Option<Refusal> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_and_local_names_are_checked_without_the_network() {
        let strict = OutboundPolicy::strict();
        assert!(check_literal(&strict, "127.0.0.1").is_err());
        assert!(check_literal(&strict, "[::1]").is_err());
        assert!(check_literal(&strict, "[::ffff:169.254.169.254]").is_err());
        assert!(check_literal(&strict, "203.0.113.10").is_ok());
        assert!(check_literal(&strict, "hooks.example.com").is_ok());
        assert!(check_host(&strict, "10.0.0.1").await.is_err());
        assert_eq!(
            check_host(&strict, "203.0.113.10").await.unwrap(),
            vec!["203.0.113.10".parse::<IpAddr>().unwrap()]
        );
        // `localhost` resolves from the hosts file, to loopback.
        let e = check_host(&strict, "localhost").await.unwrap_err();
        assert!(
            matches!(
                e,
                Refusal::Address {
                    class: crate::domain::outbound::AddrClass::Loopback,
                    ..
                }
            ),
            "{e}"
        );
        let dev = OutboundPolicy::new(true, &["localhost"]);
        assert!(!check_host(&dev, "localhost").await.unwrap().is_empty());
    }
}
