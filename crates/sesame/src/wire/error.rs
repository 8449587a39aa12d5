//! `AuthError`: the one error type of the auth surface.
//!
//! Every variant maps to a NextAuth error code (what goes in `?error=` and in the
//! `error` field of a JSON answer) and to an HTTP status. Sesame's additions
//! (`MissingCSRF`, `InvalidCallbackUrl`, `RateLimited`, `ServiceUnavailable`) carry
//! their own status instead of NextAuth's "redirect with 200".

use serde::{Deserialize, Serialize};

/// Errors a sign-in, sign-out or session request can end with.
///
/// The `Display` text is the user-facing message of the sign-in page, in English
/// ([`AuthError::message`]; other languages are in the `i18n` module); the cause of a failure is
/// logged on the server and never sent to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthError {
    /// Wrong email or password (or `authorize` refused): 401.
    CredentialsSignin,
    /// The page needs a signed-in user.
    SessionRequired,
    /// The sign-in callback refused this user: 403.
    AccessDenied,
    /// The CSRF token or the request's origin did not check out: 403.
    MissingCSRF,
    /// `callbackUrl` is not on this site or an allow-listed origin: 400.
    InvalidCallbackUrl,
    /// Too many attempts: 429 with `Retry-After`.
    RateLimited,
    /// The server is too busy to check a password right now, a store did
    /// not answer, or the sign-in raced the end of its user's sessions: 503
    /// with `Retry-After`; trying again is the answer.
    ServiceUnavailable,
    /// The server is misconfigured: 500.
    Configuration,
    /// A generic sign-in failure (storage error and the like): 500.
    Signin,
    /// A callback failed: 500.
    Callback,
    /// A verification token expired or was used (NextAuth's email flow): 403.
    Verification,
    /// The request body is malformed, of the wrong type or not UTF-8: 400.
    InvalidRequest,
    /// The request body is over the size limit: 413.
    PayloadTooLarge,
    /// Sesame: a sensitive account action needs a recent sign-in or the
    /// password again: 403.
    ReauthRequired,
    /// Sesame: the new password does not pass the password policy: 400.
    WeakPassword,
    /// Sesame: the new password and its confirmation differ: 400.
    PasswordMismatch,
    /// Sesame: the password was right, but the email is not confirmed yet
    /// (`accounts.unverified_sign_in = false`): 403.
    EmailNotVerified,
    /// Sesame: sign-up is off, or by invitation and the invitation is
    /// missing or not for this address: 403.
    SignUpClosed,
    /// Starting a provider's sign-in failed (the provider could not be
    /// reached, or its configuration is wrong): 502.
    OAuthSignin,
    /// The provider's answer did not check out (state, code, ID token,
    /// profile), or the provider refused: 400.
    OAuthCallback,
    /// The provider's address belongs to an account that is not linked to
    /// this provider account: 403. Sign in the usual way, then connect it.
    OAuthAccountNotLinked,
    /// The sign-in link could not be sent (the email provider): 503.
    EmailSignin,
    /// Sesame: the provider account is the user's last way to sign in (no
    /// password, no other link): 409.
    LastSignInMethod,
    /// Sesame: the first factor passed; the account asks for its second
    /// (the answer's `url` is the step's page): 401.
    SecondFactorRequired,
    /// Sesame: the second factor's code (or recovery code) is wrong: 401.
    InvalidCode,
    /// Sesame: the code was used already (its time step, or a used
    /// recovery code): 401. Wait for the next code.
    CodeAlreadyUsed,
    /// Sesame: the passkey did not check out (an unknown or another
    /// account's passkey, a used or expired ceremony, a failed signature or
    /// user verification): 401.
    PasskeyRefused,
    /// Any other failure: 400.
    Default,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for AuthError {}

