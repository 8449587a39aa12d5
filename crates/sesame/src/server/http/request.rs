//! The auth system and CSRF state the layers put in a request's extensions,
//! as server functions and pages read them.

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
