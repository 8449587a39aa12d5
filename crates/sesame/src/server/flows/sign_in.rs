//! The credentials callback (NextAuth's `/callback/credentials`), in this order:
//! CSRF (bound to the visitor's session), `callbackUrl`, the per-IP limit, the
//! credentials parsed and bounded, the account's failure policy, one read of
//! the revocation sequence with the account and whether it has a second
//! factor, `authorize`, the second factor's gate, the `sign_in` callback, then a
//! new session with a rotated CSRF token and a device cookie. Nothing is
//! hashed before the checks that cost nothing.
//!
//! The flow returns a domain result, [`SignedIn`] or [`Refused`]; the Leptos
//! server function in `crate::actions::sign_in` is the edge that turns it into the
//! contract's answer (JSON or a redirect, see
//! [`Answer::sign_in`](crate::server::http::answer::Answer::sign_in)).

use std::net::IpAddr;

use http::HeaderValue;
use tower_sessions::Session;

use crate::server::{
    app::authorize::{AuthorizeError, Credentials},
    app::callbacks::SignInDecision,
    app::hooks::SignedInUser,
    defense::audit::{AuditAction, AuditEvent, Outcome},
    defense::csrf::Csrf,
    defense::limits::{whole_seconds, Limited},
    defense::lockout::{self, Locked},
    defense::password::Password,
    factors::gate::Gate,
    session::client_view::to_client_session,
    session::{
        data::{csrf_binding, SessionData},
        lifecycle,
    },
    state::Auth,
    stores::sign_in_read,
    stores::users::{Email, Identifier},
};
use crate::wire::AuthError;

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
    /// The value of the trusted-browser cookie (the second factor's), if any.
    pub trusted_cookie: Option<String>,
}

/// A sign-in that went through, or that the `sign_in` callback sent elsewhere.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Where to go now: the `callbackUrl`, or the callback's redirect.
    pub url: String,
    /// The new session, if one was started (not on a callback's redirect).
    pub session: Option<NewSession>,
    /// Other cookies to set (the second factor's: its pending record
    /// cleared, a trusted browser).
    pub cookies: Vec<HeaderValue>,
}

/// A session started by a sign-in.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// What the client sees of it.
    pub session: crate::wire::Session,
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
    /// The right password of an account whose address is not confirmed
    /// (answered as a wrong one): the edge sends the link again. Never
    /// part of the answer.
    pub unconfirmed: bool,
    /// Cookies to set with the refusal (the pending record's of
    /// `SecondFactorRequired`, or its end).
    pub cookies: Vec<HeaderValue>,
}

impl Refused {
    pub(crate) fn new(error: AuthError, callback_url: Option<&str>) -> Refused {
        Refused {
            error,
            callback_url: callback_url.map(str::to_string),
            retry_after: None,
            unconfirmed: false,
            cookies: Vec::new(),
        }
    }

    /// `ServiceUnavailable`, to be tried again in a second: the service
    /// cannot take the attempt now (no hashing slot, a store that failed).
    pub(crate) fn unavailable(callback_url: Option<&str>) -> Refused {
        Refused::new(AuthError::ServiceUnavailable, callback_url).retry_after(1)
    }

