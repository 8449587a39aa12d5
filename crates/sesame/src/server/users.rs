//! The user store: a small trait (its SQLite and PostgreSQL implementations
//! are in [`super::stores`]), the user record, and the parsed email.
//!
//! [`Email`] is the parsed form of a user's email: trimmed, lower-cased, at most
//! [`MAX_EMAIL_BYTES`], one `@` with something on each side. [`Identifier`] is
//! the looser form of what a sign-in form sent (an app's `authorize` may take
//! user names): present, bounded, normalised, and hashed for the counters.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A normalised email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an email was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the email is longer than {MAX_EMAIL_BYTES} bytes")]
    /// Longer than an email may be.
    TooLong,
    #[error("the email is not of the form name@domain")]
    /// Not of the form local@domain.
    Malformed,
}

impl Email {
    /// Trims, lower-cases and checks an email address.
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let email = raw.trim();
        if email.len() > MAX_EMAIL_BYTES {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.split_once('@').ok_or(EmailError::Malformed)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(EmailError::Malformed);
        }
        Ok(Email(email.to_lowercase()))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a sign-in names as the account: trimmed, lower-cased, 1 to
/// [`MAX_EMAIL_BYTES`] bytes, no control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Identifier {
    normalised: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identifier({})", hex::encode(&self.key[..8]))
    }
}

/// Why a sign-in identifier was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("no email was given")]
    /// Nothing was given.
    Missing,
    #[error("the email is longer than {MAX_EMAIL_BYTES} bytes")]
    /// Longer than an identifier may be.
    TooLong,
    #[error("the email holds control characters")]
    /// Holds control characters.
    Malformed,
}

impl Identifier {
    /// Trims and lower-cases a sign-in identifier and bounds its length.
    pub fn parse(raw: &str) -> Result<Identifier, IdentifierError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(IdentifierError::Missing);
        }
        if trimmed.len() > MAX_EMAIL_BYTES {
            return Err(IdentifierError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(IdentifierError::Malformed);
        }
        let normalised = trimmed.to_lowercase();
        let key = Sha256::digest(normalised.as_bytes()).into();
        Ok(Identifier { normalised, key })
    }

    /// The identifier, trimmed and lower-cased.
    pub fn as_str(&self) -> &str {
        &self.normalised
    }

    /// SHA-256 of [`Self::as_str`]: the key of its counters.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }
}

/// A stored user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    /// The row id.
    pub id: i64,
    /// The email (lower-cased).
    pub email: String,
    /// The display name, if any.
    pub name: Option<String>,
    /// An image URL, if any.
    pub image: Option<String>,
    /// The argon2id hash (PHC string).
    pub password_hash: String,
    /// Unix seconds of the account's creation.
    pub created_at: i64,
    /// Unix seconds since when the account is disabled (it cannot sign in).
    pub disabled_at: Option<i64>,
    /// Unix seconds of the email's verification.
    pub email_verified_at: Option<i64>,
}

impl UserRecord {
    /// Whether the account may not sign in.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// The columns of a [`UserRecord`], in its order.
pub(crate) const COLUMNS: &str =
    "id, email, name, image, password_hash, created_at, disabled_at, email_verified_at";

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The email, parsed.
    pub email: Email,
    /// The display name, if any.
    pub name: Option<String>,
    /// An argon2id PHC string (see [`super::password::hash`]).
    pub password_hash: String,
    /// Whether the email counts as verified from the start (an account an
    /// administrator creates).
    pub email_verified: bool,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a user with this email already exists")]
    /// A user with this email exists.
    Duplicate,
    #[error("no such user")]
    /// No user has this id.
    NotFound,
    #[error("database: {0}")]
    /// The database failed.
    Database(#[from] sqlx::Error),
}

/// Where users live. Implement it to keep users elsewhere (PostgreSQL, an API).
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this email, if any.
    async fn find_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError>;
    /// Adds a user; an existing email is [`StoreError::Duplicate`].
    async fn create(&self, user: NewUser) -> Result<UserRecord, StoreError>;
    /// Replaces a user's password hash (a rehash, or a new password).
    async fn set_password_hash(&self, id: i64, password_hash: &str) -> Result<(), StoreError>;
    /// The user with this id, if any.
    async fn find_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError>;
    /// Every user, by id.
    async fn list(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// Disables (`true`) or enables a user; [`StoreError::NotFound`] if none.
    async fn set_disabled(&self, id: i64, disabled: bool) -> Result<(), StoreError>;
    /// Marks a user's email as verified; [`StoreError::NotFound`] if none.
    async fn set_email_verified(&self, id: i64) -> Result<(), StoreError>;
    /// Gives a user a new (verified) email; [`StoreError::Duplicate`] if
    /// another user has it, [`StoreError::NotFound`] if there is no such user.
    async fn set_email(&self, id: i64, email: &Email) -> Result<(), StoreError>;
    /// Removes a user (and, with them, their tokens); [`StoreError::NotFound`] if none.
    async fn delete(&self, id: i64) -> Result<(), StoreError>;
}

/// `NotFound` unless a row was changed (`rows` is how many).
pub(crate) fn changed(rows: u64) -> Result<(), StoreError> {
    if rows == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// A unique-constraint violation is [`StoreError::Duplicate`].
pub(crate) fn duplicate_or(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::Duplicate,
        e => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_parsing() {
        assert_eq!(
            Email::parse("  Demo@Example.COM ").unwrap().as_str(),
            "demo@example.com"
        );
        for bad in [
            "",
            "demo",
            "@example.com",
            "demo@",
            "a@b@c",
            "de mo@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn identifiers_are_bounded_and_normalised_before_use() {
        let a = Identifier::parse("  Demo@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "demo@example.com");
        assert_eq!(a, Identifier::parse("demo@example.com").unwrap());
        assert_eq!(Identifier::parse("   "), Err(IdentifierError::Missing));
        assert_eq!(Identifier::parse(""), Err(IdentifierError::Missing));
        assert_eq!(
            Identifier::parse(&"a".repeat(MAX_EMAIL_BYTES + 1)),
            Err(IdentifierError::TooLong)
        );
        assert_eq!(
            Identifier::parse("a\u{0}b"),
            Err(IdentifierError::Malformed)
        );
        assert!(
            Identifier::parse("user-name").is_ok(),
            "an app may sign in by name"
        );
        assert!(!format!("{a:?}").contains("demo"), "Debug shows no address");
    }
}
