//! The building blocks of the sign-in pages, for the built-in pages and an
//! app's own: the `<meta>` tags of the shell, the credentials form, the
//! sign-out button, the themed card, the hydration marker, and the account
//! forms (the sessions list, the change-password form).

mod account_forms;
mod auth_meta;
mod change_password_form;
mod connections;
mod credentials_form;
mod email_sign_in_form;
mod hydrated;
mod provider_buttons;
mod reset_forms;
mod security;
mod sessions_list;
mod sign_out_button;
mod sign_up_forms;
mod themed;

pub use account_forms::{ChangeEmailForm, DeleteAccountForm};
pub use auth_meta::AuthMeta;
pub use change_password_form::ChangePasswordForm;
pub use connections::ConnectionsPanel;
pub use credentials_form::{page_credentials_form, CredentialsForm};
pub use email_sign_in_form::EmailSignInForm;
pub use hydrated::Hydrated;
pub use provider_buttons::{use_provider_sign_in, PasskeyButton, ProviderButtons};
pub use reset_forms::{ResetPasswordForm, ResetRequestForm};
pub use security::SecurityPanel;
pub use sessions_list::SessionsPanel;
pub use sign_out_button::{SignOutButton, SignOutForm};
pub use sign_up_forms::{ResendVerificationForm, SignUpForm, SignUpLink, VerifyEmailForm};
pub use themed::ThemedCard;

use leptos::prelude::*;

use crate::{i18n::use_i18n, page, wire::AuthError, ClientError};

/// Shows an action's outcome in `error` and ends `pending`; what it
/// answered, if it went through. Every form handles its outcome here.
fn settle<T>(
    outcome: Result<T, ClientError>,
    error: RwSignal<Option<AuthError>>,
    pending: RwSignal<bool>,
) -> Option<T> {
    match outcome {
        Ok(answer) => {
            pending.set(false);
            error.set(None);
            Some(answer)
        }
        Err(failure) => {
            fail(failure, error, pending);
            None
        }
    }
}

/// Ends `pending` and shows why an action failed: the server's typed
/// refusal, or `Default` when the server was not reached.
fn fail(failure: ClientError, error: RwSignal<Option<AuthError>>, pending: RwSignal<bool>) {
    pending.set(false);
    error.set(Some(match failure {
        ClientError::Refused(refused) => refused,
        _ => AuthError::Default,
    }));
}

/// A form's alert: the error's text in the page's language (hidden while
/// there is none), its code in `data-error`.
#[component]
fn FormAlert(error: RwSignal<Option<AuthError>>) -> impl IntoView {
    let (locale, _) = use_i18n();
    view! {
        <div class="alert" role="alert" data-error=move || error.get().map(|e| e.code())>
            {move || error.get().map(|e| locale.error(e))}
        </div>
    }
}

/// `callbackUrl` and `error` of the current page's query (read alike on the
/// server and, in an island, in the browser).
pub fn sign_in_query() -> (Option<String>, Option<AuthError>) {
    (
        page::query_param("callbackUrl").filter(|s| !s.is_empty()),
        page::query_error(),
    )
}
