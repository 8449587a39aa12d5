//! The request of an action that a signed-out visitor may take (password
//! reset, sign-up, email verification): its auth system, CSRF state, session,
//! address and language, and the checks every such action starts with.

use std::net::IpAddr;

use super::{csrf::Csrf, session, state::Auth};
use crate::{i18n::Locale, AuthError};

/// Who is asking.
pub struct Visitor<'a> {
    pub auth: &'a Auth,
    pub csrf: &'a Csrf,
    pub session: &'a tower_sessions::Session,
    pub ip: Option<IpAddr>,
    /// The language of the email the action may send.
    pub locale: Locale,
}

impl Visitor<'_> {
    /// The CSRF token (bound to the session, if signed in), then the per-IP limit.
    pub async fn check(&self, csrf_token: &str) -> Result<(), AuthError> {
        let current = session::signed_in(self.session, &self.auth.config).await;
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
