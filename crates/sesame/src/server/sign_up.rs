//! Sign-up and email verification. Signing up answers the same, at once,
//! whether or not the address has an account: the form is checked first
//! (address, password policy, confirmation), then the rest happens after the
//! answer in a task of its own: a new account gets a verification link (24
//! hours, single-use, stored hashed), and the owner of an existing one gets a
//! message saying someone tried. Until the address is confirmed the account
//! cannot sign in (`EmailNotVerified`, after its password was checked)
//! unless `accounts.unverified_sign_in` allows it; the link can be sent
//! again, at most once a minute per account. An administrator's invitation
//! (`Auth::invite`) creates the account and sends a link that sets its
//! password, which confirms the address too.

use std::time::Duration;

use super::{
    config::SignUpMode,
    mail::templates::{render, Kind},
    password::{self, NewPassword, Password},
    state::Auth,
    tokens::Purpose,
    users::{Email, NewUser, StoreError, UserRecord},
    visitor::{site_name, Visitor},
    AccountError,
};
use crate::{i18n::Locale, AuthError};

/// The longest display name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// How often the verification link may be sent again to one account.
const RESEND_EVERY: Duration = Duration::from_secs(60);

/// What the sign-up form sent.
pub struct SignUpForm {
    pub email: String,
    pub name: Option<String>,
    pub password: String,
    pub confirm: String,
}

/// The link of a verification token.
fn verify_link(auth: &Auth, token: &str) -> String {
    format!(
        "{}{}?token={token}",
        auth.config.base_url(),
        crate::VERIFY_PATH
    )
}

/// Signs up: checks the form, answers, and does the rest afterwards. `Ok`
/// says nothing about whether the address had an account.
pub async fn sign_up(v: &Visitor<'_>, csrf_token: &str, form: SignUpForm) -> Result<(), AuthError> {
    if v.auth.config.accounts.sign_up != SignUpMode::Open {
        return Err(AuthError::SignUpClosed);
    }
    v.check(csrf_token).await?;
    let email = Email::parse(&form.email).map_err(|_| AuthError::InvalidRequest)?;
    let name = form
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control))
    {
        return Err(AuthError::InvalidRequest);
    }
    if form.password != form.confirm {
        return Err(AuthError::PasswordMismatch);
    }
    let context = [email.as_str(), name.as_deref().unwrap_or("")];
    let password =
        NewPassword::parse(form.password, &context).map_err(|_| AuthError::WeakPassword)?;
    let auth = v.auth.clone();
    let locale = v.locale;
    tokio::spawn(async move {
        if let Err(cause) = create_or_notify(&auth, email, name, password, locale).await {
            tracing::error!(%cause, "sign-up failed after its answer");
        }
    });
    Ok(())
}

/// The part after the answer: a new account and its verification link, or
/// a notice to the owner of the existing one.
async fn create_or_notify(
    auth: &Auth,
    email: Email,
    name: Option<String>,
    password: NewPassword,
    locale: Locale,
) -> Result<(), String> {
    let site = site_name(auth);
    let attempted = |to: &str| {
        let link = format!("{}{}", auth.config.base_url(), auth.sign_in_page());
        render(Kind::SignUpAttempted, locale, &site, to, &link)
    };
    if auth
        .users
        .find_by_email(&email)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return auth
            .mailer
            .send(attempted(email.as_str()))
            .await
            .map_err(|e| e.to_string());
    }
    let password_hash = password::hash(&auth.gate, password.password())
        .await
        .map_err(|e| e.to_string())?;
    let created = auth
        .users
        .create(NewUser {
            email: email.clone(),
            name,
            password_hash,
            email_verified: false,
        })
        .await;
    let user = match created {
        Ok(user) => user,
        // Signed up twice at once: the second is the "someone tried" case.
        Err(StoreError::Duplicate) => {
            return auth
                .mailer
                .send(attempted(email.as_str()))
                .await
                .map_err(|e| e.to_string())
        }
        Err(e) => return Err(e.to_string()),
    };
    send_verification(auth, &user, locale).await
}

/// A new verification link for `user`, by email.
async fn send_verification(auth: &Auth, user: &UserRecord, locale: Locale) -> Result<(), String> {
    let token = auth
        .tokens
        .issue(
            Purpose::VerifyEmail,
            user.id,
            &user.email,
            auth.config.accounts.verification_ttl,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mail = render(
        Kind::VerifyEmail,
        locale,
        &site_name(auth),
        &user.email,
        &verify_link(auth, &token),
    );
    auth.mailer.send(mail).await.map_err(|e| e.to_string())
}

/// Confirms the address a verification link was sent to and, with
/// `accounts.sign_in_after_verification`, signs this browser in (the link
/// came from the mailbox). A used, expired or made-up token, or one for an
/// address the account no longer has, is `Verification`.
pub async fn confirm_email(
    v: &Visitor<'_>,
    csrf_token: &str,
    token: &str,
) -> Result<Verified, AuthError> {
    v.check(csrf_token).await?;
    let store_error = |cause: String| {
        tracing::error!(%cause, "confirming an email failed");
        AuthError::Signin
    };
    // Read before the token is spent, as a sign-in reads it before the
    // password: a revocation after this keeps the session from being stored.
    let revocation_seq = v
        .auth
        .sessions
        .revocation_seq()
        .await
        .map_err(|e| store_error(e.to_string()))?;
    let named = v
        .auth
        .tokens
        .take(Purpose::VerifyEmail, token)
        .await
        .map_err(|e| store_error(e.to_string()))?
        .ok_or(AuthError::Verification)?;
    let user = match v.auth.users.find_by_id(named.user_id).await {
        Ok(Some(user)) if user.email == named.email => user,
        Ok(_) => return Err(AuthError::Verification),
        Err(e) => return Err(store_error(e.to_string())),
    };
    v.auth
        .users
        .set_email_verified(user.id)
        .await
        .map_err(|e| store_error(e.to_string()))?;
    if !v.auth.config.accounts.sign_in_after_verification {
        return Ok(Verified::Confirmed);
    }
    // The link came from the mailbox: sign this browser in, if the
    // application can name its user without a password.
    let signed_in = match v.auth.hooks.user_for(&user).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return Ok(Verified::Confirmed),
        Err(cause) => {
            tracing::error!(%cause, "no user for a sign-in after verification");
            return Ok(Verified::Confirmed);
        }
    };
    let origin = super::session::Origin {
        ip: v.ip,
        user_agent: None,
        revocation_seq,
    };
    match super::session::start(v.session, &signed_in, &origin, &v.auth.config, false).await {
        Ok((data, _)) => {
            v.csrf.rotate(data.csrf_binding());
            v.auth.hooks.signed_in(&signed_in).await;
            Ok(Verified::SignedIn)
        }
        Err(cause) => {
            tracing::error!(%cause, "could not start a session after verification");
            Ok(Verified::Confirmed)
        }
    }
}