    pub(crate) fn retry_after(mut self, seconds: u64) -> Refused {
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
        provider: None,
        amr: Vec::new(),
    };
    let current = lifecycle::signed_in(session, &auth.config).await;
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
    // A place among the sign-ins in flight, before any read: a burst the
    // hashing gate could not take is refused here, each with its buffers
    // freed at once (see `HashGate::admit`). It counts as no attempt.
    let Ok(_admitted) = auth.gate.admit().await else {
        auth.audit(audit(Outcome::Busy, None)).await;
        return Err(Refused::unavailable(Some(&callback_url)));
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
            return Err(Refused::unavailable(Some(&callback_url)));
        }
    };
    let failed =
        |attempt: crate::server::defense::lockout::Attempt, outcome, user_id: Option<&str>| {
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
    // Read before the password is checked, in one statement: the revocation
    // sequence (a revocation of this user's sessions from here on keeps the
    // session from being stored), the account in Sesame's user store (the
    // built-in `authorize` checks that row instead of reading it again) and
    // whether it has a second factor (the gate need not read that after
    // the hash).
    let email = Email::parse(&form.email).ok();
    let read = sign_in_read::read(
        &auth.backends.database,
        auth.inline.as_deref(),
        email.as_ref(),
    )
    .await;
    let (revocation_seq, account, factorless) = match read {
        Ok(read) => (read.revocation_seq, read.user, read.factorless),
        Err(cause) => {
            crate::server::stores::db::unavailable(&cause);
            tracing::error!(%cause, "reading the account and the revocation sequence failed");
            drop(attempt);
            auth.audit(audit(Outcome::Error, None)).await;
            return Err(Refused::unavailable(Some(&callback_url)));
        }
    };
    let mut credentials = Credentials::new(form.email.clone(), password);
    if auth.own_users {
        credentials = credentials.with_read(auth.users.clone(), account);
    }
    let authorized = auth.hooks.authorize(&credentials).await;
    let user = match authorized {
        Ok(Some(user)) => user,
        Ok(None) => {
            failed(attempt, Outcome::WrongCredentials, None).await;
            return wrong();
        }
        Err(AuthorizeError::Refused(AuthError::EmailNotVerified)) => {
            // The right password of an account whose address is not
            // confirmed: answered and counted exactly as a wrong password,
            // so that signing up then signing in tells nobody whether the
            // address had an account before. The edge has the owner of the
            // mailbox sent the link again (at most once a minute); the
            // answer's message says to confirm the address.
            failed(attempt, Outcome::WrongCredentials, None).await;
            let mut refused = fail(AuthError::CredentialsSignin);
            refused.unconfirmed = true;
            return Err(refused);
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
            return Err(Refused::unavailable(Some(&callback_url)));
        }
        Err(cause) => {
            // Sesame: the cause stays in the log; the client sees CredentialsSignin,
            // and the failure counts like any other, so nothing tells it apart.
            if let AuthorizeError::Store(crate::server::stores::users::StoreError::Database(e)) =
                &cause
            {
                crate::server::stores::db::unavailable(e);
            }
            tracing::error!(%cause, "authorize failed");
            failed(attempt, Outcome::Error, None).await;
            return wrong();
        }
    };
    let entry = Entry {
        auth,
        csrf,
        session,
        caller,
        identifier,
        revocation_seq,
        factorless,
        remember: form.remember,
        callback_url: &callback_url,
        provider: None,
        first: "pwd",
        second: None,
    };
    enter(&entry, &user, attempt).await
}

/// The opening checks of a post that starts another way in (a provider's
/// flow, a sign-in link): the CSRF token bound to the visitor's session,
/// then the `callbackUrl` through the policy. The session as read, and the
/// resolved URL.
pub(crate) async fn opening(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    csrf_token: &str,
    callback_url: Option<&str>,
) -> Result<(Option<(SessionData, time::OffsetDateTime)>, String), Refused> {
    let current = lifecycle::signed_in(session, &auth.config).await;
    if !csrf.verify(csrf_token, csrf_binding(current.as_ref().map(|(d, _)| d))) {
        let cb = auth.resolve_callback(callback_url).ok();
        return Err(Refused::new(AuthError::MissingCSRF, cb.as_deref()));
    }
    let callback_url = auth
        .resolve_callback(callback_url)
        .map_err(|error| Refused::new(error, None))?;
    Ok((current, callback_url))
}

