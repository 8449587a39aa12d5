//! The credentials callback as a Leptos server function, registered at exactly
//! POST `/api/auth/callback/credentials` and taking the contract's form body
//! (`email`, `password`, `csrfToken`, `callbackUrl`, `json`).
//!
//! It is the edge only: the flow is `server::flows::sign_in`, which returns
//! a domain result; the answer is made here. Its status, `Location` and
//! `Cache-Control` are set through Leptos' `ResponseOptions`, so `fetch`
//! callers get JSON with the contract's status and plain form posts a 302.

// The `#[server]` macro generates a public argument struct whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::prelude::*;

use crate::wire::ActionFields;

use crate::wire::UrlResponse;

/// POST `/api/auth/callback/credentials`: signs in with email and password
/// (the contract's form body); JSON for `fetch` callers, a 302 for forms.
#[server(prefix = "/api/auth", endpoint = "callback/credentials")]
pub async fn credentials_callback(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(default)] remember: Option<String>,
    #[server(flatten)] fields: ActionFields,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::{
        flows::sign_in::{credentials, CallbackForm},
        http::answer::Answer,
        http::body::form_flag,
        http::request::{caller, from_request},
    };
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let (auth, csrf, parts) =
        from_request().ok_or_else(|| ServerFnError::new("the auth layers are not installed"))?;
    let session = leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("session: {e:?}")))?;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = &parts.headers;
    let caller = caller(&auth, peer, headers);
    let form = CallbackForm {
        email: email.clone(),
        password,
        csrf_token: fields.csrf_token,
        callback_url: fields.callback_url,
        remember: form_flag(remember.as_deref()),
    };
    let outcome = credentials(&auth, &csrf, &session, &caller, form).await;
    if outcome.as_ref().is_err_and(|refused| refused.unconfirmed) {
        // The owner of an unconfirmed address gets its link again.
        crate::server::flows::verification::resend_in_background(
            &auth,
            &email,
            None,
            crate::i18n::locale_of(&parts.uri, headers),
        );
    }

    // A failed form post goes back to its page, if that page passes the
    // callbackUrl policy (a `//host` path would make the way back an open redirect).
    let back_to = headers
        .get(http::header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| auth.policy.same_origin_path(r));
    let answer = Answer::sign_in(
        &auth,
        outcome,
        form_flag(fields.json.as_deref()),
        back_to.as_deref(),
    );

    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.set_status(answer.status);
    for (name, value) in answer.headers() {
        response.append_header(name, value);
    }
    Ok(answer.body)
}
