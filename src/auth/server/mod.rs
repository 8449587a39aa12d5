//! The server side of Sesame (feature `ssr`): configuration, CSRF, the
//! `callbackUrl` policy, `authorize` and password hashing, users and sessions,
//! and the REST routes. Nothing here is compiled into the WASM client.

pub mod answer;
pub mod authorize;
pub mod body;
pub mod callback;
pub mod callback_url;
pub mod callbacks;
pub mod config;
pub mod csrf;
pub mod db;
pub mod edge;
pub mod guard;
pub mod limits;
pub mod password;
pub mod routes;
pub mod security;
pub mod session;
pub mod state;
pub mod users;

pub use authorize::{Authorize, AuthorizedUser, Credentials, DatabaseAuthorize};
pub use config::Config;
pub use state::Auth;

use http::request::Parts;
use leptos::prelude::use_context;

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The auth system and CSRF token of the request being rendered or served by a
/// server function (from the request extensions that the layers put there).
pub fn from_request() -> Option<(Auth, csrf::Csrf, Parts)> {
    let parts = use_context::<Parts>()?;
    let auth = parts.extensions.get::<Auth>()?.clone();
    let csrf = parts.extensions.get::<csrf::Csrf>()?.clone();
    Some((auth, csrf, parts))
}

/// The CSRF token for the page being rendered (minting one if the visitor has none).
pub fn page_csrf_token() -> String {
    from_request()
        .map(|(_, csrf, _)| csrf.token())
        .unwrap_or_default()
}

/// The signed-in session of the request being rendered.
pub async fn request_session() -> Option<crate::auth::Session> {
    let (auth, _, _) = from_request()?;
    let session = leptos_axum::extract::<tower_sessions::Session>()
        .await
        .ok()?;
    routes::client_session(&auth, &session).await
}
