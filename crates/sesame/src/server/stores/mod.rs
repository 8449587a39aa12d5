//! The storage backends behind the store traits: SQLite (embedded, the
//! default), PostgreSQL (users, sessions and tokens shared by several
//! instances) and Redis (the counters and the session cache they share).
//! [`Backends`] picks them from the configuration.

pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

#[cfg(feature = "redis")]
pub mod redis;

mod backends;

pub use backends::{BackendError, Backends, Dependency};
