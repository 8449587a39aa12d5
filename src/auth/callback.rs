//! The credentials callback as a Leptos server function, registered at exactly
//! POST `/api/auth/callback/credentials` and taking the contract's form body
//! (`email`, `password`, `csrfToken`, `callbackUrl`, `json`).
//!
//! It is the transport only: the logic is [`crate::auth::server::callback`]. The
//! status, `Location` and `Cache-Control` of its answer are set through Leptos'
//! `ResponseOptions`, so `fetch` callers get JSON with the contract's status and
//! plain form posts get a 302.

use leptos::prelude::*;

use crate::auth::UrlResponse;

#[server(prefix = "/api/auth", endpoint = "callback/credentials")]
pub async fn credentials_callback(
    #[server(default)] email: String,
    #[server(default)] password: String,
    #[server(rename = "csrfToken")]
    #[server(default)]
    csrf_token: String,
    #[server(rename = "callbackUrl")]
    #[server(default)]
    callback_url: Option<String>,
    #[server(default)] json: Option<String>,
    #[server(default)] remember: Option<String>,
) -> Result<UrlResponse, ServerFnError> {
    use crate::auth::server::{
        audit::user_agent,
        callback::{credentials, CallbackForm, Caller},
        client_ip::client_ip,
        cookie, from_request,
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
    let caller = Caller {
        ip: client_ip(peer, headers, &auth.config.site.trusted_proxies),
        user_agent: user_agent(headers),
        device_cookie: cookie(headers, auth.lockout.cookie_name()).map(str::to_string),
        referer: headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    };
    let form = CallbackForm {
        email,
        password,
        csrf_token,
        callback_url,
        json: CallbackForm::json_flag(json.as_deref()),
        remember: CallbackForm::json_flag(remember.as_deref()),
    };
    let answer = credentials(&auth, &csrf, &session, &caller, form).await;

    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.set_status(answer.status);
    for (name, value) in answer.headers() {
        response.append_header(name, value);
    }
    Ok(answer.body)
}
