//! The account actions as Leptos server functions (the edge): the user's
//! sessions (GET, JSON), ending one or all others, changing the password,
//! moving to another address, deleting the account.
//! Each takes a form body with `csrfToken`, `callbackUrl` (the page to go
//! back to; default the `Referer`'s page) and `json`; it answers `{url,
//! error?}` JSON with the error's status for `fetch` callers, and a 302 back
//! to the page with `done=` or `error=` for a plain form post, so the pages
//! work without JavaScript. The flows are `server::flows::own_account`; the shared fields
//! (`csrfToken`, `callbackUrl`, `json`) are [`crate::wire::ActionFields`].

// The `#[server]` macro generates public argument structs whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::{prelude::*, server_fn::codec::GetUrl};

#[cfg(feature = "ssr")]
use crate::server::http::actions::Edge;
use crate::wire::ActionFields;

use crate::{wire::SessionInfo, wire::UrlResponse};

/// GET `/api/auth/account/sessions`: the signed-in user's live sessions, the
/// current one first (401 `SessionRequired` when signed out).
#[server(prefix = "/api/auth", endpoint = "account/sessions", input = GetUrl)]
pub async fn account_sessions() -> Result<Vec<SessionInfo>, ServerFnError> {
    use crate::server::flows::own_account::list_sessions;
    let edge = Edge::of_request().await?;
    match list_sessions(&edge.request()).await {
        Ok(list) => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            for (name, value) in crate::server::no_store() {
                response.insert_header(name, value);
            }
            Ok(list)
        }
        Err(error) => {
            let response = expect_context::<leptos_axum::ResponseOptions>();
            response.set_status(http::StatusCode::from_u16(error.status()).unwrap_or_default());
            Err(ServerFnError::new(error.code()))
        }
    }
}

/// POST `/api/auth/account/revoke-session`: ends the session `id` of the
/// signed-in user (`password` when the sign-in is not recent).
#[server(prefix = "/api/auth", endpoint = "account/revoke-session")]
pub async fn revoke_session_action(
    #[server(default)] id: String,
    #[server(default)] password: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::own_account::{end_session, Done};
    let edge = Edge::of_request().await?;
    let outcome = end_session(&edge.request(), &fields.csrf_token, &id, password).await;
    Ok(edge.answer(
        outcome.map(Done::code),
        fields.callback_url.as_deref(),
        &fields,
    ))
}

/// POST `/api/auth/account/revoke-other-sessions`: ends every session of the
/// signed-in user but this one (`password` when the sign-in is not recent).
#[server(prefix = "/api/auth", endpoint = "account/revoke-other-sessions")]
pub async fn revoke_other_sessions_action(
    #[server(default)] password: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::own_account::{end_other_sessions, Done};
    let edge = Edge::of_request().await?;
    let outcome = end_other_sessions(&edge.request(), &fields.csrf_token, password).await;
    Ok(edge.answer(
        outcome.map(Done::code),
        fields.callback_url.as_deref(),
        &fields,
    ))
}

/// POST `/api/auth/account/change-password`: the current password, the new
/// one twice; ends every other session of the user.
#[server(prefix = "/api/auth", endpoint = "account/change-password")]
pub async fn change_password_action(
    #[server(rename = "currentPassword")]
    #[server(default)]
    current_password: Option<String>,
    #[server(rename = "newPassword")]
    #[server(default)]
    new_password: String,
    #[server(rename = "confirmPassword")]
    #[server(default)]
    confirm_password: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::own_account::{change_password, Done, PasswordChange};
    let edge = Edge::of_request().await?;
    let change = PasswordChange {
        current: current_password,
        new: new_password,
        confirm: confirm_password,
    };
    let outcome = change_password(&edge.request(), &fields.csrf_token, change).await;
    Ok(edge.answer(
        outcome.map(Done::code),
        fields.callback_url.as_deref(),
        &fields,
    ))
}

/// POST `/api/auth/account/change-email`: a link to the new `email` that
/// moves the account there (`password` when the sign-in is not recent).
#[server(prefix = "/api/auth", endpoint = "account/change-email")]
pub async fn change_email_action(
    #[server(default)] email: String,
    #[server(default)] password: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::own_account::{change_email, Done};
    let edge = Edge::of_request().await?;
    let outcome = change_email(&edge.request(), &fields.csrf_token, &email, password).await;
    Ok(edge.answer(
        outcome.map(Done::code),
        fields.callback_url.as_deref(),
        &fields,
    ))
}

/// POST `/api/auth/account/delete`: deletes the account and every session
/// of it (`password` always).
#[server(prefix = "/api/auth", endpoint = "account/delete")]
pub async fn delete_account_action(
    #[server(default)] password: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::own_account::{delete_account, Done};
    let edge = Edge::of_request().await?;
    let outcome = delete_account(&edge.request(), &fields.csrf_token, password).await;
    // A refusal goes back to the form; the deleted account goes home.
    let back = match outcome {
        Ok(_) => Some("/"),
        Err(_) => fields.callback_url.as_deref(),
    };
    Ok(edge.answer(outcome.map(Done::code), back, &fields))
}

/// GET `/api/auth/account/connections`: the signed-in user's provider
/// accounts and the providers they may connect (401 `SessionRequired` when
/// signed out).
#[server(prefix = "/api/auth", endpoint = "account/connections", input = GetUrl)]
pub async fn account_connections() -> Result<crate::wire::Connections, ServerFnError> {
    use crate::server::flows::connections::list;
    let edge = Edge::of_request().await?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    match list(&edge.request()).await {
        Ok(connections) => {
            for (name, value) in crate::server::no_store() {
                response.insert_header(name, value);
            }
            Ok(connections)
        }
        Err(error) => {
            response.set_status(http::StatusCode::from_u16(error.status()).unwrap_or_default());
            Err(ServerFnError::new(error.code()))
        }
    }
}

/// POST `/api/auth/account/disconnect`: unlinks the provider account
/// (`provider`, `accountId`) from the signed-in user, after a recent sign-in;
/// never the last way to sign in (`LastSignInMethod`).
#[server(prefix = "/api/auth", endpoint = "account/disconnect")]
pub async fn disconnect_action(
    #[server(default)] provider: String,
    #[server(rename = "accountId")]
    #[server(default)]
    account_id: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::{connections::disconnect, own_account::Done};
    let edge = Edge::of_request().await?;
    let outcome = disconnect(&edge.request(), &fields.csrf_token, &provider, &account_id).await;
    Ok(edge.answer(
        outcome.map(Done::code),
        fields.callback_url.as_deref(),
        &fields,
    ))
}
