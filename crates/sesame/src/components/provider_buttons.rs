//! One button per OAuth / OpenID Connect provider, for the sign-in pages:
//! each a form that posts the page's CSRF token and `callbackUrl` to
//! `/api/auth/signin/{id}`, which answers with a 302 to the provider, so it
//! works with JavaScript off. [`ProviderButtons`] renders them on the
//! server, outside any island: no view code in the browser. Once the
//! page's credentials form is hydrated, they go through the WASM client
//! (its listener takes their submits too); a page without that form calls
//! [`use_provider_sign_in`] in an island it has: one submit listener, next
//! to no code.

use leptos::prelude::*;
#[cfg(feature = "hydrate")]
use leptos::task::spawn_local;

use crate::{i18n::use_i18n, page, wire::routes};
#[cfg(feature = "hydrate")]
use crate::{sign_in, wire::Provider, SignInOptions};

/// The providers' buttons, then "or" (nothing when there are none);
/// rendered on the server, outside any island.
#[component]
pub fn ProviderButtons() -> impl IntoView {
    let providers = page::sign_in_providers();
    let (callback_url, _) = super::sign_in_query();
    let callback_url = callback_url.unwrap_or_else(|| "/".into());
    let csrf_token = page::page_csrf_token();
    let passkeys = page::passkeys_enabled();
    (!providers.is_empty() || passkeys)
        .then(|| provider_forms(providers, callback_url, csrf_token, passkeys))
}

/// The passkey button (shown by `/api/auth/passkey.js`; it also offers the
/// passkeys in the email field's autofill), or, without JavaScript, a note.
#[component]
pub fn PasskeyButton(
    /// The button's text.
    text: &'static str,
    /// `sign-in`, or `second-factor` for a pending sign-in's step.
    #[prop(optional)]
    second_factor: bool,
) -> impl IntoView {
    let p = use_i18n().0.pages();
    view! {
        {if second_factor {
            view! {
                <button type="button" class="passkey" data-passkey-second-factor="" hidden>
                    {text}
                </button>
            }
                .into_any()
        } else {
            view! {
                <button type="button" class="passkey" data-passkey-sign-in="" hidden>
                    {text}
                </button>
            }
                .into_any()
        }}
        <p class="muted" data-passkey-needs-js="">
            <small>{p.passkey_needs_js}</small>
        </p>
        <div
            class="alert"
            role="alert"
            data-passkey-status=""
            data-message=use_i18n().0.error(crate::wire::AuthError::PasskeyRefused)
        ></div>
        <script src=routes::PASSKEY_SCRIPT defer></script>
    }
}

/// Inside an island of a sign-in page: once it is hydrated, the page's
/// provider buttons ([`ProviderButtons`], rendered outside the island) sign
/// in through `sign_in(Provider::OAuth(id))` (one listener for the page's
/// form submits, no code per button: the page's download does not grow).
/// Before hydration, and without JavaScript, they stay plain form posts.
/// The credentials form ([`crate::components::CredentialsForm`]) does this
/// already: this is for a page without one.
pub fn use_provider_sign_in() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::submit, |ev| {
            if let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                if provider_submit(&form) {
                    ev.prevent_default();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
}

/// A provider button's form submitted: signs in through `sign_in()` with
/// the form's provider and `callbackUrl`; whether `form` was one (for the
/// caller to prevent the form's own post).
#[cfg(feature = "hydrate")]
pub(super) fn provider_submit(form: &web_sys::Element) -> bool {
    if !form.matches("form.provider").unwrap_or(false) {
        return false;
    }
    let Some(id) = form.get_attribute("data-provider") else {
        return false;
    };
    let callback_url = page::dom::input(form, "callbackUrl")
        .map(|input| input.value())
        .filter(|url| !url.is_empty());
    let options = SignInOptions {
        callback_url,
        ..SignInOptions::default()
    };
    spawn_local(async move {
        // On success the browser is on its way to the provider; a
        // refusal (a provider that is down) shows on this page.
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
    true
}

fn provider_forms(
    providers: Vec<(String, String)>,
    callback_url: String,
    csrf_token: String,
    passkeys: bool,
) -> impl IntoView {
    let p = use_i18n().0.pages();
    let buttons = providers
        .into_iter()
        .map(|(id, name)| {
            let action = routes::SIGN_IN_PROVIDER.replace("{provider}", &id);
            let form_id = id.clone();
            view! {
                <form method="post" action=action class="provider" data-provider=form_id>
                    <input type="hidden" name="csrfToken" value=csrf_token.clone() />
                    <input type="hidden" name="callbackUrl" value=callback_url.clone() />
                    <button type="submit" data-provider=id>
                        {p.sign_in_with} " " {name}
                    </button>
                </form>
            }
        })
        .collect_view();
    view! {
        <div class="providers">
            {passkeys.then(|| view! { <PasskeyButton text=p.sign_in_with_passkey /> })}
            {buttons}
            <p class="or">
                <span>{p.or}</span>
            </p>
        </div>
    }
}
