//! The app's pages: the home page, its own `/sign-in` (what `pages.sign_in`
//! points to), the protected `/account` and the client-guarded `/profile`.
//! `/account/sessions` and `/account/password` place the library's account
//! forms. The built-in pages under `/api/auth` come from `sesame::pages`.

mod account;
mod account_security;
mod home;
mod profile;
mod sign_in;
mod sign_up;

pub use account::{account_details, AccountInfo, AccountPage};
pub use account_security::{
    ConnectionsPage, DeletePage, EmailPage, PasswordPage, SecurityPage, SessionsPage,
};
pub use home::HomePage;
pub use profile::ProfilePage;
pub use sign_in::SignInPage;
pub use sign_up::SignUpPage;
