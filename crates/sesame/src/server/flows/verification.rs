//! Sending a new account's verification link: the link itself, bound to
//! the browser that asked for it when there is one, and the link sent again
//! (at most once a minute per account, on the database's clock). Used by
//! sign-up and by a sign-in that met an unconfirmed account.

use std::time::Duration;

use crate::i18n::Locale;
use crate::server::{
    flows::visitor::site_name,
    mail::templates::{render, Kind},
    state::Auth,
    stores::tokens::Purpose,
    stores::users::{Email, UserRecord},
};

/// How often the verification link may be sent again to one account.
const RESEND_EVERY: Duration = Duration::from_secs(60);

/// The link of a verification token.
fn verify_link(auth: &Auth, token: &str) -> String {
    format!(
        "{}{}?token={token}",
        auth.config.base_url(),
        crate::wire::routes::VERIFY
    )
}

/// A new verification link for `user`, by email, bound to the browser whose
/// binding cookie hashes to `bound_to` (if any).
pub(crate) async fn send(
    auth: &Auth,
    user: &UserRecord,
    locale: Locale,
    bound_to: Option<&[u8; 32]>,
) -> Result<(), String> {
    let token = auth
        .tokens
        .issue_bound(
            Purpose::VerifyEmail,
            user.id,
            &user.email,
            auth.config.accounts.verification_ttl,
            bound_to,
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
    auth.send_mail(mail, Some(user.id)).await
}

/// In a task of its own: the verification link again to `email`'s account,
/// if it is enabled and not confirmed and none was sent in the last minute
/// (the database's clock decides, as it stamped the last one).
pub(crate) fn resend_in_background(
    auth: &Auth,
    email: &str,
    bound_to: Option<[u8; 32]>,
    locale: Locale,
) {
    let Ok(email) = Email::parse(email) else {
        return;
    };
    let auth = auth.clone();
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
        if let Err(cause) = send(&auth, &user, locale, bound_to.as_ref()).await {
            tracing::error!(%cause, "resending a verification link failed");
        }
    });
}
