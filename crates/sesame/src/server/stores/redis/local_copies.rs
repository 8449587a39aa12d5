//! Copies of Redis's session entries kept in this process, served only after
//! a round trip that started after the request arrived has read every change
//! made since, on any instance: revocation stays final at once everywhere,
//! and a busy instance pays one Redis round trip per batch of checks instead
//! of one per check.
//!
//! Every write to the shared cache (a fill, a tombstone, a forget) appends
//! the entry's key to a stream in the same Redis script, numbered by a
//! counter (`<prefix>changes:seq`, `<prefix>changes`). Before serving a
//! local copy, a check waits for a *sync*: one script that returns the
//! counter and the changes this process has not applied. A sync is shared by
//! every check that arrived before it was sent (at most one is in flight; a
//! check arriving meanwhile waits for the next), so under load one round
//! trip serves many checks. A change of another instance that returned
//! before a check arrived is in Redis before that check's sync reads it, so
//! the copy is dropped before the check could see it.
//!
//! A gap in the numbers (the stream trimmed past what this process read, a
//! Redis that lost its data) drops every copy. A copy is only kept from a
//! read that no applied change overtook (see [`LocalCopies::keep`]).
//!
//! Not a hand-made cache where a crate would do: redis-rs's client-side
//! caching (`CLIENT TRACKING`) delivers invalidations on the connection but
//! gives no point at which a read may trust them, which "final at once"
//! needs; the sync here is that point.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use tokio::sync::watch;

use super::Redis;
use crate::server::session::store::{CacheError, Key, Loaded};

