//! The Leptos application: the HTML shell (with the CSRF token in a `<meta>`),
//! the session resource every page reads, and the routes.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    auth::{load_session, Session, CSRF_META_NAME},
    pages::{AccountPage, DefaultSignInPage, HomePage, SignInPage},
};

/// The signed-in session of the page: loaded on the server before the page is
/// sent (so a signed-in page never flashes signed-out content), then carried to
/// the browser in the hydration data.
pub type SessionResource = Resource<Option<Session>>;

/// The HTML document around the app (server only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let csrf_token = crate::auth::client::page_csrf_token();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name=CSRF_META_NAME content=csrf_token />
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session: SessionResource = Resource::new_blocking(|| (), |_| load_session());
    provide_context(session);

    view! {
        <Stylesheet id="leptos" href="/pkg/sesame.css" />
        <Title text="Sesame" />
        <Router>
            <header class="top">
                <a href="/" class="brand">"Sesame"</a>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="card">"Page not found."</p> }>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/sign-in") view=SignInPage />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/api/auth/signin") view=DefaultSignInPage />
                </Routes>
            </main>
        </Router>
    }
}
