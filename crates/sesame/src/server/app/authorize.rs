//! `authorize`: NextAuth's credentials check, as a trait the application implements,
//! returning the application's own user type ([`AuthUser`]).
//!
//! [`DatabaseAuthorize`] is the default, with [`AuthorizedUser`] as its user: it
//! looks the email up in a [`UserStore`] and verifies the argon2id hash. An
//! unknown email runs a verification against a dummy hash, so it costs the same
//! as a wrong password and reveals nothing; a hash with older parameters is
//! replaced after a successful check. An application with its own user type
//! wraps it and maps the user (see
//! [`SesameBuilder::authorize_with`](crate::server::SesameBuilder::authorize_with)).

use std::sync::Arc;

use async_trait::async_trait;

use crate::server::app::app_user::{AuthUser, AuthorizedUser};
use crate::server::{
    defense::hash_gate::HashGate,
    defense::password::{self, NewPassword, Password},
    stores::users::{Email, UserRecord, UserStore},
};

/// What the sign-in form sent.
pub struct Credentials {
    /// The email as typed (not yet parsed).
    pub email: String,
    /// The password, bounded and normalised.
    pub password: Password,
    /// The row of `store` that the address names (`None`: no row), read
    /// by the sign-in in one statement with its revocation sequence: the
    /// [`DatabaseAuthorize`] over that very store checks it instead of
    /// reading again.
    read: Option<(Arc<dyn UserStore>, Option<UserRecord>)>,
}

impl Credentials {
    /// The credentials as the form sent them.
    pub fn new(email: String, password: Password) -> Credentials {
        Credentials {
            email,
            password,
            read: None,
        }
    }

    /// With the row `store` holds for the address, as read with the
    /// revocation sequence.
    pub(crate) fn with_read(
        mut self,
        store: Arc<dyn UserStore>,
        user: Option<UserRecord>,
    ) -> Credentials {
        self.read = Some((store, user));
        self
    }

