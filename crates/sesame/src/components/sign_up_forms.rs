//! The sign-up form, and the two forms of email verification (confirm the
//! address of a link; send the link again). Without JavaScript each is a
//! plain post that comes back with `done=` or `error=`; hydrated, each posts
//! with `fetch` and shows the outcome in place.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{
    client::{post_action, post_action_url},
    i18n::use_i18n,
    page,
    wire::routes,
    wire::AuthError,
};

fn value(r: NodeRef<html::Input>) -> String {
    r.get_untracked().map(|i| i.value()).unwrap_or_default()
}

/// "No account? Create one" under a sign-in form, when sign-up is open
/// (rendered on the server: place it outside the form's island).
#[component]
pub fn SignUpLink(
    /// The sign-up page (default: the built-in one).
    #[prop(into, default = crate::wire::routes::SIGN_UP.into())]
    href: String,
) -> impl IntoView {
    let (_, t) = use_i18n();
    page::sign_up_open().then(|| {
        view! {
            <p class="muted sign-up-link">
                {t.no_account} " " <a href=href>{t.create_account}</a>
            </p>
        }
    })
}

/// Creates an account; then the page says to check the mailbox. Without
/// JavaScript its post comes back to the page it is on.
#[island(lazy)]
pub fn SignUpForm() -> impl IntoView {
    let back_to = page::path();
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let done = RwSignal::new(page::query_param("done").as_deref() == Some("check-email"));
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let (email_ref, name_ref, password_ref, confirm_ref) = (
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
    );
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (email, name, password, confirm) = (
            value(email_ref),
            value(name_ref),
            value(password_ref),
            value(confirm_ref),
        );
        pending.set(true);
        spawn_local(async move {
            let fields = [
                ("email", email.as_str()),
                ("name", name.as_str()),
                ("password", password.as_str()),
                ("confirmPassword", confirm.as_str()),
            ];
            let outcome = post_action(routes::SIGN_UP_ACTION, &fields).await;
            if super::settle(outcome, error, pending).is_some() {
                done.set(true);
            }
        });
    };
    view! {
        <Show
            when=move || !done.get()
            fallback=move || view! { <p role="status" data-testid="sign-up-done">{t.check_email}</p> }
        >
            <form class="sign-up" method="post" action=routes::SIGN_UP_ACTION on:submit=on_submit>
                <super::FormAlert error />
                <input type="hidden" name="csrfToken" value=csrf_token.clone() />
                <input type="hidden" name="callbackUrl" value=back_to.clone() />
                <label for="sign-up-email">{t.email}</label>
                <input id="sign-up-email" name="email" type="email" autocomplete="email" required node_ref=email_ref />
                <label for="sign-up-name">{t.name_optional}</label>
                <input id="sign-up-name" name="name" type="text" autocomplete="name" maxlength="100" node_ref=name_ref />
                <label for="sign-up-password">{t.password}</label>
                <input id="sign-up-password" name="password" type="password" autocomplete="new-password" minlength="8" required node_ref=password_ref />
                <label for="sign-up-confirm">{t.confirm_password}</label>
                <input id="sign-up-confirm" name="confirmPassword" type="password" autocomplete="new-password" minlength="8" required node_ref=confirm_ref />
                <button type="submit" disabled=move || pending.get()>{t.create_account}</button>
            </form>
        </Show>
    }
}

/// Confirms the address of the link whose token is in the page's query (a
/// button, so that a mail scanner following the link confirms nothing).
/// Opened in another browser than the one that signed up, the server asks
/// for the password chosen at sign-up (`ReauthRequired`): the field shows
/// then, with JavaScript on or off.
#[island(lazy)]
pub fn VerifyEmailForm() -> impl IntoView {
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let token = page::query_param("token").unwrap_or_default();
    let change = page::query_param("change").as_deref() == Some("1");
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let password_ref = NodeRef::<html::Input>::new();
    let needs_password = move || error.get() == Some(AuthError::ReauthRequired);
    let form_token = token.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let token = form_token.clone();
        let password = value(password_ref);
        pending.set(true);
        spawn_local(async move {
            let kind = if change { "1" } else { "" };
            let fields = [
                ("token", token.as_str()),
                ("change", kind),
                ("password", password.as_str()),
            ];
            match post_action_url(routes::VERIFY_CONFIRM, &fields).await {
                // The answer says where: confirmed, signed in, or moved.
                Ok(url) => page::navigate(&url),
                Err(failure) => super::fail(failure, error, pending),
            }
        });
    };
    view! {
        <form class="verify-email" method="post" action=routes::VERIFY_CONFIRM on:submit=on_submit>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="token" value=token />
            {change.then(|| view! { <input type="hidden" name="change" value="1" /> })}
            <Show when=needs_password>
                <p class="muted" data-testid="confirm-needs-password">{t.confirm_needs_password}</p>
                <label for="verify-password">{t.password}</label>
                <input id="verify-password" name="password" type="password" autocomplete="current-password" required node_ref=password_ref />
            </Show>
            <button type="submit" disabled=move || pending.get()>{t.confirm_address}</button>
        </form>
    }
}

/// Sends the verification link again (the same answer for every address).
#[island(lazy)]
pub fn ResendVerificationForm() -> impl IntoView {
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let sent = RwSignal::new(page::query_param("done").as_deref() == Some("link-sent"));
    let error = RwSignal::new(page::query_error());
    let pending = RwSignal::new(false);
    let email_ref = NodeRef::<html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let email = value(email_ref);
        pending.set(true);
        spawn_local(async move {
            let outcome = post_action(routes::VERIFY_RESEND, &[("email", email.as_str())]).await;
            if super::settle(outcome, error, pending).is_some() {
                sent.set(true);
            }
        });
    };
    view! {
        <form class="verify-resend" method="post" action=routes::VERIFY_RESEND on:submit=on_submit>
            <p class="muted">{t.resend_lead}</p>
            <p role="status" data-testid="resend-status">{move || sent.get().then_some(t.verification_sent)}</p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <label for="resend-email">{t.email}</label>
            <input id="resend-email" name="email" type="email" autocomplete="email" required node_ref=email_ref />
            <button type="submit" disabled=move || pending.get()>{t.send_link}</button>
        </form>
    }
}
