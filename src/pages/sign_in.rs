//! `/sign-in`: the application's own sign-in page (what `pages.sign_in` points to).

use leptos::prelude::*;
use leptos_meta::Title;

use sesame::components::{page_credentials_form, ProviderSignIn, SignUpLink};

use crate::i18n::use_texts;

#[component]
pub fn SignInPage() -> impl IntoView {
    let (_, auth_text, t) = use_texts();
    view! {
        <Title text=auth_text.sign_in />
        <section class="card">
            <h1>{t.sign_in_to_app}</h1>
            <p class="muted">{t.sign_in_lead}</p>
            <SignInForm providers=sesame::page::sign_in_providers() />
            <SignUpLink href="/sign-up" />
        </section>
    }
}

/// The page's forms, hydrated on their own: the providers' buttons (through
/// `sign_in()` once hydrated), then the credentials form.
#[island]
fn SignInForm(
    /// `(id, name)` of each provider, read on the server.
    providers: Vec<(String, String)>,
) -> impl IntoView {
    view! {
        <ProviderSignIn providers />
        {page_credentials_form(sesame::i18n::use_i18n().1.sign_in)}
    }
}
