//! `/api/auth/signup` and `/api/auth/verify`: the built-in sign-up page
//! (when `accounts.sign_up = "open"`; otherwise it says how accounts are
//! made), and the email verification page (with `?token=`, a button that
//! confirms the address; with `?done=verified`, the way to sign in; else the
//! form that sends the link again). Server-rendered, working without
//! JavaScript; the forms are islands.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::{ResendVerificationForm, SignUpForm, ThemedCard, VerifyEmailForm},
    i18n::use_i18n,
    page::{query_param, sign_up_open},
    wire::routes,
};

/// The built-in sign-up page.
#[component]
pub fn DefaultSignUpPage() -> impl IntoView {
    let (_, t) = use_i18n();
    let body = if sign_up_open() {
        view! { <SignUpForm /> }.into_any()
    } else {
        view! { <p data-testid="sign-up-closed">{t.sign_up_closed}</p> }.into_any()
    };
    view! {
        <Title text=t.create_account />
        <ThemedCard>
            <h1>{t.create_account}</h1>
            {body}
            <p class="muted">
                {t.have_account} " " <a href=routes::SIGN_IN>{t.sign_in}</a>
            </p>
        </ThemedCard>
    }
}

/// The built-in email verification page.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let (_, t) = use_i18n();
    let done = query_param("done");
    let verified = done.as_deref() == Some("verified");
    let has_token = query_param("token").is_some_and(|t| !t.is_empty());
    let body = if done.as_deref() == Some("signed-in") {
        view! {
            <p role="status" data-testid="verified">{t.email_verified_signed_in}</p>
            <p><a href="/">{t.back_home}</a></p>
        }
        .into_any()
    } else if done.as_deref() == Some("email-changed") {
        view! {
            <p role="status" data-testid="verified">{t.email_changed}</p>
            <p><a href=routes::SIGN_IN>{t.sign_in}</a></p>
        }
        .into_any()
    } else if verified {
        view! {
            <p role="status" data-testid="verified">{t.email_verified}</p>
            <p><a href=routes::SIGN_IN>{t.sign_in}</a></p>
        }
        .into_any()
    } else if has_token {
        view! {
            <p>{t.confirm_lead}</p>
            <VerifyEmailForm />
        }
        .into_any()
    } else {
        view! { <ResendVerificationForm /> }.into_any()
    };
    view! {
        <Title text=t.verify_title />
        <ThemedCard>
            <h1>{t.verify_title}</h1>
            {body}
        </ThemedCard>
    }
}
