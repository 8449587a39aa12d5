//! Account tokens in PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::server::stores::tokens::{token_for, NewToken, Purpose, TokenFor, TokenStore};

/// The `account_tokens` table of a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgTokenStore {
    pool: PgPool,
}

impl PgTokenStore {
    /// Tokens in `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgTokenStore { pool }
    }
}

#[async_trait]
impl TokenStore for PgTokenStore {
    async fn replace(&self, token: NewToken<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2")
            .bind(token.user_id)
            .bind(token.purpose.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at, bound_to) \
             VALUES ($1, $2, $3, $4, $5, $6)",
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
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM account_tokens WHERE user_id = $1 AND purpose = $2 \
             AND created_at > EXTRACT(EPOCH FROM now())::BIGINT - $3",
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
             WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3",
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
            "DELETE FROM account_tokens WHERE token_hash = $1 AND purpose = $2 \
             RETURNING user_id, email, expires_at, bound_to",
        )
        .bind(&hash[..])
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(user_id, email, expires, bound)| (token_for(user_id, email, bound), expires)))
    }
}
