//! Configuration: `Leptos.toml` plus `SESAME_*` environment overrides.
//!
//! Keys are `section.key` in the file and `SESAME_SECTION__KEY` in the environment
//! (`SESAME_PAGES__SIGN_IN=/sign-in`, `SESAME_SECRET=...`). A bad or missing value
//! stops start-up with an error that names the key.

use std::{path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

/// Where the app runs: development allows a generated secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    #[default]
    Production,
}

/// The whole auth configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub environment: Environment,
    pub site: SiteConfig,
    #[serde(default)]
    pub pages: PagesConfig,
    #[serde(default)]
    pub session: SessionConfig,
    /// How the built-in pages look (NextAuth's `theme`).
    #[serde(default)]
    pub theme: crate::auth::Theme,
    pub database: DatabaseConfig,
    /// The secret that keys CSRF tokens. Required in production.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// A file holding the secret (its first line), instead of `secret`.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Earlier secrets, still accepted when verifying, so the secret can be
    /// rotated without breaking open forms.
    #[serde(default)]
    pub previous_secrets: Vec<SecretString>,
    /// Rate limits and hashing bounds.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Where generated files (the development secret, the SQLite database) live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// A user to create at start-up if missing (the demo user of `make run`).
    /// Development only: a production start with one configured is refused.
    #[serde(default)]
    pub demo_user: Option<DemoUser>,
    /// What the audit events say about the account they concern.
    #[serde(default)]
    pub audit: AuditConfig,
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
    pub count: u32,
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
        }
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
    pub free_failures: u32,
    #[serde(with = "humantime_serde", default = "default_first_wait")]
    pub first_wait: Duration,
    #[serde(with = "humantime_serde", default = "default_max_wait")]
    pub max_wait: Duration,
    #[serde(default = "default_max_failures")]
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
    pub sign_in: Option<String>,
    pub sign_out: Option<String>,
    pub error: Option<String>,
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
    /// How long session reads stay cached in this process (`0s`: no cache).
    #[serde(with = "humantime_serde", default = "default_cache_ttl")]
    pub cache_ttl: Duration,
}

fn default_cache_ttl() -> Duration {
    Duration::from_secs(30)
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_age: default_max_age(),
            idle_timeout: default_idle_timeout(),
            short_max_age: None,
            cache_ttl: default_cache_ttl(),
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
    /// `sqlite://path/to/file.db` (created if missing) or `sqlite::memory:`.
    pub url: String,
}

/// A user created at start-up when missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoUser {
    pub email: String,
    pub password: SecretString,
    #[serde(default)]
    pub name: Option<String>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
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
    Parse(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl ConfigError {
    fn invalid(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key,
            message: message.into(),
        }
    }
}

