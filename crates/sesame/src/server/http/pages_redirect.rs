//! The `pages.*` configuration at the edge: the built-in page routes redirect
//! to the app's own pages when configured, and sign-in errors go back to the
//! sign-in page.

use crate::wire::routes;
use axum::{
    extract::{Query, Request},
    http::{header, Method, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::server::state::Auth;
use crate::{wire::routes::sign_in_page_url, wire::AuthError};

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
    error: Option<String>,
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// The `pages.*` redirects and the error route's hand-back.
/// - GET `/api/auth/signin` → `pages.sign_in` (keeping `callbackUrl`, `error`);
///   `/api/auth/signin/:provider` → the sign-in page (a GET never starts a
///   provider's flow: that would be login CSRF).
/// - GET `/api/auth/signout` → `pages.sign_out` (keeping `callbackUrl`).
/// - GET `/api/auth/error?error=X`: sign-in errors go back to the sign-in page,
///   others to `pages.error` when set (else Leptos renders the error page).
pub fn redirect_to_pages(auth: &Auth, req: &Request) -> Option<Response> {
    if req.method() != Method::GET {
        return None;
    }
    let uri = req.uri();
    let query = || {
        Query::<PageQuery>::try_from_uri(uri)
            .map(|q| q.0)
            .unwrap_or_default()
    };
    let pages = &auth.config.pages;
    match uri.path() {
        routes::SIGN_IN => {
            if let Some(page) = &pages.sign_in {
                let q = query();
                let error = q.error.as_deref().map(AuthError::from_code);
                return Some(found(&sign_in_page_url(
                    page,
                    error,
                    q.callback_url.as_deref(),
                )));
            }
        }
        path if path == routes::SIGN_IN_CREDENTIALS
            || routes::matches(routes::SIGN_IN_PROVIDER, path).is_some() =>
        {
            let q = query();
            let error = q.error.as_deref().map(AuthError::from_code);
            return Some(found(&sign_in_page_url(
                auth.sign_in_page(),
                error,
                q.callback_url.as_deref(),
            )));
        }
        routes::SIGN_OUT => {
            if let Some(page) = &pages.sign_out {
                return Some(found(&sign_in_page_url(
                    page,
                    None,
                    query().callback_url.as_deref(),
                )));
            }
        }
        routes::ERROR => {
            let q = query();
            let error = AuthError::from_code(q.error.as_deref().unwrap_or("default"));
            if error.redirects_to_sign_in_page() {
                return Some(found(&sign_in_page_url(
                    auth.sign_in_page(),
                    Some(error),
                    q.callback_url.as_deref(),
                )));
            }
            if let Some(page) = &pages.error {
                return Some(found(&sign_in_page_url(page, Some(error), None)));
            }
        }
        _ => {}
    }
    None
}

/// The sign-in page URL for a visitor who must sign in to see `path_and_query`.
pub fn sign_in_redirect(auth: &Auth, path_and_query: &str, error: Option<AuthError>) -> String {
    sign_in_page_url(auth.sign_in_page(), error, Some(path_and_query))
}
