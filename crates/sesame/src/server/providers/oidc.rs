//! OpenID Connect providers through the `openidconnect` crate: discovery
//! (`/.well-known/openid-configuration` and the JWKS), kept for an hour and
//! fetched again at once when an ID token names a key the cache does not
//! have (key rotation); the authorization URL with PKCE S256, `state` and
//! `nonce`; the code exchange and the ID token's checks (signature by an
//! asymmetric key of the JWKS only, `iss`, `aud`, `azp`, `exp` and `iat`
//! with a minute of clock skew, `nonce`); userinfo when the ID token lacks
//! the address.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
        CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType,
        CoreSubjectIdentifierType, CoreUserInfoClaims,
    },
    AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use super::{Authorization, Kept, Profile, Provider, ProviderError, ProviderTokens};

/// How long discovered metadata is used before it is fetched again.
const FRESH_FOR: Duration = Duration::from_secs(60 * 60);
/// Clock skew allowed on `exp` and `iat`.
const SKEW: chrono::Duration = chrono::Duration::seconds(60);
/// How old an ID token may be when it arrives.
const MAX_AGE: chrono::Duration = chrono::Duration::minutes(10);

/// RFC 9207: whether the provider says it sends `iss` with its answer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IssParameter {
    #[serde(default)]
    authorization_response_iss_parameter_supported: Option<bool>,
}
impl AdditionalProviderMetadata for IssParameter {}

type Metadata = ProviderMetadata<
    IssParameter,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The signatures an ID token may have: asymmetric only. An `alg: none`
/// token, or one "signed" with HMAC (keyed by anything, a public key
/// included), is refused.
const ALGORITHMS: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// An OpenID Connect provider's discovered metadata, cached.
pub struct Discovery {
    issuer: String,
    cached: RwLock<Option<(Instant, Arc<Metadata>)>>,
    fetching: Mutex<()>,
}