impl Config {
    /// Reads `path` (if it exists) and the `SESAME_*` environment, then checks the result.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        Self::from_figment(
            Figment::new().merge(Toml::file(path)).merge(
                Env::prefixed("SESAME_")
                    // Read by the command line, not configuration keys.
                    .filter(|key| key != "config" && key != "new_password")
                    .split("__"),
            ),
        )
    }

    /// Builds a configuration from TOML text and explicit overrides, without the
    /// environment: for tests and embedding.
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(toml)))
    }

    /// Builds a configuration from TOML layers, each merged over the ones before.
    pub fn from_toml_layers(layers: &[&str]) -> Result<Config, ConfigError> {
        let figment = layers
            .iter()
            .fold(Figment::new(), |f, layer| f.merge(Toml::string(layer)));
        Self::from_figment(figment)
    }

    /// Overrides one dotted key (`pages.sign_in`) with a value.
    pub fn from_toml_str_with<T: Serialize>(
        toml: &str,
        overrides: &[(&str, T)],
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::new().merge(Toml::string(toml));
        for (key, value) in overrides {
            figment = figment.merge(Serialized::default(key, value));
        }
        Self::from_figment(figment)
    }

    fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = &self.site.url;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::invalid(
                "site.url",
                format!("`{url}` must be an absolute http or https URL"),
            ));
        }
        for (key, origins) in [
            ("site.redirect_origins", &self.site.redirect_origins),
            ("site.request_origins", &self.site.request_origins),
        ] {
            for origin in origins {
                if !matches!(origin.scheme(), "http" | "https") || origin.host_str().is_none() {
                    return Err(ConfigError::invalid(
                        key,
                        format!("`{origin}` must be an absolute http or https URL"),
                    ));
                }
            }
        }
        for (key, page) in [
            ("pages.sign_in", &self.pages.sign_in),
            ("pages.sign_out", &self.pages.sign_out),
            ("pages.error", &self.pages.error),
        ] {
            if let Some(page) = page {
                if !page.starts_with('/') || page.starts_with("//") || page.contains('\\') {
                    return Err(ConfigError::invalid(
                        key,
                        format!("`{page}` must be a path on this site, like `/sign-in`"),
                    ));
                }
            }
        }
        for (key, color) in [
            ("theme.brand_color", &self.theme.brand_color),
            ("theme.button_text", &self.theme.button_text),
        ] {
            if let Some(color) = color {
                let hex = color.strip_prefix('#').unwrap_or("");
                if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ConfigError::invalid(
                        key,
                        format!("`{color}` must be a hex color like `#0b5cad`"),
                    ));
                }
            }
        }
        if let Some(logo) = &self.theme.logo {
            let ok = (logo.starts_with('/') && !logo.starts_with("//"))
                || logo.starts_with("https://")
                || logo.starts_with("http://");
            if !ok
                || logo
                    .chars()
                    .any(|c| c.is_whitespace() || "\"'<>\\".contains(c))
            {
                return Err(ConfigError::invalid(
                    "theme.logo",
                    format!("`{logo}` must be a path or an http(s) URL"),
                ));
            }
        }
        if self.session.max_age.is_zero() {
            return Err(ConfigError::invalid(
                "session.max_age",
                "must be more than zero",
            ));
        }
        if let Some(short) = self.session.short_max_age {
            if short.is_zero() {
                return Err(ConfigError::invalid(
                    "session.short_max_age",
                    "must be more than zero",
                ));
            }
            if short > self.session.max_age {
                return Err(ConfigError::invalid(
                    "session.short_max_age",
                    format!(
                        "`{}` is longer than session.max_age (`{}`), the cap of every \
                         session: it can only shorten it",
                        humantime::format_duration(short),
                        humantime::format_duration(self.session.max_age)
                    ),
                ));
            }
        }
        if !(1..=128).contains(&self.limits.ipv6_prefix) {
            return Err(ConfigError::invalid(
                "limits.ipv6_prefix",
                "must be a prefix length from 1 to 128",
            ));
        }
        let lockout = &self.limits.lockout;
        if lockout.max_failures == 0 || lockout.max_failures > 100 {
            return Err(ConfigError::invalid(
                "limits.lockout.max_failures",
                "must be from 1 to 100 (NIST SP 800-63B's cap on consecutive failures)",
            ));
        }
        if lockout.free_failures >= lockout.max_failures {
            return Err(ConfigError::invalid(
                "limits.lockout.free_failures",
                "must be below limits.lockout.max_failures",
            ));
        }
        if lockout.first_wait.is_zero() || lockout.first_wait > lockout.max_wait {
            return Err(ConfigError::invalid(
                "limits.lockout.first_wait",
                "must be more than zero and at most limits.lockout.max_wait",
            ));
        }
        if lockout.tracked == 0 {
            return Err(ConfigError::invalid(
                "limits.lockout.tracked",
                "must be more than zero",
            ));
        }
        if self.demo_user.is_some() && self.environment != Environment::Development {
            return Err(ConfigError::invalid(
                "demo_user",
                "a demo user is for development only: remove [demo_user], or set \
                 environment = \"development\" on a machine nobody else reaches",
            ));
        }
        if self.limits.body_bytes < 1024 {
            return Err(ConfigError::invalid(
                "limits.body_bytes",
                "must be at least 1024",
            ));
        }
        if self.session.idle_timeout.is_zero() {
            return Err(ConfigError::invalid(
                "session.idle_timeout",
                "must be more than zero",
            ));
        }
        if !self.database.url.starts_with("sqlite:") {
            return Err(ConfigError::invalid(
                "database.url",
                format!("`{}` is not a sqlite: URL", self.database.url),
            ));
        }
        Ok(())
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

    /// The previous secrets, for verification only.
    pub fn previous_secrets(&self) -> Result<Vec<Vec<u8>>, ConfigError> {
        self.previous_secrets
            .iter()
            .map(|s| check_secret("previous_secrets", s.expose_secret().as_bytes().to_vec()))
            .collect()
    }

    /// The secret bytes: `secret`, else the first line of `secret_file`, else (in
    /// development only) a random secret kept in `data_dir/dev-secret`.
    pub fn resolve_secret(&self) -> Result<Vec<u8>, ConfigError> {
        if let Some(secret) = &self.secret {
            return check_secret("secret", secret.expose_secret().as_bytes().to_vec());
        }
        if let Some(file) = &self.secret_file {
            let text = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::invalid(
                    "secret_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            let line = text.lines().next().unwrap_or("").trim().as_bytes().to_vec();
            return check_secret("secret_file", line);
        }
        if self.environment == Environment::Production {
            return Err(ConfigError::invalid(
                "secret",
                "a secret is required outside development: set SESAME_SECRET \
                 (e.g. `openssl rand -hex 32`) or secret_file",
            ));
        }
        let path = self.data_dir.join("dev-secret");
        if let Ok(existing) = std::fs::read_to_string(&path) {
            return check_secret("secret", existing.trim().as_bytes().to_vec());
        }
        let generated = hex::encode(rand::random::<[u8; 32]>());
        super::files::create_private_dir(&self.data_dir)
            .and_then(|_| super::files::write_private(&path, &generated))
            .map_err(|e| {
                ConfigError::invalid("data_dir", format!("cannot write {}: {e}", path.display()))
            })?;
        tracing::warn!(path = %path.display(), "development: generated a secret");
        Ok(generated.into_bytes())
    }
}

