//! The routes of the wire contract: every path Sesame answers under
//! `/api/auth`, as one table ([`ALL`]) that the request edge (which refuses
//! any other action), the browser client, the components and the server
//! functions share. The server functions' `#[server(endpoint = ..)]` must be
//! literals; a test checks that each one is in the table.

/// A route's HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A page or a read.
    Get,
    /// A form post or an action.
    Post,
}

/// One route of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path.
    pub path: &'static str,
}

const fn get(path: &'static str) -> Route {
    Route {
        method: Method::Get,
        path,
    }
}

const fn post(path: &'static str) -> Route {
    Route {
        method: Method::Post,
        path,
    }
}

/// Base path of the REST surface.
pub const BASE: &str = "/api/auth";
/// The built-in sign-in page.
pub const SIGN_IN: &str = "/api/auth/signin";
/// The credentials provider's own sign-in page.
pub const SIGN_IN_CREDENTIALS: &str = "/api/auth/signin/credentials";
/// The sign-out page (GET) and sign-out (POST).
pub const SIGN_OUT: &str = "/api/auth/signout";
/// The error page (`?error=CODE`).
pub const ERROR: &str = "/api/auth/error";
/// A CSRF token (GET, JSON).
pub const CSRF: &str = "/api/auth/csrf";
/// The session (GET) and its update (POST).
pub const SESSION: &str = "/api/auth/session";
/// The providers (GET, JSON).
pub const PROVIDERS: &str = "/api/auth/providers";
/// The credentials callback server function (POST `email`, `password`).
pub const CALLBACK: &str = "/api/auth/callback/credentials";
/// A provider's sign-in: POST starts its flow (CSRF-checked; answers the
/// provider's URL), GET shows the sign-in page. `{provider}` is its id.
pub const SIGN_IN_PROVIDER: &str = "/api/auth/signin/{provider}";
/// Where a provider sends the browser back (GET, and POST for
/// `response_mode = "form_post"`); the email provider's link (GET).
pub const CALLBACK_PROVIDER: &str = "/api/auth/callback/{provider}";
/// The email provider's "check your email" page.
pub const VERIFY_REQUEST: &str = "/api/auth/verify-request";
/// The signed-in user's linked provider accounts (GET, JSON).
pub const CONNECTIONS: &str = "/api/auth/account/connections";
/// Removes a linked provider account (POST `provider`, `accountId`).
pub const DISCONNECT: &str = "/api/auth/account/disconnect";
/// Starts linking a provider account to the signed-in user (POST `provider`).
pub const CONNECT: &str = "/api/auth/account/connect";
/// The built-in sign-up page.
pub const SIGN_UP: &str = "/api/auth/signup";
/// Creates an account (POST `email`, `name`, `password`, `confirmPassword`).
pub const SIGN_UP_ACTION: &str = "/api/auth/signup/create";
/// The email verification page (GET; `?token=` for the confirmation button).
pub const VERIFY: &str = "/api/auth/verify";
/// Confirms an address (POST `token`).
pub const VERIFY_CONFIRM: &str = "/api/auth/verify/confirm";
/// Sends the verification link again (POST `email`).
pub const VERIFY_RESEND: &str = "/api/auth/verify/resend";
/// The password reset page (GET; `?token=` for the new-password form).
pub const RESET: &str = "/api/auth/reset";
/// Asks for a reset link (POST `email`).
pub const RESET_REQUEST: &str = "/api/auth/reset/request";
/// Sets the new password of a reset link (POST `token`, `newPassword`, `confirmPassword`).
pub const RESET_CONFIRM: &str = "/api/auth/reset/confirm";
/// The user's sessions (GET, JSON).
pub const SESSIONS: &str = "/api/auth/account/sessions";
/// Ends one of the user's sessions (POST `id`).
pub const REVOKE_SESSION: &str = "/api/auth/account/revoke-session";
/// Ends every other session of the user (POST).
pub const REVOKE_OTHER_SESSIONS: &str = "/api/auth/account/revoke-other-sessions";
/// Changes the user's password (POST `currentPassword`, `newPassword`, `confirmPassword`).
pub const CHANGE_PASSWORD: &str = "/api/auth/account/change-password";
/// Asks to move the account to a new address (POST `email`, `password`).
pub const CHANGE_EMAIL: &str = "/api/auth/account/change-email";
/// Deletes the account (POST `password`).
pub const DELETE_ACCOUNT: &str = "/api/auth/account/delete";

