//! The running server's admin route, for the admin commands of another
//! process on the same machine (`sesame user disable`, `set-password`,
//! `sessions revoke`). Those commands change the database themselves; with
//! the session cache in this process (SQLite, no Redis) the server would
//! still serve its cached copy of an ended session for up to
//! `session.cache_ttl`. So the command then asks the server, here, to
//! forget the user's cached sessions, and returns only once it has.
//!
//! `sesame user unlock` likewise asks the server to clear an account's
//! lockout, whose counters (without Redis) live in the server's memory.
//!
//! `POST /_sesame/admin` with `{"forget_user": ".."}` (a user id) or
//! `{"unlock": ".."}` (an email), accepted only from a loopback peer and with `X-Sesame-Admin: <unix seconds>.<hex
//! HMAC-SHA256>` over the time and the body under the server secret (a
//! current or previous one), at most 60 seconds old. Forgetting is
//! idempotent, so a replay within the minute does nothing new.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
    Extension, Json,
};
use time::OffsetDateTime;

use crate::server::state::Auth;

pub(crate) use crate::wire::routes::{ADMIN as ADMIN_PATH, ADMIN_HEADER};
/// The HMAC's label.
const LABEL: &str = "admin-call";
/// How old a call may be.
const FRESH_FOR: i64 = 60;
/// The largest call read.
const MAX_BODY: usize = 4096;

impl Auth {
    /// The [`ADMIN_HEADER`] value for a call with `body`, signed now.
    pub fn admin_signature(&self, body: &[u8]) -> String {
        let now = OffsetDateTime::now_utc().unix_timestamp().to_string();
        let tag = self.secrets.sign(LABEL, &[now.as_bytes(), body]);
        format!("{now}.{}", hex::encode(tag))
    }

    /// Whether `header` signs `body` with a server secret, within the minute.
    fn admin_signed(&self, header: &str, body: &[u8]) -> bool {
        let Some((time, tag)) = header.split_once('.') else {
            return false;
        };
        let Ok(at) = time.parse::<i64>() else {
            return false;
        };
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let Ok(tag) = hex::decode(tag) else {
            return false;
        };
        (now - at).abs() <= FRESH_FOR && self.secrets.verify(LABEL, &[time.as_bytes(), body], &tag)
    }
}

/// What the route takes: one of the two.
#[derive(serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Call {
    /// A user id whose cached sessions to forget.
    ForgetUser(String),
    /// An email whose lockout to clear.
    Unlock(String),
}

/// `POST /_sesame/admin`.
pub async fn admin(Extension(auth): Extension<Auth>, req: Request) -> Response {
    let loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback());
    if !loopback {
        return StatusCode::NOT_FOUND.into_response();
    }
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let signed = headers
        .get(ADMIN_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| auth.admin_signed(h, &body));
    if !signed {
        tracing::warn!(
            event = "admin_refused",
            "an admin call without a valid signature"
        );
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(call) = serde_json::from_slice::<Call>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let done = match &call {
        Call::ForgetUser(user_id) => match auth.sessions.forget_user(user_id).await {
            Ok(forgotten) => {
                tracing::info!(
                    user_id,
                    forgotten,
                    "an admin command ended a user's sessions: their cached copies are gone"
                );
                Ok(serde_json::json!({ "forgotten": forgotten }))
            }
            Err(cause) => Err(cause.to_string()),
        },
        Call::Unlock(email) => match auth.unlock(email).await {
            Ok(()) => Ok(serde_json::json!({ "unlocked": true })),
            Err(
                crate::server::flows::admin::AccountError::NoSuchUser
                | crate::server::flows::admin::AccountError::Email(_),
            ) => return StatusCode::NOT_FOUND.into_response(),
            Err(cause) => Err(cause.to_string()),
        },
    };
    match done {
        Ok(answer) => (crate::server::http::answer::no_store(), Json(answer)).into_response(),
        Err(cause) => {
            tracing::error!(%cause, "an admin call failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
