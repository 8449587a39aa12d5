//! Configuration: `Leptos.toml` plus `SESAME_*` environment overrides.
//!
//! Keys are `section.key` in the file and `SESAME_SECTION__KEY` in the environment
//! (`SESAME_PAGES__SIGN_IN=/sign-in`, `SESAME_SECRET=...`). A bad or missing value
//! stops start-up with an error that names the key.
//!
//! This module is the schema (the keys, their types and defaults); `load`
//! reads it from its sources, `validate` checks it as a whole, and `secret`
//! resolves the signing secret.

mod load;
pub mod providers;
mod secret;
mod validate;

use std::{path::PathBuf, time::Duration};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Where the app runs: development allows a generated secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A generated secret is allowed and a demo user may be created.
    Development,
    #[default]
    /// A secret is required (the default).
    Production,
}

/// The whole auth configuration. Its top-level keys share the file with the
/// application's own (see [`Config::from_figment`]); any other key is an error.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(default)]
    /// `development` or `production` (the default).
    pub environment: Environment,
    /// The site: its URL, allowed origins, proxies.
    pub site: SiteConfig,
    #[serde(default)]
    /// Your own pages instead of the built-in ones.
    pub pages: PagesConfig,
    #[serde(default)]
    /// Session lifetimes and the session cache.
    pub session: SessionConfig,
    /// How the built-in pages look (NextAuth's `theme`).
    #[serde(default)]
    pub theme: crate::wire::Theme,
    /// Where users and sessions are stored.
    pub database: DatabaseConfig,
    /// Shared counters and session cache for several instances.
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// The secret that keys CSRF tokens. Required in production.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// A file holding the secret (its first line), instead of `secret`; in
    /// development, created with a random secret when missing.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Earlier secrets, still accepted when verifying, so the secret can be
    /// rotated without breaking open forms.
    #[serde(default)]
    pub previous_secrets: Vec<SecretString>,
    /// Rate limits and hashing bounds.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// What the audit events say about the account they concern.
    #[serde(default)]
    pub audit: AuditConfig,
    /// How account emails (password reset, verification) are delivered.
    #[serde(default)]
    pub email: EmailConfig,
    /// Sign-up and email verification.
    #[serde(default)]
    pub accounts: AccountsConfig,
    /// The OAuth 2.0 and OpenID Connect providers (`[[providers]]`).
    #[serde(default)]
    pub providers: Vec<providers::ProviderConfig>,
    /// The email provider: sign-in links (NextAuth's Email provider).
    #[serde(default)]
    pub email_sign_in: EmailSignInConfig,
    /// Passkeys (WebAuthn): sign-in and second factor.
    #[serde(default)]
    pub passkeys: PasskeysConfig,
}

/// Passkeys (`[passkeys]`). The relying party is the site: its id is the
/// host of `site.url`, its origin that URL's. Browsers refuse an IP address
/// as the relying party, so by default (`enabled` unset) passkeys are on
/// for a site named by a host name (`localhost` included) and off, with a
/// warning, for one named by an IP address; `enabled = true` there stops
/// start-up.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeysConfig {
    /// On, off, or unset: on for a site with a host name.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The email provider (`[email_sign_in]`): a single-use link that signs in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSignInConfig {
    /// Whether the sign-in pages offer it (`false`).
    #[serde(default)]
    pub enabled: bool,
    /// How long a link works (10 minutes).
    #[serde(with = "humantime_serde", default = "default_link_ttl")]
    pub link_ttl: Duration,
}

impl Default for EmailSignInConfig {
    fn default() -> Self {
        EmailSignInConfig {
            enabled: false,
            link_ttl: default_link_ttl(),
        }
    }
}

fn default_link_ttl() -> Duration {
    Duration::from_secs(10 * 60)
}

