//! `/account`: a protected page. It renders the signed-in user on the server; a
//! signed-out visitor is sent to the sign-in page with `callbackUrl` back here.

use leptos::prelude::*;
use leptos_meta::Title;

use super::SignOutButton;
use crate::{
    app::SessionResource,
    auth::{client, SIGN_IN_PATH},
};

const HERE: &str = "/account";

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <Title text="Your account · Sesame" />
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                session
                    .get()
                    .map(|s| match s {
                        Some(s) => {
                            view! {
                                <section class="card">
                                    <h1>"Your account"</h1>
                                    <dl>
                                        <dt>"Email"</dt>
                                        <dd data-testid="account-email">{s.user.email}</dd>
                                        <dt>"Name"</dt>
                                        <dd>{s.user.name.unwrap_or_else(|| "—".into())}</dd>
                                        <dt>"Session expires"</dt>
                                        <dd>{s.expires}</dd>
                                    </dl>
                                    <SignOutButton />
                                </section>
                            }
                                .into_any()
                        }
                        None => view! { <SignInRedirect callback_url=HERE /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Sends a signed-out visitor to the sign-in page: a 302 while rendering on the
/// server, a full navigation in the browser (so the server can forward to
/// `pages.sign_in`).
#[component]
pub fn SignInRedirect(callback_url: &'static str) -> impl IntoView {
    let target = format!(
        "{SIGN_IN_PATH}?callbackUrl={}",
        callback_url
            .replace('%', "%25")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('&', "%26")
    );
    #[cfg(feature = "ssr")]
    leptos_axum::redirect(&target);
    #[cfg(not(feature = "ssr"))]
    client::navigate(&target);
    #[cfg(feature = "ssr")]
    let _ = client::navigate;
    view! { <p>"Redirecting to the sign-in page…"</p> }
}
