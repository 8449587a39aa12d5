//! The HTTP edge: every check and header around a request, the REST routes
//! under `/api/auth`, how an auth action answers (JSON or redirect), request
//! bodies, route guards, and the session check's fast path.
//! Flows below return domain results; their answers are made here.

pub(crate) mod actions;
pub(crate) mod admin_route;
pub(crate) mod answer;
pub(crate) mod availability;
pub(crate) mod body;
pub(crate) mod cookies;
pub(crate) mod edge;
pub(crate) mod guard;
pub(crate) mod headers;
pub(crate) mod page_session;
pub(crate) mod pages_redirect;
pub(crate) mod passkey_routes;
pub(crate) mod provider_routes;
pub(crate) mod refusal_hold;
pub(crate) mod request;
pub(crate) mod rest;
pub(crate) mod second_factor_route;
pub(crate) mod session_check;
