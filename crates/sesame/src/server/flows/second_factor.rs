//! The second-factor step that every way into a session passes through.
//!
//! The gate (`server::factors::gate`) runs inside `sign_in::enter` once a
//! first factor passed (a password, a provider, a link from the mailbox):
//! for an account with a confirmed authenticator app, and a browser it does
//! not trust, no session is made. A pending record (five minutes, single
//! use, bound to the browser by an HttpOnly cookie) keeps what the sign-in
//! knew, and the answer is `SecondFactorRequired` with the step's page. The
//! lockout's attempt of the first factor is left open (not reset), so a
//! known password does not buy fresh code guesses.
//!
//! [`verify`] is POST `/api/auth/second-factor`: CSRF, the per-IP limit,
//! the pending record, the account's lockout, then a code (its time step
//! accepted once per account, on every instance) or a recovery code (once).
//! A wrong code counts in the account's lockout and against the record,
//! which dies at the fifth. A right one takes the record (one statement:
//! one winner) and finishes through `enter` like the first factor would
//! have, the session recording both factors.

use http::HeaderValue;
use tower_sessions::Session;

use crate::server::{
    app::hooks::SignedInUser,
    defense::audit::{AuditAction, AuditEvent, Outcome},
    defense::csrf::Csrf,
    defense::limits::whole_seconds,
    defense::lockout::{self, Locked},
    factors::{self, cookie, now, pending, trusted, Checked},
    flows::sign_in::{counted, enter, Caller, Entry, Refused, SignedIn},
    session::{data::csrf_binding, lifecycle},
    state::Auth,
    stores::users::Identifier,
};
use crate::wire::AuthError;

/// The step's page, where `SecondFactorRequired` sends the browser.
pub fn step_url(auth: &Auth) -> String {
    auth.api_url("/second-factor")
}

/// The name of the pending record's cookie.
pub fn pending_cookie_name(auth: &Auth) -> String {
    factors::cookie_name(pending::COOKIE, auth.factors.secure)
}

/// The name of the trusted-browser cookie.
pub fn trusted_cookie_name(auth: &Auth) -> String {
    factors::cookie_name(trusted::COOKIE, auth.factors.secure)
}

/// The `Set-Cookie` that ends the pending record's cookie.
pub fn clear_pending(auth: &Auth) -> HeaderValue {
    cookie(pending::COOKIE, "", 0, auth.factors.secure)
}

/// What the step's form posts.
#[derive(Debug, Default)]
pub struct StepForm {
    pub csrf_token: String,
    /// The authenticator app's code.
    pub code: Option<String>,
    /// Or a recovery code.
    pub recovery_code: Option<String>,
    /// Or a passkey's assertion, with the ceremony's cookie.
    pub passkey: Option<(
        Box<webauthn_rs::prelude::PublicKeyCredential>,
        Option<String>,
    )>,
    /// "Trust this browser for 30 days".
    pub trust_browser: bool,
}

