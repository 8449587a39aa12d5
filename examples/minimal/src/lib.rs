//! The smallest Leptos app with Sesame: a home page that shows who is signed
//! in, and Sesame's built-in sign-in, sign-out and error pages.
use leptos::prelude::*;
use leptos_router::{components::*, path};
use sesame::{components::*, pages::AuthRoutes, *};

#[component]
pub fn App() -> impl IntoView {
    view! {
        <SessionProvider><Router><Routes fallback=|| "Not found.">
            <Route path=path!("/") view=Home />
            <AuthRoutes />
        </Routes></Router></SessionProvider>
    }
}

#[component]
fn Home() -> impl IntoView {
    match page::page_session() {
        Some(s) => view! { <p id="who">{s.user.email}</p> <SignOutForm /> }.into_any(),
        None => view! { <a href="/api/auth/signin" rel="external">"Sign in"</a> }.into_any(),
    }
}

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html><head><AuthMeta /><HydrationScripts options islands=true /></head>
        <body><App /><Hydrated /></body></html>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
