//! `/api/auth/error?error=CODE`: the built-in error page, answered with the
//! contract's status (`Configuration` 500, `AccessDenied` 403, ...). Sign-in
//! errors never get here: the server sends them back to the sign-in page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::ThemedCard;
use crate::{i18n::use_i18n, wire::routes, wire::AuthError};

/// The built-in error page (`/api/auth/error?error=CODE`), answered with the error's status.
#[component]
pub fn ErrorPage() -> impl IntoView {
    let code = use_query_map().with_untracked(|q| q.get("error").unwrap_or_default());
    let error = AuthError::from_code(if code.is_empty() { "default" } else { &code });
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(
            http::StatusCode::from_u16(error.error_page_status()).unwrap_or(http::StatusCode::OK),
        );
    }
    let (locale, t) = use_i18n();
    view! {
        <Title text=t.error_title />
        <ThemedCard>
            <h1>{t.error_title}</h1>
            <p role="alert" data-error=error.code()>
                {locale.error(error)}
            </p>
            <p>
                <a href=routes::SIGN_IN rel="external">
                    {t.sign_in}
                </a>
                " · "
                <a href="/">{t.back_home}</a>
            </p>
        </ThemedCard>
    }
}
