//! Health for a load balancer and answers while a backend is down.
//!
//! - `GET /health` (liveness): 200 while the process serves, whatever its
//!   backends; a restart would not bring a stopped database back.
//! - `GET /ready` (readiness): each backend (database, Redis) is asked to
//!   answer within a second; 200 when all do, else 503, naming the ones down
//!   (`up` or `down` only: the causes stay in the log).
//! - While a backend is known to be down, every other request is answered at
//!   once `503 ServiceUnavailable` with `Retry-After` and a message naming it
//!   (JSON for API calls, a page for browsers), rather than waiting out
//!   timeouts. A request during which a backend itself failed (a query, a
//!   Redis command, noted by the `failures` module) makes the instance look at
//!   its backends right then; the status of an answer does not (the error
//!   page answers 500 for `?error=Configuration`, as NextAuth does). A
//!   watcher looks every few seconds, every second while one is down, so
//!   the instance serves again by itself within a second of the backend
//!   coming back.
//! - Looks that requests cause (a failure, `/ready`) start at most once a
//!   second; within that second `/ready` answers from the last look. Every
//!   look is numbered when it starts, and a look's result never replaces
//!   that of a look that started later.
//! - A pool whose connections are all in use is busy, not down (see
//!   [`Database::ping`](super::db::Database::ping)).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex, RwLock,
    },
    time::{Duration, Instant},
};

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use super::{failures, state::Auth, stores::Dependency};

/// `GET` path of the liveness check.
pub const HEALTH_PATH: &str = "/health";
/// `GET` path of the readiness check.
pub const READY_PATH: &str = "/ready";

/// How long one backend may take to answer a check.
const CHECK_WITHIN: Duration = Duration::from_secs(1);
/// How often the watcher looks while every backend is up, and while one is down.
const WATCH_UP: Duration = Duration::from_secs(5);
const WATCH_DOWN: Duration = Duration::from_secs(1);

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
}

/// Asks every backend now and records the ones down; every answer.
async fn check(auth: &Auth) -> Vec<(Dependency, Result<(), String>)> {
    let look = auth.health.looks.fetch_add(1, Ordering::Relaxed) + 1;
    let checks = auth.check_backends(CHECK_WITHIN).await;
    auth.health.set(
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
pub async fn look(auth: &Auth) -> Vec<(Dependency, String)> {
    check(auth).await;
    auth.health.down()
}

/// Starts the watcher (see the module header).
pub fn watch(auth: &Auth) {
    let auth = auth.clone();
    tokio::spawn(async move {
        loop {
            let down = look(&auth).await;
            tokio::time::sleep(if down.is_empty() {
                WATCH_UP
            } else {
                WATCH_DOWN
            })
            .await;
        }
    });
}

/// `GET /health`.
pub async fn health() -> Response {
    (
        super::no_store(),
        Json(serde_json::json!({ "status": "ok" })),
    )
        .into_response()
}

/// Looks at the backends if no look caused by a request started within the
/// last second; the ones down (at the last look, if none was started now).
async fn look_at_most_every_second(auth: &Auth) -> Vec<(Dependency, String)> {
    if auth.health.claim_request_look(Instant::now()) {
        check(auth).await;
    }
    auth.health.down()
}

/// `GET /ready`: each backend up or down, nothing more.
pub async fn ready(axum::Extension(auth): axum::Extension<Auth>) -> Response {
    let down = look_at_most_every_second(&auth).await;
    let all_up = down.is_empty();
    let detail: serde_json::Map<String, serde_json::Value> = auth
        .backends
        .dependencies()
        .into_iter()
        .map(|dependency| {
            let up = !down.iter().any(|(d, _)| *d == dependency);
            let status = if up { "up" } else { "down" };
            (
                dependency.name().to_string(),
                serde_json::json!({ "status": status }),
            )
        })
        .collect();
    let status = if all_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if all_up { "ready" } else { "unavailable" },
        "checks": detail,
    });
    (status, super::no_store(), Json(body)).into_response()
}

/// The middleware in front of the app (see the module header).
pub async fn availability(
    axum::Extension(auth): axum::Extension<Auth>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path == HEALTH_PATH || path == READY_PATH {
        return next.run(req).await;
    }
    let json = wants_json(&req);
    let down = auth.health.down();
    if !down.is_empty() {
        return unavailable(&auth, &down, json);
    }
    let (res, failed) = failures::watch(next.run(req)).await;
    if failed {
        let down = look_at_most_every_second(&auth).await;
        if !down.is_empty() {
            return unavailable(&auth, &down, json);
        }
    }
    res
}

/// Whether the request is an API call (JSON) rather than a page.
fn wants_json(req: &Request) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/html") {
        return false;
    }
    req.uri().path().starts_with("/api/") || req.method() != Method::GET
}

/// The message naming what is down.
fn message(down: &[(Dependency, String)]) -> String {
    let names: Vec<&str> = down.iter().map(|(d, _)| d.name()).collect();
    format!(
        "The service is unavailable: its {} does not answer. Please try again in a moment.",
        names.join(" and ")
    )
}

fn unavailable(auth: &Auth, down: &[(Dependency, String)], json: bool) -> Response {
    let message = message(down);
    let mut res = if json {
        Json(serde_json::json!({
            "url": auth.api_url("/error?error=ServiceUnavailable"),
            "error": crate::AuthError::ServiceUnavailable.code(),
            "message": message,
        }))
        .into_response()
    } else {
        let page = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Service unavailable</title></head><body><main>\
             <h1>Service unavailable</h1><p role=\"alert\">{message}</p></main></body></html>"
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
    };
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = res.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
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
