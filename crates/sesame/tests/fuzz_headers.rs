//! Property tests for the two request headers Sesame takes decisions from,
//! beside the `callbackUrl` one: `X-Forwarded-For` (whose hop is the client
//! the per-IP limit counts) and `Referer` (the page a failed form post goes
//! back to).

#![cfg(feature = "ssr")]

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use proptest::prelude::*;
use sesame::server::{client_ip, CallbackPolicy};
use url::Url;

/// `ip` with an IPv4-mapped IPv6 address turned into its IPv4 address (as
/// the server reads a hop).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

const PROXIES: [&str; 2] = ["10.0.0.1", "10.0.0.2"];

#[derive(Debug, Clone)]
enum Hop {
    Proxy(usize),
    Client(IpAddr),
    Garbage(String),
}

impl Hop {
    fn text(&self) -> String {
        match self {
            Hop::Proxy(i) => PROXIES[*i].to_string(),
            Hop::Client(ip) => ip.to_string(),
            Hop::Garbage(s) => s.clone(),
        }
    }
}

fn hop() -> impl Strategy<Value = Hop> {
    prop_oneof![
        (0..PROXIES.len()).prop_map(Hop::Proxy),
        any::<[u8; 4]>().prop_map(|b| Hop::Client(IpAddr::from(b))),
        any::<[u8; 16]>().prop_map(|b| Hop::Client(canonical(IpAddr::from(b)))),
        prop_oneof![
            Just("unknown".to_string()),
            Just("".to_string()),
            Just("1.2.3.4:99999".to_string()),
            Just("[::1".to_string()),
            "[a-z0-9:.\\[\\]]{1,12}",
        ]
        .prop_filter("must not parse", |s| {
            s.trim().parse::<IpAddr>().is_err() && s.trim().parse::<SocketAddr>().is_err()
        })
        .prop_map(Hop::Garbage),
    ]
}

fn trusted() -> Vec<IpAddr> {
    PROXIES.iter().map(|p| p.parse().unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// From the right: trusted proxies are skipped, the first other address
    /// is the client, and a hop that does not parse ends the walk at the last
    /// trusted hop. Nothing left of an unparsable hop is ever the client.
    #[test]
    fn forwarded_for_is_walked_from_the_right_and_stops_at_garbage(
        hops in prop::collection::vec(hop(), 0..8),
        split in 0usize..8,
    ) {
        let texts: Vec<String> = hops.iter().map(Hop::text).collect();
        // One header or two: the same list.
        let mut headers = HeaderMap::new();
        let split = split.min(texts.len());
        for part in [&texts[..split], &texts[split..]] {
            if !part.is_empty() {
                if let Ok(v) = part.join(", ").parse() {
                    headers.append("x-forwarded-for", v);
                }
            }
        }
        let all: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.to_str().unwrap().split(','))
            .collect();
        let peer: SocketAddr = "10.0.0.1:443".parse().unwrap();
        let got = client_ip(Some(peer), &headers, &trusted()).unwrap();

        let mut expected: IpAddr = peer.ip();
        for hop in all.iter().rev() {
            match hop.trim().parse::<IpAddr>().ok().map(canonical) {
                Some(ip) if trusted().contains(&ip) => expected = ip,
                Some(ip) => { expected = ip; break; }
                None => break,
            }
        }
        prop_assert_eq!(got, expected);
    }

    /// An untrusted peer is the client, whatever it forwards.
    #[test]
    fn an_untrusted_peer_is_its_own_client(hops in prop::collection::vec(hop(), 0..6), last in any::<u8>()) {
        let mut headers = HeaderMap::new();
        let list: Vec<String> = hops.iter().map(Hop::text).collect();
        if let Ok(v) = list.join(", ").parse() {
            headers.append("x-forwarded-for", v);
        }
        let peer = SocketAddr::from(([198, 51, 100, last], 443));
        prop_assert_eq!(client_ip(Some(peer), &headers, &trusted()), Some(peer.ip()));
    }

    /// The way back from a `Referer` is a path on the site that the
    /// `callbackUrl` policy accepts, or none.
    #[test]
    fn the_referer_way_back_stays_on_the_site(
        path in prop::collection::vec(
            prop_oneof![
                Just("/".to_string()), Just("//".to_string()), Just("\\\\".to_string()),
                Just("%2F".to_string()), Just("%5C".to_string()), Just("evil.example".to_string()),
                Just("@".to_string()), Just("..".to_string()), Just("sign-in".to_string()),
                "[a-z%0-9]{1,6}",
            ],
            0..6,
        ),
        origin in prop_oneof![
            Just("http://127.0.0.1:3000"), Just("https://app.example.com"), Just("http://evil.example"),
        ],
    ) {
        let policy = CallbackPolicy::new(
            Url::parse("http://127.0.0.1:3000").unwrap(),
            &[Url::parse("https://app.example.com").unwrap()],
        );
        let referer = format!("{origin}/{}", path.concat());
        if let Some(back) = policy.same_origin_path(&referer) {
            prop_assert_eq!(origin, "http://127.0.0.1:3000");
            prop_assert!(back.starts_with('/') && !back.starts_with("//"), "{} -> {}", referer, back);
            prop_assert!(!back.contains('\\'), "{} -> {}", referer, back);
            let resolved = Url::parse(&policy.resolve(Some(&back)).unwrap()).unwrap();
            prop_assert_eq!(resolved.origin().ascii_serialization(), origin);
            // As a Location it stays on the site.
            let location = Url::parse("http://127.0.0.1:3000/").unwrap().join(&back).unwrap();
            prop_assert_eq!(location.origin().ascii_serialization(), origin);
        }
    }
}