/// KEYS: counter, stream. ARGV: the counter this process applied, the last
/// stream id it read, how many changes at most. Returns the counter, then
/// (when it moved) the stream's last id and the changes after the one read,
/// as number and key pairs.
const SYNC: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n == tonumber(ARGV[1]) then return {tostring(n)} end
local out = {tostring(n)}
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #last > 0 then out[2] = last[1][1] else out[2] = '0-0' end
for _, e in ipairs(redis.call('XRANGE', KEYS[2], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])) do
  out[#out + 1] = e[2][2]
  out[#out + 1] = e[2][4]
end
return out
";

/// Lua that a writing script runs after its write: appends `ARGV[k]` (the
/// entry's key in hex) to the stream `KEYS[s]`, numbered by `KEYS[c]`, the
/// stream trimmed to about `ARGV[m]` changes.
pub const APPEND: &str = r"
local function changed(counter, stream, hex, maxlen)
  local n = redis.call('INCR', counter)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 's', n, 'k', hex)
end
";

/// Changes kept in the stream: a process that reads fewer than this many
/// between two syncs applies them one by one, else drops every copy.
pub const STREAM_LENGTH: u64 = 10_000;

/// Changes read in one sync at most (more: every copy is dropped).
const BATCH: u64 = 1_000;

/// Where this process is in the stream of changes.
struct Applied {
    /// The counter's value whose changes are applied.
    seq: u64,
    /// The id of the last stream entry read.
    last_id: String,
}

/// Who wants a sync and which one is running.
#[derive(Default)]
struct Turns {
    /// Syncs sent so far (the one in flight included).
    sent: u64,
    /// The highest sync a waiting check needs.
    wanted: u64,
    /// Whether a task is sending syncs.
    running: bool,
}

/// The local copies and their syncing.
pub struct LocalCopies {
    redis: Redis,
    counter: String,
    stream: String,
    sync: redis::Script,
    entries: moka::sync::Cache<Key, Arc<Loaded>>,
    /// Bumped before any copy is dropped: a read that saw it move while it
    /// was out does not keep its copy.
    epoch: AtomicU64,
    applied: Mutex<Applied>,
    turns: Mutex<Turns>,
    /// The last sync done, and whether it succeeded.
    done: watch::Sender<(u64, bool)>,
}

impl LocalCopies {
    /// Copies of at most `capacity` entries, each kept at most `ttl`.
    pub fn new(redis: Redis, ttl: std::time::Duration, capacity: u64) -> Arc<LocalCopies> {
        let (counter, stream) = names(&redis);
        Arc::new(LocalCopies {
            redis,
            counter,
            stream,
            sync: redis::Script::new(SYNC),
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl.max(std::time::Duration::from_millis(1)))
                .build(),
            epoch: AtomicU64::new(0),
            applied: Mutex::new(Applied {
                seq: 0,
                last_id: "0-0".to_string(),
            }),
            turns: Mutex::new(Turns::default()),
            done: watch::channel((0, true)).0,
        })
    }

    /// The copy of `key`, if this process has one that no change made
    /// before this call (on any instance) has overtaken.
    pub async fn get(self: &Arc<Self>, key: &Key) -> Result<Option<Arc<Loaded>>, CacheError> {
        if !self.entries.contains_key(key) {
            return Ok(None);
        }
        self.synced().await?;
        Ok(self.entries.get(key))
    }

    /// Where the copies are now: pass it to [`LocalCopies::keep`] with what a
    /// read of Redis that started after this call found.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Keeps a copy of what a read found, unless a copy was dropped since
    /// `epoch` (the change behind it may be this entry's, and may have been
    /// applied before the copy went in).
    pub fn keep(&self, key: &Key, loaded: &Arc<Loaded>, epoch: u64) {
        if self.epoch() != epoch {
            return;
        }
        self.entries.insert(*key, loaded.clone());
        // Checked after the insert: a drop bumps the epoch before it
        // removes, so a drop this check misses removes the copy itself.
        if self.epoch() != epoch {
            self.entries.invalidate(key);
        }
    }

    /// Drops the copy of `key` (this process changed the entry).
    pub fn drop_copy(&self, key: &Key) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(key);
    }

    /// Drops every copy.
    fn drop_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// Waits for a sync sent after this call.
    async fn synced(self: &Arc<Self>) -> Result<(), CacheError> {
        let mut done = self.done.subscribe();
        let target = {
            let mut turns = self.turns.lock().expect("turns");
            let target = turns.sent + 1;
            turns.wanted = turns.wanted.max(target);
            if !turns.running {
                turns.running = true;
                tokio::spawn(self.clone().send_syncs());
            }
            target
        };
        loop {
            let (sync, ok) = *done.borrow_and_update();
            if sync >= target {
                return if ok {
                    Ok(())
                } else {
                    Err(CacheError("the session cache could not sync".into()))
                };
            }
            done.changed()
                .await
                .map_err(|_| CacheError("the session cache stopped".into()))?;
        }
    }

    /// Sends syncs while a check waits for one.
    async fn send_syncs(self: Arc<Self>) {
        loop {
            let sync = {
                let mut turns = self.turns.lock().expect("turns");
                if turns.wanted <= turns.sent {
                    turns.running = false;
                    return;
                }
                turns.sent += 1;
                turns.sent
            };
            let ok = self.sync_once().await.is_ok();
            self.done.send_replace((sync, ok));
        }
    }

    /// One sync: reads the changes since the last and drops their copies.
    async fn sync_once(&self) -> Result<(), String> {
        let (seq, last_id) = {
            let applied = self.applied.lock().expect("applied");
            (applied.seq, applied.last_id.clone())
        };
        let (counter, stream) = (self.counter.clone(), self.stream.clone());
        let reply: Vec<String> = self
            .redis
            .run(|mut c| async move {
                self.sync
                    .key(counter)
                    .key(stream)
                    .arg(seq)
                    .arg(&last_id)
                    .arg(BATCH)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        let mut reply = reply.into_iter();
        let now: u64 = reply
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or("a sync without a counter")?;
        if now == seq {
            return Ok(());
        }
        let new_last = reply.next().ok_or("a sync without a stream id")?;
        let changes: Vec<(u64, String)> = pairs(reply);
        let in_order = changes.len() as u64 == now.saturating_sub(seq)
            && changes
                .iter()
                .zip(seq + 1..)
                .all(|((number, _), expected)| *number == expected);
        if in_order {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            for (_, hex) in &changes {
                let mut key = [0u8; 32];
                if hex::decode_to_slice(hex, &mut key).is_ok() {
                    self.entries.invalidate(&key);
                } else {
                    self.entries.invalidate_all();
                }
            }
        } else {
            tracing::info!(
                from = seq,
                to = now,
                read = changes.len(),
                "session cache: changes missed, every local copy dropped"
            );
            self.drop_all();
        }
        let mut applied = self.applied.lock().expect("applied");
        applied.seq = now;
        applied.last_id = new_last;
        Ok(())
    }
}

/// The counter's and the stream's names.
pub fn names(redis: &Redis) -> (String, String) {
    (redis.key("changes:seq"), redis.key("changes"))
}

/// `(number, hex key)` pairs of a flat reply.
fn pairs(mut rest: impl Iterator<Item = String>) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while let (Some(n), Some(k)) = (rest.next(), rest.next()) {
        out.push((n.parse().unwrap_or(0), k));
    }
    out
}