impl AuthError {
    /// The user-facing English text of this error (other languages are in
    /// the `i18n` module).
    pub fn message(self) -> &'static str {
        use AuthError::*;
        match self {
            CredentialsSignin => "Sign in failed. Check the details you provided are correct. A new account must confirm its email address first: follow the link we sent.",
            SessionRequired => "Please sign in to access this page.",
            AccessDenied => "You do not have permission to sign in.",
            MissingCSRF => "The form expired or was sent from another site. Please try again.",
            InvalidCallbackUrl => "The address to return to after signing in is not allowed.",
            RateLimited => "Too many attempts. Please wait a moment and try again.",
            ServiceUnavailable => "The service is busy. Please try again in a moment.",
            Configuration => "There is a problem with the server configuration. Check the server logs for more information.",
            Verification => "The sign in link is no longer valid. It may have been used already or it may have expired.",
            Signin | Callback => "Try signing in with a different account.",
            InvalidRequest => "The request could not be read.",
            PayloadTooLarge => "The request is too large.",
            ReauthRequired => "Enter your password again to do this.",
            WeakPassword => "Choose a longer or less common password (at least 8 characters).",
            PasswordMismatch => "The two new passwords differ.",
            EmailNotVerified => "Confirm your email address first: follow the link we sent you (or have it sent again).",
            SignUpClosed => "Sign-up is closed here, or needs an invitation for this address.",
            OAuthSignin | OAuthCallback => "Try signing in with a different account.",
            OAuthAccountNotLinked => "To confirm your identity, sign in with the same account you used originally.",
            EmailSignin => "The e-mail could not be sent.",
            LastSignInMethod => "This is your only way to sign in: set a password or connect another account first.",
            SecondFactorRequired => "Enter the code from your authenticator app to finish signing in.",
            InvalidCode => "That code is not right. Check your authenticator app and try again.",
            CodeAlreadyUsed => "That code was used already. Wait for the next one.",
            PasskeyRefused => "The passkey was not accepted. Try again, or sign in another way.",
            Default => "Unable to sign in.",
        }
    }

    /// Every variant, for catalogs and tests.
    pub const ALL: [AuthError; 28] = [
        AuthError::CredentialsSignin,
        AuthError::SessionRequired,
        AuthError::AccessDenied,
        AuthError::MissingCSRF,
        AuthError::InvalidCallbackUrl,
        AuthError::RateLimited,
        AuthError::ServiceUnavailable,
        AuthError::Configuration,
        AuthError::Signin,
        AuthError::Callback,
        AuthError::Verification,
        AuthError::InvalidRequest,
        AuthError::PayloadTooLarge,
        AuthError::ReauthRequired,
        AuthError::WeakPassword,
        AuthError::PasswordMismatch,
        AuthError::EmailNotVerified,
        AuthError::SignUpClosed,
        AuthError::OAuthSignin,
        AuthError::OAuthCallback,
        AuthError::OAuthAccountNotLinked,
        AuthError::EmailSignin,
        AuthError::LastSignInMethod,
        AuthError::SecondFactorRequired,
        AuthError::InvalidCode,
        AuthError::CodeAlreadyUsed,
        AuthError::PasskeyRefused,
        AuthError::Default,
    ];

    /// The NextAuth error code, as used in `?error=`.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::CredentialsSignin => "CredentialsSignin",
            AuthError::SessionRequired => "SessionRequired",
            AuthError::AccessDenied => "AccessDenied",
            AuthError::MissingCSRF => "MissingCSRF",
            AuthError::InvalidCallbackUrl => "InvalidCallbackUrl",
            AuthError::RateLimited => "RateLimited",
            AuthError::ServiceUnavailable => "ServiceUnavailable",
            AuthError::Configuration => "Configuration",
            AuthError::Signin => "Signin",
            AuthError::Callback => "Callback",
            AuthError::Verification => "Verification",
            AuthError::InvalidRequest => "InvalidRequest",
            AuthError::PayloadTooLarge => "PayloadTooLarge",
            AuthError::ReauthRequired => "ReauthRequired",
            AuthError::WeakPassword => "WeakPassword",
            AuthError::PasswordMismatch => "PasswordMismatch",
            AuthError::EmailNotVerified => "EmailNotVerified",
            AuthError::SignUpClosed => "SignUpClosed",
            AuthError::OAuthSignin => "OAuthSignin",
            AuthError::OAuthCallback => "OAuthCallback",
            AuthError::OAuthAccountNotLinked => "OAuthAccountNotLinked",
            AuthError::EmailSignin => "EmailSignin",
            AuthError::LastSignInMethod => "LastSignInMethod",
            AuthError::SecondFactorRequired => "SecondFactorRequired",
            AuthError::InvalidCode => "InvalidCode",
            AuthError::CodeAlreadyUsed => "CodeAlreadyUsed",
            AuthError::PasskeyRefused => "PasskeyRefused",
            AuthError::Default => "default",
        }
    }

    /// Parses a code from `?error=`; unknown codes read as [`AuthError::Default`],
    /// so a crafted query can only ever show one of the catalog's messages.
    pub fn from_code(code: &str) -> AuthError {
        AuthError::ALL
            .into_iter()
            .find(|e| e.code() == code)
            .unwrap_or(AuthError::Default)
    }

    /// The HTTP status this error is answered with.
    pub fn status(self) -> u16 {
        match self {
            AuthError::CredentialsSignin
            | AuthError::SessionRequired
            | AuthError::SecondFactorRequired
            | AuthError::InvalidCode
            | AuthError::CodeAlreadyUsed
            | AuthError::PasskeyRefused => 401,
            AuthError::AccessDenied
            | AuthError::MissingCSRF
            | AuthError::Verification
            | AuthError::ReauthRequired
            | AuthError::EmailNotVerified
            | AuthError::SignUpClosed
            | AuthError::OAuthAccountNotLinked => 403,
            AuthError::OAuthCallback => 400,
            AuthError::OAuthSignin => 502,
            AuthError::EmailSignin => 503,
            AuthError::LastSignInMethod => 409,
            AuthError::InvalidCallbackUrl
            | AuthError::InvalidRequest
            | AuthError::WeakPassword
            | AuthError::PasswordMismatch
            | AuthError::Default => 400,
            AuthError::PayloadTooLarge => 413,
            AuthError::RateLimited => 429,
            AuthError::ServiceUnavailable => 503,
            AuthError::Configuration | AuthError::Signin | AuthError::Callback => 500,
        }
    }

    /// The status of `/api/auth/error?error=CODE` when it renders the error page:
    /// NextAuth's (`Configuration` 500, `AccessDenied` and `Verification` 403,
    /// anything else 200), plus Sesame's typed errors with their own status.
    pub fn error_page_status(self) -> u16 {
        match self {
            AuthError::Configuration => 500,
            AuthError::AccessDenied | AuthError::Verification | AuthError::MissingCSRF => 403,
            AuthError::InvalidCallbackUrl | AuthError::InvalidRequest => 400,
            AuthError::PayloadTooLarge => 413,
            AuthError::RateLimited => 429,
            AuthError::ServiceUnavailable => 503,
            _ => 200,
        }
    }

    /// Codes that `/api/auth/error` hands back to the sign-in page (NextAuth's
    /// sign-in errors) instead of rendering the error page.
    pub fn redirects_to_sign_in_page(self) -> bool {
        matches!(
            self,
            AuthError::CredentialsSignin
                | AuthError::SessionRequired
                | AuthError::Signin
                | AuthError::Callback
                | AuthError::OAuthSignin
                | AuthError::OAuthCallback
                | AuthError::OAuthAccountNotLinked
                | AuthError::EmailSignin
        )
    }

    /// Errors shown on the sign-in page itself rather than on the error page:
    /// NextAuth's sign-in errors, and Sesame's "try again" refusals.
    pub fn belongs_on_sign_in_page(self) -> bool {
        self.redirects_to_sign_in_page()
            || matches!(
                self,
                AuthError::MissingCSRF
                    | AuthError::RateLimited
                    | AuthError::ServiceUnavailable
                    | AuthError::EmailNotVerified
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_fall_back() {
        for e in AuthError::ALL {
            assert_eq!(AuthError::from_code(e.code()), e);
        }
        assert_eq!(AuthError::from_code("<script>"), AuthError::Default);
    }

    #[test]
    fn statuses_follow_the_contract() {
        assert_eq!(AuthError::CredentialsSignin.status(), 401);
        assert_eq!(AuthError::MissingCSRF.status(), 403);
        assert_eq!(AuthError::InvalidCallbackUrl.status(), 400);
        assert_eq!(AuthError::RateLimited.status(), 429);
        assert_eq!(AuthError::ServiceUnavailable.status(), 503);
    }
}
