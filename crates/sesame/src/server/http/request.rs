//! The auth system and CSRF state the layers put in a request's extensions,
//! as server functions and pages read them, and who is asking.

use http::request::Parts;
use leptos::prelude::use_context;

use crate::server::{defense::csrf, state::Auth};

/// The auth system and CSRF token of the request being rendered or served by a
/// server function (from the request extensions that the layers put there).
pub(crate) fn from_request() -> Option<(Auth, csrf::Csrf, Parts)> {
    let parts = use_context::<Parts>()?;
    let auth = parts.extensions.get::<Auth>()?.clone();
    let csrf = parts.extensions.get::<csrf::Csrf>()?.clone();
    Some((auth, csrf, parts))
}

/// Who is asking, as the sign-in flows need it: the client's address
/// (through the trusted proxies), its `User-Agent`, and the device and
/// trusted-browser cookies it sent.
pub(crate) fn caller(
    auth: &Auth,
    peer: Option<std::net::SocketAddr>,
    headers: &http::HeaderMap,
) -> crate::server::flows::sign_in::Caller {
    use crate::server::http::cookies::cookie;
    crate::server::flows::sign_in::Caller {
        ip: crate::server::defense::client_ip::client_ip(
            peer,
            headers,
            &auth.config.site.trusted_proxies,
        ),
        user_agent: crate::server::defense::audit::user_agent(headers),
        device_cookie: cookie(headers, auth.lockout.cookie_name()).map(str::to_string),
        trusted_cookie: cookie(
            headers,
            &crate::server::flows::second_factor::trusted_cookie_name(auth),
        )
        .map(str::to_string),
    }
}
