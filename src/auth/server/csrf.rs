//! CSRF defence: a double-submit token, and the origin check of every
//! state-changing request.
//!
//! The cookie holds `<token>|<mac>`: `token` is 32 random bytes as hex and `mac` is
//! HMAC-SHA256(secret, token) as hex, so only this server can mint a cookie that
//! verifies (NextAuth uses a plain hash there). The form or client sends the same
//! token as `csrfToken`; both comparisons are constant-time. Previous secrets still
//! verify, so the secret can be rotated without breaking open forms.
//!
//! The token is minted lazily: a handler or page that asks for it through
//! [`Csrf::token`] gets the cookie's token, or a new one that the middleware then
//! sets on the response.

use std::sync::{Arc, Mutex};

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method},
    response::Response,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The keys and cookie settings of the CSRF defence.
pub struct CsrfKeys {
    /// The current secret first, then previous ones still accepted.
    secrets: Vec<Vec<u8>>,
    cookie_name: &'static str,
    secure: bool,
}

impl std::fmt::Debug for CsrfKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfKeys")
            .field("secrets", &self.secrets.len())
            .field("cookie_name", &self.cookie_name)
            .finish()
    }
}

impl CsrfKeys {
    /// `secrets[0]` signs new tokens; every entry verifies.
    pub fn new(secrets: Vec<Vec<u8>>, secure: bool) -> Self {
        assert!(!secrets.is_empty(), "at least one secret");
        CsrfKeys {
            secrets,
            cookie_name: if secure {
                "__Host-sesame.csrf-token"
            } else {
                "sesame.csrf-token"
            },
            secure,
        }
    }

    pub fn cookie_name(&self) -> &'static str {
        self.cookie_name
    }

    fn mac(secret: &[u8], token: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        mac
    }

    /// A fresh token and the cookie value that carries it.
    fn mint(&self) -> (String, String) {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let mac = hex::encode(Self::mac(&self.secrets[0], &token).finalize().into_bytes());
        let cookie = format!("{token}|{mac}");
        (token, cookie)
    }

    /// The token of a cookie value whose MAC verifies under any accepted secret.
    pub fn verify_cookie(&self, value: &str) -> Option<String> {
        let (token, mac_hex) = value.split_once('|')?;
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mac = hex::decode(mac_hex).ok()?;
        self.secrets
            .iter()
            .any(|secret| Self::mac(secret, token).verify_slice(&mac).is_ok())
            .then(|| token.to_string())
    }

    fn set_cookie(&self, value: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax{secure}",
            self.cookie_name
        ))
        .expect("cookie value is ASCII")
    }

    fn cookie_from(&self, headers: &HeaderMap) -> Option<String> {
        super::cookie(headers, self.cookie_name).and_then(|value| self.verify_cookie(value))
    }
}

/// The CSRF token of one request, put in the request's extensions by [`Csrf::attach`].
#[derive(Clone, Debug)]
pub struct Csrf {
    keys: Arc<CsrfKeys>,
    state: Arc<Mutex<CsrfState>>,
}

#[derive(Debug, Default)]
struct CsrfState {
    /// The token of a valid cookie sent with the request.
    from_cookie: Option<String>,
    /// A token minted during this request, with its cookie value.
    minted: Option<(String, String)>,
}

impl Csrf {
    fn new(keys: Arc<CsrfKeys>, from_cookie: Option<String>) -> Self {
        Csrf {
            keys,
            state: Arc::new(Mutex::new(CsrfState {
                from_cookie,
                minted: None,
            })),
        }
    }

    /// The token to embed in a form or answer: the cookie's, or a new one (whose
    /// cookie the middleware sets on the response).
    pub fn token(&self) -> String {
        let mut state = self.state.lock().expect("csrf state lock");
        if let Some(token) = &state.from_cookie {
            return token.clone();
        }
        if let Some((token, _)) = &state.minted {
            return token.clone();
        }
        let (token, cookie) = self.keys.mint();
        state.minted = Some((token.clone(), cookie));
        token
    }

