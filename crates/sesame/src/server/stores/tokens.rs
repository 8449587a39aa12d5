//! Single-use account tokens (password reset, email verification): 32 random
//! bytes from the OS, sent in a link as base64url, stored only as their
//! SHA-256 with a purpose, a user, the address they were sent to, an
//! expiry, and the browser they are bound to, if any (the SHA-256 of a
//! cookie the browser that asked for the link holds). Taking one deletes it
//! in the same statement, so two requests with the same link cannot both
//! use it. Every step that secures an account voids all of its tokens (see
//! [`crate::server::flows::admin`]).

use std::sync::Arc;

use async_trait::async_trait;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// What a token is for: a token of one purpose never serves another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Sets a new password.
    ResetPassword,
    /// Confirms an email address.
    VerifyEmail,
    /// Moves an account to a new address (the token's `email`).
    ChangeEmail,
}

impl Purpose {
    /// Its name in the `purpose` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::ResetPassword => "reset-password",
            Purpose::VerifyEmail => "verify-email",
            Purpose::ChangeEmail => "change-email",
        }
    }
}

/// What a valid token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFor {
    /// The user.
    pub user_id: i64,
    /// The address the link was sent to.
    pub email: String,
    /// SHA-256 of the binding cookie of the browser that asked for it, if any.
    pub bound_to: Option<[u8; 32]>,
}

impl TokenFor {
    /// Whether `cookie` (a binding cookie's value) is the one this token is
    /// bound to (constant-time).
    pub fn is_bound_to(&self, cookie: Option<&str>) -> bool {
        use subtle::ConstantTimeEq;
        match (self.bound_to, cookie) {
            (Some(bound), Some(cookie)) => bool::from(binding_hash(cookie).ct_eq(&bound)),
            _ => false,
        }
    }
}

/// A row's `(user_id, email, bound_to)` as a [`TokenFor`] (a `bound_to`
/// of another length than 32 bytes binds to nothing any cookie has).
pub(crate) fn token_for(user_id: i64, email: String, bound_to: Option<Vec<u8>>) -> TokenFor {
    TokenFor {
        user_id,
        email,
        bound_to: bound_to.map(|b| <[u8; 32]>::try_from(b.as_slice()).unwrap_or([0; 32])),
    }
}

