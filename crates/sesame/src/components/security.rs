//! The signed-in user's second factors, for an account page: set up an
//! authenticator app (a QR code drawn by the server, the key to type, then a
//! code to turn it on), the recovery codes (shown once, new ones on demand),
//! turning it off, and the browsers trusted to skip the step. Plain forms,
//! rendered on the server (no island): each posts to its route under
//! `/api/auth/account/` and comes back here with `done=` or `error=`.
//! Render its route with `SsrMode::Async`.

use leptos::prelude::*;

use crate::{
    actions::security::account_security, i18n::use_i18n, page, wire::routes, wire::Security,
};

/// The second factors of the signed-in user; its forms post back to the page
/// it is on.
#[component]
pub fn SecurityPanel() -> impl IntoView {
    let back_to = page::path();
    let security = Resource::new(|| (), |_| account_security());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let back_to = back_to.clone();
                security
                    .get()
                    .map(move |found| {
                        let (security, codes) = found.unwrap_or_default();
                        view! { <SecurityForms security codes back_to /> }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SecurityForms(security: Security, codes: Vec<String>, back_to: String) -> impl IntoView {
    let (locale, _) = use_i18n();
    let p = locale.pages();
    let csrf_token = page::page_csrf_token();
    let done = page::query_param("done");
    let error = page::query_error();
    let notice = match done.as_deref() {
        Some("totp-enrolling") => Some(p.factor_done_enrolling),
        Some("totp-enabled") => Some(p.factor_done_enabled),
        Some("totp-disabled") => Some(p.factor_done_disabled),
        Some("recovery-codes") => Some(p.factor_done_codes),
        Some("browser-forgotten") => Some(p.factor_done_forgotten),
        Some("passkey-added") => Some(p.factor_done_passkey_added),
        Some("passkey-renamed") => Some(p.factor_done_passkey_renamed),
        Some("passkey-removed") => Some(p.factor_done_passkey_removed),
        _ => None,
    };
    let hidden = {
        let (csrf_token, back_to) = (csrf_token.clone(), back_to.clone());
        move || {
            view! {
                <input type="hidden" name="csrfToken" value=csrf_token.clone() />
                <input type="hidden" name="callbackUrl" value=back_to.clone() />
            }
        }
    };
    let shown = (!codes.is_empty()).then(|| {
        view! {
            <div class="recovery-codes" role="status">
                <p>{p.recovery_codes_shown}</p>
                <ul>
                    {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                </ul>
            </div>
        }
    });
    let code_field = move |label: &'static str| {
        view! {
            <label>
                {label}
                <input name="code" autocomplete="one-time-code" maxlength="32" />
            </label>
        }
    };
    let factor = if security.authenticator {
        let (h1, h2) = (hidden.clone(), hidden.clone());
        view! {
            <p data-factor="on">{p.authenticator_on}</p>
            <p>{p.recovery_codes_left} " " <strong>{security.recovery_codes_left}</strong></p>
            <form method="post" action=routes::RECOVERY_CODES>
                {h1()}
                {code_field(p.code_if_not_recent)}
                <button type="submit">{p.new_recovery_codes}</button>
            </form>
            <form method="post" action=routes::TOTP_DISABLE>
                {h2()}
                {code_field(p.code_if_not_recent)}
                <button type="submit" class="danger">{p.turn_off}</button>
            </form>
        }
        .into_any()
    } else if let Some(enrolment) = security.enrolment {
        let h = hidden.clone();
        view! {
            <p>{p.scan_qr}</p>
            <div class="qr" inner_html=enrolment.qr_svg></div>
            <p>
                {p.setup_key} ": " <code data-totp-secret=enrolment.secret.replace(' ', "")>
                    {enrolment.secret.clone()}
                </code>
            </p>
            <p class="muted"><small data-totp-uri=enrolment.uri.clone()>{enrolment.uri.clone()}</small></p>
            <form method="post" action=routes::TOTP_CONFIRM>
                {h()}
                <label>
                    {p.code}
                    <input
                        name="code"
                        autocomplete="one-time-code"
                        inputmode="numeric"
                        maxlength="8"
                        required
                    />
                </label>
                <button type="submit">{p.confirm_code}</button>
            </form>
        }
        .into_any()
    } else {
        let h = hidden.clone();
        view! {
            <p data-factor="off">{p.authenticator_off}</p>
            <form method="post" action=routes::TOTP_ENROL>
                {h()}
                <button type="submit">{p.set_up_authenticator}</button>
            </form>
        }
        .into_any()
    };
    let browsers = (!security.trusted_browsers.is_empty()).then(|| {
        let items = security
            .trusted_browsers
            .into_iter()
            .map(|b| {
                let h = hidden.clone();
                let id = b.id.clone();
                view! {
                    <li data-trusted=id>
                        <span>{b.browser} " " <small>{b.trusted_at}</small></span>
                        <form method="post" action=routes::FORGET_BROWSER>
                            {h()}
                            <input type="hidden" name="id" value=b.id />
                            <button type="submit" class="danger">{p.forget}</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        let h = hidden.clone();
        view! {
            <h3>{p.trusted_browsers}</h3>
            <ul>{items}</ul>
            <form method="post" action=routes::FORGET_BROWSER>
                {h()}
                <button type="submit" class="danger">{p.forget_all}</button>
            </form>
        }
    });
    let passkeys = security.passkeys_enabled.then(|| {
        let items = security
            .passkeys
            .into_iter()
            .map(|k| {
                let (h1, h2) = (hidden.clone(), hidden.clone());
                let id = k.id.to_string();
                let (label, shown) = (k.name.clone(), k.name.clone());
                let last = k.last_used_at.unwrap_or_else(|| p.never_used.to_string());
                view! {
                    <li data-passkey=label>
                        <span>
                            <strong>{shown}</strong>
                            " "
                            <small>
                                {p.last_used} " " {last}
                            </small>
                        </span>
                        <form method="post" action=routes::PASSKEY_RENAME class="inline">
                            {h1()}
                            <input type="hidden" name="id" value=id.clone() />
                            <input name="name" value=k.name maxlength="64" aria-label=p.passkey_name />
                            <button type="submit">{p.rename}</button>
                        </form>
                        <form method="post" action=routes::PASSKEY_REMOVE class="inline">
                            {h2()}
                            <input type="hidden" name="id" value=id />
                            {code_field(p.code_if_not_recent)}
                            <button type="submit" class="danger">{p.remove}</button>
                        </form>
                    </li>
                }
            })
            .collect_view();
        let h = hidden.clone();
        view! {
            <h3>{p.passkeys_title}</h3>
            <ul class="passkeys">{items}</ul>
            <form data-passkey-register="" hidden>
                {h()}
                <label>
                    {p.passkey_name}
                    <input name="name" maxlength="64" />
                </label>
                <button type="submit">{p.add_passkey}</button>
            </form>
            <p class="muted" data-passkey-needs-js="">
                <small>{p.passkey_needs_js}</small>
            </p>
            <div
            class="alert"
            role="alert"
            data-passkey-status=""
            data-message=use_i18n().0.error(crate::wire::AuthError::PasskeyRefused)
        ></div>
            <script src=routes::PASSKEY_SCRIPT defer></script>
        }
    });
    view! {
        <div class="security">
            {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <div class="alert" role="alert" data-error=error.map(|e| e.code())>
                {error.map(|e| locale.error(e))}
            </div>
            {shown}
            {factor}
            {passkeys}
            {browsers}
        </div>
    }
}
