//! The email provider's form, for the sign-in pages (when `email_sign_in`
//! is on): an address and "Email me a sign-in link", a plain post to
//! `/api/auth/signin/email` that lands on the "check your email" page.
//! Rendered on the server, no island: it works with JavaScript off.

use leptos::prelude::*;

use crate::{i18n::use_i18n, page, wire::routes};

/// The email provider's form, then "or" (nothing when it is off).
#[component]
pub fn EmailSignInForm() -> impl IntoView {
    let p = use_i18n().0.pages();
    page::email_sign_in_enabled().then(|| {
        let (callback_url, _) = super::sign_in_query();
        view! {
            <form
                method="post"
                action=routes::SIGN_IN_PROVIDER.replace("{provider}", "email")
                class="email-sign-in"
            >
                <input type="hidden" name="csrfToken" value=page::page_csrf_token() />
                <input
                    type="hidden"
                    name="callbackUrl"
                    value=callback_url.unwrap_or_else(|| "/".into())
                />
                <label for="link-email">{p.link_address}</label>
                <input id="link-email" name="email" type="email" autocomplete="email" required />
                <button type="submit">{p.email_me_a_link}</button>
            </form>
            <p class="or">
                <span>{p.or}</span>
            </p>
        }
    })
}
