//! Route protection on the server: an axum extractor ([`CurrentUser`]) and
//! layer ([`require_auth`]) for non-Leptos routes, and a guard for server
//! functions ([`require_session`]). (Pages use the `<RequireAuth>` component.)
//!
//! A signed-out browser visit (`Accept: text/html`) is sent to the sign-in page
//! with `callbackUrl` back; an API call gets `401` with `SessionRequired`.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts, Request},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Extension, Json,
};
use tower_sessions::Session;

use crate::server::{
    app::app_user::{AuthUser, AuthorizedUser},
    http::answer::no_store,
    http::pages_redirect::sign_in_redirect,
    session::data::SessionData,
    session::lifecycle,
    state::Auth,
};
use crate::{wire::AuthError, wire::UrlResponse};

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The 401 of an API call without a session.
fn unauthorized(auth: &Auth) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        no_store(),
        Json(UrlResponse {
            url: auth.api_url("/error?error=SessionRequired"),
            error: Some(AuthError::SessionRequired.code().to_string()),
            session: None,
            csrf_token: None,
        }),
    )
        .into_response()
}

/// The answer to a signed-out request for a protected route: a 302 to the
/// sign-in page (with `callbackUrl` back) for a browser, a 401 otherwise.
fn sign_in_required(auth: &Auth, headers: &HeaderMap, uri: &http::Uri) -> Response {
    if wants_html(headers) {
        let here = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let to = sign_in_redirect(auth, &here, None);
        (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
    } else {
        unauthorized(auth)
    }
}

/// The signed-in user (the application's type `U`, the one its `authorize`
/// returns) and its session, as an axum extractor for routes inside Sesame's
/// layers: a signed-out request is answered with a 302 to the sign-in page
/// (browsers) or a 401 (API calls). `Option<CurrentUser<U>>` never refuses.
///
/// ```
/// use sesame::server::{AuthorizedUser, CurrentUser};
///
/// async fn me(CurrentUser { user, .. }: CurrentUser<AuthorizedUser>) -> String {
///     user.email
/// }
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser<U: AuthUser = AuthorizedUser> {
    /// The user `authorize` returned at sign-in.
    pub user: U,
    /// The session it signed in.
    pub session: SessionData,
}

impl<U: AuthUser> CurrentUser<U> {
    /// The auth system of the request and its signed-in user, if any. A
    /// session whose user is not a `U` (written by a build with another user
    /// type) is treated as signed out.
    async fn find(parts: &mut http::request::Parts) -> Result<(Auth, Option<Self>), Response> {
        let Some(auth) = parts.extensions.get::<Auth>().cloned() else {
            tracing::error!("CurrentUser used outside Sesame's layers");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let session = Session::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        let user = match lifecycle::signed_in(&session, &auth.config).await {
            Some((data, _)) => match data.user::<U>() {
                Ok(user) => Some(CurrentUser {
                    user,
                    session: data,
                }),
                Err(cause) => {
                    tracing::error!(%cause, "the session's user is not of the requested type");
                    None
                }
            },
            None => None,
        };
        Ok((auth, user))
    }
}

impl<S: Send + Sync, U: AuthUser> FromRequestParts<S> for CurrentUser<U> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Response> {
        match Self::find(parts).await? {
            (_, Some(user)) => Ok(user),
            (auth, None) => Err(sign_in_required(&auth, &parts.headers, &parts.uri)),
        }
    }
}

impl<S: Send + Sync, U: AuthUser> OptionalFromRequestParts<S> for CurrentUser<U> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Option<Self>, Response> {
        Ok(Self::find(parts).await?.1)
    }
}

/// Middleware for routes that need a signed-in user. The handler finds the
/// [`SessionData`] in the request's extensions.
pub async fn require_auth(
    Extension(auth): Extension<Auth>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    match lifecycle::signed_in(&session, &auth.config).await {
        Some((data, _)) => {
            req.extensions_mut().insert(data);
            next.run(req).await
        }
        None => sign_in_required(&auth, req.headers(), req.uri()),
    }
}

/// For server functions: the signed-in user's session, or an error with the
/// response status set to 401.
pub async fn require_session() -> Result<SessionData, leptos::prelude::ServerFnError> {
    use leptos::prelude::{use_context, ServerFnError};
    let found = async {
        let (auth, _, _) = crate::server::http::request::from_request()?;
        let session = leptos_axum::extract::<Session>().await.ok()?;
        lifecycle::signed_in(&session, &auth.config).await
    }
    .await;
    match found {
        Some((data, _)) => Ok(data),
        None => {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(StatusCode::UNAUTHORIZED);
            }
            Err(ServerFnError::new(AuthError::SessionRequired.code()))
        }
    }
}

/// For server functions: the signed-in user's session if it passed a second
/// factor within `within` (an authenticator code or a passkey); otherwise an
/// error, `SessionRequired` (401) when signed out, `ReauthRequired` (403)
/// when the second factor is missing or older: sign in again with it.
pub async fn require_second_factor(
    within: std::time::Duration,
) -> Result<SessionData, leptos::prelude::ServerFnError> {
    use leptos::prelude::{use_context, ServerFnError};
    let data = require_session().await?;
    if data.second_factor_within(within) {
        return Ok(data);
    }
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(StatusCode::FORBIDDEN);
    }
    Err(ServerFnError::new(AuthError::ReauthRequired.code()))
}
