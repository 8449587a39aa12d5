//! The passkey routes' edge. The ceremonies are `fetch` calls from the
//! browser script (`GET /api/auth/passkey.js`, served from here so that any
//! app has it): POST `…/passkey/register/options` and `…/register/verify`,
//! `…/passkey/authenticate/options` and `…/authenticate/verify`, each
//! form-encoded with `csrfToken` (the browser's credential as a JSON string
//! in `credential`), same-origin, the ceremony's state named by an HttpOnly
//! cookie. Renaming and removing a passkey are plain forms of the security
//! page (`…/account/passkeys/rename`, `…/remove`), answered like the other
//! account actions. The flows are [`crate::server::flows::passkey`].

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts as RequestParts, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Extension, Form, Json, Router,
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::server::{
    defense::csrf::Csrf,
    flows::own_account::Request,
    flows::passkey::{self, PasskeySignIn},
    flows::second_factor::{self, StepForm},
    flows::sign_in::{Caller, Refused},
    http::answer::Answer,
    http::body::form_flag,
    http::cookies::cookie,
    http::request::caller,
    state::Auth,
};
use crate::wire::{routes, AuthError};

/// The browser part of the ceremonies.
const SCRIPT: &str = include_str!("passkey.js");

/// The passkey routes. Needs the [`Auth`] and [`Csrf`] extensions and the
/// session layer.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(routes::PASSKEY_SCRIPT, get(script))
        .route(routes::PASSKEY_REGISTER_OPTIONS, post(register_options))
        .route(routes::PASSKEY_REGISTER_VERIFY, post(register_verify))
        .route(routes::PASSKEY_AUTH_OPTIONS, post(authenticate_options))
        .route(routes::PASSKEY_AUTH_VERIFY, post(authenticate_verify))
        .route(routes::PASSKEY_RENAME, post(rename))
        .route(routes::PASSKEY_REMOVE, post(remove))
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct Posted {
    #[serde(rename = "csrfToken", default)]
    csrf_token: String,
    /// The browser's credential, JSON.
    #[serde(default)]
    credential: Option<String>,
    #[serde(default)]
    name: Option<String>,
    /// `second-factor` for a pending sign-in's step; else a sign-in.
    #[serde(default)]
    purpose: Option<String>,
    #[serde(rename = "callbackUrl", default)]
    callback_url: Option<String>,
    #[serde(default)]
    remember: Option<String>,
    #[serde(rename = "trustBrowser", default)]
    trust_browser: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    json: Option<String>,
}

/// What a handler reads of its request.
struct Parts {
    auth: Auth,
    csrf: Csrf,
    session: Session,
    caller: Caller,
    headers: HeaderMap,
}

impl Parts {
    fn request(&self) -> Request<'_> {
        Request {
            auth: &self.auth,
            csrf: &self.csrf,
            session: &self.session,
            ip: self.caller.ip,
            locale: crate::i18n::Locale::En,
        }
    }

    fn cookie<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        cookie(&self.headers, name)
    }

    fn ceremony(&self) -> Option<String> {
        let name = self.auth.passkeys.cookie_name();
        cookie(&self.headers, &name).map(str::to_string)
    }
}

/// Every handler's request parts, read once: the extensions, the session,
/// the caller (address, device cookie) and the headers (cookies).
impl<S: Send + Sync> FromRequestParts<S> for Parts {
    type Rejection = Response;

