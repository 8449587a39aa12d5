//! The request of an action that a signed-out visitor may take (password
//! reset, sign-up, email verification): its auth system, CSRF state, session,
//! address and language, and the checks every such action starts with.

use std::net::IpAddr;

use crate::server::{defense::csrf::Csrf, session::lifecycle, state::Auth};
use crate::{i18n::Locale, wire::AuthError};

/// Who is asking.
pub struct Visitor<'a> {
    pub auth: &'a Auth,
    pub csrf: &'a Csrf,
    pub session: &'a tower_sessions::Session,
    pub ip: Option<IpAddr>,
    /// The language of the email the action may send.
    pub locale: Locale,
    /// The browser's `User-Agent` (for a session a link starts).
    pub user_agent: Option<String>,
    /// The browser's device cookie (the lockout's trusted device), if any.
    pub device_cookie: Option<String>,
    /// The browser's link-binding cookie (see [`LINK_BINDING`]), if any.
    pub binding_cookie: Option<String>,
}

/// The cookie that binds a link to the browser that asked for it (its
/// SHA-256 is stored with the link's token): set by signing up, so the
/// confirmation link signs in only the browser that signed up.
pub const LINK_BINDING: &str = "sesame.link-binding";
/// [`LINK_BINDING`] on an HTTPS site.
pub const LINK_BINDING_SECURE: &str = "__Host-sesame.link-binding";

/// The binding cookie's name on this site.
pub fn binding_cookie_name(auth: &Auth) -> &'static str {
    if auth.config.secure_cookies() {
        LINK_BINDING_SECURE
    } else {
        LINK_BINDING
    }
}

/// A new binding cookie: its value, and the `Set-Cookie` header that sets
/// it for `max_age` (HttpOnly, `SameSite=Lax`, so a link opened from a mail
/// client in the same browser carries it).
pub fn new_binding_cookie(
    auth: &Auth,
    max_age: std::time::Duration,
) -> (String, http::HeaderValue) {
    let value = hex::encode(rand::random::<[u8; 32]>());
    let secure = if auth.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let header = http::HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        binding_cookie_name(auth),
        max_age.as_secs()
    ))
    .expect("the cookie is ASCII");
    (value, header)
}

impl Visitor<'_> {
    /// The CSRF token (bound to the session, if signed in), then the per-IP limit.
    pub async fn check(&self, csrf_token: &str) -> Result<(), AuthError> {
        let current = lifecycle::signed_in(self.session, &self.auth.config).await;
        if !self.csrf.verify(
            csrf_token,
            current.as_ref().and_then(|(d, _)| d.csrf_binding()),
        ) {
            return Err(AuthError::MissingCSRF);
        }
        self.auth
            .limits
            .attempt(self.ip)
            .await
            .map_err(|limited| limited.error())
    }
}

/// The site's name for email subjects: its host.
pub fn site_name(auth: &Auth) -> String {
    auth.config
        .site
        .url
        .host_str()
        .unwrap_or("Sesame")
        .to_string()
}
