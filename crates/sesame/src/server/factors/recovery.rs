//! Recovery codes: ten single-use codes shown once when the authenticator
//! app is confirmed (or new ones on demand), each 10 characters of
//! Crockford-style base32 (50 random bits) shown as `xxxxx-xxxxx`, kept as
//! their SHA-256: with this much entropy a fast hash is enough, and nothing
//! in the database gives a code back.

use rand::{rngs::OsRng, Rng};
use sha2::{Digest, Sha256};

/// Codes per set.
pub const COUNT: usize = 10;
/// The alphabet: no `i`, `l`, `o`, `u` to misread.
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new set: the codes to show, and their hashes to keep.
pub fn new_set() -> (Vec<String>, Vec<[u8; 32]>) {
    let codes: Vec<String> = (0..COUNT)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| ALPHABET[OsRng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| hash(c)).collect();
    (codes, hashes)
}

/// A code as typed, in its kept form: lower case, without spaces and
/// dashes, the misread letters read as the digits they look like.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect()
}

/// The kept form's SHA-256.
pub fn hash(code: &str) -> [u8; 32] {
    Sha256::digest(normalize(code).as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_codes_hashed_as_typed_loosely() {
        let (codes, hashes) = new_set();
        assert_eq!(codes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        for (code, h) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 11);
            assert_eq!(&hash(&code.to_uppercase().replace('-', " ")), h);
        }
        assert_eq!(normalize("AbC1o-Il0 x"), "abc10110x");
        assert_ne!(hash("abcde-fghjk"), hash("abcde-fghjm"));
    }
}
