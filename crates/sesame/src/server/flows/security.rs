//! The signed-in user's second factors (`/account/security`): what they
//! have, setting up an authenticator app (a secret sealed at rest, counted
//! only once a code confirms it; the confirmation gives ten recovery codes,
//! shown once), turning it off, new recovery codes, and the browsers trusted
//! to skip the step. Starting an enrolment needs a recent sign-in; turning
//! the factor off and new codes need a recent second factor or a code
//! again. Each checks the session and the CSRF token bound to it first.

use crate::server::{
    defense::audit::{AuditAction, AuditEvent, Outcome},
    factors::{now, recovery, row_id, totp, Checked},
    flows::own_account::{checked, is_recent, Request},
    flows::visitor::site_name,
    session::{data::SessionData, lifecycle},
    state::Auth,
};
use crate::wire::types::{TotpEnrolment, TrustedBrowser};
use crate::wire::{AuthError, Security};

fn store_failed(cause: sqlx::Error) -> AuthError {
    crate::server::stores::db::unavailable(&cause);
    tracing::error!(%cause, "the second-factor tables failed");
    AuthError::ServiceUnavailable
}

fn account_id(data: &SessionData) -> Result<i64, AuthError> {
    row_id(&data.user_id).ok_or_else(|| {
        tracing::error!("second factors need Sesame's user store (numeric user ids)");
        AuthError::Configuration
    })
}

/// The signed-in user's second factors.
pub async fn overview(req: &Request<'_>) -> Result<Security, AuthError> {
    let (data, _) = lifecycle::signed_in(req.session, &req.auth.config)
        .await
        .ok_or(AuthError::SessionRequired)?;
    let id = account_id(&data)?;
    let store = &req.auth.factors.store;
    let row = store.totp(id).await.map_err(store_failed)?;
    let enrolment = match &row {
        Some(row) if row.confirmed_at.is_none() => req
            .auth
            .factors
            .secrets_sealer
            .open(&row.secret_sealed)
            .and_then(|secret| totp::enrolment(&secret, &data.email, &site_name(req.auth)))
            .map(|e| TotpEnrolment {
                secret: e.secret,
                uri: e.uri,
                qr_svg: e.qr_svg,
            }),
        _ => None,
    };
    let trusted = store
        .trusted(id, now())
        .await
        .map_err(store_failed)?
        .into_iter()
        .map(|t| TrustedBrowser {
            id: hex::encode(&t.id_hash),
            browser: crate::server::session::user_agent::describe_user_agent(
                t.user_agent.as_deref(),
            ),
            trusted_at: crate::server::flows::own_account::rfc3339(t.created_at),
            expires: crate::server::flows::own_account::rfc3339(t.expires_at),
        })
        .collect();
    let passkeys = req
        .auth
        .passkeys
        .store
        .list(id)
        .await
        .map_err(store_failed)?
        .into_iter()
        .map(|p| crate::wire::types::PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: crate::server::flows::own_account::rfc3339(p.created_at),
            last_used_at: p
                .last_used_at
                .map(crate::server::flows::own_account::rfc3339),
        })
        .collect();
    Ok(Security {
        passkeys_enabled: req.auth.passkeys.enabled(),
        passkeys,
        authenticator: row.as_ref().is_some_and(|r| r.confirmed_at.is_some()),
        enrolment,
        recovery_codes_left: store.codes_left(id).await.map_err(store_failed)?,
        trusted_browsers: trusted,
        amr: data.amr.clone(),
        second_factor_at: data
            .second_factor_at
            .map(crate::server::flows::own_account::rfc3339),
    })
}

fn changed(auth: &Auth, data: &SessionData, req: &Request<'_>) -> AuditEvent {
    AuditEvent {
        action: AuditAction::FactorChange,
        outcome: Outcome::Success,
        account: crate::server::stores::users::Identifier::parse(&data.email)
            .ok()
            .map(|i| auth.audit_account(&i)),
        user_id: Some(data.user_id.clone()),
        ip: req.ip,
        user_agent: None,
        provider: None,
        amr: data.amr.clone(),
    }
}

/// Starts (or starts again) setting up an authenticator app, after a
/// recent sign-in: a new secret, shown by [`overview`] until a code
/// confirms it.
pub async fn begin_enrolment(
    req: &Request<'_>,
    csrf_token: &str,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    if !is_recent(&data, req.auth) {
        return Err(AuthError::ReauthRequired);
    }
    let id = account_id(&data)?;
    let sealed = req.auth.factors.secrets_sealer.seal(&totp::new_secret());
    if !req
        .auth
        .factors
        .store
        .begin_totp(id, &sealed)
        .await
        .map_err(store_failed)?
    {
        // Already on: turn it off first.
        return Err(AuthError::InvalidRequest);
    }
    Ok("totp-enrolling")
}

