//! Session rows in SQLite. SQLite runs one write at a time, so a sign-in's
//! insert and a revocation's transaction cannot interleave: the insert's
//! `NOT EXISTS` sees every revocation committed before it.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::SqlitePool;

use crate::server::{
    session::store::{keys_of, rows_of, Inserted, Key, NewRow, Row, SessionRows},
    stores::{sqlite::inline::Inline, users::AccountChange},
};

/// Gives a user (`?1`) the next revocation sequence number.
const NUMBER: &str = "INSERT INTO session_revocations (user_id, seq) \
     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_revocations)) \
     ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq";

/// Stores a signed-in session's row unless its user's sessions were all
/// ended since the sign-in read the sequence (`?5`).
const INSERT: &str = "INSERT OR IGNORE INTO sessions (id_hash, data, expires_at, user_id) \
     SELECT ?1, ?2, ?3, ?4 WHERE ?4 IS NULL OR NOT EXISTS \
     (SELECT 1 FROM session_revocations WHERE user_id = ?4 AND seq > ?5)";

/// The `sessions` table of a SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteSessionRows {
    pool: SqlitePool,
    /// Runs the `INSERT` of a sign-in on the request's thread, when it can.
    inline: Option<Arc<Inline>>,
}

impl SqliteSessionRows {
    /// Rows in `pool`.
    pub fn new(pool: SqlitePool) -> Self {
        SqliteSessionRows { pool, inline: None }
    }

    /// With `inline` beside the pool for the `INSERT`.
    pub(crate) fn with_inline(mut self, inline: Option<Arc<Inline>>) -> Self {
        self.inline = inline;
        self
    }
}

#[async_trait]
impl SessionRows for SqliteSessionRows {
    async fn insert(&self, row: NewRow<'_>) -> Result<Inserted, sqlx::Error> {
        let here = match &self.inline {
            Some(inline) => {
                inline
                    .write(|c| {
                        c.prepare_cached(INSERT)?.execute(rusqlite::params![
                            &row.key[..],
                            row.data,
                            row.expires_at,
                            row.user_id,
                            row.revocation_seq
                        ])
                    })
                    .await
            }
            None => None,
        };
        let inserted = match here {
            Some(inserted) => inserted as u64,
            None => sqlx::query(INSERT)
                .bind(&row.key[..])
                .bind(row.data)
                .bind(row.expires_at)
                .bind(row.user_id)
                .bind(row.revocation_seq)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `INSERT` on the request's thread answers as the pool's: stored,
    /// a key taken, a user's sessions ended after the sequence read. (The
    /// last row is stored with the pool closed: it ran in line.)
    #[tokio::test]
    async fn a_sign_ins_insert_in_line_answers_as_the_pools() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::server::stores::db::file_pool(dir.path()).await;
        let rows = SqliteSessionRows::new(pool.clone())
            .with_inline(Some(Arc::new(Inline::new(pool.clone()))));
        rows.renumber("7").await.unwrap();
        let seq = rows.revocation_seq().await.unwrap();
        let row = |key, user_id, revocation_seq| NewRow {
            key,
            data: "{}",
            expires_at: i64::MAX,
            user_id,
            revocation_seq,
        };
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        assert_eq!(
            rows.insert(row(&a, Some("7"), seq)).await.unwrap(),
            Inserted::Stored
        );
        assert_eq!(
            rows.insert(row(&a, Some("8"), seq)).await.unwrap(),
            Inserted::Taken
        );
        assert_eq!(
            rows.insert(row(&a, None, 0)).await.unwrap(),
            Inserted::Taken
        );
        assert_eq!(
            rows.insert(row(&b, Some("7"), seq - 1)).await.unwrap(),
            Inserted::Revoked
        );
        assert_eq!(
            rows.load(&a, 0).await.unwrap(),
            Some(("{}".to_string(), i64::MAX))
        );
        assert_eq!(rows.load(&b, 0).await.unwrap(), None);
        pool.close().await;
        assert_eq!(
            rows.insert(row(&c, Some("8"), seq)).await.unwrap(),
            Inserted::Stored
        );
    }
}
