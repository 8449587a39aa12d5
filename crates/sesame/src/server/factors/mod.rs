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
}

impl Factors {
    /// Factors kept in `store`, sealed and signed under `keys`.
    pub fn new(store: Arc<dyn FactorStore>, keys: Arc<Secrets>, secure: bool) -> Factors {
        Factors {
            store,
            secrets_sealer: Arc::new(Sealer::new(&keys, "totp-secret")),
            display_sealer: Arc::new(Sealer::new(&keys, "recovery-codes-display")),
            keys,
            secure,
        }
    }

    /// A code from the account's confirmed authenticator app (each time step
    /// once) or one of its recovery codes (once each). A code with anything
    /// but digits and spaces, typed in the code field, is taken for a
    /// recovery code.
    pub async fn check_code(
        &self,
        user_id: i64,
        code: Option<&str>,
        recovery_code: Option<&str>,
    ) -> Result<Checked, sqlx::Error> {
        use crate::wire::AuthError::{CodeAlreadyUsed, InvalidCode};
        let typed = |c: &&str| !c.trim().is_empty();
        let (code, recovery_code) = match code.filter(typed) {
            Some(c)
                if c.chars()
                    .any(|ch| !ch.is_ascii_digit() && !ch.is_whitespace()) =>
            {
                (None, Some(c))
            }
            code => (code, recovery_code),
        };
        if let Some(code) = code {
            let Some(row) = self.store.totp(user_id).await? else {
                return Ok(Checked::Refused(InvalidCode));
            };
            if row.confirmed_at.is_none() {
                return Ok(Checked::Refused(InvalidCode));
            }
            let Some(secret) = self.secrets_sealer.open(&row.secret_sealed) else {
                tracing::error!(
                    user_id,
                    "an authenticator secret does not open under any secret"
                );
                return Ok(Checked::Refused(InvalidCode));
            };
            let Some(step) = totp::matching_step(&secret, code, now() as u64) else {
                return Ok(Checked::Refused(InvalidCode));
            };
            return Ok(if self.store.accept_step(user_id, step).await? {
                Checked::Passed("otp")
            } else {
                Checked::Refused(CodeAlreadyUsed)
            });
        }
        let Some(code) = recovery_code.filter(typed) else {
            return Ok(Checked::Refused(InvalidCode));
        };
        Ok(
            if self
                .store
                .use_code(user_id, &recovery::hash(code), now())
                .await?
            {
                Checked::Passed("recovery")
            } else {
                Checked::Refused(InvalidCode)
            },
        )
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