fn check_secret(key: &'static str, bytes: Vec<u8>) -> Result<Vec<u8>, ConfigError> {
    if bytes.len() < 32 {
        return Err(ConfigError::invalid(
            key,
            "the secret must be at least 32 bytes long",
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [site]
        url = "http://127.0.0.1:3000"
        [database]
        url = "sqlite::memory:"
    "#;

    #[test]
    fn defaults_follow_nextauth() {
        let config = Config::from_toml_str(MINIMAL).unwrap();
        assert_eq!(config.session.max_age, Duration::from_secs(2_592_000));
        assert_eq!(config.environment, Environment::Production);
        assert!(!config.secure_cookies());
        assert_eq!(config.origin(), "http://127.0.0.1:3000");
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::from_toml_str_with(MINIMAL, &[("pages.sign_in", "sign-in")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("pages.sign_in"), "{err}");

        let err = Config::from_toml_str_with(MINIMAL, &[("session.max_age", "forever")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_age"), "{err}");

        let err = Config::from_toml_str_with(MINIMAL, &[("theme.brand_color", "red; x: y")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("theme.brand_color"), "{err}");

        let err = Config::from_toml_str_with(MINIMAL, &[("pages.error", "https://evil")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("pages.error"), "{err}");

        let err = Config::from_toml_str("[site]\nurl = \"http://x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("database"), "{err}");
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            "10/5min".parse::<Rate>().unwrap(),
            Rate {
                count: 10,
                per: Duration::from_secs(300)
            }
        );
        assert!("0/1s".parse::<Rate>().is_err());
        assert!("ten/1s".parse::<Rate>().is_err());
        let err = Config::from_toml_str_with(MINIMAL, &[("limits.sign_in_per_ip", "lots")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sign_in_per_ip"), "{err}");
    }

    #[test]
    fn secret_from_a_file_and_previous_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "from-a-file-from-a-file-from-a-file-0123\nignored").unwrap();
        let config =
            Config::from_toml_str_with(MINIMAL, &[("secret_file", file.to_str().unwrap())])
                .unwrap();
        assert_eq!(
            config.resolve_secret().unwrap(),
            b"from-a-file-from-a-file-from-a-file-0123".to_vec()
        );
        let config = Config::from_toml_layers(&[
            MINIMAL,
            "previous_secrets = [\"old-secret-old-secret-old-secret-old-1\", \"short\"]",
        ])
        .unwrap();
        let err = config.previous_secrets().unwrap_err().to_string();
        assert!(err.contains("previous_secrets"), "{err}");
    }

    #[test]
    fn short_sessions_never_outlive_max_age() {
        let config = Config::from_toml_str_with(MINIMAL, &[("session.max_age", "3m")]).unwrap();
        assert_eq!(config.session.short_max_age(), Duration::from_secs(180));
        assert_eq!(config.session.lifetime(false), Duration::from_secs(180));
        assert_eq!(config.session.lifetime(true), Duration::from_secs(180));
        let config = Config::from_toml_str(MINIMAL).unwrap();
        assert_eq!(
            config.session.lifetime(false),
            Duration::from_secs(12 * 3600)
        );
        let err = Config::from_toml_layers(&[
            MINIMAL,
            "[session]\nmax_age = \"1h\"\nshort_max_age = \"2h\"",
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("session.short_max_age"), "{err}");
    }

    #[test]
    fn lockout_and_ip_settings_are_checked() {
        for (layer, key) in [
            ("[limits.lockout]\nmax_failures = 101", "max_failures"),
            ("[limits.lockout]\nmax_failures = 0", "max_failures"),
            ("[limits.lockout]\nfree_failures = 100", "free_failures"),
            ("[limits.lockout]\nfirst_wait = \"1h\"", "first_wait"),
            ("[limits.lockout]\ntracked = 0", "tracked"),
            ("[limits]\nipv6_prefix = 0", "ipv6_prefix"),
            ("[limits]\nipv6_prefix = 129", "ipv6_prefix"),
            (
                "[limits]\nsign_in_per_account = \"10/5min\"",
                "sign_in_per_account",
            ),
            ("[site]\ntrusted_origins = []", "trusted_origins"),
        ] {
            let err = Config::from_toml_layers(&[MINIMAL, layer])
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{layer}: {err}");
        }
        let config = Config::from_toml_str(MINIMAL).unwrap();
        let lockout = &config.limits.lockout;
        assert_eq!(
            (
                lockout.free_failures,
                lockout.max_failures,
                lockout.max_wait
            ),
            (5, 100, Duration::from_secs(900))
        );
        assert_eq!(config.limits.ipv6_prefix, 64);
    }

    #[test]
    fn a_demo_user_needs_development() {
        let demo = "[demo_user]\nemail = \"d@example.com\"\npassword = \"open sesame, demo\"";
        let err = Config::from_toml_layers(&[MINIMAL, demo])
            .unwrap_err()
            .to_string();
        assert!(err.contains("demo_user"), "{err}");
        assert!(
            Config::from_toml_layers(&[MINIMAL, "environment = \"development\"", demo]).is_ok()
        );
    }

    #[test]
    fn production_requires_a_secret() {
        let config = Config::from_toml_str(MINIMAL).unwrap();
        let err = config.resolve_secret().unwrap_err().to_string();
        assert!(err.contains("`secret`"), "{err}");
        let short = Config::from_toml_str_with(MINIMAL, &[("secret", "short")]).unwrap();
        assert!(short.resolve_secret().is_err());
    }
}
