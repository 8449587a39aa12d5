//! The lockout's failure counters in Redis: one hash per account or device
//! (`f` failures, `i` attempts in flight, `u` locked until, `t` last attempt;
//! milliseconds on the server's clock), read and written by one script per
//! step, with the rules of [`Policy`]. A counter below the hard cap expires
//! `forget_after` its last attempt; one at the cap is kept until a success,
//! a completed password reset or an administrator's unlock.
//!
//! What Redis holds is bounded as in memory (`limits.lockout.tracked`): an
//! index per kind (a sorted set of counter keys by last use) is updated by
//! the same script, and when it holds more than `tracked` counters the
//! least recently used are deleted with their entries. A flood of distinct
//! identifiers therefore keeps at most `tracked` counters of each kind
//! (accounts, devices) in Redis, never filling it (with `noeviction` Redis
//! would refuse writes; with an LRU policy it would evict counters at
//! random).

use std::time::Duration;

use async_trait::async_trait;

use super::Redis;
use crate::server::defense::lockout::{CounterError, CounterKey, FailureCounters, Locked, Policy};

/// Attempts in flight older than this are from an instance that stopped
/// before reporting them: they no longer hold a place.
const IN_FLIGHT_MS: u64 = 60_000;

/// A Lua function the scripts that write a counter start with:
/// `track(now, tracked)` records KEYS[1] as used `now` in the index KEYS[2]
/// and deletes the least recently used counters beyond `tracked`.
pub(super) const TRACK: &str = r"
local function track(now, tracked)
  redis.call('ZADD', KEYS[2], now, KEYS[1])
  local over = redis.call('ZCARD', KEYS[2]) - tonumber(tracked)
  if over > 0 then
    local old = redis.call('ZPOPMIN', KEYS[2], over)
    for j = 1, #old, 2 do
      if old[j] ~= KEYS[1] then redis.call('DEL', old[j]) end
    end
  end
end
";

/// KEYS[1]: the counter, KEYS[2]: its index. ARGV: free, max_failures,
/// forget (ms), stale (ms), tracked. Returns {0} (let through), {1, wait ms}
/// or {2, 0} (the hard cap).
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'f', 'i', 'u', 't')
local f = tonumber(h[1] or 0)
local i = tonumber(h[2] or 0)
local u = tonumber(h[3] or 0)
local last = tonumber(h[4] or 0)
if i > 0 and now - last > tonumber(ARGV[4]) then i = 0 end
if f >= tonumber(ARGV[2]) then return {2, 0} end
if f + i < tonumber(ARGV[1]) or (i == 0 and now >= u) then
  redis.call('HSET', KEYS[1], 'f', f, 'i', i + 1, 'u', u, 't', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  track(now, ARGV[5])
  return {0, 0}
end
local wait = u - now
if wait <= 0 then wait = 1000 end
return {1, wait}
";

/// KEYS[1]: the counter, KEYS[2]: its index. ARGV: free, max_failures,
/// forget, first wait, max wait (ms), tracked. Returns {0} (no lock),
/// {1, wait ms} or {2, 0} (the hard cap).
const FAIL: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'f', 'i')
local f = tonumber(h[1] or 0) + 1
local i = tonumber(h[2] or 0) - 1
if i < 0 then i = 0 end
track(now, ARGV[6])
if f >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'f', f, 'i', i)
  redis.call('PERSIST', KEYS[1])
  return {2, 0}
end
local over = f - tonumber(ARGV[1])
if over < 0 then
  redis.call('HSET', KEYS[1], 'f', f, 'i', i)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {0, 0}
end
local wait = tonumber(ARGV[5])
if over < 40 then wait = math.min(tonumber(ARGV[4]) * 2 ^ over, wait) end
redis.call('HSET', KEYS[1], 'f', f, 'i', i, 'u', now + wait)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, wait}
";

/// KEYS[1]: the counter. Gives an attempt's place back.
const RELEASE: &str = r"
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or 0)
if i > 0 then redis.call('HSET', KEYS[1], 'i', i - 1) end
return 0
";

/// [`FailureCounters`] every instance shares.
pub struct RedisCounters {
    redis: Redis,
    forget_ms: u64,
    tracked: u64,
    reserve: redis::Script,
    fail: redis::Script,
    release: redis::Script,
}

