//! The auth flows, each a domain result with no HTTP in it: sign-in,
//! the second-factor step and the account's factors, sign-up and
//! verification, password reset, what a user does to their own
//! account, and account administration.

pub(crate) mod admin;
pub(crate) mod connections;
pub(crate) mod email_link;
pub(crate) mod oauth;
pub(crate) mod own_account;
pub(crate) mod passkey;
pub(crate) mod reset;
pub(crate) mod second_factor;
pub(crate) mod security;
pub(crate) mod sign_in;
pub(crate) mod sign_up;
pub(crate) mod verification;
pub(crate) mod visitor;
