//! The per-account failure policy, after NIST SP 800-63B §5.2.2 and OWASP's
//! device cookies (`limits.lockout`, see [`LockoutConfig`]).
//!
//! - Only failures count, and a success resets them. The first
//!   `free_failures` cost nothing; once they are used up the next attempt
//!   waits `first_wait`, and the wait doubles with each further failure up to
//!   `max_wait`. After `max_failures` in a
//!   row the account takes no attempt at all until a success from a trusted
//!   device resets it. While an account is locked every attempt is refused
//!   before any hashing, the right password included.
//! - A browser that has signed in to an account holds a device cookie for it
//!   (`sesame.device`, an HMAC of the account and a random nonce). Its
//!   attempts are counted on a counter of its own, by the same rules, so an
//!   attacker trickling wrong passwords locks the account for everyone but the
//!   owner's devices.
//! - Counters are keyed by a hash of the normalised identifier, whether or not
//!   an account has it, so existing and unknown accounts answer alike at every
//!   attempt. They live in a bounded cache (`tracked` entries, the least used
//!   evicted first): a flood of distinct identifiers cannot grow memory.
//!   Counters below the lock are forgotten `forget_after` their last attempt;
//!   one at the hard cap is kept until a reset. With `redis.url` the
//!   counters are Redis's, the same rules in one script per step, so
//!   attempts on every instance count together.
//! - Attempts in flight count: a burst of parallel attempts gets at most the
//!   free failures evaluated, then one at a time.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use http::HeaderValue;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::server::{config::LockoutConfig, defense::keys::Secrets, stores::users::Identifier};

/// Cookie label of the device MAC.
const DEVICE: &str = "device";
/// A device cookie lasts a year; each sign-in renews it.
const DEVICE_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// Refused: wait this long (a hard lock answers `max_wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// How long to wait.
    pub wait: Duration,
    /// At the hard cap: no attempt until a reset.
    pub hard: bool,
}

#[derive(Debug, Default)]
struct State {
    failures: u32,
    in_flight: u32,
    locked_until: Option<Instant>,
}

#[derive(Debug, Default)]
struct Counter {
    state: Mutex<State>,
    /// At the hard cap (read by the cache's expiry without the lock).
    capped: AtomicBool,
}

/// The numbers of the policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures that cost nothing.
    pub free: u32,
    /// The wait once they are used up.
    pub first_wait: Duration,
    /// The longest wait.
    pub max_wait: Duration,
    /// Failures in a row after which no attempt is taken.
    pub max_failures: u32,
}

impl Policy {
    /// The wait after the `failures`-th failure in a row: none while within
    /// the free ones, `first_wait` once they are used up, then doubling.
    pub fn wait_after(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free)?;
        let doubled = self
            .first_wait
            .checked_mul(1u32.checked_shl(over).unwrap_or(u32::MAX))
            .unwrap_or(self.max_wait);
        Some(doubled.min(self.max_wait))
    }

    fn check(&self, counter: &Counter, now: Instant) -> Result<(), Locked> {
        let mut s = counter.state.lock().expect("lockout state");
        if s.failures >= self.max_failures {
            return Err(Locked {
                wait: self.max_wait,
                hard: true,
            });
        }
        let free_slot = s.failures + s.in_flight < self.free;
        let waited = s.in_flight == 0 && s.locked_until.is_none_or(|t| now >= t);
        if free_slot || waited {
            s.in_flight += 1;
            return Ok(());
        }
        let wait = s
            .locked_until
            .map(|t| t.saturating_duration_since(now))
            .filter(|w| !w.is_zero())
            .unwrap_or(Duration::from_secs(1));
        Err(Locked { wait, hard: false })
    }

    /// Records a failure; the lock it starts, if any.
    fn fail(&self, counter: &Counter, now: Instant) -> Option<Locked> {
        let mut s = counter.state.lock().expect("lockout state");
        s.in_flight = s.in_flight.saturating_sub(1);
        s.failures = s.failures.saturating_add(1);
        if s.failures >= self.max_failures {
            counter.capped.store(true, Ordering::Release);
            return Some(Locked {
                wait: self.max_wait,
                hard: true,
            });
        }
        let wait = self.wait_after(s.failures)?;
        s.locked_until = Some(now + wait);
        Some(Locked { wait, hard: false })
    }
}

/// Which counter an attempt is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterKey {
    /// An account's (SHA-256 of the normalised identifier).
    Account([u8; 32]),
    /// A trusted device's (SHA-256 of its cookie's nonce).
    Device([u8; 32]),
}

/// The counters could not be reached (the cause, for the log).
#[derive(Debug, thiserror::Error)]
#[error("lockout counters: {0}")]
pub struct CounterError(pub String);

