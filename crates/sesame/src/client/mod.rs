//! The client API, next-auth/react's counterpart for Leptos in the browser:
//! [`sign_in`], [`sign_out`], [`get_session`], [`get_csrf_token`], and the
//! account actions ([`list_sessions`], [`revoke_session`],
//! [`revoke_other_sessions`], [`change_password`]).
//!
//! Sign-in takes one round trip when the page carries the CSRF token (the server
//! renders it into `<meta name="sesame-csrf-token">`); NextAuth's client takes
//! three (`/providers`, `/csrf`, then the post). On the server these functions
//! return [`ClientError::NotInBrowser`]: they are meant for event handlers.
//! The requests themselves are in `transport` (browser only); what a page
//! reads of itself (its CSRF token, session, query) is in [`crate::page`].

use crate::{
    wire::AuthError, wire::Provider, wire::Session, wire::SessionInfo, wire::SignInResponse,
};

#[cfg(feature = "hydrate")]
pub(crate) mod js;
pub mod session_state;
#[cfg(feature = "hydrate")]
pub(crate) mod tabs;
#[cfg(feature = "hydrate")]
mod transport;

/// The one switch between the browser and elsewhere: in the browser (feature
/// `hydrate`) the call goes to the [`transport`]; anywhere else (the server,
/// tests) the API answers [`ClientError::NotInBrowser`].
macro_rules! in_browser {
    ($call:expr $(, $unused:expr)*) => {{
        #[cfg(feature = "hydrate")]
        {
            $call
        }
        #[cfg(not(feature = "hydrate"))]
        {
            $(let _ = $unused;)*
            Err(ClientError::NotInBrowser)
        }
    }};
}

/// Options of [`sign_in`] (next-auth/react's `SignInOptions` for credentials).
#[derive(Debug, Clone)]
pub struct SignInOptions {
    /// The email to sign in with.
    pub email: String,
    /// The password, as typed.
    pub password: String,
    /// Where to go after signing in; default: the current page.
    pub callback_url: Option<String>,
    /// Navigate to the returned URL (default `true`); with `false` the caller gets
    /// the [`SignInResponse`] and decides.
    pub redirect: bool,
    /// "Remember me": a persistent cookie and the long session lifetime
    /// (default `false`: the cookie ends with the browser session).
    pub remember: bool,
}

impl Default for SignInOptions {
    fn default() -> Self {
        SignInOptions {
            email: String::new(),
            password: String::new(),
            callback_url: None,
            redirect: true,
            remember: false,
        }
    }
}

/// Options of [`sign_out`].
#[derive(Debug, Clone)]
pub struct SignOutOptions {
    /// Where to go after signing out; default: the current page.
    pub callback_url: Option<String>,
    /// Navigate to the returned URL (default `true`).
    pub redirect: bool,
}

impl Default for SignOutOptions {
    fn default() -> Self {
        SignOutOptions {
            callback_url: None,
            redirect: true,
        }
    }
}

/// A failure to talk to the server at all (not a refused sign-in: that is a
/// [`SignInResponse`] with `ok: false`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the client API runs in the browser only")]
    /// Called outside the browser (on the server, in a test).
    NotInBrowser,
    #[error("network: {0}")]
    /// The request did not get an answer (the network, CORS, an aborted fetch).
    Network(String),
    #[error("unexpected answer from the server: {0}")]
    /// The server answered something the client cannot read (status or body).
    BadResponse(String),
    #[error("{0}")]
    /// The server refused an account action, with its typed error.
    Refused(AuthError),
}

/// Signs in. With `None`, navigates to the sign-in page with `callbackUrl` = the
/// current page (the server forwards to `pages.sign_in` when one is configured).
/// With [`Provider::Credentials`], posts the credentials to
/// `/api/auth/callback/credentials` and, on success, has the session cookie set.
/// With [`Provider::OAuth`] (`Provider::oauth("github")`), posts to
/// `/api/auth/signin/github` and goes to the provider (with `redirect: false`,
/// answers its URL instead). With [`Provider::Email`], sends a sign-in link
/// to `options.email` and goes to the "check your email" page.
pub async fn sign_in(
    provider: Option<Provider>,
    options: SignInOptions,
) -> Result<SignInResponse, ClientError> {
    in_browser!(
        transport::sign_in(provider, options).await,
        provider,
        options
    )
}

/// Signs out (CSRF-checked POST to `/api/auth/signout`); returns the URL to go to.
pub async fn sign_out(options: SignOutOptions) -> Result<String, ClientError> {
    in_browser!(transport::sign_out(options).await, options)
}

