//! Password reset by email. Asking for a link answers the same, at once,
//! whether or not the address has an account: the lookup, the token and the
//! message happen after the answer, in a task of their own, so neither the
//! answer nor its timing tells. The link's token is single-use, valid for one
//! hour, and stored hashed; setting the new password through it ends every
//! session of the user. Both steps check the CSRF token and count against the
//! per-IP limit. A completed reset confirms the address (the link came from
//! the mailbox), voids every other pending link of the account and clears
//! its lockout (a hard lock included). Each returns a domain result; the
//! server functions in `crate::actions::reset` make the answer.

use std::time::Duration;

use crate::server::{
    defense::password::NewPassword,
    flows::visitor::{site_name, Visitor},
    mail::templates::{render, Kind},
    state::Auth,
    stores::tokens::Purpose,
    stores::users::Email,
};
use crate::{i18n::Locale, wire::AuthError};

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(60 * 60);

/// The link of a reset token.
pub fn reset_link(auth: &Auth, token: &str) -> String {
    format!(
        "{}{}?token={token}",
        auth.config.base_url(),
        crate::wire::routes::RESET
    )
}

/// Asks for a reset link for `email`. `Ok` says nothing about the account.
pub async fn request_link(
    req: &Visitor<'_>,
    csrf_token: &str,
    email: &str,
) -> Result<(), AuthError> {
    req.check(csrf_token).await?;
    let email = Email::parse(email).map_err(|_| AuthError::InvalidRequest)?;
    let auth = req.auth.clone();
    let locale = req.locale;
    tokio::spawn(async move {
        if let Err(cause) = send_link(&auth, &email, locale).await {
            tracing::error!(%cause, "sending a reset link failed");
        }
    });
    Ok(())
}

/// The part after the answer: a token and a message if the account exists
/// (and may sign in).
async fn send_link(auth: &Auth, email: &Email, locale: Locale) -> Result<(), String> {
    let user = auth
        .users
        .find_by_email(email)
        .await
        .map_err(|e| e.to_string())?;
    let Some(user) = user.filter(|u| !u.is_disabled()) else {
        tracing::info!("a reset link was asked for an address without an active account");
        return Ok(());
    };
    let token = auth
        .tokens
        .issue(Purpose::ResetPassword, user.id, &user.email, RESET_TTL)
        .await
        .map_err(|e| e.to_string())?;
    let site = site_name(auth);
    let mail = render(
        Kind::ResetPassword,
        locale,
        &site,
        &user.email,
        &reset_link(auth, &token),
    );
    auth.send_mail(mail, Some(user.id)).await
}

/// What the new-password form sent.
pub struct NewPasswordForm {
    pub token: String,
    pub new: String,
    pub confirm: String,
}

/// Sets the password named by a reset link's token, spends the token, and
/// ends every session of the user. A used, expired or made-up token is
/// `Verification`; a password the policy refuses leaves the token usable.
pub async fn set_password(
    req: &Visitor<'_>,
    csrf_token: &str,
    form: NewPasswordForm,
) -> Result<(), AuthError> {
    req.check(csrf_token).await?;
    if form.new != form.confirm {
        return Err(AuthError::PasswordMismatch);
    }
    let store_error = |cause: sqlx::Error| {
        tracing::error!(%cause, "reading a reset token failed");
        AuthError::Signin
    };
    let tokens = &req.auth.tokens;
    let named = tokens
        .peek(Purpose::ResetPassword, &form.token)
        .await
        .map_err(store_error)?
        .ok_or(AuthError::Verification)?;
    let user = match req.auth.users.find_by_id(named.user_id).await {
        Ok(Some(user)) if user.email == named.email && !user.is_disabled() => user,
        Ok(_) => return Err(AuthError::Verification),
        Err(cause) => {
            tracing::error!(%cause, "reading the user failed");
            return Err(AuthError::Signin);
        }
    };
    let context = [user.email.as_str(), user.name.as_deref().unwrap_or("")];
    let new = NewPassword::parse(form.new, &context).map_err(|_| AuthError::WeakPassword)?;
    // Spent here, once: of two requests with the same link only one gets on.
    tokens
        .take(Purpose::ResetPassword, &form.token)
        .await
        .map_err(store_error)?
        .ok_or(AuthError::Verification)?;
    // The link came by email: the address is proven too (an invitation is
    // a reset link to a new account).
    if user.email_verified_at.is_none() {
        if let Err(cause) = req.auth.users.set_email_verified(user.id).await {
            tracing::error!(%cause, "marking the email verified failed");
        }
    }
    req.auth
        .set_password(&user.email, &new, None)
        .await
        .map_err(|cause| {
            tracing::error!(%cause, "setting a password from a reset link failed");
            cause.answer()
        })?;
    // The mailbox's owner chose a new password: the account's lockout,
    // a hard lock included, ends with it.
    if let Err(cause) = req.auth.clear_lockout(&user.email).await {
        tracing::error!(%cause, "clearing the lockout after a reset failed");
    }
    Ok(())
}