/// Where the failure counters live: in this process ([`MemoryCounters`]) or
/// in Redis, shared by every instance. Each step is atomic per counter.
#[async_trait]
pub trait FailureCounters: Send + Sync + 'static {
    /// Lets one attempt through (counting it in flight) or says how long to wait.
    async fn reserve(
        &self,
        key: CounterKey,
        policy: &Policy,
    ) -> Result<Result<(), Locked>, CounterError>;
    /// Records a failure of an attempt let through; the lock it starts.
    async fn fail(&self, key: CounterKey, policy: &Policy) -> Result<Option<Locked>, CounterError>;
    /// A success: the account's counter and the device's start over.
    async fn reset(&self, account: [u8; 32], device: Option<[u8; 32]>) -> Result<(), CounterError>;
    /// An attempt let through that ended without an outcome gives its place back.
    fn release(&self, key: CounterKey);
    /// How many counters are kept here (for tests and metrics).
    fn tracked(&self) -> u64 {
        0
    }
    /// Forgets expired counters.
    fn shrink(&self) {}
}

/// Counters below the hard cap are forgotten `forget_after` their last use.
struct Forget(Duration);

impl moka::Expiry<[u8; 32], Arc<Counter>> for Forget {
    fn expire_after_create(&self, _: &[u8; 32], v: &Arc<Counter>, _: Instant) -> Option<Duration> {
        self.after(v)
    }
    fn expire_after_read(
        &self,
        _: &[u8; 32],
        v: &Arc<Counter>,
        _: Instant,
        _: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        self.after(v)
    }
    fn expire_after_update(
        &self,
        _: &[u8; 32],
        v: &Arc<Counter>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.after(v)
    }
}

impl Forget {
    fn after(&self, counter: &Counter) -> Option<Duration> {
        (!counter.capped.load(Ordering::Acquire)).then_some(self.0)
    }
}

type Counters = Cache<[u8; 32], Arc<Counter>>;

/// The counters of one instance, in bounded caches.
pub struct MemoryCounters {
    accounts: Counters,
    devices: Counters,
}

fn counters(config: &LockoutConfig) -> Counters {
    Cache::builder()
        .max_capacity(config.tracked)
        .expire_after(Forget(config.forget_after))
        .build()
}

impl MemoryCounters {
    /// Counters bounded and forgotten as `config` says.
    pub fn new(config: &LockoutConfig) -> MemoryCounters {
        MemoryCounters {
            accounts: counters(config),
            devices: counters(config),
        }
    }

    fn cache(&self, key: CounterKey) -> (&Counters, [u8; 32]) {
        match key {
            CounterKey::Account(k) => (&self.accounts, k),
            CounterKey::Device(k) => (&self.devices, k),
        }
    }
}

#[async_trait]
impl FailureCounters for MemoryCounters {
    async fn reserve(
        &self,
        key: CounterKey,
        policy: &Policy,
    ) -> Result<Result<(), Locked>, CounterError> {
        let (cache, k) = self.cache(key);
        let counter = cache.get_with(k, Arc::default);
        Ok(policy.check(&counter, Instant::now()))
    }

    async fn fail(&self, key: CounterKey, policy: &Policy) -> Result<Option<Locked>, CounterError> {
        let (cache, k) = self.cache(key);
        let counter = cache.get_with(k, Arc::default);
        let lock = policy.fail(&counter, Instant::now());
        if lock.as_ref().is_some_and(|l| l.hard) {
            // Written again, so the cache asks its expiry again: a counter
            // at the hard cap is kept, not forgotten `forget_after` the
            // attempt that capped it.
            cache.insert(k, counter);
        }
        Ok(lock)
    }

    async fn reset(&self, account: [u8; 32], device: Option<[u8; 32]>) -> Result<(), CounterError> {
        self.accounts.invalidate(&account);
        if let Some(device) = &device {
            self.devices.invalidate(device);
        }
        Ok(())
    }

    fn release(&self, key: CounterKey) {
        let (cache, k) = self.cache(key);
        if let Some(counter) = cache.get(&k) {
            let mut s = counter.state.lock().expect("lockout state");
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }

    fn tracked(&self) -> u64 {
        self.accounts.run_pending_tasks();
        self.devices.run_pending_tasks();
        self.accounts.entry_count() + self.devices.entry_count()
    }

    fn shrink(&self) {
        self.accounts.run_pending_tasks();
        self.devices.run_pending_tasks();
    }
}

/// The failure policy of the instance (see the module header).
pub struct Lockout {
    policy: Policy,
    counters: Arc<dyn FailureCounters>,
    secrets: Arc<Secrets>,
    cookie_name: &'static str,
    secure: bool,
}

impl std::fmt::Debug for Lockout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockout")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Why an attempt was not let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The policy refuses it: wait.
    Locked(Locked),
    /// The shared counters did not answer.
    Unavailable,
}