impl Discovery {
    pub(super) fn new(issuer: String) -> Discovery {
        Discovery {
            issuer,
            cached: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The metadata: cached while fresh and, when `stale` is set, only if
    /// it was fetched after that moment (requests that found an unknown key
    /// at once share one fetch).
    async fn metadata(
        &self,
        provider: &Provider,
        stale: Option<Instant>,
    ) -> Result<Arc<Metadata>, ProviderError> {
        let usable = |cached: &Option<(Instant, Arc<Metadata>)>| {
            cached.as_ref().and_then(|(at, metadata)| {
                let fresh = at.elapsed() < FRESH_FOR;
                let newer = stale.is_none_or(|s| *at > s);
                (fresh && newer).then(|| metadata.clone())
            })
        };
        if let Some(metadata) = usable(&*self.cached.read().await) {
            return Ok(metadata);
        }
        // One fetch at a time; the others use its result.
        let _fetching = self.fetching.lock().await;
        if let Some(metadata) = usable(&*self.cached.read().await) {
            return Ok(metadata);
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| ProviderError::Unreachable(format!("issuer: {e}")))?;
        let metadata = Arc::new(
            Metadata::discover_async(issuer, provider.http())
                .await
                .map_err(|e| ProviderError::Unreachable(format!("discovery: {e}")))?,
        );
        *self.cached.write().await = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Whether the provider sends RFC 9207's `iss` (from its metadata,
    /// fetched if this instance has not yet: the flow may have started on
    /// another). A provider that cannot be reached says nothing here; its
    /// code exchange fails after.
    pub(super) async fn sends_iss(&self, provider: &Provider) -> bool {
        self.metadata(provider, None).await.is_ok_and(|m| {
            m.additional_metadata()
                .authorization_response_iss_parameter_supported
                == Some(true)
        })
    }

    fn client(
        provider: &Provider,
        metadata: &Metadata,
        redirect_uri: &str,
    ) -> Result<Client, ProviderError> {
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(provider.config.client_id.clone()),
            Some(ClientSecret::new(
                provider.secret.expose_secret().to_string(),
            )),
        )
        .set_redirect_uri(
            RedirectUrl::new(redirect_uri.to_string())
                .map_err(|e| ProviderError::Unreachable(format!("redirect URI: {e}")))?,
        ))
    }

    pub(super) async fn authorize(
        &self,
        provider: &Provider,
    ) -> Result<Authorization, ProviderError> {
        let metadata = self.metadata(provider, None).await?;
        let client = Self::client(provider, &metadata, &provider.redirect_uri)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(
                provider
                    .config
                    .scope_list()
                    .into_iter()
                    .filter(|s| s != "openid")
                    .map(Scope::new),
            )
            .set_pkce_challenge(challenge);
        if provider.posts_back() {
            request = request.add_extra_param("response_mode", "form_post");
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            redirect_uri: provider.redirect_uri.clone(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: Some(nonce.secret().clone()),
        })
    }

    pub(super) async fn finish(
        &self,
        provider: &Provider,
        code: &str,
        kept: &Kept<'_>,
    ) -> Result<(Profile, ProviderTokens), ProviderError> {
        let nonce = Nonce::new(
            kept.nonce
                .ok_or_else(|| ProviderError::IdToken("the flow has no nonce".into()))?
                .to_string(),
        );
        let asked = Instant::now();
        let metadata = self.metadata(provider, None).await?;
        let client = Self::client(provider, &metadata, kept.redirect_uri)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| ProviderError::Unreachable(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(kept.verifier.to_string()))
            .request_async(provider.http())
            .await
            .map_err(super::oauth::token_error)?;
        let id_token = token
            .id_token()
            .ok_or_else(|| ProviderError::IdToken("the token answer has no ID token".into()))?;
        let checked = id_token.claims(&Self::verifier(&client), &nonce).cloned();
        let claims = match checked {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // A key the cache does not know: the provider rotated its
                // keys. Fetch them again (unless another request did since
                // this one began) and check once more. The token came from
                // the provider's token endpoint, so only the provider can
                // cause a fetch.
                let fresh = self.metadata(provider, Some(asked)).await?;
                let client = Self::client(provider, &fresh, kept.redirect_uri)?;
                let verifier = Self::verifier(&client);
                let again = id_token.claims(&verifier, &nonce).cloned();
                again
            }
            other => other,
        }
        .map_err(|e| ProviderError::IdToken(e.to_string()))?;
        let subject = claims.subject().clone();
        let mut profile = profile_of!(provider.id(), &claims);
        if profile.email.is_none() && client.user_info_url().is_some() {
            let info: CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(subject))
                .map_err(|e| ProviderError::Unreachable(format!("userinfo: {e}")))?
                .request_async(provider.http())
                .await
                .map_err(|e| ProviderError::Profile(format!("userinfo: {e}")))?;
            let from_info = profile_of!(provider.id(), &info);
            profile.email = from_info.email;
            profile.email_verified = from_info.email_verified;
            profile.name = profile.name.or(from_info.name);
            profile.image = profile.image.or(from_info.image);
        }
        Ok((profile, ProviderTokens::of(&token)))
    }

    fn verifier(client: &Client) -> openidconnect::IdTokenVerifier<'_, CoreJsonWebKey> {
        client
            .id_token_verifier()
            .set_allowed_algs(ALGORITHMS)
            // `exp` may have passed by up to the skew.
            .set_time_fn(|| chrono::Utc::now() - SKEW)
            .set_issue_time_verifier_fn(|iat| {
                let now = chrono::Utc::now();
                if iat > now + SKEW {
                    Err(format!("issued in the future ({iat})"))
                } else if iat < now - MAX_AGE {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            })
    }
}

/// A profile from the standard claims of an ID token or a userinfo answer
/// (both have the same getters).
macro_rules! profile_of {
    ($provider:expr, $claims:expr) => {{
        let claims = $claims;
        Profile {
            provider: $provider.to_string(),
            account_id: claims.subject().as_str().to_string(),
            email: claims.email().map(|e| e.as_str().to_string()),
            email_verified: claims.email_verified() == Some(true),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            image: claims
                .picture()
                .and_then(|p| p.get(None))
                .map(|p| p.as_str().to_string()),
        }
    }};
}
use profile_of;
