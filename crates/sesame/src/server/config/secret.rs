//! The signing secret: configured, or read from a file (in development only,
//! the file is created with a random secret when missing, and with neither a
//! random secret lives as long as the process); and the previous ones, still
//! accepted.

use secrecy::ExposeSecret;

use super::{Config, ConfigError, Environment};

impl Config {
    /// The previous secrets, for verification only.
    pub fn previous_secrets(&self) -> Result<Vec<Vec<u8>>, ConfigError> {
        self.previous_secrets
            .iter()
            .map(|s| check_secret("previous_secrets", s.expose_secret().as_bytes().to_vec()))
            .collect()
    }

    /// The secret bytes: `secret`, else the first line of `secret_file`. In
    /// development only, a missing `secret_file` is created with a random
    /// secret, and with neither key the secret is random for this process
    /// (sessions end with it).
    pub fn resolve_secret(&self) -> Result<Vec<u8>, ConfigError> {
        if let Some(secret) = &self.secret {
            return check_secret("secret", secret.expose_secret().as_bytes().to_vec());
        }
        let development = self.environment == Environment::Development;
        if let Some(file) = &self.secret_file {
            if development && !file.exists() {
                return generate_into(file);
            }
            let text = std::fs::read_to_string(file).map_err(|e| {
                ConfigError::invalid(
                    "secret_file",
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            let line = text.lines().next().unwrap_or("").trim().as_bytes().to_vec();
            return check_secret("secret_file", line);
        }
        if !development {
            return Err(ConfigError::invalid(
                "secret",
                "a secret is required outside development: set SESAME_SECRET \
                 (e.g. `openssl rand -hex 32`) or secret_file",
            ));
        }
        tracing::warn!(
            "development: no `secret` or `secret_file`, so a random secret for this \
             process only (sessions end when it stops)"
        );
        Ok(hex::encode(rand::random::<[u8; 32]>()).into_bytes())
    }
}

/// Development: writes a new random secret to `file` (private to its owner,
/// its folder created if missing) and returns it.
fn generate_into(file: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    let generated = hex::encode(rand::random::<[u8; 32]>());
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    crate::server::defense::files::create_private_dir(dir)
        .and_then(|_| crate::server::defense::files::write_private(file, &generated))
        .map_err(|e| {
            ConfigError::invalid(
                "secret_file",
                format!("cannot write {}: {e}", file.display()),
            )
        })?;
    tracing::warn!(path = %file.display(), "development: generated a secret");
    Ok(generated.into_bytes())
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
