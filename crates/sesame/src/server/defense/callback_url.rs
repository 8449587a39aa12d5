//! The `callbackUrl` policy: where a user may be sent after signing in or out.
//!
//! Accepted: a path on this site (`/account?tab=1`), or an absolute http(s) URL on
//! the site's origin or an allow-listed one. Everything else is
//! [`AuthError::InvalidCallbackUrl`]: protocol-relative `//host`, `/\host`,
//! scheme tricks (`https:evil`, `javascript:`, `data:`), percent-encoded slashes or
//! backslashes that decode to one of those, userinfo (`https://site@evil`), control
//! characters. Unlike NextAuth there is no cookie fallback and no 500.

use url::Url;

use crate::wire::AuthError;

/// Longest `callbackUrl` accepted.
pub const MAX_LEN: usize = 2048;

/// The origins a callback may point to: the site's first, then the allow-list.
#[derive(Debug, Clone)]
pub struct CallbackPolicy {
    base: Url,
    origins: Vec<String>,
}

impl CallbackPolicy {
    /// The policy of a site at `base` that also trusts the origins of `trusted`.
    pub fn new(base: Url, trusted: &[Url]) -> Self {
        let mut origins = vec![base.origin().ascii_serialization()];
        origins.extend(trusted.iter().map(|u| u.origin().ascii_serialization()));
        CallbackPolicy { base, origins }
    }

    /// The origins state-changing requests may come from.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// The site's root URL: the callback when none is given.
    pub fn default_url(&self) -> String {
        self.base.join("/").map(String::from).unwrap_or_default()
    }

    /// Checks `raw` and returns it as an absolute URL; `None` or empty gives the
    /// site's root.
    pub fn resolve(&self, raw: Option<&str>) -> Result<String, AuthError> {
        let raw = match raw {
            None | Some("") => return Ok(self.default_url()),
            Some(s) => s,
        };
        let invalid = Err(AuthError::InvalidCallbackUrl);
        if raw.len() > MAX_LEN || has_forbidden_chars(raw) {
            return invalid;
        }
        // A value that only turns bad once decoded is an attack, not a path.
        let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if has_forbidden_chars(&decoded) || decoded.starts_with("//") {
            return invalid;
        }
        let url = if raw.starts_with('/') {
            if raw.starts_with("//") {
                return invalid;
            }
            match self.base.join(raw) {
                Ok(url) => url,
                Err(_) => return invalid,
            }
        } else {
            let lower = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                return invalid;
            }
            match Url::parse(raw) {
                Ok(url) => url,
                Err(_) => return invalid,
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return invalid;
        }
        let origin = url.origin().ascii_serialization();
        if self.origins.contains(&origin) {
            Ok(url.into())
        } else {
            invalid
        }
    }
}

impl CallbackPolicy {
    /// The path of a `Referer` on the site's own origin, if that path passes
    /// the policy: the page to send a failed form post back to. A path such as
    /// `//evil.example/x` (the URL parser keeps it) is refused, never followed.
    pub fn same_origin_path(&self, referer: &str) -> Option<String> {
        let url = Url::parse(referer).ok()?;
        if url.origin() != self.base.origin() {
            return None;
        }
        self.resolve(Some(url.path())).ok()?;
        Some(url.path().to_string())
    }
}

fn has_forbidden_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CallbackPolicy {
        CallbackPolicy::new(
            Url::parse("http://127.0.0.1:3000").unwrap(),
            &[Url::parse("https://app.example.com").unwrap()],
        )
    }

    #[test]
    fn accepts_same_origin_and_allow_listed() {
        let p = policy();
        assert_eq!(p.resolve(None).unwrap(), "http://127.0.0.1:3000/");
        assert_eq!(
            p.resolve(Some("/account?tab=1")).unwrap(),
            "http://127.0.0.1:3000/account?tab=1"
        );
        assert_eq!(
            p.resolve(Some("http://127.0.0.1:3000/x")).unwrap(),
            "http://127.0.0.1:3000/x"
        );
        assert_eq!(
            p.resolve(Some("https://app.example.com/home")).unwrap(),
            "https://app.example.com/home"
        );
    }

    #[test]
    fn the_way_back_is_a_safe_path_on_the_site() {
        let p = policy();
        assert_eq!(
            p.same_origin_path("http://127.0.0.1:3000/sign-in?x=1")
                .as_deref(),
            Some("/sign-in")
        );
        for bad in [
            "http://127.0.0.1:3000//evil.example/x",
            "http://127.0.0.1:3000/%2F%2Fevil.example",
            "http://127.0.0.1:3000/\\evil.example",
            "https://app.example.com/sign-in",
            "http://evil.example/sign-in",
            "not a url",
        ] {
            assert_eq!(p.same_origin_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rejects_open_redirect_tricks() {
        let p = policy();
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "https:evil.test",
            "http:/evil.test",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,hi",
            "/%2F%2Fevil.test",
            "/%2f/evil.test",
            "/%5Cevil.test",
            "%2F%2Fevil.test",
            "https://evil.test",
            "http://127.0.0.1:3000@evil.test/",
            "http://user:pw@127.0.0.1:3000/",
            "http://127.0.0.1:3000.evil.test/",
            "http://127.0.0.1:3001/",
            "https://127.0.0.1:3000/",
            " /account",
            "/acc\nount",
            "/acc%0Aount",
            "account",
            "ftp://127.0.0.1:3000/",
        ] {
            assert_eq!(
                p.resolve(Some(bad)),
                Err(AuthError::InvalidCallbackUrl),
                "{bad:?} was accepted"
            );
        }
        assert!(p
            .resolve(Some(&format!("/{}", "a".repeat(MAX_LEN))))
            .is_err());
    }
}
