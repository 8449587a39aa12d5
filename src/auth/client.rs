//! The client API, next-auth/react's counterpart for Leptos in the browser:
//! [`sign_in`], [`sign_out`], [`get_session`], [`get_csrf_token`].
//!
//! Sign-in takes one round trip when the page carries the CSRF token (the server
//! renders it into `<meta name="sesame-csrf-token">`); NextAuth's client takes
//! three (`/providers`, `/csrf`, then the post). On the server these functions
//! return [`ClientError::NotInBrowser`]: they are meant for event handlers.

use super::{AuthError, Provider, Session, SignInResponse};

/// Options of [`sign_in`] (next-auth/react's `SignInOptions` for credentials).
#[derive(Debug, Clone)]
pub struct SignInOptions {
    pub email: String,
    pub password: String,
    /// Where to go after signing in; default: the current page.
    pub callback_url: Option<String>,
    /// Navigate to the returned URL (default `true`); with `false` the caller gets
    /// the [`SignInResponse`] and decides.
    pub redirect: bool,
    /// "Remember me": a persistent cookie and the long session lifetime
    /// (default `false`: the cookie ends with the browser session).
    pub remember: bool,
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            email: String::new(),
            password: String::new(),
            callback_url: None,
            redirect: true,
            remember: false,
        }
    }
}

/// Options of [`sign_out`].
#[derive(Debug, Clone)]
pub struct SignOutOptions {
    /// Where to go after signing out; default: the current page.
    pub callback_url: Option<String>,
    /// Navigate to the returned URL (default `true`).
    pub redirect: bool,
}

impl Default for SignOutOptions {
    fn default() -> Self {
        SignOutOptions {
            callback_url: None,
            redirect: true,
        }
    }
}

/// A failure to talk to the server at all (not a refused sign-in: that is a
/// [`SignInResponse`] with `ok: false`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the client API runs in the browser only")]
    NotInBrowser,
    #[error("network: {0}")]
    Network(String),
    #[error("unexpected answer from the server: {0}")]
    BadResponse(String),
}

/// Signs in. With `None`, navigates to the sign-in page with `callbackUrl` = the
/// current page (the server forwards to `pages.sign_in` when one is configured).
/// With [`Provider::Credentials`], posts the credentials to
/// `/api/auth/callback/credentials` and, on success, has the session cookie set.
pub async fn sign_in(
    provider: Option<Provider>,
    options: SignInOptions,
) -> Result<SignInResponse, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::sign_in(provider, options).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (provider, options);
        Err(ClientError::NotInBrowser)
    }
}

/// Signs out (CSRF-checked POST to `/api/auth/signout`); returns the URL to go to.
pub async fn sign_out(options: SignOutOptions) -> Result<String, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::sign_out(options).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = options;
        Err(ClientError::NotInBrowser)
    }
}

/// The current session from `/api/auth/session`; `None` when signed out.
pub async fn get_session() -> Result<Option<Session>, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::get_session().await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err(ClientError::NotInBrowser)
    }
}

/// Sends a session update (POST `/api/auth/session` with `{csrfToken, data}`) and
/// returns the new session. [`crate::auth::SessionState::update`] also updates the page.
pub async fn update_session(data: serde_json::Value) -> Result<Option<Session>, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::update_session(data).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = data;
        Err(ClientError::NotInBrowser)
    }
}

/// The providers (`/api/auth/providers`), as JSON.
pub async fn get_providers() -> Result<serde_json::Value, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::get_json("/api/auth/providers").await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err(ClientError::NotInBrowser)
    }
}

/// The CSRF token: the page's, or a fresh one from `/api/auth/csrf`.
pub async fn get_csrf_token() -> Result<String, ClientError> {
    #[cfg(feature = "hydrate")]
    {
        browser::csrf_token(false).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err(ClientError::NotInBrowser)
    }
}

/// Reads a sign-in answer's error code: the `error` field, else `?error=` of `url`.
pub fn error_of(status: u16, body: &super::UrlResponse) -> Option<AuthError> {
    if (200..300).contains(&status) {
        return None;
    }
    let code = body.error.clone().or_else(|| {
        body.url
            .split_once("error=")
            .map(|(_, rest)| rest.split('&').next().unwrap_or("").to_string())
    });
    Some(code.map_or(AuthError::Default, |c| AuthError::from_code(&c)))
}

