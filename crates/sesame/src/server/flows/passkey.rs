//! Passkeys: registering them on the signed-in account (after a recent
//! sign-in; several per account, named), signing in with one (discoverable:
//! no username first; with user verification it counts as both factors),
//! using one as the second factor of a pending sign-in, and renaming or
//! removing them (removing needs a recent second factor or a code, like
//! turning the authenticator app off). Every ceremony's state is kept
//! server-side and taken once (`factors::passkey`); a credential id belongs
//! to one account; the sign counter and backup flags are checked and kept.

use http::HeaderValue;
use tower_sessions::Session;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Uuid,
};
use webauthn_rs_proto::{
    AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy,
};

use crate::server::{
    defense::audit::{AuditAction, AuditEvent, Outcome},
    defense::csrf::Csrf,
    defense::limits::whole_seconds,
    defense::lockout,
    factors::{now, passkey::Ceremony, pending, row_id, Checked},
    flows::own_account::{checked, is_recent, Request},
    flows::sign_in::{counted, enter, Caller, Entry, Refused, SignedIn},
    session::{data::csrf_binding, lifecycle},
    state::Auth,
    stores::users::Identifier,
};
use crate::wire::AuthError;

fn store_failed(cause: sqlx::Error) -> AuthError {
    crate::server::stores::db::unavailable(&cause);
    tracing::error!(%cause, "the passkey tables failed");
    AuthError::ServiceUnavailable
}

fn webauthn(auth: &Auth) -> Result<&webauthn_rs::Webauthn, AuthError> {
    auth.passkeys
        .webauthn
        .as_deref()
        .ok_or(AuthError::InvalidRequest)
}

fn parse(row: &crate::server::stores::passkeys::PasskeyRow) -> Option<Passkey> {
    serde_json::from_str(&row.passkey).ok()
}

/// A ceremony's options for the browser, and the cookie that names its state.
pub type Options = (serde_json::Value, HeaderValue);

/// POST `/api/auth/passkey/register/options`: the options of a new passkey
/// for the signed-in account (after a recent sign-in); its credentials are
/// excluded, and the passkey must be discoverable with user verification.
pub async fn register_options(req: &Request<'_>, csrf_token: &str) -> Result<Options, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    if !is_recent(&data, req.auth) {
        return Err(AuthError::ReauthRequired);
    }
    let webauthn = webauthn(req.auth)?;
    let id = row_id(&data.user_id).ok_or(AuthError::Configuration)?;
    let store = &req.auth.passkeys.store;
    let handle = store
        .handle(id, Uuid::new_v4().as_bytes())
        .await
        .map_err(store_failed)?;
    let handle = Uuid::from_slice(&handle).map_err(|_| AuthError::Signin)?;
    let exclude = store
        .list(id)
        .await
        .map_err(store_failed)?
        .iter()
        .filter_map(parse)
        .map(|p| p.cred_id().clone())
        .collect();
    let name = data.name.clone().unwrap_or_else(|| data.email.clone());
    let (mut options, state) = webauthn
        .start_passkey_registration(handle, &data.email, &name, Some(exclude))
        .map_err(|cause| {
            tracing::error!(%cause, "a passkey registration could not start");
            AuthError::Signin
        })?;
    // A passkey: discoverable (a sign-in with no username first), verified.
    options.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: None,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
    let cookie = req
        .auth
        .passkeys
        .begin(Ceremony::Register, Some(id), &state)
        .await
        .map_err(store_failed)?;
    Ok((serde_json::to_value(options).unwrap_or_default(), cookie))
}

