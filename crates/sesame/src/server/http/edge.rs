//! The request edge: every check and header that wraps the app, in one pass and
//! in the order they apply. Each concern lives in its own module; this is where
//! they are put in order.
//!
//! One middleware rather than one each: axum's `from_fn` boxes a future and
//! clones the services below it for every request, and perf showed a session
//! check spending more time in that machinery than in the checks themselves.
//!
//! In order: the CSP nonce and the CSRF cookie are read; a cross-origin
//! state-changing request is refused (403); an unknown `/api/auth` action is
//! refused (400); `pages.*` redirects are answered; an `/api/auth` POST body is
//! checked (400/413). Then the app runs, and the response gets the `?lang=`
//! cookie, a minted CSRF cookie, the security headers and a session removal
//! cookie with the session cookie's attributes.

use axum::{
    extract::Request,
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Extension, Json,
};

use crate::server::{
    defense::csrf::{self, Csrf},
    http::answer::{no_store, refusal},
    http::body,
    http::headers::PageHeaders,
    http::pages_redirect::redirect_to_pages,
    session::lifecycle,
    state::Auth,
};
use crate::{wire::routes, wire::AuthError};

/// The middleware (outside the session layer: a refused request never loads a
/// session).
pub async fn edge(Extension(auth): Extension<Auth>, mut req: Request, next: Next) -> Response {
    let page = PageHeaders::prepare(&mut req);
    let csrf = Csrf::attach(&auth.csrf, &mut req);
    let lang = crate::i18n::lang_cookie(req.uri());
    let mut res = match checks(&auth, req).await {
        Ok((req, checked)) => {
            let mut res = next.run(req).await;
            if let Some(checked) = checked {
                res = body::typed_argument_errors(&auth, checked, res).await;
            }
            if let Some(cookie) = lang {
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            res
        }
        Err(answer) => answer,
    };
    csrf.finish(&mut res);
    page.finish(&auth, &mut res);
    lifecycle::harden_removal(res.headers_mut(), &auth.config);
    res
}

/// The checks that may answer instead of the app.
async fn checks(auth: &Auth, req: Request) -> Result<(Request, Option<body::Checked>), Response> {
    let answer = refuse_cross_origin(auth, &req)
        .or_else(|| refuse_unknown_action(auth, &req))
        .or_else(|| redirect_to_pages(auth, &req));
    match answer {
        Some(answer) => Err(answer),
        None => body::check(auth, req).await,
    }
}

/// A state-changing request (REST posts and every server function, the app's
/// own included) from another origin than the site's or an allowed one: 403
/// `MissingCSRF`. `Some` is the answer when the check refuses.
pub fn refuse_cross_origin(auth: &Auth, req: &Request) -> Option<Response> {
    // A provider's `form_post` return comes from the provider's site by
    // design: the flow's sealed cookie and `state` check it instead.
    if csrf::is_state_changing(req.method())
        && !routes::is_provider_return(req.uri().path())
        && !csrf::origin_allowed(req.headers(), &auth.request_origins)
    {
        tracing::warn!(
            event = "csrf_refused",
            path = req.uri().path(),
            "state-changing request from another origin"
        );
        return Some(refusal(auth, AuthError::MissingCSRF));
    }
    None
}

/// Whether a provider's route names one this server has: a configured
/// provider, or `email` when sign-in links are on.
fn known_provider(auth: &Auth, path: &str) -> bool {
    [routes::SIGN_IN_PROVIDER, routes::CALLBACK_PROVIDER]
        .iter()
        .find_map(|pattern| routes::matches(pattern, path))
        .is_none_or(|id| {
            auth.providers.get(id).is_some()
                || (id == "email" && auth.config.email_sign_in.enabled)
                || path == routes::SIGN_IN_CREDENTIALS
                || path == routes::CALLBACK
        })
}

/// Anything under `/api/auth` that is not a known action is a 400 (a
/// provider's route included, for a provider this server does not have).
pub fn refuse_unknown_action(auth: &Auth, req: &Request) -> Option<Response> {
    let path = req.uri().path();
    if path == routes::BASE || path.starts_with("/api/auth/") {
        let method = match *req.method() {
            Method::GET | Method::HEAD => Some(routes::Method::Get),
            Method::POST => Some(routes::Method::Post),
            _ => None,
        };
        if !method.is_some_and(|method| routes::is_route(method, path))
            || !known_provider(auth, path)
        {
            return Some((
                StatusCode::BAD_REQUEST,
                no_store(),
                Json(serde_json::json!({
                    "error": "UnknownAction",
                    "message": format!("{} {path} is not an action of this server", req.method()),
                })),
            )
                .into_response());
        }
    }
    None
}
