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
//! use sesame::{pages::AuthRoutes, server::{Config, Sesame}, SessionProvider};
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
//! [`server::Sesame::create_user`] or the app's own [`server::UserStore`].
//!
//! ## What is where
//! - wire types and [`AuthError`] at the top; [`client`]: the browser API;
//! - [`page`]: what a page knows of itself (CSRF token, session, query);
//! - [`session_state`]: `SessionProvider`, [`use_session`], [`RequireAuth`];
//! - [`components`]: the credentials form, sign-out button, themed card;
//! - [`pages`]: the built-in sign-in, sign-out and error pages;
//! - [`i18n`]: the auth messages (English, German) and the page's locale;
//! - [`server`] (feature `ssr`): configuration, stores, the routes and the edge.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![recursion_limit = "256"]

pub mod account;
pub mod callback;
pub mod client;
pub mod components;
mod error;
pub mod i18n;
#[cfg(feature = "hydrate")]
mod js;
pub mod page;
pub mod pages;
pub mod reset;
pub mod session_state;
pub mod sign_up;
#[cfg(feature = "hydrate")]
mod tabs;
mod types;

#[cfg(feature = "ssr")]
pub mod server;

pub use client::{
    change_email, change_password, delete_account, get_csrf_token, get_providers, get_session,
    list_sessions, revoke_other_sessions, revoke_session, sign_in, sign_out, update_session,
    ClientError, SignInOptions, SignOutOptions,
};
pub use error::AuthError;
pub use session_state::{
    use_session, use_session_state, RequireAuth, SessionProvider, SessionState, SessionStatus,
    UseSession, UseSessionOptions,
};
pub use types::*;

/// `page?callbackUrl=URL&error=CODE`, form-encoded: where a visitor is sent to
/// sign in, by the server (redirects) and the browser (`use_session`,
/// `<RequireAuth>`) alike.
pub fn sign_in_page_url(
    page: &str,
    error: Option<AuthError>,
    callback_url: Option<&str>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(cb) = callback_url {
        query.append_pair("callbackUrl", cb);
    }
    if let Some(error) = error {
        query.append_pair("error", error.code());
    }
    let query = query.finish();
    if query.is_empty() {
        page.to_string()
    } else {
        let sep = if page.contains('?') { "&" } else { "?" };
        [page, sep, &query].concat()
    }
}
