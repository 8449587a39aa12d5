//! What a provider says about the account that signed in: a [`Profile`]
//! (read from an ID token and userinfo, a plain OAuth 2.0 userinfo JSON
//! through the configured field names, or GitHub's `/user` and
//! `/user/emails`), and the provider's tokens.

use secrecy::SecretString;
use serde::Deserialize;

use super::ProviderError;
use crate::server::config::providers::ProfileFields;

/// The account at the provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// The provider's id (`github`).
    pub provider: String,
    /// The account's stable id at the provider (`sub`, GitHub's numeric id).
    pub account_id: String,
    /// Its address, if the provider shares one.
    pub email: Option<String>,
    /// Whether the provider says it verified the address.
    pub email_verified: bool,
    /// The display name.
    pub name: Option<String>,
    /// A picture's URL.
    pub image: Option<String>,
}

/// The provider's tokens, for an application that calls its API.
#[derive(Debug, Clone)]
pub struct ProviderTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
}

impl ProviderTokens {
    /// The tokens of a token endpoint's answer.
    pub(super) fn of(token: &impl oauth2::TokenResponse) -> ProviderTokens {
        ProviderTokens {
            access_token: SecretString::from(token.access_token().secret().clone()),
            refresh_token: token
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            expires_at: token
                .expires_in()
                .map(|d| time::OffsetDateTime::now_utc().unix_timestamp() + d.as_secs() as i64),
        }
    }
}

