//! Sesame's auth surface: what the server and the WASM client share (wire types,
//! `AuthError`), the client API (`sign_in`, `sign_out`, `get_session`, ...), the
//! credentials server function, and (with `ssr`) the server in [`server`].

pub mod callback;
pub mod client;
mod error;
#[cfg(feature = "hydrate")]
mod js;
pub mod session_state;
mod types;

#[cfg(feature = "ssr")]
pub mod server;

pub use client::{
    get_csrf_token, get_providers, get_session, sign_in, sign_out, update_session, ClientError,
    SignInOptions, SignOutOptions,
};
pub use error::AuthError;
pub use session_state::{
    use_session, use_session_state, RequireAuth, SessionProvider, SessionState, SessionStatus,
    UseSession, UseSessionOptions,
};
pub use types::*;

/// `page?callbackUrl=URL&error=CODE`, form-encoded: where a visitor is sent to
/// sign in, by the server (redirects) and the browser (`use_session`,
/// `<RequireAuth>`) alike.
pub fn sign_in_page_url(
    page: &str,
    error: Option<AuthError>,
    callback_url: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(cb) = callback_url {
        query.append_pair("callbackUrl", cb);
    }
    if let Some(error) = error {
        query.append_pair("error", error.code());
    }
    let query = query.finish();
    if query.is_empty() {
        page.to_string()
    } else {
        let sep = if page.contains('?') { "&" } else { "?" };
        [page, sep, &query].concat()
    }
}
