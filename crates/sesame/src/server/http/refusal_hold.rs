//! Where a sign-in refused for want of a hashing slot waits out its hold:
//! here, the outermost layer, once the request's own work is over. Its
//! futures, its copy of the request and the read buffer its headers point
//! into are freed first, and only the answer waits. Under a credential-
//! stuffing flood, hundreds of refusals wait at once (see
//! [`crate::server::defense::hash_gate`]).

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};

use crate::server::state::Auth;

/// The layer's function: requests that may hash (anything but `GET` and
/// `HEAD`) run inside [`HashGate::refusals_held_after`].
///
/// [`HashGate::refusals_held_after`]: crate::server::defense::hash_gate::HashGate
pub async fn hold_refusals(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    auth.gate.refusals_held_after(next.run(req)).await
}
