//! Account administration over Sesame's user store: what the admin CLI, the
//! account pages and an application's own code do to an account. Disable or
//! enable it, set its password, verify its email, list and end its sessions.
//! A change that must end sessions (disabling, a new password) has ended them
//! when it returns, on every request of this instance at once (of every
//! instance, with the session cache in Redis or none).
//!
//! Sessions are indexed by the user id the session carries
//! ([`AuthUser::id`](super::AuthUser::id)); for Sesame's store that is the
//! row id, as text.

use super::{
    db::unavailable,
    password::{self, HashError, NewPassword},
    session_store::{SessionHandle, SessionStoreError, UserSession},
    state::Auth,
    users::{Email, EmailError, StoreError, UserRecord},
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
}

impl AccountError {
    /// How a request that failed this way is answered: `ServiceUnavailable`
    /// when the hashing gate was full or a backend did not answer (try
    /// again), `Signin` otherwise (the cause stays in the log).
    pub(crate) fn answer(&self) -> crate::AuthError {
        let unavailable = match self {
            AccountError::Hash(HashError::Busy(_)) => true,
            AccountError::Store(StoreError::Database(e)) | AccountError::Tokens(e) => {
                unavailable(e)
            }
            AccountError::Sessions(SessionStoreError::Rows(e)) => unavailable(e),
            AccountError::Sessions(SessionStoreError::Cache(_)) => true,
            _ => false,
        };
        if unavailable {
            crate::AuthError::ServiceUnavailable
        } else {
            crate::AuthError::Signin
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
    /// every session of theirs; returns how many ended.
    pub async fn set_disabled(&self, email: &str, disabled: bool) -> Result<u64, AccountError> {
        let user = self.user_by_email(email).await?;
        self.users.set_disabled(user.id, disabled).await?;
        if !disabled {
            return Ok(0);
        }
        self.end_sessions(&user.id.to_string(), None).await
    }

    /// Gives the user with this email a new password (which passed the
    /// policy) and ends every session of theirs but `keep`; returns how many
    /// ended.
    pub async fn set_password(
        &self,
        email: &str,
        new: &NewPassword,
        keep: Option<&SessionHandle>,
    ) -> Result<u64, AccountError> {
        let user = self.user_by_email(email).await?;
        let hash = password::hash(&self.gate, new.password()).await?;
        self.users.set_password_hash(user.id, &hash).await?;
        self.end_sessions(&user.id.to_string(), keep).await
    }

    /// Marks the email of the user with this email as verified.
    pub async fn verify_email(&self, email: &str) -> Result<(), AccountError> {
        let user = self.user_by_email(email).await?;
        Ok(self.users.set_email_verified(user.id).await?)
    }

    /// The live sessions of `user_id`, most recent first.
    pub async fn sessions_of(&self, user_id: &str) -> Result<Vec<UserSession>, AccountError> {
        self.sessions
            .list_user(user_id)
            .await
            .map_err(|e| AccountError::Sessions(e.into()))
    }

    /// Ends every session of `user_id` but `keep`, at once; how many ended.
    pub async fn end_sessions(
        &self,
        user_id: &str,
        keep: Option<&SessionHandle>,
    ) -> Result<u64, AccountError> {
        self.sessions
            .revoke_user(user_id, keep)
            .await
            .map_err(AccountError::Sessions)
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
    use crate::{server::hash_gate::Busy, AuthError};

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
