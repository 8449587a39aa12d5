//! Redis, shared by several instances: the per-IP limit ([`RedisRateLimiter`]),
//! the lockout counters ([`RedisCounters`]) and the session cache
//! ([`RedisSessionCache`], with copies in each process kept in step through
//! a stream of changes). Every step that reads and writes a counter is one
//! Lua script, so it is atomic across instances; every key expires.
//!
//! One multiplexed connection per instance (redis-rs's `ConnectionManager`,
//! which reconnects by itself); every command is bounded by `redis.timeout`,
//! so a stopped server is an error within seconds, never a hang.

mod counters;
mod limiter;
mod local_copies;
mod session_cache;

use std::{future::Future, time::Duration};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use counters::RedisCounters;
pub use limiter::RedisRateLimiter;
pub use session_cache::RedisSessionCache;

use crate::server::config::RedisConfig;

/// A Redis server that could not be reached at start.
#[derive(Debug, thiserror::Error)]
#[error("redis `{url}`: {message}")]
pub struct RedisError {
    url: String,
    message: String,
}

/// A connection to Redis with Sesame's key prefix and time bound.
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Connects to the server `config` names.
    pub async fn connect(config: &RedisConfig) -> Result<Redis, RedisError> {
        let error = |message: String| RedisError {
            url: crate::server::stores::db::redact(&config.url),
            message,
        };
        let client = redis::Client::open(config.url.as_str()).map_err(|e| error(e.to_string()))?;
        let settings = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            // A request does not wait out a reconnection: it gets its 503,
            // and the manager keeps reconnecting in the background.
            .set_number_of_retries(1);
        let connection = tokio::time::timeout(
            config.timeout,
            ConnectionManager::new_with_config(client.clone(), settings),
        )
        .await
        .map_err(|_| error("no answer".to_string()))?
        .map_err(|e| error(e.to_string()))?;
        Ok(Redis {
            client,
            connection,
            prefix: config.prefix.clone(),
            timeout: config.timeout,
        })
    }

    /// `prefix` + `name`.
    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// A connection of its own, for commands that block it (`XREAD BLOCK`):
    /// no response timeout of its own, so the caller bounds each command.
    async fn dedicated(&self) -> Result<redis::aio::MultiplexedConnection, String> {
        let settings = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(None);
        tokio::time::timeout(
            self.timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&settings),
        )
        .await
        .map_err(|_| "no answer".to_string())?
        .map_err(|e| e.to_string())
    }

    /// Runs a command on the connection within the time bound.
    async fn run<T, F, Fut>(&self, command: F) -> Result<T, String>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let failed = |cause: String| {
            crate::server::stores::failures::note_backend_failure();
            cause
        };
        match tokio::time::timeout(self.timeout, command(self.connection.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(failed(e.to_string())),
            Err(_) => Err(failed(format!(
                "no answer within {}",
                humantime::format_duration(self.timeout)
            ))),
        }
    }

    /// Whether the server answers `PING` within `within`.
    pub async fn ping(&self, within: Duration) -> Result<(), String> {
        let ping =
            self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await });
        match tokio::time::timeout(within, ping).await {
            Ok(result) => result.map(drop),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(within)
            )),
        }
    }
}
