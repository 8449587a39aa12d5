//! Wire types shared by the server and the WASM client: what `/api/auth/*` answers
//! and what `sign_in` returns.

use serde::{Deserialize, Serialize};

use crate::wire::AuthError;

/// The client-safe user of a session (NextAuth's `session.user`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// The display name, if any.
    pub name: Option<String>,
    /// The user's email.
    pub email: String,
    /// An image URL, if any.
    pub image: Option<String>,
}

/// The client-safe session: what GET `/api/auth/session` answers when signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who is signed in.
    pub user: SessionUser,
    /// When the session ends unless renewed, ISO-8601 (RFC 3339) in UTC.
    pub expires: String,
    /// Fields the `session` callback adds.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One of the signed-in user's sessions, as the sessions list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Its handle: what [`revoke_session`](crate::client::revoke_session) takes.
    pub id: String,
    /// Whether it is the session of the request that asked.
    pub current: bool,
    /// When it signed in, RFC 3339.
    pub signed_in_at: String,
    /// When it was last seen (renewed at most every quarter of the idle
    /// timeout), RFC 3339.
    pub last_seen: String,
    /// The client address it signed in from, if known.
    pub ip: Option<String>,
    /// The browser, as its `User-Agent` told ("Firefox 128 on Linux").
    pub browser: String,
}

/// The signed-in user's second factors (GET `/api/auth/account/security`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Security {
    /// Whether an authenticator app (TOTP) is confirmed.
    pub authenticator: bool,
    /// An authenticator app being set up: shown until a code confirms it.
    pub enrolment: Option<TotpEnrolment>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// Browsers trusted to skip the second factor.
    pub trusted_browsers: Vec<TrustedBrowser>,
    /// How this session signed in (`pwd`, `otp`, `oauth:github`…).
    pub amr: Vec<String>,
    /// When this session last passed a second factor, RFC 3339.
    pub second_factor_at: Option<String>,
    /// Whether the site offers passkeys.
    pub passkeys_enabled: bool,
    /// The account's passkeys, oldest first.
    pub passkeys: Vec<PasskeyInfo>,
}

/// One of the account's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PasskeyInfo {
    /// Its id: what renaming and removing take.
    pub id: i64,
    /// The name the user gave it.
    pub name: String,
    /// When it was added, RFC 3339.
    pub created_at: String,
    /// When it last signed in, RFC 3339.
    pub last_used_at: Option<String>,
}

/// An authenticator app being set up.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// The secret, base32 in groups of four, for typing.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code, an inline SVG drawn by the server.
    pub qr_svg: String,
}

/// A browser trusted to skip the second factor.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrustedBrowser {
    /// Its id: what forgetting it takes.
    pub id: String,
    /// The browser, as its `User-Agent` told.
    pub browser: String,
    /// When it was trusted, RFC 3339.
    pub trusted_at: String,
    /// When the trust ends, RFC 3339.
    pub expires: String,
}

/// Recovery codes, shown once (after an authenticator app is confirmed, or
/// new ones on demand), with the way back.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecoveryCodes {
    /// Where to go back to.
    pub url: String,
    /// The error code, on a failure.
    pub error: Option<String>,
    /// The codes (empty on a failure).
    pub codes: Vec<String>,
}

/// The signed-in user's ways to sign in through providers (GET
/// `/api/auth/account/connections`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Connections {
    /// The provider accounts linked to the user.
    pub connected: Vec<Connection>,
    /// Every configured provider: `(id, name)`.
    pub providers: Vec<(String, String)>,
    /// Whether the user has a password (else the last link cannot go).
    pub has_password: bool,
}

/// A provider account linked to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// The provider's id.
    pub provider: String,
    /// The provider's name.
    pub name: String,
    /// The account's id at the provider.
    pub account_id: String,
    /// The address the provider gave.
    pub email: Option<String>,
    /// When it was linked, RFC 3339.
    pub connected_at: String,
}

/// Answer of GET `/api/auth/csrf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsrfResponse {
    #[serde(rename = "csrfToken")]
    /// The CSRF token for the next state-changing request.
    pub csrf_token: String,
}

