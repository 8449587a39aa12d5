//! The Leptos application: the HTML shell (language, CSRF token and theme for the
//! browser), the session provider, and the routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    auth::{client, SessionProvider, CSRF_META_NAME, THEME_META_NAME},
    i18n::{current_locale, use_i18n},
    pages::{
        AccountPage, DefaultSignInPage, ErrorPage, HomePage, ProfilePage, SignInPage, SignOutPage,
    },
};

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let csrf_token = client::page_csrf_token();
    let theme = serde_json::to_string(&client::page_theme()).unwrap_or_default();
    let lang = current_locale().code();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=CSRF_META_NAME content=csrf_token />
                <meta name=THEME_META_NAME content=theme />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Every route renders in `SsrMode::Async`: the whole page, session included,
/// is resolved before the response starts, so pages work with JavaScript off
/// (out-of-order streaming needs a script to put suspended content in place)
/// and a protected page can still answer with a redirect.
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