/// POST `/api/auth/passkey/register/verify`: the browser's new credential
/// for the ceremony its cookie names; kept under `name`.
pub async fn register_verify(
    req: &Request<'_>,
    csrf_token: &str,
    ceremony: Option<&str>,
    name: &str,
    credential: &RegisterPublicKeyCredential,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let webauthn = webauthn(req.auth)?;
    let id = row_id(&data.user_id).ok_or(AuthError::Configuration)?;
    let taken: Option<(Option<i64>, PasskeyRegistration)> = req
        .auth
        .passkeys
        .take(ceremony, Ceremony::Register)
        .await
        .map_err(store_failed)?;
    let Some((Some(owner), state)) = taken else {
        return Err(AuthError::PasskeyRefused);
    };
    if owner != id {
        return Err(AuthError::PasskeyRefused);
    }
    let passkey = webauthn
        .finish_passkey_registration(credential, &state)
        .map_err(|cause| {
            tracing::info!(%cause, "a passkey registration was refused");
            AuthError::PasskeyRefused
        })?;
    let name = name.trim();
    let name = if name.is_empty() {
        "Passkey".to_string()
    } else {
        name.chars().take(64).collect()
    };
    let json = serde_json::to_string(&passkey).map_err(|_| AuthError::Signin)?;
    if !req
        .auth
        .passkeys
        .store
        .add(id, passkey.cred_id().as_ref(), &json, &name, now())
        .await
        .map_err(store_failed)?
    {
        // Registered already (to this account or another).
        return Err(AuthError::PasskeyRefused);
    }
    super::security::factor_added(req.auth, &data.user_id).await;
    req.auth.audit(changed(req, &data)).await;
    // The passkey just made verified its user: a second factor of this session.
    if let Err(cause) = lifecycle::passed_second_factor(req.session, data, "hwk").await {
        tracing::error!(%cause, "the session could not record its second factor");
    }
    Ok("passkey-added")
}

fn changed(req: &Request<'_>, data: &crate::server::session::data::SessionData) -> AuditEvent {
    AuditEvent {
        action: AuditAction::FactorChange,
        outcome: Outcome::Success,
        account: Identifier::parse(&data.email)
            .ok()
            .map(|i| req.auth.audit_account(&i)),
        user_id: Some(data.user_id.clone()),
        ip: req.ip,
        user_agent: None,
        provider: None,
        amr: data.amr.clone(),
    }
}

/// POST `/api/auth/passkey/authenticate/options`: a sign-in with any of the
/// site's passkeys (`second_factor` false: discoverable, conditional
/// mediation allowed), or with one of the pending sign-in's account.
pub async fn authenticate_options(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    csrf_token: &str,
    pending_cookie: Option<&str>,
    second_factor: bool,
) -> Result<Options, Refused> {
    let current = lifecycle::signed_in(session, &auth.config).await;
    if !csrf.verify(csrf_token, csrf_binding(current.as_ref().map(|(d, _)| d))) {
        return Err(Refused::new(AuthError::MissingCSRF, None));
    }
    counted(auth, caller, None).await?;
    let refuse = |error| Refused::new(error, None);
    let webauthn = webauthn(auth).map_err(refuse)?;
    let stored = |e| refuse(store_failed(e));
    if !second_factor {
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|_| refuse(AuthError::Signin))?;
        let cookie = auth
            .passkeys
            .begin(Ceremony::SignIn, None, &state)
            .await
            .map_err(stored)?;
        return Ok((serde_json::to_value(options).unwrap_or_default(), cookie));
    }
    let record = match pending_cookie {
        Some(raw) => auth
            .factors
            .store
            .pending(&pending::hash(raw))
            .await
            .map_err(stored)?,
        None => None,
    };
    let Some(record) = record.filter(|r| r.expires_at > now()) else {
        return Err(refuse(AuthError::SessionRequired));
    };
    let passkeys: Vec<Passkey> = auth
        .passkeys
        .store
        .list(record.user_id)
        .await
        .map_err(stored)?
        .iter()
        .filter_map(parse)
        .collect();
    if passkeys.is_empty() {
        return Err(refuse(AuthError::PasskeyRefused));
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|_| refuse(AuthError::Signin))?;
    let cookie = auth
        .passkeys
        .begin(Ceremony::SecondFactor, Some(record.user_id), &state)
        .await
        .map_err(stored)?;
    Ok((serde_json::to_value(options).unwrap_or_default(), cookie))
}

