//! The client's address, for the per-address budgets.
//!
//! - On Lambda, API Gateway's `sourceIp` (HTTP API `requestContext.http.sourceIp`, the
//!   WebSocket event's `requestContext.identity.sourceIp`): the function's adapter puts it
//!   in the request as [`GatewaySourceIp`]; headers are never consulted.
//! - Under `gomomo serve`, the socket's peer (axum's `ConnectInfo`). `X-Forwarded-For` is
//!   read only when the peer is one of the [`TrustedProxies`]: its hops are walked from the
//!   right, past trusted proxies, and the first untrusted hop is the client.
//!
//! Without any of these (a test calling the router directly) the address is unknown and
//! the per-address budgets are not applied; the per-tenant and per-session ones still are.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::config::budgets::{canonical, Cidr};

/// The address API Gateway saw the request come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewaySourceIp(pub IpAddr);

impl GatewaySourceIp {
    /// Parses API Gateway's `sourceIp` field.
    pub fn parse(source_ip: Option<&str>) -> Option<Self> {
        source_ip
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
            .map(|ip| Self(canonical(ip)))
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<[Cidr]>);

impl TrustedProxies {
    pub fn new(cidrs: &[Cidr]) -> Self {
        Self(cidrs.into())
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

/// The client's address, when the server can tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(GatewaySourceIp(ip)) = parts.extensions.get::<GatewaySourceIp>() {
            return Ok(Self(Some(*ip)));
        }
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(Self(None));
        };
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        Ok(Self(Some(resolve(peer.ip(), &trusted, &parts.headers))))
    }
}

/// The client behind `peer`: the peer itself unless it is a trusted proxy, otherwise the
/// rightmost `X-Forwarded-For` hop that is not a trusted proxy. A hop that does not parse
/// ends the walk at the last address known good.
pub fn resolve(peer: IpAddr, trusted: &TrustedProxies, headers: &HeaderMap) -> IpAddr {
    let mut client = canonical(peer);
    if !trusted.trusts(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !trusted.trusts(ip) {
            return ip;
        }
    }
    client
}

/// One `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_hops_count_only_behind_a_trusted_proxy() {
        let proxies = TrustedProxies::new(&[Cidr::parse("10.0.0.0/8").unwrap()]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // An untrusted peer: its header is ignored.
        assert_eq!(
            resolve(ip("203.0.113.9"), &proxies, &xff("1.1.1.1")),
            ip("203.0.113.9")
        );
        // A trusted peer: the rightmost hop that is not a proxy (the left ones are the
        // client's own claims).
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &proxies,
                &xff("6.6.6.6, 198.51.100.7, 10.1.1.1")
            ),
            ip("198.51.100.7")
        );
        // Only proxies, or no header: the last proxy.
        assert_eq!(
            resolve(ip("10.0.0.2"), &proxies, &xff("10.9.9.9")),
            ip("10.9.9.9")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &proxies, &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Garbage stops the walk.
        assert_eq!(
            resolve(ip("10.0.0.2"), &proxies, &xff("1.2.3.4, junk")),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &proxies, &xff("[2001:db8::1]:443")),
            ip("2001:db8::1")
        );
        assert_eq!(
            GatewaySourceIp::parse(Some("198.51.100.1")),
            Some(GatewaySourceIp(ip("198.51.100.1")))
        );
        assert_eq!(GatewaySourceIp::parse(Some("nope")), None);
    }
}
