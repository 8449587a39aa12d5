//! The secret's one use: HMAC-SHA256 over a labelled list of fields, signed
//! with the current secret and verified under it or any previous one (so the
//! secret rotates without breaking what the old one signed).
//!
//! Every MAC starts with a label naming its purpose (`csrf`, `device`,
//! `audit`), and every field is length-prefixed, so no value signed for one
//! purpose, or split differently, verifies as another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The current secret first, then previous ones still accepted.
pub struct Secrets(Vec<Vec<u8>>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} keys)", self.0.len())
    }
}

impl Secrets {
    /// `secrets[0]` signs; every entry verifies.
    pub fn new(secrets: Vec<Vec<u8>>) -> Self {
        assert!(!secrets.is_empty(), "at least one secret");
        Secrets(secrets)
    }

    fn mac(secret: &[u8], label: &str, fields: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        for field in std::iter::once(label.as_bytes()).chain(fields.iter().copied()) {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac
    }

    /// The MAC of `fields` for `label`, under the current secret.
    pub fn sign(&self, label: &str, fields: &[&[u8]]) -> [u8; 32] {
        Self::mac(&self.0[0], label, fields)
            .finalize()
            .into_bytes()
            .into()
    }

    /// A key for `label` under each accepted secret, the current one first
    /// (for encryption: see [`super::sealed`]).
    pub fn derive(&self, label: &str) -> Vec<[u8; 32]> {
        self.0
            .iter()
            .map(|secret| {
                Self::mac(secret, "derive", &[label.as_bytes()])
                    .finalize()
                    .into_bytes()
                    .into()
            })
            .collect()
    }

    /// Whether `tag` is the MAC of `fields` for `label` under any accepted
    /// secret (constant-time).
    pub fn verify(&self, label: &str, fields: &[&[u8]], tag: &[u8]) -> bool {
        self.0
            .iter()
            .any(|secret| Self::mac(secret, label, fields).verify_slice(tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fields_and_secrets_all_count() {
        let old = Secrets::new(vec![b"old".to_vec()]);
        let keys = Secrets::new(vec![b"new".to_vec(), b"old".to_vec()]);
        let tag = keys.sign("csrf", &[b"ab", b"c"]);
        assert!(keys.verify("csrf", &[b"ab", b"c"], &tag));
        assert!(
            !keys.verify("device", &[b"ab", b"c"], &tag),
            "another label"
        );
        assert!(
            !keys.verify("csrf", &[b"a", b"bc"], &tag),
            "split elsewhere"
        );
        assert!(!keys.verify("csrf", &[b"ab", b"c"], &tag[..31]));
        let by_old = old.sign("csrf", &[b"x"]);
        assert!(
            keys.verify("csrf", &[b"x"], &by_old),
            "a previous secret verifies"
        );
        assert!(!old.verify("csrf", &[b"x"], &keys.sign("csrf", &[b"x"])));
    }
}
