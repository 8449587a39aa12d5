//! Plain OAuth 2.0 providers (no ID token) through the `oauth2` crate: the
//! authorization URL with PKCE S256 and `state`, the code exchange, then the
//! profile from the userinfo endpoint (GitHub: `/user` and `/user/emails`).

use oauth2::{
    basic::BasicClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;

use super::{profile, Authorization, Kept, Profile, Provider, ProviderError, ProviderTokens};

pub(super) const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_USER: &str = "https://api.github.com/user";
const GITHUB_EMAILS: &str = "https://api.github.com/user/emails";

/// The most a profile answer may weigh.
const MAX_PROFILE_BYTES: usize = 256 * 1024;

fn url(configured: &Option<url::Url>, preset: &str) -> String {
    configured
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| preset.to_string())
}

struct Endpoints {
    authorize: String,
    token: String,
    userinfo: String,
}

fn endpoints(provider: &Provider) -> Endpoints {
    let c = &provider.config;
    let (a, t, u) = if provider.is_github() {
        (GITHUB_AUTHORIZE, GITHUB_TOKEN, GITHUB_USER)
    } else {
        ("", "", "")
    };
    Endpoints {
        authorize: url(&c.authorization_url, a),
        token: url(&c.token_url, t),
        userinfo: url(&c.userinfo_url, u),
    }
}

fn bad_config(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unreachable(format!("configuration: {e}"))
}

/// The authorization URL with PKCE S256 and a random `state`.
pub(super) fn authorize(provider: &Provider) -> Result<Authorization, ProviderError> {
    let e = endpoints(provider);
    let client = BasicClient::new(ClientId::new(provider.config.client_id.clone()))
        .set_auth_uri(AuthUrl::new(e.authorize).map_err(bad_config)?)
        .set_redirect_uri(RedirectUrl::new(provider.redirect_uri.clone()).map_err(bad_config)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(provider.config.scope_list().into_iter().map(Scope::new))
        .set_pkce_challenge(challenge);
    if provider.posts_back() {
        request = request.add_extra_param("response_mode", "form_post");
    }
    let (url, state) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        redirect_uri: provider.redirect_uri.clone(),
        state: state.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        nonce: None,
    })
}

/// The code exchanged for an access token, then the profile.
pub(super) async fn finish(
    provider: &Provider,
    code: &str,
    kept: &Kept<'_>,
) -> Result<(Profile, ProviderTokens), ProviderError> {
    let e = endpoints(provider);
    let client = BasicClient::new(ClientId::new(provider.config.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            provider.secret.expose_secret().to_string(),
        ))
        .set_token_uri(TokenUrl::new(e.token).map_err(bad_config)?)
        .set_redirect_uri(RedirectUrl::new(kept.redirect_uri.to_string()).map_err(bad_config)?);
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .set_pkce_verifier(PkceCodeVerifier::new(kept.verifier.to_string()))
        .request_async(provider.http())
        .await
        .map_err(token_error)?;
    let access = token.access_token().secret().clone();
    let tokens = ProviderTokens::of(&token);
    let user = get_json(provider, &e.userinfo, &access).await?;
    let profile = if provider.is_github() {
        let user: profile::GithubUser = serde_json::from_value(user)
            .map_err(|e| ProviderError::Profile(format!("GitHub's /user: {e}")))?;
        let emails_url = url(&provider.config.emails_url, GITHUB_EMAILS);
        let emails: Vec<profile::GithubEmail> =
            serde_json::from_value(get_json(provider, &emails_url, &access).await?)
                .map_err(|e| ProviderError::Profile(format!("GitHub's /user/emails: {e}")))?;
        profile::github(user, &emails)
    } else {
        profile::from_fields(provider.id(), &user, &provider.config.profile)?
    };
    Ok((
        Profile {
            provider: provider.id().to_string(),
            ..profile
        },
        tokens,
    ))
}

/// How a failed code exchange reads: the provider's refusal, or no answer.
pub(super) fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: oauth2::RequestTokenError<RE, T>,
) -> ProviderError {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => ProviderError::Refused(r.to_string()),
        oauth2::RequestTokenError::Request(r) => ProviderError::Unreachable(r.to_string()),
        other => ProviderError::Unreachable(other.to_string()),
    }
}

/// A GET with the access token, answered with JSON.
async fn get_json(
    provider: &Provider,
    url: &str,
    access_token: &str,
) -> Result<serde_json::Value, ProviderError> {
    let unreachable = |e: reqwest::Error| ProviderError::Unreachable(e.to_string());
    let response = provider
        .http()
        .get(url)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    if !status.is_success() {
        return Err(ProviderError::Profile(format!("{url} answered {status}")));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_PROFILE_BYTES as u64)
    {
        return Err(ProviderError::Profile(format!("{url}: too large")));
    }
    let body = response.bytes().await.map_err(unreachable)?;
    if body.len() > MAX_PROFILE_BYTES {
        return Err(ProviderError::Profile(format!("{url}: too large")));
    }
    serde_json::from_slice(&body).map_err(|e| ProviderError::Profile(format!("{url}: {e}")))
}
