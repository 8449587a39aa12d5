//! Where a sign-in refused for want of a hashing slot waits out its hold:
//! here, the outermost layer, once the request's own work is over. Its
//! futures, its copy of the request and the read buffer its headers point
//! into are freed first, and only the answer waits. Under a credential-
//! stuffing flood, hundreds of refusals wait at once (see
//! [`crate::server::defense::hash_gate`]).

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use crate::server::state::Auth;

/// The layer's function: every request runs inside
/// [`HashGate::refusals_held_after`] (a task-local flag; nothing is
/// allocated).
///
/// [`HashGate::refusals_held_after`]: crate::server::defense::hash_gate::HashGate
pub async fn hold_refusals(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    auth.gate.refusals_held_after(next.run(req)).await
}
