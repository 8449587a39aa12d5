//! The user store: a small trait (its SQLite and PostgreSQL implementations
//! are in [`crate::server::stores`]), the user record, and the parsed email.
//!
//! [`Email`] is the parsed form of a user's email: trimmed, lower-cased, at most
//! [`MAX_EMAIL_BYTES`], one `@` with something on each side. [`Identifier`] is
//! the looser form of what a sign-in form sent (an app's `authorize` may take
//! user names): present, bounded, normalised, and hashed for the counters.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest local part (before the `@`) accepted (RFC 5321).
pub const MAX_LOCAL_BYTES: usize = 64;

/// A plain email address, parsed once: an RFC 5321 `addr-spec` whose local
/// part is a dot-atom (no quoted local part, no display name, no angle
/// brackets, no comments, no IP literal), with no whitespace, control, or
/// bidirectional and other invisible formatting characters. It is
/// normalised once: the local part to Unicode NFC and lower case (Sesame
/// treats addresses case-insensitively, as most providers do), the domain
/// through IDNA (UTS 46) to its lower-case ASCII form. Two spellings that
/// mail delivers to one mailbox (`A@B.example`, `a@b.EXAMPLE`,
/// `a@bü.example` and its `xn--` form) are one `Email`; anything mail could
/// read as something else (`x <a@b.example>`, `"a"@b.example`) is refused.
///
/// Written here rather than taken from a crate: the crates that parse
/// addresses accept the RFC 5322 forms (quoted local parts, display names,
/// comments) that this type exists to refuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an email was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("the email is longer than {MAX_EMAIL_BYTES} bytes")]
    /// Longer than an email may be.
    TooLong,
    #[error("the email is not a plain address of the form name@domain")]
    /// Not a plain `local@domain` address.
    Malformed,
    #[error("the email holds a control, space or formatting character")]
    /// Holds a character that could hide what the address is.
    ForbiddenCharacter,
    #[error("the email's domain is not a valid domain name")]
    /// The domain is not a valid (internationalised) domain name.
    BadDomain,
}

/// Characters that change how text is displayed without being seen: the
/// bidirectional marks and overrides, zero-width characters, the BOM.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// RFC 5322 `atext` (ASCII), or a non-ASCII letter or digit (RFC 6531).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && c.is_alphanumeric())
}

