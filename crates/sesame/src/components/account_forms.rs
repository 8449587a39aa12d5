//! Moving the account to another address, and deleting it. Without
//! JavaScript each is a plain post that comes back with `done=` or `error=`;
//! hydrated, each posts with `fetch` and shows the outcome in place (a
//! deleted account goes to the home page).

use leptos::{html, prelude::*, task::spawn_local};

use crate::{client::post_action, i18n::use_i18n, page, wire::routes};

fn value(r: NodeRef<html::Input>) -> String {
    r.get_untracked().map(|i| i.value()).unwrap_or_default()
}

/// Asks for a link to a new address, with the password (always: a session
/// alone, however recent, could be a stolen one). Without JavaScript its
/// post comes back to the page it is on.
#[island(lazy)]
pub fn ChangeEmailForm() -> impl IntoView {
    let back_to = page::path();
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let sent = RwSignal::new(page::query_param("done").as_deref() == Some("email-link-sent"));
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let (email_ref, password_ref) = (NodeRef::<html::Input>::new(), NodeRef::<html::Input>::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (email, password) = (value(email_ref), value(password_ref));
        pending.set(true);
        spawn_local(async move {
            let fields = [("email", email.as_str()), ("password", password.as_str())];
            let outcome = post_action(routes::CHANGE_EMAIL, &fields).await;
            sent.set(super::settle(outcome, error, pending).is_some());
        });
    };
    view! {
        <form class="change-email" method="post" action=routes::CHANGE_EMAIL on:submit=on_submit>
            <p role="status" data-testid="email-status">{move || sent.get().then_some(t.email_link_sent)}</p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=back_to />
            <label for="new-email">{t.new_email}</label>
            <input id="new-email" name="email" type="email" autocomplete="email" required node_ref=email_ref />
            <label for="email-password">{t.password}</label>
            <input id="email-password" name="password" type="password" autocomplete="current-password" required node_ref=password_ref />
            <button type="submit" disabled=move || pending.get()>{t.change_email}</button>
        </form>
    }
}

/// Deletes the account, with the password. Without JavaScript a refused post
/// comes back to the page it is on.
#[island(lazy)]
pub fn DeleteAccountForm() -> impl IntoView {
    let back_to = page::path();
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let password_ref = NodeRef::<html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = value(password_ref);
        pending.set(true);
        spawn_local(async move {
            match crate::client::delete_account(&password).await {
                Ok(()) => page::navigate("/?done=account-deleted"),
                Err(failure) => super::fail(failure, error, pending),
            }
        });
    };
    view! {
        <form class="delete-account" method="post" action=routes::DELETE_ACCOUNT on:submit=on_submit>
            <p>{t.delete_lead}</p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=back_to />
            <label for="delete-password">{t.password}</label>
            <input id="delete-password" name="password" type="password" autocomplete="current-password" required node_ref=password_ref />
            <button type="submit" class="danger" disabled=move || pending.get()>{t.delete_account}</button>
        </form>
    }
}