/// The second factor's step: its page (GET) and the code (POST `code` or
/// `recoveryCode`, `trustBrowser`).
pub const SECOND_FACTOR: &str = "/api/auth/second-factor";
/// The built-in page of the signed-in user's second factors.
pub const SECURITY_PAGE: &str = "/api/auth/security";
/// The signed-in user's second factors (GET, JSON).
pub const SECURITY: &str = "/api/auth/account/security";
/// Starts setting up an authenticator app (POST).
pub const TOTP_ENROL: &str = "/api/auth/account/totp/enrol";
/// Confirms the authenticator app with a code (POST `code`); answers the
/// recovery codes.
pub const TOTP_CONFIRM: &str = "/api/auth/account/totp/confirm";
/// Turns the authenticator app off (POST `code` unless a second factor is recent).
pub const TOTP_DISABLE: &str = "/api/auth/account/totp/disable";
/// New recovery codes (POST `code` unless a second factor is recent).
pub const RECOVERY_CODES: &str = "/api/auth/account/recovery-codes";
/// Forgets a trusted browser (POST `id`; without it, all of them).
pub const FORGET_BROWSER: &str = "/api/auth/account/forget-browser";

/// The passkey ceremonies' browser script (GET).
pub const PASSKEY_SCRIPT: &str = "/api/auth/passkey.js";
/// A new passkey's options (POST; signed in, after a recent sign-in).
pub const PASSKEY_REGISTER_OPTIONS: &str = "/api/auth/passkey/register/options";
/// A new passkey's credential (POST `credential`, `name`).
pub const PASSKEY_REGISTER_VERIFY: &str = "/api/auth/passkey/register/verify";
/// A passkey sign-in's options (POST; `purpose=second-factor` for a
/// pending sign-in's step).
pub const PASSKEY_AUTH_OPTIONS: &str = "/api/auth/passkey/authenticate/options";
/// A passkey's assertion (POST `credential`, `callbackUrl`, `purpose`):
/// answered like a credentials sign-in.
pub const PASSKEY_AUTH_VERIFY: &str = "/api/auth/passkey/authenticate/verify";
/// Renames a passkey (POST `id`, `name`).
pub const PASSKEY_RENAME: &str = "/api/auth/account/passkeys/rename";
/// Removes a passkey (POST `id`, and `code` unless a second factor is recent).
pub const PASSKEY_REMOVE: &str = "/api/auth/account/passkeys/remove";

/// The running server's admin route (loopback only, signed with the
/// secret), for the admin commands of another process: POST.
pub const ADMIN: &str = "/_sesame/admin";
/// The header that authenticates a call to [`ADMIN`].
pub const ADMIN_HEADER: &str = "x-sesame-admin";

/// Every route under [`BASE`] that Sesame answers: the request edge refuses
/// any other method and path there (`400 UnknownAction`).
pub const ALL: &[Route] = &[
    get(SIGN_IN),
    get(SIGN_IN_CREDENTIALS),
    get(SIGN_OUT),
    post(SIGN_OUT),
    get(ERROR),
    get(CSRF),
    get(SESSION),
    post(SESSION),
    get(PROVIDERS),
    post(CALLBACK),
    get(SIGN_IN_PROVIDER),
    post(SIGN_IN_PROVIDER),
    get(CALLBACK_PROVIDER),
    post(CALLBACK_PROVIDER),
    get(VERIFY_REQUEST),
    get(CONNECTIONS),
    post(CONNECT),
    post(DISCONNECT),
    get(SIGN_UP),
    post(SIGN_UP_ACTION),
    get(VERIFY),
    post(VERIFY_CONFIRM),
    post(VERIFY_RESEND),
    get(RESET),
    post(RESET_REQUEST),
    post(RESET_CONFIRM),
    get(SESSIONS),
    post(REVOKE_SESSION),
    post(REVOKE_OTHER_SESSIONS),
    post(CHANGE_PASSWORD),
    post(CHANGE_EMAIL),
    post(DELETE_ACCOUNT),
    get(SECOND_FACTOR),
    post(SECOND_FACTOR),
    get(SECURITY_PAGE),
    get(SECURITY),
    post(TOTP_ENROL),
    post(TOTP_CONFIRM),
    post(TOTP_DISABLE),
    post(RECOVERY_CODES),
    post(FORGET_BROWSER),
    get(PASSKEY_SCRIPT),
    post(PASSKEY_REGISTER_OPTIONS),
    post(PASSKEY_REGISTER_VERIFY),
    post(PASSKEY_AUTH_OPTIONS),
    post(PASSKEY_AUTH_VERIFY),
    post(PASSKEY_RENAME),
    post(PASSKEY_REMOVE),
];

/// Whether `method path` is a route of the table. A `{provider}` segment
/// matches one provider id, except where the table names the path itself
/// (`/callback/credentials` is a POST only).
pub fn is_route(method: Method, path: &str) -> bool {
    let named = ALL.iter().any(|r| r.path == path);
    ALL.iter().any(|r| {
        r.method == method && (r.path == path || (!named && matches(r.path, path).is_some()))
    })
}

