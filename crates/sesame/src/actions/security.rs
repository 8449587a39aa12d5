//! The second factors' account actions as Leptos server functions (the
//! edge): what the user has (GET), setting up an authenticator app and
//! confirming it, turning it off, new recovery codes, forgetting trusted
//! browsers. Forms post `csrfToken`, `callbackUrl` and `json` like the other
//! account actions ([`crate::actions::account`]). The recovery codes go to
//! a `fetch` caller in the JSON; a plain form post is sent back to its page,
//! which shows them once from a sealed, five-minute, HttpOnly cookie. The
//! flows are `server::flows::security`.

// The `#[server]` macro generates public argument structs whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::{prelude::*, server_fn::codec::GetUrl};

#[cfg(feature = "ssr")]
use crate::server::http::actions::Edge;
use crate::wire::{ActionFields, RecoveryCodes, Security, UrlResponse};

/// GET `/api/auth/account/security`: the signed-in user's second factors
/// (401 `SessionRequired` when signed out), and recovery codes made for a
/// plain form post just now (once).
#[server(prefix = "/api/auth", endpoint = "account/security", input = GetUrl)]
pub async fn account_security() -> Result<(Security, Vec<String>), ServerFnError> {
    use crate::server::flows::security::overview;
    let edge = Edge::of_request().await?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    match overview(&edge.request()).await {
        Ok(security) => {
            for (name, value) in crate::server::no_store() {
                response.insert_header(name, value);
            }
            let shown = edge.take_shown_codes();
            if let Some(clear) = shown.1 {
                response.append_header(http::header::SET_COOKIE, clear);
            }
            Ok((security, shown.0))
        }
        Err(error) => {
            response.set_status(http::StatusCode::from_u16(error.status()).unwrap_or_default());
            Err(ServerFnError::new(error.code()))
        }
    }
}

/// POST `/api/auth/account/totp/enrol`: a new authenticator secret to set
/// up (after a recent sign-in), shown on the security page.
#[server(prefix = "/api/auth", endpoint = "account/totp/enrol")]
pub async fn totp_enrol_action(
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::security::begin_enrolment;
    let edge = Edge::of_request().await?;
    let outcome = begin_enrolment(&edge.request(), &fields.csrf_token).await;
    Ok(edge.answer(outcome, fields.callback_url.as_deref(), &fields))
}

/// POST `/api/auth/account/totp/confirm` (`code`): the authenticator app
/// counts from now on; the recovery codes, once.
#[server(prefix = "/api/auth", endpoint = "account/totp/confirm")]
pub async fn totp_confirm_action(
    #[server(default)] code: String,
    #[server(flatten)] fields: ActionFields,
) -> Result<RecoveryCodes, ServerFnError> {
    use crate::server::flows::security::confirm_enrolment;
    let mut edge = Edge::of_request().await?;
    let outcome = confirm_enrolment(&edge.request(), &fields.csrf_token, &code).await;
    Ok(edge.answer_codes(outcome, "totp-enabled", &fields))
}

/// POST `/api/auth/account/totp/disable` (`code` unless a second factor
/// is recent): turns the authenticator app off.
#[server(prefix = "/api/auth", endpoint = "account/totp/disable")]
pub async fn totp_disable_action(
    #[server(default)] code: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::security::disable;
    let edge = Edge::of_request().await?;
    let outcome = disable(&edge.request(), &fields.csrf_token, code.as_deref()).await;
    Ok(edge.answer(outcome, fields.callback_url.as_deref(), &fields))
}

/// POST `/api/auth/account/recovery-codes` (`code` unless a second factor
/// is recent): new recovery codes, the old ones void.
#[server(prefix = "/api/auth", endpoint = "account/recovery-codes")]
pub async fn recovery_codes_action(
    #[server(default)] code: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<RecoveryCodes, ServerFnError> {
    use crate::server::flows::security::new_recovery_codes;
    let mut edge = Edge::of_request().await?;
    let outcome = new_recovery_codes(&edge.request(), &fields.csrf_token, code.as_deref()).await;
    Ok(edge.answer_codes(outcome, "recovery-codes", &fields))
}

/// POST `/api/auth/account/forget-browser` (`id`; without it, every one):
/// the browser must pass the second factor again.
#[server(prefix = "/api/auth", endpoint = "account/forget-browser")]
pub async fn forget_browser_action(
    #[server(default)] id: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::flows::security::forget_browser;
    let edge = Edge::of_request().await?;
    let outcome = forget_browser(&edge.request(), &fields.csrf_token, id.as_deref()).await;
    Ok(edge.answer(outcome, fields.callback_url.as_deref(), &fields))
}
