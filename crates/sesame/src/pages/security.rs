//! `/api/auth/security`: the built-in page of the signed-in user's second
//! factors ([`SecurityPanel`](crate::components::SecurityPanel) in the
//! themed card), where `accounts.second_factor = "required"` sends a user
//! without one (unless `pages.security` names the app's own). Plain forms:
//! it works with JavaScript off (passkeys aside).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{SecurityPanel, ThemedCard};
use crate::{i18n::use_i18n, page, wire::routes};

/// The second factors' page.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let (locale, t) = use_i18n();
    let p = locale.pages();
    let signed_in = page::page_session().is_some();
    view! {
        <Title text=p.security_title />
        <ThemedCard>
            <h1>{p.security_title}</h1>
            {if signed_in {
                view! { <SecurityPanel /> }.into_any()
            } else {
                view! {
                    <p>
                        <a href=routes::sign_in_page_url(routes::SIGN_IN, None, Some(routes::SECURITY_PAGE))>
                            {t.sign_in}
                        </a>
                    </p>
                }
                    .into_any()
            }}
        </ThemedCard>
    }
}
