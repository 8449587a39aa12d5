//! `/`: the home page, with a Sign in button that calls `sign_in()` with no
//! provider (to the sign-in page and back here), or the signed-in user.

use leptos::{either::Either, prelude::*, task::spawn_local};
use leptos_meta::Title;

use sesame::{components::SignOutButton, sign_in, use_session, SignInOptions, UseSessionOptions};

use crate::i18n::{use_texts, Locale};

#[component]
pub fn HomePage() -> impl IntoView {
    let (_, _, t) = use_texts();
    view! {
        <Title text="Sesame" />
        <section class="card">
            <h1>"Sesame"</h1>
            <p class="muted">{t.app_tagline}</p>
            <AccountDeleted />
            <HomeStatus />
            <LanguageLinks />
        </section>
    }
}

/// After an account deleted itself (`?done=account-deleted`).
#[component]
fn AccountDeleted() -> impl IntoView {
    let (_, auth_text, _) = use_texts();
    (sesame::page::query_param("done").as_deref() == Some("account-deleted")).then(|| {
        view! { <p role="status" data-testid="account-deleted">{auth_text.account_deleted}</p> }
    })
}

/// Who is signed in, kept live (another tab signing in or out shows here).
#[island(lazy)]
fn HomeStatus() -> impl IntoView {
    let session = use_session(UseSessionOptions::default());
    let (_, auth_text, t) = use_texts();
    // Without JavaScript the link goes to the sign-in page; hydrated, the click
    // calls sign_in(None), which does the same with callbackUrl = this page.
    let on_sign_in = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        spawn_local(async {
            let _ = sign_in(None, SignInOptions::default()).await;
        });
    };
    move || match session.data.get() {
        Some(s) => Either::Left(view! {
            <p data-testid="status">
                {t.signed_in_as} " " <strong>{s.user.email}</strong>
            </p>
            <p>
                <a href="/account">{t.your_account}</a>
                " · "
                <a href="/profile">{t.profile}</a>
            </p>
            <SignOutButton />
        }),
        None => Either::Right(view! {
            <p data-testid="status">{t.not_signed_in}</p>
            <a class="button" href=SIGN_IN_HOME rel="external" on:click=on_sign_in>
                {auth_text.sign_in}
            </a>
        }),
    }
}

/// The sign-in page with `callbackUrl=/`.
const SIGN_IN_HOME: &str = "/api/auth/signin?callbackUrl=%2F";

/// Links that switch the language (`?lang=`, remembered in a cookie).
#[component]
fn LanguageLinks() -> impl IntoView {
    let (locale, _, t) = use_texts();
    view! {
        <nav class="languages" aria-label=t.language>
            {Locale::ALL
                .into_iter()
                .map(|l| {
                    let current = (l == locale).then_some("true");
                    view! {
                        <a href=format!("/?lang={}", l.code()) rel="external" hreflang=l.code() aria-current=current>
                            {match l {
                                Locale::En => "English",
                                Locale::De => "Deutsch",
                            }}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
