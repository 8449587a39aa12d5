//! The two forms of a password reset: ask for a link (an email), and set the
//! new password of a link (its token, the new password twice). Without
//! JavaScript each is a plain post that comes back with `done=` or `error=`;
//! hydrated, each posts with `fetch` and shows the outcome in place.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{client::post_action, i18n::use_i18n, page, wire::routes};

/// Asks for a reset link; the answer is the same whether or not the address
/// has an account.
#[island(lazy)]
pub fn ResetRequestForm() -> impl IntoView {
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let sent = RwSignal::new(page::query_param("done").as_deref() == Some("link-sent"));
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let email_ref = NodeRef::<html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let email = email_ref
            .get_untracked()
            .map(|i| i.value())
            .unwrap_or_default();
        pending.set(true);
        spawn_local(async move {
            let outcome = post_action(routes::RESET_REQUEST, &[("email", &email)]).await;
            if super::settle(outcome, error, pending).is_some() {
                sent.set(true);
            }
        });
    };
    view! {
        <form class="reset-request" method="post" action=routes::RESET_REQUEST on:submit=on_submit>
            <p class="muted">{t.reset_lead}</p>
            <p role="status" data-testid="reset-status">{move || sent.get().then_some(t.reset_sent)}</p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <label for="reset-email">{t.email}</label>
            <input id="reset-email" name="email" type="email" autocomplete="username" required node_ref=email_ref />
            <button type="submit" disabled=move || pending.get()>{t.send_link}</button>
        </form>
    }
}

/// Sets the new password of the link whose token is in the page's query.
#[island(lazy)]
pub fn ResetPasswordForm() -> impl IntoView {
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let token = page::query_param("token").unwrap_or_default();
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let new_ref = NodeRef::<html::Input>::new();
    let confirm_ref = NodeRef::<html::Input>::new();
    let form_token = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value =
            |r: NodeRef<html::Input>| r.get_untracked().map(|i| i.value()).unwrap_or_default();
        let (new, confirm) = (value(new_ref), value(confirm_ref));
        let token = form_token.clone();
        pending.set(true);
        spawn_local(async move {
            let fields = [
                ("token", token.as_str()),
                ("newPassword", new.as_str()),
                ("confirmPassword", confirm.as_str()),
            ];
            match post_action(routes::RESET_CONFIRM, &fields).await {
                Ok(()) => {
                    page::navigate(&format!("{}?done=password-set", crate::wire::routes::RESET))
                }
                Err(failure) => super::fail(failure, error, pending),
            }
        });
    };
    view! {
        <form class="reset-password" method="post" action=routes::RESET_CONFIRM on:submit=on_submit>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="token" value=token />
            <label for="new-password">{t.new_password}</label>
            <input id="new-password" name="newPassword" type="password" autocomplete="new-password" minlength="8" required node_ref=new_ref />
            <label for="confirm-password">{t.confirm_password}</label>
            <input id="confirm-password" name="confirmPassword" type="password" autocomplete="new-password" minlength="8" required node_ref=confirm_ref />
            <button type="submit" disabled=move || pending.get()>{t.set_password}</button>
        </form>
    }
}
