//! What the application brings: its user type, `authorize`, its callbacks
//! and events, and those parts with the user type erased.

pub(crate) mod app_user;
pub mod authorize;
pub mod callbacks;
pub(crate) mod hooks;
