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
    local_copies::{self, LocalCopies},
    Redis,
};
use crate::server::session::store::{CacheError, Key, Loaded, SessionCache};

/// KEYS (after the change's two, see [`LocalCopies::invocation`]): entry,
/// tombstone. ARGV (after the change's two): value, ttl (ms), whether the
/// write changes what copies hold (`1`: an update; a read's or a new
/// session's fill does not). -1 if not written (a tombstone), else the
/// change's number (0: none).
const FILL: &str = r"
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
if ARGV[5] == '1' then return changed() end
return 0
";

/// KEYS (after the change's two): entry, tombstone. ARGV (after the
/// change's two): tombstone ttl (ms). The change's number.
const KILL: &str = r"
redis.call('SET', KEYS[4], 1, 'PX', ARGV[3])
redis.call('DEL', KEYS[3])
return changed()
";

/// KEYS (after the change's two): entry. The change's number.
const FORGET: &str = r"
redis.call('DEL', KEYS[3])
return changed()
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
            fill: local_copies::writing_script(FILL),
            kill: local_copies::writing_script(KILL),
            forget: local_copies::writing_script(FORGET),
            copies: LocalCopies::new(redis.clone(), ttl, COPIES),
            redis,
        }
    }

    /// The entry's key, from the session key in hex.
    fn entry_key(&self, hex: &str) -> String {
        self.redis.key(&format!("session:{hex}"))
    }

    /// The tombstone's key, from the session key in hex.
    fn tombstone_key(&self, hex: &str) -> String {
        self.redis.key(&format!("ended:{hex}"))
    }

    /// Runs a writing script's `invocation` for the entry of `key`, then
    /// waits until the change it recorded (if any) is applied everywhere:
    /// this process's copy is dropped and every instance dropped theirs.
    /// The script's answer.
    async fn change(
        &self,
        key: &Key,
        invocation: redis::ScriptInvocation<'_>,
    ) -> Result<i64, CacheError> {
        let change: i64 = self
            .redis
            .run(|mut c| async move { invocation.invoke_async(&mut c).await })
            .await
            .map_err(CacheError)?;
        self.copies.drop_copy(key);
        if let Ok(number @ 1..) = u64::try_from(change) {
            self.copies.settled(number).await?;
        }
        Ok(change)
    }

    /// Writes the entry of `key` unless it has a tombstone; with `update`,
    /// returns once no instance holds a copy of what it held before.
    async fn write(
        &self,
        key: &Key,
        loaded: &Arc<Loaded>,
        update: bool,
    ) -> Result<bool, CacheError> {
        let hex = hex::encode(key);
        let value = serde_json::to_string(&Entry {
            data: loaded.record.data.clone(),
            expires: loaded.record.expiry_date.unix_timestamp(),
        })
        .map_err(|e| CacheError(e.to_string()))?;
        let mut invocation = self.copies.invocation(&self.fill, &hex);
        invocation
            .key(self.entry_key(&hex))
            .key(self.tombstone_key(&hex))
            .arg(value)
            .arg(self.ttl_ms)
            .arg(if update { "1" } else { "0" });
        Ok(self.change(key, invocation).await? >= 0)
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
        let entry = self.entry_key(&hex::encode(key));
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
        let hex = hex::encode(key);
        let mut invocation = self.copies.invocation(&self.kill, &hex);
        invocation
            .key(self.entry_key(&hex))
            .key(self.tombstone_key(&hex))
            .arg(self.tombstone_ms);
        self.change(key, invocation).await.map(drop)
    }

    async fn forget(&self, key: &Key) -> Result<(), CacheError> {
        let hex = hex::encode(key);
        let mut invocation = self.copies.invocation(&self.forget, &hex);
        invocation.key(self.entry_key(&hex));
        self.change(key, invocation).await.map(drop)
    }
}
