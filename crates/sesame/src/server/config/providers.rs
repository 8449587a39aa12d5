//! `[[providers]]`: the ways to sign in besides the password. Each entry
//! names an OpenID Connect provider by its issuer, a plain OAuth 2.0
//! provider by its URLs, or a preset (GitHub, Google, Microsoft Entra ID)
//! whose URLs are known, every URL overridable. The client secret comes from
//! a file or an environment variable (inline only in development).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::ConfigError;

/// What kind of provider an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenID Connect, configured from `issuer` (discovery).
    Oidc,
    /// Plain OAuth 2.0: `authorization_url`, `token_url`, `userinfo_url`.
    Oauth,
    /// GitHub (OAuth 2.0; `/user` and `/user/emails`).
    Github,
    /// Google (OpenID Connect, `https://accounts.google.com`).
    Google,
    /// Microsoft Entra ID (OpenID Connect; `tenant`, `common` by default).
    Microsoft,
}

/// How the provider sends the browser back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// A GET with the answer in the query (the default).
    #[default]
    Query,
    /// A POST of a form from the provider's page (the flow's cookie is then
    /// `SameSite=None` on https, so that it comes back with it).
    FormPost,
}

/// Where a profile's fields are in a plain OAuth 2.0 provider's userinfo
/// JSON (top-level keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFields {
    /// The account's stable id (`sub`).
    #[serde(default = "ProfileFields::default_id")]
    pub id: String,
    /// The address (`email`).
    #[serde(default = "ProfileFields::default_email")]
    pub email: String,
    /// Whether the provider verified it (`email_verified`); without it, it counts as not verified.
    #[serde(default = "ProfileFields::default_email_verified")]
    pub email_verified: String,
    /// The display name (`name`).
    #[serde(default = "ProfileFields::default_name")]
    pub name: String,
    /// The picture's URL (`picture`).
    #[serde(default = "ProfileFields::default_image")]
    pub image: String,
}

impl ProfileFields {
    fn default_id() -> String {
        "sub".into()
    }
    fn default_email() -> String {
        "email".into()
    }
    fn default_email_verified() -> String {
        "email_verified".into()
    }
    fn default_name() -> String {
        "name".into()
    }
    fn default_image() -> String {
        "picture".into()
    }
}

impl Default for ProfileFields {
    fn default() -> Self {
        ProfileFields {
            id: Self::default_id(),
            email: Self::default_email(),
            email_verified: Self::default_email_verified(),
            name: Self::default_name(),
            image: Self::default_image(),
        }
    }
}

/// One `[[providers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Its id in the routes (`/api/auth/signin/{id}`): letters, digits, `-`, `_`.
    pub id: String,
    /// What the buttons say after "Sign in with" (the preset's name, or the id).
    #[serde(default)]
    pub name: Option<String>,
    /// `oidc`, `oauth`, `github`, `google` or `microsoft`.
    pub kind: ProviderKind,
    /// The OpenID Connect issuer, exactly as the provider spells it (discovery
    /// at `{issuer}/.well-known/openid-configuration`).
    #[serde(default)]
    pub issuer: Option<String>,
    /// OAuth 2.0: the authorization endpoint.
    #[serde(default)]
    pub authorization_url: Option<Url>,
    /// OAuth 2.0: the token endpoint.
    #[serde(default)]
    pub token_url: Option<Url>,
    /// OAuth 2.0: the profile endpoint (a GET with the access token).
    #[serde(default)]
    pub userinfo_url: Option<Url>,
    /// GitHub: the addresses endpoint (`/user/emails`).
    #[serde(default)]
    pub emails_url: Option<Url>,
    /// Microsoft: the directory (tenant) id, or `consumers`. Required:
    /// `common` and `organizations` publish a templated issuer
    /// (`{tenantid}`) that no ID token carries, so their tokens cannot be
    /// checked against it.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret, inline: development only.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// A file holding the client secret (its first line).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// An environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// The scopes to ask for (the preset's, or `openid email profile`).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// `query` (the default) or `form_post`.
    #[serde(default)]
    pub response_mode: ResponseMode,
    /// OAuth 2.0: where the profile's fields are in the userinfo JSON.
    #[serde(default)]
    pub profile: ProfileFields,
    /// Links a first sign-in with this provider to an existing account with
    /// the same address, when the provider says it verified the address.
    /// Off by default (NextAuth's `allowDangerousEmailAccountLinking`): it
    /// trusts the provider with every account of this site whose address it
    /// can vouch for.
    #[serde(default)]
    pub link_by_verified_email: bool,
    /// Keeps the provider's access and refresh tokens (encrypted with a key
    /// derived from the secret) for the application to call the provider's
    /// API later. Off by default.
    #[serde(default)]
    pub store_tokens: bool,
}