/// A passkey as the second factor of `user_id`'s pending sign-in: the
/// ceremony (taken once) must be this account's, and so the credential.
pub(crate) async fn second_factor(
    auth: &Auth,
    user_id: i64,
    credential: &PublicKeyCredential,
    ceremony: Option<&str>,
) -> Result<Checked, sqlx::Error> {
    let Some(webauthn) = auth.passkeys.webauthn.as_deref() else {
        return Ok(Checked::Refused(AuthError::PasskeyRefused));
    };
    let taken: Option<(Option<i64>, PasskeyAuthentication)> =
        auth.passkeys.take(ceremony, Ceremony::SecondFactor).await?;
    let Some((Some(owner), state)) = taken else {
        return Ok(Checked::Refused(AuthError::PasskeyRefused));
    };
    let credential_id = credential.get_credential_id().to_vec();
    let row = auth.passkeys.store.by_credential(&credential_id).await?;
    let Some((row, mut passkey)) = row
        .filter(|r| r.user_id == user_id && owner == user_id)
        .and_then(|r| parse(&r).map(|p| (r, p)))
    else {
        return Ok(Checked::Refused(AuthError::PasskeyRefused));
    };
    match webauthn.finish_passkey_authentication(credential, &state) {
        Ok(result) => {
            passkey.update_credential(&result);
            let json = serde_json::to_string(&passkey).unwrap_or(row.passkey);
            auth.passkeys
                .store
                .used(&credential_id, &json, now())
                .await?;
            Ok(Checked::Passed("hwk"))
        }
        Err(cause) => {
            tracing::info!(%cause, "a passkey second factor was refused");
            Ok(Checked::Refused(AuthError::PasskeyRefused))
        }
    }
}

/// What a passkey sign-in posts.
pub struct PasskeySignIn<'a> {
    pub csrf_token: &'a str,
    pub callback_url: Option<&'a str>,
    pub remember: bool,
    /// The browser's assertion.
    pub credential: &'a PublicKeyCredential,
    /// The ceremony's cookie.
    pub ceremony: Option<&'a str>,
}