/// Confirms the authenticator app with one of its codes: the factor counts
/// from now on, and the ten recovery codes (shown once) are returned.
pub async fn confirm_enrolment(
    req: &Request<'_>,
    csrf_token: &str,
    code: &str,
) -> Result<Vec<String>, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let id = account_id(&data)?;
    let store = &req.auth.factors.store;
    let Some(row) = store.totp(id).await.map_err(store_failed)? else {
        return Err(AuthError::InvalidRequest);
    };
    if row.confirmed_at.is_some() {
        return Err(AuthError::InvalidRequest);
    }
    let secret = req
        .auth
        .factors
        .secrets_sealer
        .open(&row.secret_sealed)
        .ok_or(AuthError::InvalidRequest)?;
    req.auth
        .limits
        .attempt(req.ip)
        .await
        .map_err(|limited| limited.error())?;
    let step = totp::matching_step(&secret, code, now() as u64).ok_or(AuthError::InvalidCode)?;
    let (codes, hashes) = recovery::new_set();
    if !store
        .confirm_totp(id, step, &hashes, now())
        .await
        .map_err(store_failed)?
    {
        return Err(AuthError::InvalidRequest);
    }
    factor_added(req.auth, &data.user_id).await;
    req.auth.audit(changed(req.auth, &data, req)).await;
    // The code just given is a second factor of this session.
    if let Err(cause) = lifecycle::passed_second_factor(req.session, data, "otp").await {
        tracing::error!(%cause, "the session could not record its second factor");
    }
    Ok(codes)
}

/// After a second factor was committed to `user_id`'s account: a sign-in
/// that found none before stores no session (see `Sessions::factor_added`).
/// Its failure is logged, not answered: the factor is in place (and an
/// authenticator's recovery codes are shown only now); what is left open is
/// a sign-in in flight at this very moment.
pub(crate) async fn factor_added(auth: &Auth, user_id: &str) {
    if let Err(cause) = auth.sessions.factor_added(user_id).await {
        crate::server::stores::db::unavailable(&cause);
        tracing::error!(%cause, "a new second factor could not renumber the account's revocations");
    }
}

/// A sensitive change to the factors: a second factor passed within
/// `session.recent_sign_in`, or a code (or recovery code) again.
pub(crate) async fn confirm_second_factor(
    req: &Request<'_>,
    data: &SessionData,
    id: i64,
    code: Option<&str>,
) -> Result<(), AuthError> {
    if data.second_factor_within(req.auth.config.session.recent_sign_in) {
        return Ok(());
    }
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(AuthError::ReauthRequired);
    };
    req.auth
        .limits
        .attempt(req.ip)
        .await
        .map_err(|limited| limited.error())?;
    match req
        .auth
        .factors
        .check_code(id, Some(code), None)
        .await
        .map_err(store_failed)?
    {
        Checked::Passed(_) => Ok(()),
        Checked::Refused(error) => Err(error),
    }
}

/// Turns the authenticator app off (with its recovery codes and trusted
/// browsers).
pub async fn disable(
    req: &Request<'_>,
    csrf_token: &str,
    code: Option<&str>,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let id = account_id(&data)?;
    confirm_second_factor(req, &data, id, code).await?;
    req.auth
        .factors
        .store
        .remove_totp(id)
        .await
        .map_err(store_failed)?;
    req.auth.audit(changed(req.auth, &data, req)).await;
    Ok("totp-disabled")
}

/// New recovery codes (the old set voided), shown once.
pub async fn new_recovery_codes(
    req: &Request<'_>,
    csrf_token: &str,
    code: Option<&str>,
) -> Result<Vec<String>, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let id = account_id(&data)?;
    confirm_second_factor(req, &data, id, code).await?;
    let (codes, hashes) = recovery::new_set();
    req.auth
        .factors
        .store
        .replace_codes(id, &hashes)
        .await
        .map_err(store_failed)?;
    req.auth.audit(changed(req.auth, &data, req)).await;
    Ok(codes)
}

/// Forgets one trusted browser (`id`, as [`overview`] lists it) or all.
pub async fn forget_browser(
    req: &Request<'_>,
    csrf_token: &str,
    browser: Option<&str>,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let id = account_id(&data)?;
    let hash = match browser.filter(|b| !b.is_empty()) {
        Some(hex_id) => Some(hex::decode(hex_id).map_err(|_| AuthError::InvalidRequest)?),
        None => None,
    };
    req.auth
        .factors
        .store
        .untrust(id, hash.as_deref())
        .await
        .map_err(store_failed)?;
    req.auth.audit(changed(req.auth, &data, req)).await;
    Ok("browser-forgotten")
}
