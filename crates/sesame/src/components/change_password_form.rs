//! The change-password form: the current password and the new one twice.
//! Without JavaScript it is a plain post to the change-password action, which
//! comes back with `done=` or `error=`; hydrated, it calls
//! [`change_password`] and shows the outcome in place. Every other session of
//! the user ends; this one stays.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{client::change_password, i18n::use_i18n, page, wire::routes};

/// The form; a post without JavaScript comes back to the page it is on, with
/// `done=` / `error=` in its query.
#[island(lazy)]
pub fn ChangePasswordForm() -> impl IntoView {
    let back_to = page::path();
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let done = RwSignal::new(page::query_param("done").as_deref() == Some("password-changed"));
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let current_ref = NodeRef::<html::Input>::new();
    let new_ref = NodeRef::<html::Input>::new();
    let confirm_ref = NodeRef::<html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value =
            |r: NodeRef<html::Input>| r.get_untracked().map(|i| i.value()).unwrap_or_default();
        let (current, new, confirm) = (value(current_ref), value(new_ref), value(confirm_ref));
        pending.set(true);
        spawn_local(async move {
            let outcome = change_password(&current, &new, &confirm).await;
            let changed = super::settle(outcome, error, pending).is_some();
            done.set(changed);
            if changed {
                for r in [current_ref, new_ref, confirm_ref] {
                    if let Some(input) = r.get_untracked() {
                        input.set_value("");
                    }
                }
            }
        });
    };
    view! {
        <form class="change-password" method="post" action=routes::CHANGE_PASSWORD on:submit=on_submit>
            <p role="status" data-testid="password-status">
                {move || done.get().then_some(t.password_changed)}
            </p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=back_to />
            <label for="current-password">{t.current_password}</label>
            <input
                id="current-password"
                name="currentPassword"
                type="password"
                autocomplete="current-password"
                required
                node_ref=current_ref
            />
            <label for="new-password">{t.new_password}</label>
            <input
                id="new-password"
                name="newPassword"
                type="password"
                autocomplete="new-password"
                minlength="8"
                required
                node_ref=new_ref
            />
            <label for="confirm-password">{t.confirm_password}</label>
            <input
                id="confirm-password"
                name="confirmPassword"
                type="password"
                autocomplete="new-password"
                minlength="8"
                required
                node_ref=confirm_ref
            />
            <button type="submit" disabled=move || pending.get()>
                {t.change_password}
            </button>
        </form>
    }
}
