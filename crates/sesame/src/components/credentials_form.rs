//! The credentials form shared by `/sign-in` and the built-in sign-in page.
//!
//! Without JavaScript it is a plain form post to the credentials callback (the
//! server answers with a 302). Hydrated, its submit calls
//! `sign_in(Credentials, {redirect: false})`: a failure shows inline in the
//! `role="alert"` region, with focus moved there, without leaving the page; on
//! success the browser goes to the returned URL. An account with a second
//! factor answers `SecondFactorRequired`: the form then asks for the code in
//! place and finishes with `verify_second_factor` (without JavaScript the
//! server sends the browser to the step's page instead). The pages wrap it
//! in an island.

use leptos::{html, prelude::*, task::spawn_local};

use crate::{
    i18n::{use_i18n, Locale},
    page, sign_in, verify_second_factor,
    wire::routes,
    wire::AuthError,
    wire::Provider,
    SignInOptions,
};

#[component]
pub fn CredentialsForm(
    /// Where to go after signing in.
    callback_url: String,
    /// An error to show from the start (from `?error=`).
    #[prop(optional_no_strip)]
    error: Option<AuthError>,
    /// The submit button's text.
    #[prop(into)]
    button_text: String,
) -> impl IntoView {
    let csrf_token = page::page_csrf_token();
    let (locale, t) = use_i18n();
    let error = RwSignal::new(error);
    let pending = RwSignal::new(false);
    let email_ref = NodeRef::<html::Input>::new();
    let password_ref = NodeRef::<html::Input>::new();
    let remember_ref = NodeRef::<html::Input>::new();
    let alert_ref = NodeRef::<html::Div>::new();
    // The second factor's step, asked in place once the password passed.
    let step = RwSignal::new(false);
    let step_ref = NodeRef::<html::Div>::new();
    let callback = callback_url.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(email), Some(password)) = (email_ref.get(), password_ref.get()) else {
            return;
        };
        let options = SignInOptions {
            email: email.value(),
            password: password.value(),
            callback_url: Some(callback.clone()),
            redirect: false,
            remember: remember_ref.get().is_some_and(|r| r.checked()),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = sign_in(Some(Provider::Credentials), options).await;
            match outcome {
                Ok(res) if res.ok => {
                    // The other tabs already know; the target page is rendered
                    // by the server with the new session.
                    page::navigate(res.url.as_deref().unwrap_or("/"));
                }
                Ok(res) if res.error == Some(AuthError::SecondFactorRequired) => {
                    error.set(None);
                    pending.set(false);
                    step.set(true);
                    if let Some(container) = step_ref.get_untracked() {
                        code_step(container.into(), locale, error, pending, step).await;
                    }
                }
                Ok(res) => {
                    error.set(Some(res.error.unwrap_or(AuthError::Default)));
                    pending.set(false);
                    if let Some(pw) = password_ref.get_untracked() {
                        pw.set_value("");
                    }
                    // Focus the alert (once it shows the message: an empty one
                    // is hidden) so a screen reader announces it.
                    leptos::task::tick().await;
                    if let Some(alert) = alert_ref.get_untracked() {
                        let _ = alert.focus();
                    }
                }
                Err(_) => {
                    error.set(Some(AuthError::Default));
                    pending.set(false);
                }
            }
        });
    };

    view! {
        <div class="second-factor-step" node_ref=step_ref hidden=move || !step.get()></div>
        <form
            class="credentials-form"
            method="post"
            action=routes::CALLBACK
            on:submit=on_submit
            hidden=move || step.get()
        >
            <div
                class="alert"
                role="alert"
                tabindex="-1"
                node_ref=alert_ref
                data-error=move || error.get().map(|e| e.code())
            >
                {move || error.get().map(|e| locale.error(e))}
            </div>
            // A new account's right password is answered as a wrong one
            // (nobody learns from it that the address had no account): both
            // offer the way to a new confirmation link.
            <Show when=move || matches!(error.get(), Some(AuthError::EmailNotVerified | AuthError::CredentialsSignin))>
                <p>
                    <a href=crate::wire::routes::VERIFY data-testid="resend-link">{t.resend_link}</a>
                </p>
            </Show>
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=callback_url />
            <label for="email">{t.email}</label>
            <input
                id="email"
                name="email"
                type="email"
                autocomplete="username webauthn"
                required
                node_ref=email_ref
            />
            <label for="password">{t.password}</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete="current-password"
                required
                node_ref=password_ref
            />
            <label class="check">
                <input type="checkbox" name="remember" value="true" node_ref=remember_ref />
                {t.remember_me}
            </label>
            <button type="submit" disabled=move || pending.get()>
                {button_text}
            </button>
            <p class="forgot">
                <a href=crate::wire::routes::RESET>{t.forgot_password}</a>
            </p>
        </form>
    }
}

