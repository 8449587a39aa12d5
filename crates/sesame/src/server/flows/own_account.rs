//! What a signed-in user does to their own account: end one of their
//! sessions, end the others, change the password, move to another email
//! address, delete the account. Each checks, in order, the
//! session, the CSRF token bound to it, and for what is sensitive a recent
//! sign-in (`session.recent_sign_in`) or the password again. Changing the
//! password or the address and deleting the account always ask for the
//! password. A password asked again counts as a sign-in attempt: against
//! the per-IP limit, and against the account's lockout (a wrong one is the
//! account's failure, with the same waits), hashed on the gate. Each
//! returns a domain result; the server functions in `crate::actions::account` make
//! the answer.
//!
//! These act on Sesame's user store: the session's user id is the store's row id.

use std::net::IpAddr;

use time::OffsetDateTime;
use tower_sessions::Session;

use crate::server::{
    defense::csrf::Csrf,
    defense::password::{NewPassword, Password},
    flows::visitor::site_name,
    mail::templates::{render, Kind},
    session::store::SessionHandle,
    session::user_agent::describe_user_agent,
    session::{data::SessionData, lifecycle},
    state::Auth,
    stores::tokens::Purpose,
    stores::users::{Email, Identifier, UserRecord},
};
use crate::{wire::AuthError, wire::SessionInfo};

/// The request an action runs for.
pub struct Request<'a> {
    pub auth: &'a Auth,
    pub csrf: &'a Csrf,
    pub session: &'a Session,
    pub ip: Option<IpAddr>,
    /// The language of the email an action sends.
    pub locale: crate::i18n::Locale,
}

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// The session named was ended.
    SessionEnded,
    /// The other sessions were ended (how many).
    OthersEnded(u64),
    /// The password was changed and the other sessions ended (how many).
    PasswordChanged(u64),
    /// A link went to the new address (and a notice to the old one).
    EmailChangeSent,
    /// The account and its sessions are gone.
    AccountDeleted,
    /// A provider account was unlinked.
    Disconnected,
}

impl Done {
    /// Its name in the `done=` query of the way back.
    pub fn code(self) -> &'static str {
        match self {
            Done::SessionEnded => "session-ended",
            Done::OthersEnded(_) => "others-ended",
            Done::PasswordChanged(_) => "password-changed",
            Done::EmailChangeSent => "email-link-sent",
            Done::AccountDeleted => "account-deleted",
            Done::Disconnected => "disconnected",
        }
    }
}

/// The signed-in session of the request and its handle.
async fn signed_in(req: &Request<'_>) -> Result<(SessionData, SessionHandle), AuthError> {
    let (data, _) = lifecycle::signed_in(req.session, &req.auth.config)
        .await
        .ok_or(AuthError::SessionRequired)?;
    let id = req.session.id().ok_or(AuthError::SessionRequired)?;
    Ok((data, SessionHandle::of(&id)))
}

/// The session, the CSRF token bound to it, then the action budgets of the
/// session and of the account.
pub(crate) async fn checked(
    req: &Request<'_>,
    csrf_token: &str,
) -> Result<(SessionData, SessionHandle), AuthError> {
    let (data, handle) = signed_in(req).await?;
    if !req.csrf.verify(csrf_token, data.csrf_binding()) {
        tracing::warn!(
            event = "csrf_refused",
            "account action without a valid CSRF token"
        );
        return Err(AuthError::MissingCSRF);
    }
    req.auth
        .budgets
        .action(&handle, &data.user_id)
        .await
        .map_err(|limited| limited.error())?;
    Ok((data, handle))
}

/// The session's user in Sesame's store.
pub(crate) async fn user_of(auth: &Auth, data: &SessionData) -> Result<UserRecord, AuthError> {
    let id: i64 = data.user_id.parse().map_err(|_| {
        tracing::error!("account actions need Sesame's user store (numeric user ids)");
        AuthError::Configuration
    })?;
    match auth.users.find_by_id(id).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(AuthError::SessionRequired),
        Err(cause) => {
            tracing::error!(%cause, "reading the user failed");
            Err(AuthError::Signin)
        }
    }
}

