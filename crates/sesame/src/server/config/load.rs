//! Where the configuration comes from: a TOML file and the `SESAME_*`
//! environment (or TOML text, for tests and embedding), with the
//! application's own top-level keys set aside.

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::Serialize;

use super::{Config, ConfigError};

impl Config {
    /// Sesame's top-level keys.
    pub const KEYS: &'static [&'static str] = &[
        "environment",
        "site",
        "pages",
        "session",
        "theme",
        "database",
        "redis",
        "secret",
        "secret_file",
        "previous_secrets",
        "limits",
        "audit",
        "email",
        "accounts",
        "providers",
        "email_sign_in",
        "passkeys",
    ];

    /// Reads `path` (if it exists) and the `SESAME_*` environment, then checks
    /// the result. Every top-level key must be Sesame's.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        Self::from_figment(Self::sources(path), &[])
    }

    /// Where [`load`](Config::load) reads from: `path` (if it exists), then the
    /// `SESAME_*` environment (`SESAME_SECTION__KEY`). An application reads its
    /// own keys from the same sources and passes their names to
    /// [`from_figment`](Config::from_figment).
    pub fn sources(path: &std::path::Path) -> Figment {
        Figment::new().merge(Toml::file(path)).merge(
            Env::prefixed("SESAME_")
                // Read by the command line, not configuration keys.
                .filter(|key| key != "config" && key != "new_password")
                .split("__"),
        )
    }

    /// Builds a configuration from TOML text and explicit overrides, without the
    /// environment: for tests and embedding.
    pub fn from_toml_str(toml: &str) -> Result<Config, ConfigError> {
        Self::from_figment(Figment::new().merge(Toml::string(toml)), &[])
    }

    /// Builds a configuration from TOML layers, each merged over the ones before.
    pub fn from_toml_layers(layers: &[&str]) -> Result<Config, ConfigError> {
        Self::from_figment(Self::layers(layers), &[])
    }

    /// TOML layers as a [`Figment`], each merged over the ones before.
    pub fn layers(layers: &[&str]) -> Figment {
        layers
            .iter()
            .fold(Figment::new(), |f, layer| f.merge(Toml::string(layer)))
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
        Self::from_figment(figment, &[])
    }

    /// Sesame's configuration out of `figment`, checked. A top-level key that
    /// is neither Sesame's nor one of `app_keys` (the application's own, which
    /// it reads from the same figment) is an error naming it.
    pub fn from_figment(figment: Figment, app_keys: &[&str]) -> Result<Config, ConfigError> {
        let keys: figment::value::Dict = figment.extract().map_err(Box::new)?;
        if let Some(unknown) = keys
            .keys()
            .find(|k| !Self::KEYS.contains(&k.as_str()) && !app_keys.contains(&k.as_str()))
        {
            return Err(ConfigError::Unknown(unknown.clone()));
        }
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }
}
