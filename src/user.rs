//! The app's own user type: Sesame's user plus a role, which the
//! configuration's `admins` list grants. The server half shows how an app
//! brings its own user to Sesame: an `authorize` that wraps Sesame's password
//! check and returns an [`AppUser`], and a `session` callback that lets the
//! client see the role.

use serde::{Deserialize, Serialize};

/// What a user may do in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Named in the configuration's `admins`.
    Admin,
    /// Everyone else.
    Member,
}

/// The app's user: what the session carries and the pages read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUser {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
}

#[cfg(feature = "ssr")]
pub use server::{AppAuthorize, AppCallbacks};

#[cfg(feature = "ssr")]
mod server {
    use std::sync::Arc;

    use sesame::{
        server::{
            async_trait, AuthUser, Authorize, AuthorizeError, AuthorizedUser, Callbacks,
            Credentials, DatabaseAuthorize, SessionData, UserRecord,
        },
        Session,
    };

    use super::{AppUser, Role};

    impl AuthUser for AppUser {
        fn id(&self) -> String {
            self.id.clone()
        }
        fn email(&self) -> &str {
            &self.email
        }
        fn name(&self) -> Option<&str> {
            self.name.as_deref()
        }
    }

    /// Sesame's password check, answering with an [`AppUser`].
    pub struct AppAuthorize {
        pub passwords: DatabaseAuthorize,
        /// Lower-cased emails of the administrators.
        pub admins: Arc<[String]>,
    }

    #[async_trait]
    impl Authorize for AppAuthorize {
        type User = AppUser;

        async fn authorize(
            &self,
            credentials: &Credentials,
        ) -> Result<Option<AppUser>, AuthorizeError> {
            Ok(self
                .passwords
                .authorize(credentials)
                .await?
                .map(|user| self.app_user(user)))
        }

        async fn user_for(&self, record: &UserRecord) -> Result<Option<AppUser>, AuthorizeError> {
            Ok(self
                .passwords
                .user_for(record)
                .await?
                .map(|user| self.app_user(user)))
        }
    }

    impl AppAuthorize {
        /// Sesame's user with the app's role.
        fn app_user(&self, user: AuthorizedUser) -> AppUser {
            let admin = self.admins.contains(&user.email);
            AppUser {
                id: user.id,
                email: user.email,
                name: user.name,
                role: if admin { Role::Admin } else { Role::Member },
            }
        }
    }

    /// Lets the client session show the role (`session.role`).
    pub struct AppCallbacks;

    impl Callbacks<AppUser> for AppCallbacks {
        fn session(&self, mut session: Session, data: &SessionData) -> Session {
            if let Ok(user) = data.user::<AppUser>() {
                session
                    .extra
                    .insert("role".into(), serde_json::json!(user.role));
            }
            session
        }
    }
}
