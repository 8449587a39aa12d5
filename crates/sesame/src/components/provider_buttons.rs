//! One button per OAuth / OpenID Connect provider, for the sign-in pages:
//! each a plain form that posts the page's CSRF token and `callbackUrl` to
//! `/api/auth/signin/{id}`, which answers with a 302 to the provider. No
//! island and no script: it works with JavaScript off, and costs the
//! page's download nothing. Rendered on the server (place it outside the
//! credentials form's island).

use leptos::prelude::*;

use crate::{i18n::use_i18n, page, wire::routes};

/// The providers' buttons, then "or" (nothing when there are none).
#[component]
pub fn ProviderButtons() -> impl IntoView {
    let (_, t) = use_i18n();
    let providers = page::sign_in_providers();
    let (callback_url, _) = super::sign_in_query();
    let callback_url = callback_url.unwrap_or_else(|| "/".into());
    let csrf_token = page::page_csrf_token();
    (!providers.is_empty()).then(|| {
        let buttons = providers
            .into_iter()
            .map(|(id, name)| {
                let action = routes::SIGN_IN_PROVIDER.replace("{provider}", &id);
                view! {
                    <form
                        method="post"
                        action=action
                        class="provider"
                    >
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
    })
}
