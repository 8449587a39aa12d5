//! The server side of Sesame (feature `ssr`). Nothing here is compiled into
//! the WASM client.
//!
//! What an application needs first is at this module's top: [`Sesame`] (build
//! the auth system from a [`config::Config`] and mount the app with it), the traits it
//! may implement ([`Authorize`], [`Callbacks`], [`Events`], [`AuthUser`]), and
//! the guards ([`CurrentUser`], [`require_auth`], [`require_session`],
//! [`require_second_factor`]). The
//! store traits, for an app that keeps users or sessions elsewhere, are in
//! [`stores`]; every setting is in [`config`].
//!
//! ## A configuration in code
//!
//! ```
//! use sesame::server::config::Config;
//!
//! let config = Config::from_toml_str(
//!     r#"
//!     [site]
//!     url = "http://127.0.0.1:3000"
//!     [database]
//!     url = "sqlite::memory:"
//!     "#,
//! )
//! .expect("a valid configuration");
//! assert_eq!(config.database.url, "sqlite::memory:");
//! ```
//!
//! ## A `sign_in` callback
//!
//! Runs after `authorize` accepted the password, before a session starts
//! (NextAuth's `callbacks.signIn`). A refusal is answered exactly as a wrong
//! password.
//!
//! ```
//! use sesame::server::{async_trait, AuthorizedUser, Callbacks, SignInDecision};
//!
//! struct StaffOnly;
//!
//! #[async_trait]
//! impl Callbacks for StaffOnly {
//!     async fn sign_in(&self, user: &AuthorizedUser) -> SignInDecision {
//!         if user.email.ends_with("@staff.example") {
//!             SignInDecision::Allow
//!         } else {
//!             SignInDecision::Deny
//!         }
//!     }
//! }
//! # fn install(builder: sesame::server::SesameBuilder) -> sesame::server::SesameBuilder {
//! builder.callbacks(StaffOnly)
//! # }
//! ```
//!
//! ## Guarding an axum route and a server function
//!
//! ```
//! use axum::{middleware, routing::get, Router};
//! use leptos::prelude::ServerFnError;
//! use sesame::server::{require_auth, require_session, SessionData};
//!
//! // Every route of this router needs a signed-in user: a browser is sent
//! // to the sign-in page, an API call gets a 401.
//! async fn report(axum::Extension(session): axum::Extension<SessionData>) -> String {
//!     format!("report for {}", session.email)
//! }
//! let api: Router = Router::new()
//!     .route("/api/report", get(report))
//!     .route_layer(middleware::from_fn(require_auth));
//!
//! // In a server function: the session, or `SessionRequired` with a 401.
//! async fn my_orders() -> Result<Vec<String>, ServerFnError> {
//!     let session = require_session().await?;
//!     Ok(vec![format!("orders of {}", session.user_id)])
//! }
//! # let _ = (api, my_orders);
//! ```
//!
//! Reading the signed-in user in a handler is [`CurrentUser`]; implementing
//! your own `authorize` is [`SesameBuilder::authorize_with`].

pub(crate) mod app;
pub mod config;
pub(crate) mod defense;
pub(crate) mod factors;
pub(crate) mod flows;
pub(crate) mod http;
pub(crate) mod mail;
pub(crate) mod mount;
pub(crate) mod providers;
pub(crate) mod session;
pub(crate) mod state;
pub mod stores;

pub use app::app_user::{AuthUser, AuthorizedUser};
pub use app::authorize::{Authorize, AuthorizeError, Credentials, DatabaseAuthorize};
pub use app::callbacks::{Callbacks, Events, SignInDecision};
pub use async_trait::async_trait;
pub use defense::audit;
pub use defense::callback_url::CallbackPolicy;
pub use defense::client_ip::client_ip;
pub use defense::password::{NewPassword, Password};
pub use flows::admin::{AccountError, FactorSummary};
pub use flows::sign_up::InviteError;
pub use http::answer::no_store;
pub use http::guard::{require_auth, require_second_factor, require_session, CurrentUser};
#[cfg(feature = "bench")]
pub use mount::with_bench_routes;
pub use mount::{bind, serve, Sesame, SesameBuilder, StartError, LOG_FILTER};
pub use providers::profile::Profile as ProviderProfile;
pub use session::data::SessionData;
pub use session::store::{SessionHandle, UserSession};
pub use session::user_agent::describe_user_agent;
pub use state::Auth;
pub use stores::users::UserRecord;
