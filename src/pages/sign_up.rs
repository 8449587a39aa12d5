//! `/sign-up`: the application's own sign-up page, placing the library's
//! form (when `accounts.sign_up = "open"`).

use leptos::prelude::*;
use leptos_meta::Title;

use sesame::components::SignUpForm;

use crate::i18n::use_texts;

#[component]
pub fn SignUpPage() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    view! {
        <Title text=auth_text.create_account />
        <section class="card">
            <h1>{auth_text.create_account}</h1>
            <SignUpForm />
            <p class="muted">
                {auth_text.have_account} " " <a href="/sign-in">{auth_text.sign_in}</a>
            </p>
        </section>
    }
}