/// The form as a sign-in page's island shows it: `callbackUrl` and `error` from
/// the page's query (read alike on the server and in the browser).
pub fn page_credentials_form(button_text: &'static str) -> impl IntoView {
    let (callback_url, error) = super::sign_in_query();
    view! {
        <CredentialsForm
            callback_url=callback_url.unwrap_or_else(|| "/".into())
            error
            button_text
        />
    }
}

/// The second factor's code, asked in place once a sign-in answered
/// `SecondFactorRequired`: its own WASM chunk, loaded only then, that mounts
/// the step's form into `container` (once; later calls show it again). The
/// view is built in the chunk, so the sign-in page's download is the same
/// for everyone else.
#[leptos::lazy]
fn code_step(
    container: leptos::web_sys::HtmlElement,
    locale: Locale,
    error: RwSignal<Option<AuthError>>,
    pending: RwSignal<bool>,
    step: RwSignal<bool>,
) {
    if container.first_element_child().is_none() {
        leptos::mount::mount_to(container, move || step_form(locale, error, pending, step))
            .forget();
    }
}

/// The step's form: a code (or a recovery code), "trust this browser", and
/// the link to the step's page for the other ways.
fn step_form(
    locale: Locale,
    error: RwSignal<Option<AuthError>>,
    pending: RwSignal<bool>,
    step: RwSignal<bool>,
) -> impl IntoView {
    let t = locale.messages();
    let code_ref = NodeRef::<html::Input>::new();
    let trust_ref = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let (true, Some(code)) = (step.get(), code_ref.get()) {
            code.set_value("");
            let _ = code.focus();
        }
    });
    let on_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(code) = code_ref.get() else {
            return;
        };
        let (code, trust) = (code.value(), trust_ref.get().is_some_and(|t| t.checked()));
        pending.set(true);
        spawn_local(async move {
            match verify_second_factor(&code, trust).await {
                Ok(res) if res.ok => page::navigate(res.url.as_deref().unwrap_or("/")),
                outcome => {
                    let refused = outcome.ok().and_then(|r| r.error);
                    error.set(Some(refused.unwrap_or(AuthError::Default)));
                    pending.set(false);
                    if let Some(input) = code_ref.get_untracked() {
                        input.set_value("");
                        let _ = input.focus();
                    }
                    // A pending sign-in that is gone starts over.
                    if refused == Some(AuthError::SessionRequired) {
                        step.set(false);
                    }
                }
            }
        });
    };
    view! {
        <form class="second-factor-form" method="post" action=routes::SECOND_FACTOR on:submit=on_code>
            <div class="alert" role="alert" data-error=move || error.get().map(|e| e.code())>
                {move || error.get().map(|e| locale.error(e))}
            </div>
            <label for="one-time-code">{t.one_time_code}</label>
            <input
                id="one-time-code"
                name="code"
                autocomplete="one-time-code"
                maxlength="16"
                required
                node_ref=code_ref
            />
            <label class="check">
                <input type="checkbox" name="trustBrowser" value="true" node_ref=trust_ref />
                {t.trust_this_browser}
            </label>
            <button type="submit" disabled=move || pending.get()>
                {t.verify_code}
            </button>
            <p>
                <a href=routes::SECOND_FACTOR>{t.other_ways}</a>
            </p>
        </form>
    }
}
