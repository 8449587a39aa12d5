//! Sealed values: encrypted and authenticated with XChaCha20-Poly1305 under
//! a key derived from the secret for one purpose (the OAuth flow's cookie,
//! provider tokens at rest). Sealed under the current secret, opened under
//! it or a previous one; a value sealed for one purpose never opens as
//! another (the purpose is in the key and in the associated data).
//!
//! The `chacha20poly1305` crate does the cryptography; this file only frames
//! it (a random 24-byte nonce before the ciphertext, base64url).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};

use super::keys::Secrets;

/// Seals and opens values for one purpose.
pub struct Sealer {
    purpose: &'static str,
    /// The current secret's key first.
    keys: Vec<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealer({}, {} keys)", self.purpose, self.keys.len())
    }
}

const NONCE: usize = 24;

impl Sealer {
    /// A sealer for `purpose` under `secrets`.
    pub fn new(secrets: &Secrets, purpose: &'static str) -> Sealer {
        let label = ["sealed:", purpose].concat();
        Sealer {
            purpose,
            keys: secrets
                .derive(&label)
                .iter()
                .map(|key| XChaCha20Poly1305::new(key.into()))
                .collect(),
        }
    }

    /// `plaintext`, sealed: base64url of the nonce and the ciphertext.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self.keys[0]
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: self.purpose.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any length a cookie holds");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// What `sealed` holds, if it was sealed for this purpose under an
    /// accepted secret and not changed since.
    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE);
        let nonce = XNonce::from_slice(nonce);
        self.keys.iter().find_map(|key| {
            key.decrypt(
                nonce,
                Payload {
                    msg: ciphertext,
                    aad: self.purpose.as_bytes(),
                },
            )
            .ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&[u8]]) -> Secrets {
        Secrets::new(list.iter().map(|s| s.to_vec()).collect())
    }

    #[test]
    fn a_sealed_value_opens_for_its_purpose_and_secret_only() {
        let keys = secrets(&[b"one"]);
        let flow = Sealer::new(&keys, "oauth-flow");
        let sealed = flow.seal(b"state");
        assert_eq!(flow.open(&sealed).as_deref(), Some(&b"state"[..]));
        assert_ne!(flow.seal(b"state"), sealed, "a new nonce each time");
        assert!(!sealed.contains("state"));
        assert_eq!(Sealer::new(&keys, "tokens").open(&sealed), None);
        assert_eq!(
            Sealer::new(&secrets(&[b"two"]), "oauth-flow").open(&sealed),
            None
        );
        assert_eq!(
            format!("{flow:?}"),
            "Sealer(oauth-flow, 1 keys)",
            "no key material"
        );
        let rotated = Sealer::new(&secrets(&[b"two", b"one"]), "oauth-flow");
        assert_eq!(rotated.open(&sealed).as_deref(), Some(&b"state"[..]));
    }

    #[test]
    fn a_changed_or_short_value_does_not_open() {
        let flow = Sealer::new(&secrets(&[b"one"]), "oauth-flow");
        let sealed = flow.seal(b"state");
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in [0, NONCE, bytes.len() - 1] {
            bytes[i] ^= 1;
            assert_eq!(flow.open(&URL_SAFE_NO_PAD.encode(&bytes)), None, "byte {i}");
            bytes[i] ^= 1;
        }
        assert!(flow.open(&URL_SAFE_NO_PAD.encode(&bytes)).is_some());
        assert_eq!(flow.open(&URL_SAFE_NO_PAD.encode([0u8; NONCE])), None);
        assert_eq!(flow.open("AAAA"), None);
        assert_eq!(flow.open("not base64!"), None);
    }
}
