//! The session cache in Redis, shared by every instance: a session ended on
//! one instance is gone from the cache of all at once. An entry is the
//! record's data and expiry as JSON under `<prefix>session:<key>` for
//! `session.cache_ttl`, where `key` is the SHA-256 of the session id, as in
//! the SQL tables: the id itself (the cookie's value) is never written to
//! Redis, so a reader of Redis or of a dump signs nobody in. A
//! delete leaves a tombstone `<prefix>ended:<key>` first, and a fill only
//! writes if no tombstone is there (one script), so a read that found the row
//! just before a `DELETE` on another instance cannot put it back.
//!
//! Each instance also keeps copies of the entries it read and serves them
//! without asking Redis ([`super::local_copies`]): every script that changes
//! an entry others may hold a copy of records the change in the same step,
//! and returns only once every instance dropped its copy.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

use super::{
    local_copies::{self, LocalCopies, STREAM_LENGTH},
    Redis,
};
use crate::server::session::store::{CacheError, Key, Loaded, SessionCache};

/// KEYS: entry, tombstone, change counter, change stream. ARGV: value, ttl
/// (ms), the key in hex, the stream's length, whether the write changes what
/// copies hold (`1`: an update; a read's or a new session's fill does not).
/// -1 if not written (a tombstone), else the change's number (0: none).
const FILL: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[5] == '1' then return changed(KEYS[3], KEYS[4], ARGV[3], ARGV[4]) end
return 0
";

/// KEYS: entry, tombstone, change counter, change stream. ARGV: tombstone
/// ttl (ms), the key in hex, the stream's length. The change's number.
const KILL: &str = r"
redis.call('SET', KEYS[2], 1, 'PX', ARGV[1])
redis.call('DEL', KEYS[1])
return changed(KEYS[3], KEYS[4], ARGV[2], ARGV[3])
";

/// KEYS: entry, change counter, change stream. ARGV: the key in hex, the
/// stream's length. The change's number.
const FORGET: &str = r"
redis.call('DEL', KEYS[1])
return changed(KEYS[2], KEYS[3], ARGV[1], ARGV[2])
";

/// Entries this process keeps copies of, at most.
const COPIES: u64 = 100_000;

/// What an entry holds: no session id (the caller, who has the cookie,
/// supplies it).
#[derive(Serialize, Deserialize)]
struct Entry {
    data: HashMap<String, serde_json::Value>,
    expires: i64,
}

/// A [`SessionCache`] every instance shares.
pub struct RedisSessionCache {
    redis: Redis,
    ttl_ms: u64,
    tombstone_ms: u64,
    fill: redis::Script,
    kill: redis::Script,
    forget: redis::Script,
    copies: Arc<LocalCopies>,
}

impl RedisSessionCache {
    /// Entries kept for `ttl` (more than zero).
    pub fn new(redis: Redis, ttl: Duration) -> RedisSessionCache {
        RedisSessionCache {
            ttl_ms: ttl.as_millis().max(1) as u64,
            // Outlives any read that started before the delete.
            tombstone_ms: (ttl + Duration::from_secs(60)).as_millis() as u64,
            fill: script(FILL),
            kill: script(KILL),
            forget: script(FORGET),
            copies: LocalCopies::new(redis.clone(), ttl, COPIES),
            redis,
        }
    }

    /// The entry's key, the tombstone's, and the session key in hex.
    fn keys(&self, key: &Key) -> (String, String, String) {
        let hex = hex::encode(key);
        (
            self.redis.key(&format!("session:{hex}")),
            self.redis.key(&format!("ended:{hex}")),
            hex,
        )
    }
}

/// A writing script with the function that records its change.
fn script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{}{body}", local_copies::APPEND))
}

impl RedisSessionCache {
    /// Writes the entry of `key` unless it has a tombstone; with `update`,
    /// returns once no instance holds a copy of what it held before.
    async fn write(
        &self,
        key: &Key,
        loaded: &Arc<Loaded>,
        update: bool,
    ) -> Result<bool, CacheError> {
        let (entry, tombstone, hex) = self.keys(key);
        let names = self.copies.names().clone();
        let value = serde_json::to_string(&Entry {
            data: loaded.record.data.clone(),
            expires: loaded.record.expiry_date.unix_timestamp(),
        })
        .map_err(|e| CacheError(e.to_string()))?;
        let change: i64 = self
            .redis
            .run(|mut c| async move {
                self.fill
                    .key(entry)
                    .key(tombstone)
                    .key(names.counter)
                    .key(names.stream)
                    .arg(value)
                    .arg(self.ttl_ms)
                    .arg(hex)
                    .arg(STREAM_LENGTH)
                    .arg(if update { "1" } else { "0" })
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(CacheError)?;
        self.settled(key, change).await?;
        Ok(change >= 0)
    }

    /// After change number `change` (if any) to the entry of `key`: drops
    /// this process's copy and waits until every instance dropped theirs.
    async fn settled(&self, key: &Key, change: i64) -> Result<(), CacheError> {
        self.copies.drop_copy(key);
        match u64::try_from(change) {
            Ok(number) if number > 0 => self.copies.settled(number).await,
            _ => Ok(()),
        }
    }
}

fn decode(value: &str, id: &Id) -> Option<Arc<Loaded>> {
    let entry: Entry = serde_json::from_str(value).ok()?;
    Some(Loaded::new(Record {
        id: *id,
        data: entry.data,
        expiry_date: OffsetDateTime::from_unix_timestamp(entry.expires).ok()?,
    }))
}

#[async_trait]
impl SessionCache for RedisSessionCache {
    async fn get(&self, key: &Key, id: &Id) -> Result<Option<Arc<Loaded>>, CacheError> {
        if let Some(copy) = self.copies.get(key) {
            return Ok(Some(copy));
        }
        let epoch = self.copies.epoch();
        let (entry, _, _) = self.keys(key);
        let value: Option<String> = self
            .redis
            .run(|mut c| async move { redis::cmd("GET").arg(entry).query_async(&mut c).await })
            .await
            .map_err(CacheError)?;
        let loaded = value.as_deref().and_then(|v| decode(v, id));
        if let Some(loaded) = &loaded {
            self.copies.keep(key, loaded, epoch);
        }
        Ok(loaded)
    }

    async fn fill(&self, key: &Key, loaded: &Arc<Loaded>) -> Result<bool, CacheError> {
        self.write(key, loaded, false).await
    }

    async fn update(&self, key: &Key, loaded: &Arc<Loaded>) -> Result<bool, CacheError> {
        self.write(key, loaded, true).await
    }

    async fn kill(&self, key: &Key) -> Result<(), CacheError> {
        let (entry, tombstone, hex) = self.keys(key);
        let names = self.copies.names().clone();
        let change: i64 = self
            .redis
            .run(|mut c| async move {
                self.kill
                    .key(entry)
                    .key(tombstone)
                    .key(names.counter)
                    .key(names.stream)
                    .arg(self.tombstone_ms)
                    .arg(hex)
                    .arg(STREAM_LENGTH)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(CacheError)?;
        self.settled(key, change).await
    }

    async fn forget(&self, key: &Key) -> Result<(), CacheError> {
        let (entry, _, hex) = self.keys(key);
        let names = self.copies.names().clone();
        let change: i64 = self
            .redis
            .run(|mut c| async move {
                self.forget
                    .key(entry)
                    .key(names.counter)
                    .key(names.stream)
                    .arg(hex)
                    .arg(STREAM_LENGTH)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(CacheError)?;
        self.settled(key, change).await
    }
}