    async fn from_request_parts(req: &mut RequestParts, state: &S) -> Result<Self, Response> {
        let Extension(auth) = Extension::<Auth>::from_request_parts(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Extension(csrf) = Extension::<Csrf>::from_request_parts(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let session = Session::from_request_parts(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let peer = req
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|connect| connect.0);
        let headers = req.headers.clone();
        let caller = caller(&auth, peer, &headers);
        Ok(Parts {
            auth,
            csrf,
            session,
            caller,
            headers,
        })
    }
}

/// A JSON error with its status.
fn error(error: AuthError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    uncached(
        (
            status,
            Json(serde_json::json!({ "error": error.code(), "url": "" })),
        )
            .into_response(),
    )
}

/// Options and the ceremony's cookie.
fn options((options, cookie): passkey::Options) -> Response {
    let mut res = Json(options).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    uncached(res)
}

/// `res`, never cached (its challenge or error is for this request only).
fn uncached(mut res: Response) -> Response {
    for (name, value) in crate::server::http::answer::no_store() {
        res.headers_mut().insert(name, value);
    }
    res
}

async fn register_options(p: Parts, Form(posted): Form<Posted>) -> Response {
    match passkey::register_options(&p.request(), &posted.csrf_token).await {
        Ok(o) => options(o),
        Err(e) => error(e),
    }
}

async fn register_verify(p: Parts, Form(posted): Form<Posted>) -> Response {
    let Some(credential) = posted
        .credential
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
    else {
        return error(AuthError::InvalidRequest);
    };
    let outcome = passkey::register_verify(
        &p.request(),
        &posted.csrf_token,
        p.ceremony().as_deref(),
        posted.name.as_deref().unwrap_or(""),
        &credential,
    )
    .await;
    let mut res = match outcome {
        Ok(done) => Json(serde_json::json!({ "url": "", "done": done })).into_response(),
        Err(e) => error(e),
    };
    res.headers_mut()
        .append(header::SET_COOKIE, p.auth.passkeys.clear_cookie());
    res
}

async fn authenticate_options(p: Parts, Form(posted): Form<Posted>) -> Response {
    let pending_name = second_factor::pending_cookie_name(&p.auth);
    let outcome = passkey::authenticate_options(
        &p.auth,
        &p.csrf,
        &p.session,
        &p.caller,
        &posted.csrf_token,
        p.cookie(&pending_name),
        posted.purpose.as_deref() == Some("second-factor"),
    )
    .await;
    match outcome {
        Ok(o) => options(o),
        Err(refused) => refusal(&p.auth, refused),
    }
}

fn refusal(auth: &Auth, refused: Refused) -> Response {
    Answer::sign_in(auth, Err(refused), true, None).into_response()
}

async fn authenticate_verify(p: Parts, Form(posted): Form<Posted>) -> Response {
    let Some(credential) = posted
        .credential
        .as_deref()
        .and_then(|c| serde_json::from_str::<webauthn_rs::prelude::PublicKeyCredential>(c).ok())
    else {
        return error(AuthError::InvalidRequest);
    };
    let outcome = if posted.purpose.as_deref() == Some("second-factor") {
        let pending_name = second_factor::pending_cookie_name(&p.auth);
        let form = StepForm {
            csrf_token: posted.csrf_token.clone(),
            passkey: Some((Box::new(credential), p.ceremony())),
            trust_browser: form_flag(posted.trust_browser.as_deref()),
            ..StepForm::default()
        };
        second_factor::verify(
            &p.auth,
            &p.csrf,
            &p.session,
            &p.caller,
            p.cookie(&pending_name),
            form,
        )
        .await
    } else {
        let ceremony = p.ceremony();
        passkey::sign_in(
            &p.auth,
            &p.csrf,
            &p.session,
            &p.caller,
            PasskeySignIn {
                csrf_token: &posted.csrf_token,
                callback_url: posted.callback_url.as_deref(),
                remember: form_flag(posted.remember.as_deref()),
                credential: &credential,
                ceremony: ceremony.as_deref(),
            },
        )
        .await
    };
    let mut answer = Answer::sign_in(&p.auth, outcome, true, None);
    answer.cookies.push(p.auth.passkeys.clear_cookie());
    answer.into_response()
}

/// The way back of a security-page form, through the `callbackUrl` policy.
fn back(p: &Parts, posted: &Posted, outcome: Result<&str, AuthError>) -> Response {
    let back = posted
        .callback_url
        .as_deref()
        .and_then(|url| p.auth.resolve_callback(Some(url)).ok())
        .unwrap_or_else(|| "/".into());
    Answer::account(&back, outcome, form_flag(posted.json.as_deref())).into_response()
}

async fn rename(p: Parts, Form(posted): Form<Posted>) -> Response {
    let id = posted
        .id
        .as_deref()
        .and_then(|i| i.parse().ok())
        .unwrap_or(0);
    let outcome = passkey::rename(
        &p.request(),
        &posted.csrf_token,
        id,
        posted.name.as_deref().unwrap_or(""),
    )
    .await;
    back(&p, &posted, outcome)
}

async fn remove(p: Parts, Form(posted): Form<Posted>) -> Response {
    let id = posted
        .id
        .as_deref()
        .and_then(|i| i.parse().ok())
        .unwrap_or(0);
    let outcome =
        passkey::remove(&p.request(), &posted.csrf_token, id, posted.code.as_deref()).await;
    back(&p, &posted, outcome)
}
