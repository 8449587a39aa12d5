//! POST `/api/auth/second-factor`, the second factor's step (the edge): reads
//! the form (`code` or `recoveryCode`, `trustBrowser`, `csrfToken`, `json`)
//! and the pending record's cookie, runs [`second_factor::verify`], and
//! answers like a credentials sign-in: `{url, session, csrfToken}` JSON or a
//! 302 to the `callbackUrl`; a refusal goes back to the step's page.

use std::net::SocketAddr;

use axum::{
    extract::ConnectInfo,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
    Extension, Form, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::{
    defense::csrf::Csrf,
    flows::second_factor::{self, StepForm},
    http::answer::Answer,
    http::body::form_flag,
    http::cookies::cookie,
    http::request::caller,
    state::Auth,
};
use crate::wire::{routes, AuthError};

/// The step's route. Needs the [`Auth`] and [`Csrf`] extensions and the
/// session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(routes::SECOND_FACTOR, post(step))
}

#[derive(Debug, Default, Deserialize)]
struct Posted {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(rename = "recoveryCode", default)]
    recovery_code: Option<String>,
    #[serde(rename = "trustBrowser", default)]
    trust_browser: Option<String>,
    #[serde(default)]
    json: Option<String>,
}

async fn step(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(posted): Form<Posted>,
) -> Response {
    let caller = caller(&auth, connect.map(|c| c.0 .0), &headers);
    let pending_name = second_factor::pending_cookie_name(&auth);
    let pending = cookie(&headers, &pending_name);
    let json = form_flag(posted.json.as_deref());
    let form = StepForm {
        csrf_token: posted.csrf_token,
        code: posted.code,
        recovery_code: posted.recovery_code,
        passkey: None,
        trust_browser: form_flag(posted.trust_browser.as_deref()),
    };
    let outcome = second_factor::verify(&auth, &csrf, &session, &caller, pending, form).await;
    // A refused code goes back to the step's page with its error; a record
    // that is gone, back to the sign-in page.
    let back = match &outcome {
        Err(refused) if refused.error != AuthError::SessionRequired => Some(routes::SECOND_FACTOR),
        _ => None,
    };
    let mut answer = Answer::sign_in(&auth, outcome, json, back);
    if let (Some(page), Some(error)) = (back, answer.body.error.clone()) {
        if !json {
            answer.location = Some(format!("{page}?error={error}"));
        }
    }
    answer.into_response()
}