/// Checks `password` against the session's user: a wrong or missing one is
/// `ReauthRequired`; every check counts against the client's address and
/// the account's lockout (a locked account is `RateLimited`, the right
/// password included).
async fn check_password(
    req: &Request<'_>,
    data: &SessionData,
    password: Option<String>,
) -> Result<UserRecord, AuthError> {
    // Refused before anything is counted, as it was: missing, empty or
    // not a password at all.
    if password
        .as_deref()
        .is_none_or(|p| p.is_empty() || Password::parse(p.to_string()).is_err())
    {
        return Err(AuthError::ReauthRequired);
    }
    req.auth
        .limits
        .attempt(req.ip)
        .await
        .map_err(|limited| limited.error())?;
    let user = user_of(req.auth, data).await?;
    let account = Identifier::parse(&user.email).map_err(|_| AuthError::Signin)?;
    let attempt = req
        .auth
        .check_password_again(&user, &account, None, password)
        .await?;
    attempt.succeeded().await;
    Ok(user)
}

/// A sensitive action's confirmation: a sign-in within
/// `session.recent_sign_in`, or the password again.
async fn confirm(
    req: &Request<'_>,
    data: &SessionData,
    password: Option<String>,
) -> Result<(), AuthError> {
    if is_recent(data, req.auth) {
        return Ok(());
    }
    check_password(req, data, password).await.map(|_| ())
}

/// Whether the session signed in within `session.recent_sign_in`.
pub fn is_recent(data: &SessionData, auth: &Auth) -> bool {
    let window = auth.config.session.recent_sign_in.as_secs() as i64;
    recent_at(
        data.signed_in_at,
        window,
        OffsetDateTime::now_utc().unix_timestamp(),
    )
}

/// Whether a sign-in at `signed_in_at` is less than `window` seconds old at `now`.
fn recent_at(signed_in_at: i64, window: i64, now: i64) -> bool {
    now - signed_in_at < window
}

pub(crate) fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The signed-in user's live sessions, this one first, then the most recent.
pub async fn list_sessions(req: &Request<'_>) -> Result<Vec<SessionInfo>, AuthError> {
    let (data, current) = signed_in(req).await?;
    let sessions = req.auth.sessions_of(&data.user_id).await.map_err(|cause| {
        tracing::error!(%cause, "listing sessions failed");
        AuthError::Signin
    })?;
    let mut list: Vec<SessionInfo> = sessions
        .into_iter()
        .map(|s| SessionInfo {
            id: s.handle.to_string(),
            current: s.handle == current,
            signed_in_at: rfc3339(s.data.signed_in_at),
            last_seen: rfc3339(s.data.last_seen),
            ip: s.data.ip.clone(),
            browser: describe_user_agent(s.data.user_agent.as_deref()),
        })
        .collect();
    list.sort_by_key(|s| !s.current);
    Ok(list)
}

/// Ends the session `id` of the signed-in user (not the current one: that
/// is signing out). Ending a session that is gone already is done.
pub async fn end_session(
    req: &Request<'_>,
    csrf_token: &str,
    id: &str,
    password: Option<String>,
) -> Result<Done, AuthError> {
    let (data, current) = checked(req, csrf_token).await?;
    let handle = SessionHandle::parse(id).ok_or(AuthError::InvalidRequest)?;
    if handle == current {
        return Err(AuthError::InvalidRequest);
    }
    confirm(req, &data, password).await?;
    req.auth
        .end_session(&data.user_id, &handle)
        .await
        .map_err(|cause| {
            tracing::error!(%cause, "ending a session failed");
            AuthError::Signin
        })?;
    Ok(Done::SessionEnded)
}

/// Ends every session of the signed-in user but this one.
pub async fn end_other_sessions(
    req: &Request<'_>,
    csrf_token: &str,
    password: Option<String>,
) -> Result<Done, AuthError> {
    let (data, current) = checked(req, csrf_token).await?;
    confirm(req, &data, password).await?;
    let ended = req
        .auth
        .end_sessions(&data.user_id, Some(&current))
        .await
        .map_err(|cause| {
            tracing::error!(%cause, "ending sessions failed");
            AuthError::Signin
        })?;
    Ok(Done::OthersEnded(ended))
}

