//! The credentials callback (NextAuth's `/callback/credentials`), in this order:
//! CSRF (bound to the visitor's session), `callbackUrl`, the per-IP limit, the
//! credentials parsed and bounded, the account's failure policy, `authorize`,
//! the `sign_in` callback, then a new session with a rotated CSRF token and a
//! device cookie. Nothing is hashed before the checks that cost nothing.
//!
//! The flow returns a domain result, [`SignedIn`] or [`Refused`]; the Leptos
//! server function in [`crate::callback`] is the edge that turns it into the
//! contract's answer (JSON or a redirect, see
//! [`Answer::sign_in`](super::answer::Answer::sign_in)).

use std::net::IpAddr;

use http::HeaderValue;
use tower_sessions::Session;

use super::{
    audit::{AuditAction, AuditEvent, Outcome},
    authorize::{AuthorizeError, Credentials},
    callbacks::SignInDecision,
    client_session::to_client_session,
    csrf::Csrf,
    limits::{whole_seconds, Limited},
    lockout::{self, Locked},
    password::Password,
    session::{self, csrf_binding},
    state::Auth,
    users::Identifier,
};
use crate::AuthError;

/// The form of the contract, as posted by a form or `sign_in()`.
#[derive(Debug)]
pub struct CallbackForm {
    pub email: String,
    pub password: String,
    pub csrf_token: String,
    pub callback_url: Option<String>,
    /// "Remember me": a persistent cookie and the long lifetime. Without it the
    /// cookie ends with the browser session and the session after `short_max_age`.
    pub remember: bool,
}

/// Who is asking: for the limits, the audit events and the way back on a failure.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The value of the device cookie, if the browser sent one.
    pub device_cookie: Option<String>,
}

/// A sign-in that went through, or that the `sign_in` callback sent elsewhere.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Where to go now: the `callbackUrl`, or the callback's redirect.
    pub url: String,
    /// The new session, if one was started (not on a callback's redirect).
    pub session: Option<NewSession>,
}

/// A session started by a sign-in.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// What the client sees of it.
    pub session: crate::Session,
    /// The CSRF token, rotated and bound to the new session.
    pub csrf_token: String,
    /// The device cookie that makes this browser known to the account.
    pub device_cookie: HeaderValue,
}

/// A refused sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub error: AuthError,
    /// The resolved `callbackUrl`, to carry back to the sign-in page (none
    /// when it was the fault, or could not be resolved).
    pub callback_url: Option<String>,
    /// Seconds to wait before another attempt (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl Refused {
    fn new(error: AuthError, callback_url: Option<&str>) -> Refused {
        Refused {
            error,
            callback_url: callback_url.map(str::to_string),
            retry_after: None,
        }
    }

    fn retry_after(mut self, seconds: u64) -> Refused {
        self.retry_after = Some(seconds);
        self
    }
}