    /// The row read for `store`, if the sign-in read one from it.
    fn read_from(&self, store: &Arc<dyn UserStore>) -> Option<Option<&UserRecord>> {
        // The same store: the same allocation (a vtable pointer may differ
        // between codegen units, so only the data pointers are compared).
        let same =
            |read: &Arc<dyn UserStore>| std::ptr::addr_eq(Arc::as_ptr(read), Arc::as_ptr(store));
        match &self.read {
            Some((read, user)) if same(read) => Some(user.as_ref()),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Credentials {
    /// Neither the password nor the row read (it holds the hash).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("password", &self.password)
            .finish_non_exhaustive()
    }
}

/// A failure that is not "wrong credentials": logged, never shown to the client.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error(transparent)]
    /// The user store failed.
    Store(#[from] crate::server::stores::users::StoreError),
    #[error(transparent)]
    /// Hashing failed or the server is too busy to hash.
    Hash(#[from] password::HashError),
    #[error("{0}")]
    /// Anything else, with its message (an application's own `authorize`).
    Other(String),
    #[error("refused: {0:?}")]
    /// The credentials are right but the account may not sign in yet, for a
    /// reason the client is told (`EmailNotVerified`). Only after the
    /// password was checked, so it tells nothing to whoever does not know it.
    Refused(crate::wire::AuthError),
}

/// The application's credentials check (NextAuth's `authorize(credentials, req)`).
/// `Ok(None)` means the credentials are wrong.
#[async_trait]
pub trait Authorize: Send + Sync + 'static {
    /// The application's user, which the session carries.
    type User: AuthUser;

    /// Checks the credentials: `Ok(Some(user))` to sign in, `Ok(None)` for wrong ones.
    async fn authorize(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<Self::User>, AuthorizeError>;

    /// The user of a row of Sesame's user store, for a sign-in without a
    /// password: right after the link of a new account's email was followed
    /// (`accounts.sign_in_after_verification`). `Ok(None)` (the default)
    /// means "sign in with the password instead".
    async fn user_for(&self, _user: &UserRecord) -> Result<Option<Self::User>, AuthorizeError> {
        Ok(None)
    }
}

/// The default `authorize`: argon2id against a [`UserStore`].
#[derive(Clone)]
pub struct DatabaseAuthorize {
    users: Arc<dyn UserStore>,
    gate: Arc<HashGate>,
    allow_unverified: bool,
}

impl DatabaseAuthorize {
    /// The default check over `users`, hashing on `gate`.
    pub fn new(users: Arc<dyn UserStore>, gate: Arc<HashGate>) -> Self {
        DatabaseAuthorize {
            users,
            gate,
            allow_unverified: false,
        }
    }

    /// Whether an account whose email is not confirmed may sign in (default
    /// `false`: it gets `EmailNotVerified`, after its password was checked).
    pub fn allow_unverified(mut self, allow: bool) -> Self {
        self.allow_unverified = allow;
        self
    }
}

impl AuthorizeError {
    /// The server is too busy hashing: answer 503, not "wrong credentials".
    pub fn is_busy(&self) -> bool {
        matches!(self, AuthorizeError::Hash(password::HashError::Busy(_)))
    }
}

#[async_trait]
impl Authorize for DatabaseAuthorize {
    type User = AuthorizedUser;

    async fn user_for(&self, user: &UserRecord) -> Result<Option<AuthorizedUser>, AuthorizeError> {
        Ok((!user.is_disabled()).then(|| user.clone().into()))
    }

    async fn authorize(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<AuthorizedUser>, AuthorizeError> {
        let user = match credentials.read_from(&self.users) {
            Some(read) => read.cloned(),
            None => match Email::parse(&credentials.email) {
                Ok(email) => self.users.find_by_email(&email).await?,
                Err(_) => None,
            },
        };
        // An account made by a provider has no password (an empty hash): it
        // answers as an unknown address does.
        let Some(user) = user.filter(|u| !u.password_hash.is_empty()) else {
            // Same work as a wrong password: no timing oracle for who has an account.
            password::verify(&self.gate, &credentials.password, password::dummy_hash()).await?;
            return Ok(None);
        };
        let verified =
            password::verify(&self.gate, &credentials.password, &user.password_hash).await?;
        // A disabled account answers as a wrong password, after the same work.
        if !verified.matches || user.is_disabled() {
            return Ok(None);
        }
        if user.email_verified_at.is_none() && !self.allow_unverified {
            return Err(AuthorizeError::Refused(
                crate::wire::AuthError::EmailNotVerified,
            ));
        }
        if verified.needs_rehash {
            let rehashed = password::hash(&self.gate, &credentials.password).await?;
            self.users.set_password_hash(user.id, &rehashed).await?;
            tracing::info!(
                user_id = user.id,
                "rehashed a password with current parameters"
            );
        }
        Ok(Some(user.into()))
    }
}

/// Creates a user with a hashed password; the password must have passed the
/// policy ([`NewPassword`]).
pub async fn create_user(
    users: &dyn UserStore,
    gate: &HashGate,
    email: &str,
    password: &NewPassword,
    name: Option<String>,
) -> Result<crate::server::stores::users::UserRecord, AuthorizeError> {
    let email = Email::parse(email).map_err(|e| AuthorizeError::Other(e.to_string()))?;
    let password_hash = password::hash(gate, password.password()).await?;
    Ok(users
        .create(crate::server::stores::users::NewUser {
            email,
            name,
            password_hash,
            email_verified: true,
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::stores::{sqlite::SqliteUserStore, NewUser};

    /// A user store of its own (an in-memory database) with `email`'s
    /// password `password`.
    async fn store(gate: &HashGate, email: &str, password: &str) -> Arc<dyn UserStore> {
        let pool = crate::server::stores::db::memory_pool().await;
        let users: Arc<dyn UserStore> = Arc::new(SqliteUserStore::new(pool));
        let hash = password::hash(gate, &Password::parse(password).unwrap())
            .await
            .unwrap();
        users
            .create(NewUser {
                email: Email::parse(email).unwrap(),
                name: None,
                password_hash: hash,
                email_verified: true,
            })
            .await
            .unwrap();
        users
    }

    fn credentials(password: &str) -> Credentials {
        Credentials::new(
            "demo@example.com".into(),
            Password::parse(password).unwrap(),
        )
    }

    /// The row the sign-in read is checked only by the `DatabaseAuthorize`
    /// of the store it was read from: a row of another store (Sesame's own
    /// table, beside an application's store) never stands for this one's.
    #[tokio::test]
    async fn a_row_read_with_the_sequence_is_checked_only_by_its_own_store() {
        let gate = Arc::new(HashGate::new(1, 4));
        let ours = store(&gate, "demo@example.com", "our password").await;
        let theirs = store(&gate, "demo@example.com", "their password").await;
        let their_row = theirs
            .find_by_email(&Email::parse("demo@example.com").unwrap())
            .await
            .unwrap();
        let check = DatabaseAuthorize::new(ours.clone(), gate.clone());

        // Read from another store: ignored, the store is read.
        let other = credentials("their password").with_read(theirs.clone(), their_row.clone());
        assert!(check.authorize(&other).await.unwrap().is_none());
        let other = credentials("our password").with_read(theirs.clone(), their_row);
        assert!(check.authorize(&other).await.unwrap().is_some());

        // Read from this store: that row is checked, the store is not read
        // again (a row read as absent stays absent).
        let our_row = ours
            .find_by_email(&Email::parse("demo@example.com").unwrap())
            .await
            .unwrap();
        let read = credentials("our password").with_read(ours.clone(), our_row);
        let user = check.authorize(&read).await.unwrap().expect("signed in");
        assert_eq!(user.email, "demo@example.com");
        let absent = credentials("our password").with_read(ours.clone(), None);
        assert!(check.authorize(&absent).await.unwrap().is_none());
        // Without a read, the store is read.
        assert!(check
            .authorize(&credentials("our password"))
            .await
            .unwrap()
            .is_some());
    }

    #[test]
    fn credentials_debug_shows_neither_password_nor_row() {
        let shown = format!("{:?}", credentials("our password"));
        assert!(shown.contains("demo@example.com") && !shown.contains("our password"));
    }
}
