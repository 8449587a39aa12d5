//! The bound on concurrent password hashing: a few dedicated worker threads at
//! the lowest CPU priority, a short queue in front of them, then [`Busy`].
//!
//! A job carries its hashing slot with it: the slot is free again when the
//! job has run, or when a queued job finds that whoever asked for it has gone
//! (a client that closed the connection mid sign-in) and is dropped unrun. So
//! the slots count the work that is really queued or running, and abandoned
//! requests cost no hashing at all.
//!
//! A sign-in is also counted from its first read to its answer
//! ([`HashGate::admit`]): a burst of sign-ins beyond [`MIN_ADMITTED`] (or four
//! times the slots and the queue, if more) is refused before any database
//! read, since the gate could not take it anyway. Each sign-in in flight
//! holds its request, its futures and a read buffer (about 16 KiB); a
//! flood's opening burst of 256 connections held them all at once.
//!
//! An admitted sign-in hashes within a fraction of a millisecond: when the
//! gate is idle, admitting one wakes a hashing thread at once, which then
//! waits for the job by polling for up to [`SOON_SPIN`] instead of sleeping
//! (at idle priority it takes no time any other thread wants). Waking a
//! sleeping thread costs tens of microseconds on a virtual machine; the
//! job then finds its thread awake.
//!
//! A refusal is held about a second before it is answered (see
//! [`HashGate::hold_refusal`]). Inside [`HashGate::refusals_held_after`],
//! which the HTTP edge wraps around every request it serves, the hold
//! waits until the request's own work has ended and its futures and buffers
//! are freed: under a flood, hundreds of refusals wait at once, and each then
//! holds only its answer. Elsewhere the refusal waits where it was made.

use std::{
    cell::Cell,
    future::Future,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        mpsc::{Receiver, TryRecvError},
        Arc,
    },
    time::{Duration, Instant},
};

use thread_priority::ThreadPriority;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long, on average, a sign-in refused for want of a hashing slot waits
/// before its 503 (the `Retry-After: 1` it carries).
pub const BUSY_HOLD: Duration = Duration::from_secs(1);

/// At most this many refusals wait [`BUSY_HOLD`] at once; beyond, they are
/// answered at once (memory stays bounded whatever the number of connections).
pub const MAX_HELD: usize = 4096;

/// Sign-ins admitted at once ([`HashGate::admit`]), at the least.
pub const MIN_ADMITTED: usize = 64;

/// No hashing slot could be had in time: answer 503.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

tokio::task_local! {
    /// Set when a refusal of this task's request is to be held once the
    /// request has been answered (inside [`HashGate::refusals_held_after`]).
    static HOLD_AFTER: Cell<bool>;
}

/// How long a hashing thread woken for a sign-in about to hash polls for
/// its job before it sleeps again (see the module header).
pub const SOON_SPIN: Duration = Duration::from_micros(500);

/// What the gate sends its worker threads.
enum Work {
    /// A password-hashing job.
    Job(Box<dyn FnOnce() + Send>),
    /// A job is coming: poll for it (for up to [`SOON_SPIN`]).
    Soon,
}

/// A hashing thread: runs jobs until the gate is dropped. `primed` is
/// cleared when a thread woken by [`Work::Soon`] gets a job or stops polling.
fn worker(queue: &std::sync::Mutex<Receiver<Work>>, primed: &AtomicBool) {
    let mut poll_until = None;
    loop {
        let work = match queue.lock() {
            Ok(rx) => match poll_until.take() {
                Some(until) => poll(&rx, until, primed),
                None => rx.recv().ok(),
            },
            Err(_) => return,
        };
        match work {
            Some(Work::Job(job)) => job(),
            Some(Work::Soon) => poll_until = Some(polling_until()),
            None => return, // the gate is gone
        }
    }
}

/// When a thread woken now for a coming job stops polling for it.
fn polling_until() -> Instant {
    Instant::now() + SOON_SPIN
}

