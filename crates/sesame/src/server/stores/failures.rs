//! Which request saw a backend fail: the stores note a failure of their
//! database or Redis ([`note_backend_failure`]) and the availability
//! middleware, which serves each request inside [`watch`], learns whether
//! one happened while that request was served (and then looks at the
//! backends, see [`crate::server::stores::health`]). A task-local flag: nothing is shared
//! between requests, and a failure outside a request (a background task)
//! is noted nowhere.

use std::{cell::Cell, future::Future};

tokio::task_local! {
    /// Set when a backend failed while the request of this task was served.
    static FAILED: Cell<bool>;
}

/// Records that a backend itself failed (a query, a command) while the
/// current request was served. Outside [`watch`] it does nothing.
pub(crate) fn note_backend_failure() {
    let _ = FAILED.try_with(|failed| failed.set(true));
}

/// Runs `request`; its output, and whether a backend failed meanwhile.
pub(crate) async fn watch<T>(request: impl Future<Output = T>) -> (T, bool) {
    FAILED
        .scope(Cell::new(false), async {
            let out = request.await;
            (out, FAILED.with(Cell::get))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failure_is_noted_only_inside_the_request_that_saw_it() {
        note_backend_failure();
        let ((), noted) = watch(async { note_backend_failure() }).await;
        assert!(noted);
        let ((), quiet) = watch(async {}).await;
        assert!(!quiet, "each request starts without a failure");
    }
}
