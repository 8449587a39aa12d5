//! Sessions: what a signed-in session holds and its cookie, the session
//! store over its two traits (rows and cache), the client's view of a
//! session, and the browser names of the sessions list.

pub(crate) mod client_view;
pub mod data;
pub mod lifecycle;
pub mod store;
pub(crate) mod user_agent;
