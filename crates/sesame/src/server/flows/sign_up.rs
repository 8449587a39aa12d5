//! Sign-up and email verification. Signing up answers the same, at once,
//! whether or not the address has an account: the form is checked first
//! (address, password policy, confirmation), then the rest happens after the
//! answer in a task of its own: a new account gets a verification link (24
//! hours, single-use, stored hashed), and the owner of an existing one gets a
//! message saying someone tried. Until the address is confirmed the account
//! cannot sign in (its right password is answered as a wrong one, and the
//! link is sent again) unless `accounts.unverified_sign_in` allows it; the
//! link can be sent again, at most once a minute per account. An
//! administrator's invitation (`Auth::invite`) creates the account and sends
//! a link that sets its password, which confirms the address too.
//!
//! Whoever signs up chose the password, not necessarily the owner of the
//! address. So the link is bound to the browser that signed up (a cookie set
//! with the answer): followed there, it confirms and signs in; followed
//! anywhere else, it asks for the password chosen at sign-up first. The
//! owner of an address someone else signed up with cannot confirm it with a
//! password they never chose, and the squatter's password never becomes one
//! that opens the account; the owner takes it over with a password reset,
//! which confirms the address and replaces the password.

use crate::server::{
    config::SignUpMode,
    defense::password::{self, NewPassword, Password},
    flows::admin::AccountError,
    flows::sign_in::{enter, Caller, Entry, SignedIn},
    flows::verification,
    flows::visitor::{new_binding_cookie, site_name, Visitor},
    mail::templates::{render, Kind},
    state::Auth,
    stores::tokens::{binding_hash, Purpose},
    stores::users::{Email, Identifier, NewUser, StoreError, UserRecord},
};
use crate::{i18n::Locale, wire::AuthError};

/// The longest display name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// What the sign-up form sent.
pub struct SignUpForm {
    pub email: String,
    pub name: Option<String>,
    pub password: String,
    pub confirm: String,
}

/// Signs up: checks the form, answers, and does the rest afterwards. `Ok`
/// says nothing about whether the address had an account; it carries the
/// binding cookie to set (the link will be bound to it).
pub async fn sign_up(
    v: &Visitor<'_>,
    csrf_token: &str,
    form: SignUpForm,
) -> Result<http::HeaderValue, AuthError> {
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
    let (binding, cookie) = new_binding_cookie(v.auth, v.auth.config.accounts.verification_ttl);
    let bound_to = binding_hash(&binding);
    tokio::spawn(async move {
        let sign_up = SignUp {
            email,
            name,
            password,
            bound_to,
        };
        if let Err(cause) = create_or_notify(&auth, sign_up, locale).await {
            tracing::error!(%cause, "sign-up failed after its answer");
        }
    });
    Ok(cookie)
}

/// A checked sign-up form and the browser it came from.
struct SignUp {
    email: Email,
    name: Option<String>,
    password: NewPassword,
    /// SHA-256 of the binding cookie set with the answer.
    bound_to: [u8; 32],
}

/// The part after the answer: a new account and its verification link, or
/// a notice to the owner of the existing one.
async fn create_or_notify(auth: &Auth, sign_up: SignUp, locale: Locale) -> Result<(), String> {
    let SignUp {
        email,
        name,
        password,
        bound_to,
    } = sign_up;
    let site = site_name(auth);
    let attempted = |to: &str| {
        let link = format!("{}{}", auth.config.base_url(), auth.sign_in_page());
        render(Kind::SignUpAttempted, locale, &site, to, &link)
    };
    if let Some(owner) = auth
        .users
        .find_by_email(&email)
        .await
        .map_err(|e| e.to_string())?
    {
        return auth
            .send_mail(attempted(email.as_str()), Some(owner.id))
            .await;
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
        Err(StoreError::Duplicate) => return auth.send_mail(attempted(email.as_str()), None).await,
        Err(e) => return Err(e.to_string()),
    };
    verification::send(auth, &user, locale, Some(&bound_to)).await
}

