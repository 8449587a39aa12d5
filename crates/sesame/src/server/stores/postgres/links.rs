//! Provider links in PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::server::stores::links::{Link, LinkStore, NewLink, Unlinked};

/// The `provider_accounts` table of a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgLinkStore {
    pool: PgPool,
}

impl PgLinkStore {
    /// Links in `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgLinkStore { pool }
    }
}

#[async_trait]
impl LinkStore for PgLinkStore {
    async fn find(&self, provider: &str, account_id: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT user_id FROM provider_accounts WHERE provider = $1 AND provider_account_id = $2",
        )
        .bind(provider)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await
    }

    async fn link(&self, link: NewLink<'_>) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO provider_accounts (provider, provider_account_id, user_id, email, \
             access_token, refresh_token, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
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
            "UPDATE provider_accounts SET access_token = $1, refresh_token = $2, expires_at = $3 \
             WHERE provider = $4 AND provider_account_id = $5 AND user_id = $6",
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
             WHERE user_id = $1 ORDER BY created_at, provider, provider_account_id",
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
        let mut tx = self.pool.begin().await?;
        // The user's row, locked: removals of their links run one at a time,
        // so two cannot each see the other's link and both go.
        let password: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let links: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM provider_accounts WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM provider_accounts WHERE user_id = $1 \
             AND provider = $2 AND provider_account_id = $3)",
        )
        .bind(user_id)
        .bind(provider)
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Ok(Unlinked::NotFound);
        }
        if password.is_none_or(|p| p.is_empty()) && links <= 1 {
            return Ok(Unlinked::LastWay);
        }
        sqlx::query(
            "DELETE FROM provider_accounts WHERE user_id = $1 AND provider = $2 \
             AND provider_account_id = $3",
        )
        .bind(user_id)
        .bind(provider)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Unlinked::Removed)
    }
}
