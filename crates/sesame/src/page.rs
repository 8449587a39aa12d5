//! What a page knows of itself, read alike while rendering on the server (from
//! the request) and in the browser (from the document): where it is, its query,
//! its CSRF token and session (the `<meta>` tags of
//! [`AuthMeta`](crate::components::AuthMeta)), the built-in pages' theme; and
//! navigating away.

use crate::wire::Session;

/// Navigates the browser to `url` (a full page load). No-op on the server.
pub fn navigate(url: &str) {
    #[cfg(feature = "hydrate")]
    dom::navigate(url);
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
        dom::here()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        "/".into()
    }
}

/// The path of the page being rendered or shown, without its query: where a
/// form of the page posts back to.
pub fn path() -> String {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<http::request::Parts>()
            .map(|parts| parts.uri.path().to_string())
            .unwrap_or_else(|| "/".into())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        dom::window().location().pathname().unwrap_or_default()
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
        crate::server::http::cookies::query_value(&parts.uri, name)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        dom::query_param(name)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        let _ = name;
        None
    }
}

/// The page's `error=` code (a refused form post comes back with it).
pub fn query_error() -> Option<crate::wire::AuthError> {
    query_param("error").map(|code| crate::wire::AuthError::from_code(&code))
}

/// Whether anyone may sign up here (`accounts.sign_up = "open"`), for the
/// server-rendered parts of a page (in the browser: `false`).
pub fn sign_up_open() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request::from_request().is_some_and(|(auth, _, _)| {
            auth.config.accounts.sign_up == crate::server::config::SignUpMode::Open
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// The OAuth and OpenID Connect providers, `(id, name)`, for the
/// server-rendered sign-in pages (in the browser: none).
pub fn sign_in_providers() -> Vec<(String, String)> {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request::from_request()
            .map(|(auth, _, _)| {
                auth.providers
                    .iter()
                    .map(|p| (p.id().to_string(), p.name()))
                    .collect()
            })
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Vec::new()
    }
}

/// Whether passkeys are on, for the server-rendered pages (in the
/// browser: `false`).
pub fn passkeys_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request::from_request()
            .is_some_and(|(auth, _, _)| auth.passkeys.enabled())
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// Whether the email provider (sign-in links) is on, for the
/// server-rendered sign-in pages (in the browser: `false`).
pub fn email_sign_in_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request::from_request()
            .is_some_and(|(auth, _, _)| auth.config.email_sign_in.enabled)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// The CSRF token of the page: minted or read from the cookie while rendering on
/// the server, read back from the page's `<meta>` in the browser.
pub fn page_csrf_token() -> String {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::page_session::page_csrf_token()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        dom::page_token_or_empty()
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
        crate::server::http::page_session::page_session()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        dom::page_session()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        None
    }
}

/// The theme of the built-in pages, from the configuration (they are rendered
/// on the server only).
pub fn page_theme() -> crate::wire::Theme {
    #[cfg(feature = "ssr")]
    {
        crate::server::http::request::from_request()
            .map(|(auth, _, _)| auth.config.theme.clone())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        crate::wire::Theme::default()
    }
}

/// The document and location, in the browser.
#[cfg(feature = "hydrate")]
pub(crate) mod dom {
    use web_sys::UrlSearchParams;

    use crate::{client::js, wire::Session, wire::CSRF_META_NAME, wire::SESSION_META_NAME};

    pub fn window() -> web_sys::Window {
        web_sys::window().expect("a browser window")
    }

    pub fn current_url() -> String {
        window().location().href().unwrap_or_default()
    }

    pub fn here() -> String {
        let location = window().location();
        let mut here = location.pathname().unwrap_or_default();
        here.push_str(&location.search().unwrap_or_default());
        here
    }

    pub fn navigate(url: &str) {
        let location = window().location();
        let _ = location.assign(url);
        if url.contains('#') {
            let _ = location.reload();
        }
    }

    /// The first element of the document that `selector` matches.
    fn element(selector: &str) -> Option<web_sys::Element> {
        window().document()?.query_selector(selector).ok()?
    }

    pub fn meta_element(name: &str) -> Option<web_sys::Element> {
        element(&["meta[name=\"", name, "\"]"].concat())
    }

    /// The attribute `name` of the first element that `selector` matches.
    pub fn attribute(selector: &str, name: &str) -> Option<String> {
        element(selector)?.get_attribute(name)
    }

    /// The `content` of `<meta name="{name}">`, if present and not empty.
    pub fn meta(name: &str) -> Option<String> {
        let content = meta_element(name)?.get_attribute("content")?;
        (!content.is_empty()).then_some(content)
    }

    pub fn page_token() -> Option<String> {
        meta(CSRF_META_NAME)
    }

    pub fn page_token_or_empty() -> String {
        page_token().unwrap_or_default()
    }

    pub fn page_session() -> Option<Session> {
        js::session(&js::parse(&meta(SESSION_META_NAME)?)?)
    }

    pub fn query_param(name: &str) -> Option<String> {
        let search = window().location().search().ok()?;
        UrlSearchParams::new_with_str(&search).ok()?.get(name)
    }

    /// The input named `name` in `form`.
    pub fn input(form: &web_sys::Element, name: &str) -> Option<web_sys::HtmlInputElement> {
        use wasm_bindgen::JsCast;
        let found = form.query_selector(&["input[name=", name, "]"].concat());
        found.ok()??.dyn_into().ok()
    }

    pub fn set_page_token(token: &str) {
        if let Some(meta) = meta_element(CSRF_META_NAME) {
            let _ = meta.set_attribute("content", token);
        }
    }
}
