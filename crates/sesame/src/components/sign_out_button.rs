//! A sign-out button: a CSRF-protected form post to `/api/auth/signout` that works
//! without JavaScript; hydrated (inside an island), it calls `sign_out()`.

use leptos::{prelude::*, task::spawn_local};

use crate::{i18n::use_i18n, page, sign_out, wire::routes, SignOutOptions};

/// A quiet sign-out button back to the home page, hydrated on its own (for
/// server-rendered pages such as `/account`).
#[island(lazy)]
pub fn SignOutForm() -> impl IntoView {
    view! { <SignOutButton /> }
}

#[component]
pub fn SignOutButton(
    /// Where to go after signing out.
    #[prop(into, default = "/".into())]
    callback_url: String,
    /// A full-width primary button (the sign-out page) instead of a quiet one.
    #[prop(optional)]
    primary: bool,
) -> impl IntoView {
    let csrf_token = page::page_csrf_token();
    let (_, t) = use_i18n();
    let callback = StoredValue::new(callback_url.clone());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            let options = SignOutOptions {
                callback_url: Some(callback.get_value()),
                redirect: true,
            };
            if sign_out(options).await.is_err() {
                page::navigate("/api/auth/error?error=default");
            }
        });
    };
    view! {
        <form
            class="sign-out"
            method="post"
            action=routes::SIGN_OUT
            on:submit=on_submit
        >
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=callback_url />
            <button type="submit" class:secondary=!primary class:wide=primary>
                {t.sign_out}
            </button>
        </form>
    }
}