/// The next work, polled for until `until`, then waited for.
fn poll(rx: &Receiver<Work>, until: Instant, primed: &AtomicBool) -> Option<Work> {
    let work = loop {
        match rx.try_recv() {
            Ok(work) => break Some(work),
            Err(TryRecvError::Disconnected) => break None,
            Err(TryRecvError::Empty) if Instant::now() >= until => {
                primed.store(false, Ordering::Release);
                return rx.recv().ok();
            }
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    };
    primed.store(false, Ordering::Release);
    work
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

/// Bounds password hashing (see the module header). The threads are fixed, so
/// argon2's 19 MiB blocks are reused by the same allocator arenas instead of
/// piling up in new ones: memory stays bounded by the workers, not by the
/// number of attempts.
#[derive(Debug)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    workers: usize,
    /// Requests waiting for a slot.
    waiting: Room,
    /// Sign-ins from before their first read to their answer.
    admitted: Room,
    held: AtomicUsize,
    verifications: Arc<AtomicU64>,
    running: Arc<AtomicUsize>,
    /// A thread was woken for a coming job and has not had one yet.
    primed: Arc<AtomicBool>,
    jobs: std::sync::mpsc::Sender<Work>,
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
        let (jobs, queue) = std::sync::mpsc::channel::<Work>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        let primed = Arc::new(AtomicBool::new(false));
        for i in 0..workers {
            let (queue, primed) = (queue.clone(), primed.clone());
            std::thread::Builder::new()
                .name(format!("sesame-hash-{i}"))
                .spawn(move || {
                    lowest_cpu_priority();
                    worker(&queue, &primed)
                })
                .expect("spawning a hashing thread");
        }
        HashGate {
            slots: Arc::new(Semaphore::new(workers)),
            workers,
            waiting: Room::new(max_waiting),
            admitted: Room::new(MIN_ADMITTED.max(4 * (workers + max_waiting))),
            held: AtomicUsize::new(0),
            verifications: Arc::new(AtomicU64::new(0)),
            running: Arc::new(AtomicUsize::new(0)),
            primed,
            jobs,
        }
    }

    /// A hashing slot, waiting at most a few seconds and only if the queue has room.
    /// Without room, [`Busy`]: held first ([`Self::hold_refusal`]) unless the
    /// request runs inside [`Self::refusals_held_after`], which holds it once
    /// the request's work is over.
    async fn enter(&self) -> Result<OwnedSemaphorePermit, Busy> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        // Counted out again even if this future is dropped while waiting.
        let Some(_waiting) = self.waiting.take() else {
            return Err(self.refuse().await);
        };
        match tokio::time::timeout(Duration::from_secs(5), self.slots.clone().acquire_owned()).await
        {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// A place for one sign-in from before its first read to its answer:
    /// [`Busy`] once [`MIN_ADMITTED`] (or four times the slots and the queue,
    /// if more) are in flight, held like a refusal at the gate. The place is
    /// free again when the returned guard is dropped.
    ///
    /// On an idle gate, a hashing thread is woken for the sign-in's job (see
    /// the module header): one at a time.
    pub async fn admit(&self) -> Result<Admitted<'_>, Busy> {
        match self.admitted.take() {
            Some(place) => {
                if self.busy_slots() == 0 && !self.primed.swap(true, Ordering::AcqRel) {
                    let _ = self.jobs.send(Work::Soon);
                }
                Ok(Admitted { _place: place })
            }
            None => Err(self.refuse().await),
        }
    }

    /// A refusal: marked to be held once the request's work is over (inside
    /// [`Self::refusals_held_after`]), or held here.
    async fn refuse(&self) -> Busy {
        if HOLD_AFTER.try_with(|later| later.set(true)).is_err() {
            self.hold_refusal().await;
        }
        Busy
    }

    /// The wait of a refusal for want of a slot before it is answered (up to
    /// [`MAX_HELD`] at once; beyond, none): a client that ignores
    /// `Retry-After` and asks again at once gets one answer a second per
    /// connection instead of thousands, so a flood cannot turn cheap refusals
    /// into a CPU flood. Jittered (0.5 to 1.5 holds), so that a flood's
    /// connections do not come back in one wave.
    pub(crate) async fn hold_refusal(&self) {
        if self.held.fetch_add(1, Ordering::AcqRel) < MAX_HELD {
            let hold = BUSY_HOLD.mul_f64(0.5 + rand::random::<f64>());
            tokio::time::sleep(hold).await;
        }
        self.held.fetch_sub(1, Ordering::AcqRel);
    }

    /// Runs `request`; if a refusal for want of a slot was made while it ran,
    /// holds its answer afterwards ([`Self::hold_refusal`]), when the
    /// request's own futures are gone and only the answer is kept.
    pub(crate) async fn refusals_held_after<T>(&self, request: impl Future<Output = T>) -> T {
        let (out, refused) = HOLD_AFTER
            .scope(Cell::new(false), async {
                let out = request.await;
                (out, HOLD_AFTER.with(Cell::get))
            })
            .await;
        if refused {
            self.hold_refusal().await;
        }
        out
    }

    /// Runs `work` on a hashing thread once a slot is free. If the caller stops
    /// waiting (its future is dropped) before a thread takes the job, the job
    /// is dropped unrun and its slot freed.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let slot = self.enter().await?;
        let (done, result) = tokio::sync::oneshot::channel();
        let running = self.running.clone();
        let job = Work::Job(Box::new(move || {
            if done.is_closed() {
                return;
            }
            running.fetch_add(1, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            // Free before answering: once the caller has its result, the slot is back.
            drop(slot);
            let _ = done.send(result);
        }));
        self.jobs.send(job).map_err(|_| Busy)?;
        result.await.map_err(|_| Busy)
    }

    /// Runs a password verification (real or dummy) like [`Self::run`],
    /// counting it once it has run, whether or not its requester still waits.
    pub async fn verification<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let count = self.verifications.clone();
        self.run(move || {
            let result = work();
            count.fetch_add(1, Ordering::Relaxed);
            result
        })
        .await
    }

    /// Password verifications run so far (for tests and metrics).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Jobs a hashing thread is running now (for tests and metrics).
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Jobs queued or running now (slots taken).
    pub fn busy_slots(&self) -> usize {
        self.workers - self.slots.available_permits()
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.taken()
    }
}