impl ProviderConfig {
    /// A provider of `kind` with this id and client id (no secret yet).
    pub fn new(id: &str, kind: ProviderKind, client_id: &str) -> ProviderConfig {
        ProviderConfig {
            id: id.into(),
            name: None,
            kind,
            issuer: None,
            authorization_url: None,
            token_url: None,
            userinfo_url: None,
            emails_url: None,
            tenant: None,
            client_id: client_id.into(),
            client_secret: None,
            client_secret_file: None,
            client_secret_env: None,
            scopes: None,
            response_mode: ResponseMode::Query,
            profile: ProfileFields::default(),
            link_by_verified_email: false,
            store_tokens: false,
        }
    }

    /// A generic OpenID Connect provider found at `issuer`.
    pub fn oidc(id: &str, issuer: &str, client_id: &str) -> ProviderConfig {
        ProviderConfig {
            issuer: Some(issuer.into()),
            ..Self::new(id, ProviderKind::Oidc, client_id)
        }
    }

    /// GitHub, as `github`.
    pub fn github(client_id: &str) -> ProviderConfig {
        Self::new("github", ProviderKind::Github, client_id)
    }

    /// Google, as `google`.
    pub fn google(client_id: &str) -> ProviderConfig {
        Self::new("google", ProviderKind::Google, client_id)
    }

    /// Microsoft Entra ID, as `microsoft`, for `tenant`.
    pub fn microsoft(client_id: &str, tenant: &str) -> ProviderConfig {
        ProviderConfig {
            tenant: Some(tenant.into()),
            ..Self::new("microsoft", ProviderKind::Microsoft, client_id)
        }
    }

    /// The client secret from the environment variable `var`.
    pub fn secret_from_env(mut self, var: &str) -> ProviderConfig {
        self.client_secret_env = Some(var.into());
        self
    }

    /// The client secret from the first line of `path`.
    pub fn secret_from_file(mut self, path: impl Into<PathBuf>) -> ProviderConfig {
        self.client_secret_file = Some(path.into());
        self
    }

