//! "Trust this browser for 30 days": a cookie naming the account and a
//! random nonce, signed with the secret (`user_id.nonce.tag`), and a row
//! keyed by the nonce's SHA-256 so the account can list and revoke its
//! trusted browsers. Both must check out; a password change, a reset,
//! turning the factor off or "sign out everywhere" deletes the rows.

use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::server::defense::keys::Secrets;

/// The cookie's name (`__Host-` on https).
pub const COOKIE: &str = "sesame.trusted";
/// Seconds a browser stays trusted.
pub const LIFETIME: i64 = 30 * 24 * 3600;
const LABEL: &str = "trusted-browser";

/// A new trusted-browser cookie value for `user_id`, and its row's key.
pub fn issue(keys: &Secrets, user_id: i64) -> (String, [u8; 32]) {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    let nonce = hex::encode(bytes);
    let id = user_id.to_string();
    let tag = hex::encode(keys.sign(LABEL, &[id.as_bytes(), nonce.as_bytes()]));
    let hash = Sha256::digest(nonce.as_bytes()).into();
    (format!("{id}.{nonce}.{tag}"), hash)
}

/// The row key of a cookie value signed for `user_id`, if it is one.
pub fn check(keys: &Secrets, value: &str, user_id: i64) -> Option<[u8; 32]> {
    let mut parts = value.split('.');
    let (id, nonce, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || id != user_id.to_string() {
        return None;
    }
    let tag = hex::decode(tag).ok()?;
    keys.verify(LABEL, &[id.as_bytes(), nonce.as_bytes()], &tag)
        .then(|| Sha256::digest(nonce.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> Secrets {
        Secrets::new(vec![secret.as_bytes().to_vec()])
    }

    #[test]
    fn a_browser_is_trusted_for_thirty_days() {
        assert_eq!(LIFETIME, 2_592_000);
    }

    #[test]
    fn a_cookie_checks_out_only_for_its_account_and_unchanged() {
        let k = keys("a-secret-of-some-length-0123456789");
        let (value, hash) = issue(&k, 7);
        assert_eq!(check(&k, &value, 7), Some(hash));
        assert_eq!(check(&k, &value, 8), None);
        assert_eq!(
            check(&keys("another-secret-0123456789abcdef"), &value, 7),
            None
        );
        let forged = value.replacen("7.", "8.", 1);
        assert_eq!(check(&k, &forged, 8), None);
        let mut flipped = value.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(check(&k, &flipped, 7), None);
        assert_eq!(check(&k, &format!("{value}.x"), 7), None);
    }
}
