//! Abuse limits on sign-in: rate limits per client IP and per account, the
//! client IP itself (`X-Forwarded-For` only from trusted proxies), and the bound
//! on concurrent password hashing.
//!
//! Rate limits use governor's GCRA, whose check-and-consume is one atomic step:
//! a burst of parallel attempts can never get more than the quota evaluated. The
//! counters sit behind [`RateLimiter`] so several instances can share them in an
//! external store.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::atomic::{AtomicU64, AtomicUsize, Ordering},
    time::Duration,
};

use governor::{
    clock::{Clock, MonotonicClock},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota,
};
use http::HeaderMap;
use thread_priority::ThreadPriority;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::config::Rate;

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

/// The two sign-in limits.
pub struct SignInLimits {
    pub per_ip: Box<dyn RateLimiter>,
    pub per_account: Box<dyn RateLimiter>,
}

impl SignInLimits {
    pub fn in_memory(per_ip: Rate, per_account: Rate) -> Self {
        SignInLimits {
            per_ip: Box::new(MemoryRateLimiter::new(per_ip)),
            per_account: Box::new(MemoryRateLimiter::new(per_account)),
        }
    }

    /// Counts one attempt against both limits; `Err(seconds to wait)` when over.
    pub fn attempt(&self, ip: Option<IpAddr>, account: &str) -> Result<(), u64> {
        let ip_key = ip.map(|ip| ip.to_string()).unwrap_or_default();
        self.per_ip
            .check(&ip_key)
            .and_then(|_| self.per_account.check(&account.trim().to_lowercase()))
            .map_err(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
    }
}

/// The client IP: the socket's peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

/// How long, on average, a sign-in refused for want of a hashing slot waits
/// before its 503 (the `Retry-After: 1` it carries).
pub const BUSY_HOLD: Duration = Duration::from_secs(1);

/// At most this many refusals wait [`BUSY_HOLD`] at once; beyond, they are
/// answered at once (memory stays bounded whatever the number of connections).
pub const MAX_HELD: usize = 4096;

/// No hashing slot could be had in time: answer 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// A password-hashing job for the gate's worker threads.
type Job = Box<dyn FnOnce() + Send>;

/// A hashing thread: runs jobs until the gate is dropped.
fn worker(queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // the gate is gone
        }
    }
}

/// Under a flood of sign-ins, session checks and pages must still get the cores
/// first. On Linux the hashing threads run under `SCHED_IDLE`: any other thread
/// that wakes takes the core at once, where a nice-19 thread may keep it for the
/// rest of its time slice. Elsewhere they get the lowest priority there is.
fn lowest_cpu_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        if set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle).is_ok() {
            return;
        }
    }
    let _ = thread_priority::set_current_thread_priority(ThreadPriority::Min);
}

/// Bounds password hashing: a few dedicated worker threads, a short queue, then
/// [`Busy`]. The threads are fixed, so argon2's 19 MiB blocks are reused by the
/// same allocator arenas instead of piling up in new ones: memory stays bounded
/// by the workers, not by the number of attempts.
#[derive(Debug)]
pub struct HashGate {
    slots: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
    held: AtomicUsize,
    verifications: AtomicU64,
    jobs: std::sync::mpsc::Sender<Job>,
}

impl HashGate {
    /// `concurrency` 0 means one worker per core but one, so a flood of
    /// sign-ins always leaves a core to serve everything else.
    pub fn new(concurrency: usize, max_waiting: usize) -> Self {
        let workers = if concurrency == 0 {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1)
        } else {
            concurrency
        };
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..workers {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sesame-hash-{i}"))
                .spawn(move || {
                    lowest_cpu_priority();
                    worker(&queue)
                })
                .expect("spawning a hashing thread");
        }
        HashGate {
            slots: Semaphore::new(workers),
            waiting: AtomicUsize::new(0),
            max_waiting,
            held: AtomicUsize::new(0),
            verifications: AtomicU64::new(0),
            jobs,
        }
    }

    /// A hashing slot, waiting at most a few seconds and only if the queue has room.
    /// Without room, the refusal itself waits [`BUSY_HOLD`] before it is answered
    /// (up to [`MAX_HELD`] at once): a client that ignores `Retry-After` and asks
    /// again at once gets one answer a second per connection instead of thousands,
    /// so a flood cannot turn cheap refusals into a CPU flood. A held request holds
    /// no hashing memory, only its small buffers.
    async fn enter(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            if self.held.fetch_add(1, Ordering::AcqRel) < MAX_HELD {
                // Jittered (0.5 to 1.5 holds), so that a flood's connections do
                // not come back in one wave.
                let hold = BUSY_HOLD.mul_f64(0.5 + rand::random::<f64>());
                tokio::time::sleep(hold).await;
            }
            self.held.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let permit = tokio::time::timeout(Duration::from_secs(5), self.slots.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// Runs `work` on a hashing thread once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let _slot = self.enter().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
        });
        self.jobs.send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }

    /// Records one password verification (real or dummy).
    pub fn count_verification(&self) {
        self.verifications.fetch_add(1, Ordering::Relaxed);
    }

    /// Password verifications run so far (for tests and metrics).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
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
    fn forwarded_for_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let direct: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let trusted: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        assert_eq!(
            client_ip(Some(proxy), &headers, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(Some(direct), &headers, &trusted),
            Some("198.51.100.7".parse().unwrap()),
            "a spoofed header from an untrusted peer is ignored"
        );
        assert_eq!(
            client_ip(Some(proxy), &headers, &[]),
            Some("10.0.0.1".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn gate_refuses_beyond_the_queue() {
        let gate = HashGate::new(1, 0);
        let held = gate.enter().await.unwrap();
        assert_eq!(gate.enter().await.unwrap_err(), Busy);
        drop(held);
        assert_eq!(gate.run(|| 6 * 7).await, Ok(42));
    }
}
