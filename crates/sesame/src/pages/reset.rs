//! `/api/auth/reset`: the built-in password reset page. Without a token it
//! asks for a link; with `?token=` (the link) it asks for the new password;
//! with `?done=password-set` it says so and points to the sign-in page.
//! Server-rendered, working without JavaScript; the forms are islands.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::{ResetPasswordForm, ResetRequestForm, ThemedCard},
    i18n::use_i18n,
    page::query_param,
    wire::routes,
};

/// The built-in reset page.
#[component]
pub fn ResetPage() -> impl IntoView {
    let (_, t) = use_i18n();
    let done = query_param("done").as_deref() == Some("password-set");
    let has_token = query_param("token").is_some_and(|t| !t.is_empty());
    let body = if done {
        view! {
            <p role="status" data-testid="reset-done">{t.password_set}</p>
            <p><a href=routes::SIGN_IN>{t.sign_in}</a></p>
        }
        .into_any()
    } else if has_token {
        view! { <ResetPasswordForm /> }.into_any()
    } else {
        view! { <ResetRequestForm /> }.into_any()
    };
    view! {
        <Title text=t.reset_title />
        <ThemedCard>
            <h1>{t.reset_title}</h1>
            {body}
        </ThemedCard>
    }
}
