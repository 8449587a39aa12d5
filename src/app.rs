//! The Leptos application: the HTML shell (language, CSRF token and session for
//! the browser), the session provider, and the routes.
//!
//! Sesame renders in islands mode: pages are HTML from the server, and only the
//! interactive parts (`#[island]`: the sign-in forms, the sign-out buttons, the
//! live session status) are hydrated. Islands that most pages lack are
//! `#[island(lazy)]`: `cargo leptos --split` puts each in its own WASM chunk,
//! fetched by the pages that show it, so `/sign-in` downloads only the runtime
//! and its form.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    auth::{client, SessionProvider, CSRF_META_NAME, SESSION_META_NAME},
    i18n::{current_locale, use_i18n},
    pages::{
        AccountPage, DefaultSignInPage, ErrorPage, HomePage, ProfilePage, SignInPage, SignOutPage,
    },
};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let csrf_token = client::page_csrf_token();
    let session = client::page_session()
        .and_then(|s| serde_json::to_string(&s).ok())
        .unwrap_or_default();
    let lang = current_locale().code();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=CSRF_META_NAME content=csrf_token />
                <meta name=SESSION_META_NAME content=session />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
                <Hydrated />
            </body>
        </html>
    }
}

/// Every route renders in `SsrMode::Async`: the whole page is resolved before
/// the response starts, so pages work with JavaScript off (out-of-order
/// streaming needs a script to put suspended content in place) and a protected
/// page can still answer with a redirect.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(current_locale());
    let (_, t) = use_i18n();

    view! {
        <Stylesheet id="leptos" href="/pkg/sesame.css" />
        <Title text="Sesame" />
        <SessionProvider refetch_interval=300>
            <Router>
                <header class="top">
                    <a href="/" class="brand">
                        "Sesame"
                    </a>
                </header>
                <main>
                    <Routes fallback=move || view! { <p class="card">{t.not_found}</p> }>
                        <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                        <Route path=path!("/sign-in") view=SignInPage ssr=SsrMode::Async />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                        <Route path=path!("/api/auth/signin") view=DefaultSignInPage ssr=SsrMode::Async />
                        <Route path=path!("/api/auth/signout") view=SignOutPage ssr=SsrMode::Async />
                        <Route path=path!("/api/auth/error") view=ErrorPage ssr=SsrMode::Async />
                    </Routes>
                </main>
            </Router>
        </SessionProvider>
    }
}

/// The last island of every page: the islands are hydrated in document order,
/// so when this one runs all the others are live. It marks
/// `<body data-hydrated="true">` for tests, and `data-hydrated-ms` with the
/// time since navigation start for `make bench`.
#[island]
fn Hydrated() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        if let Some(body) = window.document().and_then(|d| d.body()) {
            let _ = body.set_attribute("data-hydrated", "true");
            if let Some(performance) = window.performance() {
                // Whole milliseconds: formatting an f64 would add to the WASM.
                let ms = performance.now() as u64;
                let _ = body.set_attribute("data-hydrated-ms", &ms.to_string());
            }
        }
    }
}