#[cfg(feature = "hydrate")]
mod browser {
    use gloo_net::http::{Request, Response};

    use super::*;
    use crate::auth::{
        CsrfResponse, UrlResponse, BASE_PATH, CALLBACK_PATH, CSRF_META_NAME, SIGN_IN_PATH,
    };

    fn net(e: gloo_net::Error) -> ClientError {
        ClientError::Network(e.to_string())
    }

    fn window() -> web_sys::Window {
        web_sys::window().expect("a browser window")
    }

    fn current_url() -> String {
        window().location().href().unwrap_or_default()
    }

    pub(super) fn navigate(url: &str) {
        let location = window().location();
        let _ = location.assign(url);
        if url.contains('#') {
            let _ = location.reload();
        }
    }

    /// The `content` of `<meta name="{name}">`, if present and not empty.
    pub(super) fn meta(name: &str) -> Option<String> {
        let doc = window().document()?;
        let meta = doc
            .query_selector(&format!("meta[name=\"{name}\"]"))
            .ok()??;
        let content = meta.get_attribute("content")?;
        (!content.is_empty()).then_some(content)
    }

    fn page_token() -> Option<String> {
        meta(CSRF_META_NAME)
    }

    pub(super) fn page_token_or_empty() -> String {
        page_token().unwrap_or_default()
    }

    fn set_page_token(token: &str) {
        if let Some(meta) = window().document().and_then(|d| {
            d.query_selector(&format!("meta[name=\"{CSRF_META_NAME}\"]"))
                .ok()
                .flatten()
        }) {
            let _ = meta.set_attribute("content", token);
        }
    }

    pub(super) async fn csrf_token(fresh: bool) -> Result<String, ClientError> {
        if !fresh {
            if let Some(token) = page_token() {
                return Ok(token);
            }
        }
        let res = Request::get(&format!("{BASE_PATH}/csrf"))
            .send()
            .await
            .map_err(net)?;
        let body: CsrfResponse = res.json().await.map_err(net)?;
        set_page_token(&body.csrf_token);
        Ok(body.csrf_token)
    }

