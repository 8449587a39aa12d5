//! What the instance knows of its backends (database, Redis): which were
//! down at the last look, and looks that are numbered and rate-bounded.
//!
//! - Looks that requests cause (a backend failure, `/ready`) start at most
//!   once a second; within that second the last look's answer stands. Every
//!   look is numbered when it starts, and a look's result never replaces
//!   that of a look that started later.
//! - A pool whose connections are all in use is busy, not down (see
//!   [`Database::ping`](crate::server::stores::db::Database::ping)).
//!
//! The HTTP side (`/health`, `/ready`, the 503 while a backend is down) is
//! the HTTP edge's `availability` module.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, RwLock,
    },
    time::{Duration, Instant},
};

use crate::server::stores::{Backends, Dependency};

/// How long one backend may take to answer a check.
const CHECK_WITHIN: Duration = Duration::from_secs(1);

/// How often looks caused by requests may start.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// What the instance knows of its backends.
#[derive(Debug, Default)]
pub struct Health {
    /// The backends down at the last look, and why, with the number of
    /// the look that found it.
    down: RwLock<(u64, Vec<(Dependency, String)>)>,
    /// The number of the next look.
    looks: AtomicU64,
    /// When the last look caused by a request started.
    last_request_look: Mutex<Option<Instant>>,
}

impl Health {
    /// The backends down at the last look.
    pub fn down(&self) -> Vec<(Dependency, String)> {
        self.down.read().map(|d| d.1.clone()).unwrap_or_default()
    }

    /// Whether every backend was up at the last look.
    pub fn all_up(&self) -> bool {
        self.down.read().is_ok_and(|d| d.1.is_empty())
    }

    /// Claims the right to start a look caused by a request: at most one
    /// a second.
    fn claim_request_look(&self, now: Instant) -> bool {
        let Ok(mut last) = self.last_request_look.lock() else {
            return false;
        };
        if last.is_some_and(|t| now.duration_since(t) < LOOK_EVERY) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Records what look number `look` found, unless a later look's
    /// result is there already.
    fn set(&self, look: u64, down: Vec<(Dependency, String)>) {
        if let Ok(mut current) = self.down.write() {
            if current.0 > look {
                return;
            }
            let was: Vec<Dependency> = current.1.iter().map(|(d, _)| *d).collect();
            let now: Vec<Dependency> = down.iter().map(|(d, _)| *d).collect();
            if was != now {
                if now.is_empty() {
                    tracing::info!("every backend answers again");
                } else {
                    for (dependency, cause) in &down {
                        tracing::error!(backend = dependency.name(), %cause, "backend down");
                    }
                }
            }
            *current = (look, down);
        }
    }

    /// Asks every backend now and records the ones down; every answer.
    pub async fn check(&self, backends: &Backends) -> Vec<(Dependency, Result<(), String>)> {
        let look = self.looks.fetch_add(1, Ordering::Relaxed) + 1;
        let checks = backends.check(CHECK_WITHIN).await;
        self.set(
            look,
            checks
                .iter()
                .filter_map(|(dependency, result)| {
                    result
                        .as_ref()
                        .err()
                        .map(|cause| (*dependency, cause.clone()))
                })
                .collect(),
        );
        checks
    }

    /// Looks at every backend now; the ones down.
    pub async fn look(&self, backends: &Backends) -> Vec<(Dependency, String)> {
        self.check(backends).await;
        self.down()
    }

    /// Looks at the backends if no look caused by a request started within
    /// the last second; the ones down (at the last look, if none was started
    /// now).
    pub async fn look_at_most_every_second(
        &self,
        backends: &Backends,
    ) -> Vec<(Dependency, String)> {
        if self.claim_request_look(Instant::now()) {
            self.check(backends).await;
        }
        self.down()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Vec<(Dependency, String)> {
        vec![(Dependency::Database, "no answer".into())]
    }

    #[test]
    fn a_looks_result_never_replaces_a_later_looks() {
        let health = Health::default();
        health.set(2, Vec::new());
        health.set(1, down());
        assert!(health.down().is_empty(), "look 1 started before look 2");
        health.set(3, down());
        assert_eq!(health.down().len(), 1);
        health.set(3, Vec::new());
        assert!(
            health.down().is_empty(),
            "the same look may finish its record"
        );
    }

    #[test]
    fn looks_caused_by_requests_start_at_most_once_a_second() {
        let health = Health::default();
        let t0 = Instant::now();
        assert!(health.claim_request_look(t0));
        assert!(!health.claim_request_look(t0 + Duration::from_millis(999)));
        assert!(health.claim_request_look(t0 + LOOK_EVERY));
        assert!(!health.claim_request_look(t0 + LOOK_EVERY));
    }
}
