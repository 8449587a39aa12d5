//! The application's user type: what `authorize` returns and the session
//! carries. [`AuthUser`] is the little Sesame needs to know of it;
//! [`AuthorizedUser`] is the default.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// An application's user, as Sesame needs to know it: an id to name the
/// session's owner and the fields the client session shows by default. The
/// whole value is kept in the session (serialised), so the
/// [`CurrentUser`](crate::server::CurrentUser) extractor and
/// [`SessionData::user`](crate::server::SessionData::user) give it back typed.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sesame::server::AuthUser;
///
/// #[derive(Clone, Serialize, Deserialize)]
/// struct Member { id: i64, email: String, admin: bool }
///
/// impl AuthUser for Member {
///     fn id(&self) -> String { self.id.to_string() }
///     fn email(&self) -> &str { &self.email }
/// }
/// ```
pub trait AuthUser: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The user's stable id (stored in the session, named in the audit log).
    fn id(&self) -> String;
    /// The email the client session shows.
    fn email(&self) -> &str;
    /// The display name the client session shows, if any.
    fn name(&self) -> Option<&str> {
        None
    }
    /// The image URL the client session shows, if any.
    fn image(&self) -> Option<&str> {
        None
    }
}

/// The default user: a row of Sesame's user store, as the session shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedUser {
    /// The user's id (stored in the session).
    pub id: String,
    /// The user's email.
    pub email: String,
    /// The display name, if any.
    pub name: Option<String>,
    /// An image URL, if any.
    pub image: Option<String>,
}

impl AuthUser for AuthorizedUser {
    fn id(&self) -> String {
        self.id.clone()
    }
    fn email(&self) -> &str {
        &self.email
    }
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn image(&self) -> Option<&str> {
        self.image.as_deref()
    }
}

impl From<crate::server::stores::users::UserRecord> for AuthorizedUser {
    fn from(user: crate::server::stores::users::UserRecord) -> Self {
        AuthorizedUser {
            id: user.id.to_string(),
            email: user.email,
            name: user.name,
            image: user.image,
        }
    }
}
