//! The app's pages: the custom `/sign-in`; the built-in sign-in, sign-out and
//! error pages under `/api/auth`; the home page and the protected `/account`.

mod account;
mod credentials_form;
mod default_sign_in;
mod error;
mod home;
mod profile;
mod sign_in;
mod sign_out;
mod sign_out_button;
mod themed;

pub use account::{account_details, AccountInfo, AccountPage};
pub use credentials_form::CredentialsForm;
pub use default_sign_in::DefaultSignInPage;
pub use error::ErrorPage;
pub use home::HomePage;
pub use profile::ProfilePage;
pub use sign_in::SignInPage;
pub use sign_out::SignOutPage;
pub use sign_out_button::SignOutButton;
pub use themed::ThemedCard;

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
