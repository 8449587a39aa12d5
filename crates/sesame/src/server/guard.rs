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

use super::{
    answer::no_store, pages_redirect::sign_in_redirect, session, session::SessionData, state::Auth,
};
use crate::{AuthError, UrlResponse};

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

/// The signed-in user's session, as an axum extractor for routes inside
/// Sesame's layers: a signed-out request is answered with a 302 to the sign-in
/// page (browsers) or a 401 (API calls). `Option<CurrentUser>` never refuses.
///
/// ```ignore
/// async fn me(CurrentUser(user): CurrentUser) -> String { user.email }
/// ```
#[derive(Debug, Clone)]
pub struct CurrentUser(pub SessionData);

impl CurrentUser {
    /// The auth system of the request and its signed-in user, if any.
    async fn find(parts: &mut http::request::Parts) -> Result<(Auth, Option<Self>), Response> {
        let Some(auth) = parts.extensions.get::<Auth>().cloned() else {
            tracing::error!("CurrentUser used outside Sesame's layers");
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let session = Session::from_request_parts(parts, &())
            .await
            .map_err(IntoResponse::into_response)?;
        let user = session::signed_in(&session, &auth.config)
            .await
            .map(|(data, _)| CurrentUser(data));
        Ok((auth, user))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
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

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
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
    match session::signed_in(&session, &auth.config).await {
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
        let (auth, _, _) = super::from_request()?;
        let session = leptos_axum::extract::<Session>().await.ok()?;
        session::signed_in(&session, &auth.config).await
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
