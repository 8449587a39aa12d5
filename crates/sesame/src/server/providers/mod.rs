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

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

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
    /// The `redirect_uri` it names.
    pub redirect_uri: String,
    pub state: String,
    pub pkce_verifier: String,
    /// OpenID Connect only.
    pub nonce: Option<String>,
}

/// What a flow kept from its start to finish the code exchange.
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a> {
    /// The PKCE verifier.
    pub verifier: &'a str,
    /// The OpenID Connect `nonce`.
    pub nonce: Option<&'a str>,
    /// The `redirect_uri` of the authorization request, sent again with the
    /// code exactly (RFC 6749 4.1.3), whichever instance finishes.
    pub redirect_uri: &'a str,
}

/// One configured provider.
pub struct Provider {
    pub(crate) config: ProviderConfig,
    pub(crate) secret: SecretString,
    /// `{site}/api/auth/callback/{id}`.
    pub(crate) redirect_uri: String,
    http: Http,
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
    fn new(
        config: ProviderConfig,
        secret: SecretString,
        redirect_uri: String,
        http: Http,
    ) -> Provider {
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

    /// Exchanges `code` for the account's profile and the provider's
    /// tokens, with what the flow kept from its start.
    pub async fn finish(
        &self,
        code: &str,
        kept: &Kept<'_>,
    ) -> Result<(Profile, ProviderTokens), ProviderError> {
        match &self.oidc {
            Some(discovery) => discovery.finish(self, code, kept).await,
            None => oauth::finish(self, code, kept).await,
        }
    }

    /// Whether the RFC 9207 `iss` parameter must be present: the provider
    /// said it sends one.
    pub async fn requires_iss(&self) -> bool {
        match &self.oidc {
            Some(discovery) => discovery.sends_iss(self).await,
            None => false,
        }
    }

    /// The origin of the page the browser is sent to: the configured
    /// `authorization_url`'s, GitHub's, or the issuer's (OpenID Connect
    /// providers serve it on the issuer's origin).
    pub fn authorization_origin(&self) -> Option<String> {
        let url = match (&self.config.authorization_url, self.config.kind) {
            (Some(url), _) => url.clone(),
            (None, ProviderKind::Github) => url::Url::parse(oauth::GITHUB_AUTHORIZE).ok()?,
            (None, _) => url::Url::parse(&self.config.issuer_url()?).ok()?,
        };
        Some(url.origin().ascii_serialization())
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        self.http.client()
    }

    pub(crate) fn is_github(&self) -> bool {
        self.config.kind == ProviderKind::Github
    }
}

/// The HTTP client of every provider: one, as reqwest advises (a client
/// holds a connection pool and a TLS configuration with its root
/// certificates), built on the first call to a provider, so that a server
/// whose users never sign in through one keeps neither in memory.
#[derive(Clone, Default)]
struct Http(Arc<OnceLock<reqwest::Client>>);

impl Http {
    fn client(&self) -> &reqwest::Client {
        self.0.get_or_init(|| {
            reqwest::Client::builder()
                // A provider's answer is never followed elsewhere (SSRF).
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(10))
                .user_agent("sesame")
                .build()
                .expect("a TLS backend")
        })
    }
}

/// The configured providers, by id.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    list: Arc<Vec<Provider>>,
    /// The origins of their authorization pages, for the pages' CSP
    /// `form-action` (a form post that redirects there must be allowed).
    origins: Arc<Vec<String>>,
}

impl Providers {
    /// The providers of `config`, their secrets resolved.
    pub fn new(config: &Config, extra: &[ProviderConfig]) -> Result<Providers, ConfigError> {
        let development = config.environment == crate::server::config::Environment::Development;
        let all = config.providers.iter().chain(extra);
        let mut list: Vec<Provider> = Vec::new();
        let http = Http::default();
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
            list.push(Provider::new(
                provider.clone(),
                secret,
                redirect_uri,
                http.clone(),
            ));
        }
        let mut origins: Vec<String> = list
            .iter()
            .filter_map(|p| p.authorization_origin())
            .collect();
        origins.sort();
        origins.dedup();
        Ok(Providers {
            list: Arc::new(list),
            origins: Arc::new(origins),
        })
    }

    /// The provider with this id.
    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.id() == id)
    }

    /// Every provider, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    /// The origins of the providers' authorization pages.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_share_one_http_client_built_on_first_use() {
        let secret = "x".repeat(32);
        let config = Config::from_toml_str(&format!(
            r#"
            environment = "development"
            secret = "{secret}"
            [site]
            url = "http://127.0.0.1:3000"
            [database]
            url = "sqlite::memory:"
            [[providers]]
            id = "acme"
            kind = "oidc"
            issuer = "https://id.acme.example"
            client_id = "app"
            client_secret = "s"
            [[providers]]
            id = "other"
            kind = "oidc"
            issuer = "https://id.other.example"
            client_id = "app"
            client_secret = "s"
            "#
        ))
        .unwrap();
        let providers = Providers::new(&config, &[]).unwrap();
        let (acme, other) = (
            providers.get("acme").unwrap(),
            providers.get("other").unwrap(),
        );
        assert!(
            Arc::ptr_eq(&acme.http.0, &other.http.0),
            "one client for all"
        );
        assert!(acme.http.0.get().is_none(), "no client before a call");
        let first: *const reqwest::Client = acme.http();
        assert!(std::ptr::eq(first, other.http()), "the same client");
    }
}
