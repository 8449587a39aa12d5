//! The configuration checked as a whole: each value in range, and the
//! combinations that cannot work refused, naming the key.

use super::{Config, ConfigError};

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (i, provider) in self.providers.iter().enumerate() {
            let key = format!("providers[{i}]");
            provider.validate(&key)?;
            if self.providers[..i].iter().any(|p| p.id == provider.id) {
                return Err(ConfigError::invalid(
                    format!("{key}.id"),
                    format!("`{}` is the id of an earlier provider", provider.id),
                ));
            }
            provider.resolve_secret(&key, self.environment == super::Environment::Development)?;
        }
        if let Some(smtp) = &self.email.smtp {
            let loopback = matches!(
                smtp.host.as_str(),
                "localhost" | "127.0.0.1" | "::1" | "[::1]"
            );
            if smtp.security == super::SmtpSecurity::None && !loopback {
                return Err(ConfigError::invalid(
                    "email.smtp.security",
                    format!(
                        "`none` sends mail and passwords in clear: only for a server on this \
                         machine, not `{}` (use `starttls` or `tls`)",
                        smtp.host
                    ),
                ));
            }
        }
        if self.email.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::invalid(
                "email.from",
                format!(
                    "`{}` is not an address like `Name <no-reply@example.com>`",
                    self.email.from
                ),
            ));
        }
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
        if self.limits.tracked_keys == 0 {
            return Err(ConfigError::invalid(
                "limits.tracked_keys",
                "must be more than zero",
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
        let url = &self.database.url;
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !url.starts_with("sqlite:") && !postgres {
            return Err(ConfigError::invalid(
                "database.url",
                format!(
                    "`{}` is neither a sqlite: nor a postgres:// URL",
                    crate::server::stores::db::redact(url)
                ),
            ));
        }
        if postgres && !cfg!(feature = "postgres") {
            return Err(ConfigError::invalid(
                "database.url",
                "this build has no PostgreSQL driver (cargo feature `postgres`)",
            ));
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if let Some(redis) = &self.redis {
            if redis.url.starts_with("rediss://") {
                return Err(ConfigError::invalid(
                    "redis.url",
                    "TLS to Redis (rediss://) is not compiled in: use redis:// on a private \
                     network or a TLS tunnel",
                ));
            }
            if !redis.url.starts_with("redis://") {
                return Err(ConfigError::invalid("redis.url", "must be a redis:// URL"));
            }
            if !cfg!(feature = "redis") {
                return Err(ConfigError::invalid(
                    "redis.url",
                    "this build has no Redis client (cargo feature `redis`)",
                ));
            }
            if redis.timeout.is_zero() {
                return Err(ConfigError::invalid(
                    "redis.timeout",
                    "must be more than zero",
                ));
            }
        }
        Ok(())
    }
}
