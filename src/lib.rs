//! Sesame: NextAuth-style credentials sign-in for Leptos.
//!
//! - [`auth`]: the auth surface shared by server and browser, the client API, and
//!   (feature `ssr`) the server.
//! - [`i18n`]: the message catalog (English, German) and the page's locale.
//! - [`pages`]: the sign-in pages, the home page and a protected page.
//! - [`app`]: the Leptos app and its HTML shell.
//! - `server` (feature `ssr`): assembles the axum app from all of the above.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod i18n;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point, called before the islands are hydrated (in
/// document order, by Leptos's island script; the last one, `Hydrated`, marks
/// the page as hydrated).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Panic messages in the console while developing; a release build leaves
    // the formatting machinery out of the download.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
