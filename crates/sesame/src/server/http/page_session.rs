//! The session a page is rendered with: read once by a middleware before the
//! page renders, so every part of it (and the `<meta name="sesame-session">`
//! the browser starts from) sees the same one; and the page's CSRF token.

use axum::response::IntoResponse;
use http::request::Parts;
use leptos::prelude::use_context;

use crate::server::{
    http::request::from_request,
    session::{client_view, lifecycle as session},
    state::Auth,
};

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
    pub session: Option<crate::wire::Session>,
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
        // `accounts.second_factor = "required"`: a user without a second
        // factor sets one up before any other page.
        if let Some((data, _)) = current.as_ref().filter(|(d, _)| d.must_enrol) {
            let path = req.uri().path();
            let security = auth.security_page();
            if path != security && !path.starts_with(crate::wire::routes::BASE) {
                let _ = data;
                let here = req
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let to = crate::wire::routes::sign_in_page_url(security, None, Some(here));
                return axum::response::Redirect::to(&to).into_response();
            }
        }
        let page = PageSession {
            csrf_binding: current
                .as_ref()
                .and_then(|(data, _)| data.csrf_binding().map(str::to_string)),
            session: current
                .map(|(data, expires)| client_view::to_client_session(&auth, &data, expires)),
        };
        req.extensions_mut().insert(page);
    }
    next.run(req).await
}

/// The signed-in session of the page being rendered.
pub(crate) fn page_session() -> Option<crate::wire::Session> {
    let parts = use_context::<Parts>()?;
    parts.extensions.get::<PageSession>()?.session.clone()
}
