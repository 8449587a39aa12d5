//! `/sign-in`: the application's own sign-in page (what `pages.sign_in` points to).

use leptos::prelude::*;
use leptos_meta::Title;

use sesame::components::{page_credentials_form, ProviderButtons, SignUpLink};

use crate::i18n::use_texts;

#[component]
pub fn SignInPage() -> impl IntoView {
    let (_, auth_text, t) = use_texts();
    view! {
        <Title text=auth_text.sign_in />
        <section class="card">
            <h1>{t.sign_in_to_app}</h1>
            <p class="muted">{t.sign_in_lead}</p>
            <ProviderButtons />
            {page_credentials_form(auth_text.sign_in)}
            <SignUpLink href="/sign-up" />
        </section>
    }
}
