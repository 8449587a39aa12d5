//! Password hashing: argon2id PHC strings with OWASP's parameters
//! (m = 19456 KiB, t = 2, p = 1), run on the [`HashGate`]'s threads so a
//! verification never stalls the async runtime.
//!
//! [`Password`] is the parsed form of what a user typed: Unicode-normalised
//! (NFKC, so the same password typed on another keyboard or OS hashes alike),
//! 1 to [`MAX_PASSWORD_BYTES`] bytes, so an oversized input is refused before
//! any hashing. A password being *set* must also pass the policy of
//! [`NewPassword`].

use argon2::{
    password_hash::{rand_core::OsRng, Output, PasswordHash, PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

use crate::server::defense::hash_gate::{Busy, HashGate};

/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password as typed: non-empty, at most 1024 bytes, kept secret.
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

/// Why a password was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is empty")]
    /// No password was given.
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    /// Over the length that is hashed at all.
    TooLong,
}

impl Password {
    /// Bounds and normalises (NFKC) a password as typed.
    pub fn parse(raw: impl Into<String>) -> Result<Password, PasswordError> {
        let raw = SecretString::from(raw.into());
        let raw = raw.expose_secret();
        if raw.is_empty() {
            return Err(PasswordError::Empty);
        }
        // Bounded before normalising, and after: NFKC can lengthen a string.
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        let normalised: String = raw.nfkc().collect();
        if normalised.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(SecretString::from(normalised)))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// Shortest password that may be set, in characters (NIST SP 800-63B's floor
/// for a password that is the only factor).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Length the pages recommend.
pub const RECOMMENDED_PASSWORD_CHARS: usize = 15;

/// Why a new password was refused; the text is the reason shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    /// It is not a password at all (empty, too long).
    Password(#[from] PasswordError),
    #[error(
        "the password must be at least {MIN_PASSWORD_CHARS} characters long \
         ({RECOMMENDED_PASSWORD_CHARS} or more is better)"
    )]
    /// Shorter than the minimum.
    TooShort,
    #[error("the password is too easy to guess: {0}")]
    /// Too easy to guess; the reason says why.
    TooCommon(String),
}

/// A password that may be set: [`Password`]'s bounds, at least
/// 8 characters, and not a common or breached password
/// or one built from the account's own details (zxcvbn's estimate: refused at
/// 10^6 guesses or fewer, which covers its lists of leaked passwords). No
/// composition rules: any characters, spaces included.
#[derive(Debug)]
pub struct NewPassword(Password);

impl NewPassword {
    /// Checks `raw` against the policy; `context` holds what the password must
    /// not be built from (the email, the name).
    pub fn parse(raw: impl Into<String>, context: &[&str]) -> Result<NewPassword, PolicyError> {
        let password = Password::parse(raw)?;
        let text = password.expose();
        if text.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PolicyError::TooShort);
        }
        // zxcvbn's matching grows fast with length; its verdict on a long
        // password is decided by its start.
        let head: String = text.chars().take(128).collect();
        let estimate = zxcvbn::zxcvbn(&head, context);
        if estimate.score() <= zxcvbn::Score::One {
            let reason = estimate
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| w.to_string())
                .unwrap_or_else(|| "it is a common password or close to one.".into());
            return Err(PolicyError::TooCommon(reason));
        }
        Ok(NewPassword(password))
    }

    /// The password, bounded and normalised.
    pub fn password(&self) -> &Password {
        &self.0
    }
}

/// A hashing failure: a corrupt stored hash or a panicked worker.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hash: {0}")]
    /// The hash could not be computed or read.
    Hash(String),
    #[error(transparent)]
    /// Every hashing slot is busy and the queue is full.
    Busy(#[from] Busy),
}

