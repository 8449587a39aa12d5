//! Provider links in SQLite.

use async_trait::async_trait;
use sqlx::SqlitePool;

use crate::server::stores::links::{Link, LinkStore, NewLink, Unlinked};

/// The `provider_accounts` table of a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteLinkStore {
    pool: SqlitePool,
}

impl SqliteLinkStore {
    /// Links in `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteLinkStore { pool }
    }
}

#[async_trait]
impl LinkStore for SqliteLinkStore {
    async fn find(&self, provider: &str, account_id: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT user_id FROM provider_accounts WHERE provider = ? AND provider_account_id = ?",
        )
        .bind(provider)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await
    }

    async fn link(&self, link: NewLink<'_>) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO provider_accounts (provider, provider_account_id, user_id, email, \
             access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (provider, provider_account_id) DO NOTHING",
        )
        .bind(link.provider)
        .bind(link.account_id)
        .bind(link.user_id)
        .bind(link.email)
        .bind(link.access_token)
        .bind(link.refresh_token)
        .bind(link.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_tokens(&self, link: NewLink<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE provider_accounts SET access_token = ?, refresh_token = ?, expires_at = ? \
             WHERE provider = ? AND provider_account_id = ? AND user_id = ?",
        )
        .bind(link.access_token)
        .bind(link.refresh_token)
        .bind(link.expires_at)
        .bind(link.provider)
        .bind(link.account_id)
        .bind(link.user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list(&self, user_id: i64) -> Result<Vec<Link>, sqlx::Error> {
        sqlx::query_as(
            "SELECT provider, provider_account_id, email, created_at FROM provider_accounts \
             WHERE user_id = ? ORDER BY created_at, provider, provider_account_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
    }

    async fn unlink(
        &self,
        user_id: i64,
        provider: &str,
        account_id: &str,
    ) -> Result<Unlinked, sqlx::Error> {
        // One statement: SQLite runs writes one at a time, so the check and
        // the removal see the same rows.
        let done = sqlx::query(
            "DELETE FROM provider_accounts WHERE user_id = ?1 AND provider = ?2 \
             AND provider_account_id = ?3 AND ( \
               (SELECT password_hash FROM users WHERE id = ?1) <> '' \
               OR (SELECT COUNT(*) FROM provider_accounts WHERE user_id = ?1) > 1)",
        )
        .bind(user_id)
        .bind(provider)
        .bind(account_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Unlinked::Removed);
        }
        let exists = self.find(provider, account_id).await? == Some(user_id);
        Ok(if exists {
            Unlinked::LastWay
        } else {
            Unlinked::NotFound
        })
    }
}
