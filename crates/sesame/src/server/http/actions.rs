//! What the action server functions (account actions, password reset,
//! sign-up) need of their request, and how they answer: back to the page
//! (`callbackUrl` through the policy, else the given default or the
//! `Referer`'s page) with `done=` or `error=`, as JSON or a 302.

use leptos::prelude::*;

use crate::{
    server::{
        defense::client_ip::client_ip, defense::csrf::Csrf, flows::own_account::Request,
        http::answer::Answer, http::body::form_flag, http::request::from_request, state::Auth,
    },
    wire::AuthError,
    wire::{ActionFields, UrlResponse},
};

/// What an action needs of its request.
pub struct Edge {
    /// Cookies the answer sets (a device cookie, a binding cookie).
    pub cookies: Vec<http::HeaderValue>,
    pub auth: Auth,
    pub csrf: Csrf,
    pub session: tower_sessions::Session,
    pub ip: Option<std::net::IpAddr>,
    pub referer_path: Option<String>,
    /// The language the request asks for (for the email it may send).
    pub locale: crate::i18n::Locale,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    /// The browser's device cookie, if any.
    pub device_cookie: Option<String>,
    /// The browser's link-binding cookie, if any.
    pub binding_cookie: Option<String>,
    /// The sealed recovery codes a plain form post left to show once.
    pub shown_codes: Option<String>,
}

/// The cookie that carries recovery codes, sealed, from a plain form post
/// to the one page that shows them.
const SHOWN_CODES: &str = "sesame.recovery-codes";

impl Edge {
    /// The parts of the request being served.
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
        let locale = crate::i18n::locale_of(&parts.uri, &parts.headers);
        let user_agent = crate::server::defense::audit::user_agent(&parts.headers);
        let device_cookie =
            crate::server::http::cookies::cookie(&parts.headers, auth.lockout.cookie_name())
                .map(str::to_string);
        let binding_cookie = crate::server::http::cookies::cookie(
            &parts.headers,
            crate::server::flows::visitor::binding_cookie_name(&auth),
        )
        .map(str::to_string);
        let shown_codes = crate::server::http::cookies::cookie(
            &parts.headers,
            &crate::server::factors::cookie_name(SHOWN_CODES, auth.factors.secure),
        )
        .map(str::to_string);
        Ok(Edge {
            shown_codes,
            cookies: Vec::new(),
            locale,
            user_agent,
            device_cookie,
            binding_cookie,
            auth,
            csrf,
            session,
            ip,
            referer_path,
        })
    }

    /// The request of an action a signed-out visitor may take.
    pub fn visitor(&self) -> crate::server::flows::visitor::Visitor<'_> {
        crate::server::flows::visitor::Visitor {
            auth: &self.auth,
            csrf: &self.csrf,
            session: &self.session,
            ip: self.ip,
            locale: self.locale,
            user_agent: self.user_agent.clone(),
            device_cookie: self.device_cookie.clone(),
            binding_cookie: self.binding_cookie.clone(),
        }
    }

    /// The request of an account action.
    pub fn request(&self) -> Request<'_> {
        Request {
            auth: &self.auth,
            csrf: &self.csrf,
            session: &self.session,
            ip: self.ip,
            locale: self.locale,
        }
    }

    /// The recovery codes a plain form post left to show, and the
    /// `Set-Cookie` that ends them (once).
    pub fn take_shown_codes(&self) -> (Vec<String>, Option<http::HeaderValue>) {
        let Some(sealed) = self.shown_codes.as_deref() else {
            return (Vec::new(), None);
        };
        let factors = &self.auth.factors;
        let codes = factors
            .display_sealer
            .open(sealed)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| text.split(' ').map(str::to_string).collect())
            .unwrap_or_default();
        let clear = crate::server::factors::cookie(SHOWN_CODES, "", 0, factors.secure);
        (codes, Some(clear))
    }

    /// Answers an action that makes recovery codes: in the JSON for a
    /// `fetch` caller; for a plain form post, in a sealed five-minute
    /// cookie for the page to show once (`done=<done>`).
    pub fn answer_codes(
        &mut self,
        outcome: Result<Vec<String>, AuthError>,
        done: &str,
        fields: &ActionFields,
    ) -> crate::wire::RecoveryCodes {
        let json = form_flag(fields.json.as_deref());
        let (result, codes) = match outcome {
            Ok(codes) => (Ok(done), codes),
            Err(error) => (Err(error), Vec::new()),
        };
        if !json && !codes.is_empty() {
            let factors = &self.auth.factors;
            let sealed = factors.display_sealer.seal(codes.join(" ").as_bytes());
            self.cookies.push(crate::server::factors::cookie(
                SHOWN_CODES,
                &sealed,
                300,
                factors.secure,
            ));
        }
        let body = self.answer(result, fields.callback_url.as_deref(), fields);
        crate::wire::RecoveryCodes {
            url: body.url,
            error: body.error,
            codes: if json { codes } else { Vec::new() },
        }
    }

    /// Answers `outcome`, back to `callback_url` (through the policy) or
    /// the `Referer`'s page, as JSON or a redirect as `fields` ask.
    pub fn answer(
        &self,
        outcome: Result<&str, AuthError>,
        callback_url: Option<&str>,
        fields: &ActionFields,
    ) -> UrlResponse {
        let back = callback_url
            .and_then(|url| self.auth.resolve_callback(Some(url)).ok())
            .or_else(|| self.referer_path.clone())
            .unwrap_or_else(|| "/".into());
        let answer = Answer::account(&back, outcome, form_flag(fields.json.as_deref()));
        let response = expect_context::<leptos_axum::ResponseOptions>();
        for cookie in &self.cookies {
            response.append_header(http::header::SET_COOKIE, cookie.clone());
        }
        response.set_status(answer.status);
        for (name, value) in answer.headers() {
            response.append_header(name, value);
        }
        answer.body
    }
}
