//! # Sesame
//!
//! NextAuth-style credentials sign-in for [Leptos](https://leptos.dev): the
//! Auth.js REST routes (`/api/auth/*`), a client API for the browser
//! ([`sign_in`], [`sign_out`], [`get_session`], [`use_session`]), components and
//! built-in pages that work with JavaScript on and off, and (feature `ssr`) the
//! server: configuration, `authorize`, callbacks and events, CSRF, sessions in
//! SQLite, rate limits and lockout.
//!
//! ## Add it to an axum + Leptos app
//!
//! On the server, build the auth system from the configuration and mount the
//! app's Leptos routes with it: Sesame adds its REST routes, the credentials
//! server function, its layers in the right order and the session cleanup task.
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod demo {
//! use leptos::prelude::*;
//! use leptos_router::{components::{Route, Router, Routes}, path};
//! use sesame::{pages::AuthRoutes, server::{config::Config, Sesame}, SessionProvider};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     view! {
//!         <SessionProvider>
//!             <Router>
//!                 <Routes fallback=|| "Not found.">
//!                     <Route path=path!("/") view=|| "Home" />
//!                     <AuthRoutes />
//!                 </Routes>
//!             </Router>
//!         </SessionProvider>
//!     }
//! }
//!
//! fn shell(options: LeptosOptions) -> impl IntoView {
//!     view! {
//!         <!DOCTYPE html>
//!         <html>
//!             <head><HydrationScripts options islands=true /></head>
//!             <body><App /></body>
//!         </html>
//!     }
//! }
//!
//! pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let options = get_configuration(None)?.leptos_options;
//!     let sesame = Sesame::builder(Config::load("Leptos.toml".as_ref())?).build().await?;
//!     let app = sesame.mount(options.clone(), App, shell);
//!     let listener = tokio::net::TcpListener::bind(options.site_addr).await?;
//!     sesame::server::serve(listener, app).await?;
//!     Ok(())
//! }
//! # }
//! ```
//!
//! In the browser (feature `hydrate`), the islands of the pages hydrate as
//! usual (`leptos::mount::hydrate_islands()`). Users are added with
//! [`server::Sesame::create_user`] or the app's own
//! [`server::stores::UserStore`].
//!
//! ## In the browser
//!
//! [`sign_in`], [`sign_out`], [`get_session`] and the other NextAuth client
//! functions post to the routes of [`wire::routes`]; [`use_session`] reads
//! the session every island shares (under [`SessionProvider`]), and
//! [`RequireAuth`] guards a part of a page. The signed-in user's own account
//! actions are in [`account`]. Each returns a [`ClientError`] whose
//! `Refused` carries the [`AuthError`] the server answered.
//!
//! ## What is where
//! - this page: the client API, the session state and the wire types a client
//!   handles most ([`Session`], [`AuthError`]);
//! - [`wire`]: the routes table and the JSON bodies of the contract;
//! - [`components`]: the forms and buttons (credentials, sign-out, sign-up,
//!   reset, account), each working with JavaScript on and off;
//! - [`pages`]: the built-in pages under `/api/auth` ([`pages::AuthRoutes`]);
//! - [`page`]: what a page knows of itself (CSRF token, session, query);
//! - [`i18n`]: the messages of the pages (English, German) and the locale;
//! - [`server`] (feature `ssr`): [`server::Sesame`], the configuration, the
//!   traits an application implements, the guards, and [`server::stores`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![recursion_limit = "256"]

mod actions;
mod client;
pub mod components;
pub mod i18n;
pub mod page;
pub mod pages;
pub mod wire;

#[cfg(feature = "ssr")]
pub mod server;

pub use client::{
    get_csrf_token, get_providers, get_session,
    session_state::{
        use_session, use_session_state, RequireAuth, SessionProvider, SessionState, SessionStatus,
        UseSession, UseSessionOptions,
    },
    sign_in, sign_in_with_passkey, sign_out, update_session, verify_second_factor, ClientError,
    SignInOptions, SignOutOptions,
};
pub use wire::error::AuthError;
pub use wire::types::{
    Connection, Connections, PasskeyInfo, Provider, RecoveryCodes, Security, Session, SessionInfo,
    SessionUser, SignInResponse, TotpEnrolment, TrustedBrowser,
};

/// The account actions of a signed-in user, from the browser: the user's
/// sessions, ending one or the others, a new password, a new address,
/// deleting the account, the second factors. Each posts to its route in [`wire::routes`].
pub mod account {
    pub use crate::client::{
        change_email, change_password, confirm_totp, delete_account, disable_totp, enrol_totp,
        forget_browser, list_passkeys, list_sessions, recovery_codes, register_passkey,
        remove_passkey, revoke_other_sessions, revoke_session, security,
    };
}