/// The current session from `/api/auth/session`; `None` when signed out.
pub async fn get_session() -> Result<Option<Session>, ClientError> {
    in_browser!(transport::get_session().await)
}

/// Sends a session update (POST `/api/auth/session` with `{csrfToken, data}`) and
/// returns the new session. [`crate::SessionState::update`] also updates the page.
pub async fn update_session(data: serde_json::Value) -> Result<Option<Session>, ClientError> {
    in_browser!(transport::update_session(data).await, data)
}

/// The providers (`/api/auth/providers`), as JSON.
pub async fn get_providers() -> Result<serde_json::Value, ClientError> {
    in_browser!(transport::get_json(crate::wire::routes::PROVIDERS).await)
}

/// The CSRF token: the page's, or a fresh one from `/api/auth/csrf`.
pub async fn get_csrf_token() -> Result<String, ClientError> {
    in_browser!(transport::csrf_token(false).await)
}

/// The signed-in user's live sessions, the current one first
/// (GET `/api/auth/account/sessions`).
pub async fn list_sessions() -> Result<Vec<SessionInfo>, ClientError> {
    in_browser!(transport::list_sessions().await)
}

/// Ends one of the signed-in user's sessions (an id from [`list_sessions`]).
/// `password` is needed when the sign-in is older than
/// `session.recent_sign_in`; without it the answer is
/// `Refused(ReauthRequired)`.
pub async fn revoke_session(id: &str, password: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::REVOKE_SESSION,
            &[("id", id), ("password", password.unwrap_or(""))]
        )
        .await,
        id,
        password
    )
}

/// Ends every other session of the signed-in user ("sign out everywhere
/// else"); `password` as for [`revoke_session`].
pub async fn revoke_other_sessions(password: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::REVOKE_OTHER_SESSIONS,
            &[("password", password.unwrap_or(""))]
        )
        .await,
        password
    )
}

/// Changes the signed-in user's password; every other session ends.
pub async fn change_password(current: &str, new: &str, confirm: &str) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::CHANGE_PASSWORD,
            &[
                ("currentPassword", current),
                ("newPassword", new),
                ("confirmPassword", confirm)
            ]
        )
        .await,
        current,
        new,
        confirm
    )
}

/// Asks to move the signed-in user's account to `email`: a link goes there.
/// The `password` is always needed (`Refused(ReauthRequired)` without it).
pub async fn change_email(email: &str, password: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::CHANGE_EMAIL,
            &[("email", email), ("password", password.unwrap_or(""))]
        )
        .await,
        email,
        password
    )
}

/// Deletes the signed-in user's account and every session of it (the other
/// tabs learn they are signed out).
pub async fn delete_account(password: &str) -> Result<(), ClientError> {
    in_browser!(transport::delete_account(password).await, password)
}

/// Finishes a sign-in that answered `SecondFactorRequired` (its `url` is
/// the step's page) with the authenticator app's six-digit code or a
/// recovery code; `trust_browser` skips the step in this browser for 30
/// days. Answers like [`sign_in`] with `redirect: false`: on success the
/// session state is up to date, and `url` is the `callbackUrl`.
pub async fn verify_second_factor(
    code: &str,
    trust_browser: bool,
) -> Result<SignInResponse, ClientError> {
    in_browser!(
        transport::verify_second_factor(code, trust_browser).await,
        code,
        trust_browser
    )
}

/// The signed-in user's second factors (GET `/api/auth/account/security`).
pub async fn security() -> Result<crate::wire::Security, ClientError> {
    in_browser!(transport::security().await)
}

/// Starts setting up an authenticator app (after a recent sign-in); the
/// secret to show is then in [`security`]'s `enrolment`.
pub async fn enrol_totp() -> Result<(), ClientError> {
    in_browser!(transport::account_action(crate::wire::routes::TOTP_ENROL, &[]).await)
}

/// Confirms the authenticator app with a code: the second factor is on; the
/// ten recovery codes, to show once.
pub async fn confirm_totp(code: &str) -> Result<Vec<String>, ClientError> {
    in_browser!(
        transport::codes_action(crate::wire::routes::TOTP_CONFIRM, &[("code", code)]).await,
        code
    )
}

/// Turns the authenticator app off. `code` (a current one, or a recovery
/// code) is needed unless this session passed a second factor recently
/// (`Refused(ReauthRequired)` without it).
pub async fn disable_totp(code: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::TOTP_DISABLE,
            &[("code", code.unwrap_or(""))]
        )
        .await,
        code
    )
}