/// The per-IP limit, for a way in that costs the server (a provider's
/// call, a message): a refusal with its wait, back to `callback_url`.
pub(crate) async fn counted(
    auth: &Auth,
    caller: &Caller,
    callback_url: Option<&str>,
) -> Result<(), Refused> {
    match auth.limits.attempt(caller.ip).await {
        Ok(()) => Ok(()),
        Err(limited) => {
            let retry = limited.retry_after();
            Err(Refused::new(limited.error(), callback_url).retry_after(retry))
        }
    }
}

/// What a way into a session knows when its first factor passed: the
/// request, the account as named, the revocation sequence read before the
/// factor was checked, and where to go next.
pub(crate) struct Entry<'a> {
    pub auth: &'a Auth,
    pub csrf: &'a Csrf,
    pub session: &'a Session,
    pub caller: &'a Caller,
    /// The account as the sign-in named it (its lockout counter and audit name).
    pub identifier: &'a Identifier,
    /// Read before the factor was checked (see the session store).
    pub revocation_seq: i64,
    /// The account found without a second factor by the read of the
    /// sequence, if any (see [`Factors::gate`](crate::server::factors::Factors)).
    pub factorless: Option<i64>,
    /// "Remember me".
    pub remember: bool,
    /// The resolved `callbackUrl`.
    pub callback_url: &'a str,
    /// The provider's profile, for a sign-in through a provider.
    pub provider: Option<&'a crate::server::providers::Profile>,
    /// The first factor: `pwd`, `email`, or `oauth` (with `provider`).
    pub first: &'static str,
    /// The second factor passed (`otp`, `recovery`), or `None`: the gate
    /// decides.
    pub second: Option<&'static str>,
}

impl Entry<'_> {
    /// The first factor's `amr`: `pwd`, `email`, `oauth:<provider>`.
    pub fn first_factor(&self) -> String {
        match (self.first, self.provider) {
            ("oauth", Some(profile)) => format!("oauth:{}", profile.provider),
            (first, _) => first.to_string(),
        }
    }
}