/// The JSON body of every `json=true` answer of the callback and sign-out routes:
/// `url` always (next-auth/react reads the error from it), `error` on a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlResponse {
    /// Where to go: the `callbackUrl`, or the error page with `?error=`.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The error code of a failure.
    pub error: Option<String>,
    /// Sesame: a successful sign-in also carries the new session, so the client
    /// updates its state without another round trip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    /// Sesame: the CSRF token rotated by a sign-in or sign-out (the one before
    /// no longer verifies), so the page can go on without fetching one.
    #[serde(rename = "csrfToken", default, skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// Which provider `sign_in` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// Email and password, checked by the server's `authorize`.
    Credentials,
    /// An OAuth 2.0 or OpenID Connect provider, by its id (`github`): the
    /// browser goes to the provider and comes back signed in.
    OAuth(String),
    /// A sign-in link sent to `SignInOptions::email` (NextAuth's Email provider).
    Email,
}

impl Provider {
    /// An OAuth 2.0 or OpenID Connect provider by its id.
    pub fn oauth(id: impl Into<String>) -> Provider {
        Provider::OAuth(id.into())
    }

    /// The provider's id in the routes (`credentials`, `github`, `email`).
    pub fn id(&self) -> &str {
        match self {
            Provider::Credentials => "credentials",
            Provider::OAuth(id) => id,
            Provider::Email => "email",
        }
    }
}

/// What `sign_in(Provider::Credentials, ..)` returns when `redirect` is false
/// (next-auth/react's `SignInResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInResponse {
    /// The error code on a failure (`CredentialsSignin`, `MissingCSRF`, ...).
    pub error: Option<AuthError>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Whether the sign-in went through.
    pub ok: bool,
    /// Where to go next on success; `None` on a failure.
    pub url: Option<String>,
}

/// Name of the `<meta>` element that carries the CSRF token into the page, so the
/// client can sign in with one round trip instead of NextAuth's three.
pub const CSRF_META_NAME: &str = "sesame-csrf-token";

/// Color scheme of the built-in pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorScheme {
    /// Follow the browser's preference.
    #[default]
    Auto,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

impl ColorScheme {
    /// `auto`, `dark` or `light`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColorScheme::Auto => "auto",
            ColorScheme::Dark => "dark",
            ColorScheme::Light => "light",
        }
    }
}

/// NextAuth's `theme`: how the built-in pages look.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    #[serde(default)]
    /// `auto` (the user's preference), `dark` or `light`.
    pub color_scheme: ColorScheme,
    /// Accent color (`#rrggbb`), for buttons and links.
    #[serde(default)]
    pub brand_color: Option<String>,
    /// Logo shown above the form (a path or URL).
    #[serde(default)]
    pub logo: Option<String>,
    /// Button text color (`#rrggbb`).
    #[serde(default)]
    pub button_text: Option<String>,
}

impl Theme {
    /// The inline CSS custom properties the colors become.
    pub fn css_vars(&self) -> Option<String> {
        let mut css = String::new();
        if let Some(c) = &self.brand_color {
            css.push_str(&format!("--brand: {c};"));
        }
        if let Some(c) = &self.button_text {
            css.push_str(&format!("--brand-text: {c};"));
        }
        (!css.is_empty()).then_some(css)
    }
}

/// Name of the `<meta>` element that carries the page's session (JSON, empty
/// when signed out) to the browser, where the islands share it.
pub const SESSION_META_NAME: &str = "sesame-session";

/// The fields every action takes besides its own, under the contract's
/// names: the CSRF token, the page to go back to, and whether the caller
/// wants JSON (`json=true`, a `fetch`) rather than a redirect (a plain form
/// post).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActionFields {
    /// `csrfToken`.
    #[serde(rename = "csrfToken")]
    pub csrf_token: String,
    /// `callbackUrl`: where to go back to (through the `callbackUrl` policy).
    #[serde(rename = "callbackUrl")]
    pub callback_url: Option<String>,
    /// `json`: `"true"` for a JSON answer.
    pub json: Option<String>,
}
