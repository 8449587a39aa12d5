//! The wire contract: the routes, and what the browser and the server say
//! to each other (the Auth.js JSON bodies, the error codes, the `<meta>`
//! names), shared by both sides. The types a client handles most
//! ([`crate::Session`], [`crate::AuthError`]) are at the crate root.

pub(crate) mod error;
pub mod routes;
pub(crate) mod types;

// Public at the crate root; here for the crate's own modules.
pub(crate) use error::AuthError;
pub(crate) use types::{
    Connections, Provider, RecoveryCodes, Security, Session, SessionInfo, SessionUser,
    SignInResponse,
};

pub use types::{
    ActionFields, ColorScheme, CsrfResponse, Theme, UrlResponse, CSRF_META_NAME, SESSION_META_NAME,
};
