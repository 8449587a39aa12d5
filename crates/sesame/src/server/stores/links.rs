//! Links between users and their accounts at OAuth / OpenID Connect
//! providers (`provider_accounts`, SQLite and PostgreSQL): which user a
//! provider account signs in as, a user's links, and their removal, which
//! never removes a user's last way to sign in.

use async_trait::async_trait;

/// A link to store.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    /// The provider's id (`github`).
    pub provider: &'a str,
    /// The account's id at the provider.
    pub account_id: &'a str,
    /// The user it signs in as.
    pub user_id: i64,
    /// The address the provider gave, if any.
    pub email: Option<&'a str>,
    /// The provider's access token, sealed (see `store_tokens`).
    pub access_token: Option<&'a str>,
    /// The provider's refresh token, sealed.
    pub refresh_token: Option<&'a str>,
    /// When the access token expires, Unix seconds.
    pub expires_at: Option<i64>,
}

/// A user's link, as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    /// The provider's id.
    pub provider: String,
    /// The account's id at the provider.
    #[sqlx(rename = "provider_account_id")]
    pub account_id: String,
    /// The address the provider gave when it was linked.
    pub email: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// What removing a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    /// It is gone.
    Removed,
    /// The user has no such link.
    NotFound,
    /// It is the user's last way to sign in (no password, no other link): kept.
    LastWay,
}

/// Where links are kept.
#[async_trait]
pub trait LinkStore: Send + Sync + 'static {
    /// The user this provider account signs in as.
    async fn find(&self, provider: &str, account_id: &str) -> Result<Option<i64>, sqlx::Error>;
    /// Stores a link; `false` when the provider account is linked already
    /// (to this user or another), which changes nothing.
    async fn link(&self, link: NewLink<'_>) -> Result<bool, sqlx::Error>;
    /// Replaces a link's stored tokens.
    async fn set_tokens(&self, link: NewLink<'_>) -> Result<(), sqlx::Error>;
    /// The user's links, oldest first.
    async fn list(&self, user_id: i64) -> Result<Vec<Link>, sqlx::Error>;
    /// Removes one of the user's links unless it is their last way to sign
    /// in, in one step (two removals at once cannot both pass the check).
    async fn unlink(
        &self,
        user_id: i64,
        provider: &str,
        account_id: &str,
    ) -> Result<Unlinked, sqlx::Error>;
}
