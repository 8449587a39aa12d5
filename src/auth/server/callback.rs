//! The credentials callback (NextAuth's `/callback/credentials`), in the contract's
//! order: CSRF, `callbackUrl`, `authorize`, then a new session.
//!
//! The Leptos server function in [`crate::auth::callback`] is the transport; this is
//! the logic, free of Leptos so it reads and tests on its own.

use tower_sessions::Session;

use super::{
    answer::Answer, authorize::Credentials, callbacks::SignInDecision, csrf::Csrf,
    password::Password, routes::to_client_session, session, state::Auth, users::MAX_EMAIL_BYTES,
};
use crate::auth::AuthError;

/// The form of the contract, as posted by a form or `sign_in()`.
#[derive(Debug)]
pub struct CallbackForm {
    pub email: String,
    pub password: String,
    pub csrf_token: String,
    pub callback_url: Option<String>,
    /// `json=true`: answer JSON instead of a redirect.
    pub json: bool,
    /// "Remember me": a persistent cookie and the long lifetime. Without it the
    /// cookie ends with the browser session and the session after `short_max_age`.
    pub remember: bool,
}

impl CallbackForm {
    /// A form flag: `true`, `on` (an HTML checkbox) or `1`.
    pub fn json_flag(raw: Option<&str>) -> bool {
        matches!(raw, Some("true") | Some("on") | Some("1"))
    }
}

/// Who is asking: for logs and for the way back on a failure.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<std::net::IpAddr>,
    /// The same-origin page the form was posted from, to return to on a failure.
    pub back_to: Option<String>,
}

/// Runs the credentials callback.
pub async fn credentials(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    form: CallbackForm,
) -> Answer {
    let json = form.json;
    let back_to = caller.back_to.as_deref();
    let ip = caller.ip.map(|ip| ip.to_string()).unwrap_or_default();

    if !csrf.verify(&form.csrf_token) {
        tracing::warn!(event = "csrf_refused", %ip, "sign-in without a valid CSRF token");
        let cb = auth.resolve_callback(form.callback_url.as_deref()).ok();
        return Answer::failure(auth, AuthError::MissingCSRF, json, back_to, cb.as_deref());
    }
    let callback_url = match auth.resolve_callback(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(error) => {
            tracing::warn!(event = "callback_url_refused", %ip, "sign-in with a foreign callbackUrl");
            return Answer::failure(auth, error, json, back_to, None);
        }
    };
    let fail = |error| Answer::failure(auth, error, json, back_to, Some(&callback_url));

    // Every attempt counts, before any work is spent on it.
    if let Err(wait) = auth.limits.attempt(caller.ip, &form.email) {
        tracing::warn!(event = "rate_limited", %ip, retry_after = wait, "sign-in over the rate limit");
        return fail(AuthError::RateLimited).with_retry_after(wait);
    }
    // Oversized input is refused before any hashing.
    if form.email.len() > MAX_EMAIL_BYTES {
        tracing::info!(event = "sign_in_failed", %ip, "identifier refused before hashing");
        return fail(AuthError::CredentialsSignin);
    }
    let password = match Password::parse(form.password) {
        Ok(p) => p,
        Err(reason) => {
            tracing::info!(event = "sign_in_failed", %ip, %reason, "password refused before hashing");
            return fail(AuthError::CredentialsSignin);
        }
    };
    let credentials = Credentials {
        email: form.email,
        password,
    };
    let user = match auth.authorize.authorize(&credentials).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(event = "sign_in_failed", %ip, "wrong credentials");
            return fail(AuthError::CredentialsSignin);
        }
        Err(cause) if cause.is_busy() => {
            tracing::warn!(event = "sign_in_busy", %ip, "no hashing slot free");
            return fail(AuthError::ServiceUnavailable).with_retry_after(1);
        }
        Err(cause) => {
            // Sesame: the cause stays in the log; the client sees CredentialsSignin.
            tracing::error!(event = "sign_in_failed", %ip, %cause, "authorize failed");
            return fail(AuthError::CredentialsSignin);
        }
    };
    match auth.callbacks.sign_in(&user).await {
        SignInDecision::Allow => {}
        SignInDecision::Deny => {
            tracing::info!(event = "sign_in_denied", %ip, user_id = %user.id, "sign-in callback refused");
            return fail(AuthError::AccessDenied);
        }
        SignInDecision::Redirect(to) => {
            tracing::info!(event = "sign_in_denied", %ip, user_id = %user.id, "sign-in callback redirected");
            return match auth.resolve_callback(Some(&to)) {
                Ok(url) => Answer::success(url, json),
                Err(error) => fail(error),
            };
        }
    }
    let (data, expires) = match session::start(session, &user, &auth.config, form.remember).await {
        Ok(started) => started,
        Err(cause) => {
            tracing::error!(event = "sign_in_failed", %ip, %cause, "could not start a session");
            return fail(AuthError::Signin);
        }
    };
    tracing::info!(event = "sign_in", %ip, user_id = %user.id, "signed in");
    auth.events.sign_in(&user).await;
    let mut answer = Answer::success(callback_url, json);
    if json {
        answer.body.session = Some(to_client_session(auth, &data, expires));
    }
    answer
}
