//! The built-in pages under `/api/auth` (NextAuth's default pages): sign-in,
//! sign-out and error, and Sesame's sign-up, email verification and password
//! reset, and the second factor's step. Server-rendered, working without JavaScript; their forms
//! hydrate as islands. An app routes them with [`AuthRoutes`].

mod default_sign_in;
mod error;
mod reset;
mod routes;
mod second_factor;
mod security;
mod sign_out;
mod sign_up;
mod verify_request;

pub use default_sign_in::DefaultSignInPage;
pub use error::ErrorPage;
pub use reset::ResetPage;
pub use routes::AuthRoutes;
pub use second_factor::SecondFactorPage;
pub use security::SecurityPage;
pub use sign_out::SignOutPage;
pub use sign_up::{DefaultSignUpPage, VerifyPage};
pub use verify_request::VerifyRequestPage;
