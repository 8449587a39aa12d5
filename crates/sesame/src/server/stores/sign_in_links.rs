//! The email provider's sign-in links (`sign_in_links`, SQLite and
//! PostgreSQL): 32 random bytes sent as base64url, stored as their SHA-256
//! with the address and the `callbackUrl`. A new link for an address voids
//! the earlier ones; taking one deletes it in the same statement, so two
//! requests with the same link cannot both use it.

use std::sync::Arc;

use async_trait::async_trait;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::{rngs::OsRng, RngCore};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Where sign-in links are kept.
#[async_trait]
pub trait SignInLinkStore: Send + Sync + 'static {
    /// Stores a link for `email`, removing its earlier ones (one transaction).
    async fn replace(
        &self,
        hash: &[u8; 32],
        email: &str,
        callback_url: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error>;
    /// Deletes the link with this hash (one statement): its address,
    /// `callbackUrl` and expiry.
    async fn take(&self, hash: &[u8; 32]) -> Result<Option<(String, String, i64)>, sqlx::Error>;
}

/// Sign-in links: issued and taken once.
#[derive(Clone)]
pub struct SignInLinks {
    store: Arc<dyn SignInLinkStore>,
}

fn hash(raw: &str) -> [u8; 32] {
    Sha256::digest(raw.as_bytes()).into()
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl SignInLinks {
    /// Links kept in `store`.
    pub fn new(store: Arc<dyn SignInLinkStore>) -> SignInLinks {
        SignInLinks { store }
    }

    /// A new link's token for `email`, valid for `ttl`.
    pub async fn issue(
        &self,
        email: &str,
        callback_url: &str,
        ttl: std::time::Duration,
    ) -> Result<String, sqlx::Error> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        let raw = URL_SAFE_NO_PAD.encode(bytes);
        self.store
            .replace(
                &hash(&raw),
                email,
                callback_url,
                now().saturating_add(ttl.as_secs() as i64),
            )
            .await?;
        Ok(raw)
    }

    /// Takes the live link `raw`: its address and `callbackUrl`, once.
    pub async fn take(&self, raw: &str) -> Result<Option<(String, String)>, sqlx::Error> {
        Ok(self
            .store
            .take(&hash(raw))
            .await?
            .filter(|(_, _, expires_at)| *expires_at > now())
            .map(|(email, callback_url, _)| (email, callback_url)))
    }
}

/// The SQLite and PostgreSQL statements differ only in placeholders.
macro_rules! sign_in_link_store {
    ($name:ident, $pool:ty, $p:expr) => {
        /// The `sign_in_links` table.
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            /// Links in `pool`.
            pub fn new(pool: $pool) -> Self {
                $name { pool }
            }
        }

        #[async_trait]
        impl SignInLinkStore for $name {
            async fn replace(
                &self,
                hash: &[u8; 32],
                email: &str,
                callback_url: &str,
                expires_at: i64,
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let mut tx = self.pool.begin().await?;
                sqlx::query(&format!("DELETE FROM sign_in_links WHERE email = {}", p(1)))
                    .bind(email)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&format!(
                    "INSERT INTO sign_in_links (token_hash, email, callback_url, expires_at) \
                     VALUES ({}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4)
                ))
                .bind(&hash[..])
                .bind(email)
                .bind(callback_url)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            }

            async fn take(
                &self,
                hash: &[u8; 32],
            ) -> Result<Option<(String, String, i64)>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "DELETE FROM sign_in_links WHERE token_hash = {} \
                     RETURNING email, callback_url, expires_at",
                    p(1)
                ))
                .bind(&hash[..])
                .fetch_optional(&self.pool)
                .await
            }
        }
    };
}

sign_in_link_store!(SqliteSignInLinkStore, sqlx::SqlitePool, |_| "?".to_string());
#[cfg(feature = "postgres")]
sign_in_link_store!(PgSignInLinkStore, sqlx::PgPool, |n| format!("${n}"));
