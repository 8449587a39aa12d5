//! Sign-up and email verification as Leptos server functions (the edge):
//! create an account (POST `/api/auth/signup/create`), confirm an address
//! (POST `/api/auth/verify/confirm`), send the link again (POST
//! `/api/auth/verify/resend`). A plain form post comes back to its page with
//! `done=` or `error=`; a `fetch` caller gets `{url, error?}` JSON. The flows
//! are `server::flows::sign_up`.

// The `#[server]` macro generates public argument structs whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::http::actions::Edge;
use crate::wire::ActionFields;

use crate::wire::UrlResponse;

/// POST `/api/auth/signup/create`: a new account, its link by email; the
/// same answer when the address has an account (its owner is told).
#[server(prefix = "/api/auth", endpoint = "signup/create")]
pub async fn sign_up_action(
    #[server(default)] email: String,
    #[server(default)] name: Option<String>,
    #[server(default)] password: String,
    #[server(rename = "confirmPassword")]
    #[server(default)]
    confirm_password: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::sign_up;
    let mut edge = Edge::of_request().await?;
    let form = sign_up::SignUpForm {
        email,
        name,
        password,
        confirm: confirm_password,
    };
    let outcome = match sign_up::sign_up(&edge.visitor(), &fields.csrf_token, form).await {
        Ok(binding_cookie) => {
            edge.cookies.push(binding_cookie);
            Ok(())
        }
        Err(error) => Err(error),
    };
    let back = fields
        .callback_url
        .clone()
        .unwrap_or_else(|| crate::wire::routes::SIGN_UP.to_string());
    Ok(edge.answer(outcome.map(|()| "check-email"), Some(&back), &fields))
}

/// POST `/api/auth/verify/confirm`: the `token` of a verification link
/// (`change=1`: of a link that moves an account to a new address), and the
/// account's `password` when the link is followed in another browser than
/// the one that signed up.
#[server(prefix = "/api/auth", endpoint = "verify/confirm")]
pub async fn verify_confirm_action(
    #[server(default)] token: String,
    #[server(default)] change: Option<String>,
    #[server(default)] password: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::{flows::sign_up, http::body::form_flag};
    let mut edge = Edge::of_request().await?;
    let back = crate::wire::routes::VERIFY.to_string();
    if form_flag(change.as_deref()) {
        let outcome =
            sign_up::confirm_email_change(&edge.visitor(), &fields.csrf_token, &token).await;
        return Ok(edge.answer(outcome.map(|()| "email-changed"), Some(&back), &fields));
    }
    let outcome =
        sign_up::confirm_email(&edge.visitor(), &fields.csrf_token, &token, password).await;
    let done = match outcome {
        Ok(sign_up::Verified::Confirmed) => Ok("verified"),
        Ok(sign_up::Verified::SignedIn(device_cookie)) => {
            edge.cookies.push(device_cookie);
            Ok("signed-in")
        }
        Err(error) => Err(error),
    };
    // A refusal comes back to the link's page (with its token: the
    // password field shows on `ReauthRequired`).
    let back = match done {
        Ok(_) | Err(crate::wire::AuthError::Verification) => back,
        Err(_) => format!("{back}?token={}", crate::actions::reset::url_token(&token)),
    };
    Ok(edge.answer(done, Some(&back), &fields))
}

/// POST `/api/auth/verify/resend`: the verification link again, if `email`
/// has an account that is not confirmed; the same answer either way.
#[server(prefix = "/api/auth", endpoint = "verify/resend")]
pub async fn verify_resend_action(
    #[server(default)] email: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::sign_up;
    let edge = Edge::of_request().await?;
    let outcome = sign_up::resend(&edge.visitor(), &fields.csrf_token, &email).await;
    let back = crate::wire::routes::VERIFY.to_string();
    Ok(edge.answer(outcome.map(|()| "link-sent"), Some(&back), &fields))
}