/// SHA-256 of a binding cookie's value: what a token bound to it stores.
pub fn binding_hash(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

/// Where tokens are kept: the `account_tokens` table (SQLite and PostgreSQL
/// in [`crate::server::stores`]). Tokens are named by their SHA-256 only.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a token, removing the user's earlier tokens of this purpose
    /// (one transaction).
    async fn replace(&self, token: NewToken<'_>) -> Result<(), sqlx::Error>;
    /// Whether a token of this purpose was issued to `user_id` within the
    /// last `seconds`, on the database's clock (the one that stamped it).
    async fn issued_within(
        &self,
        purpose: Purpose,
        user_id: i64,
        seconds: i64,
    ) -> Result<bool, sqlx::Error>;
    /// What the token with this hash names, if it is live at `now`.
    async fn find(
        &self,
        purpose: Purpose,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<TokenFor>, sqlx::Error>;
    /// Deletes the token with this hash (one statement); what it named and
    /// when it expires.
    async fn take(
        &self,
        purpose: Purpose,
        hash: &[u8; 32],
    ) -> Result<Option<(TokenFor, i64)>, sqlx::Error>;
}

/// A token to store.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// What it is for.
    pub purpose: Purpose,
    /// SHA-256 of the token.
    pub hash: &'a [u8; 32],
    /// Its user.
    pub user_id: i64,
    /// The address it is sent to.
    pub email: &'a str,
    /// Unix seconds when it expires.
    pub expires_at: i64,
    /// SHA-256 of the binding cookie of the browser it is bound to, if any.
    pub bound_to: Option<&'a [u8; 32]>,
}

/// The tokens: issued, checked and taken.
#[derive(Clone)]
pub struct Tokens {
    store: Arc<dyn TokenStore>,
}

fn hash(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl Tokens {
    /// Tokens kept in `store`.
    pub fn new(store: Arc<dyn TokenStore>) -> Tokens {
        Tokens { store }
    }

    /// A new token for `user_id` (sent to `email`), valid for `ttl`; the
    /// user's earlier tokens of this purpose stop working.
    pub async fn issue(
        &self,
        purpose: Purpose,
        user_id: i64,
        email: &str,
        ttl: std::time::Duration,
    ) -> Result<String, sqlx::Error> {
        self.issue_bound(purpose, user_id, email, ttl, None).await
    }

    /// [`Self::issue`], bound to the browser whose binding cookie hashes to
    /// `bound_to`.
    pub async fn issue_bound(
        &self,
        purpose: Purpose,
        user_id: i64,
        email: &str,
        ttl: std::time::Duration,
        bound_to: Option<&[u8; 32]>,
    ) -> Result<String, sqlx::Error> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let raw = URL_SAFE_NO_PAD.encode(bytes);
        self.store
            .replace(NewToken {
                purpose,
                hash: &hash(&raw),
                user_id,
                email,
                expires_at: now().saturating_add(ttl.as_secs() as i64),
                bound_to,
            })
            .await?;
        Ok(raw)
    }

    /// Whether a token of this purpose was issued to `user_id` within `within`.
    pub async fn issued_within(
        &self,
        purpose: Purpose,
        user_id: i64,
        within: std::time::Duration,
    ) -> Result<bool, sqlx::Error> {
        self.store
            .issued_within(purpose, user_id, within.as_secs() as i64)
            .await
    }

    /// What the live token `raw` names, leaving it in place (to check a
    /// form before the token is spent).
    pub async fn peek(&self, purpose: Purpose, raw: &str) -> Result<Option<TokenFor>, sqlx::Error> {
        self.store.find(purpose, &hash(raw), now()).await
    }

    /// Takes the live token `raw`: what it names, once.
    pub async fn take(&self, purpose: Purpose, raw: &str) -> Result<Option<TokenFor>, sqlx::Error> {
        Ok(self
            .store
            .take(purpose, &hash(raw))
            .await?
            .filter(|(_, expires_at)| *expires_at > now())
            .map(|(token, _)| token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::SqlitePool;
    use std::time::Duration;

    async fn store() -> (Tokens, SqlitePool) {
        let pool = crate::server::stores::db::memory_pool().await;
        sqlx::query("INSERT INTO users (id, email, password_hash) VALUES (1, 'a@b.c', 'x'), (2, 'd@e.f', 'x')")
            .execute(&pool)
            .await
            .unwrap();
        let store = crate::server::stores::sqlite::SqliteTokenStore::new(pool.clone());
        (Tokens::new(Arc::new(store)), pool)
    }

    #[tokio::test]
    async fn a_token_serves_once_for_its_purpose_until_it_expires() {
        let (tokens, pool) = store().await;
        let hour = Duration::from_secs(3600);
        let raw = tokens
            .issue(Purpose::ResetPassword, 1, "a@b.c", hour)
            .await
            .unwrap();
        assert_eq!(raw.len(), 43);
        let named = TokenFor {
            user_id: 1,
            email: "a@b.c".into(),
            bound_to: None,
        };
        assert_eq!(tokens.peek(Purpose::VerifyEmail, &raw).await.unwrap(), None);
        assert_eq!(tokens.take(Purpose::VerifyEmail, &raw).await.unwrap(), None);
        assert_eq!(
            tokens.peek(Purpose::ResetPassword, &raw).await.unwrap(),
            Some(named.clone())
        );
        assert_eq!(
            tokens.take(Purpose::ResetPassword, &raw).await.unwrap(),
            Some(named)
        );
        assert_eq!(
            tokens.take(Purpose::ResetPassword, &raw).await.unwrap(),
            None,
            "once"
        );
        assert_eq!(
            tokens
                .take(Purpose::ResetPassword, "made-up")
                .await
                .unwrap(),
            None
        );

        // Only the hash is stored.
        let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM account_tokens")
            .fetch_all(&pool)
            .await
            .unwrap();
        let second = tokens
            .issue(Purpose::ResetPassword, 2, "d@e.f", hour)
            .await
            .unwrap();
        let stored_now: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM account_tokens")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(stored.is_empty());
        assert_eq!(stored_now, vec![hash(&second).to_vec()]);

        // A newer token replaces the older one of the same user and purpose.
        let newer = tokens
            .issue(Purpose::ResetPassword, 2, "d@e.f", hour)
            .await
            .unwrap();
        assert_eq!(
            tokens.peek(Purpose::ResetPassword, &second).await.unwrap(),
            None
        );
        assert!(tokens
            .peek(Purpose::ResetPassword, &newer)
            .await
            .unwrap()
            .is_some());

        // Expired: neither peeked nor taken.
        let expired = tokens
            .issue(Purpose::VerifyEmail, 1, "a@b.c", Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            tokens.peek(Purpose::VerifyEmail, &expired).await.unwrap(),
            None
        );
        assert_eq!(
            tokens.take(Purpose::VerifyEmail, &expired).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn expiry_is_against_the_clock() {
        let (tokens, pool) = store().await;
        let raw = tokens
            .issue(
                Purpose::ResetPassword,
                1,
                "a@b.c",
                Duration::from_secs(3600),
            )
            .await
            .unwrap();
        let real_now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let expires: i64 = sqlx::query_scalar("SELECT expires_at FROM account_tokens")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!((expires - (real_now + 3600)).abs() <= 2, "{expires}");
        // A second ago, behind the store's back: expired.
        sqlx::query("UPDATE account_tokens SET expires_at = ?")
            .bind(real_now - 1)
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(
            tokens.peek(Purpose::ResetPassword, &raw).await.unwrap(),
            None
        );
        assert_eq!(
            tokens.take(Purpose::ResetPassword, &raw).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn issued_within_looks_at_this_user_and_purpose_and_the_time() {
        let (tokens, pool) = store().await;
        let minute = Duration::from_secs(60);
        assert!(!tokens
            .issued_within(Purpose::VerifyEmail, 1, minute)
            .await
            .unwrap());
        tokens
            .issue(Purpose::VerifyEmail, 1, "a@b.c", Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(tokens
            .issued_within(Purpose::VerifyEmail, 1, minute)
            .await
            .unwrap());
        assert!(!tokens
            .issued_within(Purpose::VerifyEmail, 2, minute)
            .await
            .unwrap());
        assert!(!tokens
            .issued_within(Purpose::ResetPassword, 1, minute)
            .await
            .unwrap());
        // Two minutes old: not within the minute, but within three.
        sqlx::query("UPDATE account_tokens SET created_at = created_at - 120")
            .execute(&pool)
            .await
            .unwrap();
        assert!(!tokens
            .issued_within(Purpose::VerifyEmail, 1, minute)
            .await
            .unwrap());
        assert!(tokens
            .issued_within(Purpose::VerifyEmail, 1, Duration::from_secs(180))
            .await
            .unwrap());
    }
}