/// What confirming an address did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The address is confirmed; sign in with the password.
    Confirmed,
    /// The address is confirmed and this browser is signed in.
    SignedIn,
}

/// Moves an account to the address a change link was sent to, and ends
/// every session of it (they show the old address; sign in with the new).
/// A used, expired or made-up token, or an address taken meanwhile, is
/// `Verification`.
pub async fn confirm_email_change(
    v: &Visitor<'_>,
    csrf_token: &str,
    token: &str,
) -> Result<(), AuthError> {
    v.check(csrf_token).await?;
    let failed = |cause: String| {
        tracing::error!(%cause, "moving an account to a new address failed");
        AuthError::Signin
    };
    let named = v
        .auth
        .tokens
        .take(Purpose::ChangeEmail, token)
        .await
        .map_err(|e| failed(e.to_string()))?
        .ok_or(AuthError::Verification)?;
    let email = Email::parse(&named.email).map_err(|_| AuthError::Verification)?;
    match v.auth.users.set_email(named.user_id, &email).await {
        Ok(()) => {}
        Err(StoreError::Duplicate | StoreError::NotFound) => return Err(AuthError::Verification),
        Err(e) => return Err(failed(e.to_string())),
    }
    v.auth
        .end_sessions(&named.user_id.to_string(), None)
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// Sends the verification link again, if `email` has an account that is
/// not confirmed yet (and none was sent in the last minute). `Ok` says
/// nothing about the account.
pub async fn resend(v: &Visitor<'_>, csrf_token: &str, email: &str) -> Result<(), AuthError> {
    v.check(csrf_token).await?;
    let email = Email::parse(email).map_err(|_| AuthError::InvalidRequest)?;
    let auth = v.auth.clone();
    let locale = v.locale;
    tokio::spawn(async move {
        let user = match auth.users.find_by_email(&email).await {
            Ok(Some(user)) if user.email_verified_at.is_none() && !user.is_disabled() => user,
            Ok(_) => return,
            Err(cause) => {
                tracing::error!(%cause, "resending a verification link failed");
                return;
            }
        };
        match auth
            .tokens
            .issued_within(Purpose::VerifyEmail, user.id, RESEND_EVERY)
            .await
        {
            Ok(false) => {}
            Ok(true) => return,
            Err(cause) => {
                tracing::error!(%cause, "resending a verification link failed");
                return;
            }
        }
        if let Err(cause) = send_verification(&auth, &user, locale).await {
            tracing::error!(%cause, "resending a verification link failed");
        }
    });
    Ok(())
}

/// Why an invitation failed.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The account exists already.
    #[error("a user with this email already exists")]
    Exists,
    /// The account operation failed.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The message was not sent (the account exists now: invite again later
    /// with `user set-password`, or fix the mail settings).
    #[error("the invitation was not sent: {0}")]
    Mail(String),
}

impl Auth {
    /// Invites `email`: creates the account (unconfirmed, with a random
    /// password nobody knows) and sends it a link, valid for
    /// `accounts.verification_ttl`, that sets its password and confirms the
    /// address. Works whatever `accounts.sign_up` says.
    pub async fn invite(
        &self,
        email: &str,
        name: Option<String>,
        locale: Locale,
    ) -> Result<UserRecord, InviteError> {
        let email = Email::parse(email).map_err(AccountError::from)?;
        let unknowable = Password::parse(hex::encode(rand::random::<[u8; 32]>()))
            .map_err(|e| AccountError::Hash(password::HashError::Hash(e.to_string())))?;
        let password_hash = password::hash(&self.gate, &unknowable)
            .await
            .map_err(AccountError::from)?;
        let user = match self
            .users
            .create(NewUser {
                email,
                name,
                password_hash,
                email_verified: false,
            })
            .await
        {
            Ok(user) => user,
            Err(StoreError::Duplicate) => return Err(InviteError::Exists),
            Err(e) => return Err(AccountError::from(e).into()),
        };
        let token = self
            .tokens
            .issue(
                Purpose::ResetPassword,
                user.id,
                &user.email,
                self.config.accounts.verification_ttl,
            )
            .await
            .map_err(AccountError::Tokens)?;
        let link = super::reset::reset_link(self, &token);
        let mail = render(
            Kind::Invitation,
            locale,
            &site_name(self),
            &user.email,
            &link,
        );
        self.mailer
            .send(mail)
            .await
            .map_err(|e| InviteError::Mail(e.to_string()))?;
        Ok(user)
    }
}
