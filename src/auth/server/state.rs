//! `Auth`: the configured auth system, shared by the REST routes, the credentials
//! server function and the pages (as an axum `Extension` and a Leptos context).

use std::sync::Arc;

use sqlx::SqlitePool;

use super::{
    authorize::{Authorize, DatabaseAuthorize},
    callback_url::CallbackPolicy,
    config::{Config, ConfigError},
    csrf::CsrfKeys,
    session::SqliteSessionStore,
    users::{SqliteUserStore, UserStore},
};

/// The auth system. Cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub policy: CallbackPolicy,
    pub csrf: Arc<CsrfKeys>,
    pub users: Arc<dyn UserStore>,
    pub authorize: Arc<dyn Authorize>,
    pub sessions: SqliteSessionStore,
}

impl std::ops::Deref for Auth {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Auth {
    /// The default set-up: users and sessions in `pool`, the database `authorize`.
    pub fn new(config: Config, pool: SqlitePool) -> Result<Auth, ConfigError> {
        let users: Arc<dyn UserStore> = Arc::new(SqliteUserStore::new(pool.clone()));
        let authorize = Arc::new(DatabaseAuthorize::new(users.clone()));
        Self::with_parts(config, users, authorize, SqliteSessionStore::new(pool))
    }

    /// A set-up with the application's own `authorize` and user store.
    pub fn with_parts(
        config: Config,
        users: Arc<dyn UserStore>,
        authorize: Arc<dyn Authorize>,
        sessions: SqliteSessionStore,
    ) -> Result<Auth, ConfigError> {
        let secret = config.resolve_secret()?;
        let csrf = Arc::new(CsrfKeys::new(vec![secret], config.secure_cookies()));
        let policy = CallbackPolicy::new(config.site.url.clone(), &config.site.trusted_origins);
        Ok(Auth(Arc::new(Inner {
            config,
            policy,
            csrf,
            users,
            authorize,
            sessions,
        })))
    }

    /// `<site>/api/auth` as an absolute URL.
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{}{path}", self.config.base_url(), crate::auth::BASE_PATH)
    }

    /// The sign-in page: `pages.sign_in` or the built-in one.
    pub fn sign_in_page(&self) -> &str {
        self.config
            .pages
            .sign_in
            .as_deref()
            .unwrap_or(crate::auth::SIGN_IN_PATH)
    }
}
