//! The Sesame demo app: the design card's pages on the `sesame` library, used
//! only through its public API, as any Leptos app would.
//!
//! - [`app`]: the Leptos app, its HTML shell and routes.
//! - [`pages`]: home, `/sign-in`, the protected `/account`, `/profile`.
//! - [`i18n`]: the app's strings (Sesame has the auth half).
//! - [`user`]: the app's own user type (with a role) and how Sesame gets it.
//! - `cli` (feature `ssr`): the binary's admin commands (`user ...`, `sessions ...`).
//! - `server` (feature `ssr`): the app's configuration (the demo user), and the
//!   axum app assembled through `sesame::server::Sesame`.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod app;
pub mod i18n;
pub mod pages;
pub mod user;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point, called before the islands are hydrated (in
/// document order, by Leptos's island script; the last one, `Hydrated`, marks
/// the page as hydrated).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console while developing; the release build
    // (scripts/release.sh) aborts at once on a panic, without formatting it.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