/// Runs the credentials callback.
pub async fn credentials(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    form: CallbackForm,
) -> Result<SignedIn, Refused> {
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
    let current = session::signed_in(session, &auth.config).await;
    if !csrf.verify(
        &form.csrf_token,
        csrf_binding(current.as_ref().map(|(d, _)| d)),
    ) {
        auth.audit(audit(Outcome::MissingCsrf, None)).await;
        let cb = auth.resolve_callback(form.callback_url.as_deref()).ok();
        return Err(Refused::new(AuthError::MissingCSRF, cb.as_deref()));
    }
    let callback_url = match auth.resolve_callback(form.callback_url.as_deref()) {
        Ok(url) => url,
        Err(error) => {
            auth.audit(audit(Outcome::InvalidCallbackUrl, None)).await;
            return Err(Refused::new(error, None));
        }
    };
    let fail = |error| Refused::new(error, Some(&callback_url));
    let wrong = || Err(fail(AuthError::CredentialsSignin));

    // Every attempt counts against its IP, before any work is spent on it.
    if let Err(limited) = auth.limits.attempt(caller.ip).await {
        let outcome = match limited {
            Limited::Wait(_) => Outcome::RateLimited,
            Limited::Unavailable => Outcome::Error,
        };
        auth.audit(audit(outcome, None)).await;
        return Err(fail(limited.error()).retry_after(limited.retry_after()));
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
        .await
    {
        Ok(attempt) => attempt,
        Err(lockout::Refused::Locked(locked)) => {
            auth.audit(audit(Outcome::Locked, None)).await;
            return Err(fail(AuthError::RateLimited).retry_after(whole_seconds(locked.wait)));
        }
        Err(lockout::Refused::Unavailable) => {
            auth.audit(audit(Outcome::Error, None)).await;
            return Err(fail(AuthError::ServiceUnavailable).retry_after(1));
        }
    };
    let failed = |attempt: super::lockout::Attempt, outcome, user_id: Option<&str>| {
        let (event, lock_event) = (audit(outcome, user_id), audit(outcome, user_id));
        async move {
            let lock = attempt.failed().await;
            let events = [
                Some(event),
                lock.map(|Locked { wait, hard }| AuditEvent {
                    action: AuditAction::Lockout,
                    outcome: Outcome::Started {
                        wait_seconds: wait.as_secs(),
                        hard,
                    },
                    ..lock_event
                }),
            ];
            for event in events.into_iter().flatten() {
                auth.audit(event).await;
            }
        }
    };
    // Read before the password is checked: a revocation of this user's
    // sessions from here on keeps the session from being stored.
    let revocation_seq = match auth.sessions.revocation_seq().await {
        Ok(seq) => seq,
        Err(cause) => {
            tracing::error!(%cause, "reading the revocation sequence failed");
            drop(attempt);
            auth.audit(audit(Outcome::Error, None)).await;
            return Err(fail(AuthError::ServiceUnavailable).retry_after(1));
        }
    };
    let credentials = Credentials {
        email: form.email,
        password,
    };
    let user = match auth.hooks.authorize(&credentials).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            failed(attempt, Outcome::WrongCredentials, None).await;
            return wrong();
        }
        Err(AuthorizeError::Refused(error)) => {
            // The password was right: not a failure to count, and not a
            // session either.
            attempt.succeeded().await;
            auth.audit(audit(Outcome::Refused, None)).await;
            return Err(fail(error));
        }
        Err(cause) if cause.is_busy() => {
            // Nothing was checked: the attempt counts as nothing.
            drop(attempt);
            auth.audit(audit(Outcome::Busy, None)).await;
            return Err(fail(AuthError::ServiceUnavailable).retry_after(1));
        }
        Err(cause) => {
            // Sesame: the cause stays in the log; the client sees CredentialsSignin,
            // and the failure counts like any other, so nothing tells it apart.
            tracing::error!(%cause, "authorize failed");
            failed(attempt, Outcome::Error, None).await;
            return wrong();
        }
    };
    match auth.hooks.sign_in(&user).await {
        SignInDecision::Allow => {}
        SignInDecision::Deny => {
            // Answered as a wrong password: a refusal after the right one
            // would tell an attacker the password.
            failed(attempt, Outcome::Refused, Some(&user.id)).await;
            return wrong();
        }
        SignInDecision::Redirect(to) => {
            attempt.succeeded().await;
            auth.audit(audit(Outcome::Refused, Some(&user.id))).await;
            return match auth.resolve_callback(Some(&to)) {
                Ok(url) => Ok(SignedIn { url, session: None }),
                Err(error) => Err(fail(error)),
            };
        }
    }
    let origin = session::Origin {
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        revocation_seq,
    };
    let started = session::start(session, &user, &origin, &auth.config, form.remember).await;
    let (data, expires) = match started {
        Ok(started) => started,
        Err(cause) => {
            tracing::error!(%cause, "could not start a session");
            drop(attempt);
            auth.audit(audit(Outcome::Error, Some(&user.id))).await;
            return Err(fail(AuthError::ServiceUnavailable).retry_after(1));
        }
    };
    attempt.succeeded().await;
    let csrf_token = csrf.rotate(data.csrf_binding());
    auth.audit(audit(Outcome::Success, Some(&user.id))).await;
    auth.hooks.signed_in(&user).await;
    Ok(SignedIn {
        url: callback_url,
        session: Some(NewSession {
            session: to_client_session(auth, &data, expires),
            csrf_token,
            device_cookie: auth.lockout.device_cookie(identifier),
        }),
    })
}
