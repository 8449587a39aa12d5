//! Copies of Redis's session entries kept in this process, served without
//! asking Redis, while revocation stays final at once on every instance: a
//! write to an entry returns only once every instance that may serve a
//! copy has dropped it.
//!
//! - Every write to the shared cache (a fill, a tombstone, a forget)
//!   appends the entry's key to a stream in the same Redis script, numbered
//!   by a counter (`<prefix>changes:seq`, `<prefix>changes`).
//! - Each instance that keeps copies reads the stream as it grows (`XREAD
//!   BLOCK` on a connection of its own), drops the copies it names, and
//!   records how far it got (`<prefix>changes:applied`), with a lease
//!   (`<prefix>changes:instances`, a score of Redis time + [`LEASE`])
//!   renewed on each turn of that loop, on the same connection. It serves
//!   copies only until its lease's end as it knows it ([`LEASE`] −
//!   [`MARGIN`] after it sent the renewal, so before Redis counts the lease
//!   as over).
//! - The writer, after its script, waits until every instance whose lease
//!   runs has applied its change (or lost its lease): only then does the
//!   sign-out, the revocation, the update return.
//! - A gap in the numbers (the stream trimmed past what an instance read, a
//!   counter ahead of the stream, a Redis that lost its data), a broken
//!   loop, or a lease renewed after it ran out drops every copy.
//! - A copy is only kept from a read that no applied change overtook (see
//!   [`LocalCopies::keep`]).
//!
//! Leases are timed by Redis's clock (`TIME`) and each instance's own
//! monotonic clock: a jump of Redis's clock forward by more than [`MARGIN`]
//! could end a lease early in Redis's eyes, the one assumption (as in any
//! lease) beyond Redis answering.
//!
//! Hand-made rather than redis-rs's client-side caching (`CLIENT
//! TRACKING`): tracking delivers invalidations to the reader, but tells no
//! writer when they were applied, which "final at once" needs.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, OnceLock, Weak,
    },
    time::{Duration, Instant},
};

use super::Redis;
use crate::server::session::store::{CacheError, Key, KeyHashing, Loaded};

/// How long an instance's lease runs after a renewal.
pub const LEASE: Duration = Duration::from_secs(2);

/// How much sooner than Redis an instance counts its lease as over.
pub const MARGIN: Duration = Duration::from_millis(500);

/// How long one read of the stream waits for a change.
const BLOCK: Duration = Duration::from_millis(250);

/// Changes kept in the stream.
const STREAM_LENGTH: u64 = 10_000;

/// Changes read in one turn at most.
const BATCH: u64 = 1_000;

/// Lua before a writing script's body: `changed()` appends the key to the
/// stream, numbered by the counter, and returns the number. Every writing
/// script's first keys are the counter and the stream, its first arguments
/// the key in hex and the stream's length (see [`LocalCopies::invocation`]).
const APPEND: &str = r"
local function changed()
  local n = redis.call('INCR', KEYS[1])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 's', n, 'k', ARGV[1])
  return n
end
";

/// A script that may record a change (`changed()` in `body`); its keys
/// start at `KEYS[3]`, its arguments at `ARGV[3]`.
pub fn writing_script(body: &str) -> redis::Script {
    redis::Script::new(&format!("{APPEND}{body}"))
}

/// KEYS: instances, applied, counter. ARGV: instance, applied, lease (ms).
/// Renews the lease and records how far the instance got. Returns the
/// counter, whether the old lease still ran, and the stream id to read
/// from when it starts (`0` unless ARGV[4] asks for it).
const RENEW: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
local ran = 0
if old and tonumber(old) > now then ran = 1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local n = tonumber(redis.call('GET', KEYS[3]) or '0')
return {n, ran}
";

/// KEYS: stream, counter. The stream's last id and the counter, read
/// together: where a starting instance begins.
const START: &str = r"
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if #last > 0 then id = last[1][1] end
return {id, redis.call('GET', KEYS[2]) or '0'}
";

