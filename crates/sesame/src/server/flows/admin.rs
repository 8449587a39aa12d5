//! Account administration over Sesame's user store: what the admin CLI, the
//! account pages and an application's own code do to an account. Disable or
//! enable it, set its password, verify its email, move or delete it, list
//! and end its sessions, clear its lockout.
//!
//! Every step that secures an account (a new password, "sign out
//! everywhere", disabling, a confirmed move to a new address, deletion)
//! ends the account's sessions and voids every pending link sent for it
//! (reset, verification, email change), in one transaction with the change
//! itself on Sesame's user store: the change and the revocation succeed or
//! fail together. It has taken effect when it returns, on every request of
//! this instance at once (of every instance, with the session cache in
//! Redis or none).
//!
//! Sessions are indexed by the user id the session carries
//! ([`AuthUser::id`](crate::server::app::app_user::AuthUser::id)); for Sesame's store that is the
//! row id, as text.

use crate::server::{
    defense::password::{self, HashError, NewPassword},
    session::store::{SessionHandle, SessionStoreError, UserSession},
    state::Auth,
    stores::db::unavailable,
    stores::users::{AccountChange, Email, EmailError, Identifier, StoreError, UserRecord},
};

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email is not one.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// No user has this email.
    #[error("no user has this email")]
    NoSuchUser,
    /// The user store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed, or the server is too busy to hash.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The session store failed.
    #[error("sessions: {0}")]
    Sessions(#[source] SessionStoreError),
    /// The token store failed.
    #[error("tokens: {0}")]
    Tokens(#[source] sqlx::Error),
    /// The lockout counters did not answer.
    #[error("lockout counters: {0}")]
    Lockout(String),
    /// The second factors' tables failed.
    #[error("second factors: {0}")]
    Factors(#[source] sqlx::Error),
}

/// What second factors an account has (for the admin command).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FactorSummary {
    /// A confirmed authenticator app.
    pub authenticator: bool,
    /// An authenticator app being enrolled (not confirmed yet).
    pub enrolling: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Browsers trusted to skip the second factor.
    pub trusted_browsers: usize,
    /// Passkeys.
    pub passkeys: usize,
}

impl AccountError {
    /// How a request that failed this way is answered: `ServiceUnavailable`
    /// when the hashing gate was full or a backend did not answer (try
    /// again), `Signin` otherwise (the cause stays in the log).
    pub(crate) fn answer(&self) -> crate::wire::AuthError {
        let unavailable = match self {
            AccountError::Hash(HashError::Busy(_)) => true,
            AccountError::Store(StoreError::Database(e)) | AccountError::Tokens(e) => {
                unavailable(e)
            }
            AccountError::Sessions(SessionStoreError::Rows(e)) => unavailable(e),
            AccountError::Sessions(SessionStoreError::Cache(_)) | AccountError::Lockout(_) => true,
            _ => false,
        };
        if unavailable {
            crate::wire::AuthError::ServiceUnavailable
        } else {
            crate::wire::AuthError::Signin
        }
    }
}

impl Auth {
    /// The user with this email.
    pub async fn user_by_email(&self, email: &str) -> Result<UserRecord, AccountError> {
        let email = Email::parse(email)?;
        self.users
            .find_by_email(&email)
            .await?
            .ok_or(AccountError::NoSuchUser)
    }

    /// Every user, by id.
    pub async fn list_users(&self) -> Result<Vec<UserRecord>, AccountError> {
        Ok(self.users.list().await?)
    }

    /// Disables (`true`) or enables the user with this email. Disabling ends
    /// every session of theirs and voids their links; returns how many
    /// sessions ended.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<u64, AccountError> {
        let user = self.user_by_email(email).await?;
        if !disabled {
            self.users.set_disabled(user.id, false).await?;
            return Ok(0);
        }
        self.secure(user.id, None, AccountChange::Disable).await
    }

    /// Gives the user with this email a new password (which passed the
    /// policy), ends every session of theirs but `keep` and voids their
    /// links; returns how many sessions ended.
    pub async fn set_password(
        &self,
        email: &str,
        new: &NewPassword,
        keep: Option<&SessionHandle>,
    ) -> Result<u64, AccountError> {
        let user = self.user_by_email(email).await?;
        let hash = password::hash(&self.gate, new.password()).await?;
        self.secure(user.id, keep, AccountChange::Password(&hash))
            .await
    }

    /// Moves user `id` to `email` (confirmed), ends every session of theirs
    /// and voids their links. Another account's address is
    /// [`StoreError::Duplicate`].
    pub async fn move_account(&self, id: i64, email: &Email) -> Result<u64, AccountError> {
        self.secure(id, None, AccountChange::Email(email)).await
    }

    /// Deletes user `id` with every session and link of theirs.
    pub async fn delete_user(&self, id: i64) -> Result<u64, AccountError> {
        self.secure(id, None, AccountChange::Delete).await
    }

    /// Makes `change` to user `id` and ends their sessions but `keep` and
    /// their links: one transaction on Sesame's user store. With an
    /// application's own store the change is made there first, then the
    /// sessions and links end.
    async fn secure(
        &self,
        id: i64,
        keep: Option<&SessionHandle>,
        change: AccountChange<'_>,
    ) -> Result<u64, AccountError> {
        // What the database would refuse is refused here first, before the
        // cached sessions are tombstoned (which ends them, whatever follows).
        if self.users.find_by_id(id).await?.is_none() {
            return Err(AccountError::Store(StoreError::NotFound));
        }
        if let AccountChange::Email(email) = change {
            if self
                .users
                .find_by_email(email)
                .await?
                .is_some_and(|other| other.id != id)
            {
                return Err(AccountError::Store(StoreError::Duplicate));
            }
        }
        let user_id = id.to_string();
        // Every change that ends sessions also ends the browsers trusted to
        // skip the second factor.
        self.forget_trusted_browsers(id).await?;
        let in_transaction = if self.own_users {
            change
        } else {
            match change {
                AccountChange::None => {}
                AccountChange::Password(hash) => self.users.set_password_hash(id, hash).await?,
                AccountChange::Disable => self.users.set_disabled(id, true).await?,
                AccountChange::Email(email) => self.users.set_email(id, email).await?,
                AccountChange::Delete => self.users.delete(id).await?,
            }
            AccountChange::None
        };
        self.sessions
            .revoke_user(&user_id, keep, in_transaction)
            .await
            .map_err(|e| match e {
                SessionStoreError::Rows(sqlx::Error::RowNotFound) => {
                    AccountError::Store(StoreError::NotFound)
                }
                SessionStoreError::Rows(e) => match crate::server::stores::users::duplicate_or(e) {
                    StoreError::Database(e) => AccountError::Sessions(e.into()),
                    other => AccountError::Store(other),
                },
                e => AccountError::Sessions(e),
            })
    }

    /// Marks the email of the user with this email as verified.
    pub async fn verify_email(&self, email: &str) -> Result<(), AccountError> {
        let user = self.user_by_email(email).await?;
        Ok(self.users.set_email_verified(user.id).await?)
    }

    /// Clears the lockout of the account with this email (its failures
    /// and the hard lock), on every instance that shares the counters.
    pub async fn unlock(&self, email: &str) -> Result<(), AccountError> {
        let user = self.user_by_email(email).await?;
        self.clear_lockout(&user.email).await
    }

    /// Checks a password asked again (an account action, a confirmation
    /// from another browser) as a sign-in does: the account's lockout first
    /// (`RateLimited` while locked, the right password included), then the
    /// hash on the gate. A missing or wrong one is `ReauthRequired` and a
    /// wrong one the account's failure; the attempt is handed back to
    /// report a success on.
    pub(crate) async fn check_password_again(
        &self,
        user: &UserRecord,
        account: &Identifier,
        device_cookie: Option<&str>,
        password: Option<String>,
    ) -> Result<crate::server::defense::lockout::Attempt, crate::wire::AuthError> {
        use crate::wire::AuthError;
        let password = password
            .filter(|p| !p.is_empty())
            .and_then(|p| password::Password::parse(p).ok())
            .ok_or(AuthError::ReauthRequired)?;
        let attempt = match self.lockout.check(account, device_cookie).await {
            Ok(attempt) => attempt,
            Err(crate::server::defense::lockout::Refused::Locked(_)) => {
                return Err(AuthError::RateLimited)
            }
            Err(crate::server::defense::lockout::Refused::Unavailable) => {
                return Err(AuthError::ServiceUnavailable)
            }
        };
        match password::verify(&self.gate, &password, &user.password_hash).await {
            Ok(verified) if verified.matches => Ok(attempt),
            Ok(_) => {
                attempt.failed().await;
                Err(AuthError::ReauthRequired)
            }
            Err(HashError::Busy(_)) => Err(AuthError::ServiceUnavailable),
            Err(cause) => {
                tracing::error!(%cause, "verifying a password failed");
                Err(AuthError::Signin)
            }
        }
    }

    /// Clears the lockout counters of `email`'s account.
    pub(crate) async fn clear_lockout(&self, email: &str) -> Result<(), AccountError> {
        let identifier = Identifier::parse(email).map_err(|_| EmailError::Malformed)?;
        self.lockout
            .clear(&identifier)
            .await
            .map_err(|e| AccountError::Lockout(e.to_string()))
    }

    /// The live sessions of `user_id`, most recent first.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<UserSession>, AccountError> {
        self.sessions
            .list_user(user_id)
            .await
            .map_err(|e| AccountError::Sessions(e.into()))
    }

    /// Ends every session of `user_id` but `keep` and voids their pending
    /// links, at once ("sign out everywhere"); how many sessions ended.
    pub async fn end_sessions(
        &self,
        user_id: &str,
        keep: Option<&SessionHandle>,
    ) -> Result<u64, AccountError> {
        if let Ok(id) = user_id.parse() {
            self.forget_trusted_browsers(id).await?;
        }
        self.sessions
            .revoke_user(user_id, keep, AccountChange::None)
            .await
            .map_err(AccountError::Sessions)
    }

    /// Forgets every browser user `id` trusted to skip the second factor.
    async fn forget_trusted_browsers(&self, id: i64) -> Result<(), AccountError> {
        self.factors
            .store
            .untrust(id, None)
            .await
            .map(|_| ())
            .map_err(AccountError::Factors)
    }

    /// The second factors of the user with this email.
    pub async fn factors_of(&self, email: &str) -> Result<FactorSummary, AccountError> {
        let user = self.user_by_email(email).await?;
        let store = &self.factors.store;
        let totp = store.totp(user.id).await.map_err(AccountError::Factors)?;
        Ok(FactorSummary {
            authenticator: totp.as_ref().is_some_and(|t| t.confirmed_at.is_some()),
            enrolling: totp.as_ref().is_some_and(|t| t.confirmed_at.is_none()),
            recovery_codes_left: store
                .codes_left(user.id)
                .await
                .map_err(AccountError::Factors)?,
            trusted_browsers: store
                .trusted(user.id, crate::server::factors::now())
                .await
                .map_err(AccountError::Factors)?
                .len(),
            passkeys: self
                .passkeys
                .store
                .list(user.id)
                .await
                .map_err(AccountError::Factors)?
                .len(),
        })
    }

    /// Removes the authenticator app, recovery codes, passkeys and trusted
    /// browsers of the user with this email (they lost their device), and
    /// mails them; whether there was a factor.
    pub async fn reset_factors(&self, email: &str) -> Result<bool, AccountError> {
        use crate::server::mail::templates::{render, Kind};
        let user = self.user_by_email(email).await?;
        let had_app = self
            .factors
            .store
            .remove_totp(user.id)
            .await
            .map_err(AccountError::Factors)?;
        let passkeys = self
            .passkeys
            .store
            .remove_all(user.id)
            .await
            .map_err(AccountError::Factors)?;
        let had = had_app || passkeys > 0;
        let site = crate::server::flows::visitor::site_name(self);
        let reset = format!("{}{}", self.config.base_url(), crate::wire::routes::RESET);
        let mail = render(
            Kind::FactorsReset,
            crate::i18n::Locale::En,
            &site,
            &user.email,
            &reset,
        );
        if let Err(cause) = self.send_mail(mail, Some(user.id)).await {
            tracing::error!(%cause, "the factors-reset notice could not be sent");
        }
        Ok(had)
    }

    /// Ends one session of `user_id`; whether it was theirs and live.
    pub async fn end_session(
        &self,
        user_id: &str,
        handle: &SessionHandle,
    ) -> Result<bool, AccountError> {
        self.sessions
            .revoke_one(user_id, handle)
            .await
            .map_err(AccountError::Sessions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{server::defense::hash_gate::Busy, wire::AuthError};

    #[test]
    fn a_full_hashing_gate_is_answered_as_busy_and_anything_else_as_a_failure() {
        assert_eq!(
            AccountError::Hash(HashError::Busy(Busy)).answer(),
            AuthError::ServiceUnavailable
        );
        assert_eq!(
            AccountError::Hash(HashError::Hash("x".into())).answer(),
            AuthError::Signin
        );
        assert_eq!(AccountError::NoSuchUser.answer(), AuthError::Signin);
    }
}
