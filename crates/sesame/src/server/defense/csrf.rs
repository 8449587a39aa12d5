//! CSRF defence: a signed double-submit token bound to the session, and the
//! origin check of every state-changing request.
//!
//! The cookie holds `<token>|<mac>`: `token` is 32 random bytes as hex and `mac`
//! is HMAC-SHA256(secret, `csrf`, binding, token) as hex (OWASP's signed
//! double-submit cookie). The binding is the signed-in session's own random
//! CSRF key ([`crate::server::session::data::SessionData::csrf_key`]), or nothing for a
//! visitor who is signed out. So only this server can mint a cookie that
//! verifies; a token minted before sign-in no longer verifies after it; and a
//! token/cookie pair taken from another browser does not verify with this
//! browser's session. The token is rotated at sign-in and at sign-out. The form
//! or client sends the token as `csrfToken`; comparisons are constant-time.
//! Previous secrets still verify, so the secret rotates without breaking open
//! forms.
//!
//! The token is minted lazily: a handler or page that asks for it through
//! [`Csrf::token`] gets the cookie's token if it verifies for the request's
//! session, or a new one that the edge then sets on the response.

use std::sync::{Arc, Mutex};

use axum::{
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method},
    response::Response,
};
use subtle::ConstantTimeEq;

use crate::server::defense::keys::Secrets;

const LABEL: &str = "csrf";

/// The keys and cookie settings of the CSRF defence.
#[derive(Debug)]
pub struct CsrfKeys {
    secrets: Arc<Secrets>,
    cookie_name: &'static str,
    secure: bool,
}

/// What a token is bound to: the session's CSRF key, or `None` when signed out.
pub type Binding<'a> = Option<&'a str>;

impl CsrfKeys {
    pub fn new(secrets: Arc<Secrets>, secure: bool) -> Self {
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

    fn fields<'a>(binding: Binding<'a>, token: &'a str) -> [&'a [u8]; 2] {
        [binding.unwrap_or("").as_bytes(), token.as_bytes()]
    }

    /// A fresh token bound to `binding`, and the cookie value that carries it.
    fn mint(&self, binding: Binding) -> (String, String) {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let mac = hex::encode(self.secrets.sign(LABEL, &Self::fields(binding, &token)));
        let cookie = format!("{token}|{mac}");
        (token, cookie)
    }

    /// The token of a cookie value whose MAC verifies for `binding` under any
    /// accepted secret.
    pub fn verify_cookie(&self, value: &str, binding: Binding) -> Option<String> {
        let (token, mac_hex) = value.split_once('|')?;
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mac = hex::decode(mac_hex).ok()?;
        self.secrets
            .verify(LABEL, &Self::fields(binding, token), &mac)
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
}

/// The CSRF token of one request, put in the request's extensions by [`Csrf::attach`].
#[derive(Clone, Debug)]
pub struct Csrf {
    keys: Arc<CsrfKeys>,
    state: Arc<Mutex<CsrfState>>,
}

#[derive(Debug, Default)]
struct CsrfState {
    /// The CSRF cookie sent with the request, not yet verified.
    cookie: Option<String>,
    /// A token minted during this request, with its cookie value.
    minted: Option<(String, String)>,
}

impl Csrf {
    fn state(&self) -> std::sync::MutexGuard<'_, CsrfState> {
        self.state.lock().expect("csrf state lock")
    }

    /// The token to embed in a form or answer: the cookie's if it verifies for
    /// `binding`, or a new one (whose cookie the edge sets on the response).
    pub fn token(&self, binding: Binding) -> String {
        let mut state = self.state();
        if let Some((token, _)) = &state.minted {
            return token.clone();
        }
        if let Some(token) = state
            .cookie
            .as_deref()
            .and_then(|c| self.keys.verify_cookie(c, binding))
        {
            return token;
        }
        let minted = self.keys.mint(binding);
        let token = minted.0.clone();
        state.minted = Some(minted);
        token
    }

    /// A new token for `binding` in place of any other (at sign-in and
    /// sign-out): the old one no longer verifies once the session changed.
    pub fn rotate(&self, binding: Binding) -> String {
        let minted = self.keys.mint(binding);
        let token = minted.0.clone();
        self.state().minted = Some(minted);
        token
    }

    /// Whether `submitted` is the token of the request's cookie and that
    /// cookie verifies for `binding`, the session the request carries
    /// (constant-time).
    pub fn verify(&self, submitted: &str, binding: Binding) -> bool {
        let state = self.state();
        match state
            .cookie
            .as_deref()
            .and_then(|c| self.keys.verify_cookie(c, binding))
        {
            Some(token) => {
                token.len() == submitted.len()
                    && bool::from(token.as_bytes().ct_eq(submitted.as_bytes()))
            }
            None => false,
        }
    }

    /// Reads the request's CSRF cookie into a [`Csrf`] in its extensions.
    pub fn attach(keys: &Arc<CsrfKeys>, req: &mut Request) -> Csrf {
        let cookie = crate::server::http::cookies::cookie(req.headers(), keys.cookie_name)
            .map(str::to_string);
        let csrf = Csrf {
            keys: keys.clone(),
            state: Arc::new(Mutex::new(CsrfState {
                cookie,
                minted: None,
            })),
        };
        req.extensions_mut().insert(csrf.clone());
        csrf
    }

    /// Sets the cookie on the response when the request minted a token.
    pub fn finish(&self, res: &mut Response) {
        let minted = self.state().minted.as_ref().map(|(_, c)| c.clone());
        if let Some(cookie) = minted {
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

    fn keys_with(secrets: &[&[u8]]) -> CsrfKeys {
        let secrets = secrets.iter().map(|s| s.to_vec()).collect();
        CsrfKeys::new(Arc::new(Secrets::new(secrets)), false)
    }

    fn keys() -> CsrfKeys {
        keys_with(&[b"0123456789abcdef0123456789abcdef"])
    }

    #[test]
    fn minted_cookie_verifies_and_tampering_fails() {
        let keys = keys();
        let (token, cookie) = keys.mint(None);
        assert_eq!(keys.verify_cookie(&cookie, None), Some(token.clone()));
        // A token with a MAC from another secret, or a plain-hash cookie, is refused.
        let other = keys_with(&[b"another-secret-another-secret-xx"]);
        let (_, forged) = other.mint(None);
        assert_eq!(keys.verify_cookie(&forged, None), None);
        let swapped = format!("{}|{}", "a".repeat(64), cookie.split('|').nth(1).unwrap());
        assert_eq!(keys.verify_cookie(&swapped, None), None);
        assert_eq!(keys.verify_cookie(&token, None), None);
    }

    #[test]
    fn tokens_are_bound_to_their_session() {
        let keys = keys();
        let (token, cookie) = keys.mint(Some("session-a"));
        assert_eq!(keys.verify_cookie(&cookie, Some("session-a")), Some(token));
        assert_eq!(keys.verify_cookie(&cookie, Some("session-b")), None);
        assert_eq!(
            keys.verify_cookie(&cookie, None),
            None,
            "not once signed out"
        );
        let (_, anonymous) = keys.mint(None);
        assert_eq!(keys.verify_cookie(&anonymous, Some("session-a")), None);
    }

    #[test]
    fn previous_secrets_still_verify() {
        let old = keys();
        let (token, cookie) = old.mint(Some("k"));
        let rotated = keys_with(&[
            b"new-secret-new-secret-new-secret",
            b"0123456789abcdef0123456789abcdef",
        ]);
        assert_eq!(rotated.verify_cookie(&cookie, Some("k")), Some(token));
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
