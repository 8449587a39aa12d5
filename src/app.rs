//! The Leptos application: the HTML shell (language, CSRF token and session for
//! the browser), the session provider, and the routes (the app's pages and
//! Sesame's built-in ones).
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
use sesame::{
    components::{AuthMeta, Hydrated},
    pages::AuthRoutes,
    SessionProvider,
};

use crate::{
    i18n::{current_locale, use_texts},
    pages::{
        AccountPage, ConnectionsPage, DeletePage, EmailPage, HomePage, PasswordPage, ProfilePage,
        SecurityPage, SessionsPage, SignInPage, SignUpPage,
    },
};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = current_locale().code();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AuthMeta />
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
    let (_, _, t) = use_texts();

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
                        <Route path=path!("/sign-up") view=SignUpPage ssr=SsrMode::Async />
                        <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                        <Route path=path!("/account/sessions") view=SessionsPage ssr=SsrMode::Async />
                        <Route path=path!("/account/connections") view=ConnectionsPage ssr=SsrMode::Async />
                        <Route path=path!("/account/security") view=SecurityPage ssr=SsrMode::Async />
                        <Route path=path!("/account/password") view=PasswordPage ssr=SsrMode::Async />
                        <Route path=path!("/account/email") view=EmailPage ssr=SsrMode::Async />
                        <Route path=path!("/account/delete") view=DeletePage ssr=SsrMode::Async />
                        <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                        <AuthRoutes />
                    </Routes>
                </main>
            </Router>
        </SessionProvider>
    }
}
