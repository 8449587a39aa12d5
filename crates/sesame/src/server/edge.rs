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

use super::{
    answer::{no_store, refusal},
    body,
    csrf::{self, Csrf},
    pages_redirect::redirect_to_pages,
    security::PageHeaders,
    session,
    state::Auth,
};
use crate::{AuthError, BASE_PATH};

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
    session::harden_removal(res.headers_mut(), &auth.config);
    res
}

/// The checks that may answer instead of the app.
async fn checks(auth: &Auth, req: Request) -> Result<(Request, Option<body::Checked>), Response> {
    let answer = refuse_cross_origin(auth, &req)
        .or_else(|| refuse_unknown_action(&req))
        .or_else(|| redirect_to_pages(auth, &req));
    match answer {
        Some(answer) => Err(answer),
        None => body::check(auth, req).await,
    }
}

/// Every action the REST surface knows; anything else under `/api/auth` is a 400.
const ACTIONS: &[(Method, &str)] = &[
    (Method::GET, "/api/auth/signin"),
    (Method::GET, "/api/auth/signin/credentials"),
    (Method::GET, "/api/auth/signout"),
    (Method::POST, "/api/auth/signout"),
    (Method::GET, "/api/auth/error"),
    (Method::GET, "/api/auth/csrf"),
    (Method::GET, "/api/auth/session"),
    (Method::POST, "/api/auth/session"),
    (Method::GET, "/api/auth/providers"),
    (Method::POST, "/api/auth/callback/credentials"),
    (Method::GET, crate::SIGN_UP_PATH),
    (Method::POST, crate::SIGN_UP_ACTION_PATH),
    (Method::GET, crate::VERIFY_PATH),
    (Method::POST, crate::VERIFY_CONFIRM_PATH),
    (Method::POST, crate::VERIFY_RESEND_PATH),
    (Method::GET, crate::RESET_PATH),
    (Method::POST, crate::RESET_REQUEST_PATH),
    (Method::POST, crate::RESET_CONFIRM_PATH),
    (Method::GET, crate::SESSIONS_PATH),
    (Method::POST, crate::REVOKE_SESSION_PATH),
    (Method::POST, crate::REVOKE_OTHER_SESSIONS_PATH),
    (Method::POST, crate::CHANGE_PASSWORD_PATH),
    (Method::POST, crate::CHANGE_EMAIL_PATH),
    (Method::POST, crate::DELETE_ACCOUNT_PATH),
];

/// A state-changing request (REST posts and every server function, the app's
/// own included) from another origin than the site's or an allowed one: 403
/// `MissingCSRF`. `Some` is the answer when the check refuses.
pub fn refuse_cross_origin(auth: &Auth, req: &Request) -> Option<Response> {
    if csrf::is_state_changing(req.method())
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

/// Anything under `/api/auth` that is not a known action is a 400.
pub fn refuse_unknown_action(req: &Request) -> Option<Response> {
    let path = req.uri().path();
    if path == BASE_PATH || path.starts_with("/api/auth/") {
        let method = if req.method() == Method::HEAD {
            Method::GET
        } else {
            req.method().clone()
        };
        if !ACTIONS.iter().any(|(m, p)| *m == method && *p == path) {
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
