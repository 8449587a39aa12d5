//! Password reset as Leptos server functions (the edge): ask for a link
//! (POST `/api/auth/reset/request`), and set the new password of a link
//! (POST `/api/auth/reset/confirm`). A plain form post comes back to the
//! reset page with `done=` or `error=` (and the link's token, to try again);
//! a `fetch` caller gets `{url, error?}` JSON. The flow is `server::flows::reset`.

// The `#[server]` macro generates public argument structs whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::http::actions::Edge;
use crate::wire::ActionFields;

use crate::wire::UrlResponse;

/// POST `/api/auth/reset/request`: sends a reset link to `email` if it has an
/// account; answers the same either way.
#[server(prefix = "/api/auth", endpoint = "reset/request")]
pub async fn reset_request_action(
    #[server(default)] email: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::reset;
    let edge = Edge::of_request().await?;
    let req = edge.visitor();
    let outcome = reset::request_link(&req, &fields.csrf_token, &email).await;
    let back = fields
        .callback_url
        .clone()
        .unwrap_or_else(|| crate::wire::routes::RESET.to_string());
    Ok(edge.answer(outcome.map(|()| "link-sent"), Some(&back), &fields))
}

/// POST `/api/auth/reset/confirm`: the link's `token` and the new password
/// twice; ends every session of the user.
#[server(prefix = "/api/auth", endpoint = "reset/confirm")]
pub async fn reset_confirm_action(
    #[server(default)] token: String,
    #[server(rename = "newPassword")]
    #[server(default)]
    new_password: String,
    #[server(rename = "confirmPassword")]
    #[server(default)]
    confirm_password: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::reset;
    let edge = Edge::of_request().await?;
    let req = edge.visitor();
    let form = reset::NewPasswordForm {
        token: token.clone(),
        new: new_password,
        confirm: confirm_password,
    };
    let outcome = reset::set_password(&req, &fields.csrf_token, form).await;
    // A refusal goes back to the form of the same link (unless the link is
    // spent: then to the page that asks for a new one).
    let back = match outcome {
        Err(crate::wire::AuthError::Verification) | Ok(()) => {
            crate::wire::routes::RESET.to_string()
        }
        Err(_) => format!("{}?token={}", crate::wire::routes::RESET, url_token(&token)),
    };
    Ok(edge.answer(outcome.map(|()| "password-set"), Some(&back), &fields))
}

/// A token as it may appear in the way back: base64url characters only (a
/// token is never anything else; whatever else was sent is dropped).
#[cfg(feature = "ssr")]
pub(crate) fn url_token(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect()
}
