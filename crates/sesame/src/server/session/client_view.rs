//! The session's client view: what `/api/auth/session`, the JSON answers and
//! the page's `<meta>` show of a session (the answer itself is made in
//! the HTTP edge's `answer` module), shaped by the `session` callback.

use tower_sessions::Session;

use crate::server::{
    session::{data::SessionData, lifecycle},
    state::Auth,
};
use crate::wire::SessionUser;

/// The client-safe session shaped by the `session` callback.
pub fn to_client_session(
    auth: &Auth,
    data: &SessionData,
    expires: time::OffsetDateTime,
) -> crate::wire::Session {
    let session = crate::wire::Session {
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
pub async fn client_session(auth: &Auth, session: &Session) -> Option<crate::wire::Session> {
    lifecycle::signed_in(session, &auth.config)
        .await
        .map(|(data, expires)| to_client_session(auth, &data, expires))
}