/// KEYS: instances, applied. ARGV: change number. The instances whose
/// lease runs and that have not applied the change (the writing one too:
/// its own loop applies its change like any other's).
const BEHIND: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local applied = tonumber(redis.call('HGET', KEYS[2], id) or '0')
  if applied < tonumber(ARGV[1]) then out[#out + 1] = id end
end
return out
";

/// The Redis names the changes live under.
struct Names {
    /// The change counter.
    counter: String,
    /// The stream of changes.
    stream: String,
    instances: String,
    applied: String,
}

impl Names {
    /// The names under `redis`'s prefix.
    pub fn new(redis: &Redis) -> Names {
        Names {
            counter: redis.key("changes:seq"),
            stream: redis.key("changes"),
            instances: redis.key("changes:instances"),
            applied: redis.key("changes:applied"),
        }
    }
}

/// The local copies, the loop that keeps them in step, and the writers' wait.
pub struct LocalCopies {
    redis: Redis,
    names: Names,
    /// This instance's name in the leases.
    instance: String,
    entries: moka::sync::Cache<Key, Arc<Loaded>, KeyHashing>,
    /// Bumped before any copy is dropped: a read that saw it move while it
    /// was out does not keep its copy.
    epoch: AtomicU64,
    /// Nanoseconds after `born` until which copies may be served (0: not now).
    serve_until: AtomicU64,
    born: Instant,
    /// Set once the loop is started (at the first read that may keep a copy).
    started: OnceLock<()>,
    renew: redis::Script,
    start: redis::Script,
    behind: redis::Script,
}

impl LocalCopies {
    /// Copies of at most `capacity` entries, each kept at most `ttl`.
    pub fn new(redis: Redis, ttl: Duration, capacity: u64) -> Arc<LocalCopies> {
        Arc::new(LocalCopies {
            names: Names::new(&redis),
            redis,
            instance: hex::encode(rand::random::<[u8; 12]>()),
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl.max(Duration::from_millis(1)))
                .build_with_hasher(KeyHashing::default()),
            epoch: AtomicU64::new(0),
            serve_until: AtomicU64::new(0),
            born: Instant::now(),
            started: OnceLock::new(),
            renew: redis::Script::new(RENEW),
            start: redis::Script::new(START),
            behind: redis::Script::new(BEHIND),
        })
    }

    /// An invocation of a [`writing_script`] for the entry whose key is
    /// `hex`, with the keys and arguments its `changed()` uses; the
    /// script's own follow.
    pub fn invocation<'a>(
        &self,
        script: &'a redis::Script,
        hex: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        invocation
            .key(&self.names.counter)
            .key(&self.names.stream)
            .arg(hex)
            .arg(STREAM_LENGTH);
        invocation
    }

    /// The copy of `key`, if this process has one and its lease runs.
    pub fn get(self: &Arc<Self>, key: &Key) -> Option<Arc<Loaded>> {
        if self.started.get().is_none() {
            self.start_loop();
            return None;
        }
        if !self.serving() {
            return None;
        }
        self.entries.get(key)
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
        if self.epoch() != epoch || self.started.get().is_none() {
            return;
        }
        self.entries.insert(*key, loaded.clone());
        // Checked after the insert: a drop bumps the epoch before it
        // removes, so a drop this check misses removes the copy itself.
        if self.epoch() != epoch {
            self.entries.invalidate(key);
        }
    }

    /// Drops the copy of `key` at once (this process changed the entry; its
    /// loop applies the change too, and the writer waits for that).
    pub fn drop_copy(&self, key: &Key) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(key);
    }

    /// Waits until every instance whose lease runs (this one too) has applied change
    /// `number` (or its lease ran out): the change is then final everywhere.
    pub async fn settled(&self, number: u64) -> Result<(), CacheError> {
        // A lease runs at most LEASE past its last renewal, and an instance
        // renews only after it applied what it read: past this, something
        // is wrong with Redis itself.
        let deadline = Instant::now() + LEASE + Duration::from_secs(1);
        let names = &self.names;
        loop {
            let behind: Vec<String> = self
                .redis
                .run(|mut c| async move {
                    self.behind
                        .key(&names.instances)
                        .key(&names.applied)
                        .arg(number)
                        .invoke_async(&mut c)
                        .await
                })
                .await
                .map_err(CacheError)?;
            if behind.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(CacheError(format!(
                    "{} instance(s) did not apply a session change",
                    behind.len()
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    fn serving(&self) -> bool {
        let until = self.serve_until.load(Ordering::SeqCst);
        until != 0 && (self.born.elapsed().as_nanos() as u64) < until
    }

    fn stop_serving(&self) {
        self.serve_until.store(0, Ordering::SeqCst);
    }

    /// Drops every copy.
    fn drop_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// Starts the loop that reads the changes (once; not outside a runtime).
    fn start_loop(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.started.set(()).is_ok() {
            runtime.spawn(follow(Arc::downgrade(self)));
        }
    }
}

/// Where the loop is in the stream.
struct Position {
    /// The counter's value whose changes are applied.
    seq: u64,
    /// The id of the last stream entry read.
    last_id: String,
}

/// The loop: connects, then reads changes and renews the lease until the
/// copies are dropped; any failure stops serving and starts again.
async fn follow(copies: Weak<LocalCopies>) {
    loop {
        let Some(strong) = copies.upgrade() else {
            return;
        };
        if let Err(cause) = follow_once(&strong).await {
            strong.stop_serving();
            strong.drop_all();
            tracing::warn!(%cause, "session cache: following changes failed; copies dropped");
            drop(strong);
            tokio::time::sleep(Duration::from_millis(500)).await;
        } else {
            return;
        }
    }
}

/// One connection's worth of the loop: `Ok` when the copies are gone.
async fn follow_once(copies: &Arc<LocalCopies>) -> Result<(), String> {
    let mut connection = copies.redis.dedicated().await?;
    let names = &copies.names;
    let (last_id, counter): (String, String) = copies
        .redis
        .run(|mut c| async move {
            copies
                .start
                .key(&names.stream)
                .key(&names.counter)
                .invoke_async(&mut c)
                .await
        })
        .await?;
    // Nothing before this point is applied: no copy from before stands.
    copies.drop_all();
    let mut at = Position {
        seq: counter.parse().map_err(|_| "a counter that is no number")?,
        last_id,
    };
    loop {
        if Arc::strong_count(copies) == 1 {
            return Ok(());
        }
        let sent = Instant::now();
        // On the loop's own connection: a renewal that Redis holds (a
        // `CLIENT PAUSE` during a failover) stalls this loop, not the
        // requests behind it on the shared connection.
        let (counter, ran): (u64, i64) = tokio::time::timeout(
            copies.redis.timeout,
            copies
                .renew
                .key(&names.instances)
                .key(&names.applied)
                .key(&names.counter)
                .arg(&copies.instance)
                .arg(at.seq)
                .arg(LEASE.as_millis() as u64)
                .invoke_async(&mut connection),
        )
        .await
        .map_err(|_| "the lease renewal did not answer".to_string())?
        .map_err(|e| e.to_string())?;
        if ran == 0 {
            // Writers stopped waiting for this instance meanwhile.
            copies.drop_all();
        }
        if counter < at.seq {
            // Redis lost its data: start again from what it has now.
            return Err("the change counter went back".into());
        }
        let until = (sent - copies.born + LEASE - MARGIN).as_nanos() as u64;
        copies.serve_until.store(until, Ordering::SeqCst);

        let reply: redis::Value = tokio::time::timeout(
            BLOCK + copies.redis.timeout,
            redis::cmd("XREAD")
                .arg("COUNT")
                .arg(BATCH)
                .arg("BLOCK")
                .arg(BLOCK.as_millis() as u64)
                .arg("STREAMS")
                .arg(&names.stream)
                .arg(&at.last_id)
                .query_async(&mut connection),
        )
        .await
        .map_err(|_| "the stream did not answer".to_string())?
        .map_err(|e| e.to_string())?;
        let entries = entries_of(reply)?;
        let full = entries.len() as u64 >= BATCH;
        apply(copies, &mut at, entries);
        if !full && at.seq < counter {
            // Changes counted before this read that the stream no longer
            // holds (trimmed, or never written there).
            gap(copies, &mut at, counter);
        }
    }
}

/// Drops every copy and moves past the missed changes.
fn gap(copies: &LocalCopies, at: &mut Position, counter: u64) {
    tracing::info!(
        from = at.seq,
        to = counter,
        "session cache: changes missed, every local copy dropped"
    );
    copies.drop_all();
    at.seq = counter;
}

/// Applies the changes read: each drops its copy; one out of order drops all.
fn apply(copies: &LocalCopies, at: &mut Position, entries: Vec<(String, u64, String)>) {
    if entries.is_empty() {
        return;
    }
    copies.epoch.fetch_add(1, Ordering::SeqCst);
    for (id, number, hex) in entries {
        if number != at.seq + 1 {
            gap(copies, at, number);
        } else {
            let mut key = [0u8; 32];
            if hex::decode_to_slice(&hex, &mut key).is_ok() {
                copies.entries.invalidate(&key);
            } else {
                copies.drop_all();
            }
            at.seq = number;
        }
        at.last_id = id;
    }
}

/// The `(id, number, key in hex)` entries of an `XREAD` reply.
fn entries_of(reply: redis::Value) -> Result<Vec<(String, u64, String)>, String> {
    use redis::Value;
    let text = |v: &Value| match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    };
    let streams = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => streams,
        Value::Map(streams) => streams.into_iter().map(|(_, v)| v).collect(),
        other => return Err(format!("an XREAD reply of another shape: {other:?}")),
    };
    let mut out = Vec::new();
    for stream in streams {
        // RESP2: [name, entries]; a map's value: entries.
        let entries = match stream {
            Value::Array(mut parts) if parts.len() == 2 => parts.pop().unwrap_or(Value::Nil),
            other => other,
        };
        let Value::Array(entries) = entries else {
            continue;
        };
        for entry in entries {
            let Value::Array(parts) = entry else {
                return Err("a stream entry of another shape".into());
            };
            let (Some(id), Some(Value::Array(fields))) =
                (parts.first().and_then(text), parts.get(1))
            else {
                return Err("a stream entry of another shape".into());
            };
            let fields: Vec<String> = fields.iter().filter_map(text).collect();
            let field = |name: &str| {
                fields
                    .chunks(2)
                    .find(|pair| pair.first().map(String::as_str) == Some(name))
                    .and_then(|pair| pair.get(1).cloned())
            };
            let number = field("s")
                .and_then(|n| n.parse().ok())
                .ok_or("a change without its number")?;
            out.push((id, number, field("k").unwrap_or_default()));
        }
    }
    Ok(out)
}