/// The parameters new hashes get.
pub fn params() -> Params {
    Params::new(19_456, 2, 1, None).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

/// Hashes a password into a PHC string, on one of the gate's threads.
pub async fn hash(gate: &HashGate, password: &Password) -> Result<String, HashError> {
    let password = password.expose().to_string();
    gate.run(move || hash_blocking(&password)).await?
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password matches the hash.
    pub matches: bool,
    /// The stored hash uses older parameters or another algorithm: rehash it.
    pub needs_rehash: bool,
}

/// Checks `password` against the PHC string `stored`, in one of the gate's slots.
pub async fn verify(
    gate: &HashGate,
    password: &Password,
    stored: &str,
) -> Result<Verified, HashError> {
    let password = password.expose().to_string();
    let stored = stored.to_string();
    // Counted once it ran: a refusal for want of a slot is not a verification.
    gate.verification(move || verify_blocking(&password, &stored))
        .await?
}

/// One verification on the calling thread (the bench runs it as a job of
/// the hashing gate): the baseline that `make bench` compares a sign-in with.
#[cfg(feature = "bench")]
pub fn verify_here(password: &Password, stored: &str) -> Result<Verified, HashError> {
    verify_blocking(password.expose(), stored)
}

thread_local! {
    /// The argon2 working memory of this hashing thread (19 MiB at the current
    /// parameters), reused by every verification: with fixed threads, memory is
    /// bounded by the number of threads, whatever the allocator would keep.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn verify_blocking(password: &str, stored: &str) -> Result<Verified, HashError> {
    let bad = |e: &dyn std::fmt::Display| HashError::Hash(e.to_string());
    let parsed = PasswordHash::new(stored).map_err(|e| bad(&e))?;
    // The parameters recorded in the hash itself.
    let algorithm: Algorithm = parsed.algorithm.as_str().parse().map_err(|e| bad(&e))?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|e| bad(&e))?,
        None => Version::V0x13,
    };
    let stored_params = Params::try_from(&parsed).map_err(|e| bad(&e))?;
    let expected = parsed
        .hash
        .ok_or_else(|| bad(&"the stored hash has no output"))?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed
        .salt
        .ok_or_else(|| bad(&"the stored hash has no salt"))?
        .decode_b64(&mut salt_buf)
        .map_err(|e| bad(&e))?;
    let mut out = vec![0u8; expected.len()];
    let blocks = stored_params.block_count();
    let argon = Argon2::new(algorithm, version, stored_params.clone());
    BLOCKS.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        argon
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut memory[..blocks],
            )
            .map_err(|e| bad(&e))
    })?;
    let matches = bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), &out[..]));
    let current = params();
    let needs_rehash = algorithm != Algorithm::Argon2id
        || version != Version::V0x13
        || stored_params.m_cost() != current.m_cost()
        || stored_params.t_cost() != current.t_cost()
        || stored_params.p_cost() != current.p_cost();
    Ok(Verified {
        matches,
        needs_rehash,
    })
}

