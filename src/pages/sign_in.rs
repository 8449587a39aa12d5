//! `/sign-in`: the application's own sign-in page (what `pages.sign_in` points to).

use leptos::prelude::*;
use leptos_meta::Title;

use sesame::components::{
    page_credentials_form, use_provider_sign_in, ProviderButtons, SignUpLink,
};

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
            <SignInForm />
            <SignUpLink href="/sign-up" />
        </section>
    }
}

/// The page's form, hydrated on its own; once it is, the providers' buttons
/// above it sign in through `sign_in()` too.
#[island]
fn SignInForm() -> impl IntoView {
    use_provider_sign_in();
    page_credentials_form(sesame::i18n::use_i18n().1.sign_in)
}
