//! The app's pages: the custom `/sign-in`, the built-in sign-in page at
//! `/api/auth/signin`, the home page and the protected `/account` page.

mod account;
mod credentials_form;
mod default_sign_in;
mod home;
mod sign_in;
mod sign_out_button;

pub use account::AccountPage;
pub use credentials_form::CredentialsForm;
pub use default_sign_in::DefaultSignInPage;
pub use home::HomePage;
pub use sign_in::SignInPage;
pub use sign_out_button::SignOutButton;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::auth::AuthError;

/// `callbackUrl` and `error` of the current page's query.
pub(crate) fn sign_in_query() -> (Option<String>, Option<AuthError>) {
    let query = use_query_map();
    query.with_untracked(|q| {
        (
            q.get("callbackUrl").filter(|s| !s.is_empty()),
            q.get("error").map(|code| AuthError::from_code(&code)),
        )
    })
}
