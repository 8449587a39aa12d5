//! The second factor's parts, below the flows: an authenticator app (TOTP,
//! [`totp`]), recovery codes ([`recovery`]), the record of a sign-in waiting
//! for its second factor ([`pending`]), the browsers trusted to skip it
//! ([`trusted`]) and passkeys ([`passkey`]). The step every way in passes through is
//! `server::flows::second_factor`; the tables are `server::stores::factors`.

pub(crate) mod gate;
pub(crate) mod passkey;
pub(crate) mod pending;
pub(crate) mod recovery;
pub(crate) mod totp;
pub(crate) mod trusted;

use std::sync::Arc;

use crate::server::{
    defense::{keys::Secrets, sealed::Sealer},
    stores::factors::FactorStore,
};

/// The second factors of every account: where they are kept, and the keys
/// that seal an authenticator app's secret at rest and sign the trusted
/// browsers' cookies.
#[derive(Clone)]
pub(crate) struct Factors {
    pub store: Arc<dyn FactorStore>,
    /// Seals the authenticator apps' secrets (previous secrets open them).
    pub secrets_sealer: Arc<Sealer>,
    /// Seals the recovery codes for their one showing to a page without
    /// JavaScript (a short-lived cookie).
    pub display_sealer: Arc<Sealer>,
    pub keys: Arc<Secrets>,
    /// Whether cookies are `Secure`.
    pub secure: bool,
    /// The passkeys (a second factor too).
    pub passkeys: Arc<dyn crate::server::stores::passkeys::PasskeyStore>,
}

impl Factors {
    /// Factors kept in `store`, sealed and signed under `keys`.
    pub fn new(
        store: Arc<dyn FactorStore>,
        passkeys: Arc<dyn crate::server::stores::passkeys::PasskeyStore>,
        keys: Arc<Secrets>,
        secure: bool,
    ) -> Factors {
        Factors {
            passkeys,
            store,
            secrets_sealer: Arc::new(Sealer::new(&keys, "totp-secret")),
            display_sealer: Arc::new(Sealer::new(&keys, "recovery-codes-display")),
            keys,
            secure,
        }
    }
}

/// A second factor checked: passed (how: `otp`, `recovery`, `hwk`), or
/// refused (why).
pub(crate) enum Checked {
    Passed(&'static str),
    Refused(crate::wire::AuthError),
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A user id of Sesame's tables (the session keeps it as text).
pub(crate) fn row_id(user_id: &str) -> Option<i64> {
    user_id.parse().ok()
}

/// A `Set-Cookie` for `name` (HttpOnly, `SameSite=Lax`, the whole site),
/// `__Host-`-prefixed and `Secure` on https. `max_age` 0 clears it.
pub(crate) fn cookie(name: &str, value: &str, max_age: i64, secure: bool) -> http::HeaderValue {
    let (prefix, flag) = if secure {
        ("__Host-", "; Secure")
    } else {
        ("", "")
    };
    http::HeaderValue::from_str(&format!(
        "{prefix}{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{flag}"
    ))
    .expect("cookie values here are base64url or hex")
}

/// The name a cookie made by [`cookie`] is sent back under.
pub(crate) fn cookie_name(name: &'static str, secure: bool) -> String {
    if secure {
        ["__Host-", name].concat()
    } else {
        name.to_string()
    }
}
