//! Which addresses a request a tenant asked for may reach.
//!
//! A URL a tenant sets (a webhook endpoint) must lead to the public internet: never back
//! into the deployment's own network, its loopback, or the cloud's metadata service. The
//! rule applies to the addresses a host resolves to, not to how it is spelled, so
//! [`classify`] looks through IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms to the
//! IPv4 address inside.
//!
//! [`OutboundPolicy`] adds the development allow-list (`OUTBOUND_ALLOW_HOSTS`): a host written
//! there is reached whatever it resolves to, and an address written there is accepted among
//! a host's addresses. Production refuses to start with an allow-list.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP is, for outbound requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrClass {
    /// Routable on the internet: the only kind a tenant's URL may reach.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, fc00::/7 (and the old site-local fec0::/10).
    Private,
    /// 169.254/16 (the cloud metadata service lives at 169.254.169.254), fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 100.64/10, the carrier-grade NAT range.
    SharedNat,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255, 240/4, 192.0.0/24, 198.18/15: not for hosts on the internet.
    Reserved,
}

impl AddrClass {
    pub fn is_public(self) -> bool {
        self == AddrClass::Public
    }

    /// The words used in refusals ("a loopback address").
    pub fn describe(self) -> &'static str {
        match self {
            AddrClass::Public => "a public address",
            AddrClass::Loopback => "a loopback address",
            AddrClass::Private => "a private address",
            AddrClass::LinkLocal => "a link-local address",
            AddrClass::Unspecified => "an unspecified address",
            AddrClass::SharedNat => "a shared (carrier-grade NAT) address",
            AddrClass::Multicast => "a multicast address",
            AddrClass::Reserved => "a reserved address",
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrClass {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        AddrClass::Unspecified
    } else if a == 127 {
        AddrClass::Loopback
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        AddrClass::Private
    } else if a == 169 && b == 254 {
        AddrClass::LinkLocal
    } else if a == 100 && (64..=127).contains(&b) {
        AddrClass::SharedNat
    } else if (224..=239).contains(&a) {
        AddrClass::Multicast
    } else if a >= 240 || (a == 192 && b == 0 && c == 0) || (a == 198 && (b == 18 || b == 19)) {
        AddrClass::Reserved
    } else {
        AddrClass::Public
    }
}

/// The IPv4 address an IPv6 address carries, for the forms that reach it: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        // IPv4-translated (`::ffff:0:a.b.c.d`).
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail),
        // `::` and `::1` are themselves, not IPv4-compatible forms.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrClass {
    if ip.is_unspecified() {
        return AddrClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddrClass::Loopback;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    let first = s[0];
    // Not routable on the internet, or translating to IPv4 in ways the address alone does
    // not show: the rest of `::/8`, discard-only `100::/64`, the IETF protocol block
    // `2001::/23` (Teredo included), documentation `2001:db8::/32`, and the local-use NAT64
    // prefix `64:ff9b:1::/48`.
    let reserved = first & 0xff00 == 0
        || (first == 0x0100 && s[1..4] == [0, 0, 0])
        || (first == 0x2001 && s[1] < 0x0200)
        || (first == 0x2001 && s[1] == 0x0db8)
        || (first == 0x64 && s[1] == 0xff9b && s[2] == 1);
    if reserved {
        AddrClass::Reserved
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        AddrClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddrClass::LinkLocal
    } else if first & 0xff00 == 0xff00 {
        AddrClass::Multicast
    } else {
        AddrClass::Public
    }
}

/// A host name others can reach: not `localhost` or a local-only name, not an address in a
/// loopback, private, link-local or otherwise reserved range, and a dotted name.
pub fn is_public_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return classify(ip).is_public();
    }
    let local_suffix = [
        ".localhost",
        ".local",
        ".internal",
        ".localdomain",
        ".home.arpa",
    ]
    .iter()
    .any(|s| host.ends_with(s));
    !host.is_empty() && host != "localhost" && host.contains('.') && !local_suffix
}