/// Sign-up and email verification.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    /// Who may create an account: `off` (the default), `open`, or `invite`.
    #[serde(default)]
    pub sign_up: SignUpMode,
    /// Whether an account whose email is not confirmed may sign in (`false`).
    #[serde(default)]
    pub unverified_sign_in: bool,
    /// How long a verification (or invitation) link works (24 hours).
    #[serde(with = "humantime_serde", default = "default_verification_ttl")]
    pub verification_ttl: Duration,
    /// Whether confirming a new account's address signs the browser in
    /// (`true`), as far as the application's `Authorize::user_for` allows.
    #[serde(default = "yes")]
    pub sign_in_after_verification: bool,
    /// `optional` (the default) or `required`: a user without a second
    /// factor is then sent to set one up right after the first factor,
    /// before any other page.
    #[serde(default)]
    pub second_factor: SecondFactorPolicy,
}

/// Whether accounts must have a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecondFactorPolicy {
    /// Users choose.
    #[default]
    Optional,
    /// A user without one sets one up before any other page.
    Required,
}

fn yes() -> bool {
    true
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            sign_up: SignUpMode::Off,
            unverified_sign_in: false,
            verification_ttl: default_verification_ttl(),
            sign_in_after_verification: true,
            second_factor: SecondFactorPolicy::Optional,
        }
    }
}

fn default_verification_ttl() -> Duration {
    Duration::from_secs(24 * 60 * 60)
}

/// Who may create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignUpMode {
    /// Nobody: accounts are made by an administrator.
    #[default]
    Off,
    /// Anyone with an email address.
    Open,
    /// Whoever has an invitation link for their address.
    Invite,
}

/// Email delivery: SMTP when `smtp` is set; otherwise, in development, files
/// in `outbox` (their links logged).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The sender, `Name <address>` or an address.
    #[serde(default = "default_from")]
    pub from: String,
    /// SMTP delivery.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// Development without SMTP: the folder messages are written to.
    #[serde(default)]
    pub outbox: Option<PathBuf>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            from: default_from(),
            smtp: None,
            outbox: None,
        }
    }
}

fn default_from() -> String {
    "Sesame <no-reply@localhost>".into()
}

/// An SMTP server. Credentials come from the environment
/// (`SESAME_EMAIL__SMTP__PASSWORD`) or a file, never from the repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: String,
    /// Its port (default: 587 for STARTTLS, 465 for TLS, 25 for none).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (the default), `tls`, or `none` (loopback servers only).
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The user name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// The password (set it through the environment).
    #[serde(default)]
    pub password: Option<SecretString>,
    /// A file whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain, upgraded with STARTTLS (required).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// No encryption: only for a server on this machine.
    None,
}

/// How audit events name the account an attempt targeted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAccount {
    /// A keyed hash of the normalised identifier (HMAC with the secret): the
    /// same account always gives the same value, and a log reader learns no
    /// address.
    #[default]
    Hashed,
    /// The normalised identifier itself.
    Plain,
}

/// The audit events' settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// `hashed` (default) or `plain`.
    #[serde(default)]
    pub account: AuditAccount,
}

/// The site itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's public URL (`http://127.0.0.1:3000`): its origin is the one
    /// state-changing requests must come from, and `callbackUrl`s are resolved against it.
    pub url: Url,
    /// Other origins a `callbackUrl` may send the user to (the redirect
    /// allow-list). Nothing else: posting to this site from them is
    /// `request_origins`.
    #[serde(default)]
    pub redirect_origins: Vec<Url>,
    /// Other origins whose pages may make state-changing requests (sign-in,
    /// sign-out, server functions) to this site. Nothing else: sending users
    /// there after sign-in is `redirect_origins`.
    #[serde(default)]
    pub request_origins: Vec<Url>,
    /// Cookies get `Secure` and the `__Host-` prefix. Default: the site URL is https.
    #[serde(default)]
    pub secure_cookies: Option<bool>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (exact addresses;
    /// IPv4-mapped IPv6 addresses are read as IPv4). Without them the client
    /// IP is the socket's peer.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// A rate: at most `count` attempts per `per`, refilled evenly (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How many attempts.
    pub count: u32,
    /// In how long.
    pub per: Duration,
}

