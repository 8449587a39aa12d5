//! Request bodies of the auth endpoints: capped in size, of the right content
//! type, valid UTF-8 and well-formed, or refused with a typed error (`413
//! PayloadTooLarge`, `400 InvalidRequest`) before any handler or server function
//! sees them. Nothing malformed reaches a parser that could answer 500.

use axum::{
    body::{to_bytes, Body},
    extract::Request,
    http::{header, Method},
    middleware::Next,
    response::Response,
    Extension,
};

use super::{answer::refusal, state::Auth};
use crate::auth::AuthError;

/// Middleware for POSTs under `/api/auth`.
pub async fn check_auth_bodies(Extension(auth): Extension<Auth>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/auth/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, auth.config.limits.body_bytes).await else {
        return refusal(&auth, AuthError::PayloadTooLarge);
    };
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return refusal(&auth, AuthError::InvalidRequest);
    };
    let well_formed = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_str::<Vec<(String, String)>>(text).is_ok()
        }
        // next-auth/react sends the session update as JSON.
        "application/json" if parts.uri.path() == "/api/auth/session" => {
            serde_json::from_str::<serde_json::Value>(text).is_ok()
        }
        _ => false,
    };
    if !well_formed {
        return refusal(&auth, AuthError::InvalidRequest);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}
