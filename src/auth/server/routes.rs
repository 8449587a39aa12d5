//! The REST surface under `/api/auth` (besides the credentials server function and
//! the sign-in page, which Leptos serves), and the guards every request passes.

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Query, Request},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Form, Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    answer::{no_store, refusal, sign_in_page_url, Answer},
    csrf::{self, Csrf},
    session,
    state::Auth,
};
use crate::auth::{AuthError, CsrfResponse, SessionUser};

/// `/api/auth/{csrf,session,signout}`. Needs the [`Auth`] and [`Csrf`] extensions
/// and the session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/api/auth/csrf", get(csrf_token))
        .route("/api/auth/session", get(get_session))
        .route("/api/auth/signout", post(sign_out))
}

/// GET `/api/auth/csrf`: `{csrfToken}`, setting the cookie if missing.
async fn csrf_token(Extension(csrf): Extension<Csrf>) -> Response {
    (
        no_store(),
        Json(CsrfResponse {
            csrf_token: csrf.token(),
        }),
    )
        .into_response()
}

/// The client-safe session of a request, if signed in.
pub async fn client_session(auth: &Auth, session: &Session) -> Option<crate::auth::Session> {
    match session::current(session, &auth.config).await {
        Ok(Some((data, expires))) => Some(crate::auth::Session {
            user: SessionUser {
                name: data.name,
                email: data.email,
                image: data.image,
            },
            expires: expires
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        }),
        Ok(None) => None,
        Err(cause) => {
            tracing::error!(%cause, "reading the session failed");
            None
        }
    }
}

/// GET `/api/auth/session`: the session, or `{}` when signed out.
async fn get_session(Extension(auth): Extension<Auth>, session: Session) -> Response {
    let body = match client_session(&auth, &session).await {
        Some(s) => serde_json::to_value(s).unwrap_or_default(),
        None => serde_json::json!({}),
    };
    (no_store(), Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
struct SignOutForm {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    #[serde(rename = "callbackUrl", default)]
    callback_url: Option<String>,
    #[serde(default)]
    json: Option<String>,
}

/// POST `/api/auth/signout`: ends the session (CSRF-checked) and answers `{url}`
/// or redirects to `callbackUrl`.
async fn sign_out(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<SignOutForm>,
) -> Response {
    let json = super::callback::CallbackForm::json_flag(form.json.as_deref());
    let ip = connect.map(|c| c.0 .0.ip().to_string()).unwrap_or_default();
    if !csrf.verify(&form.csrf_token) {
        tracing::warn!(event = "csrf_refused", %ip, "sign-out without a valid CSRF token");
        return Answer::failure(&auth, AuthError::MissingCSRF, json, None, None).into_response();
    }
    let url = match auth.policy.resolve(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(e) => return Answer::failure(&auth, e, json, None, None).into_response(),
    };
    let user_id = session::current(&session, &auth.config)
        .await
        .ok()
        .flatten()
        .map(|(d, _)| d.user_id);
    if let Err(cause) = session::end(&session).await {
        tracing::error!(%cause, "ending the session failed");
        return Answer::failure(&auth, AuthError::Signin, json, None, None).into_response();
    }
    tracing::info!(event = "sign_out", %ip, user_id = user_id.as_deref().unwrap_or(""), "signed out");
    Answer::success(url, json).into_response()
}

/// Middleware: a state-changing request (REST posts and every server function,
/// the app's own included) must come from the site's origin or an allowed one.
pub async fn require_same_origin(
    Extension(auth): Extension<Auth>,
    req: Request,
    next: Next,
) -> Response {
    if csrf::is_state_changing(req.method())
        && !csrf::origin_allowed(req.headers(), auth.policy.origins())
    {
        tracing::warn!(
            event = "csrf_refused",
            path = req.uri().path(),
            "state-changing request from another origin"
        );
        return refusal(&auth, AuthError::MissingCSRF);
    }
    next.run(req).await
}

#[derive(Debug, Deserialize)]
struct SignInQuery {
    #[serde(rename = "callbackUrl")]
    callback_url: Option<String>,
    error: Option<String>,
}

/// Middleware: with `pages.sign_in` set, GET `/api/auth/signin` redirects there,
/// keeping `callbackUrl` and `error`.
pub async fn custom_pages(Extension(auth): Extension<Auth>, req: Request, next: Next) -> Response {
    if req.uri().path() == crate::auth::SIGN_IN_PATH {
        if let Some(page) = &auth.config.pages.sign_in {
            let query = Query::<SignInQuery>::try_from_uri(req.uri())
                .map(|q| q.0)
                .unwrap_or(SignInQuery {
                    callback_url: None,
                    error: None,
                });
            let error = query.error.as_deref().map(AuthError::from_code);
            let target = sign_in_page_url(page, error, query.callback_url.as_deref());
            return (StatusCode::FOUND, [(header::LOCATION, target)]).into_response();
        }
    }
    next.run(req).await
}
