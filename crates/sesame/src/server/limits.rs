//! The per-IP rate limit on sign-in attempts (the per-account policy is
//! [`super::lockout`]; the client IP is [`super::client_ip`]; the bound on
//! hashing is [`super::hash_gate`]).
//!
//! governor's GCRA, whose check-and-consume is one atomic step: a burst of
//! parallel attempts can never get more than the quota evaluated. The counters
//! sit behind [`RateLimiter`] so several instances can share them in an
//! external store.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    clock::{Clock, MonotonicClock},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota,
};

use super::{client_ip::limit_key, config::Rate};

/// Counts attempts per key; `Err(wait)` when over the limit.
pub trait RateLimiter: Send + Sync + 'static {
    fn check(&self, key: &str) -> Result<(), Duration>;
    /// Forgets keys that are back to a full quota (bounds memory).
    fn shrink(&self) {}
}

/// governor's keyed limiter on the OS's monotonic clock (`std::time::Instant`),
/// whose waits are measured on that same clock.
type KeyedLimiter = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    MonotonicClock,
    NoOpMiddleware<<MonotonicClock as Clock>::Instant>,
>;

/// An in-process [`RateLimiter`] (one instance; see the README for several).
pub struct MemoryRateLimiter {
    limiter: KeyedLimiter,
}

impl MemoryRateLimiter {
    pub fn new(rate: Rate) -> Self {
        let burst = NonZeroU32::new(rate.count).expect("rates are validated above zero");
        let period = (rate.per / rate.count).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("a period above zero")
            .allow_burst(burst);
        MemoryRateLimiter {
            limiter: KeyedLimiter::new(quota, DefaultKeyedStateStore::default(), MonotonicClock),
        }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn check(&self, key: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The per-IP sign-in limit.
pub struct SignInLimits {
    pub per_ip: Box<dyn RateLimiter>,
    ipv6_prefix: u8,
}

/// Whole seconds to wait, at least one (for `Retry-After`).
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl SignInLimits {
    pub fn in_memory(per_ip: Rate, ipv6_prefix: u8) -> Self {
        SignInLimits {
            per_ip: Box::new(MemoryRateLimiter::new(per_ip)),
            ipv6_prefix,
        }
    }

    /// Counts one attempt from `ip` (IPv6 by network); `Err(seconds to wait)`
    /// when over.
    pub fn attempt(&self, ip: Option<IpAddr>) -> Result<(), u64> {
        let key = ip
            .map(|ip| limit_key(ip, self.ipv6_prefix))
            .unwrap_or_default();
        self.per_ip.check(&key).map_err(whole_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_the_burst_then_refuses() {
        let limiter = MemoryRateLimiter::new(Rate {
            count: 3,
            per: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check("b").is_ok(), "keys are separate");
    }

    #[test]
    fn one_ipv6_network_shares_one_quota() {
        let limits = SignInLimits::in_memory(
            Rate {
                count: 2,
                per: Duration::from_secs(60),
            },
            64,
        );
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(limits.attempt(ip("2001:db8:0:1::1")).is_ok());
        assert!(limits.attempt(ip("2001:db8:0:1::2")).is_ok());
        assert!(limits.attempt(ip("2001:db8:0:1:ffff::3")).is_err());
        assert!(limits.attempt(ip("2001:db8:0:2::1")).is_ok(), "another /64");
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