impl std::str::FromStr for Rate {
    type Err = String;
    /// `"10/5min"`, `"100/1h"`.
    fn from_str(s: &str) -> Result<Rate, String> {
        let (count, per) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not of the form COUNT/DURATION, like 10/5min"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{count}` is not a whole number"))?;
        let per = humantime::parse_duration(per.trim()).map_err(|e| format!("`{per}`: {e}"))?;
        if count == 0 || per.is_zero() {
            return Err("a rate needs a count and a duration above zero".into());
        }
        Ok(Rate { count, per })
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rate, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Rate limits on sign-in and the bound on concurrent password hashing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Sign-in attempts per client IP.
    #[serde(default = "default_ip_rate")]
    pub sign_in_per_ip: Rate,
    /// IPv6 clients are counted per network of this prefix length (a /64 is
    /// what one subscriber usually gets); IPv4 per address.
    #[serde(default = "default_ipv6_prefix")]
    pub ipv6_prefix: u8,
    /// The per-account failure policy (replaces a per-account rate).
    #[serde(default)]
    pub lockout: LockoutConfig,
    /// Password hashes computed at once (0: one per core).
    #[serde(default)]
    pub hash_concurrency: usize,
    /// Sign-ins allowed to wait for a hashing slot; beyond it, 503 at once.
    #[serde(default = "default_hash_queue")]
    pub hash_queue: usize,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_body_limit")]
    pub body_bytes: usize,
    /// Messages the server sends to one address (sign-up, verification,
    /// reset, email change, notices).
    #[serde(default = "default_mail_per_recipient")]
    pub mail_per_recipient: Rate,
    /// Messages the server sends for one account, to any address.
    #[serde(default = "default_mail_per_account")]
    pub mail_per_account: Rate,
    /// Account actions (end sessions, change the password or the address,
    /// delete) one session may take.
    #[serde(default = "default_actions_per_session")]
    pub account_actions_per_session: Rate,
    /// Account actions one account may take, from all its sessions.
    #[serde(default = "default_actions_per_account")]
    pub account_actions_per_account: Rate,
    /// With Redis, at most this many keys per limit (the per-IP limit, each
    /// budget) are kept, the least recently used deleted first, so a flood
    /// of distinct addresses cannot fill Redis.
    #[serde(default = "default_tracked_keys")]
    pub tracked_keys: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            sign_in_per_ip: default_ip_rate(),
            ipv6_prefix: default_ipv6_prefix(),
            lockout: LockoutConfig::default(),
            hash_concurrency: 0,
            hash_queue: default_hash_queue(),
            body_bytes: default_body_limit(),
            mail_per_recipient: default_mail_per_recipient(),
            mail_per_account: default_mail_per_account(),
            account_actions_per_session: default_actions_per_session(),
            account_actions_per_account: default_actions_per_account(),
            tracked_keys: default_tracked_keys(),
        }
    }
}

fn default_tracked_keys() -> u64 {
    100_000
}
fn default_mail_per_recipient() -> Rate {
    Rate {
        count: 5,
        per: Duration::from_secs(3600),
    }
}
fn default_mail_per_account() -> Rate {
    Rate {
        count: 10,
        per: Duration::from_secs(3600),
    }
}
fn default_actions_per_session() -> Rate {
    Rate {
        count: 20,
        per: Duration::from_secs(600),
    }
}
fn default_actions_per_account() -> Rate {
    Rate {
        count: 60,
        per: Duration::from_secs(600),
    }
}

fn default_ip_rate() -> Rate {
    Rate {
        count: 30,
        per: Duration::from_secs(60),
    }
}
fn default_ipv6_prefix() -> u8 {
    64
}

