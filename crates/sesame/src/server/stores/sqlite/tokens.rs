//! Account tokens in SQLite.

use async_trait::async_trait;
use sqlx::SqlitePool;

use crate::server::stores::tokens::{token_for, NewToken, Purpose, TokenFor, TokenStore};

/// The `account_tokens` table of a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteTokenStore {
    pool: SqlitePool,
}

impl SqliteTokenStore {
    /// Tokens in `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteTokenStore { pool }
    }
}

#[async_trait]
impl TokenStore for SqliteTokenStore {
    async fn replace(&self, token: NewToken<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM account_tokens WHERE user_id = ? AND purpose = ?")
            .bind(token.user_id)
            .bind(token.purpose.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at, bound_to) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.hash[..])
        .bind(token.purpose.as_str())
        .bind(token.user_id)
        .bind(token.email)
        .bind(token.expires_at)
        .bind(token.bound_to.map(|b| b.to_vec()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    async fn issued_within(
        &self,
        purpose: Purpose,
        user_id: i64,
        seconds: i64,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM account_tokens \
             WHERE user_id = ? AND purpose = ? AND created_at > unixepoch() - ?",
        )
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(seconds)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    async fn find(
        &self,
        purpose: Purpose,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<Option<TokenFor>, sqlx::Error> {
        let row: Option<(i64, String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT user_id, email, bound_to FROM account_tokens \
             WHERE token_hash = ? AND purpose = ? AND expires_at > ?",
        )
        .bind(&hash[..])
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(user_id, email, bound)| token_for(user_id, email, bound)))
    }

    async fn take(
        &self,
        purpose: Purpose,
        hash: &[u8; 32],
    ) -> Result<Option<(TokenFor, i64)>, sqlx::Error> {
        let row: Option<(i64, String, i64, Option<Vec<u8>>)> = sqlx::query_as(
            "DELETE FROM account_tokens WHERE token_hash = ? AND purpose = ? \
             RETURNING user_id, email, expires_at, bound_to",
        )
        .bind(&hash[..])
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(user_id, email, expires, bound)| (token_for(user_id, email, bound), expires)))
    }
}
