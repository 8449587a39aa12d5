//! Where the second factors are kept (SQLite and PostgreSQL): an
//! authenticator app's sealed secret and the last time step it accepted,
//! the recovery codes as SHA-256, the sign-ins waiting for their second
//! factor, and the browsers trusted to skip it. Every "once" is one
//! statement (a conditional `UPDATE`, a `DELETE … RETURNING`), so two
//! requests on two instances cannot both use a code, a step or a record.

use async_trait::async_trait;

/// An account's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TotpRow {
    /// The secret, sealed.
    pub secret_sealed: String,
    /// Unix seconds of the confirming code; `None` while enrolling.
    pub confirmed_at: Option<i64>,
    /// The last time step accepted.
    pub last_step: i64,
}

/// A sign-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingRow {
    /// The account.
    pub user_id: i64,
    /// The flow's state, JSON.
    pub state: String,
    /// Wrong codes so far.
    pub failures: i32,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A browser trusted to skip the second factor.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrustedRow {
    /// The SHA-256 of its nonce (its id in lists, hex-encoded there).
    pub id_hash: Vec<u8>,
    /// Its `User-Agent` when it was trusted.
    pub user_agent: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Where second factors are kept.
#[async_trait]
pub trait FactorStore: Send + Sync + 'static {
    /// The account's authenticator app, confirmed or being enrolled.
    async fn totp(&self, user_id: i64) -> Result<Option<TotpRow>, sqlx::Error>;
    /// Whether the account has a second factor: a confirmed authenticator app
    /// or a passkey (one statement: every sign-in asks).
    async fn has_factor(&self, user_id: i64) -> Result<bool, sqlx::Error>;
    /// Starts (or starts again) an enrolment with `secret_sealed`; a
    /// confirmed factor is left as it is (`false`).
    async fn begin_totp(&self, user_id: i64, secret_sealed: &str) -> Result<bool, sqlx::Error>;
    /// Confirms the enrolment with the code of `step` and stores `codes`
    /// (hashes) as the recovery codes, voiding earlier ones; `false` when
    /// there was no enrolment to confirm.
    async fn confirm_totp(
        &self,
        user_id: i64,
        step: i64,
        codes: &[[u8; 32]],
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// Accepts `step` for the confirmed factor if it is later than the last
    /// accepted one (one statement).
    async fn accept_step(&self, user_id: i64, step: i64) -> Result<bool, sqlx::Error>;
    /// Removes the authenticator app, the recovery codes and the trusted
    /// browsers; whether there was an app.
    async fn remove_totp(&self, user_id: i64) -> Result<bool, sqlx::Error>;
    /// Replaces the recovery codes (one transaction).
    async fn replace_codes(&self, user_id: i64, codes: &[[u8; 32]]) -> Result<(), sqlx::Error>;
    /// Uses the unused recovery code `hash` (one statement).
    async fn use_code(&self, user_id: i64, hash: &[u8; 32], now: i64) -> Result<bool, sqlx::Error>;
    /// Recovery codes not used yet.
    async fn codes_left(&self, user_id: i64) -> Result<i64, sqlx::Error>;

    /// Stores a pending sign-in.
    async fn put_pending(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        state: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error>;
    /// Reads a pending sign-in.
    async fn pending(&self, id_hash: &[u8; 32]) -> Result<Option<PendingRow>, sqlx::Error>;
    /// Deletes a pending sign-in, returning it (one statement): only one
    /// caller gets it.
    async fn take_pending(&self, id_hash: &[u8; 32]) -> Result<Option<PendingRow>, sqlx::Error>;
    /// Counts a wrong code against a pending sign-in and deletes it at
    /// `max` failures; the failures so far (`None`: it is gone).
    async fn fail_pending(&self, id_hash: &[u8; 32], max: i32) -> Result<Option<i32>, sqlx::Error>;

    /// Trusts a browser.
    async fn trust(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        user_agent: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), sqlx::Error>;
    /// Whether the browser `id_hash` is trusted for `user_id` at `now`.
    async fn is_trusted(
        &self,
        id_hash: &[u8; 32],
        user_id: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// The account's trusted browsers, newest first.
    async fn trusted(&self, user_id: i64, now: i64) -> Result<Vec<TrustedRow>, sqlx::Error>;
    /// Forgets one trusted browser (`Some`) or all of them; how many.
    async fn untrust(&self, user_id: i64, id_hash: Option<&[u8]>) -> Result<u64, sqlx::Error>;

    /// Deletes pending sign-ins and trusted browsers past their expiry.
    async fn purge(&self, now: i64) -> Result<u64, sqlx::Error>;
}

/// Whether the user `u.id` has a second factor: a confirmed authenticator
/// app or a passkey. One definition for the gate's read (`has_factor`) and a
/// password sign-in's read before its hash
/// ([`sign_in_read`](crate::server::stores::sign_in_read)), which must agree.
pub(crate) const ANY_FACTOR: &str = "(EXISTS (SELECT 1 FROM totp_factors t \
     WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL) \
     OR EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.id))";

/// The SQLite and PostgreSQL statements differ only in placeholders.
macro_rules! factor_store {
    ($name:ident, $pool:ty, $p:expr) => {
        /// The second-factor tables.
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
        }

        impl $name {
            /// Factors in `pool`.
            pub fn new(pool: $pool) -> Self {
                $name { pool }
            }
        }

        #[async_trait]
        impl FactorStore for $name {
            async fn totp(&self, user_id: i64) -> Result<Option<TotpRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "SELECT secret_sealed, confirmed_at, last_step FROM totp_factors \
                     WHERE user_id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await
            }

            async fn has_factor(&self, user_id: i64) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let found: Option<(bool,)> = sqlx::query_as(&format!(
                    "SELECT {ANY_FACTOR} FROM users u WHERE u.id = {}",
                    p(1)
                ))
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
                // No row, no factor: factors go with their user's row.
                Ok(found.is_some_and(|(found,)| found))
            }

            async fn begin_totp(
                &self,
                user_id: i64,
                secret_sealed: &str,
            ) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "INSERT INTO totp_factors (user_id, secret_sealed) VALUES ({}, {}) \
                     ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
                     last_step = 0 WHERE totp_factors.confirmed_at IS NULL",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(secret_sealed)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn confirm_totp(
                &self,
                user_id: i64,
                step: i64,
                codes: &[[u8; 32]],
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(&format!(
                    "UPDATE totp_factors SET confirmed_at = {}, last_step = {} \
                     WHERE user_id = {} AND confirmed_at IS NULL",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(now)
                .bind(step)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query(&format!("DELETE FROM recovery_codes WHERE user_id = {}", p(1)))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for code in codes {
                    sqlx::query(&format!(
                        "INSERT INTO recovery_codes (user_id, code_hash) VALUES ({}, {})",
                        p(1),
                        p(2)
                    ))
                    .bind(user_id)
                    .bind(&code[..])
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn accept_step(&self, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "UPDATE totp_factors SET last_step = {} WHERE user_id = {} \
                     AND confirmed_at IS NOT NULL AND last_step < {}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(step)
                .bind(user_id)
                .bind(step)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove_totp(&self, user_id: i64) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let mut tx = self.pool.begin().await?;
                let done = sqlx::query(&format!("DELETE FROM totp_factors WHERE user_id = {}", p(1)))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for table in ["recovery_codes", "trusted_browsers"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE user_id = {}", p(1)))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn replace_codes(
                &self,
                user_id: i64,
                codes: &[[u8; 32]],
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let mut tx = self.pool.begin().await?;
                sqlx::query(&format!("DELETE FROM recovery_codes WHERE user_id = {}", p(1)))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                for code in codes {
                    sqlx::query(&format!(
                        "INSERT INTO recovery_codes (user_id, code_hash) VALUES ({}, {})",
                        p(1),
                        p(2)
                    ))
                    .bind(user_id)
                    .bind(&code[..])
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            }

            async fn use_code(
                &self,
                user_id: i64,
                hash: &[u8; 32],
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = sqlx::query(&format!(
                    "UPDATE recovery_codes SET used_at = {} WHERE user_id = {} \
                     AND code_hash = {} AND used_at IS NULL",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(now)
                .bind(user_id)
                .bind(&hash[..])
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn codes_left(&self, user_id: i64) -> Result<i64, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = {} AND used_at IS NULL",
                    p(1)
                ))
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
            }

            async fn put_pending(
                &self,
                id_hash: &[u8; 32],
                user_id: i64,
                state: &str,
                expires_at: i64,
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query(&format!(
                    "INSERT INTO pending_sign_ins (id_hash, user_id, state, expires_at) \
                     VALUES ({}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4)
                ))
                .bind(&id_hash[..])
                .bind(user_id)
                .bind(state)
                .bind(expires_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
            }

            async fn pending(
                &self,
                id_hash: &[u8; 32],
            ) -> Result<Option<PendingRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "SELECT user_id, state, failures, expires_at FROM pending_sign_ins \
                     WHERE id_hash = {}",
                    p(1)
                ))
                .bind(&id_hash[..])
                .fetch_optional(&self.pool)
                .await
            }

            async fn take_pending(
                &self,
                id_hash: &[u8; 32],
            ) -> Result<Option<PendingRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "DELETE FROM pending_sign_ins WHERE id_hash = {} \
                     RETURNING user_id, state, failures, expires_at",
                    p(1)
                ))
                .bind(&id_hash[..])
                .fetch_optional(&self.pool)
                .await
            }

            async fn fail_pending(
                &self,
                id_hash: &[u8; 32],
                max: i32,
            ) -> Result<Option<i32>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let failures: Option<i32> = sqlx::query_scalar(&format!(
                    "UPDATE pending_sign_ins SET failures = failures + 1 WHERE id_hash = {} \
                     RETURNING failures",
                    p(1)
                ))
                .bind(&id_hash[..])
                .fetch_optional(&self.pool)
                .await?;
                if failures.is_some_and(|f| f >= max) {
                    sqlx::query(&format!(
                        "DELETE FROM pending_sign_ins WHERE id_hash = {}",
                        p(1)
                    ))
                    .bind(&id_hash[..])
                    .execute(&self.pool)
                    .await?;
                    return Ok(None);
                }
                Ok(failures)
            }

            async fn trust(
                &self,
                id_hash: &[u8; 32],
                user_id: i64,
                user_agent: Option<&str>,
                now: i64,
                expires_at: i64,
            ) -> Result<(), sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query(&format!(
                    "INSERT INTO trusted_browsers (id_hash, user_id, user_agent, created_at, \
                     expires_at) VALUES ({}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5)
                ))
                .bind(&id_hash[..])
                .bind(user_id)
                .bind(user_agent)
                .bind(now)
                .bind(expires_at)
                .execute(&self.pool)
                .await
                .map(|_| ())
            }

            async fn is_trusted(
                &self,
                id_hash: &[u8; 32],
                user_id: i64,
                now: i64,
            ) -> Result<bool, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let found: Option<i64> = sqlx::query_scalar(&format!(
                    "SELECT user_id FROM trusted_browsers WHERE id_hash = {} AND user_id = {} \
                     AND expires_at > {}",
                    p(1),
                    p(2),
                    p(3)
                ))
                .bind(&id_hash[..])
                .bind(user_id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            async fn trusted(&self, user_id: i64, now: i64) -> Result<Vec<TrustedRow>, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                sqlx::query_as(&format!(
                    "SELECT id_hash, user_agent, created_at, expires_at FROM trusted_browsers \
                     WHERE user_id = {} AND expires_at > {} ORDER BY created_at DESC",
                    p(1),
                    p(2)
                ))
                .bind(user_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await
            }

            async fn untrust(&self, user_id: i64, id_hash: Option<&[u8]>) -> Result<u64, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let done = match id_hash {
                    Some(id) => {
                        sqlx::query(&format!(
                            "DELETE FROM trusted_browsers WHERE user_id = {} AND id_hash = {}",
                            p(1),
                            p(2)
                        ))
                        .bind(user_id)
                        .bind(id)
                        .execute(&self.pool)
                        .await?
                    }
                    None => {
                        sqlx::query(&format!(
                            "DELETE FROM trusted_browsers WHERE user_id = {}",
                            p(1)
                        ))
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?
                    }
                };
                Ok(done.rows_affected())
            }

            async fn purge(&self, now: i64) -> Result<u64, sqlx::Error> {
                let p: fn(usize) -> String = $p;
                let mut gone = 0;
                for table in ["pending_sign_ins", "trusted_browsers"] {
                    gone += sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= {}", p(1)))
                        .bind(now)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                }
                Ok(gone)
            }
        }
    };
}

factor_store!(SqliteFactorStore, sqlx::SqlitePool, |_| "?".to_string());
#[cfg(feature = "postgres")]
factor_store!(PgFactorStore, sqlx::PgPool, |n| format!("${n}"));
