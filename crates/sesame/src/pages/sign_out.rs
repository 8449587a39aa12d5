//! `/api/auth/signout`: the built-in sign-out confirmation (NextAuth's default
//! page): a CSRF-protected form that works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{sign_in_query, SignOutButton, ThemedCard};
use crate::i18n::use_i18n;

/// The built-in sign-out page (`/api/auth/signout`): a confirmation button.
#[component]
pub fn SignOutPage() -> impl IntoView {
    let (_, t) = use_i18n();
    view! {
        <Title text=t.sign_out />
        <ThemedCard>
            <h1>{t.sign_out}</h1>
            <p>{t.sign_out_confirm}</p>
            <SignOutConfirm />
        </ThemedCard>
    }
}

/// The confirmation button, back to `callbackUrl`; hydrated on its own.
#[island(lazy)]
fn SignOutConfirm() -> impl IntoView {
    let (callback_url, _) = sign_in_query();
    view! { <SignOutButton callback_url=callback_url.unwrap_or_else(|| "/".into()) primary=true /> }
}