    /// The button's name.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match self.kind {
            ProviderKind::Github => "GitHub".into(),
            ProviderKind::Google => "Google".into(),
            ProviderKind::Microsoft => "Microsoft".into(),
            ProviderKind::Oidc | ProviderKind::Oauth => self.id.clone(),
        }
    }

    /// Whether the provider speaks OpenID Connect (an ID token).
    pub fn is_oidc(&self) -> bool {
        matches!(
            self.kind,
            ProviderKind::Oidc | ProviderKind::Google | ProviderKind::Microsoft
        )
    }

    /// The issuer: configured, or the preset's.
    pub fn issuer_url(&self) -> Option<String> {
        if let Some(issuer) = &self.issuer {
            return Some(issuer.clone());
        }
        let preset = match self.kind {
            ProviderKind::Google => "https://accounts.google.com".to_string(),
            ProviderKind::Microsoft => format!(
                "https://login.microsoftonline.com/{}/v2.0",
                self.tenant.as_deref()?
            ),
            _ => return None,
        };
        Some(preset)
    }

    /// The scopes to ask for.
    pub fn scope_list(&self) -> Vec<String> {
        if let Some(scopes) = &self.scopes {
            return scopes.clone();
        }
        let preset: &[&str] = match self.kind {
            ProviderKind::Github => &["read:user", "user:email"],
            ProviderKind::Oauth => &[],
            _ => &["openid", "email", "profile"],
        };
        preset.iter().map(|s| s.to_string()).collect()
    }

    /// The client secret, from wherever it is configured; `key` names the
    /// entry in errors.
    pub fn resolve_secret(
        &self,
        key: &str,
        development: bool,
    ) -> Result<SecretString, ConfigError> {
        let sources = [
            self.client_secret.is_some(),
            self.client_secret_file.is_some(),
            self.client_secret_env.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(ConfigError::invalid(
                format!("{key}.client_secret"),
                "set one of `client_secret`, `client_secret_file` and `client_secret_env`",
            ));
        }
        let secret = if let Some(secret) = &self.client_secret {
            if !development {
                return Err(ConfigError::invalid(
                    format!("{key}.client_secret"),
                    "an inline client secret is for development only: use \
                     `client_secret_file` or `client_secret_env`",
                ));
            }
            secret.expose_secret().to_string()
        } else if let Some(path) = &self.client_secret_file {
            std::fs::read_to_string(path)
                .map_err(|e| {
                    ConfigError::invalid(
                        format!("{key}.client_secret_file"),
                        format!("cannot read `{}`: {e}", path.display()),
                    )
                })?
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        } else if let Some(var) = &self.client_secret_env {
            std::env::var(var).map_err(|_| {
                ConfigError::invalid(
                    format!("{key}.client_secret_env"),
                    format!("the environment variable `{var}` is not set"),
                )
            })?
        } else {
            return Err(ConfigError::invalid(
                format!("{key}.client_secret"),
                "missing: set `client_secret_file` or `client_secret_env`",
            ));
        };
        if secret.is_empty() {
            return Err(ConfigError::invalid(
                format!("{key}.client_secret"),
                "is empty",
            ));
        }
        Ok(SecretString::from(secret))
    }

    /// Checks the entry on its own; `key` is `providers[i]`.
    pub(crate) fn validate(&self, key: &str) -> Result<(), ConfigError> {
        if !crate::wire::routes::is_provider_id(&self.id)
            || matches!(self.id.as_str(), "credentials" | "email" | "passkey")
        {
            return Err(ConfigError::invalid(
                format!("{key}.id"),
                format!(
                    "`{}` must be 1 to 64 letters, digits, `-` or `_`, and not \
                     `credentials`, `email` or `passkey`",
                    self.id
                ),
            ));
        }
        if self.client_id.is_empty() {
            return Err(ConfigError::invalid(format!("{key}.client_id"), "is empty"));
        }
        let need = |field: &str, value: &Option<Url>| match value {
            Some(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
            Some(url) => Err(ConfigError::invalid(
                format!("{key}.{field}"),
                format!("`{url}` must be an http or https URL"),
            )),
            None => Err(ConfigError::invalid(
                format!("{key}.{field}"),
                format!("missing: a `{:?}` provider needs it", self.kind).to_lowercase(),
            )),
        };
        let issuer = match &self.issuer {
            Some(issuer) => Some(Url::parse(issuer).map_err(|e| {
                ConfigError::invalid(format!("{key}.issuer"), format!("`{issuer}`: {e}"))
            })?),
            None => None,
        };
        match self.kind {
            ProviderKind::Oidc => need("issuer", &issuer)?,
            ProviderKind::Oauth => {
                need("authorization_url", &self.authorization_url)?;
                need("token_url", &self.token_url)?;
                need("userinfo_url", &self.userinfo_url)?;
            }
            ProviderKind::Github | ProviderKind::Google | ProviderKind::Microsoft => {}
        }
        for (field, url) in [
            ("issuer", &issuer),
            ("authorization_url", &self.authorization_url),
            ("token_url", &self.token_url),
            ("userinfo_url", &self.userinfo_url),
            ("emails_url", &self.emails_url),
        ] {
            if url.is_some() {
                need(field, url)?;
            }
        }
        if self.kind == ProviderKind::Microsoft && self.issuer.is_none() {
            let tenant = self.tenant.as_deref().unwrap_or("");
            if tenant.is_empty()
                || matches!(tenant, "common" | "organizations")
                || !tenant
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(ConfigError::invalid(
                    format!("{key}.tenant"),
                    format!(
                        "`{tenant}`: give your directory (tenant) id or `consumers`; `common` and \
                         `organizations` publish a templated issuer no ID token can be checked against"
                    ),
                ));
            }
        }
        if self.kind == ProviderKind::Github && self.response_mode == ResponseMode::FormPost {
            return Err(ConfigError::invalid(
                format!("{key}.response_mode"),
                "GitHub does not post its answer: leave `query`",
            ));
        }
        Ok(())
    }
}
