//! A sign-in waiting for its second factor: a record in the database (any
//! instance finishes it) keyed by the SHA-256 of 32 random bytes that only
//! the browser holds, in an HttpOnly cookie. It lives five minutes, dies
//! after five wrong codes, and is taken once.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The cookie's name (`__Host-` on https).
pub const COOKIE: &str = "sesame.second-factor";
/// Seconds a pending sign-in lives.
pub const LIFETIME: i64 = 300;
/// Wrong codes a pending sign-in survives.
pub const MAX_FAILURES: i32 = 5;

/// What the sign-in knew when its first factor passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingState {
    /// How the first factor was passed (`pwd`, `email`, `oauth:<provider>`).
    pub first: String,
    /// The account as the sign-in named it (its lockout counter).
    pub identifier: String,
    /// The resolved `callbackUrl`.
    pub callback_url: String,
    /// "Remember me".
    pub remember: bool,
    /// The revocation sequence read before the first factor was checked.
    pub revocation_seq: i64,
    /// The provider's profile, for a sign-in through a provider.
    #[serde(default)]
    pub profile: Option<crate::server::providers::Profile>,
}

/// A new record id: the cookie's value, and the hash to key the record by.
pub fn new_id() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let raw = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&raw);
    (raw, hash)
}

/// The key of the record the cookie value `raw` names.
pub fn hash(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}
