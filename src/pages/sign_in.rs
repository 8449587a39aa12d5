//! `/sign-in`: the application's own sign-in page (what `pages.sign_in` points to).

use leptos::prelude::*;
use leptos_meta::Title;

use super::{sign_in_query, CredentialsForm};

#[component]
pub fn SignInPage() -> impl IntoView {
    let (callback_url, error) = sign_in_query();
    view! {
        <Title text="Sign in · Sesame" />
        <section class="card">
            <h1>"Sign in to Sesame"</h1>
            <p class="muted">"Use your email and password."</p>
            <CredentialsForm callback_url=callback_url.unwrap_or_else(|| "/".into()) error />
        </section>
    }
}
