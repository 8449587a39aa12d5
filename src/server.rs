//! The app's server half: its configuration (Sesame's keys plus the demo user
//! of `make run` and the administrators), the demo user, its own user type wired in, an example API route behind Sesame's guard,
//! and the axum app put together through [`sesame::server::Sesame`].
//! `main.rs` and the black-box tests both start the app through [`build`].

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{middleware, routing::get, Extension, Json, Router};
use leptos::prelude::LeptosOptions;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sesame::server::{
    config::{Config, ConfigError, Environment},
    require_auth, CurrentUser, NewPassword, Sesame, SesameBuilder, SessionData, StartError,
};

use crate::{
    app::{shell, App},
    user::{AppAuthorize, AppCallbacks, AppUser},
};

/// A user created at start-up when missing (development only).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoUser {
    pub email: String,
    pub password: SecretString,
    #[serde(default)]
    pub name: Option<String>,
}

/// The app's keys, beside Sesame's in `Leptos.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
struct AppKeys {
    #[serde(default)]
    demo_user: Option<DemoUser>,
    #[serde(default)]
    admins: Vec<String>,
    #[serde(default = "default_data_dir")]
    data_dir: PathBuf,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// Sesame's configuration and the app's own.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub auth: Config,
    /// The demo user of `make run`; a production start with one is refused.
    pub demo_user: Option<DemoUser>,
    /// Emails (lower-cased) of the users whose role is `admin`.
    pub admins: Vec<String>,
    /// Where the app keeps generated files: the development secret (and the
    /// database, by the default `database.url`).
    pub data_dir: PathBuf,
}

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("configuration: {0}")]
    AppConfig(#[from] Box<figment::Error>),
    #[error(
        "configuration key `demo_user`: a demo user is for development only: remove \
         [demo_user], or set environment = \"development\" on a machine nobody else reaches"
    )]
    DemoUserInProduction,
    #[error("demo user: {0}")]
    DemoUser(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("leptos options: {0}")]
    Leptos(String),
    #[error("{0}")]
    Cli(String),
}

impl AppConfig {
    /// The app's own top-level keys.
    const KEYS: &'static [&'static str] = &["demo_user", "admins", "data_dir"];

    /// `path` and the `SESAME_*` environment.
    pub fn load(path: &Path) -> Result<AppConfig, AppError> {
        Self::from_figment(Config::sources(path))
    }

    /// TOML layers, each over the ones before (tests).
    pub fn from_toml_layers(layers: &[&str]) -> Result<AppConfig, AppError> {
        Self::from_figment(Config::layers(layers))
    }

    fn from_figment(figment: figment::Figment) -> Result<AppConfig, AppError> {
        let mut auth = Config::from_figment(figment.clone(), Self::KEYS)?;
        let app: AppKeys = figment.extract().map_err(Box::new)?;
        // Development without a secret: Sesame keeps the one it generates in
        // the app's data folder, so sessions survive a restart.
        if auth.environment == Environment::Development
            && auth.secret.is_none()
            && auth.secret_file.is_none()
        {
            auth.secret_file = Some(app.data_dir.join("dev-secret"));
        }
        // Development without SMTP: account email goes to the data folder's
        // outbox (its links logged), so `make run` needs no mail server.
        if auth.environment == Environment::Development
            && auth.email.smtp.is_none()
            && auth.email.outbox.is_none()
        {
            auth.email.outbox = Some(app.data_dir.join("outbox"));
        }
        if app.demo_user.is_some() && auth.environment != Environment::Development {
            return Err(AppError::DemoUserInProduction);
        }
        Ok(AppConfig {
            auth,
            demo_user: app.demo_user,
            data_dir: app.data_dir,
            admins: app
                .admins
                .iter()
                .map(|email| email.trim().to_lowercase())
                .collect(),
        })
    }

    /// The demo user's email and password, to print (development only).
    pub fn demo_credentials(&self) -> Option<(String, String)> {
        self.demo_user
            .as_ref()
            .filter(|_| self.auth.environment == Environment::Development)
            .map(|d| (d.email.clone(), d.password.expose_secret().to_string()))
    }
}