/// A sign-in's place among those admitted ([`HashGate::admit`]), while it lives.
#[derive(Debug)]
pub struct Admitted<'a> {
    _place: Counted<'a>,
}

/// A bounded count of requests (the waiting room, the admitted sign-ins).
#[derive(Debug)]
struct Room {
    taken: AtomicUsize,
    size: usize,
}

impl Room {
    fn new(size: usize) -> Room {
        Room {
            taken: AtomicUsize::new(0),
            size,
        }
    }

    /// A place, counted while the guard lives; `None` when all are taken.
    fn take(&self) -> Option<Counted<'_>> {
        if self.taken.fetch_add(1, Ordering::AcqRel) >= self.size {
            self.taken.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Counted(&self.taken))
    }

    /// Places taken now.
    fn taken(&self) -> usize {
        self.taken.load(Ordering::Acquire)
    }
}

/// One request counted in a [`Room`] while it lives.
#[derive(Debug)]
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Starts a job that holds the worker until `release` is sent; returns
    /// once it runs.
    async fn occupy(
        gate: &Arc<HashGate>,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), Busy>>,
    ) {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (started, is_running) = tokio::sync::oneshot::channel();
        let gate = gate.clone();
        let job = tokio::spawn(async move {
            gate.run(move || {
                let _ = started.send(());
                let _ = blocked.recv();
            })
            .await
        });
        is_running.await.unwrap();
        (release, job)
    }

    /// Admitting a sign-in on an idle gate wakes one hashing thread for its
    /// job, which takes it while polling; a thread that got none sleeps
    /// again after [`SOON_SPIN`] and still takes jobs; a busy gate wakes none.
    #[tokio::test]
    async fn an_admitted_sign_in_wakes_a_hashing_thread_for_its_job() {
        let gate = Arc::new(HashGate::new(1, 4));
        let primed = || gate.primed.load(Ordering::Acquire);
        let first = gate.admit().await.unwrap();
        assert!(primed(), "admitted on an idle gate: a thread is woken");
        let second = gate.admit().await.unwrap();
        assert_eq!(gate.run(|| 1).await, Ok(1));
        assert!(!primed(), "the woken thread took the job");
        drop((first, second));

        // Polling, not waiting: the woken thread gives up SOON_SPIN after
        // it was woken at the earliest (a slow test only sees it later).
        let admitted = Instant::now();
        let third = gate.admit().await.unwrap();
        assert!(primed());
        let deadline = Instant::now() + Duration::from_secs(5);
        while primed() {
            assert!(
                Instant::now() < deadline,
                "the thread never stopped polling"
            );
            tokio::task::yield_now().await;
        }
        assert!(
            admitted.elapsed() >= SOON_SPIN,
            "stopped polling after {:?}",
            admitted.elapsed()
        );
        assert_eq!(gate.run(|| 2).await, Ok(2));
        drop(third);

        let (release, job) = occupy(&gate).await;
        let busy = gate.admit().await.unwrap();
        assert!(!primed(), "a busy gate wakes no thread");
        release.send(()).unwrap();
        job.await.unwrap().unwrap();
        drop(busy);
    }

    /// A woken thread polls until its deadline, however long no job comes,
    /// and takes the job that comes; past the deadline it waits for one.
    #[test]
    fn a_woken_thread_polls_until_its_deadline_then_waits() {
        let before = Instant::now();
        let until = polling_until();
        assert!(until > before && until <= Instant::now() + SOON_SPIN);

        let primed = Arc::new(AtomicBool::new(true));
        let (jobs, queue) = std::sync::mpsc::channel::<Work>();
        let job = || Work::Job(Box::new(|| ()));
        let took = |work: Option<Work>| matches!(work, Some(Work::Job(_)));
        let flag = primed.clone();
        let far = Instant::now() + Duration::from_secs(60);
        let polling = std::thread::spawn(move || (took(poll(&queue, far, &flag)), queue));
        // No job for a while: the thread still polls.
        std::thread::sleep(Duration::from_millis(50));
        assert!(primed.load(Ordering::Acquire), "stopped polling early");
        jobs.send(job()).unwrap();
        let (got, queue) = polling.join().unwrap();
        assert!(got && !primed.load(Ordering::Acquire));

        primed.store(true, Ordering::Release);
        let flag = primed.clone();
        let waiting = std::thread::spawn(move || took(poll(&queue, Instant::now(), &flag)));
        let deadline = Instant::now() + Duration::from_secs(5);
        while primed.load(Ordering::Acquire) {
            assert!(Instant::now() < deadline, "never stopped polling");
            std::thread::yield_now();
        }
        jobs.send(job()).unwrap();
        assert!(waiting.join().unwrap(), "the waiting thread took the job");
    }

    #[tokio::test]
    async fn gate_refuses_beyond_the_queue() {
        let gate = HashGate::new(1, 0);
        let held = gate.enter().await.unwrap();
        assert_eq!(gate.enter().await.unwrap_err(), Busy);
        drop(held);
        assert_eq!(gate.run(|| 6 * 7).await, Ok(42));
    }

    /// Outside [`HashGate::refusals_held_after`] a refusal waits where it is
    /// made, 0.5 to 1.5 holds.
    #[tokio::test(start_paused = true)]
    async fn a_refusal_outside_the_edge_waits_where_it_is_made() {
        let gate = HashGate::new(1, 0);
        let _slot = gate.enter().await.unwrap();
        let start = tokio::time::Instant::now();
        assert_eq!(gate.enter().await.unwrap_err(), Busy);
        let waited = start.elapsed();
        assert!(
            waited >= BUSY_HOLD / 2 && waited <= BUSY_HOLD * 3 / 2,
            "{waited:?}"
        );
    }

    /// Inside it, the refusal comes back at once, the request's work ends
    /// (what it held is dropped), and only then does the answer wait its hold.
    /// A request that was not refused is not held.
    #[tokio::test(start_paused = true)]
    async fn inside_the_edge_a_refusal_is_held_after_the_request_is_gone() {
        struct Dropped(std::sync::Arc<std::sync::Mutex<Option<tokio::time::Instant>>>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(tokio::time::Instant::now());
            }
        }
        let gate = HashGate::new(1, 0);
        let slot = gate.enter().await.unwrap();
        let start = tokio::time::Instant::now();
        let dropped = std::sync::Arc::new(std::sync::Mutex::new(None));
        let request = {
            let (gate, held) = (&gate, Dropped(dropped.clone()));
            async move {
                let refused = gate.enter().await.unwrap_err();
                let refused_after = start.elapsed();
                drop(held);
                (refused, refused_after)
            }
        };
        let (refused, refused_after) = gate.refusals_held_after(request).await;
        let answered_after = start.elapsed();
        assert_eq!(refused, Busy);
        assert_eq!(refused_after, Duration::ZERO, "refused at once");
        let gone = dropped.lock().unwrap().unwrap() - start;
        assert_eq!(
            gone,
            Duration::ZERO,
            "the request's work ended before the hold"
        );
        assert!(
            answered_after >= BUSY_HOLD / 2 && answered_after <= BUSY_HOLD * 3 / 2,
            "{answered_after:?}"
        );
        drop(slot);
        let start = tokio::time::Instant::now();
        let permit = gate.refusals_held_after(gate.enter()).await;
        assert!(permit.is_ok());
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "an admitted request is not held"
        );
    }

    /// Sign-ins are admitted up to the bound, at least [`MIN_ADMITTED`] and
    /// else four times the slots and the queue; one more is refused, at once
    /// inside the edge (its hold comes after) and held where it is made
    /// outside. A place dropped is free again.
    #[tokio::test(start_paused = true)]
    async fn sign_ins_beyond_the_admitted_are_refused_and_held() {
        assert_eq!(HashGate::new(1, 0).admitted.size, MIN_ADMITTED);
        assert_eq!(HashGate::new(3, 20).admitted.size, 92);
        let gate = HashGate::new(1, 0);
        let mut places = Vec::new();
        for _ in 0..MIN_ADMITTED {
            places.push(gate.admit().await.expect("room"));
        }
        assert_eq!(gate.admitted.taken(), MIN_ADMITTED);
        let start = tokio::time::Instant::now();
        let request = async {
            let refused = gate.admit().await.map(drop);
            (refused, start.elapsed())
        };
        let ((refused, refused_after), answered_after) =
            (gate.refusals_held_after(request).await, start.elapsed());
        assert_eq!(refused, Err(Busy));
        assert_eq!(refused_after, Duration::ZERO, "refused at once");
        assert!(
            answered_after >= BUSY_HOLD / 2 && answered_after <= BUSY_HOLD * 3 / 2,
            "held after: {answered_after:?}"
        );
        assert_eq!(
            gate.admitted.taken(),
            MIN_ADMITTED,
            "a refusal takes no place"
        );
        let start = tokio::time::Instant::now();
        assert_eq!(gate.admit().await.map(drop), Err(Busy));
        assert!(start.elapsed() >= BUSY_HOLD / 2, "outside: held in place");
        places.pop();
        let start = tokio::time::Instant::now();
        let place = gate.refusals_held_after(gate.admit()).await;
        assert!(place.is_ok(), "a freed place is taken again");
        assert_eq!(start.elapsed(), Duration::ZERO, "and not held");
        drop(place);
        drop(places);
        assert_eq!(gate.admitted.taken(), 0, "each counted out");
    }

    /// Lets the spawned tasks run until `done` holds, a bounded number of
    /// turns: a gate that never gets there fails the test instead of hanging it.
    async fn until(what: &str, done: impl Fn() -> bool) {
        for _ in 0..MAX_HELD * 8 {
            if done() {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("never happened: {what}");
    }

    /// At most [`MAX_HELD`] refusals wait at once; beyond, they are answered
    /// at once (what a flood holds stays bounded).
    #[tokio::test(start_paused = true)]
    async fn at_most_max_held_refusals_wait_at_once() {
        let gate = Arc::new(HashGate::new(1, 0));
        let mut holds = Vec::new();
        for _ in 0..MAX_HELD {
            let gate = gate.clone();
            holds.push(tokio::spawn(async move { gate.hold_refusal().await }));
        }
        until("all wait", || gate.held.load(Ordering::Acquire) >= MAX_HELD).await;
        assert_eq!(gate.held.load(Ordering::Acquire), MAX_HELD, "all wait");
        let start = tokio::time::Instant::now();
        gate.hold_refusal().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "one more is answered at once"
        );
        for hold in holds {
            hold.await.unwrap();
        }
        assert_eq!(
            gate.held.load(Ordering::Acquire),
            0,
            "each hold is counted out"
        );
        let start = tokio::time::Instant::now();
        gate.hold_refusal().await;
        assert!(start.elapsed() >= BUSY_HOLD / 2, "room again: held");
    }

    /// A job whose requester gave up while it was queued never runs, and its
    /// slot comes back. Before, the slot was freed at once but the job stayed
    /// queued and ran anyway.
    #[tokio::test]
    async fn abandoned_jobs_do_not_run_and_free_their_slot() {
        let gate = Arc::new(HashGate::new(1, 8));
        let ran = Arc::new(AtomicU64::new(0));
        let (release, first) = occupy(&gate).await;
        assert_eq!(gate.busy_slots(), 1);
        // Three requests queue up behind it, then their clients go away.
        let mut waiters = Vec::new();
        for _ in 0..3 {
            let (gate, ran) = (gate.clone(), ran.clone());
            waiters.push(tokio::spawn(async move {
                gate.run(move || ran.fetch_add(1, Ordering::Relaxed)).await
            }));
        }
        until("three wait", || gate.waiting() >= 3).await;
        for w in &waiters {
            w.abort();
        }
        for w in waiters {
            assert!(w.await.unwrap_err().is_cancelled());
        }
        assert_eq!(gate.waiting(), 0, "the waiting room counts them out");
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        // A new job runs: the worker is free again, and nothing abandoned ran.
        assert_eq!(gate.run(|| 1).await, Ok(1));
        assert_eq!(ran.load(Ordering::Relaxed), 0);
        assert_eq!(gate.busy_slots(), 0);
    }

    /// A requester that leaves while its job runs does not free the slot:
    /// the job holds it until it is done. Before, the slot came back at once,
    /// so the next request queued a second job behind the running one and the
    /// queue could grow past the workers.
    #[tokio::test]
    async fn the_slot_travels_with_the_job() {
        let gate = Arc::new(HashGate::new(1, 8));
        let (release, left) = occupy(&gate).await;
        left.abort();
        assert!(left.await.unwrap_err().is_cancelled());
        assert_eq!(gate.busy_slots(), 1, "the running job keeps its slot");
        let next = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| 3).await })
        };
        until("the next one waits", || gate.waiting() >= 1).await;
        release.send(()).unwrap();
        assert_eq!(next.await.unwrap(), Ok(3));
        assert_eq!(gate.busy_slots(), 0);
    }
}
