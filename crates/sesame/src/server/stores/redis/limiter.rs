//! The per-IP limit (and the budgets) in Redis: the GCRA governor runs in
//! memory (a "theoretical arrival time" per key), as one Lua script on the
//! server's clock. Every key expires once its quota is full again, and at
//! most `limits.tracked_keys` keys per limiter are kept (an index by last
//! use, as the lockout counters keep): a flood of distinct addresses or
//! IPv6 networks cannot fill Redis.

use async_trait::async_trait;

use super::{counters::TRACK, Redis};
use crate::server::{
    config::Rate,
    defense::limits::{RateLimiter, Refusal},
};

/// KEYS[1]: the key, KEYS[2]: the limiter's index. ARGV: emission interval
/// and burst tolerance (µs), keys kept. Returns 0 (let through) or the wait
/// in µs.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat + interval - tolerance
if allow_at > now then return allow_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000))
track(now, ARGV[3])
return 0
";

/// A [`RateLimiter`] whose counters every instance shares.
pub struct RedisRateLimiter {
    redis: Redis,
    script: redis::Script,
    name: String,
    interval_us: u64,
    tolerance_us: u64,
    tracked: u64,
}

impl RedisRateLimiter {
    /// `rate` per key, under keys `<prefix><name>:<key>`, at most `tracked`
    /// keys kept.
    pub fn new(redis: Redis, name: &str, rate: Rate, tracked: u64) -> RedisRateLimiter {
        let interval_us = ((rate.per.as_micros() / u128::from(rate.count.max(1))) as u64).max(1);
        RedisRateLimiter {
            redis,
            script: redis::Script::new(&format!("{TRACK}{GCRA}")),
            tracked: tracked.max(1),
            name: name.to_string(),
            interval_us,
            // A burst of `count`: the first waits nothing, the count-th
            // `(count - 1)` intervals ahead.
            tolerance_us: interval_us * u64::from(rate.count),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(&self, key: &str) -> Result<(), Refusal> {
        let key = self.redis.key(&format!("{}:{key}", self.name));
        let index = self.redis.key(&format!("{}:index", self.name));
        let wait_us: u64 = self
            .redis
            .run(|mut c| async move {
                self.script
                    .key(key)
                    .key(index)
                    .arg(self.interval_us)
                    .arg(self.tolerance_us)
                    .arg(self.tracked)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(Refusal::Unavailable)?;
        if wait_us == 0 {
            Ok(())
        } else {
            Err(Refusal::Wait(std::time::Duration::from_micros(wait_us)))
        }
    }
}
