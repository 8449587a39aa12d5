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
        let (_, query) = body.url.split_once('?')?;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("error="))
            .map(str::to_string)
    });
    Some(code.map_or(AuthError::Default, |c| AuthError::from_code(&c)))
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The browser side, on the browser's own `fetch`, `URLSearchParams` and
    //! `JSON`: the WASM then carries no HTTP client, no form encoder and no JSON
    //! parser of its own, which keeps the sign-in page's download small.
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{js_sys, RequestInit, Response, UrlSearchParams};

    use super::*;
    use crate::auth::{
        js, UrlResponse, BASE_PATH, CALLBACK_PATH, CSRF_META_NAME, SESSION_META_NAME, SIGN_IN_PATH,
    };

    fn window() -> web_sys::Window {
        web_sys::window().expect("a browser window")
    }

    fn net(e: JsValue) -> ClientError {
        ClientError::Network(
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "fetch failed".into()),
        )
    }

    fn current_url() -> String {
        window().location().href().unwrap_or_default()
    }

    pub(super) fn here() -> String {
        let location = window().location();
        let mut here = location.pathname().unwrap_or_default();
        here.push_str(&location.search().unwrap_or_default());
        here
    }

    pub(super) fn navigate(url: &str) {
        let location = window().location();
        let _ = location.assign(url);
        if url.contains('#') {
            let _ = location.reload();
        }
    }

    fn meta_element(name: &str) -> Option<web_sys::Element> {
        let selector = ["meta[name=\"", name, "\"]"].concat();
        window().document()?.query_selector(&selector).ok()?
    }

    /// The `content` of `<meta name="{name}">`, if present and not empty.
    fn meta(name: &str) -> Option<String> {
        let content = meta_element(name)?.get_attribute("content")?;
        (!content.is_empty()).then_some(content)
    }

    fn page_token() -> Option<String> {
        meta(CSRF_META_NAME)
    }

    pub(super) fn page_token_or_empty() -> String {
        page_token().unwrap_or_default()
    }

    pub(super) fn page_session() -> Option<Session> {
        js::session(&js::parse(&meta(SESSION_META_NAME)?)?)
    }

    pub(super) fn query_param(name: &str) -> Option<String> {
        let search = window().location().search().ok()?;
        UrlSearchParams::new_with_str(&search).ok()?.get(name)
    }

    /// One request: `(status, body text)`.
    async fn fetch(
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> Result<(u16, String), ClientError> {
        let init = RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(net)?;
        headers.set("Accept", "application/json").map_err(net)?;
        if let Some((content_type, body)) = body {
            headers.set("Content-Type", content_type).map_err(net)?;
            init.set_body(&JsValue::from_str(body));
        }
        init.set_headers(&headers);
        let res: Response = JsFuture::from(window().fetch_with_str_and_init(path, &init))
            .await
            .map_err(net)?
            .unchecked_into();
        let text = JsFuture::from(res.text().map_err(net)?)
            .await
            .map_err(net)?;
        Ok((res.status(), text.as_string().unwrap_or_default()))
    }

    /// One request whose answer must be a success: its body text.
    async fn fetch_ok(
        method: &str,
        path: &str,
        body: Option<(&str, &str)>,
    ) -> Result<String, ClientError> {
        let (status, text) = fetch(method, path, body).await?;
        if !(200..300).contains(&status) {
            return Err(ClientError::BadResponse(status.to_string()));
        }
        Ok(text)
    }

    /// GET `path` as a JS value (JSON-parsed by the browser).
    async fn get_js(path: &str) -> Result<JsValue, ClientError> {
        let text = fetch_ok("GET", path, None).await?;
        js::parse(&text).ok_or_else(|| ClientError::BadResponse("not JSON".into()))
    }

    fn set_page_token(token: &str) {
        if let Some(meta) = meta_element(CSRF_META_NAME) {
            let _ = meta.set_attribute("content", token);
        }
    }

    pub(super) async fn csrf_token(fresh: bool) -> Result<String, ClientError> {
        if !fresh {
            if let Some(token) = page_token() {
                return Ok(token);
            }
        }
        let body = get_js(&[BASE_PATH, "/csrf"].concat()).await?;
        let token = js::string(&body, "csrfToken")
            .ok_or_else(|| ClientError::BadResponse("no csrfToken".into()))?;
        set_page_token(&token);
        Ok(token)
    }

    /// POSTs `fields` and the CSRF token form-encoded and reads the `{url,
    /// error, session, csrfToken}` answer. A token taken from the page may have
    /// gone stale (the cookie expired, or another tab signed in or out, which
    /// rotates it): on `MissingCSRF` a fresh one is fetched and the post sent
    /// once more. A token in the answer replaces the page's.
    async fn post_with_token(
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<(u16, UrlResponse), ClientError> {
        let from_page = page_token().is_some();
        let mut token = csrf_token(false).await?;
        let mut retried = false;
        loop {
            let mut all = fields.to_vec();
            all.push(("csrfToken", token.as_str()));
            let (status, body) = post_form(path, &all).await?;
            if status == 403
                && from_page
                && !retried
                && error_of(status, &body) == Some(AuthError::MissingCSRF)
            {
                retried = true;
                token = csrf_token(true).await?;
                continue;
            }
            if let Some(rotated) = &body.csrf_token {
                set_page_token(rotated);
            }
            return Ok((status, body));
        }
    }

    /// POSTs `fields` form-encoded and reads the `{url, error, session}` answer.
    async fn post_form(
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<(u16, UrlResponse), ClientError> {
        let form = UrlSearchParams::new().map_err(net)?;
        for (name, value) in fields {
            form.append(name, value);
        }
        let body = String::from(form.to_string());
        let (status, text) = fetch(
            "POST",
            path,
            Some(("application/x-www-form-urlencoded", &body)),
        )
        .await?;
        let answer = js::parse(&text)
            .and_then(|v| js::url_response(&v))
            .ok_or_else(|| ClientError::BadResponse(status.to_string()))?;
        Ok((status, answer))
    }

    pub(super) async fn sign_in(
        provider: Option<Provider>,
        options: SignInOptions,
    ) -> Result<SignInResponse, ClientError> {
        let callback_url = options.callback_url.clone().unwrap_or_else(current_url);
        let Some(Provider::Credentials) = provider else {
            navigate(&crate::auth::sign_in_page_url(
                SIGN_IN_PATH,
                None,
                Some(&callback_url),
            ));
            return Ok(SignInResponse {
                error: None,
                status: 200,
                ok: true,
                url: None,
            });
        };
        let (status, body) = post_with_token(
            CALLBACK_PATH,
            &[
                ("email", options.email.as_str()),
                ("password", options.password.as_str()),
                ("callbackUrl", callback_url.as_str()),
                ("remember", if options.remember { "true" } else { "false" }),
                ("json", "true"),
            ],
        )
        .await?;
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
        let (status, body) = post_with_token(
            &[BASE_PATH, "/signout"].concat(),
            &[("callbackUrl", callback_url.as_str()), ("json", "true")],
        )
        .await?;
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
        Ok(js::to_value(&get_js(path).await?))
    }

    pub(super) async fn get_session() -> Result<Option<Session>, ClientError> {
        Ok(js::session(
            &get_js(&[BASE_PATH, "/session"].concat()).await?,
        ))
    }

    pub(super) async fn update_session(
        data: serde_json::Value,
    ) -> Result<Option<Session>, ClientError> {
        let from_page = page_token().is_some();
        let mut token = csrf_token(false).await?;
        let mut retried = false;
        let text = loop {
            let body = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&body, &"csrfToken".into(), &token.as_str().into());
            let _ = js_sys::Reflect::set(&body, &"data".into(), &js::from_value(&data));
            let body: String = js_sys::JSON::stringify(&body).map_err(net)?.into();
            let (status, text) = fetch(
                "POST",
                &[BASE_PATH, "/session"].concat(),
                Some(("application/json", &body)),
            )
            .await?;
            // A stale page token (see `post_with_token`): once more, fresh.
            if status == 403 && from_page && !retried {
                retried = true;
                token = csrf_token(true).await?;
                continue;
            }
            if !(200..300).contains(&status) {
                return Err(ClientError::BadResponse(status.to_string()));
            }
            break text;
        };
        let session = js::parse(&text).and_then(|v| js::session(&v));
        crate::auth::session_state::publish(session.clone(), true);
        Ok(session)
    }
}

/// Navigates the browser to `url` (a full page load). No-op on the server.
pub fn navigate(url: &str) {
    #[cfg(feature = "hydrate")]
    browser::navigate(url);
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// The path and query of the page being rendered (server) or shown (browser).
pub fn here() -> String {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.uri.path_and_query().map(|pq| pq.to_string()))
            .unwrap_or_else(|| "/".into())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::here()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        "/".into()
    }
}

