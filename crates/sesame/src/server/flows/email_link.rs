//! The email provider (NextAuth's "magic links"): [`request`] answers the
//! same at once for every address (the "check your email" page) and, after
//! the answer, sends a single-use link to an address that may sign in: one
//! with an active account, or any address when `accounts.sign_up` is open.
//! The per-IP limit and the per-recipient and per-account mail budgets
//! apply. The link's GET shows a page with a button (a mail scanner that
//! follows links signs nobody in); [`finish`] is that button's POST: the
//! link is taken (once), the account found or made, its address marked
//! verified, then the sign-in steps every way in shares
//! ([`enter`](super::sign_in::enter)).

use tower_sessions::Session;

use super::sign_in::{counted, enter, opening, Caller, Entry, Refused, SignedIn};
use crate::server::{
    config::SignUpMode,
    defense::audit::{AuditAction, AuditEvent, Outcome},
    defense::csrf::Csrf,
    defense::lockout,
    flows::visitor::site_name,
    mail::templates::{render, Kind},
    providers::Profile,
    state::Auth,
    stores::users::{Email, Identifier, NewUser, StoreError},
};
use crate::{i18n::Locale, wire::routes, wire::AuthError};

/// The "check your email" page a request answers with.
pub fn verify_request_url(auth: &Auth) -> String {
    format!(
        "{}{}?provider=email&type=email",
        auth.config.base_url(),
        routes::VERIFY_REQUEST
    )
}

/// The link of a sign-in token (NextAuth's `/callback/email?token=&email=`).
fn link(auth: &Auth, token: &str, email: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .append_pair("email", email)
        .finish();
    format!(
        "{}{}?{query}",
        auth.config.base_url(),
        routes::CALLBACK_PROVIDER.replace("{provider}", "email")
    )
}

/// What POST `/signin/email` sends.
#[derive(Debug, Clone, Copy)]
pub struct LinkRequest<'a> {
    pub email: &'a str,
    pub csrf_token: &'a str,
    pub callback_url: Option<&'a str>,
    /// The language of the message.
    pub locale: Locale,
}

/// POST `/signin/email`: the "check your email" page's URL, whatever the
/// address; the link goes out after the answer.
pub async fn request(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    form: LinkRequest<'_>,
) -> Result<String, Refused> {
    let LinkRequest {
        email,
        csrf_token,
        callback_url,
        locale,
    } = form;
    if !auth.config.email_sign_in.enabled {
        return Err(Refused::new(AuthError::InvalidRequest, None));
    }
    let (_, callback_url) = opening(auth, csrf, session, csrf_token, callback_url).await?;
    let fail = |error| Refused::new(error, Some(&callback_url));
    counted(auth, caller, Some(&callback_url)).await?;
    let email = Email::parse(email).map_err(|_| fail(AuthError::InvalidRequest))?;
    let auth2 = auth.clone();
    tokio::spawn(async move {
        if let Err(cause) = send_link(&auth2, &email, &callback_url, locale).await {
            tracing::error!(%cause, "sending a sign-in link failed");
        }
    });
    Ok(verify_request_url(auth))
}

/// After the answer: a link, if the address may sign in.
async fn send_link(
    auth: &Auth,
    email: &Email,
    callback_url: &str,
    locale: Locale,
) -> Result<(), String> {
    let user = auth
        .users
        .find_by_email(email)
        .await
        .map_err(|e| e.to_string())?;
    let account = match &user {
        Some(user) if user.is_disabled() => {
            tracing::info!("a sign-in link was asked for a disabled account");
            return Ok(());
        }
        Some(user) => Some(user.id),
        None if auth.config.accounts.sign_up == SignUpMode::Open => None,
        None => {
            tracing::info!("a sign-in link was asked for an address without an account");
            return Ok(());
        }
    };
    let token = auth
        .sign_in_links
        .issue(
            email.as_str(),
            callback_url,
            auth.config.email_sign_in.link_ttl,
        )
        .await
        .map_err(|e| e.to_string())?;
    let mail = render(
        Kind::SignInLink,
        locale,
        &site_name(auth),
        email.as_str(),
        &link(auth, &token, email.as_str()),
    );
    auth.send_mail(mail, account).await
}