/// The `{provider}` segment of `path` when it has the shape of `pattern`
/// ([`SIGN_IN_PROVIDER`] or [`CALLBACK_PROVIDER`]): an id of 1 to 64 ASCII
/// letters, digits, `-` and `_`.
pub fn matches<'a>(pattern: &str, path: &'a str) -> Option<&'a str> {
    let prefix = pattern.strip_suffix("{provider}")?;
    let id = path.strip_prefix(prefix)?;
    is_provider_id(id).then_some(id)
}

/// Whether `id` can name a provider: 1 to 64 ASCII letters, digits, `-`, `_`.
pub fn is_provider_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a POST to `path` is a provider's `form_post` return: the one
/// state-changing request that comes from another site by design (it is
/// checked by the flow's own binding, not by its origin).
pub fn is_provider_return(path: &str) -> bool {
    matches(CALLBACK_PROVIDER, path).is_some_and(|id| id != "credentials" && id != "email")
}

/// `name=value&...`, `application/x-www-form-urlencoded` as the URL standard
/// serializes it: by the `form_urlencoded` crate on the server, by the
/// browser's `URLSearchParams` in the WASM (which then carries no encoder).
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let Ok(params) = web_sys::UrlSearchParams::new() else {
            return String::new();
        };
        for (name, value) in pairs {
            params.append(name, value);
        }
        params.to_string().into()
    }
}

/// `page?callbackUrl=URL&error=CODE`, form-encoded: where a visitor is sent to
/// sign in, by the server (redirects) and the browser (`use_session`,
/// `<RequireAuth>`) alike.
pub fn sign_in_page_url(
    page: &str,
    error: Option<crate::wire::AuthError>,
    callback_url: Option<&str>,
) -> String {
    let mut pairs = Vec::with_capacity(2);
    if let Some(cb) = callback_url {
        pairs.push(("callbackUrl", cb));
    }
    if let Some(error) = error {
        pairs.push(("error", error.code()));
    }
    let query = form_encode(&pairs);
    if query.is_empty() {
        page.to_string()
    } else {
        let sep = if page.contains('?') { "&" } else { "?" };
        [page, sep, &query].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_under_the_base_and_listed_once() {
        for (i, route) in ALL.iter().enumerate() {
            assert!(route.path.starts_with(BASE), "{route:?}");
            assert!(!ALL[..i].contains(route), "{route:?} twice");
        }
        assert!(is_route(Method::Post, CALLBACK));
        assert!(!is_route(Method::Get, CALLBACK));
        assert!(!is_route(Method::Post, "/api/auth/unknown"));
        assert!(is_route(Method::Post, "/api/auth/signin/github"));
        assert!(is_route(Method::Get, "/api/auth/callback/oidc-test"));
        assert!(!is_route(Method::Get, "/api/auth/callback/a/b"));
        assert!(!is_route(Method::Post, SIGN_IN_CREDENTIALS));
        assert!(!is_route(Method::Get, "/api/auth/callback/"));
        assert!(!is_route(Method::Get, "/api/auth/signin/a.b"));
        assert!(!is_route(
            Method::Get,
            &format!("/api/auth/signin/{}", "a".repeat(65))
        ));
        assert!(is_route(
            Method::Get,
            &format!("/api/auth/signin/{}", "a".repeat(64))
        ));
    }

    #[test]
    fn only_a_provider_s_return_may_come_from_another_site() {
        assert!(is_provider_return("/api/auth/callback/github"));
        assert!(!is_provider_return(CALLBACK));
        assert!(!is_provider_return("/api/auth/callback/email"));
        assert!(!is_provider_return("/api/auth/signin/github"));
        assert!(!is_provider_return("/api/auth/callback/git hub"));
        assert_eq!(
            matches(SIGN_IN_PROVIDER, "/api/auth/signin/x_1-Y"),
            Some("x_1-Y")
        );
    }

    #[test]
    fn the_sign_in_page_url_carries_the_way_back_and_the_error_form_encoded() {
        use crate::AuthError;
        assert_eq!(
            sign_in_page_url(
                "/sign-in",
                Some(AuthError::SessionRequired),
                Some("/a b?c=1")
            ),
            "/sign-in?callbackUrl=%2Fa+b%3Fc%3D1&error=SessionRequired"
        );
        assert_eq!(
            sign_in_page_url("/sign-in?lang=de", None, Some("/")),
            "/sign-in?lang=de&callbackUrl=%2F"
        );
        assert_eq!(sign_in_page_url(SIGN_IN, None, None), SIGN_IN);
    }
}
