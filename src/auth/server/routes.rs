//! The REST surface under `/api/auth` (besides the credentials server function and
//! the pages, which Leptos serves), and the middleware that fronts it: the origin
//! check, `pages.*` redirects, and the 400 for unknown actions.

use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::{ConnectInfo, Query, Request},
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Form, Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    answer::{no_store, refusal, Answer},
    audit::{user_agent, AuditAction, AuditEvent, Outcome},
    client_ip::client_ip,
    csrf::{self, Csrf},
    session::{self, csrf_binding, SessionData},
    state::Auth,
};
use crate::auth::{sign_in_page_url, AuthError, CsrfResponse, SessionUser, BASE_PATH};

/// `/api/auth/{csrf,session,providers,signout}`. Needs the [`Auth`] and [`Csrf`]
/// extensions and the session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/api/auth/csrf", get(csrf_token))
        .route("/api/auth/session", get(get_session).post(update_session))
        .route("/api/auth/providers", get(providers))
        .route("/api/auth/signout", axum::routing::post(sign_out))
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
];

/// GET `/api/auth/csrf`: `{csrfToken}` for the visitor's session, setting the
/// cookie if it has none that verifies.
async fn csrf_token(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
) -> Response {
    let current = session::signed_in(&session, &auth.config).await;
    (
        no_store(),
        Json(CsrfResponse {
            csrf_token: csrf.token(csrf_binding(current.as_ref().map(|(d, _)| d))),
        }),
    )
        .into_response()
}

/// The client-safe session shaped by the `session` callback.
pub fn to_client_session(
    auth: &Auth,
    data: &SessionData,
    expires: time::OffsetDateTime,
) -> crate::auth::Session {
    let session = crate::auth::Session {
        user: SessionUser {
            name: data.name.clone(),
            email: data.email.clone(),
            image: data.image.clone(),
        },
        expires: expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        extra: Default::default(),
    };
    auth.callbacks.session(session, data)
}

/// The client-safe session of a request, if signed in.
pub async fn client_session(auth: &Auth, session: &Session) -> Option<crate::auth::Session> {
    session::signed_in(session, &auth.config)
        .await
        .map(|(data, expires)| to_client_session(auth, &data, expires))
}

/// The answer of `/api/auth/session`: the session, or `{}` when signed out.
pub fn session_json(session: Option<crate::auth::Session>) -> Response {
    let mut body = Vec::with_capacity(256);
    match session.map(|s| serde_json::to_writer(&mut body, &s)) {
        Some(Ok(())) => {}
        _ => {
            body.clear();
            body.extend_from_slice(b"{}");
        }
    }
    let mut res = Response::new(body.into());
    // Room for these and the security headers the edge adds.
    let headers = res.headers_mut();
    headers.reserve(8);
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.extend(no_store());
    res
}

/// GET `/api/auth/session`: the session, or `{}` when signed out.
async fn get_session(Extension(auth): Extension<Auth>, session: Session) -> Response {
    session_json(client_session(&auth, &session).await)
}

#[derive(Debug, Deserialize)]
struct UpdateBody {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    #[serde(default)]
    data: serde_json::Value,
}

/// POST `/api/auth/session`: a session update (`{csrfToken, data}` as JSON, as
/// next-auth/react sends it, or as a form), CSRF-checked; answers the new session.
async fn update_session(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed: Result<UpdateBody, String> = if is_json {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|e| e.to_string())
    };
    let Ok(update) = parsed else {
        return Answer::failure(&auth, AuthError::InvalidRequest, true, None, None).into_response();
    };
    let current = session::signed_in(&session, &auth.config).await;
    if !csrf.verify(
        &update.csrf_token,
        csrf_binding(current.as_ref().map(|(d, _)| d)),
    ) {
        tracing::warn!(
            event = "csrf_refused",
            "session update without a valid CSRF token"
        );
        return Answer::failure(&auth, AuthError::MissingCSRF, true, None, None).into_response();
    }
    let Some((mut data, expires)) = current else {
        return session_json(None);
    };
    if let Err(error) = auth.callbacks.update_session(&mut data, &update.data).await {
        return Answer::failure(&auth, error, true, None, None).into_response();
    }
    if let Err(cause) = session::replace(&session, &data).await {
        tracing::error!(%cause, "saving the session update failed");
        return Answer::failure(&auth, AuthError::Signin, true, None, None).into_response();
    }
    session_json(Some(to_client_session(&auth, &data, expires)))
}

/// GET `/api/auth/providers`: the credentials provider, as NextAuth lists it.
async fn providers(Extension(auth): Extension<Auth>) -> Response {
    Json(serde_json::json!({
        "credentials": {
            "id": "credentials",
            "name": "Credentials",
            "type": "credentials",
            "signinUrl": auth.api_url("/signin/credentials"),
            "callbackUrl": auth.api_url("/callback/credentials"),
        }
    }))
    .into_response()
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
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let json = super::callback::CallbackForm::json_flag(form.json.as_deref());
    let ip = client_ip(
        connect.map(|c| c.0 .0),
        &headers,
        &auth.config.site.trusted_proxies,
    );
    let current = session::signed_in(&session, &auth.config)
        .await
        .map(|(data, _)| data);
    let user_id = current.as_ref().map(|d| d.user_id.clone());
    let audit = |outcome| AuditEvent {
        action: AuditAction::SignOut,
        outcome,
        account: None,
        user_id: user_id.clone(),
        ip,
        user_agent: user_agent(&headers),
    };
    // Bound to the session: a token/cookie pair from another browser, or one
    // minted before this session signed in, does not sign it out.
    if !csrf.verify(&form.csrf_token, csrf_binding(current.as_ref())) {
        auth.audit(audit(Outcome::MissingCsrf)).await;
        return Answer::failure(
            &auth,
            AuthError::MissingCSRF,
            json,
            Some("/api/auth/signout"),
            None,
        )
        .into_response();
    }
    let url = match auth.resolve_callback(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(e) => return Answer::failure(&auth, e, json, None, None).into_response(),
    };
    if let Err(cause) = session::end(&session).await {
        tracing::error!(%cause, "ending the session failed");
        auth.audit(audit(Outcome::Error)).await;
        return Answer::failure(&auth, AuthError::Signin, json, None, None).into_response();
    }
    auth.audit(audit(Outcome::Success)).await;
    auth.events.sign_out(user_id.as_deref()).await;
    let mut answer = Answer::success(url, json);
    let token = csrf.rotate(None);
    if json {
        answer.body.csrf_token = Some(token);
    }
    answer.into_response()
}

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
///   `/api/auth/signin/credentials` → the sign-in page.
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
        "/api/auth/signin" => {
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
        "/api/auth/signin/credentials" => {
            let q = query();
            let error = q.error.as_deref().map(AuthError::from_code);
            return Some(found(&sign_in_page_url(
                auth.sign_in_page(),
                error,
                q.callback_url.as_deref(),
            )));
        }
        "/api/auth/signout" => {
            if let Some(page) = &pages.sign_out {
                return Some(found(&sign_in_page_url(
                    page,
                    None,
                    query().callback_url.as_deref(),
                )));
            }
        }
        "/api/auth/error" => {
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