/// What the change-password form sent.
pub struct PasswordChange {
    pub current: Option<String>,
    pub new: String,
    pub confirm: String,
}

/// Changes the signed-in user's password (the current one is always
/// needed) and ends every other session of theirs; this one stays.
pub async fn change_password(
    req: &Request<'_>,
    csrf_token: &str,
    change: PasswordChange,
) -> Result<Done, AuthError> {
    let (data, current) = checked(req, csrf_token).await?;
    if change.new != change.confirm {
        return Err(AuthError::PasswordMismatch);
    }
    let user = check_password(req, &data, change.current).await?;
    let context = [user.email.as_str(), user.name.as_deref().unwrap_or("")];
    let new = NewPassword::parse(change.new, &context).map_err(|_| AuthError::WeakPassword)?;
    let ended = req
        .auth
        .set_password(&user.email, &new, Some(&current))
        .await
        .map_err(|cause| {
            tracing::error!(%cause, "changing a password failed");
            cause.answer()
        })?;
    Ok(Done::PasswordChanged(ended))
}

/// Asks to move the account to `new_email` (the password is always
/// needed: a session alone, however recent, could be a stolen one): a link
/// to the new address moves it, a notice goes to the old one. The answer does not wait
/// for either, and says nothing about whether the new address is taken (a
/// taken one gets no link).
pub async fn change_email(
    req: &Request<'_>,
    csrf_token: &str,
    new_email: &str,
    password: Option<String>,
) -> Result<Done, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let new = Email::parse(new_email).map_err(|_| AuthError::InvalidRequest)?;
    if new.as_str() == user_of(req.auth, &data).await?.email {
        return Err(AuthError::InvalidRequest);
    }
    let user = check_password(req, &data, password).await?;
    let auth = req.auth.clone();
    let locale = req.locale;
    tokio::spawn(async move {
        if let Err(cause) = send_email_change(&auth, &user, &new, locale).await {
            tracing::error!(%cause, "sending an email change failed");
        }
    });
    Ok(Done::EmailChangeSent)
}

/// The part after the answer of [`change_email`].
async fn send_email_change(
    auth: &Auth,
    user: &UserRecord,
    new: &Email,
    locale: crate::i18n::Locale,
) -> Result<(), String> {
    let site = site_name(auth);
    let reset = format!("{}{}", auth.config.base_url(), crate::wire::routes::RESET);
    let notice = render(Kind::EmailChangeNotice, locale, &site, &user.email, &reset);
    auth.send_mail(notice, Some(user.id)).await?;
    if auth
        .users
        .find_by_email(new)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        tracing::info!(
            user_id = user.id,
            "an email change asked for a taken address"
        );
        return Ok(());
    }
    let token = auth
        .tokens
        .issue(
            Purpose::ChangeEmail,
            user.id,
            new.as_str(),
            auth.config.accounts.verification_ttl,
        )
        .await
        .map_err(|e| e.to_string())?;
    let link = format!(
        "{}{}?token={token}&change=1",
        auth.config.base_url(),
        crate::wire::routes::VERIFY
    );
    let mail = render(Kind::ChangeEmail, locale, &site, new.as_str(), &link);
    auth.send_mail(mail, Some(user.id)).await
}

/// Deletes the signed-in user's account (the password is always needed):
/// the user first, so no new sign-in gets through, then every session.
pub async fn delete_account(
    req: &Request<'_>,
    csrf_token: &str,
    password: Option<String>,
) -> Result<Done, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    let user = check_password(req, &data, password).await?;
    // The user, every session and every link, in one transaction.
    req.auth.delete_user(user.id).await.map_err(|cause| {
        tracing::error!(%cause, "deleting an account failed");
        cause.answer()
    })?;
    tracing::info!(user_id = user.id, "an account was deleted by its user");
    Ok(Done::AccountDeleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_is_recent_for_less_than_the_window() {
        assert!(recent_at(1000, 600, 1000));
        assert!(recent_at(1000, 600, 1599));
        assert!(
            !recent_at(1000, 600, 1600),
            "the window's end is not within it"
        );
        assert!(!recent_at(1000, 0, 1000), "a zero window: never recent");
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_000_000), "2026-11-30T00:53:20Z");
    }
}