/// An id as a string: providers send strings (`sub`) or numbers (GitHub).
fn id_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text(value: Option<&serde_json::Value>) -> Option<String> {
    value
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A plain OAuth 2.0 provider's userinfo JSON, read through `fields`.
pub fn from_fields(
    provider: &str,
    json: &serde_json::Value,
    fields: &ProfileFields,
) -> Result<Profile, ProviderError> {
    let account_id = json
        .get(&fields.id)
        .and_then(id_of)
        .ok_or_else(|| ProviderError::Profile(format!("no `{}` in the profile", fields.id)))?;
    Ok(Profile {
        provider: provider.into(),
        account_id,
        email: text(json.get(&fields.email)),
        email_verified: json
            .get(&fields.email_verified)
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        name: text(json.get(&fields.name)),
        image: text(json.get(&fields.image)),
    })
}

/// GitHub's `/user` (<https://docs.github.com/en/rest/users/users#get-the-authenticated-user>).
#[derive(Debug, Deserialize)]
pub struct GithubUser {
    pub id: u64,
    pub login: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// One entry of GitHub's `/user/emails`
/// (<https://docs.github.com/en/rest/users/emails#list-email-addresses-for-the-authenticated-user>).
#[derive(Debug, Deserialize)]
pub struct GithubEmail {
    pub email: String,
    pub primary: bool,
    pub verified: bool,
}

/// A GitHub profile: the numeric id, the name (or the login), the avatar,
/// and the primary address, verified only when GitHub verified it. The
/// public `email` of `/user` is ignored: it is whatever the user typed.
pub fn github(user: GithubUser, emails: &[GithubEmail]) -> Profile {
    let primary = emails.iter().find(|e| e.primary);
    Profile {
        provider: "github".into(),
        account_id: user.id.to_string(),
        email: primary.map(|e| e.email.clone()),
        email_verified: primary.is_some_and(|e| e.verified),
        name: user.name.filter(|n| !n.is_empty()).or(Some(user.login)),
        image: user.avatar_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of GitHub's REST documentation, trimmed.
    const USER: &str = r#"{
        "login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=",
        "avatar_url": "https://github.com/images/error/octocat_happy.gif",
        "type": "User", "site_admin": false, "name": "monalisa octocat",
        "company": "GitHub", "email": "octocat@github.com", "two_factor_authentication": true
    }"#;
    const EMAILS: &str = r#"[
        {"email": "octocat@github.com", "verified": true, "primary": true, "visibility": "public"},
        {"email": "other@example.com", "verified": false, "primary": false, "visibility": null}
    ]"#;

    #[test]
    fn github_s_documented_json_maps_to_a_profile() {
        let user: GithubUser = serde_json::from_str(USER).unwrap();
        let emails: Vec<GithubEmail> = serde_json::from_str(EMAILS).unwrap();
        let profile = github(user, &emails);
        assert_eq!(
            profile,
            Profile {
                provider: "github".into(),
                account_id: "1".into(),
                email: Some("octocat@github.com".into()),
                email_verified: true,
                name: Some("monalisa octocat".into()),
                image: Some("https://github.com/images/error/octocat_happy.gif".into()),
            }
        );
    }

    #[test]
    fn github_s_address_is_the_primary_one_and_verified_only_when_github_says_so() {
        let user = || serde_json::from_str::<GithubUser>(USER).unwrap();
        let unverified: Vec<GithubEmail> = serde_json::from_str(
            r#"[{"email": "a@example.com", "verified": false, "primary": true},
                {"email": "b@example.com", "verified": true, "primary": false}]"#,
        )
        .unwrap();
        let profile = github(user(), &unverified);
        assert_eq!(profile.email.as_deref(), Some("a@example.com"));
        assert!(!profile.email_verified);
        let profile = github(user(), &[]);
        assert_eq!(profile.email, None, "the public `email` is not trusted");
        assert!(!profile.email_verified);
        let nameless: GithubUser =
            serde_json::from_str(r#"{"login": "ghost", "id": 10137, "name": null}"#).unwrap();
        assert_eq!(github(nameless, &[]).name.as_deref(), Some("ghost"));
    }

    #[test]
    fn a_userinfo_json_is_read_through_the_configured_fields() {
        let json = serde_json::json!({
            "sub": "248289761001", "email": "jane@example.com", "email_verified": true,
            "name": "Jane Doe", "picture": "http://example.com/jane.jpg"
        });
        let profile = from_fields("acme", &json, &ProfileFields::default()).unwrap();
        assert_eq!(profile.account_id, "248289761001");
        assert!(profile.email_verified);
        assert_eq!(profile.name.as_deref(), Some("Jane Doe"));
        let fields = ProfileFields {
            id: "id".into(),
            email: "mail".into(),
            ..ProfileFields::default()
        };
        let json = serde_json::json!({"id": 42, "mail": "x@example.com", "email_verified": "yes"});
        let profile = from_fields("acme", &json, &fields).unwrap();
        assert_eq!(profile.account_id, "42");
        assert_eq!(profile.email.as_deref(), Some("x@example.com"));
        assert!(!profile.email_verified, "only a JSON true verifies");
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"sub": ""}),
            serde_json::json!({"sub": null}),
            serde_json::json!({"sub": ["1"]}),
            serde_json::json!({"sub": "x".repeat(256)}),
        ] {
            assert!(
                from_fields("acme", &bad, &ProfileFields::default()).is_err(),
                "{bad}"
            );
        }
    }
    #[test]
    fn a_token_answer_s_expiry_is_now_plus_its_lifetime() {
        use oauth2::{
            basic::BasicTokenType, AccessToken, EmptyExtraTokenFields, RefreshToken,
            StandardTokenResponse,
        };
        use secrecy::ExposeSecret;
        let mut token = StandardTokenResponse::<EmptyExtraTokenFields, BasicTokenType>::new(
            AccessToken::new("at".into()),
            BasicTokenType::Bearer,
            EmptyExtraTokenFields {},
        );
        token.set_expires_in(Some(&std::time::Duration::from_secs(3600)));
        token.set_refresh_token(Some(RefreshToken::new("rt".into())));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let tokens = ProviderTokens::of(&token);
        let at = tokens.expires_at.unwrap();
        assert!((now + 3600..=now + 3602).contains(&at), "{at} vs {now}");
        assert_eq!(tokens.access_token.expose_secret(), "at");
        assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "rt");
        token.set_expires_in(None);
        assert_eq!(ProviderTokens::of(&token).expires_at, None);
    }
}
