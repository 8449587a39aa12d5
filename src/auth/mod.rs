//! Sesame's auth surface: what the server and the WASM client share (wire types,
//! `AuthError`), the client API (`sign_in`, `sign_out`, `get_session`, ...), the
//! credentials server function, and (with `ssr`) the server in [`server`].

pub mod callback;
pub mod client;
mod error;
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

/// The session for the page being rendered: read from the request on the server,
/// from `/api/auth/session` in the browser.
pub async fn load_session() -> Option<Session> {
    #[cfg(feature = "ssr")]
    {
        server::request_session().await
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        // Browser futures are not `Send`; resources want `Send`, and WASM has one thread.
        send_wrapper::SendWrapper::new(get_session())
            .await
            .ok()
            .flatten()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        None
    }
}

/// `page?callbackUrl=URL&error=CODE`, form-encoded: where a visitor is sent to
/// sign in, by the server (redirects) and the browser (`use_session`,
/// `<RequireAuth>`) alike.
pub fn sign_in_page_url(
    page: &str,
    error: Option<AuthError>,
    callback_url: Option<&str>,
) -> String {
    let mut pairs = Vec::with_capacity(2);
    if let Some(cb) = callback_url {
        pairs.push(("callbackUrl", cb));
    }
    if let Some(error) = error {
        pairs.push(("error", error.code()));
    }
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    if query.is_empty() {
        page.to_string()
    } else {
        let sep = if page.contains('?') { '&' } else { '?' };
        format!("{page}{sep}{query}")
    }
}