/// A parameter of the current page's query string (`callbackUrl`, `error`, ...).
pub fn query_param(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        super::server::query_value(&parts.uri, name)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::query_param(name)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        let _ = name;
        None
    }
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

/// The session the page was rendered with: the request's on the server, the
/// page's `<meta name="sesame-session">` in the browser.
pub fn page_session() -> Option<Session> {
    #[cfg(feature = "ssr")]
    {
        super::server::page_session()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::page_session()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        None
    }
}

/// The theme of the built-in pages, from the configuration (they are rendered
/// on the server only).
pub fn page_theme() -> super::Theme {
    #[cfg(feature = "ssr")]
    {
        super::server::from_request()
            .map(|(auth, _, _)| auth.config.theme.clone())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        super::Theme::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::UrlResponse;

    fn answer(url: &str, error: Option<&str>) -> UrlResponse {
        UrlResponse {
            url: url.into(),
            error: error.map(str::to_string),
            session: None,
            csrf_token: None,
        }
    }

    #[test]
    fn error_of_reads_the_field_then_the_url_query() {
        let ok = answer("http://127.0.0.1:3000/account", None);
        assert_eq!(error_of(200, &ok), None);
        let field = answer("/x?error=Configuration", Some("MissingCSRF"));
        assert_eq!(error_of(403, &field), Some(AuthError::MissingCSRF));
        let in_url = answer(
            "/api/auth/signin?callbackUrl=%2F&error=CredentialsSignin",
            None,
        );
        assert_eq!(error_of(401, &in_url), Some(AuthError::CredentialsSignin));
        // A parameter that merely ends in "error=" is not the error.
        let lookalike = answer("/api/auth/signin?myerror=CredentialsSignin", None);
        assert_eq!(error_of(401, &lookalike), Some(AuthError::Default));
    }
}