    async fn post_form(path: &str, fields: &[(&str, &str)]) -> Result<Response, ClientError> {
        let body = serde_urlencoded::to_string(fields)
            .map_err(|e| ClientError::BadResponse(e.to_string()))?;
        Request::post(path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .body(body)
            .map_err(net)?
            .send()
            .await
            .map_err(net)
    }

    async fn read_url_response(res: Response) -> Result<(u16, UrlResponse), ClientError> {
        let status = res.status();
        let body: UrlResponse = res
            .json()
            .await
            .map_err(|e| ClientError::BadResponse(format!("{status}: {e}")))?;
        Ok((status, body))
    }

    pub(super) async fn sign_in(
        provider: Option<Provider>,
        options: SignInOptions,
    ) -> Result<SignInResponse, ClientError> {
        let callback_url = options.callback_url.clone().unwrap_or_else(current_url);
        let Some(Provider::Credentials) = provider else {
            let query = serde_urlencoded::to_string([("callbackUrl", callback_url.as_str())])
                .unwrap_or_default();
            navigate(&format!("{SIGN_IN_PATH}?{query}"));
            return Ok(SignInResponse {
                error: None,
                status: 200,
                ok: true,
                url: None,
            });
        };
        let from_page = page_token().is_some();
        let mut token = csrf_token(false).await?;
        let mut attempt = 0;
        let (status, body) = loop {
            let res = post_form(
                CALLBACK_PATH,
                &[
                    ("email", options.email.as_str()),
                    ("password", options.password.as_str()),
                    ("csrfToken", token.as_str()),
                    ("callbackUrl", callback_url.as_str()),
                    ("remember", if options.remember { "true" } else { "false" }),
                    ("json", "true"),
                ],
            )
            .await?;
            let (status, body) = read_url_response(res).await?;
            // A page kept open past its CSRF cookie: fetch a fresh token, try once more.
            if status == 403
                && from_page
                && attempt == 0
                && error_of(status, &body) == Some(AuthError::MissingCSRF)
            {
                attempt += 1;
                token = csrf_token(true).await?;
                continue;
            }
            break (status, body);
        };
        let error = error_of(status, &body);
        let ok = error.is_none();
        if ok && options.redirect {
            // Leaving the page: only the other tabs need to know.
            crate::auth::session_state::publish(None, false);
        } else if ok {
            // The session state is up to date (here and in other tabs) before
            // the caller sees the answer; Sesame's answer carries the session.
            let session = match body.session.clone() {
                Some(session) => Some(session),
                None => get_session().await.ok().flatten(),
            };
            crate::auth::session_state::publish(session, true);
        }
        if options.redirect {
            navigate(&body.url);
        }
        Ok(SignInResponse {
            error,
            status,
            ok,
            url: ok.then_some(body.url),
        })
    }

    pub(super) async fn sign_out(options: SignOutOptions) -> Result<String, ClientError> {
        let callback_url = options.callback_url.clone().unwrap_or_else(current_url);
        let token = csrf_token(false).await?;
        let res = post_form(
            &format!("{BASE_PATH}/signout"),
            &[
                ("csrfToken", token.as_str()),
                ("callbackUrl", callback_url.as_str()),
                ("json", "true"),
            ],
        )
        .await?;
        let (status, body) = read_url_response(res).await?;
        if let Some(error) = error_of(status, &body) {
            return Err(ClientError::BadResponse(error.code().to_string()));
        }
        crate::auth::session_state::publish(None, !options.redirect);
        if options.redirect {
            navigate(&body.url);
        }
        Ok(body.url)
    }

    pub(super) async fn get_json(path: &str) -> Result<serde_json::Value, ClientError> {
        let res = Request::get(path).send().await.map_err(net)?;
        res.json().await.map_err(net)
    }

    fn parse_session(value: serde_json::Value) -> Result<Option<Session>, ClientError> {
        if value.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| ClientError::BadResponse(e.to_string()))
    }

    pub(super) async fn get_session() -> Result<Option<Session>, ClientError> {
        parse_session(get_json(&format!("{BASE_PATH}/session")).await?)
    }

    pub(super) async fn update_session(
        data: serde_json::Value,
    ) -> Result<Option<Session>, ClientError> {
        let token = csrf_token(false).await?;
        let body = serde_json::json!({ "csrfToken": token, "data": data });
        let res = Request::post(&format!("{BASE_PATH}/session"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .map_err(net)?
            .send()
            .await
            .map_err(net)?;
        if !res.ok() {
            return Err(ClientError::BadResponse(res.status().to_string()));
        }
        let session = parse_session(res.json().await.map_err(net)?)?;
        crate::auth::session_state::publish(session.clone(), true);
        Ok(session)
    }
}

/// The path (with query and fragment) of `url` when it is on this page's origin.
pub fn same_origin_path(url: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let origin = web_sys::window()?.location().origin().ok()?;
        let rest = url.strip_prefix(&origin)?;
        if rest.is_empty() {
            Some("/".into())
        } else if rest.starts_with('/') && !rest.starts_with("//") {
            Some(rest.to_string())
        } else {
            None
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = url;
        None
    }
}

/// Navigates the browser to `url` (a full page load). No-op on the server.
pub fn navigate(url: &str) {
    #[cfg(feature = "hydrate")]
    browser::navigate(url);
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// The CSRF token of the page: minted or read from the cookie while rendering on
/// the server, read back from the page's `<meta>` in the browser.
pub fn page_csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        super::server::page_csrf_token()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::page_token_or_empty()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        String::new()
    }
}

/// The theme of the built-in pages: from the configuration on the server, from
/// the page's `<meta name="sesame-theme">` in the browser.
pub fn page_theme() -> super::Theme {
    #[cfg(feature = "ssr")]
    {
        super::server::from_request()
            .map(|(auth, _, _)| auth.config.theme.clone())
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::meta(super::THEME_META_NAME)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        super::Theme::default()
    }
}
