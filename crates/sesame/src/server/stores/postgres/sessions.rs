//! Session rows in PostgreSQL. Unlike SQLite, PostgreSQL runs writes side by
//! side, so the revocation rule needs locks, each as narrow as it can be:
//!
//! - a revocation of user U holds U's transaction-level advisory lock
//!   exclusively for its whole transaction, and a signed-in insert of U holds
//!   it shared: an insert of U waits only for a revocation of U in progress
//!   (never for another user's), and a revocation's `DELETE` sees every
//!   insert of U committed before it;
//! - the revocation numbers itself last, holding `session_revocations` in
//!   `EXCLUSIVE` mode only from the numbering to its commit (plain reads of
//!   the table, a sign-in's, do not wait for that lock). So the sequence
//!   grows in commit order: a sign-in that read the sequence before a
//!   revocation committed read a smaller number than the revocation's, and
//!   its insert, which comes after that commit, sees it and stores nothing.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::server::{
    session::store::{keys_of, rows_of, Inserted, Key, NewRow, Row, SessionRows},
    stores::users::AccountChange,
};

/// The first key of Sesame's advisory locks (`pg_advisory_xact_lock(int,
/// int)`; the second is the user id's `hashtext`): "sesa" in ASCII, so an
/// application's own advisory locks, keyed by one `bigint`, do not meet them.
const LOCK_CLASS: i32 = 0x7365_7361;

/// The `sessions` table of a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgSessionRows {
    pool: PgPool,
}

impl PgSessionRows {
    /// Rows in `pool`.
    pub fn new(pool: PgPool) -> Self {
        PgSessionRows { pool }
    }
}

#[async_trait]
impl SessionRows for PgSessionRows {
    async fn insert(&self, row: NewRow<'_>) -> Result<Inserted, sqlx::Error> {
        let insert = "INSERT INTO sessions (id_hash, data, expires_at, user_id) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (id_hash) DO NOTHING";
        let Some(user_id) = row.user_id else {
            let inserted = sqlx::query(insert)
                .bind(&row.key[..])
                .bind(row.data)
                .bind(row.expires_at)
                .bind(None::<&str>)
                .execute(&self.pool)
                .await?
                .rows_affected();
            return Ok(if inserted == 1 {
                Inserted::Stored
            } else {
                Inserted::Taken
            });
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1, hashtext($2))")
            .bind(LOCK_CLASS)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let revoked: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM session_revocations WHERE user_id = $1 AND seq > $2")
                .bind(user_id)
                .bind(row.revocation_seq)
                .fetch_optional(&mut *tx)
                .await?;
        if revoked.is_some() {
            tx.rollback().await?;
            return Ok(Inserted::Revoked);
        }
        let inserted = sqlx::query(insert)
            .bind(&row.key[..])
            .bind(row.data)
            .bind(row.expires_at)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(if inserted == 1 {
            Inserted::Stored
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
            "UPDATE sessions SET data = $1, expires_at = $2 WHERE id_hash = $3 AND expires_at > $4",
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
        sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(&key[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(&key[..])
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn revocation_seq(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM session_revocations")
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
        lock_exclusively(&mut tx, user_id).await?;
        let ended: Vec<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND id_hash IS DISTINCT FROM $2 \
             RETURNING id_hash",
        )
        .bind(user_id)
        .bind(keep.map(|k| k.to_vec()))
        .fetch_all(&mut *tx)
        .await?;
        // Sesame's own users have numeric ids; an application's other ids
        // have no links and no row here.
        match user_id.parse::<i64>() {
            Ok(id) => {
                sqlx::query("DELETE FROM account_tokens WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if let Some((sql, value)) =
                    change.statement("EXTRACT(EPOCH FROM now())::BIGINT", |n| format!("${n}"))
                {
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
        number_last(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(keys_of(ended))
    }

    async fn renumber(&self, user_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        lock_exclusively(&mut tx, user_id).await?;
        number_last(&mut tx, user_id).await?;
        tx.commit().await
    }

    async fn owned_by(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error> {
        let owned: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM sessions WHERE id_hash = $1 AND user_id = $2")
                .bind(&key[..])
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(owned.is_some())
    }

    async fn delete_owned(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
            .bind(&key[..])
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn list_user(&self, user_id: &str, now: i64) -> Result<Vec<Row>, sqlx::Error> {
        let rows: Vec<(Vec<u8>, String, i64)> = sqlx::query_as(
            "SELECT id_hash, data, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows_of(rows))
    }

    async fn count_live(&self, now: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at > $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await
    }
}

/// Takes `user_id`'s advisory lock exclusively, until the transaction ends:
/// their signed-in inserts (which hold it shared) wait meanwhile.
async fn lock_exclusively(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(LOCK_CLASS)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Gives `user_id` the next revocation sequence number: the transaction's
/// last step, under the table lock, so numbers follow commits.
async fn number_last(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("LOCK TABLE session_revocations IN EXCLUSIVE MODE")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO session_revocations (user_id, seq) \
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_revocations)) \
         ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