/// The hash verified against when a user is unknown, so that an unknown email
/// costs the same work as a wrong password: a PHC string with the current
/// parameters, a random salt and a random 32-byte output. Verifying against it
/// is one argon2id run like any other, and no password matches it (one chance
/// in 2^256). It is made without hashing, so no argon2 memory (19 MiB) is
/// taken, and kept by the allocator, at start-up.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let params = params();
        let salt = SaltString::generate(&mut OsRng);
        let output =
            Output::new(&rand::random::<[u8; 32]>()).expect("32 bytes is an output length");
        format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            salt.as_str(),
            output
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_costs_a_verification_at_the_current_parameters_and_matches_nothing() {
        let dummy = PasswordHash::new(dummy_hash()).unwrap();
        assert_eq!(dummy.algorithm, argon2::ARGON2ID_IDENT);
        assert_eq!(dummy.version, Some(0x13));
        let stored = Params::try_from(&dummy).unwrap();
        assert_eq!(
            (stored.m_cost(), stored.t_cost(), stored.p_cost()),
            (params().m_cost(), params().t_cost(), params().p_cost())
        );
        assert_eq!(dummy.hash.unwrap().len(), 32);
        assert!(dummy.salt.unwrap().len() >= 16);
        for typed in [" ", "password", "bench password, not a secret"] {
            let verified = verify_blocking(typed, dummy_hash()).unwrap();
            assert!(!verified.matches);
            assert!(!verified.needs_rehash);
        }
        // Random per process: not a constant anyone could precompute.
        assert_ne!(dummy.hash.unwrap().as_bytes(), &[0u8; 32]);
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let gate = HashGate::new(1, 1);
        let pw = Password::parse("correct horse").unwrap();
        let stored = hash(&gate, &pw).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        let ok = verify(&gate, &pw, &stored).await.unwrap();
        assert!(ok.matches && !ok.needs_rehash);
        let wrong = Password::parse("wrong horse").unwrap();
        assert!(!verify(&gate, &wrong, &stored).await.unwrap().matches);
        assert_eq!(gate.verifications(), 2);
    }

    #[tokio::test]
    async fn older_parameters_need_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let stored = weak.hash_password(b"pw", &salt).unwrap().to_string();
        let gate = HashGate::new(1, 1);
        let v = verify(&gate, &Password::parse("pw").unwrap(), &stored)
            .await
            .unwrap();
        assert!(v.matches && v.needs_rehash);
    }

    #[test]
    fn limits() {
        assert_eq!(Password::parse("").unwrap_err(), PasswordError::Empty);
        assert_eq!(
            Password::parse("x".repeat(MAX_PASSWORD_BYTES + 1)).unwrap_err(),
            PasswordError::TooLong
        );
        assert!(Password::parse("x".repeat(MAX_PASSWORD_BYTES)).is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("hunter2").unwrap()),
            "Password([REDACTED])"
        );
    }

    #[test]
    fn passwords_are_normalised_nfkc() {
        // A precomposed "é" and "e" + combining acute are one password; so are
        // full-width and ASCII letters.
        let composed = Password::parse("caf\u{e9} au lait").unwrap();
        let decomposed = Password::parse("cafe\u{301} au lait").unwrap();
        assert_eq!(composed.expose(), decomposed.expose());
        assert_eq!(Password::parse("\u{ff21}").unwrap().expose(), "A");
        // NFKC can lengthen: U+FDFA is 3 bytes and normalises to 33.
        let long = "\u{fdfa}".repeat(MAX_PASSWORD_BYTES / 3);
        assert!(long.len() <= MAX_PASSWORD_BYTES);
        assert_eq!(Password::parse(long).unwrap_err(), PasswordError::TooLong);
    }

    #[test]
    fn the_policy_refuses_short_common_and_personal_passwords_with_a_reason() {
        let refused = |raw: &str| NewPassword::parse(raw, &["demo@example.com", "Demo User"]);
        assert_eq!(refused("x").unwrap_err(), PolicyError::TooShort);
        assert_eq!(refused("seven77").unwrap_err(), PolicyError::TooShort);
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "P@ssw0rd",
        ] {
            let err = refused(common).unwrap_err();
            assert!(
                matches!(err, PolicyError::TooCommon(_)),
                "{common}: {err:?}"
            );
            assert!(err.to_string().contains("too easy to guess"), "{err}");
        }
        assert!(matches!(
            refused("demo@example.com").unwrap_err(),
            PolicyError::TooCommon(_)
        ));
        assert_eq!(
            refused(&"x".repeat(MAX_PASSWORD_BYTES + 1)).unwrap_err(),
            PolicyError::Password(PasswordError::TooLong)
        );
        // No composition rules: long lower-case passphrases and spaces are fine.
        for fine in [
            "correct horse battery staple",
            "open sesame, demo",
            "zq7 vlk2 mwp9",
        ] {
            assert!(refused(fine).is_ok(), "{fine}");
        }
    }
}
