//! Route protection on the server: an axum layer for non-Leptos routes and a
//! guard for server functions. (Pages use the `<RequireAuth>` component.)
//!
//! A signed-out browser visit (`Accept: text/html`) is sent to the sign-in page
//! with `callbackUrl` back; an API call gets `401` with `SessionRequired`.

use axum::{
    extract::Request,
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
    Extension, Json,
};
use tower_sessions::Session;

use super::{
    answer::no_store, routes::sign_in_redirect, session, session::SessionData, state::Auth,
};
use crate::auth::{AuthError, UrlResponse};

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
        _ if wants_html(req.headers()) => {
            let here = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let to = sign_in_redirect(&auth, &here, None);
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        _ => unauthorized(&auth),
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

/// GET `/api/me`: an example of a plain axum route behind [`require_auth`].
pub async fn me(Extension(data): Extension<SessionData>) -> Response {
    (
        no_store(),
        Json(serde_json::json!({
            "id": data.user_id,
            "email": data.email,
            "name": data.name,
        })),
    )
        .into_response()
}