/// One attempt let through: report how it ended. Dropped without a word
/// (the password check never ran: busy, a store error, a closed connection),
/// it counts as nothing.
#[must_use]
pub struct Attempt {
    policy: Policy,
    counters: Arc<dyn FailureCounters>,
    key: CounterKey,
    account: [u8; 32],
    device: Option<[u8; 32]>,
    done: bool,
}

impl Attempt {
    /// The credentials were wrong (or the account may not sign in): counted.
    /// Returns the lock this failure starts, if any.
    pub async fn failed(mut self) -> Option<Locked> {
        self.done = true;
        match self.counters.fail(self.key, &self.policy).await {
            Ok(lock) => lock,
            Err(cause) => {
                tracing::error!(%cause, "a failed sign-in could not be counted");
                None
            }
        }
    }

    /// Signed in: the account's and the device's counters start over.
    pub async fn succeeded(mut self) {
        self.done = true;
        if let Err(cause) = self.counters.reset(self.account, self.device).await {
            tracing::error!(%cause, "the failure counters could not be reset");
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.done {
            self.counters.release(self.key);
        }
    }
}

impl Lockout {
    /// The policy of `config`, counted in `counters`.
    pub fn new(
        config: &LockoutConfig,
        counters: Arc<dyn FailureCounters>,
        secrets: Arc<Secrets>,
        secure: bool,
    ) -> Self {
        Lockout {
            policy: Policy {
                free: config.free_failures,
                first_wait: config.first_wait,
                max_wait: config.max_wait,
                max_failures: config.max_failures,
            },
            counters,
            secrets,
            cookie_name: if secure {
                "__Host-sesame.device"
            } else {
                "sesame.device"
            },
            secure,
        }
    }

    /// The device cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        self.cookie_name
    }

    /// Lets one attempt on `account` through, or says why not. A valid
    /// `device_cookie` for this account charges the device instead.
    pub async fn check(
        &self,
        account: &Identifier,
        device_cookie: Option<&str>,
    ) -> Result<Attempt, Refused> {
        let account = *account.key();
        let device = device_cookie.and_then(|c| self.device_key(&account, c));
        let key = match device {
            Some(device) => CounterKey::Device(device),
            None => CounterKey::Account(account),
        };
        match self.counters.reserve(key, &self.policy).await {
            Ok(Ok(())) => Ok(Attempt {
                policy: self.policy,
                counters: self.counters.clone(),
                key,
                account,
                device,
                done: false,
            }),
            Ok(Err(locked)) => Err(Refused::Locked(locked)),
            Err(cause) => {
                tracing::error!(%cause, "the lockout counters did not answer");
                Err(Refused::Unavailable)
            }
        }
    }

    /// The counter key of a device cookie that is valid for `account`.
    fn device_key(&self, account: &[u8; 32], cookie: &str) -> Option<[u8; 32]> {
        let (nonce, tag) = cookie.split_once('.')?;
        if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let tag = hex::decode(tag).ok()?;
        self.secrets
            .verify(DEVICE, &[account, nonce.as_bytes()], &tag)
            .then(|| Sha256::digest(nonce.as_bytes()).into())
    }

