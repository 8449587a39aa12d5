//! Where passkeys are kept (SQLite and PostgreSQL): each account's WebAuthn
//! user handle, its credentials (the serialised `Passkey` with its sign
//! counter and backup flags; a credential id is unique across accounts),
//! and the ceremonies in progress, taken once by a `DELETE … RETURNING`.

use async_trait::async_trait;

/// A stored passkey.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    /// Its row id (what rename and remove take).
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// The serialised `webauthn_rs` passkey.
    pub passkey: String,
    /// The name the user gave it.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of its last sign-in.
    pub last_used_at: Option<i64>,
}

/// A ceremony in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CeremonyRow {
    /// The account, for a registration or a second factor.
    pub user_id: Option<i64>,
    /// The serialised ceremony state.
    pub state: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Where passkeys are kept.
#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// The account's user handle, `new` stored first if it has none.
    async fn handle(&self, user_id: i64, new: &[u8]) -> Result<Vec<u8>, sqlx::Error>;
    /// The account of a user handle.
    async fn user_of_handle(&self, handle: &[u8]) -> Result<Option<i64>, sqlx::Error>;
    /// Stores a new passkey; `false` when its credential id is taken.
    async fn add(
        &self,
        user_id: i64,
        credential_id: &[u8],
        passkey: &str,
        name: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// The account's passkeys, oldest first.
    async fn list(&self, user_id: i64) -> Result<Vec<PasskeyRow>, sqlx::Error>;
    /// The passkey with this credential id.
    async fn by_credential(&self, credential_id: &[u8]) -> Result<Option<PasskeyRow>, sqlx::Error>;
    /// Writes back a passkey after a sign-in (its counter and flags).
    async fn used(&self, credential_id: &[u8], passkey: &str, now: i64) -> Result<(), sqlx::Error>;
    /// Renames one of the account's passkeys; whether it was theirs.
    async fn rename(&self, user_id: i64, id: i64, name: &str) -> Result<bool, sqlx::Error>;
    /// Removes one of the account's passkeys; whether it was theirs.
    async fn remove(&self, user_id: i64, id: i64) -> Result<bool, sqlx::Error>;
    /// Removes every passkey of the account; how many.
    async fn remove_all(&self, user_id: i64) -> Result<u64, sqlx::Error>;

    /// Stores a ceremony.
    async fn put_ceremony(
        &self,
        id_hash: &[u8; 32],
        kind: &str,
        user_id: Option<i64>,
        state: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error>;
    /// Takes a ceremony of `kind` (one statement: one caller gets it).
    async fn take_ceremony(
        &self,
        id_hash: &[u8; 32],
        kind: &str,
    ) -> Result<Option<CeremonyRow>, sqlx::Error>;
    /// Deletes ceremonies past their expiry.
    async fn purge(&self, now: i64) -> Result<u64, sqlx::Error>;
}

/// The SQLite and PostgreSQL statements differ only in placeholders.
macro_rules! passkey_store {
    ($name:ident, $pool:ty, $p:expr) => {
        /// The passkey tables.
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            /// Passkeys in `pool`.
            pub fn new(pool: $pool) -> Self {
                $name { pool }
            }
        }

        #[async_trait]
        impl PasskeyStore for $name {
            async fn handle(&self, user_id: i64, new: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query(&format!(
                    "INSERT INTO passkey_handles (user_id, handle) VALUES ({}, {}) \
                     ON CONFLICT (user_id) DO NOTHING",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(new)
                .execute(&self.pool)
                .await?;
                sqlx::query_scalar(&format!(
                    "SELECT handle FROM passkey_handles WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
            }

            async fn user_of_handle(&self, handle: &[u8]) -> Result<Option<i64>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_scalar(&format!(
                    "SELECT user_id FROM passkey_handles WHERE handle = {}",
                    p(1)
                ))
                .bind(handle)
                .fetch_optional(&self.pool)
                .await
            }

            async fn add(
                &self,
                user_id: i64,
                credential_id: &[u8],
                passkey: &str,
                name: &str,
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "INSERT INTO passkeys (user_id, credential_id, passkey, name, created_at) \
                     VALUES ({}, {}, {}, {}, {}) ON CONFLICT (credential_id) DO NOTHING",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5)
                ))
                .bind(user_id)
                .bind(credential_id)
                .bind(passkey)
                .bind(name)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn list(&self, user_id: i64) -> Result<Vec<PasskeyRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "SELECT id, user_id, passkey, name, created_at, last_used_at FROM passkeys \
                     WHERE user_id = {} ORDER BY id",
                    p(1)
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
            }

            async fn by_credential(
                &self,
                credential_id: &[u8],
            ) -> Result<Option<PasskeyRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "SELECT id, user_id, passkey, name, created_at, last_used_at FROM passkeys \
                     WHERE credential_id = {}",
                    p(1)
                ))
                .bind(credential_id)
                .fetch_optional(&self.pool)
                .await
            }

            async fn used(
                &self,
                credential_id: &[u8],
                passkey: &str,
                now: i64,
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query(&format!(
                    "UPDATE passkeys SET passkey = {}, last_used_at = {} WHERE credential_id = {}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(passkey)
                .bind(now)
                .bind(credential_id)
                .execute(&self.pool)
                .await
                .map(|_| ())
            }

            async fn rename(&self, user_id: i64, id: i64, name: &str) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "UPDATE passkeys SET name = {} WHERE id = {} AND user_id = {}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(name)
                .bind(id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove(&self, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "DELETE FROM passkeys WHERE id = {} AND user_id = {}",
                    p(1),
                    p(2)
                ))
                .bind(id)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove_all(&self, user_id: i64) -> Result<u64, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                Ok(
                    sqlx::query(&format!("DELETE FROM passkeys WHERE user_id = {}", p(1)))
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?
                        .rows_affected(),
                )
            }

            async fn put_ceremony(
                &self,
                id_hash: &[u8; 32],
                kind: &str,
                user_id: Option<i64>,
                state: &str,
                expires_at: i64,
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query(&format!(
                    "INSERT INTO webauthn_ceremonies (id_hash, kind, user_id, state, expires_at) \
                     VALUES ({}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5)
                ))
                .bind(&id_hash[..])
                .bind(kind)
                .bind(user_id)
                .bind(state)
                .bind(expires_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
            }

            async fn take_ceremony(
                &self,
                id_hash: &[u8; 32],
                kind: &str,
            ) -> Result<Option<CeremonyRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "DELETE FROM webauthn_ceremonies WHERE id_hash = {} AND kind = {} \
                     RETURNING user_id, state, expires_at",
                    p(1),
                    p(2)
                ))
                .bind(&id_hash[..])
                .bind(kind)
                .fetch_optional(&self.pool)
                .await
            }

            async fn purge(&self, now: i64) -> Result<u64, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                Ok(sqlx::query(&format!(
                    "DELETE FROM webauthn_ceremonies WHERE expires_at <= {}",
                    p(1)
                ))
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected())
            }
        }
    };
}

passkey_store!(SqlitePasskeyStore, sqlx::SqlitePool, |_| "?".to_string());
#[cfg(feature = "postgres")]
passkey_store!(PgPasskeyStore, sqlx::PgPool, |n| format!("${n}"));