/// POST `/callback/email` (the link page's button): signs in with the link.
pub async fn finish(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    token: &str,
    csrf_token: &str,
) -> Result<SignedIn, Refused> {
    let audit = |outcome, user_id: Option<&str>, account: Option<&Identifier>| AuditEvent {
        action: AuditAction::SignIn,
        outcome,
        account: account.map(|a| auth.audit_account(a)),
        user_id: user_id.map(str::to_string),
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        provider: Some("email".into()),
        amr: Vec::new(),
    };
    opening(auth, csrf, session, csrf_token, None).await?;
    counted(auth, caller, None).await?;
    let revocation_seq = auth.sessions.revocation_seq().await.map_err(|cause| {
        tracing::error!(%cause, "reading the revocation sequence failed");
        Refused::unavailable(None)
    })?;
    let taken = auth.sign_in_links.take(token).await.map_err(|cause| {
        tracing::error!(%cause, "reading a sign-in link failed");
        Refused::unavailable(None)
    })?;
    let Some((address, callback_url)) = taken else {
        auth.audit(audit(Outcome::Refused, None, None)).await;
        return Err(Refused::new(AuthError::Verification, None));
    };
    let fail = |error| Refused::new(error, Some(&callback_url));
    let email = Email::parse(&address).map_err(|_| fail(AuthError::Verification))?;
    let identifier =
        Identifier::parse(email.as_str()).map_err(|_| fail(AuthError::Verification))?;
    let store = |e: StoreError| {
        tracing::error!(cause = %e, "a link sign-in could not use the database");
        Refused::unavailable(Some(&callback_url))
    };
    let user = match auth.users.find_by_email(&email).await.map_err(store)? {
        Some(user) => user,
        None if auth.config.accounts.sign_up == SignUpMode::Open => {
            let made = auth
                .users
                .create(NewUser {
                    email: email.clone(),
                    name: None,
                    // No password: it signs in with links (or sets one by reset).
                    password_hash: String::new(),
                    email_verified: true,
                })
                .await;
            match made {
                Ok(user) => user,
                // Made by another request at this moment.
                Err(StoreError::Duplicate) => auth
                    .users
                    .find_by_email(&email)
                    .await
                    .map_err(store)?
                    .ok_or_else(|| fail(AuthError::Verification))?,
                Err(e) => return Err(store(e)),
            }
        }
        None => return Err(fail(AuthError::AccessDenied)),
    };
    if user.is_disabled() {
        auth.audit(audit(
            Outcome::Refused,
            Some(&user.id.to_string()),
            Some(&identifier),
        ))
        .await;
        return Err(fail(AuthError::AccessDenied));
    }
    // The link came from the mailbox: the address is confirmed.
    if user.email_verified_at.is_none() {
        auth.users
            .set_email_verified(user.id)
            .await
            .map_err(store)?;
    }
    let attempt = match auth
        .lockout
        .check(&identifier, caller.device_cookie.as_deref())
        .await
    {
        Ok(attempt) => attempt,
        Err(lockout::Refused::Locked(locked)) => {
            auth.audit(audit(Outcome::Locked, None, Some(&identifier)))
                .await;
            return Err(fail(AuthError::RateLimited)
                .retry_after(crate::server::defense::limits::whole_seconds(locked.wait)));
        }
        Err(lockout::Refused::Unavailable) => {
            return Err(Refused::unavailable(Some(&callback_url)));
        }
    };
    let signed_in = match auth.hooks.user_for(&user).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return Err(fail(AuthError::AccessDenied)),
        Err(cause) => {
            tracing::error!(%cause, "no application user for a link sign-in");
            return Err(fail(AuthError::Callback));
        }
    };
    let profile = Profile {
        provider: "email".into(),
        account_id: user.email.clone(),
        email: Some(user.email.clone()),
        email_verified: true,
        name: user.name.clone(),
        image: user.image.clone(),
    };
    let entry = Entry {
        auth,
        csrf,
        session,
        caller,
        identifier: &identifier,
        revocation_seq,
        factorless: None,
        remember: true,
        callback_url: &callback_url,
        provider: Some(&profile),
        first: "email",
        second: None,
    };
    match enter(&entry, &signed_in, attempt).await {
        Err(refused) if refused.error == AuthError::CredentialsSignin => {
            Err(fail(AuthError::AccessDenied))
        }
        other => other,
    }
}