/// POST `/api/auth/passkey/authenticate/verify` (a sign-in): the account
/// whose passkey signed the ceremony's challenge, with user verification,
/// is signed in through `enter` like every way in; the session records
/// `hwk` and a second factor now.
pub async fn sign_in(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    posted: PasskeySignIn<'_>,
) -> Result<SignedIn, Refused> {
    let (_, callback_url) = crate::server::flows::sign_in::opening(
        auth,
        csrf,
        session,
        posted.csrf_token,
        posted.callback_url,
    )
    .await?;
    let fail = |error| Refused::new(error, Some(&callback_url));
    counted(auth, caller, Some(&callback_url)).await?;
    let webauthn = webauthn(auth).map_err(fail)?;
    let unavailable = |e| fail(store_failed(e)).retry_after(1);
    let revocation_seq = auth.sessions.revocation_seq().await.map_err(unavailable)?;
    let taken: Option<(Option<i64>, DiscoverableAuthentication)> = auth
        .passkeys
        .take(posted.ceremony, Ceremony::SignIn)
        .await
        .map_err(unavailable)?;
    let refused = |why: &str| {
        tracing::info!(why, "a passkey sign-in was refused");
        fail(AuthError::PasskeyRefused)
    };
    let Some((_, state)) = taken else {
        return Err(refused("no live ceremony"));
    };
    let Ok((handle, credential_id)) =
        webauthn.identify_discoverable_authentication(posted.credential)
    else {
        return Err(refused("no user handle"));
    };
    let owner = auth
        .passkeys
        .store
        .user_of_handle(handle.as_bytes())
        .await
        .map_err(unavailable)?;
    let row = auth
        .passkeys
        .store
        .by_credential(credential_id)
        .await
        .map_err(unavailable)?;
    let Some((row, mut passkey)) = row
        .filter(|r| Some(r.user_id) == owner)
        .and_then(|r| parse(&r).map(|p| (r, p)))
    else {
        return Err(refused("an unknown credential, or another account's"));
    };
    let result = webauthn
        .finish_discoverable_authentication(
            posted.credential,
            state,
            &[DiscoverableKey::from(&passkey)],
        )
        .map_err(|cause| {
            tracing::info!(%cause, "a passkey assertion failed");
            fail(AuthError::PasskeyRefused)
        })?;
    if !result.user_verified() {
        return Err(refused("no user verification"));
    }
    passkey.update_credential(&result);
    let json = serde_json::to_string(&passkey).unwrap_or(row.passkey.clone());
    let credential_id = credential_id.to_vec();
    auth.passkeys
        .store
        .used(&credential_id, &json, now())
        .await
        .map_err(unavailable)?;
    let record = auth
        .users
        .find_by_id(row.user_id)
        .await
        .map_err(|_| Refused::unavailable(Some(&callback_url)))?;
    let Some(record) = record.filter(|r| r.disabled_at.is_none()) else {
        return Err(fail(AuthError::AccessDenied));
    };
    let identifier = Identifier::parse(&record.email).map_err(|_| fail(AuthError::Signin))?;
    let attempt = match auth
        .lockout
        .check(&identifier, caller.device_cookie.as_deref())
        .await
    {
        Ok(attempt) => attempt,
        Err(lockout::Refused::Locked(locked)) => {
            return Err(fail(AuthError::RateLimited).retry_after(whole_seconds(locked.wait)))
        }
        Err(lockout::Refused::Unavailable) => {
            return Err(Refused::unavailable(Some(&callback_url)))
        }
    };
    let user = match auth.hooks.user_for(&record).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(fail(AuthError::AccessDenied)),
        Err(cause) => {
            tracing::error!(%cause, "no user for a passkey sign-in");
            return Err(fail(AuthError::Signin));
        }
    };
    let entry = Entry {
        auth,
        csrf,
        session,
        caller,
        identifier: &identifier,
        revocation_seq,
        factorless: None,
        remember: posted.remember,
        callback_url: &callback_url,
        provider: None,
        first: "hwk",
        second: Some("hwk"),
    };
    enter(&entry, &user, attempt).await
}

/// Renames one of the signed-in user's passkeys.
pub async fn rename(
    req: &Request<'_>,
    csrf_token: &str,
    id: i64,
    name: &str,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let user = row_id(&data.user_id).ok_or(AuthError::Configuration)?;
    let name: String = name.trim().chars().take(64).collect();
    if name.is_empty() {
        return Err(AuthError::InvalidRequest);
    }
    if !req
        .auth
        .passkeys
        .store
        .rename(user, id, &name)
        .await
        .map_err(store_failed)?
    {
        return Err(AuthError::InvalidRequest);
    }
    Ok("passkey-renamed")
}

/// Removes one of the signed-in user's passkeys: a recent second factor
/// (or a passkey sign-in), or an authenticator code, first.
pub async fn remove(
    req: &Request<'_>,
    csrf_token: &str,
    id: i64,
    code: Option<&str>,
) -> Result<&'static str, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let user = row_id(&data.user_id).ok_or(AuthError::Configuration)?;
    crate::server::flows::security::confirm_second_factor(req, &data, user, code).await?;
    if !req
        .auth
        .passkeys
        .store
        .remove(user, id)
        .await
        .map_err(store_failed)?
    {
        return Err(AuthError::InvalidRequest);
    }
    req.auth.audit(changed(req, &data)).await;
    Ok("passkey-removed")
}
