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
pub use credentials_form::{page_credentials_form, CredentialsForm};
pub use default_sign_in::DefaultSignInPage;
pub use error::ErrorPage;
pub use home::HomePage;
pub use profile::ProfilePage;
pub use sign_in::SignInPage;
pub use sign_out::SignOutPage;
pub use sign_out_button::{SignOutButton, SignOutForm};
pub use themed::ThemedCard;

use crate::auth::{client::query_param, AuthError};

/// `callbackUrl` and `error` of the current page's query (read alike on the
/// server and, in an island, in the browser).
pub(crate) fn sign_in_query() -> (Option<String>, Option<AuthError>) {
    (
        query_param("callbackUrl").filter(|s| !s.is_empty()),
        query_param("error").map(|code| AuthError::from_code(&code)),
    )
}
