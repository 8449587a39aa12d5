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
//!   coming back. What is known of the backends, and how often looks start,
//!   is [`crate::server::stores::health`].

use std::time::Duration;

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};

use crate::server::{
    http::answer::no_store,
    state::Auth,
    stores::{failures, Dependency},
};

/// `GET` path of the liveness check.
pub const HEALTH_PATH: &str = "/health";
/// `GET` path of the readiness check.
pub const READY_PATH: &str = "/ready";

/// How often the watcher looks while every backend is up, and while one is down.
const WATCH_UP: Duration = Duration::from_secs(5);
const WATCH_DOWN: Duration = Duration::from_secs(1);

/// Starts the watcher (see the module header).
pub fn watch(auth: &Auth) {
    let auth = auth.clone();
    tokio::spawn(async move {
        loop {
            let down = auth.health.look(&auth.backends).await;
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
    (no_store(), Json(serde_json::json!({ "status": "ok" }))).into_response()
}

/// `GET /ready`: each backend up or down, nothing more.
pub async fn ready(axum::Extension(auth): axum::Extension<Auth>) -> Response {
    let down = auth.health.look_at_most_every_second(&auth.backends).await;
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
    (status, no_store(), Json(body)).into_response()
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
        let down = auth.health.look_at_most_every_second(&auth.backends).await;
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
            "error": crate::wire::AuthError::ServiceUnavailable.code(),
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