/// POST `/api/auth/second-factor`: finishes the pending sign-in of this
/// browser (`pending_cookie`) with a code.
pub async fn verify(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    pending_cookie: Option<&str>,
    form: StepForm,
) -> Result<SignedIn, Refused> {
    let current = lifecycle::signed_in(session, &auth.config).await;
    if !csrf.verify(
        &form.csrf_token,
        csrf_binding(current.as_ref().map(|(d, _)| d)),
    ) {
        return Err(Refused::new(AuthError::MissingCSRF, None));
    }
    counted(auth, caller, None).await?;
    let gone = || {
        let mut refused = Refused::new(AuthError::SessionRequired, None);
        refused.cookies.push(clear_pending(auth));
        refused
    };
    let unavailable = |cause: sqlx::Error| {
        crate::server::stores::db::unavailable(&cause);
        tracing::error!(%cause, "the second-factor step failed");
        Refused::unavailable(None)
    };
    let Some(hash) = pending_cookie.map(pending::hash) else {
        return Err(gone());
    };
    let Some(row) = auth
        .factors
        .store
        .pending(&hash)
        .await
        .map_err(unavailable)?
    else {
        return Err(gone());
    };
    let state: pending::PendingState = match serde_json::from_str(&row.state) {
        Ok(state) if row.expires_at > now() => state,
        _ => return Err(gone()),
    };
    let Ok(identifier) = Identifier::parse(&state.identifier) else {
        return Err(gone());
    };
    let audit = |outcome, amr: Vec<String>| AuditEvent {
        action: AuditAction::SecondFactor,
        outcome,
        account: Some(auth.audit_account(&identifier)),
        user_id: Some(row.user_id.to_string()),
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        provider: state.profile.as_ref().map(|p| p.provider.clone()),
        amr,
    };
    let fail = |error| Refused::new(error, Some(&state.callback_url));
    let attempt = match auth
        .lockout
        .check(&identifier, caller.device_cookie.as_deref())
        .await
    {
        Ok(attempt) => attempt,
        Err(lockout::Refused::Locked(locked)) => {
            auth.audit(audit(Outcome::Locked, Vec::new())).await;
            return Err(fail(AuthError::RateLimited).retry_after(whole_seconds(locked.wait)));
        }
        Err(lockout::Refused::Unavailable) => {
            return Err(Refused::unavailable(Some(&state.callback_url)));
        }
    };
    let checked = match &form.passkey {
        Some((credential, ceremony)) => {
            crate::server::flows::passkey::second_factor(
                auth,
                row.user_id,
                credential,
                ceremony.as_deref(),
            )
            .await
        }
        None => {
            auth.factors
                .check_code(
                    row.user_id,
                    form.code.as_deref(),
                    form.recovery_code.as_deref(),
                )
                .await
        }
    }
    .map_err(unavailable)?;
    let method = match checked {
        Checked::Passed(method) => method,
        Checked::Refused(error) => {
            let lock = attempt.failed().await;
            let outcome = if error == AuthError::CodeAlreadyUsed {
                Outcome::CodeReplayed
            } else {
                Outcome::WrongCode
            };
            auth.audit(audit(outcome, Vec::new())).await;
            if let Some(Locked { wait, hard }) = lock {
                auth.audit(AuditEvent {
                    action: AuditAction::Lockout,
                    outcome: Outcome::Started {
                        wait_seconds: wait.as_secs(),
                        hard,
                    },
                    ..audit(outcome, Vec::new())
                })
                .await;
            }
            let left = auth
                .factors
                .store
                .fail_pending(&hash, pending::MAX_FAILURES)
                .await
                .map_err(unavailable)?;
            let mut refused = fail(error);
            if left.is_none() {
                refused.cookies.push(clear_pending(auth));
            }
            return Err(refused);
        }
    };
    // One winner for the record, whatever the other requests carried.
    let Some(row) = auth
        .factors
        .store
        .take_pending(&hash)
        .await
        .map_err(unavailable)?
    else {
        drop(attempt);
        return Err(gone());
    };
    auth.audit(audit(Outcome::Success, vec![method.to_string()]))
        .await;
    if method == "recovery" {
        notify_recovery_code_used(auth, row.user_id, &identifier);
    }
    let user = match user_of(auth, row.user_id).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            drop(attempt);
            return Err(fail(AuthError::AccessDenied));
        }
        Err(error) => {
            drop(attempt);
            return Err(fail(error));
        }
    };
    let entry = Entry {
        auth,
        csrf,
        session,
        caller,
        identifier: &identifier,
        revocation_seq: state.revocation_seq,
        factorless: None,
        remember: state.remember,
        callback_url: &state.callback_url,
        provider: state.profile.as_ref(),
        first: first_of(&state.first),
        second: Some(method),
    };
    let mut signed_in = enter(&entry, &user, attempt).await?;
    signed_in.cookies.push(clear_pending(auth));
    if form.trust_browser && signed_in.session.is_some() {
        let (value, hash) = trusted::issue(&auth.factors.keys, row.user_id);
        let at = now();
        match auth
            .factors
            .store
            .trust(
                &hash,
                row.user_id,
                caller.user_agent.as_deref(),
                at,
                at + trusted::LIFETIME,
            )
            .await
        {
            Ok(()) => signed_in.cookies.push(cookie(
                trusted::COOKIE,
                &value,
                trusted::LIFETIME,
                auth.factors.secure,
            )),
            Err(cause) => tracing::error!(%cause, "a browser could not be trusted"),
        }
    }
    Ok(signed_in)
}

/// The first factor's `amr` as the pending record keeps it, back as the
/// `&'static str` an [`Entry`] holds (a provider's is rebuilt from its
/// profile).
fn first_of(first: &str) -> &'static str {
    match first {
        "pwd" => "pwd",
        "email" => "email",
        _ => "oauth",
    }
}

/// The application's user for the account `user_id`, as `Authorize::user_for`
/// makes it; `None` for a disabled or vanished account.
async fn user_of(auth: &Auth, user_id: i64) -> Result<Option<SignedInUser>, AuthError> {
    let record = auth.users.find_by_id(user_id).await.map_err(|cause| {
        tracing::error!(%cause, "reading the account failed");
        AuthError::ServiceUnavailable
    })?;
    let Some(record) = record.filter(|r| r.disabled_at.is_none()) else {
        return Ok(None);
    };
    auth.hooks.user_for(&record).await.map_err(|cause| {
        tracing::error!(%cause, "no user for a second-factor sign-in");
        AuthError::Signin
    })
}

/// Mails the owner that a recovery code was used (after the answer).
fn notify_recovery_code_used(auth: &Auth, user_id: i64, identifier: &Identifier) {
    use crate::server::mail::templates::{render, Kind};
    let auth = auth.clone();
    let to = identifier.as_str().to_string();
    tokio::spawn(async move {
        let site = crate::server::flows::visitor::site_name(&auth);
        let reset = format!("{}{}", auth.config.base_url(), crate::wire::routes::RESET);
        let mail = render(
            Kind::RecoveryCodeUsed,
            crate::i18n::Locale::En,
            &site,
            &to,
            &reset,
        );
        if let Err(cause) = auth.send_mail(mail, Some(user_id)).await {
            tracing::error!(%cause, "the recovery-code notice could not be sent");
        }
    });
}
