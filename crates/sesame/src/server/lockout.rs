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
//!   one at the hard cap is kept until a reset.
//! - Attempts in flight count: a burst of parallel attempts gets at most the
//!   free failures evaluated, then one at a time.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use http::HeaderValue;
use moka::sync::Cache;
use sha2::{Digest, Sha256};

use super::{config::LockoutConfig, keys::Secrets, users::Identifier};

/// Cookie label of the device MAC.
const DEVICE: &str = "device";
/// A device cookie lasts a year; each sign-in renews it.
const DEVICE_MAX_AGE: u64 = 365 * 24 * 60 * 60;

/// Refused: wait this long (a hard lock answers `max_wait`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
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
struct Policy {
    free: u32,
    first_wait: Duration,
    max_wait: Duration,
    max_failures: u32,
}

impl Policy {
    /// The wait after the `failures`-th failure in a row: none while within
    /// the free ones, `first_wait` once they are used up, then doubling.
    fn wait_after(&self, failures: u32) -> Option<Duration> {
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

/// The failure policy of one instance (see the module header).
pub struct Lockout {
    policy: Policy,
    accounts: Counters,
    devices: Counters,
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

/// One attempt let through: report how it ended. Dropped without a word
/// (the password check never ran: busy, a store error, a closed connection),
/// it counts as nothing.
#[must_use]
pub struct Attempt {
    policy: Policy,
    counter: Arc<Counter>,
    account: [u8; 32],
    device: Option<[u8; 32]>,
    accounts: Counters,
    devices: Counters,
    done: bool,
}

impl Attempt {
    /// The credentials were wrong (or the account may not sign in): counted.
    /// Returns the lock this failure starts, if any.
    pub fn failed(mut self) -> Option<Locked> {
        self.done = true;
        let lock = self.policy.fail(&self.counter, Instant::now());
        if lock.as_ref().is_some_and(|l| l.hard) {
            // Written again, so the cache asks its expiry again: a counter
            // at the hard cap is kept, not forgotten `forget_after` the
            // attempt that capped it.
            match self.device {
                Some(device) => self.devices.insert(device, self.counter.clone()),
                None => self.accounts.insert(self.account, self.counter.clone()),
            }
        }
        lock
    }

    /// Signed in: the account's and the device's counters start over.
    pub fn succeeded(mut self) {
        self.done = true;
        self.accounts.invalidate(&self.account);
        if let Some(device) = &self.device {
            self.devices.invalidate(device);
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.done {
            let mut s = self.counter.state.lock().expect("lockout state");
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }
}

fn counters(config: &LockoutConfig) -> Counters {
    Cache::builder()
        .max_capacity(config.tracked)
        .expire_after(Forget(config.forget_after))
        .build()
}

impl Lockout {
    pub fn new(config: &LockoutConfig, secrets: Arc<Secrets>, secure: bool) -> Self {
        Lockout {
            policy: Policy {
                free: config.free_failures,
                first_wait: config.first_wait,
                max_wait: config.max_wait,
                max_failures: config.max_failures,
            },
            accounts: counters(config),
            devices: counters(config),
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

    fn counter(cache: &Counters, key: [u8; 32]) -> Arc<Counter> {
        cache.get_with(key, Arc::default)
    }

    /// Lets one attempt on `account` through, or says how long to wait. A valid
    /// `device_cookie` for this account charges the device instead.
    pub fn check(
        &self,
        account: &Identifier,
        device_cookie: Option<&str>,
    ) -> Result<Attempt, Locked> {
        let key = *account.key();
        let device = device_cookie.and_then(|c| self.device_key(&key, c));
        let counter = match device {
            Some(device) => Self::counter(&self.devices, device),
            None => Self::counter(&self.accounts, key),
        };
        self.policy.check(&counter, Instant::now())?;
        Ok(Attempt {
            policy: self.policy,
            counter,
            account: key,
            device,
            accounts: self.accounts.clone(),
            devices: self.devices.clone(),
            done: false,
        })
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

    /// How many accounts and devices are tracked now (for tests and metrics).
    pub fn tracked(&self) -> u64 {
        self.accounts.run_pending_tasks();
        self.devices.run_pending_tasks();
        self.accounts.entry_count() + self.devices.entry_count()
    }

    /// Forgets expired counters (the cleanup task calls it).
    pub fn shrink(&self) {
        self.accounts.run_pending_tasks();
        self.devices.run_pending_tasks();
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
        Lockout::new(&config, secrets, false)
    }

    fn id(s: &str) -> Identifier {
        Identifier::parse(s).unwrap()
    }

    /// The value of a `Set-Cookie` header.
    fn cookie_value(header: &HeaderValue) -> String {
        let pair = header.to_str().unwrap().split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_string()
    }

    #[test]
    fn counters_below_the_cap_are_forgotten_and_capped_ones_kept() {
        let l = lockout(Duration::from_millis(300));
        // One failure (the counter is created), two (created, then read),
        // three (the hard cap).
        for (account, failures) in [("a@x.example", 1), ("b@x.example", 2), ("c@x.example", 3)] {
            for _ in 0..failures {
                l.check(&id(account), None).unwrap().failed();
            }
        }
        assert_eq!(l.tracked(), 3);
        // Wait (bounded) for the state: the two below the cap forgotten.
        let mut tracked = l.tracked();
        for _ in 0..300 {
            if tracked <= 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            tracked = l.tracked();
        }
        assert_eq!(tracked, 1, "only the capped counter is kept");
        assert!(l.check(&id("a@x.example"), None).is_ok());
        assert!(
            l.check(&id("c@x.example"), None)
                .err()
                .expect("locked")
                .hard
        );
    }

    #[test]
    fn attempts_dropped_without_an_outcome_give_their_place_back() {
        let l = lockout(Duration::from_secs(60));
        // More than the free failures, each dropped (a busy gate, a client
        // that left): none counts.
        for _ in 0..10 {
            drop(l.check(&id("d@x.example"), None).unwrap());
        }
        assert!(l.check(&id("d@x.example"), None).is_ok());
    }

    #[test]
    fn a_device_cookie_counts_only_for_its_account_and_only_when_signed() {
        let l = lockout(Duration::from_secs(60));
        let (a, b) = (id("a@x.example"), id("b@x.example"));
        let cookie = cookie_value(&l.device_cookie(&a));
        assert!(l.device_key(a.key(), &cookie).is_some());
        assert_eq!(l.device_key(b.key(), &cookie), None, "another account's");
        let (nonce, _) = cookie.split_once('.').unwrap();
        let forged = format!("{nonce}.{}", "00".repeat(32));
        assert_eq!(l.device_key(a.key(), &forged), None, "a forged tag");
        // The device's counter and the account's are two counters.
        l.check(&a, Some(&cookie)).unwrap().failed();
        l.check(&a, None).unwrap().failed();
        assert_eq!(l.tracked(), 2);
    }
}
