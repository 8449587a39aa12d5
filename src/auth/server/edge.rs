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

use axum::{extract::Request, http::header, middleware::Next, response::Response, Extension};

use super::{body, csrf::Csrf, routes, security::PageHeaders, session, state::Auth};

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
    let answer = routes::refuse_cross_origin(auth, &req)
        .or_else(|| routes::refuse_unknown_action(&req))
        .or_else(|| routes::redirect_to_pages(auth, &req));
    match answer {
        Some(answer) => Err(answer),
        None => body::check(auth, req).await,
    }
}
