//! The OAuth 2.0 and OpenID Connect providers configured in `[[providers]]`:
//! each builds its authorization URL (with PKCE S256, `state`, and for
//! OpenID Connect a `nonce`) and turns the code it sends back into a
//! [`Profile`]. The `openidconnect` and `oauth2` crates speak the protocols;
//! [`oidc`] adds discovery with a cache and key rotation, [`oauth`] the plain
//! OAuth 2.0 providers and GitHub, [`profile`] the profiles they answer.
//!
//! What happens around a provider (the flow's cookie, accounts, the
//! session) is in [`crate::server::flows::oauth`].

pub(crate) mod oauth;
pub(crate) mod oidc;
pub(crate) mod profile;

use std::{sync::Arc, time::Duration};

use secrecy::SecretString;

use crate::server::config::{
    providers::{ProviderConfig, ProviderKind, ResponseMode},
    Config, ConfigError,
};
pub(crate) use profile::{Profile, ProviderTokens};

/// Why a provider could not start or finish a sign-in.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached, or answered garbage.
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// The provider refused the code (replayed, expired, not this client's).
    #[error("the provider refused the code: {0}")]
    Refused(String),
    /// The ID token did not check out.
    #[error("the ID token is not valid: {0}")]
    IdToken(String),
    /// The profile lacks an id, or is not what the provider documents.
    #[error("the profile is not usable: {0}")]
    Profile(String),
}

/// What starting a sign-in with a provider made: the URL to send the
/// browser to, and what the flow must remember to finish it.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    /// OpenID Connect only.
    pub nonce: Option<String>,
}

/// One configured provider.
pub struct Provider {
    pub(crate) config: ProviderConfig,
    pub(crate) secret: SecretString,
    /// `{site}/api/auth/callback/{id}`.
    pub(crate) redirect_uri: String,
    http: reqwest::Client,
    /// OpenID Connect: the discovered metadata.
    pub(crate) oidc: Option<oidc::Discovery>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("id", &self.config.id)
            .field("kind", &self.config.kind)
            .finish_non_exhaustive()
    }
}

impl Provider {
    fn new(config: ProviderConfig, secret: SecretString, redirect_uri: String) -> Provider {
        let http = reqwest::Client::builder()
            // A provider's answer is never followed elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent("sesame")
            .build()
            .expect("a TLS backend");
        let oidc = config.issuer_url().map(oidc::Discovery::new);
        Provider {
            config,
            secret,
            redirect_uri,
            http,
            oidc,
        }
    }

    /// Its id in the routes.
    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// What its button says after "Sign in with".
    pub fn name(&self) -> String {
        self.config.display_name()
    }

    /// NextAuth's `type`: `oidc` or `oauth`.
    pub fn kind(&self) -> &'static str {
        if self.config.is_oidc() {
            "oidc"
        } else {
            "oauth"
        }
    }

    /// Whether the provider posts its answer back (a cross-site POST).
    pub fn posts_back(&self) -> bool {
        self.config.response_mode == ResponseMode::FormPost
    }

    /// The issuer, for the RFC 9207 `iss` check (OpenID Connect only).
    pub fn issuer(&self) -> Option<&str> {
        self.oidc.as_ref().map(|d| d.issuer())
    }

    /// A new authorization URL, and what the flow keeps to finish it.
    pub async fn authorize(&self) -> Result<Authorization, ProviderError> {
        match &self.oidc {
            Some(discovery) => discovery.authorize(self).await,
            None => oauth::authorize(self),
        }
    }

    /// Exchanges `code` (PKCE `verifier`, OpenID Connect `nonce`) for the
    /// account's profile, and the provider's tokens.
    pub async fn finish(
        &self,
        code: &str,
        verifier: &str,
        nonce: Option<&str>,
    ) -> Result<(Profile, ProviderTokens), ProviderError> {
        match &self.oidc {
            Some(discovery) => discovery.finish(self, code, verifier, nonce).await,
            None => oauth::finish(self, code, verifier).await,
        }
    }

    /// Whether the RFC 9207 `iss` parameter must be present: the provider
    /// said it sends one.
    pub async fn requires_iss(&self) -> bool {
        match &self.oidc {
            Some(discovery) => discovery.sends_iss().await,
            None => false,
        }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn is_github(&self) -> bool {
        self.config.kind == ProviderKind::Github
    }
}

/// The configured providers, by id.
#[derive(Debug, Clone, Default)]
pub struct Providers(Arc<Vec<Provider>>);

impl Providers {
    /// The providers of `config`, their secrets resolved.
    pub fn new(config: &Config, extra: &[ProviderConfig]) -> Result<Providers, ConfigError> {
        let development = config.environment == crate::server::config::Environment::Development;
        let all = config.providers.iter().chain(extra);
        let mut list: Vec<Provider> = Vec::new();
        for (i, provider) in all.enumerate() {
            let key = format!("providers[{i}]");
            provider.validate(&key)?;
            if list.iter().any(|p| p.id() == provider.id) {
                return Err(ConfigError::invalid(
                    format!("{key}.id"),
                    format!("`{}` is the id of an earlier provider", provider.id),
                ));
            }
            let secret = provider.resolve_secret(&key, development)?;
            let redirect_uri = format!(
                "{}{}",
                config.base_url(),
                crate::wire::routes::CALLBACK_PROVIDER.replace("{provider}", &provider.id)
            );
            list.push(Provider::new(provider.clone(), secret, redirect_uri));
        }
        Ok(Providers(Arc::new(list)))
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.0.iter().find(|p| p.id() == id)
    }

    /// Every provider, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.0.iter()
    }
}
