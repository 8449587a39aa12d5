//! The REST handlers under `/api/auth` (besides the credentials server function
//! and the pages, which Leptos serves): csrf, session (read and update),
//! providers, sign-out. What fronts them is in [`edge`](crate::server::http::edge).

use crate::wire::routes;
use std::net::SocketAddr;

use axum::{
    body::Bytes,
    extract::ConnectInfo,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::get,
    Extension, Form, Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::{
    defense::audit::{user_agent, AuditAction, AuditEvent, Outcome},
    defense::client_ip::client_ip,
    defense::csrf::Csrf,
    http::answer::{no_store, session_json, Answer},
    http::body::form_flag,
    session::client_view::{client_session, to_client_session},
    session::{data::csrf_binding, lifecycle},
    state::Auth,
};
use crate::{wire::AuthError, wire::CsrfResponse};

/// `/api/auth/{csrf,session,providers,signout}`. Needs the [`Auth`] and [`Csrf`]
/// extensions and the session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(routes::CSRF, get(csrf_token))
        .route(routes::SESSION, get(get_session).post(update_session))
        .route(routes::PROVIDERS, get(providers))
        .route(routes::SIGN_OUT, axum::routing::post(sign_out))
}

/// GET `/api/auth/csrf`: `{csrfToken}` for the visitor's session, setting the
/// cookie if it has none that verifies.
async fn csrf_token(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
) -> Response {
    let current = lifecycle::signed_in(&session, &auth.config).await;
    (
        no_store(),
        Json(CsrfResponse {
            csrf_token: csrf.token(csrf_binding(current.as_ref().map(|(d, _)| d))),
        }),
    )
        .into_response()
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
    let current = lifecycle::signed_in(&session, &auth.config).await;
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
    if let Err(error) = auth.hooks.update_session(&mut data, &update.data).await {
        return Answer::failure(&auth, error, true, None, None).into_response();
    }
    if let Err(cause) = lifecycle::replace(&session, &data).await {
        tracing::error!(%cause, "saving the session update failed");
        return Answer::failure(&auth, AuthError::Signin, true, None, None).into_response();
    }
    session_json(Some(to_client_session(&auth, &data, expires)))
}

/// GET `/api/auth/providers`: every provider, as NextAuth lists them:
/// `{id: {id, name, type, signinUrl, callbackUrl}}`, the credentials first.
async fn providers(Extension(auth): Extension<Auth>) -> Response {
    let entry = |id: &str, name: &str, kind: &str| {
        serde_json::json!({
            "id": id,
            "name": name,
            "type": kind,
            "signinUrl": auth.api_url(&format!("/signin/{id}")),
            "callbackUrl": auth.api_url(&format!("/callback/{id}")),
        })
    };
    let mut all = serde_json::Map::new();
    all.insert(
        "credentials".into(),
        entry("credentials", "Credentials", "credentials"),
    );
    for provider in auth.providers.iter() {
        all.insert(
            provider.id().into(),
            entry(provider.id(), &provider.name(), provider.kind()),
        );
    }
    if auth.config.email_sign_in.enabled {
        all.insert("email".into(), entry("email", "Email", "email"));
    }
    if auth.passkeys.enabled() {
        // Auth.js's WebAuthn provider: its ceremonies' routes.
        all.insert(
            "passkey".into(),
            serde_json::json!({
                "id": "passkey",
                "name": "Passkey",
                "type": "webauthn",
                "signinUrl": format!("{}{}", auth.config.base_url(), crate::wire::routes::PASSKEY_AUTH_OPTIONS),
                "callbackUrl": format!("{}{}", auth.config.base_url(), crate::wire::routes::PASSKEY_AUTH_VERIFY),
            }),
        );
    }
    (no_store(), Json(serde_json::Value::Object(all))).into_response()
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
    let json = form_flag(form.json.as_deref());
    let ip = client_ip(
        connect.map(|c| c.0 .0),
        &headers,
        &auth.config.site.trusted_proxies,
    );
    let current = lifecycle::signed_in(&session, &auth.config)
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
        provider: None,
        amr: Vec::new(),
    };
    // Bound to the session: a token/cookie pair from another browser, or one
    // minted before this session signed in, does not sign it out.
    if !csrf.verify(&form.csrf_token, csrf_binding(current.as_ref())) {
        auth.audit(audit(Outcome::MissingCsrf)).await;
        return Answer::failure(
            &auth,
            AuthError::MissingCSRF,
            json,
            Some(routes::SIGN_OUT),
            None,
        )
        .into_response();
    }
    let url = match auth.resolve_callback(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(e) => return Answer::failure(&auth, e, json, None, None).into_response(),
    };
    if let Err(cause) = lifecycle::end(&session).await {
        // A store that failed, or a change not confirmed by every instance:
        // the visitor may try again (NextAuth's `Signin` would tell them to
        // sign in with another account).
        tracing::error!(%cause, "ending the session failed");
        auth.audit(audit(Outcome::Error)).await;
        let mut answer = Answer::failure(&auth, AuthError::ServiceUnavailable, json, None, None);
        answer.retry_after = Some(1);
        return answer.into_response();
    }
    auth.audit(audit(Outcome::Success)).await;
    auth.hooks.sign_out(user_id.as_deref()).await;
    let mut answer = Answer::success(url, json);
    let token = csrf.rotate(None);
    if json {
        answer.body.csrf_token = Some(token);
    }
    answer.into_response()
}
