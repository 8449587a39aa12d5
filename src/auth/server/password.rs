//! Password hashing: argon2id PHC strings with OWASP's parameters
//! (m = 19456 KiB, t = 2, p = 1), run on the [`HashGate`]'s threads so a
//! verification never stalls the async runtime.
//!
//! [`Password`] is the parsed form of what a user typed: 1 to [`MAX_PASSWORD_BYTES`]
//! bytes, so an oversized input is refused before any hashing.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString},
    Algorithm, Argon2, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::OnceLock;

use super::limits::{Busy, HashGate};

/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password as typed: non-empty, at most [`MAX_PASSWORD_BYTES`], kept secret.
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
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

impl Password {
    pub fn parse(raw: impl Into<String>) -> Result<Password, PasswordError> {
        let raw: String = raw.into();
        if raw.is_empty() {
            Err(PasswordError::Empty)
        } else if raw.len() > MAX_PASSWORD_BYTES {
            Err(PasswordError::TooLong)
        } else {
            Ok(Password(SecretString::from(raw)))
        }
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A hashing failure: a corrupt stored hash or a panicked worker.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hash: {0}")]
    Hash(String),
    #[error(transparent)]
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
    let verified = gate
        .run(move || verify_blocking(&password, &stored))
        .await?;
    // Counted once it ran: a refusal for want of a slot is not a verification.
    gate.count_verification();
    verified
}

/// One verification on the calling thread, outside the hashing gate: the
/// baseline that `make bench` compares a sign-in with.
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

/// A hash of a random password, verified against when a user is unknown so that an
/// unknown email costs the same work as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = hex::encode(rand::random::<[u8; 16]>());
        hash_blocking(&random).expect("hashing a random password")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