/// The sign-in steps every way into a session goes through once its first
/// factor passed (a password, a provider, a link from the mailbox): the
/// second factor's gate (no session before the step, for an account with a
/// factor, in a browser it does not trust), the application's
/// `sign_in` callback (a `Deny` answered as wrong credentials and counted,
/// a `Redirect` followed without a session), a new session under a new id
/// with the caller's address and browser, the lockout's success, a rotated
/// CSRF token, the audit event and the `sign_in` event, and a device cookie.
pub(crate) async fn enter(
    entry: &Entry<'_>,
    user: &SignedInUser,
    attempt: lockout::Attempt,
) -> Result<SignedIn, Refused> {
    let Entry { auth, caller, .. } = *entry;
    let mut amr = vec![entry.first_factor()];
    let mut must_enrol = false;
    let fail = |error| Refused::new(error, Some(entry.callback_url));
    match entry.second {
        // A passkey with user verification is both factors at once: once.
        Some(method) if method == entry.first => {}
        Some(method) => amr.push(method.to_string()),
        None => {
            let door = auth
                .factors
                .gate(
                    &user.id,
                    entry.factorless,
                    caller.trusted_cookie.as_deref(),
                    || crate::server::factors::pending::PendingState {
                        first: entry.first_factor(),
                        identifier: entry.identifier.as_str().to_string(),
                        callback_url: entry.callback_url.to_string(),
                        remember: entry.remember,
                        revocation_seq: entry.revocation_seq,
                        profile: entry.provider.cloned(),
                    },
                )
                .await;
            match door {
                Ok(Gate::Open) => {
                    must_enrol = auth.config.accounts.second_factor
                        == crate::server::config::SecondFactorPolicy::Required;
                }
                Ok(Gate::Trusted) => amr.push("trusted".into()),
                Ok(Gate::Required(cookie)) => {
                    // Not a success yet: the first factor's attempt stays
                    // open (its counter is not reset).
                    drop(attempt);
                    auth.audit(AuditEvent {
                        action: AuditAction::SignIn,
                        outcome: Outcome::SecondFactorRequired,
                        account: Some(auth.audit_account(entry.identifier)),
                        user_id: Some(user.id.clone()),
                        ip: caller.ip,
                        user_agent: caller.user_agent.clone(),
                        provider: entry.provider.map(|p| p.provider.clone()),
                        amr: amr.clone(),
                    })
                    .await;
                    let mut refused = fail(AuthError::SecondFactorRequired);
                    refused.cookies.push(cookie);
                    return Err(refused);
                }
                Err(cause) => {
                    crate::server::stores::db::unavailable(&cause);
                    tracing::error!(%cause, "reading the second factor failed");
                    drop(attempt);
                    return Err(Refused::unavailable(Some(entry.callback_url)));
                }
            }
        }
    }
    let audit = |outcome, user_id: Option<&str>| AuditEvent {
        action: AuditAction::SignIn,
        outcome,
        account: Some(auth.audit_account(entry.identifier)),
        user_id: user_id.map(str::to_string),
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        provider: entry.provider.map(|p| p.provider.clone()),
        amr: amr.clone(),
    };
    match auth.hooks.sign_in(user, &amr, entry.provider).await {
        SignInDecision::Allow => {}
        SignInDecision::Deny => {
            // Answered as a wrong password: a refusal after the right one
            // would tell an attacker the password.
            let lock = attempt.failed().await;
            auth.audit(audit(Outcome::Refused, Some(&user.id))).await;
            if let Some(Locked { wait, hard }) = lock {
                auth.audit(AuditEvent {
                    action: AuditAction::Lockout,
                    outcome: Outcome::Started {
                        wait_seconds: wait.as_secs(),
                        hard,
                    },
                    ..audit(Outcome::Refused, Some(&user.id))
                })
                .await;
            }
            return Err(fail(AuthError::CredentialsSignin));
        }
        SignInDecision::Redirect(to) => {
            attempt.succeeded().await;
            auth.audit(audit(Outcome::Refused, Some(&user.id))).await;
            return match auth.resolve_callback(Some(&to)) {
                Ok(url) => Ok(SignedIn {
                    url,
                    session: None,
                    cookies: Vec::new(),
                }),
                Err(error) => Err(fail(error)),
            };
        }
    }
    let origin = crate::server::session::data::Origin {
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        revocation_seq: entry.revocation_seq,
        second_factor_at: entry
            .second
            .map(|_| time::OffsetDateTime::now_utc().unix_timestamp()),
        amr: amr.clone(),
        must_enrol,
    };
    let started =
        lifecycle::start(entry.session, user, &origin, &auth.config, entry.remember).await;
    let (data, expires) = match started {
        Ok(started) => started,
        Err(cause) => {
            // Either way the answer is to try again. After the end of the
            // user's sessions, the sign-in then reads the sequence anew: it
            // passes unless what ended them also shut this way in (a new
            // password, a disabled account, a second factor to pass).
            let outcome = match cause {
                lifecycle::SessionError::Ended => Outcome::SessionsEnded,
                lifecycle::SessionError::Store(_) => {
                    tracing::error!(%cause, "could not start a session");
                    Outcome::Error
                }
            };
            drop(attempt);
            auth.audit(audit(outcome, Some(&user.id))).await;
            return Err(Refused::unavailable(Some(entry.callback_url)));
        }
    };
    attempt.succeeded().await;
    let csrf_token = entry.csrf.rotate(data.csrf_binding());
    auth.audit(audit(Outcome::Success, Some(&user.id))).await;
    auth.hooks.signed_in(user).await;
    Ok(SignedIn {
        url: entry.callback_url.to_string(),
        session: Some(NewSession {
            session: to_client_session(auth, &data, expires),
            csrf_token,
            device_cookie: auth.lockout.device_cookie(entry.identifier),
        }),
        cookies: Vec::new(),
    })
}