    /// A new device cookie for `account`, to set on a successful sign-in.
    pub fn device_cookie(&self, account: &Identifier) -> HeaderValue {
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let tag = hex::encode(
            self.secrets
                .sign(DEVICE, &[account.key(), nonce.as_bytes()]),
        );
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{}={nonce}.{tag}; Path=/; Max-Age={DEVICE_MAX_AGE}; HttpOnly; SameSite=Lax{secure}",
            self.cookie_name
        ))
        .expect("the cookie is ASCII")
    }

    /// Clears `account`'s counter: its failures and any lock, hard or not
    /// (an administrator's unlock, a completed password reset).
    pub async fn clear(&self, account: &Identifier) -> Result<(), CounterError> {
        self.counters.reset(*account.key(), None).await
    }

    /// How many accounts and devices are tracked in this process now (for
    /// tests and metrics).
    pub fn tracked(&self) -> u64 {
        self.counters.tracked()
    }

    /// Forgets expired counters (the cleanup task calls it).
    pub fn shrink(&self) {
        self.counters.shrink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            free: 5,
            first_wait: Duration::from_secs(30),
            max_wait: Duration::from_secs(900),
            max_failures: 100,
        }
    }

    #[test]
    fn five_free_then_doubling_waits_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.wait_after(4), None);
        assert_eq!(p.wait_after(5), Some(Duration::from_secs(30)));
        assert_eq!(p.wait_after(6), Some(Duration::from_secs(60)));
        assert_eq!(p.wait_after(8), Some(Duration::from_secs(240)));
        assert_eq!(p.wait_after(9), Some(Duration::from_secs(480)));
        assert_eq!(p.wait_after(10), Some(Duration::from_secs(900)));
        assert_eq!(p.wait_after(99), Some(Duration::from_secs(900)));
    }

    #[test]
    fn failures_lock_and_waiting_out_the_lock_lets_one_through() {
        let p = policy();
        let c = Counter::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            p.check(&c, t0).unwrap();
            p.fail(&c, t0);
        }
        let locked = p.check(&c, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(locked.wait, Duration::from_secs(20));
        assert!(!locked.hard);
        let later = t0 + Duration::from_secs(30);
        p.check(&c, later).unwrap();
        assert!(
            p.check(&c, later).is_err(),
            "one at a time past the free ones"
        );
        assert_eq!(
            p.fail(&c, later),
            Some(Locked {
                wait: Duration::from_secs(60),
                hard: false
            })
        );
    }

    #[test]
    fn the_hard_cap_refuses_even_after_any_wait() {
        let p = Policy {
            max_failures: 8,
            ..policy()
        };
        let c = Counter::default();
        let mut now = Instant::now();
        for _ in 0..8 {
            p.check(&c, now).unwrap();
            p.fail(&c, now);
            now += Duration::from_secs(3600);
        }
        assert!(c.capped.load(Ordering::Acquire));
        assert_eq!(
            p.check(&c, now + Duration::from_secs(86_400 * 365)),
            Err(Locked {
                wait: Duration::from_secs(900),
                hard: true
            })
        );
    }

    #[test]
    fn a_parallel_burst_gets_only_the_free_attempts() {
        let p = policy();
        let c = Counter::default();
        let now = Instant::now();
        let admitted = (0..50).filter(|_| p.check(&c, now).is_ok()).count();
        assert_eq!(admitted, 5);
    }

    fn lockout(forget_after: Duration) -> Lockout {
        let config = LockoutConfig {
            free_failures: 3,
            first_wait: Duration::from_secs(30),
            max_wait: Duration::from_secs(900),
            max_failures: 3,
            forget_after,
            tracked: 1000,
        };
        let secrets = Arc::new(Secrets::new(vec![
            b"0123456789abcdef0123456789abcdef".to_vec()
        ]));
        Lockout::new(
            &config,
            Arc::new(MemoryCounters::new(&config)),
            secrets,
            false,
        )
    }

    fn id(s: &str) -> Identifier {
        Identifier::parse(s).unwrap()
    }

    /// The value of a `Set-Cookie` header.
    fn cookie_value(header: &HeaderValue) -> String {
        let pair = header.to_str().unwrap().split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_string()
    }

    #[tokio::test]
    async fn counters_below_the_cap_are_forgotten_and_capped_ones_kept() {
        let l = lockout(Duration::from_millis(300));
        // One failure (the counter is created), two (created, then read),
        // three (the hard cap).
        for (account, failures) in [("a@x.example", 1), ("b@x.example", 2), ("c@x.example", 3)] {
            for _ in 0..failures {
                l.check(&id(account), None).await.unwrap().failed().await;
            }
        }
        assert_eq!(l.tracked(), 3);
        // Wait (bounded) for the state: the two below the cap forgotten.
        let mut tracked = l.tracked();
        for _ in 0..300 {
            if tracked <= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            tracked = l.tracked();
        }
        assert_eq!(tracked, 1, "only the capped counter is kept");
        assert!(l.check(&id("a@x.example"), None).await.is_ok());
        assert!(matches!(
            l.check(&id("c@x.example"), None).await.err(),
            Some(Refused::Locked(Locked { hard: true, .. }))
        ));
    }

    #[tokio::test]
    async fn attempts_dropped_without_an_outcome_give_their_place_back() {
        let l = lockout(Duration::from_secs(60));
        // More than the free failures, each dropped (a busy gate, a client
        // that left): none counts.
        for _ in 0..10 {
            drop(l.check(&id("d@x.example"), None).await.unwrap());
        }
        assert!(l.check(&id("d@x.example"), None).await.is_ok());
    }

    #[tokio::test]
    async fn a_device_cookie_counts_only_for_its_account_and_only_when_signed() {
        let l = lockout(Duration::from_secs(60));
        let (a, b) = (id("a@x.example"), id("b@x.example"));
        let cookie = cookie_value(&l.device_cookie(&a));
        assert!(l.device_key(a.key(), &cookie).is_some());
        assert_eq!(l.device_key(b.key(), &cookie), None, "another account's");
        let (nonce, _) = cookie.split_once('.').unwrap();
        let forged = format!("{nonce}.{}", "00".repeat(32));
        assert_eq!(l.device_key(a.key(), &forged), None, "a forged tag");
        // The device's counter and the account's are two counters.
        l.check(&a, Some(&cookie)).await.unwrap().failed().await;
        l.check(&a, None).await.unwrap().failed().await;
        assert_eq!(l.tracked(), 2);
    }
}
