//! The server side of Sesame (feature `ssr`): configuration, CSRF, the
//! `callbackUrl` policy, `authorize` and password hashing, users and sessions,
//! and the REST routes. Nothing here is compiled into the WASM client.

pub(crate) mod account_actions;
pub mod accounts;
pub(crate) mod action_edge;
pub mod admin_route;
pub(crate) mod answer;
pub(crate) mod app_user;
pub mod audit;
pub mod authorize;
pub(crate) mod body;
pub(crate) mod budgets;
pub(crate) mod callback;
pub mod callback_url;
pub mod callbacks;
pub mod client_ip;
pub(crate) mod client_session;
pub mod config;
pub(crate) mod csrf;
pub mod db;
pub(crate) mod edge;
pub(crate) mod failures;
pub(crate) mod files;
pub(crate) mod guard;
pub mod hash_gate;
pub mod health;
pub(crate) mod hooks;
pub(crate) mod keys;
pub mod limits;
pub mod lockout;
pub mod mail;
pub(crate) mod mount;
pub(crate) mod outbox;
pub(crate) mod pages_redirect;
pub mod password;
pub(crate) mod reset;
pub(crate) mod routes;
pub(crate) mod security;
pub mod session;
pub(crate) mod session_check;
pub mod session_store;
pub(crate) mod sign_up;
pub(crate) mod state;
pub mod stores;
pub mod tokens;
pub(crate) mod user_agent;
pub mod users;
pub(crate) mod verification;
pub(crate) mod visitor;

pub use accounts::AccountError;
pub use answer::no_store;
pub use app_user::{AuthUser, AuthorizedUser};
pub use async_trait::async_trait;
pub use authorize::{Authorize, AuthorizeError, Credentials, DatabaseAuthorize};
pub use callbacks::{Callbacks, Events};
pub use config::{Config, ConfigError, Environment};
pub use db::{migrate, Database};
pub use guard::{require_auth, require_session, CurrentUser};
#[cfg(feature = "bench")]
pub use mount::with_bench_routes;
pub use mount::{bind, serve, Sesame, SesameBuilder, StartError, LOG_FILTER};
pub use password::NewPassword;
pub use session::SessionData;
pub use session_store::{SessionHandle, Sessions, UserSession};
pub use sign_up::InviteError;
pub use state::Auth;
pub use stores::Backends;
pub use user_agent::describe_user_agent;
pub use users::{UserRecord, UserStore};

use http::request::Parts;
use leptos::prelude::use_context;

/// The value of cookie `name` in a request's `Cookie` headers (the first, if
/// sent more than once).
pub(crate) fn cookie<'a>(headers: &'a http::HeaderMap, name: &'a str) -> Option<&'a str> {
    cookie_values(headers, name).next()
}

/// Every value of cookie `name` in a request's `Cookie` headers.
pub(crate) fn cookie_values<'a>(
    headers: &'a http::HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .filter(move |(n, _)| n.trim() == name)
        .map(|(_, value)| value.trim())
}

/// The value of parameter `name` in a URI's query string, decoded.
pub(crate) fn query_value(uri: &http::Uri, name: &str) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The auth system and CSRF token of the request being rendered or served by a
/// server function (from the request extensions that the layers put there).
pub(crate) fn from_request() -> Option<(Auth, csrf::Csrf, Parts)> {
    let parts = use_context::<Parts>()?;
    let auth = parts.extensions.get::<Auth>()?.clone();
    let csrf = parts.extensions.get::<csrf::Csrf>()?.clone();
    Some((auth, csrf, parts))
}

/// The CSRF token for the page being rendered, bound to its session (minting
/// one if the visitor has none that verifies).
pub(crate) fn page_csrf_token() -> String {
    from_request()
        .map(|(_, csrf, parts)| {
            let page = parts.extensions.get::<PageSession>();
            csrf.token(page.and_then(|p| p.csrf_binding.as_deref()))
        })
        .unwrap_or_default()
}

/// The session a page is rendered with, read before rendering starts.
#[derive(Debug, Clone)]
pub(crate) struct PageSession {
    /// What the client sees of it.
    pub session: Option<crate::Session>,
    /// What its CSRF tokens are bound to.
    pub csrf_binding: Option<String>,
}

/// Middleware of the page routes: reads the session of a GET request once,
/// before the page renders, so every part of the page (and the
/// `<meta name="sesame-session">` the browser starts from) sees the same one
/// without waiting on a resource.
pub(crate) async fn preload_session(
    axum::Extension(auth): axum::Extension<Auth>,
    session: tower_sessions::Session,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == http::Method::GET && !req.uri().path().starts_with("/pkg/") {
        let current = session::signed_in(&session, &auth.config).await;
        let page = PageSession {
            csrf_binding: current
                .as_ref()
                .and_then(|(data, _)| data.csrf_binding().map(str::to_string)),
            session: current
                .map(|(data, expires)| client_session::to_client_session(&auth, &data, expires)),
        };
        req.extensions_mut().insert(page);
    }
    next.run(req).await
}

/// The signed-in session of the page being rendered.
pub(crate) fn page_session() -> Option<crate::Session> {
    let parts = use_context::<Parts>()?;
    parts.extensions.get::<PageSession>()?.session.clone()
}