/// The class of `ip`, looking through the IPv6 forms that carry an IPv4 address.
pub fn classify(ip: IpAddr) -> AddrClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Why an outbound request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The host is or resolves to an address that is not public. The message names the
    /// kind of address only: the address itself would make registration a way to learn
    /// what internal names resolve to.
    #[error("{host} resolves to {}", .class.describe())]
    Address {
        host: String,
        addr: IpAddr,
        class: AddrClass,
    },
    /// The host resolves to nothing.
    #[error("{host} does not resolve to any address")]
    Unresolved { host: String },
}

/// The outbound rule of a process: whether plain http is accepted (development) and the
/// development allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Plain `http://` URLs are accepted (development only).
    pub allow_http: bool,
    hosts: Vec<String>,
    addrs: Vec<IpAddr>,
}

/// A host as compared with the allow-list: lower case, no trailing dot, no IPv6 brackets.
fn normalise_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

impl OutboundPolicy {
    /// Public addresses only, https only: the production rule.
    pub fn strict() -> Self {
        Self::default()
    }

    /// `allow_http` and an allow-list of host names and IP addresses (`127.0.0.1`,
    /// `localhost`, `::1`).
    pub fn new<S: AsRef<str>>(allow_http: bool, allow: &[S]) -> Self {
        let mut hosts = Vec::new();
        let mut addrs = Vec::new();
        for entry in allow {
            let e = normalise_host(entry.as_ref());
            if e.is_empty() {
                continue;
            }
            match e.parse::<IpAddr>() {
                Ok(ip) => addrs.push(ip),
                Err(_) => hosts.push(e),
            }
        }
        Self {
            allow_http,
            hosts,
            addrs,
        }
    }

    /// Whether an allow-list is set.
    pub fn has_allow_list(&self) -> bool {
        !self.hosts.is_empty() || !self.addrs.is_empty()
    }

    /// The host is on the allow-list as written (a name or an address literal): it is
    /// reached whatever it resolves to.
    pub fn host_allowed(&self, host: &str) -> bool {
        let h = normalise_host(host);
        match h.parse::<IpAddr>() {
            Ok(ip) => self.addrs.contains(&ip),
            Err(_) => self.hosts.contains(&h),
        }
    }

    /// One address: public, or on the allow-list.
    pub fn check_addr(&self, host: &str, addr: IpAddr) -> Result<(), Refusal> {
        let class = classify(addr);
        if class.is_public() || self.addrs.contains(&addr) || self.host_allowed(host) {
            return Ok(());
        }
        Err(Refusal::Address {
            host: normalise_host(host),
            addr,
            class,
        })
    }

    /// Every address `host` resolved to must pass: one internal address among public ones
    /// refuses the host (a client may connect to any of them).
    pub fn check_resolved(&self, host: &str, addrs: &[IpAddr]) -> Result<(), Refusal> {
        if addrs.is_empty() {
            return Err(Refusal::Unresolved {
                host: normalise_host(host),
            });
        }
        addrs.iter().try_for_each(|a| self.check_addr(host, *a))
    }
}

