//! One button per OAuth / OpenID Connect provider, for the sign-in pages:
//! each a form that posts the page's CSRF token and `callbackUrl` to
//! `/api/auth/signin/{id}`, which answers with a 302 to the provider, so it
//! works with JavaScript off. [`ProviderButtons`] renders them on the
//! server, outside any island (the built-in page: no code in the browser).
//! [`ProviderSignIn`] is the same forms for an app's own sign-in island,
//! whose submit calls `sign_in(Provider::OAuth(id))`: placed in the island
//! that already holds the credentials form (which has `sign_in` already),
//! it adds no chunk and next to no code to the page's download.

use leptos::{prelude::*, task::spawn_local};

use crate::{i18n::use_i18n, page, sign_in, wire::routes, wire::Provider, SignInOptions};

/// The providers' buttons, then "or" (nothing when there are none);
/// rendered on the server, outside any island.
#[component]
pub fn ProviderButtons() -> impl IntoView {
    let providers = page::sign_in_providers();
    let (callback_url, _) = super::sign_in_query();
    let callback_url = callback_url.unwrap_or_else(|| "/".into());
    let csrf_token = page::page_csrf_token();
    (!providers.is_empty()).then(|| provider_forms(providers, callback_url, csrf_token, None))
}

/// The buttons for an app's sign-in island: a submit calls `sign_in()`.
/// The island gets `providers` as a prop from its page (where
/// [`crate::page::sign_in_providers`] reads them on the server); the
/// `callbackUrl` and CSRF token come from the page, as for the credentials
/// form. Nothing when there are no providers.
#[component]
pub fn ProviderSignIn(
    /// `(id, name)` of each provider.
    providers: Vec<(String, String)>,
) -> impl IntoView {
    let (callback_url, _) = super::sign_in_query();
    let callback_url = callback_url.unwrap_or_else(|| "/".into());
    let csrf_token = page::page_csrf_token();
    let submit = {
        let callback_url = callback_url.clone();
        move |id: String| {
            let options = SignInOptions {
                callback_url: Some(callback_url.clone()),
                ..SignInOptions::default()
            };
            spawn_local(async move {
                // On success the browser is on its way to the provider; a
                // refusal (a provider that is down) lands on the error URL.
                if let Ok(answer) = sign_in(Some(Provider::oauth(id)), options).await {
                    if !answer.ok {
                        page::navigate(&crate::wire::routes::sign_in_page_url(
                            &page::here(),
                            answer.error,
                            None,
                        ));
                    }
                }
            });
        }
    };
    (!providers.is_empty())
        .then(|| provider_forms(providers, callback_url, csrf_token, Some(Box::new(submit))))
}

type OnSubmit = Box<dyn Fn(String) + Send + Sync>;

fn provider_forms(
    providers: Vec<(String, String)>,
    callback_url: String,
    csrf_token: String,
    on_submit: Option<OnSubmit>,
) -> impl IntoView {
    let (_, t) = use_i18n();
    let on_submit = on_submit.map(std::sync::Arc::new);
    let buttons = providers
        .into_iter()
        .map(|(id, name)| {
            let action = routes::SIGN_IN_PROVIDER.replace("{provider}", &id);
            let handler = on_submit.clone().map(|f| {
                let id = id.clone();
                move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    f(id.clone());
                }
            });
            view! {
                <form method="post" action=action class="provider" on:submit=move |ev| {
                    if let Some(handler) = &handler {
                        handler(ev);
                    }
                }>
                    <input type="hidden" name="csrfToken" value=csrf_token.clone() />
                    <input type="hidden" name="callbackUrl" value=callback_url.clone() />
                    <button type="submit" data-provider=id>
                        {t.sign_in_with} " " {name}
                    </button>
                </form>
            }
        })
        .collect_view();
    view! {
        <div class="providers">
            {buttons}
            <p class="or">
                <span>{t.or}</span>
            </p>
        </div>
    }
}
