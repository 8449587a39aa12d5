//! The per-IP rate limit on sign-in attempts (the per-account policy is
//! [`crate::server::defense::lockout`]; the client IP is [`crate::server::defense::client_ip`]; the bound on
//! hashing is [`crate::server::defense::hash_gate`]).
//!
//! governor's GCRA, whose check-and-consume is one atomic step: a burst of
//! parallel attempts can never get more than the quota evaluated. The counters
//! sit behind [`RateLimiter`] so several instances can share them: with
//! `redis.url` they are Redis's (the same GCRA, in one script).

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use async_trait::async_trait;

use governor::{
    clock::{Clock, MonotonicClock},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota,
};

use crate::server::{config::Rate, defense::client_ip::limit_key};

/// Why a limiter did not let an attempt through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Over the limit: wait this long.
    Wait(Duration),
    /// The counters could not be reached (the cause, for the log).
    Unavailable(String),
}

/// Counts attempts per key; refuses them when over the limit.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one attempt on `key`; refuses it when over the limit.
    async fn check(&self, key: &str) -> Result<(), Refusal>;
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
    /// A limiter of `rate` per key.
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

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, key: &str) -> Result<(), Refusal> {
        self.limiter
            .check_key(&key.to_string())
            .map_err(|not_until| {
                Refusal::Wait(not_until.wait_time_from(self.limiter.clock().now()))
            })
    }

    fn shrink(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The per-IP sign-in limit.
pub struct SignInLimits {
    /// The per-IP counters.
    pub per_ip: Box<dyn RateLimiter>,
    ipv6_prefix: u8,
}

/// Whole seconds to wait, at least one (for `Retry-After`).
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// An attempt that was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Over the limit: wait this many seconds.
    Wait(u64),
    /// The shared counters did not answer.
    Unavailable,
}

impl Limited {
    /// How the request is answered.
    pub fn error(self) -> crate::wire::AuthError {
        match self {
            Limited::Wait(_) => crate::wire::AuthError::RateLimited,
            Limited::Unavailable => crate::wire::AuthError::ServiceUnavailable,
        }
    }

    /// The `Retry-After` seconds.
    pub fn retry_after(self) -> u64 {
        match self {
            Limited::Wait(seconds) => seconds,
            Limited::Unavailable => 1,
        }
    }
}

impl SignInLimits {
    /// The limit counted in this process.
    #[cfg(test)]
    pub fn in_memory(per_ip: Rate, ipv6_prefix: u8) -> Self {
        Self::new(Box::new(MemoryRateLimiter::new(per_ip)), ipv6_prefix)
    }

    /// The limit counted by `per_ip`.
    pub fn new(per_ip: Box<dyn RateLimiter>, ipv6_prefix: u8) -> Self {
        SignInLimits {
            per_ip,
            ipv6_prefix,
        }
    }

    /// Counts one attempt from `ip` (IPv6 by network).
    pub async fn attempt(&self, ip: Option<IpAddr>) -> Result<(), Limited> {
        let key = ip
            .map(|ip| limit_key(ip, self.ipv6_prefix))
            .unwrap_or_default();
        match self.per_ip.check(&key).await {
            Ok(()) => Ok(()),
            Err(Refusal::Wait(wait)) => Err(Limited::Wait(whole_seconds(wait))),
            Err(Refusal::Unavailable(cause)) => {
                tracing::error!(%cause, "the rate-limit counters did not answer");
                Err(Limited::Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_allows_the_burst_then_refuses() {
        let limiter = MemoryRateLimiter::new(Rate {
            count: 3,
            per: Duration::from_secs(60),
        });
        for _ in 0..3 {
            assert!(limiter.check("a").await.is_ok());
        }
        let Err(Refusal::Wait(wait)) = limiter.check("a").await else {
            panic!("over the limit")
        };
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(limiter.check("b").await.is_ok(), "keys are separate");
    }

    #[tokio::test]
    async fn one_ipv6_network_shares_one_quota() {
        let limits = SignInLimits::in_memory(
            Rate {
                count: 2,
                per: Duration::from_secs(60),
            },
            64,
        );
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(limits.attempt(ip("2001:db8:0:1::1")).await.is_ok());
        assert!(limits.attempt(ip("2001:db8:0:1::2")).await.is_ok());
        assert!(limits.attempt(ip("2001:db8:0:1:ffff::3")).await.is_err());
        assert!(
            limits.attempt(ip("2001:db8:0:2::1")).await.is_ok(),
            "another /64"
        );
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 1);
    }
}
