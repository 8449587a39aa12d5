//! The signing secret: configured, read from a file, or (in development only)
//! generated once into the data folder; and the previous ones, still accepted.

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
        crate::server::files::create_private_dir(&self.data_dir)
            .and_then(|_| crate::server::files::write_private(&path, &generated))
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
