//! `/api/auth/second-factor`: the second factor's step, where
//! `SecondFactorRequired` sends a browser whose first factor passed. A plain
//! form (it works with JavaScript off): the authenticator app's code, or a
//! recovery code, and "trust this browser for 30 days"; it posts to the same
//! path. A refused code comes back here with `?error=`.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{PasskeyButton, ThemedCard};
use crate::{i18n::use_i18n, page, wire::routes};

/// The step's page.
#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let (locale, _) = use_i18n();
    let p = locale.pages();
    let csrf_token = page::page_csrf_token();
    let error = page::query_error();
    view! {
        <Title text=p.second_factor_title />
        <ThemedCard>
            <h1>{p.second_factor_title}</h1>
            <div class="alert" role="alert" data-error=error.map(|e| e.code())>
                {error.map(|e| locale.error(e))}
            </div>
            <form method="post" action=routes::SECOND_FACTOR class="second-factor">
                <input type="hidden" name="csrfToken" value=csrf_token />
                <p>{p.second_factor_lead}</p>
                <label>
                    {p.code}
                    <input
                        name="code"
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        pattern="[0-9 ]*"
                        maxlength="8"
                        autofocus
                    />
                </label>
                <details>
                    <summary>{p.use_recovery_code}</summary>
                    <label>
                        {p.recovery_code}
                        <input name="recoveryCode" autocomplete="off" maxlength="32" />
                    </label>
                </details>
                <label class="remember">
                    <input type="checkbox" name="trustBrowser" value="true" />
                    {p.trust_browser}
                </label>
                <button type="submit">{p.verify}</button>
            </form>
            {page::passkeys_enabled()
                .then(|| view! { <PasskeyButton text=p.use_passkey second_factor=true /> })}
        </ThemedCard>
    }
}