impl fmt::Display for OutboundPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self
            .hosts
            .iter()
            .cloned()
            .chain(self.addrs.iter().map(IpAddr::to_string))
            .collect();
        write!(
            f,
            "{}, allow-list [{}]",
            if self.allow_http {
                "http and https"
            } else {
                "https only"
            },
            list.join(", ")
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn class(s: &str) -> AddrClass {
        classify(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        use AddrClass::*;
        for (ip, want) in [
            ("127.0.0.1", Loopback),
            ("127.255.255.254", Loopback),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("172.15.255.255", Public),
            ("172.32.0.0", Public),
            ("192.168.1.1", Private),
            ("192.169.0.1", Public),
            ("169.254.169.254", LinkLocal),
            ("169.254.0.1", LinkLocal),
            ("0.0.0.0", Unspecified),
            ("0.1.2.3", Unspecified),
            ("100.64.0.1", SharedNat),
            ("100.127.255.255", SharedNat),
            ("100.63.255.255", Public),
            ("100.128.0.0", Public),
            ("224.0.0.1", Multicast),
            ("239.255.255.250", Multicast),
            ("255.255.255.255", Reserved),
            ("240.0.0.1", Reserved),
            ("192.0.0.170", Reserved),
            ("198.18.0.1", Reserved),
            ("8.8.8.8", Public),
            ("93.184.215.14", Public),
            ("203.0.113.10", Public),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges_and_embedded_ipv4() {
        use AddrClass::*;
        for (ip, want) in [
            ("::1", Loopback),
            ("::", Unspecified),
            ("fc00::1", Private),
            ("fd12:3456:789a::1", Private),
            ("fec0::1", Private),
            ("fe80::1", LinkLocal),
            ("febf::1", LinkLocal),
            ("ff02::1", Multicast),
            ("2606:4700:4700::1111", Public),
            ("2001:db8::1", Reserved),
            ("2001::1", Reserved),
            ("2001:1ff::1", Reserved),
            ("2001:200::1", Public),
            ("100::1", Reserved),
            ("1::1", Reserved),
            ("64:ff9b:1::a9fe:a9fe", Reserved),
            ("::ffff:0:a9fe:a9fe", LinkLocal),
            ("::ffff:0:7f00:1", Loopback),
            // IPv4-mapped forms take the class of the IPv4 address inside.
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:7f00:1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:169.254.169.254", LinkLocal),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:100.64.0.1", SharedNat),
            ("::ffff:8.8.8.8", Public),
            // IPv4-compatible, NAT64 and 6to4 forms too.
            ("::127.0.0.1", Loopback),
            ("::192.168.0.1", Private),
            ("64:ff9b::a9fe:a9fe", LinkLocal),
            ("64:ff9b::808:808", Public),
            ("2002:7f00:1::", Loopback),
            ("2002:a00:1::1", Private),
            ("2002:808:808::1", Public),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn the_strict_policy_refuses_every_internal_address() {
        let p = OutboundPolicy::strict();
        assert!(!p.allow_http);
        assert!(!p.has_allow_list());
        let ok: IpAddr = "8.8.8.8".parse().unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(p.check_resolved("dns.example", &[ok]).is_ok());
        let e = p.check_resolved("evil.example", &[ok, lo]).unwrap_err();
        assert_eq!(
            e,
            Refusal::Address {
                host: "evil.example".into(),
                addr: lo,
                class: AddrClass::Loopback
            }
        );
        assert_eq!(e.to_string(), "evil.example resolves to a loopback address");
        assert!(matches!(
            p.check_resolved("nowhere.example", &[]),
            Err(Refusal::Unresolved { .. })
        ));
        assert!(p.check_addr("localhost", lo).is_err());
    }

    #[test]
    fn the_allow_list_names_hosts_and_addresses() {
        let p = OutboundPolicy::new(true, &["127.0.0.1", " LocalHost. ", "[::1]", ""]);
        assert!(p.has_allow_list());
        assert!(p.host_allowed("localhost"));
        assert!(p.host_allowed("LOCALHOST."));
        assert!(p.host_allowed("127.0.0.1"));
        assert!(p.host_allowed("[::1]"));
        assert!(!p.host_allowed("127.0.0.2"));
        assert!(!p.host_allowed("evil.example"));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let meta: IpAddr = "169.254.169.254".parse().unwrap();
        // An allowed name reaches whatever it resolves to.
        assert!(p.check_resolved("localhost", &[other]).is_ok());
        // An allowed address is accepted behind any name; others are not.
        assert!(p.check_resolved("anything.example", &[lo]).is_ok());
        assert!(p.check_resolved("anything.example", &[lo, meta]).is_err());
        // The mapped form of an allowed address is a different address: refused.
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(p.check_resolved("anything.example", &[mapped]).is_err());
    }
}