/// Confirms the address a verification link was sent to and, with
/// `accounts.sign_in_after_verification`, signs this browser in through the
/// sign-in steps every way in takes. Followed in the browser the link is
/// bound to, the link is enough; anywhere else the account's password is
/// needed too (`ReauthRequired` without it, or with a wrong one, which
/// counts as the account's failure). A used, expired or made-up token, or
/// one for an address the account no longer has, is `Verification`.
pub async fn confirm_email(
    v: &Visitor<'_>,
    csrf_token: &str,
    token: &str,
    password: Option<String>,
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
        .peek(Purpose::VerifyEmail, token)
        .await
        .map_err(|e| store_error(e.to_string()))?
        .ok_or(AuthError::Verification)?;
    let user = match v.auth.users.find_by_id(named.user_id).await {
        Ok(Some(user)) if user.email == named.email && !user.is_disabled() => user,
        Ok(_) => return Err(AuthError::Verification),
        Err(e) => return Err(store_error(e.to_string())),
    };
    let identifier = Identifier::parse(&user.email).map_err(|_| AuthError::Verification)?;
    // The first factor: the browser the link is bound to, or the password.
    let attempt = if named.is_bound_to(v.binding_cookie.as_deref()) {
        v.auth
            .lockout
            .check(&identifier, v.device_cookie.as_deref())
            .await
            .ok()
    } else {
        Some(
            v.auth
                .check_password_again(&user, &identifier, v.device_cookie.as_deref(), password)
                .await?,
        )
    };
    v.auth
        .tokens
        .take(Purpose::VerifyEmail, token)
        .await
        .map_err(|e| store_error(e.to_string()))?
        .ok_or(AuthError::Verification)?;
    v.auth
        .users
        .set_email_verified(user.id)
        .await
        .map_err(|e| store_error(e.to_string()))?;
    // A locked account's address is confirmed; it signs in later.
    let Some(attempt) = attempt else {
        return Ok(Verified::Confirmed);
    };
    if !v.auth.config.accounts.sign_in_after_verification {
        return Ok(Verified::Confirmed);
    }
    let signed_in = match v.auth.hooks.user_for(&user).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return Ok(Verified::Confirmed),
        Err(cause) => {
            tracing::error!(%cause, "no user for a sign-in after verification");
            return Ok(Verified::Confirmed);
        }
    };
    let caller = Caller {
        ip: v.ip,
        user_agent: v.user_agent.clone(),
        device_cookie: v.device_cookie.clone(),
        trusted_cookie: None,
    };
    let entry = Entry {
        auth: v.auth,
        csrf: v.csrf,
        session: v.session,
        caller: &caller,
        identifier: &identifier,
        revocation_seq,
        factorless: None,
        remember: false,
        callback_url: "/",
        provider: None,
        first: "email",
        second: None,
    };
    match enter(&entry, &signed_in, attempt).await {
        Ok(SignedIn {
            session: Some(new), ..
        }) => Ok(Verified::SignedIn(new.device_cookie)),
        // The application's `sign_in` callback refused or sent elsewhere,
        // or no session could be stored: the address is confirmed all the same.
        Ok(_) | Err(_) => Ok(Verified::Confirmed),
    }
}

/// What confirming an address did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The address is confirmed; sign in with the password.
    Confirmed,
    /// The address is confirmed and this browser is signed in (with this
    /// device cookie to set).
    SignedIn(http::HeaderValue),
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
    // The move, the end of every session and of every other pending link:
    // one transaction.
    match v.auth.move_account(named.user_id, &email).await {
        Ok(_) => Ok(()),
        Err(AccountError::Store(StoreError::Duplicate | StoreError::NotFound)) => {
            Err(AuthError::Verification)
        }
        Err(cause) => {
            tracing::error!(%cause, "moving an account to a new address failed");
            Err(cause.answer())
        }
    }
}

/// Sends the verification link again, if `email` has an account that is
/// not confirmed yet (and none was sent in the last minute), bound to this
/// browser if it holds a binding cookie. `Ok` says nothing about the account.
pub async fn resend(v: &Visitor<'_>, csrf_token: &str, email: &str) -> Result<(), AuthError> {
    v.check(csrf_token).await?;
    let email = Email::parse(email).map_err(|_| AuthError::InvalidRequest)?;
    verification::resend_in_background(
        v.auth,
        email.as_str(),
        v.binding_cookie.as_deref().map(binding_hash),
        v.locale,
    );
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
        let link = crate::server::flows::reset::reset_link(self, &token);
        let mail = render(
            Kind::Invitation,
            locale,
            &site_name(self),
            &user.email,
            &link,
        );
        self.send_mail(mail, Some(user.id))
            .await
            .map_err(InviteError::Mail)?;
        Ok(user)
    }
}
