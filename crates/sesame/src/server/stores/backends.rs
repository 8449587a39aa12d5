//! The backends one instance runs on, picked from the configuration: the
//! database (SQLite or PostgreSQL) and, when `redis.url` is set, Redis. Hands
//! each part of the auth system its store, and reports on each backend for
//! `/ready`.

use std::{sync::Arc, time::Duration};

use crate::server::{
    config::{Config, LockoutConfig, Rate},
    defense::limits::{MemoryRateLimiter, RateLimiter},
    defense::lockout::{FailureCounters, MemoryCounters},
    session::store::{LocalCache, SessionCache, SessionRows},
    stores::db::Database,
    stores::sqlite::inline::Inline,
    stores::tokens::TokenStore,
    stores::users::UserStore,
};

/// A backend a request may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    /// Users, sessions and tokens.
    Database,
    /// The shared counters and session cache.
    Redis,
}

impl Dependency {
    /// Its name in `/ready` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Dependency::Database => "database",
            Dependency::Redis => "redis",
        }
    }
}

/// The open backends.
#[derive(Debug, Clone)]
pub struct Backends {
    /// Users, sessions and tokens.
    pub database: Database,
    #[cfg(feature = "redis")]
    /// The shared counters and session cache, if configured.
    pub redis: Option<super::redis::Redis>,
}

/// A backend that could not be opened at start.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    /// The database could not be opened.
    Database(#[from] crate::server::stores::db::DbError),
    #[cfg(feature = "redis")]
    #[error(transparent)]
    /// Redis could not be reached.
    Redis(#[from] super::redis::RedisError),
}

impl Backends {
    /// Opens what `config` names.
    pub async fn connect(config: &Config) -> Result<Backends, BackendError> {
        let database = crate::server::stores::db::connect(&config.database).await?;
        #[cfg(feature = "redis")]
        let redis = match &config.redis {
            Some(redis) => Some(super::redis::Redis::connect(redis).await?),
            None => None,
        };
        Ok(Backends {
            database,
            #[cfg(feature = "redis")]
            redis,
        })
    }

    /// The database's users.
    pub fn users(&self) -> Arc<dyn UserStore> {
        match &self.database {
            Database::Sqlite(pool) => Arc::new(super::sqlite::SqliteUserStore::new(pool.clone())),
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Arc::new(super::postgres::PgUserStore::new(pool.clone())),
        }
    }

    /// The database's session rows (on a SQLite file, with a connection of
    /// their own for a sign-in's `INSERT` on the caller's thread).
    pub fn session_rows(&self) -> Arc<dyn SessionRows> {
        self.session_rows_beside(self.inline())
    }

    /// A connection for statements on the request's thread, beside a SQLite
    /// pool (see [`Inline`]); none for PostgreSQL.
    pub(crate) fn inline(&self) -> Option<Arc<Inline>> {
        match &self.database {
            Database::Sqlite(pool) => Some(Arc::new(Inline::new(pool.clone()))),
            #[cfg(feature = "postgres")]
            Database::Postgres(_) => None,
        }
    }

    /// The session rows, whose sign-ins' `INSERT` runs on `inline` when it can.
    pub(crate) fn session_rows_beside(&self, inline: Option<Arc<Inline>>) -> Arc<dyn SessionRows> {
        match &self.database {
            Database::Sqlite(pool) => {
                Arc::new(super::sqlite::SqliteSessionRows::new(pool.clone()).with_inline(inline))
            }
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Arc::new(super::postgres::PgSessionRows::new(pool.clone())),
        }
    }

    /// The database's account tokens.
    pub fn tokens(&self) -> Arc<dyn TokenStore> {
        match &self.database {
            Database::Sqlite(pool) => Arc::new(super::sqlite::SqliteTokenStore::new(pool.clone())),
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Arc::new(super::postgres::PgTokenStore::new(pool.clone())),
        }
    }

    /// The database's passkeys.
    pub fn passkeys(&self) -> Arc<dyn super::passkeys::PasskeyStore> {
        match &self.database {
            Database::Sqlite(pool) => {
                Arc::new(super::passkeys::SqlitePasskeyStore::new(pool.clone()))
            }
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => {
                Arc::new(super::passkeys::PgPasskeyStore::new(pool.clone()))
            }
        }
    }

    /// The database's second factors.
    pub fn factors(&self) -> Arc<dyn super::factors::FactorStore> {
        match &self.database {
            Database::Sqlite(pool) => {
                Arc::new(super::factors::SqliteFactorStore::new(pool.clone()))
            }
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Arc::new(super::factors::PgFactorStore::new(pool.clone())),
        }
    }

    /// The database's sign-in links (the email provider).
    pub fn sign_in_links(&self) -> Arc<dyn super::sign_in_links::SignInLinkStore> {
        match &self.database {
            Database::Sqlite(pool) => Arc::new(super::sign_in_links::SqliteSignInLinkStore::new(
                pool.clone(),
            )),
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => {
                Arc::new(super::sign_in_links::PgSignInLinkStore::new(pool.clone()))
            }
        }
    }

    /// The database's provider links.
    pub fn links(&self) -> Arc<dyn super::links::LinkStore> {
        match &self.database {
            Database::Sqlite(pool) => Arc::new(super::sqlite::SqliteLinkStore::new(pool.clone())),
            #[cfg(feature = "postgres")]
            Database::Postgres(pool) => Arc::new(super::postgres::PgLinkStore::new(pool.clone())),
        }
    }

    /// The session cache: Redis's when there is Redis (and a ttl), else this
    /// process's.
    pub fn session_cache(&self, ttl: Duration) -> Arc<dyn SessionCache> {
        #[cfg(feature = "redis")]
        if let (Some(redis), false) = (&self.redis, ttl.is_zero()) {
            return Arc::new(super::redis::RedisSessionCache::new(redis.clone(), ttl));
        }
        Arc::new(LocalCache::new(ttl))
    }

    /// A rate limiter named `name` counting `rate`, keeping at most
    /// `tracked` keys in Redis.
    pub fn rate_limiter(&self, name: &str, rate: Rate, tracked: u64) -> Box<dyn RateLimiter> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return Box::new(super::redis::RedisRateLimiter::new(
                redis.clone(),
                name,
                rate,
                tracked,
            ));
        }
        let _ = (name, tracked);
        Box::new(MemoryRateLimiter::new(rate))
    }

    /// The lockout's failure counters.
    pub fn lockout_counters(&self, config: &LockoutConfig) -> Arc<dyn FailureCounters> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return Arc::new(super::redis::RedisCounters::new(
                redis.clone(),
                config.forget_after,
                config.tracked,
            ));
        }
        Arc::new(MemoryCounters::new(config))
    }

    /// The backends this instance runs on.
    pub fn dependencies(&self) -> Vec<Dependency> {
        #[cfg(feature = "redis")]
        if self.redis.is_some() {
            return vec![Dependency::Database, Dependency::Redis];
        }
        vec![Dependency::Database]
    }

    /// Each backend and whether it answers within `within`.
    pub async fn check(&self, within: Duration) -> Vec<(Dependency, Result<(), String>)> {
        let database = (Dependency::Database, self.database.ping(within).await);
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            return vec![database, (Dependency::Redis, redis.ping(within).await)];
        }
        vec![database]
    }
}
