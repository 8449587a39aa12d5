//! `/api/auth/signin`: the built-in sign-in page (NextAuth's default page), used
//! when no `pages.sign_in` is configured; the server redirects to that page when
//! one is.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{sign_in_query, CredentialsForm, ThemedCard};
use crate::i18n::use_i18n;

#[component]
pub fn DefaultSignInPage() -> impl IntoView {
    let (_, t) = use_i18n();
    view! {
        <Title text=t.sign_in />
        <ThemedCard>
            <h1>{t.sign_in}</h1>
            <DefaultSignInForm />
        </ThemedCard>
    }
}

/// The page's form, hydrated on its own.
#[island(lazy)]
fn DefaultSignInForm() -> impl IntoView {
    let (callback_url, error) = sign_in_query();
    let (_, t) = use_i18n();
    view! {
        <CredentialsForm
            callback_url=callback_url.unwrap_or_else(|| "/".into())
            error
            button_text=t.sign_in_with_credentials
        />
    }
}
