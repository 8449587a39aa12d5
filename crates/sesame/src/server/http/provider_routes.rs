//! The provider routes' edge: POST `/api/auth/signin/:provider` (start),
//! GET and POST `/api/auth/callback/:provider` (the provider's return), and
//! the account page's connect and disconnect. The flows are in
//! [`crate::server::flows::oauth`]; this file reads the request and makes
//! the answer (JSON `{url}` or a 302, and the flow's cookie).

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, Path},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Form, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::{
    defense::csrf::Csrf,
    flows::email_link,
    flows::oauth::{self, Finished, Return},
    flows::sign_in::{Caller, Refused},
    http::answer::Answer,
    http::body::form_flag,
    http::cookies::cookie,
    http::request::caller,
    state::Auth,
};
use crate::wire::routes;

/// The provider routes. Needs the [`Auth`] and [`Csrf`] extensions and the
/// session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(routes::SIGN_IN_PROVIDER, post(start))
        .route(
            routes::CALLBACK_PROVIDER,
            get(return_by_query).post(return_by_form),
        )
        .route(routes::CONNECT, post(connect))
}

#[derive(Debug, Deserialize)]
struct StartForm {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    #[serde(rename = "callbackUrl", default)]
    callback_url: Option<String>,
    #[serde(default)]
    json: Option<String>,
    /// The connect form's provider (POST `/account/connect`).
    #[serde(default)]
    provider: Option<String>,
    /// The email provider's address.
    #[serde(default)]
    email: Option<String>,
}

/// POST `/api/auth/signin/:provider`: the provider's URL, as `{url}` or a 302.
// An axum handler's arguments are its extractors.
#[allow(clippy::too_many_arguments)]
async fn start(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path(provider): Path<String>,
    Form(form): Form<StartForm>,
) -> Response {
    let caller = caller(&auth, connect.map(|c| c.0 .0), &headers);
    if provider == "email" {
        let json = form_flag(form.json.as_deref());
        let asked = email_link::request(
            &auth,
            &csrf,
            &session,
            &caller,
            email_link::LinkRequest {
                email: form.email.as_deref().unwrap_or(""),
                csrf_token: &form.csrf_token,
                callback_url: form.callback_url.as_deref(),
                locale: crate::i18n::locale_of(&uri, &headers),
            },
        )
        .await;
        return match asked {
            Ok(url) => Answer::success(url, json).into_response(),
            Err(refused) => refusal(&auth, refused, json).into_response(),
        };
    }
    begin(&auth, &csrf, &session, &caller, &provider, form, false).await
}

fn refusal(auth: &Auth, refused: Refused, json: bool) -> Answer {
    Answer::sign_in(auth, Err(refused), json, None)
}

/// POST `/api/auth/account/connect` (`provider`): links a provider account
/// to the signed-in user, through the provider.
async fn connect(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    let caller = caller(&auth, connect.map(|c| c.0 .0), &headers);
    let provider = form.provider.clone().unwrap_or_default();
    begin(&auth, &csrf, &session, &caller, &provider, form, true).await
}

async fn begin(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    provider: &str,
    form: StartForm,
    link: bool,
) -> Response {
    let json = form_flag(form.json.as_deref());
    let start = oauth::Start {
        provider,
        csrf_token: &form.csrf_token,
        callback_url: form.callback_url.as_deref(),
        link,
    };
    let started = oauth::start(auth, csrf, session, caller, start).await;
    match started {
        Ok(started) => {
            let mut answer = Answer::success(started.url, json);
            answer.cookies.push(started.cookie);
            answer.into_response()
        }
        Err(refused) => refusal(auth, refused, json).into_response(),
    }
}

/// The link page's form (POST `/api/auth/callback/email`).
#[derive(Debug, Default, Deserialize)]
struct LinkForm {
    #[serde(default)]
    token: String,
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    #[serde(default)]
    json: Option<String>,
}

/// GET `/api/auth/callback/:provider?code=&state=`.
async fn return_by_query(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    uri: axum::http::Uri,
) -> Response {
    if provider == "email" {
        // The link's GET signs nobody in: it shows the page whose button does.
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        return (
            axum::http::StatusCode::FOUND,
            [(
                axum::http::header::LOCATION,
                format!("{}{query}", routes::VERIFY_REQUEST),
            )],
        )
            .into_response();
    }
    let ret: Return = serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    back(&auth, &csrf, &session, connect, &headers, &provider, ret).await
}

/// POST `/api/auth/callback/:provider` (`response_mode=form_post`).
async fn return_by_form(
    Extension(auth): Extension<Auth>,
    Extension(csrf): Extension<Csrf>,
    session: Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if provider == "email" {
        let form: LinkForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let json = form_flag(form.json.as_deref());
        let caller = caller(&auth, connect.map(|c| c.0 .0), &headers);
        let outcome = email_link::finish(
            &auth,
            &csrf,
            &session,
            &caller,
            &form.token,
            &form.csrf_token,
        )
        .await;
        return Answer::sign_in(&auth, outcome, json, None).into_response();
    }
    let ret: Return = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    back(&auth, &csrf, &session, connect, &headers, &provider, ret).await
}

async fn back(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    provider: &str,
    ret: Return,
) -> Response {
    let caller = caller(auth, connect.map(|c| c.0 .0), headers);
    let flow = cookie(headers, oauth::cookie_name(auth));
    let finished = oauth::finish(auth, csrf, session, &caller, provider, flow, ret).await;
    let mut answer = match finished {
        Ok(Finished::SignedIn(signed_in)) => Answer::sign_in(auth, Ok(*signed_in), false, None),
        Ok(Finished::Linked { url }) => Answer::account(&url, Ok("connected"), false),
        Err(refused) => refusal(auth, refused, false),
    };
    // The flow is over, whatever its outcome: its cookie goes.
    answer.cookies.push(oauth::clear_cookie(auth));
    answer.into_response()
}
