//! The credentials form shared by `/sign-in` and the built-in sign-in page.
//!
//! Its markup is the server's: without JavaScript it is a plain form post to
//! the credentials callback (the server answers with a 302). In the browser,
//! the form's island (whose children are that markup, which the browser does
//! not render again) listens for its submit and calls
//! `sign_in(Credentials, {redirect: false})`: a failure shows inline in the
//! `role="alert"` region, with focus moved there, without leaving the page; on
//! success the browser goes to the returned URL. An account with a second
//! factor answers `SecondFactorRequired`: the form then asks for the code in
//! place and finishes with `verify_second_factor` (without JavaScript the
//! server sends the browser to the step's page instead). The form needs no
//! island around it. Its listener takes the page's provider buttons too
//! ([`crate::components::use_provider_sign_in`]).
//!
//! Why the markup is not hydrated: a hydrated form's view is code in the
//! sign-in page's main WASM module (its elements, signals and node
//! references, about 24 KB before wasm-opt), where the behaviour is a
//! listener and a few DOM updates.

use leptos::prelude::*;

use crate::{i18n::use_i18n, page, wire::routes, wire::AuthError};

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
    view! {
        <CredentialsFormIsland>
            <div class="second-factor-step" hidden></div>
            <form class="credentials-form" method="post" action=routes::CALLBACK>
                <div class="alert" role="alert" tabindex="-1" data-error=error.map(|e| e.code())>
                    {error.map(|e| locale.error(e))}
                </div>
                // A new account's right password is answered as a wrong one
                // (nobody learns from it that the address had no account): both
                // offer the way to a new confirmation link.
                <p data-resend="" hidden=!offers_new_link(error)>
                    <a href=routes::VERIFY data-testid="resend-link">{t.resend_link}</a>
                </p>
                <input type="hidden" name="csrfToken" value=csrf_token />
                <input type="hidden" name="callbackUrl" value=callback_url />
                <label for="email">{t.email}</label>
                <input
                    id="email"
                    name="email"
                    type="email"
                    autocomplete="username webauthn"
                    required
                />
                <label for="password">{t.password}</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <label class="check">
                    <input type="checkbox" name="remember" value="true" />
                    {t.remember_me}
                </label>
                <button type="submit">{button_text}</button>
                <p class="forgot">
                    <a href=routes::RESET>{t.forgot_password}</a>
                </p>
            </form>
        </CredentialsFormIsland>
    }
}

/// Whether the form offers a new confirmation link with `error`.
fn offers_new_link(error: Option<AuthError>) -> bool {
    matches!(
        error,
        Some(AuthError::EmailNotVerified | AuthError::CredentialsSignin)
    )
}

/// The form's behaviour: its children, the form, are rendered by the server
/// only; in the browser it listens for the page's credentials forms.
#[island]
fn CredentialsFormIsland(children: Children) -> impl IntoView {
    // The page's language, from `<html lang>` (what `use_i18n` reads in an
    // island, without the context lookup in the main module).
    #[cfg(feature = "hydrate")]
    browser::listen(crate::i18n::current_locale());
    children()
}

/// The form as a sign-in page shows it: `callbackUrl` and `error` from the
/// page's query.
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

