//! `/`: the home page, with a Sign in button that calls `sign_in()` with no
//! provider (to the sign-in page and back here), or the signed-in user.

use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;

use super::SignOutButton;
use crate::{
    app::SessionResource,
    auth::{sign_in, SignInOptions, SIGN_IN_PATH},
};

#[component]
pub fn HomePage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    // Without JavaScript the link goes to the sign-in page; hydrated, the click
    // calls sign_in(None), which does the same with callbackUrl = this page.
    let on_sign_in = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        spawn_local(async {
            let _ = sign_in(None, SignInOptions::default()).await;
        });
    };
    view! {
        <Title text="Sesame" />
        <section class="card">
            <h1>"Sesame"</h1>
            <p class="muted">"Email and password sign-in for Leptos."</p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    session
                        .get()
                        .map(|s| match s {
                            Some(s) => {
                                view! {
                                    <p data-testid="status">
                                        "Signed in as " <strong>{s.user.email}</strong>
                                    </p>
                                    <p>
                                        <a href="/account">"Your account"</a>
                                    </p>
                                    <SignOutButton />
                                }
                                    .into_any()
                            }
                            None => {
                                view! {
                                    <p data-testid="status">"You are not signed in."</p>
                                    <a
                                        class="button"
                                        href=format!("{SIGN_IN_PATH}?callbackUrl=%2F")
                                        rel="external"
                                        on:click=on_sign_in
                                    >
                                        "Sign in"
                                    </a>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}
