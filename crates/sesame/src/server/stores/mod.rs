//! Where Sesame keeps what it knows, behind nine small traits, and the
//! backends that implement them.
//!
//! | trait | holds | implementations |
//! |---|---|---|
//! | [`UserStore`] | users (email, password hash, state) | SQLite, PostgreSQL |
//! | [`TokenStore`] | single-use account tokens, hashed | SQLite, PostgreSQL |
//! | [`FactorStore`] | authenticator apps (sealed), recovery codes (hashed), second-factor steps, trusted browsers | SQLite, PostgreSQL |
//! | [`PasskeyStore`] | passkeys (WebAuthn credentials), user handles, ceremonies | SQLite, PostgreSQL |
//! | [`LinkStore`] | links from provider accounts (OAuth, OIDC) to users | SQLite, PostgreSQL |
//! | [`SessionRows`] | session rows, keyed by the id's hash, and revocations | SQLite, PostgreSQL |
//! | [`SessionCache`] | a read cache of session rows | in memory ([`LocalCache`]), Redis |
//! | [`FailureCounters`] | the lockout's counters per account and device | in memory ([`MemoryCounters`]), Redis |
//! | [`RateLimiter`] | the per-IP limit and the budgets | in memory ([`MemoryRateLimiter`]), Redis |
//!
//! An instance picks its backends from the configuration ([`Backends`]):
//! SQLite (embedded, the default) or PostgreSQL by `database.url`, and Redis
//! for the cache and the counters when `redis.url` is set, so that several
//! instances share them. One suite of tests runs against every
//! implementation (`crates/sesame/tests/stores.rs`); a new backend passes
//! the same suite.
//!
//! ## Implement your own store
//!
//! A limiter that lets each key through `max` times a minute, fixed windows
//! (a real one would also forget old keys in [`RateLimiter::shrink`]):
//!
//! ```
//! use std::{collections::HashMap, sync::Mutex, time::{Duration, Instant}};
//!
//! use sesame::server::{async_trait, stores::{RateLimiter, Refusal}};
//!
//! struct PerMinute {
//!     max: u32,
//!     seen: Mutex<HashMap<String, (Instant, u32)>>,
//! }
//!
//! #[async_trait]
//! impl RateLimiter for PerMinute {
//!     async fn check(&self, key: &str) -> Result<(), Refusal> {
//!         let mut seen = self.seen.lock().map_err(|e| Refusal::Unavailable(e.to_string()))?;
//!         let now = Instant::now();
//!         let (start, count) = seen.entry(key.to_string()).or_insert((now, 0));
//!         if now.duration_since(*start) >= Duration::from_secs(60) {
//!             (*start, *count) = (now, 0);
//!         }
//!         *count += 1;
//!         if *count > self.max {
//!             return Err(Refusal::Wait(Duration::from_secs(60) - now.duration_since(*start)));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let limiter = PerMinute { max: 2, seen: Mutex::default() };
//! let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! runtime.block_on(async {
//!     assert!(limiter.check("203.0.113.7").await.is_ok());
//!     assert!(limiter.check("203.0.113.7").await.is_ok());
//!     assert!(matches!(limiter.check("203.0.113.7").await, Err(Refusal::Wait(_))));
//!     assert!(limiter.check("198.51.100.1").await.is_ok());
//! });
//! ```

pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "redis")]
pub mod redis;

mod backends;
pub(crate) mod db;
pub(crate) mod factors;
pub(crate) mod failures;
pub(crate) mod health;
pub(crate) mod links;
pub(crate) mod passkeys;
pub(crate) mod sign_in_links;
pub(crate) mod sign_in_read;
pub(crate) mod tokens;
pub(crate) mod users;

pub use backends::{BackendError, Backends, Dependency};
pub use db::{connect, migrate, Database, DbError};
pub use factors::FactorStore;
pub use links::{Link, LinkStore, NewLink, Unlinked};
pub use passkeys::PasskeyStore;
pub use tokens::{NewToken, Purpose, TokenFor, TokenStore, Tokens};
pub use users::{AccountChange, Email, EmailError, NewUser, StoreError, UserStore};

pub use crate::server::defense::limits::{MemoryRateLimiter, RateLimiter, Refusal};
pub use crate::server::defense::lockout::{
    CounterError, CounterKey, FailureCounters, Locked, MemoryCounters, Policy,
};
pub use crate::server::session::store::{
    id_hash, CacheError, Inserted, Key, Loaded, LocalCache, NewRow, Row, SessionCache, SessionRows,
    SessionStoreError, Sessions,
};