/// The form in the browser: one listener for the page's submits, and the
/// DOM updates a sign-in's answer makes.
#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;

    use leptos::{html, prelude::*, task::spawn_local};
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement};

    use super::offers_new_link;
    use crate::{
        i18n::Locale, page, page::dom::input, sign_in, verify_second_factor, wire::routes,
        wire::AuthError, wire::Provider, SignInOptions,
    };

    thread_local! {
        /// Whether the page's listener is there (once for every form of the page).
        static LISTENING: Cell<bool> = const { Cell::new(false) };
    }

    /// Signs in through `sign_in()` from every credentials form of the page,
    /// and from the providers' buttons
    /// ([`provider_submit`](super::super::provider_buttons::provider_submit)).
    pub fn listen(locale: Locale) {
        if LISTENING.with(|on| on.replace(true)) {
            return;
        }
        // The page's lifetime: islands are not taken down.
        let _ = window_event_listener(leptos::ev::submit, move |ev| {
            let Some(form) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            if form.matches("form.credentials-form").unwrap_or(false) {
                ev.prevent_default();
                spawn_local(submit(form, locale));
            } else if super::super::provider_buttons::provider_submit(&form) {
                ev.prevent_default();
            }
        });
    }

    fn value(form: &Element, name: &str) -> String {
        input(form, name).map(|i| i.value()).unwrap_or_default()
    }

    /// The first element of `form` that `selector` matches.
    fn part(form: &Element, selector: &str) -> Option<Element> {
        form.query_selector(selector).ok()?
    }

    fn set_pending(form: &Element, pending: bool) {
        if let Some(button) = part(form, "button[type=submit]") {
            let _ = button.toggle_attribute_with_force("disabled", pending);
        }
    }

    /// Shows `error` in the form's alert (its text in the page's language,
    /// its code in `data-error`; empty, the alert is hidden by the style),
    /// and the link to a new confirmation link where the error may mean an
    /// unconfirmed account.
    pub(super) fn show_error(form: &Element, locale: Locale, error: Option<AuthError>) {
        if let Some(alert) = part(form, ".alert") {
            alert.set_text_content(error.map(|e| locale.error(e)));
            let _ = match error {
                Some(e) => alert.set_attribute("data-error", e.code()),
                None => alert.remove_attribute("data-error"),
            };
        }
        if let Some(link) = part(form, "[data-resend]") {
            let _ = link.toggle_attribute_with_force("hidden", !offers_new_link(error));
        }
    }

    /// Shows the second factor's step (`true`) or the form.
    fn show_step(form: &Element, step: &Element, on: bool) {
        let _ = step.toggle_attribute_with_force("hidden", !on);
        let _ = form.toggle_attribute_with_force("hidden", on);
    }

    async fn submit(form: Element, locale: Locale) {
        let options = SignInOptions {
            email: value(&form, "email"),
            password: value(&form, "password"),
            callback_url: Some(value(&form, "callbackUrl")),
            redirect: false,
            remember: input(&form, "remember").is_some_and(|r| r.checked()),
        };
        set_pending(&form, true);
        match sign_in(Some(Provider::Credentials), options).await {
            Ok(res) if res.ok => {
                // The other tabs already know; the target page is rendered
                // by the server with the new session.
                page::navigate(res.url.as_deref().unwrap_or("/"));
            }
            Ok(res) if res.error == Some(AuthError::SecondFactorRequired) => {
                show_error(&form, locale, None);
                set_pending(&form, false);
                if let Some(step) = form.previous_element_sibling() {
                    show_step(&form, &step, true);
                    code_step(step.unchecked_into(), form, locale).await;
                }
            }
            Ok(res) => {
                show_error(&form, locale, Some(res.error.unwrap_or(AuthError::Default)));
                set_pending(&form, false);
                if let Some(password) = input(&form, "password") {
                    password.set_value("");
                }
                // Focus the alert, which shows the message now, so that a
                // screen reader announces it.
                if let Some(alert) =
                    part(&form, ".alert").and_then(|a| a.dyn_into::<HtmlElement>().ok())
                {
                    let _ = alert.focus();
                }
            }
            Err(_) => {
                show_error(&form, locale, Some(AuthError::Default));
                set_pending(&form, false);
            }
        }
    }

    /// The second factor's code, asked in place once a sign-in answered
    /// `SecondFactorRequired`: its own WASM chunk, loaded only then, that
    /// mounts the step's form into `step` (a new one each time the step
    /// shows: after a pending sign-in ended, the password is asked again
    /// first). The view is built in the chunk, so the sign-in page's download
    /// is the same for everyone else.
    #[leptos::lazy]
    fn code_step(step: HtmlElement, form: Element, locale: Locale) {
        step.set_inner_html("");
        let container = step.clone();
        leptos::mount::mount_to(container, move || step_form(locale, step, form)).forget();
    }

    /// The step's form: a code (or a recovery code), "trust this browser", and
    /// the link to the step's page for the other ways.
    fn step_form(locale: Locale, step: HtmlElement, form: Element) -> impl IntoView {
        let t = locale.messages();
        let error = RwSignal::new(None::<AuthError>);
        let pending = RwSignal::new(false);
        let code_ref = NodeRef::<html::Input>::new();
        let trust_ref = NodeRef::<html::Input>::new();
        Effect::new(move |_| {
            if let Some(code) = code_ref.get() {
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
            let (step, form) = (step.clone(), form.clone());
            spawn_local(async move {
                match verify_second_factor(&code, trust).await {
                    Ok(res) if res.ok => page::navigate(res.url.as_deref().unwrap_or("/")),
                    outcome => {
                        let refused = outcome.ok().and_then(|r| r.error);
                        let refused = refused.unwrap_or(AuthError::Default);
                        pending.set(false);
                        if refused == AuthError::SessionRequired {
                            // The pending sign-in is gone: it starts over,
                            // with the reason in the form.
                            show_error(&form, locale, Some(refused));
                            show_step(&form, &step, false);
                            return;
                        }
                        error.set(Some(refused));
                        if let Some(input) = code_ref.get_untracked() {
                            input.set_value("");
                            let _ = input.focus();
                        }
                    }
                }
            });
        };
        view! {
            <form class="second-factor-form" method="post" action=routes::SECOND_FACTOR on:submit=on_code>
                <super::super::FormAlert error />
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
}