/// Failed sign-ins per account, after NIST SP 800-63B: only failures count and a
/// success resets them; the first `free_failures` cost nothing, each one after
/// makes the next attempt wait (`first_wait`, doubling up to `max_wait`), and
/// after `max_failures` in a row the account takes no attempt until a success
/// from a trusted device resets it. A browser that signed in to the account
/// before (its device cookie) has a counter of its own, so an attacker's
/// failures never lock the owner out. Unknown identifiers follow the same
/// policy, so a lock reveals nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockoutConfig {
    #[serde(default = "default_free_failures")]
    /// Failures allowed before the first wait.
    pub free_failures: u32,
    #[serde(with = "humantime_serde", default = "default_first_wait")]
    /// The first wait; each failure after it doubles the wait.
    pub first_wait: Duration,
    #[serde(with = "humantime_serde", default = "default_max_wait")]
    /// The longest wait.
    pub max_wait: Duration,
    #[serde(default = "default_max_failures")]
    /// Failures after which only a success from a trusted device resets the account.
    pub max_failures: u32,
    /// A counter below the lock that sees no attempt for this long is forgotten.
    #[serde(with = "humantime_serde", default = "default_forget_after")]
    pub forget_after: Duration,
    /// At most this many accounts (and devices) are tracked at once, so a flood
    /// of distinct identifiers cannot grow memory; the least used go first.
    #[serde(default = "default_tracked")]
    pub tracked: u64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        LockoutConfig {
            free_failures: default_free_failures(),
            first_wait: default_first_wait(),
            max_wait: default_max_wait(),
            max_failures: default_max_failures(),
            forget_after: default_forget_after(),
            tracked: default_tracked(),
        }
    }
}

fn default_free_failures() -> u32 {
    5
}
fn default_first_wait() -> Duration {
    Duration::from_secs(30)
}
fn default_max_wait() -> Duration {
    Duration::from_secs(15 * 60)
}
fn default_max_failures() -> u32 {
    100
}
fn default_forget_after() -> Duration {
    Duration::from_secs(24 * 60 * 60)
}
fn default_tracked() -> u64 {
    100_000
}
fn default_hash_queue() -> usize {
    8
}
fn default_body_limit() -> usize {
    64 * 1024
}

/// Custom pages that replace the built-in ones (NextAuth's `pages`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesConfig {
    /// Your sign-in page (`/sign-in`): `/api/auth/signin` redirects there.
    pub sign_in: Option<String>,
    /// Your sign-out page.
    pub sign_out: Option<String>,
    /// Your error page.
    pub error: Option<String>,
    /// Your page for the second factors (with `<SecurityPanel>`), where
    /// `accounts.second_factor = "required"` sends users without one; the
    /// built-in `/api/auth/security` when unset.
    pub security: Option<String>,
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Absolute lifetime of a session from sign-in (NextAuth `maxAge`, 30 days).
    #[serde(with = "humantime_serde", default = "default_max_age")]
    pub max_age: Duration,
    /// A session unused for this long ends.
    #[serde(with = "humantime_serde", default = "default_idle_timeout")]
    pub idle_timeout: Duration,
    /// Absolute lifetime of a session signed in without "remember me" (12
    /// hours when unset, and never more than `max_age`); its cookie also ends
    /// with the browser session. Read it through [`SessionConfig::short_max_age`].
    #[serde(with = "humantime_serde", default)]
    pub short_max_age: Option<Duration>,
    /// How long session reads stay cached (`0s`: no cache): in this process,
    /// or in Redis when `redis.url` is set. Unset, it is 30 seconds, except on
    /// PostgreSQL without Redis, where several instances would each serve
    /// their own copy of an ended session: there it is `0s` unless set (read
    /// it through [`Config::session_cache_ttl`]).
    #[serde(with = "humantime_serde", default)]
    pub cache_ttl: Option<Duration>,
    /// How recent a sign-in must be for a sensitive action (ending sessions)
    /// without the password again (10 minutes).
    #[serde(with = "humantime_serde", default = "default_recent_sign_in")]
    pub recent_sign_in: Duration,
}

