//! `/account/sessions`, `/account/connections`, `/account/security`,
//! `/account/password`, `/account/email` and `/account/delete`: the library's account forms placed in the app's pages,
//! behind `<RequireAuth>`. Both work without
//! JavaScript (their routes render in `SsrMode::Async`).

use leptos::prelude::*;
use leptos_meta::Title;

use sesame::{
    components::{
        ChangeEmailForm, ChangePasswordForm, ConnectionsPanel, DeleteAccountForm, SecurityPanel,
        SessionsPanel,
    },
    RequireAuth,
};

use crate::i18n::use_texts;

/// The way back to `/account`.
#[component]
fn BackToAccount() -> impl IntoView {
    let (_, _, t) = use_texts();
    view! {
        <p class="back">
            <a href="/account">"← " {t.your_account}</a>
        </p>
    }
}

#[component]
pub fn SessionsPage() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    view! {
        <Title text=auth_text.sessions_title />
        <RequireAuth>
            <section class="card">
                <h1>{auth_text.sessions_title}</h1>
                <SessionsPanel />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}

#[component]
pub fn ConnectionsPage() -> impl IntoView {
    let (locale, _, _) = use_texts();
    let title = locale.pages().connections_title;
    view! {
        <Title text=title />
        <RequireAuth>
            <section class="card">
                <h1>{title}</h1>
                <ConnectionsPanel />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let (locale, _, _) = use_texts();
    let title = locale.pages().security_title;
    view! {
        <Title text=title />
        <RequireAuth>
            <section class="card">
                <h1>{title}</h1>
                <SecurityPanel />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}

#[component]
pub fn PasswordPage() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    view! {
        <Title text=auth_text.change_password />
        <RequireAuth>
            <section class="card">
                <h1>{auth_text.change_password}</h1>
                <ChangePasswordForm />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}

#[component]
pub fn EmailPage() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    view! {
        <Title text=auth_text.change_email />
        <RequireAuth>
            <section class="card">
                <h1>{auth_text.change_email}</h1>
                <ChangeEmailForm />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}

#[component]
pub fn DeletePage() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    view! {
        <Title text=auth_text.delete_account />
        <RequireAuth>
            <section class="card">
                <h1>{auth_text.delete_account}</h1>
                <DeleteAccountForm />
                <BackToAccount />
            </section>
        </RequireAuth>
    }
}
