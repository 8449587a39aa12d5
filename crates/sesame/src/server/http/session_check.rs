//! The fast path of `GET /api/auth/session`, the request a signed-in app makes
//! most (every focus, every poll, every tab): answered in front of the
//! middleware stack when answering needs no write.
//!
//! Through the stack a check pays for a trace span, the edge checks, the body
//! limit, tower-cookies' jar and a tower-sessions handle, each boxing a future
//! or taking a lock; perf showed that machinery costing more than the check, and
//! a signed-out check (no store access at all) reaching under half of a bare
//! handler's throughput. So a route in front of the stack answers the two
//! common cases itself:
//! - no session cookie: `{}`;
//! - a session cookie whose session is live and not due for renewal: the
//!   session, read through the store (and its cache), shaped by the `session`
//!   callback.
//!
//! It sits in front of the availability middleware too: it answers only
//! while the instance saw every backend up, and a read that fails is not
//! answered here but handed on, so the guarded stack reads again, notes the
//! failure and answers 503 as for any request.
//!
//! Everything else goes to the full stack, unchanged: another method, a query
//! string (`?lang=` sets a cookie), a cookie that does not parse, is sent twice
//! or names no session (the stack removes it), a session that is over (deleted)
//! or due for renewal (written). The fast path never writes, so each rule with
//! a side effect has one implementation, in [`crate::server::session::lifecycle`]. Neither path
//! mints a CSRF cookie or a CSP nonce for this route, and both send the same
//! headers ([`PageHeaders::for_auth_api`]). The one difference: a fast answer
//! has no `tower_http` trace span.

use crate::wire::routes;
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Bytes,
    extract::Request,
    http::{request::Parts, HeaderMap, Method},
    response::Response,
    Router,
};
use time::OffsetDateTime;
use tower::ServiceExt;
use tower_sessions::session::Id;

use crate::server::{
    http::answer::{session_bytes, session_json},
    http::headers::PageHeaders,
    session::client_view::to_client_session,
    session::{
        data::{Standing, Turns},
        lifecycle,
        store::View,
    },
    state::Auth,
};

/// The route this module answers.
pub const PATH: &str = routes::SESSION;

/// `app` behind a router that answers [`PATH`] itself when it can, and hands
/// every other request, and the checks it cannot answer, to `app`. The
/// router has no routes of its own (a plain service as its fallback): a
/// check pays no route matching and no extension for a matched path.
pub fn in_front_of(app: Router, auth: Auth) -> Router {
    // Every fast answer's headers, made once by the stack's own code.
    let mut prototype = session_json(None);
    PageHeaders::for_auth_api().finish(&auth, &mut prototype);
    let headers = Arc::new(std::mem::take(prototype.headers_mut()));
    Router::new().fallback_service(FastPath { app, auth, headers })
}

/// The service in front of the app (see [`in_front_of`]).
#[derive(Clone)]
struct FastPath {
    app: Router,
    auth: Auth,
    /// The headers of a fast answer: [`session_json`]'s, then the edge's
    /// ([`PageHeaders::for_auth_api`]). Cloned, they take one allocation
    /// sized to the nine entries; inserted one by one, the map grows to
    /// room for twelve, over the allocator's per-thread cache.
    headers: Arc<HeaderMap>,
}

impl tower::Service<Request> for FastPath {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if req.uri().path() != PATH {
            return Box::pin(self.app.clone().oneshot(req));
        }
        let FastPath { app, auth, headers } = self.clone();
        // Split here, not in the future: it then holds the head once, not
        // beside the whole request (848 bytes against 1,088, so the box fits
        // glibc's per-thread cache, up to 1,032). The body is not `Sync`: the
        // check borrows only the head.
        let (head, body) = req.into_parts();
        Box::pin(async move {
            match answer(&auth, &headers, &head).await {
                Some(res) => Ok(res),
                None => app.oneshot(Request::from_parts(head, body)).await,
            }
        })
    }
}

/// The answer to a request with head `req` if the fast path can give it without a write.
async fn answer(auth: &Auth, headers: &HeaderMap, req: &Parts) -> Option<Response> {
    if req.method != Method::GET || req.uri.query().is_some() || !auth.health.all_up() {
        return None;
    }
    let name = lifecycle::cookie_name(auth.config.secure_cookies());
    let mut cookies = crate::server::http::cookies::cookie_values(&req.headers, name);
    let body = match (cookies.next(), cookies.next()) {
        (None, _) => session_bytes(None),
        (Some(value), None) => live_view(auth, value).await?,
        (Some(_), Some(_)) => return None,
    };
    let mut res = Response::new(body.into());
    *res.headers_mut() = headers.clone();
    Some(res)
}

/// The client view (JSON) of a cookie value's session, if it names a live
/// session that needs no renewal; `None` sends the request down the full
/// stack. The view and the moments it turns over or due for renewal are made
/// once per version of the session (the `session` callback runs then) and
/// kept with the cached record: a check after that costs the cache read and
/// two comparisons with the clock.
async fn live_view(auth: &Auth, cookie: &str) -> Option<Bytes> {
    let id: Id = cookie.parse().ok()?;
    let loaded = auth.sessions.load_shared(&id).await.ok()??;
    let data = loaded.data.as_ref()?;
    let view = loaded.view(|| {
        let turns = Turns::of(data, &auth.config);
        let session = to_client_session(auth, data, turns.expires());
        View {
            turns,
            json: session_bytes(Some(session)),
        }
    });
    match view.turns.standing(OffsetDateTime::now_utc()) {
        Standing::Live { .. } => Some(view.json.clone()),
        Standing::Over | Standing::DueForRenewal => None,
    }
}
