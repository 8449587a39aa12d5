//! The session's client view: what `/api/auth/session`, the JSON answers and
//! the page's `<meta>` show of a session, shaped by the `session` callback.

use axum::{http::header, response::Response};
use tower_sessions::Session;

use super::{
    answer::no_store,
    session::{self, SessionData},
    state::Auth,
};
use crate::SessionUser;

/// The client-safe session shaped by the `session` callback.
pub fn to_client_session(
    auth: &Auth,
    data: &SessionData,
    expires: time::OffsetDateTime,
) -> crate::Session {
    let session = crate::Session {
        user: SessionUser {
            name: data.name.clone(),
            email: data.email.clone(),
            image: data.image.clone(),
        },
        expires: expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        extra: Default::default(),
    };
    auth.hooks.session(session, data)
}

/// The client-safe session of a request, if signed in.
pub async fn client_session(auth: &Auth, session: &Session) -> Option<crate::Session> {
    session::signed_in(session, &auth.config)
        .await
        .map(|(data, expires)| to_client_session(auth, &data, expires))
}

/// The answer of `/api/auth/session`: the session, or `{}` when signed out.
pub fn session_json(session: Option<crate::Session>) -> Response {
    let mut body = Vec::with_capacity(256);
    match session.map(|s| serde_json::to_writer(&mut body, &s)) {
        Some(Ok(())) => {}
        _ => {
            body.clear();
            body.extend_from_slice(b"{}");
        }
    }
    let mut res = Response::new(body.into());
    // Room for these and the security headers the edge adds.
    let headers = res.headers_mut();
    headers.reserve(8);
    headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.extend(no_store());
    res
}