impl RedisCounters {
    /// Counters below the cap forgotten `forget_after` their last attempt;
    /// at most `tracked` counters of each kind kept.
    pub fn new(redis: Redis, forget_after: Duration, tracked: u64) -> RedisCounters {
        RedisCounters {
            redis,
            forget_ms: forget_after.as_millis().max(1) as u64,
            tracked: tracked.max(1),
            reserve: redis::Script::new(&format!("{TRACK}{RESERVE}")),
            fail: redis::Script::new(&format!("{TRACK}{FAIL}")),
            release: redis::Script::new(RELEASE),
        }
    }

    fn key(&self, key: CounterKey) -> String {
        match key {
            CounterKey::Account(k) => self.redis.key(&format!("lockout:a:{}", hex::encode(k))),
            CounterKey::Device(k) => self.redis.key(&format!("lockout:d:{}", hex::encode(k))),
        }
    }

    /// The index of the counters of `key`'s kind.
    fn index(&self, key: CounterKey) -> String {
        match key {
            CounterKey::Account(_) => self.redis.key("lockout:index:a"),
            CounterKey::Device(_) => self.redis.key("lockout:index:d"),
        }
    }
}

/// Reads a script's `{code, wait ms}` answer.
fn lock_of(answer: (u8, u64), policy: &Policy) -> Option<Locked> {
    match answer {
        (2, _) => Some(Locked {
            wait: policy.max_wait,
            hard: true,
        }),
        (1, wait) => Some(Locked {
            wait: Duration::from_millis(wait),
            hard: false,
        }),
        _ => None,
    }
}

#[async_trait]
impl FailureCounters for RedisCounters {
    async fn reserve(
        &self,
        key: CounterKey,
        policy: &Policy,
    ) -> Result<Result<(), Locked>, CounterError> {
        let (index, key) = (self.index(key), self.key(key));
        let answer: (u8, u64) = self
            .redis
            .run(|mut c| async move {
                self.reserve
                    .key(key)
                    .key(index)
                    .arg(policy.free)
                    .arg(policy.max_failures)
                    .arg(self.forget_ms)
                    .arg(IN_FLIGHT_MS)
                    .arg(self.tracked)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(CounterError)?;
        Ok(match lock_of(answer, policy) {
            Some(lock) => Err(lock),
            None => Ok(()),
        })
    }

    async fn fail(&self, key: CounterKey, policy: &Policy) -> Result<Option<Locked>, CounterError> {
        let (index, key) = (self.index(key), self.key(key));
        let answer: (u8, u64) = self
            .redis
            .run(|mut c| async move {
                self.fail
                    .key(key)
                    .key(index)
                    .arg(policy.free)
                    .arg(policy.max_failures)
                    .arg(self.forget_ms)
                    .arg(policy.first_wait.as_millis() as u64)
                    .arg(policy.max_wait.as_millis() as u64)
                    .arg(self.tracked)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(CounterError)?;
        Ok(lock_of(answer, policy))
    }

    async fn reset(&self, account: [u8; 32], device: Option<[u8; 32]>) -> Result<(), CounterError> {
        let account = CounterKey::Account(account);
        let mut keys = vec![(self.index(account), self.key(account))];
        keys.extend(device.map(|d| {
            let device = CounterKey::Device(d);
            (self.index(device), self.key(device))
        }));
        self.redis
            .run(|mut c| async move {
                let mut pipe = redis::pipe();
                pipe.atomic();
                for (index, key) in &keys {
                    pipe.cmd("DEL").arg(key).ignore();
                    pipe.cmd("ZREM").arg(index).arg(key).ignore();
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await
            .map_err(CounterError)
    }

    fn release(&self, key: CounterKey) {
        let key = self.key(key);
        let redis = self.redis.clone();
        let script = self.release.clone();
        // Called from `Drop`: the place is given back in the background (an
        // instance that stops first leaves it to expire, see `IN_FLIGHT_MS`).
        tokio::spawn(async move {
            let released = redis
                .run(|mut c| async move { script.key(key).invoke_async::<i64>(&mut c).await })
                .await;
            if let Err(cause) = released {
                tracing::warn!(%cause, "an attempt's place could not be given back");
            }
        });
    }
}
