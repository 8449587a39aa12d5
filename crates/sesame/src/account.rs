//! The account actions as Leptos server functions (the edge): the user's
//! sessions (GET, JSON), ending one or all others, changing the password.
//! Each takes a form body with `csrfToken`, `callbackUrl` (the page to go
//! back to; default the `Referer`'s page) and `json`; it answers `{url,
//! error?}` JSON with the error's status for `fetch` callers, and a 302 back
//! to the page with `done=` or `error=` for a plain form post, so the pages
//! work without JavaScript. The flows are `server::account_actions`.

// The `#[server]` macro generates public argument structs whose fields
// cannot carry docs.
#![allow(missing_docs)]

use leptos::{prelude::*, server_fn::codec::GetUrl};

use crate::{SessionInfo, UrlResponse};

#[cfg(feature = "ssr")]
mod edge {
    use leptos::prelude::*;

    use crate::{
        server::{
            account_actions::{Done, Request},
            answer::Answer,
            body::form_flag,
            client_ip::client_ip,
            csrf::Csrf,
            from_request, Auth,
        },
        AuthError, UrlResponse,
    };

    /// What an action needs of its request.
    pub struct Edge {
        pub auth: Auth,
        pub csrf: Csrf,
        pub session: tower_sessions::Session,
        pub ip: Option<std::net::IpAddr>,
        pub referer_path: Option<String>,
    }

    impl Edge {
        pub async fn of_request() -> Result<Edge, ServerFnError> {
            let (auth, csrf, parts) = from_request()
                .ok_or_else(|| ServerFnError::new("the auth layers are not installed"))?;
            let session = leptos_axum::extract::<tower_sessions::Session>()
                .await
                .map_err(|e| ServerFnError::new(format!("session: {e:?}")))?;
            let peer = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0);
            let ip = client_ip(peer, &parts.headers, &auth.config.site.trusted_proxies);
            let referer_path = parts
                .headers
                .get(http::header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| auth.policy.same_origin_path(r));
            Ok(Edge {
                auth,
                csrf,
                session,
                ip,
                referer_path,
            })
        }

        pub fn request(&self) -> Request<'_> {
            Request {
                auth: &self.auth,
                csrf: &self.csrf,
                session: &self.session,
                ip: self.ip,
            }
        }

        /// Answers `outcome`, back to `callback_url` (through the policy) or
        /// the `Referer`'s page.
        pub fn answer(
            &self,
            outcome: Result<Done, AuthError>,
            callback_url: Option<&str>,
            json: Option<&str>,
        ) -> UrlResponse {
            let back = callback_url
                .and_then(|url| self.auth.resolve_callback(Some(url)).ok())
                .or_else(|| self.referer_path.clone())
                .unwrap_or_else(|| "/".into());
            let answer = Answer::account(&back, outcome.map(Done::code), form_flag(json));
            let response = expect_context::<leptos_axum::ResponseOptions>();
            response.set_status(answer.status);
            for (name, value) in answer.headers() {
                response.append_header(name, value);
            }
            answer.body
        }
    }
}

/// GET `/api/auth/account/sessions`: the signed-in user's live sessions, the
/// current one first (401 `SessionRequired` when signed out).
#[server(prefix = "/api/auth", endpoint = "account/sessions", input = GetUrl)]
pub async fn account_sessions() -> Result<Vec<SessionInfo>, ServerFnError> {
    use crate::server::account_actions::list_sessions;
    let edge = edge::Edge::of_request().await?;
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
    #[server(rename = "csrfToken")]
    #[server(default)]
    csrf_token: String,
    #[server(default)] password: Option<String>,
    #[server(rename = "callbackUrl")]
    #[server(default)]
    callback_url: Option<String>,
    #[server(default)] json: Option<String>,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::account_actions::end_session;
    let edge = edge::Edge::of_request().await?;
    let outcome = end_session(&edge.request(), &csrf_token, &id, password).await;
    Ok(edge.answer(outcome, callback_url.as_deref(), json.as_deref()))
}

/// POST `/api/auth/account/revoke-other-sessions`: ends every session of the
/// signed-in user but this one (`password` when the sign-in is not recent).
#[server(prefix = "/api/auth", endpoint = "account/revoke-other-sessions")]
pub async fn revoke_other_sessions_action(
    #[server(rename = "csrfToken")]
    #[server(default)]
    csrf_token: String,
    #[server(default)] password: Option<String>,
    #[server(rename = "callbackUrl")]
    #[server(default)]
    callback_url: Option<String>,
    #[server(default)] json: Option<String>,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::account_actions::end_other_sessions;
    let edge = edge::Edge::of_request().await?;
    let outcome = end_other_sessions(&edge.request(), &csrf_token, password).await;
    Ok(edge.answer(outcome, callback_url.as_deref(), json.as_deref()))
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
    #[server(rename = "csrfToken")]
    #[server(default)]
    csrf_token: String,
    #[server(rename = "callbackUrl")]
    #[server(default)]
    callback_url: Option<String>,
    #[server(default)] json: Option<String>,
) -> Result<UrlResponse, ServerFnError> {
    use crate::server::account_actions::{change_password, PasswordChange};
    let edge = edge::Edge::of_request().await?;
    let change = PasswordChange {
        current: current_password,
        new: new_password,
        confirm: confirm_password,
    };
    let outcome = change_password(&edge.request(), &csrf_token, change).await;
    Ok(edge.answer(outcome, callback_url.as_deref(), json.as_deref()))
}
