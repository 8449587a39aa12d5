//! `/api/auth/signin`: the built-in sign-in page (NextAuth's default page), used
//! when no `pages.sign_in` is configured; the server redirects to that page when
//! one is.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{sign_in_query, CredentialsForm};

#[component]
pub fn DefaultSignInPage() -> impl IntoView {
    let (callback_url, error) = sign_in_query();
    view! {
        <Title text="Sign in" />
        <section class="card default-sign-in">
            <h1>"Sign in"</h1>
            <CredentialsForm
                callback_url=callback_url.unwrap_or_else(|| "/".into())
                error
                button_text="Sign in with Credentials"
            />
        </section>
    }
}
