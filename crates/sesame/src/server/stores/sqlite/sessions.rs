//! Session rows in SQLite. SQLite runs one write at a time, so a sign-in's
//! insert and a revocation's transaction cannot interleave: the insert's
//! `NOT EXISTS` sees every revocation committed before it.

use async_trait::async_trait;
use sqlx::SqlitePool;

use crate::server::{
    session::store::{keys_of, rows_of, Inserted, Key, NewRow, Row, SessionRows},
    stores::users::AccountChange,
};

/// Gives a user (`?1`) the next revocation sequence number.
const NUMBER: &str = "INSERT INTO session_revocations (user_id, seq) \
     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_revocations)) \
     ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq";

/// The `sessions` table of a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteSessionRows {
    pool: SqlitePool,
}

impl SqliteSessionRows {
    /// Rows in `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteSessionRows { pool }
    }
}

#[async_trait]
impl SessionRows for SqliteSessionRows {
    async fn insert(&self, row: NewRow<'_>) -> Result<Inserted, sqlx::Error> {
        // A signed-in session is only stored if its user's sessions were
        // not all ended since the sign-in read the sequence.
        let inserted = sqlx::query(
            "INSERT OR IGNORE INTO sessions (id_hash, data, expires_at, user_id) \
             SELECT ?1, ?2, ?3, ?4 WHERE ?4 IS NULL OR NOT EXISTS \
             (SELECT 1 FROM session_revocations WHERE user_id = ?4 AND seq > ?5)",
        )
        .bind(&row.key[..])
        .bind(row.data)
        .bind(row.expires_at)
        .bind(row.user_id)
        .bind(row.revocation_seq)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Inserted::Stored);
        }
        let Some(user_id) = row.user_id else {
            return Ok(Inserted::Taken);
        };
        let revoked: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM session_revocations WHERE user_id = ? AND seq > ?")
                .bind(user_id)
                .bind(row.revocation_seq)
                .fetch_optional(&self.pool)
                .await?;
        Ok(if revoked.is_some() {
            Inserted::Revoked
        } else {
            Inserted::Taken
        })
    }

    async fn update(
        &self,
        key: &Key,
        data: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let updated = sqlx::query(
            "UPDATE sessions SET data = ?, expires_at = ? WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(data)
        .bind(expires_at)
        .bind(&key[..])
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn load(&self, key: &Key, now: i64) -> Result<Option<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?")
            .bind(&key[..])
            .bind(now)
            .fetch_optional(&self.pool)
            .await
    }

    async fn delete(&self, key: &Key) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&key[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn revocation_seq(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM session_revocations")
            .fetch_one(&self.pool)
            .await
    }

    async fn revoke_user(
        &self,
        user_id: &str,
        keep: Option<&Key>,
        change: AccountChange<'_>,
    ) -> Result<Vec<Key>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(NUMBER).bind(user_id).execute(&mut *tx).await?;
        let ended: Vec<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ? RETURNING id_hash",
        )
        .bind(user_id)
        .bind(keep.map(|k| k.to_vec()))
        .fetch_all(&mut *tx)
        .await?;
        // Sesame's own users have numeric ids; an application's other ids
        // have no links and no row here.
        match user_id.parse::<i64>() {
            Ok(id) => {
                sqlx::query("DELETE FROM account_tokens WHERE user_id = ?")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if let Some((sql, value)) = change.statement("unixepoch()", |_| "?".to_string()) {
                    let mut statement = sqlx::query(&sql);
                    if let Some(value) = value {
                        statement = statement.bind(value);
                    }
                    let done = statement.bind(id).execute(&mut *tx).await?;
                    if done.rows_affected() != 1 {
                        return Err(sqlx::Error::RowNotFound);
                    }
                }
            }
            Err(_) if change != AccountChange::None => return Err(sqlx::Error::RowNotFound),
            Err(_) => {}
        }
        tx.commit().await?;
        Ok(keys_of(ended))
    }

    async fn renumber(&self, user_id: &str) -> Result<(), sqlx::Error> {
        // One statement: SQLite writes one at a time, so numbers follow commits.
        sqlx::query(NUMBER)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn owned_by(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error> {
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM sessions WHERE id_hash = ? AND user_id = ?")
                .bind(&key[..])
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(owned.is_some())
    }

    async fn delete_owned(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id_hash = ? AND user_id = ?")
            .bind(&key[..])
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn list_user(&self, user_id: &str, now: i64) -> Result<Vec<Row>, sqlx::Error> {
        let rows: Vec<(Vec<u8>, String, i64)> = sqlx::query_as(
            "SELECT id_hash, data, expires_at FROM sessions WHERE user_id = ? AND expires_at > ?",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows_of(rows))
    }

    async fn count_live(&self, now: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at > ?")
            .bind(now)
            .fetch_one(&self.pool)
            .await
    }
}