/// Builds the app with Sesame's defaults.
pub async fn build(
    config: AppConfig,
    options: LeptosOptions,
) -> Result<(Router, Sesame), AppError> {
    build_with(config, options, |sesame| sesame).await
}

/// Like [`build`], with other parts (`authorize`, callbacks, events, user
/// store) set on the [`SesameBuilder`] after the app's own.
pub async fn build_with(
    config: AppConfig,
    options: LeptosOptions,
    customize: impl FnOnce(SesameBuilder<AppUser>) -> SesameBuilder<AppUser>,
) -> Result<(Router, Sesame), AppError> {
    let admins: Arc<[String]> = config.admins.into();
    let builder = Sesame::builder(config.auth)
        .authorize_with(move |passwords| AppAuthorize { passwords, admins })
        .callbacks(AppCallbacks)
        .routes(api());
    let sesame = customize(builder).build().await?;
    if let Some(demo) = &config.demo_user {
        ensure_demo_user(&sesame, demo).await?;
    }
    let app = sesame.mount(options, App, shell);
    Ok((app, sesame))
}

/// Plain axum API routes inside Sesame's layers (examples for apps): one
/// behind the guard layer, one with the extractor, one that serves anyone.
fn api() -> Router {
    Router::new()
        .route("/api/me", get(me))
        .route_layer(middleware::from_fn(require_auth))
        .route("/api/user", get(user))
        .route("/api/visitor", get(visitor))
}

/// GET `/api/user`: the signed-in user, through the extractor (302 or 401
/// when signed out).
async fn user(CurrentUser { user, .. }: CurrentUser<AppUser>) -> Json<AppUser> {
    Json(user)
}

/// GET `/api/visitor`: whether anyone is signed in (never refused).
async fn visitor(user: Option<CurrentUser<AppUser>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "signedIn": user.is_some() }))
}

/// GET `/api/me`: the signed-in user, from the session the guard found.
async fn me(Extension(data): Extension<SessionData>) -> impl axum::response::IntoResponse {
    (
        sesame::server::no_store(),
        Json(serde_json::json!({
            "id": data.user_id,
            "email": data.email,
            "name": data.name,
        })),
    )
}

async fn ensure_demo_user(sesame: &Sesame, demo: &DemoUser) -> Result<(), AppError> {
    match sesame.find_user(&demo.email).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => {
            // The password policy (zxcvbn, whose dictionaries stay in memory
            // once built) only when the user is made.
            let context = [demo.email.as_str(), demo.name.as_deref().unwrap_or("")];
            let password = NewPassword::parse(demo.password.expose_secret(), &context)
                .map_err(|e| AppError::DemoUser(e.to_string()))?;
            sesame
                .create_user(&demo.email, &password, demo.name.clone())
                .await
                .map(|_| ())
                .map_err(|e| AppError::DemoUser(e.to_string()))
        }
        Err(e) => Err(AppError::DemoUser(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str =
        "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"sqlite::memory:\"";

    #[test]
    fn development_keeps_its_generated_secret_in_the_apps_data_dir() {
        let dev = AppConfig::from_toml_layers(&[
            "environment = \"development\"\ndata_dir = \"some/where\"",
            SITE,
        ])
        .unwrap();
        assert_eq!(
            dev.auth.secret_file.as_deref(),
            Some(Path::new("some/where/dev-secret"))
        );
        assert_eq!(
            dev.auth.email.outbox.as_deref(),
            Some(Path::new("some/where/outbox"))
        );
        // A configured secret file is the app's choice; production is not touched.
        let chosen = AppConfig::from_toml_layers(&[
            "environment = \"development\"\nsecret_file = \"mine\"",
            SITE,
        ])
        .unwrap();
        assert_eq!(chosen.auth.secret_file.as_deref(), Some(Path::new("mine")));
        let prod = AppConfig::from_toml_layers(&[SITE]).unwrap();
        assert_eq!(prod.auth.secret_file, None);
        assert_eq!(prod.auth.email.outbox, None);
        assert_eq!(prod.data_dir, Path::new("data"));
    }

    #[test]
    fn admins_are_matched_lower_cased() {
        let config =
            AppConfig::from_toml_layers(&["admins = [\" Boss@Example.COM \"]", SITE]).unwrap();
        assert_eq!(config.admins, ["boss@example.com"]);
    }
}
