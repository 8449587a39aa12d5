//! The credentials callback (NextAuth's `/callback/credentials`), in this order:
//! CSRF (bound to the visitor's session), `callbackUrl`, the per-IP limit, the
//! credentials parsed and bounded, the account's failure policy, `authorize`,
//! the `sign_in` callback, then a new session with a rotated CSRF token and a
//! device cookie. Nothing is hashed before the checks that cost nothing.
//!
//! The Leptos server function in [`crate::auth::callback`] is the transport; this is
//! the logic, free of Leptos so it reads and tests on its own.

use std::net::IpAddr;

use tower_sessions::Session;

use super::{
    answer::Answer,
    audit::{AuditAction, AuditEvent, Outcome},
    authorize::{AuthorizedUser, Credentials},
    callbacks::SignInDecision,
    csrf::Csrf,
    limits::whole_seconds,
    lockout::Locked,
    password::Password,
    routes::to_client_session,
    session::{self, csrf_binding},
    state::Auth,
    users::Identifier,
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

/// Who is asking: for the limits, the audit events and the way back on a failure.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The value of the device cookie, if the browser sent one.
    pub device_cookie: Option<String>,
    /// The `Referer` header, to send a failed form post back to its page.
    pub referer: Option<String>,
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
    // Parsed and bounded before anything is keyed on it.
    let identifier = Identifier::parse(&form.email).ok();
    let audit = |outcome, user_id: Option<&str>| AuditEvent {
        action: AuditAction::SignIn,
        outcome,
        account: identifier.as_ref().map(|i| auth.audit_account(i)),
        user_id: user_id.map(str::to_string),
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
    };
    // A failed form post goes back to its page, if that page passes the
    // callbackUrl policy (a `//host` path would make the way back an open redirect).
    let back_to = caller
        .referer
        .as_deref()
        .and_then(|r| auth.policy.same_origin_path(r));
    let back_to = back_to.as_deref();

    let current = session::signed_in(session, &auth.config).await;
    if !csrf.verify(
        &form.csrf_token,
        csrf_binding(current.as_ref().map(|(d, _)| d)),
    ) {
        auth.audit(audit(Outcome::MissingCsrf, None)).await;
        let cb = auth.resolve_callback(form.callback_url.as_deref()).ok();
        return Answer::failure(auth, AuthError::MissingCSRF, json, back_to, cb.as_deref());
    }
    let callback_url = match auth.resolve_callback(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(error) => {
            auth.audit(audit(Outcome::InvalidCallbackUrl, None)).await;
            return Answer::failure(auth, error, json, back_to, None);
        }
    };
    let fail = |error| Answer::failure(auth, error, json, back_to, Some(&callback_url));
    let wrong = || fail(AuthError::CredentialsSignin);

    // Every attempt counts against its IP, before any work is spent on it.
    if let Err(wait) = auth.limits.attempt(caller.ip) {
        auth.audit(audit(Outcome::RateLimited, None)).await;
        return fail(AuthError::RateLimited).with_retry_after(wait);
    }
    // Incomplete or oversized credentials cost no hashing, and answer as a
    // wrong password does.
    let (Some(identifier), Ok(password)) = (identifier.as_ref(), Password::parse(form.password))
    else {
        auth.audit(audit(Outcome::WrongCredentials, None)).await;
        return wrong();
    };
    // The account's failure policy (or this device's, for a browser that
    // signed in to it before), before any hashing: a locked account is
    // refused even with the right password.
    let attempt = match auth
        .lockout
        .check(identifier, caller.device_cookie.as_deref())
    {
        Ok(attempt) => attempt,
        Err(locked) => {
            auth.audit(audit(Outcome::Locked, None)).await;
            return fail(AuthError::RateLimited).with_retry_after(whole_seconds(locked.wait));
        }
    };
    let failed = |attempt: super::lockout::Attempt, outcome, user_id: Option<&str>| {
        let lock = attempt.failed();
        let events = [
            Some(audit(outcome, user_id)),
            lock.map(|Locked { wait, hard }| AuditEvent {
                action: AuditAction::Lockout,
                outcome: Outcome::Started {
                    wait_seconds: wait.as_secs(),
                    hard,
                },
                ..audit(outcome, user_id)
            }),
        ];
        async move {
            for event in events.into_iter().flatten() {
                auth.audit(event).await;
            }
        }
    };
    let credentials = Credentials {
        email: form.email,
        password,
    };
    let user: AuthorizedUser = match auth.authorize.authorize(&credentials).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            failed(attempt, Outcome::WrongCredentials, None).await;
            return wrong();
        }
        Err(cause) if cause.is_busy() => {
            // Nothing was checked: the attempt counts as nothing.
            drop(attempt);
            auth.audit(audit(Outcome::Busy, None)).await;
            return fail(AuthError::ServiceUnavailable).with_retry_after(1);
        }
        Err(cause) => {
            // Sesame: the cause stays in the log; the client sees CredentialsSignin,
            // and the failure counts like any other, so nothing tells it apart.
            tracing::error!(%cause, "authorize failed");
            failed(attempt, Outcome::Error, None).await;
            return wrong();
        }
    };
    match auth.callbacks.sign_in(&user).await {
        SignInDecision::Allow => {}
        SignInDecision::Deny => {
            // Answered as a wrong password: a refusal after the right one
            // would tell an attacker the password.
            failed(attempt, Outcome::Refused, Some(&user.id)).await;
            return wrong();
        }
        SignInDecision::Redirect(to) => {
            attempt.succeeded();
            auth.audit(audit(Outcome::Refused, Some(&user.id))).await;
            return match auth.resolve_callback(Some(&to)) {
                Ok(url) => Answer::success(url, json),
                Err(error) => fail(error),
            };
        }
    }
    let (data, expires) = match session::start(session, &user, &auth.config, form.remember).await {
        Ok(started) => started,
        Err(cause) => {
            tracing::error!(%cause, "could not start a session");
            drop(attempt);
            auth.audit(audit(Outcome::Error, Some(&user.id))).await;
            return fail(AuthError::Signin);
        }
    };
    attempt.succeeded();
    let csrf_token = csrf.rotate(data.csrf_binding());
    auth.audit(audit(Outcome::Success, Some(&user.id))).await;
    auth.events.sign_in(&user).await;
    let mut answer = Answer::success(callback_url, json);
    answer.cookies.push(auth.lockout.device_cookie(identifier));
    if json {
        answer.body.session = Some(to_client_session(auth, &data, expires));
        answer.body.csrf_token = Some(csrf_token);
    }
    answer
}
