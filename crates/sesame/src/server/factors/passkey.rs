//! Passkeys (WebAuthn Level 3 through the `webauthn-rs` crate): the relying
//! party made from `site.url`, and the ceremonies' state kept server-side in
//! the database (any instance finishes a ceremony) under the SHA-256 of 32
//! random bytes the browser holds in an HttpOnly cookie; five minutes, taken
//! once. The crate checks the challenge, the origin, the relying party, user
//! verification and the sign counter; the flows (`flows::passkey`) keep one
//! account per credential id.

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use http::HeaderValue;
use rand::{rngs::OsRng, RngCore};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::{prelude::Url, Webauthn, WebauthnBuilder};

use super::{cookie, now};
use crate::server::{
    config::{Config, ConfigError},
    stores::passkeys::PasskeyStore,
};

/// The ceremony cookie's name (`__Host-` on https).
pub const COOKIE: &str = "sesame.webauthn";
/// Seconds a ceremony lives.
pub const LIFETIME: i64 = 300;

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// A new passkey for the signed-in account.
    Register,
    /// A sign-in with a discoverable passkey (no username first).
    SignIn,
    /// A passkey as the second factor of a pending sign-in.
    SecondFactor,
}

impl Ceremony {
    fn kind(self) -> &'static str {
        match self {
            Ceremony::Register => "register",
            Ceremony::SignIn => "sign-in",
            Ceremony::SecondFactor => "second-factor",
        }
    }
}

/// The site's passkeys: the relying party (when they are on) and their store.
#[derive(Clone)]
pub(crate) struct Passkeys {
    pub webauthn: Option<Arc<Webauthn>>,
    pub store: Arc<dyn PasskeyStore>,
    secure: bool,
}

/// Whether `url`'s host can be a WebAuthn relying party id (a name, not an
/// IP address).
fn named_host(url: &Url) -> Option<&str> {
    match url.host()? {
        url::Host::Domain(name) => Some(name),
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => None,
    }
}

impl Passkeys {
    /// The relying party of `config`'s site, and `store`.
    pub fn new(config: &Config, store: Arc<dyn PasskeyStore>) -> Result<Passkeys, ConfigError> {
        let site = &config.site.url;
        let secure = config.secure_cookies();
        let webauthn = match (config.passkeys.enabled, named_host(site)) {
            (Some(false), _) => None,
            (Some(true), None) => {
                return Err(ConfigError::invalid(
                    "passkeys.enabled",
                    format!(
                        "browsers refuse an IP address as a passkey's relying party: set \
                         site.url to a host name (http://localhost:{} in development)",
                        site.port_or_known_default().unwrap_or(80)
                    ),
                ))
            }
            (None, None) => {
                tracing::warn!(
                    site = %site,
                    "passkeys are off: the site is named by an IP address (browse at \
                     http://localhost and set site.url to it to turn them on)"
                );
                None
            }
            (_, Some(rp_id)) => {
                let webauthn = WebauthnBuilder::new(rp_id, site)
                    .and_then(|b| b.rp_name(rp_id).build())
                    .map_err(|e| ConfigError::invalid("site.url", format!("passkeys: {e}")))?;
                Some(Arc::new(webauthn))
            }
        };
        Ok(Passkeys {
            webauthn,
            store,
            secure,
        })
    }

    /// Whether passkeys are on.
    pub fn enabled(&self) -> bool {
        self.webauthn.is_some()
    }

    /// Stores the state of a `ceremony` (for `user_id`, if any): the cookie
    /// that names it.
    pub async fn begin(
        &self,
        ceremony: Ceremony,
        user_id: Option<i64>,
        state: &impl Serialize,
    ) -> Result<HeaderValue, sqlx::Error> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let raw = URL_SAFE_NO_PAD.encode(bytes);
        let json = serde_json::to_string(state).expect("a ceremony's state serialises");
        self.store
            .put_ceremony(
                &hash(&raw),
                ceremony.kind(),
                user_id,
                &json,
                now() + LIFETIME,
            )
            .await?;
        Ok(cookie(COOKIE, &raw, LIFETIME, self.secure))
    }

    /// Takes the live `ceremony` the cookie value `raw` names: its account
    /// and state, once.
    pub async fn take<T: DeserializeOwned>(
        &self,
        raw: Option<&str>,
        ceremony: Ceremony,
    ) -> Result<Option<(Option<i64>, T)>, sqlx::Error> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        let row = self
            .store
            .take_ceremony(&hash(raw), ceremony.kind())
            .await?;
        Ok(row
            .filter(|r| r.expires_at > now())
            .and_then(|r| Some((r.user_id, serde_json::from_str(&r.state).ok()?))))
    }

    /// The `Set-Cookie` that ends the ceremony's cookie.
    pub fn clear_cookie(&self) -> HeaderValue {
        cookie(COOKIE, "", 0, self.secure)
    }

    /// The ceremony cookie's name.
    pub fn cookie_name(&self) -> String {
        super::cookie_name(COOKIE, self.secure)
    }
}

fn hash(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}
