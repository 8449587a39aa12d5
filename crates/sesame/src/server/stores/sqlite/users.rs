//! Users in SQLite.

use async_trait::async_trait;
use sqlx::SqlitePool;

use crate::server::stores::users::{
    changed, duplicate_or, Email, NewUser, StoreError, UserRecord, UserStore, COLUMNS,
};

/// Users in the `users` table of a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteUserStore {
    pool: SqlitePool,
}

impl SqliteUserStore {
    /// Users in the `users` table of `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteUserStore { pool }
    }
}

#[async_trait]
impl UserStore for SqliteUserStore {
    async fn find_by_email(&self, email: &Email) -> Result<Option<UserRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, UserRecord>(&format!(
                "SELECT {COLUMNS} FROM users WHERE email = ?"
            ))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    async fn create(&self, user: NewUser) -> Result<UserRecord, StoreError> {
        let result = sqlx::query_as::<_, UserRecord>(&format!(
            "INSERT INTO users (email, name, password_hash, email_verified_at) \
             VALUES (?, ?, ?, CASE WHEN ? THEN unixepoch() END) RETURNING {COLUMNS}"
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
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = unixepoch() WHERE id = ?")
            .bind(password_hash)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError> {
        Ok(
            sqlx::query_as::<_, UserRecord>(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
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
                "UPDATE users SET disabled_at = CASE WHEN ?1 THEN COALESCE(disabled_at, unixepoch()) END, \
                 updated_at = unixepoch() WHERE id = ?2",
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
            "UPDATE users SET email = ?, email_verified_at = unixepoch(), updated_at = unixepoch() \
             WHERE id = ?",
        )
        .bind(email.as_str())
        .bind(id)
        .execute(&self.pool)
        .await;
        changed(result.map_err(duplicate_or)?.rows_affected())
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        changed(
            sqlx::query("DELETE FROM users WHERE id = ?")
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    async fn set_email_verified(&self, id: i64) -> Result<(), StoreError> {
        changed(
            sqlx::query(
                "UPDATE users SET email_verified_at = COALESCE(email_verified_at, unixepoch()), \
                 updated_at = unixepoch() WHERE id = ?",
            )
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected(),
        )
    }
}
