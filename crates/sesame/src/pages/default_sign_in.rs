//! `/api/auth/signin`: the built-in sign-in page (NextAuth's default page), used
//! when no `pages.sign_in` is configured; the server redirects to that page when
//! one is.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    page_credentials_form, EmailSignInForm, ProviderButtons, SignUpLink, ThemedCard,
};
use crate::i18n::use_i18n;

/// The built-in sign-in page (`/api/auth/signin`): one button per
/// provider, then the credentials form, in the themed card.
#[component]
pub fn DefaultSignInPage() -> impl IntoView {
    let (_, t) = use_i18n();
    view! {
        <Title text=t.sign_in />
        <ThemedCard>
            <h1>{t.sign_in}</h1>
            <ProviderButtons />
            <EmailSignInForm />
            {page_credentials_form(t.sign_in_with_credentials)}
            <SignUpLink />
        </ThemedCard>
    }
}
