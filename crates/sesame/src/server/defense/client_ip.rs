//! The client IP of a request, and the key the per-IP limit counts it under.
//!
//! The client is the socket's peer, unless that peer is a trusted proxy: then
//! `X-Forwarded-For` is read from the right (the entry the nearest proxy
//! added) and the first hop that is not a trusted proxy is the client. A hop
//! that does not parse stops the walk: everything to its left was written by
//! someone we cannot vouch for, so the last trusted hop is taken instead.
//! IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket
//! reports) are read as the IPv4 address they carry, for peers, forwarded
//! hops and the configured proxies alike.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use http::HeaderMap;

/// `ip` with an IPv4-mapped IPv6 address turned into its IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` hop: an address, or an address with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`) as some proxies write it.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(canonical)
}

/// The client IP: the socket's peer, or, when the peer is a trusted proxy, the
/// nearest `X-Forwarded-For` hop that is not one (see the module header).
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| canonical(*t) == ip);
    let mut client = canonical(peer?.ip());
    if !is_trusted(client) {
        return Some(client);
    }
    // Several headers are one list, in order.
    let values: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .collect();
    for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
        match parse_hop(hop) {
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return Some(ip),
            None => break,
        }
    }
    Some(client)
}

/// The key the per-IP limit counts `ip` under: an IPv4 address as it is, an
/// IPv6 address by its network of `v6_prefix` bits, since one subscriber gets
/// a whole /64 and can rotate through it.
pub fn limit_key(ip: IpAddr, v6_prefix: u8) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let bits = u32::from(v6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            let network = Ipv6Addr::from(u128::from(v6) & mask);
            format!("{network}/{bits}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let h = headers(&["203.0.113.9, 10.0.0.2"]);
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let direct: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let trusted = vec![ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_ip(Some(direct), &h, &trusted),
            Some(ip("198.51.100.7")),
            "a spoofed header from an untrusted peer is ignored"
        );
        assert_eq!(client_ip(Some(proxy), &h, &[]), Some(ip("10.0.0.1")));
    }

    #[test]
    fn an_unparsable_hop_stops_the_walk() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = vec![ip("10.0.0.1")];
        // Before: the garbage hop was skipped and the spoofed 1.2.3.4 became the key.
        for garbage in ["not-an-ip", "1.2.3.4:99999", "[::1", "unknown", ""] {
            let h = headers(&[&format!("1.2.3.4, {garbage}")]);
            assert_eq!(
                client_ip(Some(proxy), &h, &trusted),
                Some(ip("10.0.0.1")),
                "{garbage:?}"
            );
        }
        // Addresses with ports are hops like any other.
        let h = headers(&["1.2.3.4, 198.51.100.7:4711"]);
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some(ip("198.51.100.7"))
        );
        let h = headers(&["1.2.3.4, [2001:db8::7]:4711"]);
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some(ip("2001:db8::7"))
        );
        // Several headers read as one list.
        let h = headers(&["1.2.3.4", "198.51.100.8"]);
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some(ip("198.51.100.8"))
        );
    }

    #[test]
    fn mapped_addresses_are_ipv4_everywhere() {
        let mapped_peer: SocketAddr = "[::ffff:10.0.0.1]:5000".parse().unwrap();
        let h = headers(&["::ffff:198.51.100.7"]);
        assert_eq!(
            client_ip(Some(mapped_peer), &h, &[ip("10.0.0.1")]),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_ip(
                Some("10.0.0.1:1".parse().unwrap()),
                &h,
                &[ip("::ffff:10.0.0.1")]
            ),
            Some(ip("198.51.100.7")),
            "a proxy configured in mapped form is trusted"
        );
        assert_eq!(
            limit_key(ip("::ffff:198.51.100.7"), 64),
            limit_key(ip("198.51.100.7"), 64)
        );
    }

    #[test]
    fn ipv6_is_keyed_by_network() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1"), 64),
            limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), 64)
        );
        assert_eq!(limit_key(ip("2001:db8:1:2::1"), 64), "2001:db8:1:2::/64");
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1"), 64),
            limit_key(ip("2001:db8:1:3::1"), 64)
        );
        assert_eq!(limit_key(ip("2001:db8:1:2::1"), 48), "2001:db8:1::/48");
        assert_eq!(limit_key(ip("2001:db8::1"), 128), "2001:db8::1/128");
        assert_eq!(limit_key(ip("192.0.2.1"), 64), "192.0.2.1");
    }
}