impl Email {
    /// Parses and normalises a plain email address (see [`Email`]).
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        use unicode_normalization::UnicodeNormalization;
        let email = raw.trim();
        if email.len() > MAX_EMAIL_BYTES {
            return Err(EmailError::TooLong);
        }
        if email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        {
            return Err(EmailError::ForbiddenCharacter);
        }
        let (local, domain) = email.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local: String = local.nfc().collect::<String>().to_lowercase();
        let dot_atom = !local.is_empty()
            && local.len() <= MAX_LOCAL_BYTES
            && local
                .split('.')
                .all(|atom| !atom.is_empty() && atom.chars().all(is_atext));
        if !dot_atom {
            return Err(EmailError::Malformed);
        }
        let domain = domain_to_ascii(domain)?;
        let email = format!("{local}@{domain}");
        if email.len() > MAX_EMAIL_BYTES {
            return Err(EmailError::TooLong);
        }
        Ok(Email(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A domain name through IDNA (UTS 46, as browsers apply it) to its ASCII
/// form, then checked as a host name: letters, digits and hyphens in labels
/// of 1 to 63 bytes, at least two labels, the last not all digits (so no
/// empty domain and no IP literal, bracketed or not).
fn domain_to_ascii(domain: &str) -> Result<String, EmailError> {
    let ascii = idna::domain_to_ascii(domain).map_err(|_| EmailError::BadDomain)?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let ldh = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let all_digits = labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()));
    if labels.len() < 2 || !labels.iter().all(ldh) || all_digits {
        return Err(EmailError::BadDomain);
    }
    Ok(ascii.to_ascii_lowercase())
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
    /// An argon2id PHC string (as Sesame's password hashing writes it).
    pub password_hash: String,
    /// Whether the email counts as verified from the start (an account an
    /// administrator creates).
    pub email_verified: bool,
}

/// A change to a user's row that is made in the same transaction as the
/// end of their sessions and pending links (see
/// [`SessionRows::revoke_user`](crate::server::session::store::SessionRows::revoke_user)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange<'a> {
    /// Nothing but the sessions and the links ("sign out everywhere").
    None,
    /// A new password hash (argon2id PHC string).
    Password(&'a str),
    /// Disabled.
    Disable,
    /// Moved to this (verified) address.
    Email(&'a Email),
    /// Deleted.
    Delete,
}

impl AccountChange<'_> {
    /// The statement that makes this change to one row of `users`, for a
    /// database whose current Unix time is `now` (an SQL expression) and
    /// whose `n`-th placeholder is `placeholder(n)`: its text, and the text
    /// to bind before the user's id, if any. `None` for [`AccountChange::None`].
    pub(crate) fn statement(
        &self,
        now: &str,
        placeholder: fn(usize) -> String,
    ) -> Option<(String, Option<&str>)> {
        let (set, value) = match self {
            AccountChange::None => return None,
            AccountChange::Delete => {
                return Some((
                    format!("DELETE FROM users WHERE id = {}", placeholder(1)),
                    None,
                ))
            }
            AccountChange::Password(hash) => {
                (format!("password_hash = {}", placeholder(1)), Some(*hash))
            }
            AccountChange::Disable => (format!("disabled_at = COALESCE(disabled_at, {now})"), None),
            AccountChange::Email(email) => (
                format!("email = {}, email_verified_at = {now}", placeholder(1)),
                Some(email.as_str()),
            ),
        };
        let id = placeholder(if value.is_some() { 2 } else { 1 });
        Some((
            format!("UPDATE users SET {set}, updated_at = {now} WHERE id = {id}"),
            value,
        ))
    }
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
            "a@b@c.example",
            "de mo@example.com",
            "demo@localhost",
            "demo@example.123",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        // Exactly the longest address: accepted.
        let longest = format!(
            "{}@{}.{}.{}",
            "a".repeat(MAX_LOCAL_BYTES),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61)
        );
        assert_eq!(longest.len(), MAX_EMAIL_BYTES);
        assert_eq!(Email::parse(&longest).unwrap().as_str(), longest);
        // Short as typed, too long once IDNA wrote its `xn--` labels.
        let grows = format!("a@{}example", "é.".repeat(60));
        assert!(grows.len() <= MAX_EMAIL_BYTES);
        assert_eq!(Email::parse(&grows), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(MAX_LOCAL_BYTES + 1));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Malformed));
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(MAX_LOCAL_BYTES))).is_ok());
    }

    #[test]
    fn only_a_plain_address_is_an_email() {
        for (raw, error) in [
            ("<a@b.example>", EmailError::Malformed),
            ("x <a@b.example>", EmailError::ForbiddenCharacter),
            ("x<a@b.example>", EmailError::Malformed),
            ("\"a\"@b.example", EmailError::Malformed),
            ("\"a b\"@b.example", EmailError::ForbiddenCharacter),
            ("a(c)@b.example", EmailError::Malformed),
            ("a@b.example(c)", EmailError::BadDomain),
            ("a,b@b.example", EmailError::Malformed),
            ("a@[127.0.0.1]", EmailError::BadDomain),
            ("a..b@b.example", EmailError::Malformed),
            (".a@b.example", EmailError::Malformed),
            ("a.@b.example", EmailError::Malformed),
            ("a\u{202e}b@b.example", EmailError::ForbiddenCharacter),
            ("a@b\u{200b}.example", EmailError::ForbiddenCharacter),
            ("a\u{feff}@b.example", EmailError::ForbiddenCharacter),
            ("a\u{7}@b.example", EmailError::ForbiddenCharacter),
            ("a\tb@b.example", EmailError::ForbiddenCharacter),
            ("a@-b.example", EmailError::BadDomain),
            ("a@b-.example", EmailError::BadDomain),
            ("a@b..example", EmailError::BadDomain),
            ("a@b_c.example", EmailError::BadDomain),
            ("a@", EmailError::BadDomain),
            ("a@127.0.0.1", EmailError::BadDomain),
            // Non-ASCII, but no letter or digit: the fullwidth `@`, quotes.
            ("a\u{ff20}b@c.example", EmailError::Malformed),
            ("\u{2039}a\u{203a}@b.example", EmailError::Malformed),
        ] {
            assert_eq!(Email::parse(raw), Err(error), "{raw:?}");
        }
        for ok in [
            "a+tag@b.example",
            "o'brien@b.example",
            "a.b.c@sub.b.example",
            "x-1@b-c.example",
        ] {
            assert_eq!(Email::parse(ok).unwrap().as_str(), ok, "{ok:?}");
        }
    }

    #[test]
    fn one_mailbox_has_one_spelling() {
        let ascii = Email::parse("jose@xn--bcher-kva.example").unwrap();
        for spelling in [
            "Jose@Bücher.Example",
            "JOSE@BÜCHER.EXAMPLE",
            "jose@XN--BCHER-KVA.example",
            "jose@bu\u{308}cher.example",
        ] {
            assert_eq!(Email::parse(spelling).unwrap(), ascii, "{spelling:?}");
        }
        // A local part in Unicode is kept, composed (NFC) and lower-cased.
        assert_eq!(
            Email::parse("JOSE\u{301}@b.example").unwrap().as_str(),
            "jos\u{e9}@b.example"
        );
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