fn default_recent_sign_in() -> Duration {
    Duration::from_secs(10 * 60)
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_age: default_max_age(),
            idle_timeout: default_idle_timeout(),
            short_max_age: None,
            cache_ttl: None,
            recent_sign_in: default_recent_sign_in(),
        }
    }
}

impl SessionConfig {
    /// The lifetime of a session without "remember me": `short_max_age`, or 12
    /// hours, capped by `max_age` (the absolute cap of every session).
    pub fn short_max_age(&self) -> Duration {
        self.short_max_age
            .unwrap_or(Duration::from_secs(12 * 60 * 60))
            .min(self.max_age)
    }

    /// The lifetime of a session: `max_age` with "remember me", else
    /// [`Self::short_max_age`].
    pub fn lifetime(&self, remember: bool) -> Duration {
        if remember {
            self.max_age
        } else {
            self.short_max_age()
        }
    }
}

/// The user and session database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created if missing), `sqlite::memory:`, or
    /// `postgres://user:password@host/database`.
    pub url: String,
    /// Apply the migrations at start (default). Several instances may all
    /// do it (PostgreSQL: one at a time, under sqlx's lock), or run
    /// `migrate` once and start with `false`.
    #[serde(default = "yes")]
    pub migrate: bool,
    /// The most connections this instance holds (PostgreSQL; 10).
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered
    /// `503 ServiceUnavailable` (PostgreSQL; 3 s).
    #[serde(with = "humantime_serde", default = "default_acquire_timeout")]
    pub acquire_timeout: Duration,
}

fn default_max_connections() -> u32 {
    10
}
fn default_acquire_timeout() -> Duration {
    Duration::from_secs(3)
}

/// Redis, shared by several instances: the per-IP limit, the lockout
/// counters and the session cache live there (`redis.url` unset: in each
/// process).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db` (TLS, `rediss://`, is not compiled in).
    pub url: String,
    /// Prefix of every key Sesame writes (`sesame:`), to share a server.
    #[serde(default = "default_redis_prefix")]
    pub prefix: String,
    /// How long a command may take before the request gets `503` (2 s).
    #[serde(with = "humantime_serde", default = "default_redis_timeout")]
    pub timeout: Duration,
}

fn default_redis_prefix() -> String {
    "sesame:".to_string()
}
fn default_redis_timeout() -> Duration {
    Duration::from_secs(2)
}

fn default_max_age() -> Duration {
    Duration::from_secs(30 * 24 * 60 * 60)
}
fn default_idle_timeout() -> Duration {
    Duration::from_secs(7 * 24 * 60 * 60)
}

/// A configuration problem, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    /// The file or the environment could not be read into the schema.
    Parse(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    /// A value is out of range or does not fit with another.
    Invalid {
        /// The key at fault (`section.key`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    #[error("configuration key `{0}`: unknown key (Sesame's keys: {keys})", keys = Config::KEYS.join(", "))]
    /// A top-level key that is neither Sesame's nor the application's.
    Unknown(String),
}

impl ConfigError {
    pub(crate) fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// How long session reads stay cached: `session.cache_ttl`, or when unset
    /// 30 seconds, except `0s` on PostgreSQL without Redis (see
    /// [`SessionConfig::cache_ttl`]).
    pub fn session_cache_ttl(&self) -> Duration {
        let shared_database = !self.database.url.starts_with("sqlite:");
        self.session
            .cache_ttl
            .unwrap_or(if shared_database && self.redis.is_none() {
                Duration::ZERO
            } else {
                Duration::from_secs(30)
            })
    }

    /// Whether cookies are `Secure` (and `__Host-` prefixed).
    pub fn secure_cookies(&self) -> bool {
        self.site
            .secure_cookies
            .unwrap_or(self.site.url.scheme() == "https")
    }

    /// The site's origin, `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn origin(&self) -> String {
        self.site.url.origin().ascii_serialization()
    }

    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:3000`.
    pub fn base_url(&self) -> String {
        self.site.url.as_str().trim_end_matches('/').to_string()
    }
}

#[cfg(test)]
mod tests;