/// New recovery codes (the old ones void), to show once; `code` as for
/// [`disable_totp`].
pub async fn recovery_codes(code: Option<&str>) -> Result<Vec<String>, ClientError> {
    in_browser!(
        transport::codes_action(
            crate::wire::routes::RECOVERY_CODES,
            &[("code", code.unwrap_or(""))]
        )
        .await,
        code
    )
}

/// Adds a passkey to the signed-in account (after a recent sign-in), named
/// `name`: the browser asks the user. Needs `/api/auth/passkey.js` on the
/// page (`<PasskeyButton>` or the security panel loads it).
pub async fn register_passkey(name: &str) -> Result<(), ClientError> {
    in_browser!(
        match transport::passkeys("register", name.into()).await? {
            (true, _, _) => Ok(()),
            (false, _, error) => Err(ClientError::Refused(
                error.unwrap_or(AuthError::PasskeyRefused)
            )),
        },
        name
    )
}

/// Signs in with a passkey (no username first; both factors at once):
/// where to go now. Needs `/api/auth/passkey.js` on the page.
pub async fn sign_in_with_passkey(callback_url: Option<&str>) -> Result<String, ClientError> {
    in_browser!(
        {
            let arg = callback_url
                .map(Into::into)
                .unwrap_or(wasm_bindgen::JsValue::UNDEFINED);
            match transport::passkeys("signIn", arg).await? {
                (true, Some(url), _) => Ok(url),
                (_, _, error) => Err(ClientError::Refused(
                    error.unwrap_or(AuthError::PasskeyRefused),
                )),
            }
        },
        callback_url
    )
}

/// The signed-in user's passkeys (from [`security`]).
pub async fn list_passkeys() -> Result<Vec<crate::wire::types::PasskeyInfo>, ClientError> {
    security().await.map(|s| s.passkeys)
}

/// Removes one of the signed-in user's passkeys; `code` as for
/// [`disable_totp`] (not needed after a recent second factor).
pub async fn remove_passkey(id: i64, code: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::PASSKEY_REMOVE,
            &[("id", &id.to_string()), ("code", code.unwrap_or(""))]
        )
        .await,
        id,
        code
    )
}

/// Forgets a trusted browser (an id from [`security`]), or every one.
pub async fn forget_browser(id: Option<&str>) -> Result<(), ClientError> {
    in_browser!(
        transport::account_action(
            crate::wire::routes::FORGET_BROWSER,
            &[("id", id.unwrap_or(""))]
        )
        .await,
        id
    )
}

/// Posts an action's form fields (with the CSRF token and `json=true`);
/// its typed refusal, if any. For the built-in forms.
pub(crate) async fn post_action(path: &str, fields: &[(&str, &str)]) -> Result<(), ClientError> {
    in_browser!(transport::account_action(path, fields).await, path, fields)
}

/// Posts an action's form fields like [`post_action`]; where its answer
/// says to go.
pub(crate) async fn post_action_url(
    path: &str,
    fields: &[(&str, &str)],
) -> Result<String, ClientError> {
    in_browser!(transport::action_url(path, fields).await, path, fields)
}

/// Reads a sign-in answer's error code: the `error` field, else `?error=` of `url`.
#[cfg(any(feature = "hydrate", test))]
pub(crate) fn error_of(status: u16, body: &crate::wire::UrlResponse) -> Option<AuthError> {
    if (200..300).contains(&status) {
        return None;
    }
    let code = body.error.clone().or_else(|| {
        let (_, query) = body.url.split_once('?')?;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("error="))
            .map(str::to_string)
    });
    Some(code.map_or(AuthError::Default, |c| AuthError::from_code(&c)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::UrlResponse;

    fn answer(url: &str, error: Option<&str>) -> UrlResponse {
        UrlResponse {
            url: url.into(),
            error: error.map(str::to_string),
            session: None,
            csrf_token: None,
        }
    }

    #[test]
    fn error_of_reads_the_field_then_the_url_query() {
        let ok = answer("http://127.0.0.1:3000/account", None);
        assert_eq!(error_of(200, &ok), None);
        let field = answer("/x?error=Configuration", Some("MissingCSRF"));
        assert_eq!(error_of(403, &field), Some(AuthError::MissingCSRF));
        let in_url = answer(
            "/api/auth/signin?callbackUrl=%2F&error=CredentialsSignin",
            None,
        );
        assert_eq!(error_of(401, &in_url), Some(AuthError::CredentialsSignin));
        // A parameter that merely ends in "error=" is not the error.
        let lookalike = answer("/api/auth/signin?myerror=CredentialsSignin", None);
        assert_eq!(error_of(401, &lookalike), Some(AuthError::Default));
    }
}
