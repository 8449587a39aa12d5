//! Users in PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::server::stores::users::{
    changed, duplicate_or, Email, NewUser, StoreError, UserRecord, UserStore, COLUMNS,
};

/// Users in the `users` table of a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgUserStore {
    pool: PgPool,
}

impl PgUserStore {
    /// Users in the `users` table of `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgUserStore { pool }
    }
}

#[async_trait]
impl UserStore for PgUserStore {
    async fn find_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        Ok(sqlx::query_as::<_, UserRecord>(&format!(
            "SELECT {COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn create(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        let result = sqlx::query_as::<_, UserRecord>(&format!(
            "INSERT INTO users (email, name, password_hash, email_verified_at) \
             VALUES ($1, $2, $3, CASE WHEN $4::BOOLEAN THEN EXTRACT(EPOCH FROM now())::BIGINT END) RETURNING {COLUMNS}"
        ))
        .bind(user.email.as_str())
        .bind(&user.name)
        .bind(&user.password_hash)
        .bind(user.email_verified)
        .fetch_one(&self.pool)
        .await;
        result.map_err(duplicate_or)
    }

    async fn set_password_hash(&self, id: i64, password_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, UserRecord>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn list(&self) -> Result<Vec<UserRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, UserRecord>(&format!("SELECT {COLUMNS} FROM users ORDER BY id"))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn set_disabled(&self, id: i64, disabled: bool) -> Result<(), StoreError> {
        changed(
            sqlx::query(
                "UPDATE users SET disabled_at = CASE WHEN $1::BOOLEAN THEN COALESCE(disabled_at, EXTRACT(EPOCH FROM now())::BIGINT) END, \
                 updated_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE id = $2",
            )
            .bind(disabled)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected(),
        )
    }

    async fn set_email(&self, id: i64, email: &Email) -> Result<(), StoreError> {
        let result = sqlx::query(
            "UPDATE users SET email = $1, email_verified_at = EXTRACT(EPOCH FROM now())::BIGINT, updated_at = EXTRACT(EPOCH FROM now())::BIGINT \
             WHERE id = $2",
        )
        .bind(email.as_str())
        .bind(id)
        .execute(&self.pool)
        .await;
        changed(result.map_err(duplicate_or)?.rows_affected())
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        changed(
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    async fn set_email_verified(&self, id: i64) -> Result<(), StoreError> {
        changed(
            sqlx::query(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, EXTRACT(EPOCH FROM now())::BIGINT), \
                 updated_at = EXTRACT(EPOCH FROM now())::BIGINT WHERE id = $1",
            )
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected(),
        )
    }
}
