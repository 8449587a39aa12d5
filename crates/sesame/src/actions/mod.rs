//! The auth actions as Leptos server functions: what a form posts, on the
//! server and as the browser calls it. One file per flow.

pub mod account;
pub mod reset;
pub mod security;
pub mod sign_in;
pub mod sign_up;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use leptos::server_fn::ServerFn;

    use super::{account::*, reset::*, sign_in::*, sign_up::*};
    use crate::wire::routes::{self, Method};

    /// The `#[server]` endpoints are literals: each must be its route of the
    /// table, with the table's method.
    #[test]
    fn every_server_function_is_its_route_in_the_table() {
        let functions: [(&str, Method, &str); 14] = [
            (CredentialsCallback::PATH, Method::Post, routes::CALLBACK),
            (AccountSessions::PATH, Method::Get, routes::SESSIONS),
            (
                RevokeSessionAction::PATH,
                Method::Post,
                routes::REVOKE_SESSION,
            ),
            (
                RevokeOtherSessionsAction::PATH,
                Method::Post,
                routes::REVOKE_OTHER_SESSIONS,
            ),
            (
                ChangePasswordAction::PATH,
                Method::Post,
                routes::CHANGE_PASSWORD,
            ),
            (ChangeEmailAction::PATH, Method::Post, routes::CHANGE_EMAIL),
            (
                DeleteAccountAction::PATH,
                Method::Post,
                routes::DELETE_ACCOUNT,
            ),
            (
                ResetRequestAction::PATH,
                Method::Post,
                routes::RESET_REQUEST,
            ),
            (
                ResetConfirmAction::PATH,
                Method::Post,
                routes::RESET_CONFIRM,
            ),
            (SignUpAction::PATH, Method::Post, routes::SIGN_UP_ACTION),
            (
                VerifyConfirmAction::PATH,
                Method::Post,
                routes::VERIFY_CONFIRM,
            ),
            (
                VerifyResendAction::PATH,
                Method::Post,
                routes::VERIFY_RESEND,
            ),
            (AccountConnections::PATH, Method::Get, routes::CONNECTIONS),
            (DisconnectAction::PATH, Method::Post, routes::DISCONNECT),
        ];
        for (path, method, route) in functions {
            assert_eq!(path, route);
            assert!(
                routes::is_route(method, path),
                "{method:?} {path} is not in the table"
            );
        }
    }
}