    /// Whether `submitted` is the token of the request's valid cookie (constant-time).
    pub fn verify(&self, submitted: &str) -> bool {
        let state = self.state.lock().expect("csrf state lock");
        match &state.from_cookie {
            Some(token) => {
                token.len() == submitted.len()
                    && bool::from(token.as_bytes().ct_eq(submitted.as_bytes()))
            }
            None => false,
        }
    }

    fn minted_cookie(&self) -> Option<String> {
        let state = self.state.lock().expect("csrf state lock");
        state.minted.as_ref().map(|(_, cookie)| cookie.clone())
    }
}

impl Csrf {
    /// Reads the request's CSRF cookie into a [`Csrf`] in its extensions.
    pub fn attach(keys: &Arc<CsrfKeys>, req: &mut Request) -> Csrf {
        let from_cookie = keys.cookie_from(req.headers());
        let csrf = Csrf::new(keys.clone(), from_cookie);
        req.extensions_mut().insert(csrf.clone());
        csrf
    }

    /// Sets the cookie on the response when the request minted a token.
    pub fn finish(&self, res: &mut Response) {
        if let Some(cookie) = self.minted_cookie() {
            res.headers_mut()
                .append(header::SET_COOKIE, self.keys.set_cookie(&cookie));
        }
    }
}

/// Whether a request changes state and so must prove where it comes from.
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The origin check of a state-changing request: `Sec-Fetch-Site: same-origin`, or
/// an `Origin` (else `Referer`) equal to the site origin or an allowed one.
/// Cross-site requests, `Origin: null` and requests with no sign are refused.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    match get("sec-fetch-site") {
        Some("same-origin") => return true,
        Some("cross-site") => return false,
        _ => {}
    }
    if let Some(origin) = get(header::ORIGIN.as_str()) {
        return allowed.iter().any(|a| a == origin);
    }
    if let Some(referer) = get(header::REFERER.as_str()) {
        if let Ok(url) = url::Url::parse(referer) {
            let origin = url.origin().ascii_serialization();
            return allowed.contains(&origin);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> CsrfKeys {
        CsrfKeys::new(vec![b"0123456789abcdef0123456789abcdef".to_vec()], false)
    }

    #[test]
    fn minted_cookie_verifies_and_tampering_fails() {
        let keys = keys();
        let (token, cookie) = keys.mint();
        assert_eq!(keys.verify_cookie(&cookie), Some(token.clone()));
        // A token with a MAC from another secret, or a plain-hash cookie, is refused.
        let other = CsrfKeys::new(vec![b"another-secret-another-secret-xx".to_vec()], false);
        let (_, forged) = other.mint();
        assert_eq!(keys.verify_cookie(&forged), None);
        let swapped = format!("{}|{}", "a".repeat(64), cookie.split('|').nth(1).unwrap());
        assert_eq!(keys.verify_cookie(&swapped), None);
        assert_eq!(keys.verify_cookie(&token), None);
    }

    #[test]
    fn previous_secrets_still_verify() {
        let old = keys();
        let (token, cookie) = old.mint();
        let rotated = CsrfKeys::new(
            vec![
                b"new-secret-new-secret-new-secret".to_vec(),
                b"0123456789abcdef0123456789abcdef".to_vec(),
            ],
            false,
        );
        assert_eq!(rotated.verify_cookie(&cookie), Some(token));
    }

    #[test]
    fn origin_rules() {
        let allowed = vec!["http://127.0.0.1:3000".to_string()];
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_static(v));
            }
            map
        };
        assert!(origin_allowed(
            &h(&[("sec-fetch-site", "same-origin")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &h(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:3000")
            ]),
            &allowed
        ));
        assert!(origin_allowed(
            &h(&[("origin", "http://127.0.0.1:3000")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &h(&[("origin", "http://evil.test")]),
            &allowed
        ));
        assert!(!origin_allowed(&h(&[("origin", "null")]), &allowed));
        assert!(origin_allowed(
            &h(&[("referer", "http://127.0.0.1:3000/sign-in")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &h(&[("referer", "http://127.0.0.1:3000.evil.test/")]),
            &allowed
        ));
        assert!(!origin_allowed(&h(&[]), &allowed));
    }
}
