//! A fuzz target for the `callbackUrl` validator, run as property tests: random
//! and adversarially built inputs never panic, and whatever is accepted is an
//! http(s) URL on an allowed origin without userinfo.
//!
//! (cargo-fuzz needs a nightly toolchain, which this project does not assume;
//! proptest runs the same target on stable in `cargo test`.)

#![cfg(feature = "ssr")]

use proptest::prelude::*;
use sesame::server::CallbackPolicy;
use url::Url;

fn policy() -> CallbackPolicy {
    CallbackPolicy::new(
        Url::parse("http://127.0.0.1:3000").unwrap(),
        &[Url::parse("https://app.example.com").unwrap()],
    )
}

const ALLOWED: [&str; 2] = ["http://127.0.0.1:3000", "https://app.example.com"];

fn check(input: &str) {
    if let Ok(resolved) = policy().resolve(Some(input)) {
        let url = Url::parse(&resolved).expect("an accepted URL parses");
        assert!(
            matches!(url.scheme(), "http" | "https"),
            "{input:?} -> {resolved}"
        );
        assert!(
            ALLOWED.contains(&url.origin().ascii_serialization().as_str()),
            "{input:?} -> {resolved}"
        );
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{input:?} -> {resolved}"
        );
        assert!(!resolved.contains('\\'), "{input:?} -> {resolved}");
    }
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("//".to_string()),
        Just("\\".to_string()),
        Just("/\\".to_string()),
        Just("%2F".to_string()),
        Just("%2f".to_string()),
        Just("%5C".to_string()),
        Just("%252F".to_string()),
        Just("@".to_string()),
        Just(":".to_string()),
        Just("http:".to_string()),
        Just("https:".to_string()),
        Just("javascript:".to_string()),
        Just("data:".to_string()),
        Just("evil.test".to_string()),
        Just("127.0.0.1:3000".to_string()),
        Just("app.example.com".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("#".to_string()),
        Just("?".to_string()),
        Just(".".to_string()),
        "[a-z0-9]{1,6}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(input in any::<String>()) {
        check(&input);
    }

    #[test]
    fn built_from_url_fragments(pieces in prop::collection::vec(piece(), 1..8)) {
        check(&pieces.concat());
    }
}

#[test]
fn known_good_inputs_still_pass() {
    for ok in [
        "/",
        "/account?x=1#top",
        "http://127.0.0.1:3000/a",
        "https://app.example.com/",
    ] {
        assert!(policy().resolve(Some(ok)).is_ok(), "{ok}");
    }
}
