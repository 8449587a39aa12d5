//! Sign-in with OpenID Connect and OAuth 2.0 providers, black-box against
//! the real app and a real OpenID Certified provider (npm `oidc-provider`
//! on loopback, `tests/common/oidc.rs`): the whole code flow, the flow's
//! binding to the browser, the ID token's checks, the linking rules.

mod common;

use std::sync::{Arc, Mutex};

use common::{
    oidc::{oidc, sign_in_at_provider, Back, Oidc},
    spawn, spawn_with, TestApp,
};
use sesame::server::{
    async_trait, audit::AuditEvent, Callbacks, Events, ProviderProfile, SignInDecision,
};
use sesame_app::user::AppUser;

/// `config` with open sign-up, as a provider's first sign-in makes a user.
fn open_sign_up(config: &str) -> String {
    format!("{config}\n[accounts]\nsign_up = \"open\"")
}

/// An app with the test provider (as `oidc-test`) and open sign-up.
async fn app_with(extra: &str) -> TestApp {
    let config = format!(
        "{}\n{}\n[accounts]\nsign_up = \"open\"\n{extra}",
        oidc().provider_toml("oidc-test", ""),
        oidc().github_toml(),
    );
    spawn(&config).await
}

/// POST `/signin/:provider` as next-auth/react does (`json=true`): the
/// provider's URL; the flow's cookie kept.
async fn start(browser: &mut TestApp, provider: &str, callback: &str) -> String {
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            &format!("/api/auth/signin/{provider}"),
            &[
                ("csrfToken", &token),
                ("callbackUrl", callback),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body["url"].as_str().unwrap().to_string()
}

/// The app's part of a return URL (`/api/auth/callback/...?...`).
fn path_of(url: &str, app: &TestApp) -> String {
    url.strip_prefix(&app.base)
        .unwrap_or_else(|| panic!("{url} is not the app's"))
        .to_string()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("a redirect, got {}", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// A whole sign-in as `login`: the return's answer.
async fn sign_in_as(browser: &mut TestApp, provider: &str, login: &str) -> reqwest::Response {
    let url = start(browser, provider, "/account").await;
    let back = sign_in_at_provider(&url, login).await;
    let path = path_of(back.url(), browser);
    browser.get(&path).await
}

fn error_of(location: &str) -> String {
    location
        .split("error=")
        .nth(1)
        .unwrap_or_else(|| panic!("an error in {location}"))
        .split('&')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn the_providers_are_listed_as_next_auth_lists_them() {
    let mut app = app_with("").await;
    let res = app.get("/api/auth/providers").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["credentials"]["type"], "credentials");
    let oidc_test = &body["oidc-test"];
    assert_eq!(oidc_test["id"], "oidc-test");
    assert_eq!(oidc_test["type"], "oidc");
    assert_eq!(
        oidc_test["signinUrl"],
        format!("{}/api/auth/signin/oidc-test", app.base)
    );
    assert_eq!(
        oidc_test["callbackUrl"],
        format!("{}/api/auth/callback/oidc-test", app.base)
    );
    assert_eq!(body["github-test"]["type"], "oauth");
    assert_eq!(body["github-test"]["name"], "GitHub (test)");
}

#[tokio::test]
async fn a_whole_code_flow_signs_in_and_makes_the_user() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    // PKCE S256, state and nonce on the way out.
    let parsed = url::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["state"].len() >= 22 && query["nonce"].len() >= 22);
    assert!(query["scope"].contains("openid") && query["scope"].contains("email"));
    let back = sign_in_at_provider(&url, "alice").await;
    assert!(
        back.url().contains("iss="),
        "RFC 9207: the provider sends iss"
    );
    let res = browser.get(&path_of(back.url(), &browser)).await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("{}/account", browser.base));
    let session = browser.session().await;
    assert_eq!(session["user"]["email"], "alice@example.test");
    assert_eq!(session["user"]["name"], "Alice Example");
    // The flow's cookie is spent.
    assert!(!browser.cookie_header().contains("oauth-flow"));
    // The user exists, verified (the provider said so), without a password.
    let db = browser.db().await;
    let (hash, verified): (String, Option<i64>) =
        sqlx::query_as("SELECT password_hash, email_verified_at FROM users WHERE email = ?")
            .bind("alice@example.test")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(hash.is_empty());
    assert!(verified.is_some());
    // A second sign-in finds the same user through the link.
    let mut again = browser.new_browser();
    let res = sign_in_as(&mut again, "oidc-test", "alice").await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("{}/account", again.base));
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = ?")
        .bind("alice@example.test")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn an_account_made_by_a_provider_has_no_password_to_guess() {
    let mut browser = app_with("").await;
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    let mut other = browser.new_browser();
    for password in ["", "secret", "x"] {
        let res = other
            .sign_in_json("alice@example.test", password, "/")
            .await;
        assert_eq!(res.status(), 401, "{password:?}");
    }
}

#[tokio::test]
async fn an_address_verified_by_nobody_is_kept_unverified() {
    let mut browser = app_with("").await;
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "bob").await.status(),
        302
    );
    let verified: Option<i64> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE email = ?")
            .bind("bob@example.test")
            .fetch_one(&browser.db().await)
            .await
            .unwrap();
    assert_eq!(verified, None);
}

#[tokio::test]
async fn a_get_never_starts_a_flow() {
    let mut browser = app_with("").await;
    let res = browser.get("/api/auth/signin/oidc-test").await;
    assert_eq!(res.status(), 302);
    assert!(
        location(&res).starts_with("/api/auth/signin"),
        "{}",
        location(&res)
    );
    assert!(!browser.cookie_header().contains("oauth-flow"));
}

#[tokio::test]
async fn a_start_needs_the_csrf_token_and_a_same_site_callback_url() {
    let mut browser = app_with("").await;
    let res = browser
        .post_form(
            "/api/auth/signin/oidc-test",
            &[("csrfToken", "forged"), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(!browser.cookie_header().contains("oauth-flow"));
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            "/api/auth/signin/oidc-test",
            &[
                ("csrfToken", &token),
                ("callbackUrl", "https://evil.example/"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "InvalidCallbackUrl");
    let res = browser
        .post_form(
            "/api/auth/signin/nobody",
            &[("csrfToken", &token), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 400);
    // From another site: refused before anything else.
    let res = browser
        .post_form_from(
            "/api/auth/signin/oidc-test",
            &[("csrfToken", &token)],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn a_plain_form_start_is_a_302_to_the_provider() {
    let mut browser = app_with("").await;
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            "/api/auth/signin/oidc-test",
            &[("csrfToken", &token), ("callbackUrl", "/account")],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert!(location(&res).starts_with(&format!("{}/auth?", oidc().issuer)));
    let cookie = common::set_cookie(&res, "sesame.oauth-flow").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Max-Age=600"));
}

/// The return of a flow started by `victim`, finished by `browser`.
async fn refused_return(browser: &mut TestApp, path: &str) -> String {
    let res = browser.get(path).await;
    assert_eq!(res.status(), 302);
    let to = location(&res);
    assert!(
        browser.session().await.as_object().unwrap().is_empty(),
        "signed in: {to}"
    );
    to
}

#[tokio::test]
async fn a_return_meant_for_another_browser_signs_nobody_in() {
    // Login CSRF: the attacker starts a flow, signs in at the provider as
    // themself, and sends the return URL to the victim.
    let mut attacker = app_with("").await;
    let url = start(&mut attacker, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let path = path_of(back.url(), &attacker);
    let mut victim = attacker.new_browser();
    let to = refused_return(&mut victim, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
    // With a flow of their own, the victim's state differs.
    start(&mut victim, "oidc-test", "/account").await;
    let to = refused_return(&mut victim, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
}

#[tokio::test]
async fn a_tampered_or_missing_state_is_refused() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let path = path_of(back.url(), &browser);
    let flow = browser.cookies.clone();
    let parsed = url::Url::parse(back.url()).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let with = |state: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            match (k.as_str(), state) {
                ("state", Some(s)) => q.append_pair(k, s),
                ("state", None) => continue,
                _ => q.append_pair(k, v),
            };
        }
        format!("{}?{}", parsed.path(), q.finish())
    };
    let state = &pairs.iter().find(|(k, _)| k == "state").unwrap().1;
    let mut tampered = state.clone();
    tampered.replace_range(0..1, if state.starts_with('A') { "B" } else { "A" });
    for bad in [with(Some(&tampered)), with(None), with(Some(""))] {
        browser.cookies = flow.clone();
        let to = refused_return(&mut browser, &bad).await;
        assert_eq!(error_of(&to), "OAuthCallback", "{bad}");
    }
    // The untouched return still works (nothing above spent the code).
    browser.cookies = flow.clone();
    let res = browser.get(&path).await;
    assert_eq!(location(&res), format!("{}/account", browser.base));
}

#[tokio::test]
async fn a_replayed_code_is_refused() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let path = path_of(back.url(), &browser);
    let flow = browser.cookies.clone();
    let res = browser.get(&path).await;
    assert_eq!(location(&res), format!("{}/account", browser.base));
    // The same return, flow cookie and all, from a fresh browser.
    let mut replay = browser.new_browser();
    replay.cookies = flow;
    let to = refused_return(&mut replay, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
}

#[tokio::test]
async fn an_answer_from_another_issuer_is_refused() {
    // RFC 9207: the `iss` of the answer must be the provider's.
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let flow = browser.cookies.clone();
    let mut parsed = url::Url::parse(back.url()).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    for iss in [Some("https://evil.example"), None] {
        {
            let mut q = parsed.query_pairs_mut();
            q.clear();
            for (k, v) in &pairs {
                if k != "iss" {
                    q.append_pair(k, v);
                }
            }
            if let Some(iss) = iss {
                q.append_pair("iss", iss);
            }
        }
        browser.cookies = flow.clone();
        let path = path_of(parsed.as_str(), &browser);
        let to = refused_return(&mut browser, &path).await;
        assert_eq!(error_of(&to), "OAuthCallback", "iss {iss:?}");
    }
}

#[tokio::test]
async fn a_bad_id_token_is_refused_each_way() {
    let mut browser = app_with("").await;
    for mode in [
        "nonce", "expired", "future", "aud", "none", "hs256", "iss", "kid",
    ] {
        let mut fresh = browser.new_browser();
        let res = sign_in_as(&mut fresh, "oidc-test", &format!("tamper-{mode}")).await;
        assert_eq!(res.status(), 302, "{mode}");
        let to = location(&res);
        assert_eq!(error_of(&to), "OAuthCallback", "{mode}: {to}");
        assert!(
            fresh.session().await.as_object().unwrap().is_empty(),
            "{mode}"
        );
    }
    // No user was made by any of them.
    let made: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email LIKE 'tamper-%'")
        .fetch_one(&browser.db().await)
        .await
        .unwrap();
    assert_eq!(made, 0);
    // And the same provider still signs in a good token.
    assert_eq!(
        location(&sign_in_as(&mut browser, "oidc-test", "alice").await),
        format!("{}/account", browser.base)
    );
}

#[tokio::test]
async fn a_callback_url_to_another_site_is_not_carried_through_the_flow() {
    let mut browser = app_with("").await;
    let token = browser.csrf_token().await;
    for evil in [
        "https://evil.example/",
        "//evil.example",
        "javascript:alert(1)",
    ] {
        let res = browser
            .post_form(
                "/api/auth/signin/oidc-test",
                &[
                    ("csrfToken", &token),
                    ("callbackUrl", evil),
                    ("json", "true"),
                ],
            )
            .await;
        assert_eq!(res.status(), 400, "{evil}");
    }
    // A same-site one is where the flow ends.
    let url = start(&mut browser, "oidc-test", "/account?tab=2").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let res = browser.get(&path_of(back.url(), &browser)).await;
    assert_eq!(location(&res), format!("{}/account?tab=2", browser.base));
}

#[tokio::test]
async fn an_existing_address_is_not_linked_silently() {
    // The provider's `demo` has the app's demo user's address.
    let mut browser = app_with("").await;
    let res = sign_in_as(&mut browser, "oidc-test", "demo").await;
    assert_eq!(error_of(&location(&res)), "OAuthAccountNotLinked");
    assert!(browser.session().await.as_object().unwrap().is_empty());
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_accounts")
        .fetch_one(&browser.db().await)
        .await
        .unwrap();
    assert_eq!(links, 0);
}

#[tokio::test]
async fn linking_by_a_verified_address_is_opt_in_and_needs_the_verification() {
    let config = open_sign_up(&oidc().provider_toml("oidc-test", "link_by_verified_email = true"));
    let mut browser = spawn(&config).await;
    let res = sign_in_as(&mut browser, "oidc-test", "demo").await;
    assert_eq!(location(&res), format!("{}/account", browser.base));
    assert_eq!(browser.session().await["user"]["email"], "demo@example.com");
    // bob's address is not verified at the provider: an account with it
    // (made here by a password sign-up) is not linked.
    let mut admin = browser.new_browser();
    admin
        .sesame
        .create_user(
            "bob@example.test",
            &sesame::server::NewPassword::parse("a long password for bob", &["bob@example.test"])
                .unwrap(),
            None,
        )
        .await
        .unwrap();
    let res = sign_in_as(&mut admin, "oidc-test", "bob").await;
    assert_eq!(error_of(&location(&res)), "OAuthAccountNotLinked");
}

#[tokio::test]
async fn sign_up_off_refuses_a_new_provider_account() {
    let config = format!(
        "{}\n[accounts]\nsign_up = \"off\"",
        oidc().provider_toml("oidc-test", ""),
    );
    let mut browser = spawn(&config).await;
    let res = sign_in_as(&mut browser, "oidc-test", "alice").await;
    assert_eq!(res.status(), 302);
    assert!(
        location(&res).contains("/api/auth/error?error=AccessDenied"),
        "{}",
        location(&res)
    );
}

/// A JSON start at `oidc-test` whose provider cannot be reached (or found):
/// 502 `OAuthSignin`. The CSRF token it used and the answer.
async fn start_unreachable(browser: &mut TestApp) -> (String, serde_json::Value) {
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            "/api/auth/signin/oidc-test",
            &[("csrfToken", &token), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 502);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "OAuthSignin");
    (token, body)
}

#[tokio::test]
async fn a_provider_that_is_down_answers_a_typed_error() {
    let down = Oidc::start();
    let config = open_sign_up(&down.provider_toml("oidc-test", ""));
    let mut browser = spawn(&config).await;
    drop(down);
    let (token, body) = start_unreachable(&mut browser).await;
    assert!(body["url"].as_str().unwrap().contains("error=OAuthSignin"));
    let res = browser
        .post_form("/api/auth/signin/oidc-test", &[("csrfToken", &token)])
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(error_of(&location(&res)), "OAuthSignin");
}

#[tokio::test]
async fn the_provider_s_error_is_answered_by_code_and_never_echoed() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let state = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let flow = browser.cookies.clone();
    let res = browser
        .get(&format!(
            "/api/auth/callback/oidc-test?error=access_denied&state={state}\
             &error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ))
        .await;
    let to = location(&res);
    assert_eq!(error_of(&to), "AccessDenied");
    assert!(!to.contains("script"));
    browser.cookies = flow;
    let res = browser
        .get(&format!(
            "/api/auth/callback/oidc-test?error=server_error&state={state}"
        ))
        .await;
    assert_eq!(error_of(&location(&res)), "OAuthCallback");
}

#[tokio::test]
async fn a_form_post_return_from_the_provider_s_site_signs_in() {
    let config =
        open_sign_up(&oidc().provider_toml("oidc-form-post", "response_mode = \"form_post\""));
    let mut browser = spawn(&config).await;
    let url = start(&mut browser, "oidc-form-post", "/account").await;
    assert!(url.contains("response_mode=form_post"));
    let Back::FormPost { action, fields } = sign_in_at_provider(&url, "alice").await else {
        panic!("a form post");
    };
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = browser
        .post_form_from(&path_of(&action, &browser), &fields, Some(&oidc().issuer))
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res), format!("{}/account", browser.base));
    assert_eq!(
        browser.session().await["user"]["email"],
        "alice@example.test"
    );
}

#[tokio::test]
async fn the_credentials_callback_still_refuses_another_site() {
    // The provider's return is the only cross-site POST let through.
    let mut browser = app_with("").await;
    let token = browser.csrf_token().await;
    let res = browser
        .post_form_from(
            "/api/auth/callback/credentials",
            &[
                ("email", common::EMAIL),
                ("password", common::PASSWORD),
                ("csrfToken", &token),
            ],
            Some(&oidc().issuer),
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn the_github_preset_signs_in_with_the_verified_primary_address() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "github-test", "/account").await;
    let parsed = url::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(!query.contains_key("nonce"), "plain OAuth 2.0");
    assert!(!query["scope"].contains("openid"));
    let back = sign_in_at_provider(&url, "alice").await;
    let res = browser.get(&path_of(back.url(), &browser)).await;
    assert_eq!(location(&res), format!("{}/account", browser.base));
    let session = browser.session().await;
    assert_eq!(session["user"]["email"], "alice@example.test");
    let (provider, account_id): (String, String) =
        sqlx::query_as("SELECT provider, provider_account_id FROM provider_accounts")
            .fetch_one(&browser.db().await)
            .await
            .unwrap();
    assert_eq!(provider, "github-test");
    assert_eq!(account_id, "1001", "GitHub's numeric id");
}

/// A provider's endpoint that answers with a redirect is not followed: it
/// could send the server anywhere it can reach (SSRF), the access token with
/// it. Each endpoint of the GitHub preset in turn, and an issuer's discovery,
/// answer a 307 to a place that would answer as the endpoint does: the
/// sign-in fails with the provider's error, and nothing arrives there.
#[tokio::test]
async fn a_provider_s_redirect_is_never_followed() {
    let i = &oidc().issuer;
    for (key, endpoint, error) in [
        ("github-token", "token", "OAuthSignin"),
        ("github-user", "github/user", "OAuthCallback"),
        ("github-emails", "github/user/emails", "OAuthCallback"),
    ] {
        let config = oidc().github_toml().replace(
            &format!("\"{i}/{endpoint}\""),
            &format!("\"{i}/test/moved/{key}/{endpoint}\""),
        );
        assert!(config.contains("/test/moved/"), "{endpoint} is moved");
        let mut browser = spawn(&open_sign_up(&config)).await;
        let res = sign_in_as(&mut browser, "github-test", "alice").await;
        assert_eq!(error_of(&location(&res)), error, "{endpoint}");
        assert!(browser.session().await.as_object().unwrap().is_empty());
        assert_eq!(
            oidc().landed(key).await,
            0,
            "{endpoint}'s redirect followed"
        );
    }
    let config = oidc().provider_toml("oidc-test", "").replace(
        &format!("\"{i}\""),
        &format!("\"{i}/test/moved/discovery\""),
    );
    let mut browser = spawn(&open_sign_up(&config)).await;
    start_unreachable(&mut browser).await;
    assert_eq!(
        oidc().landed("discovery").await,
        0,
        "discovery's redirect followed"
    );
}

#[tokio::test]
async fn rotated_provider_keys_are_fetched_again() {
    let own = Oidc::start();
    let config = open_sign_up(&own.provider_toml("oidc-test", ""));
    let mut browser = spawn(&config).await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    assert_eq!(
        location(&browser.get(&path_of(back.url(), &browser)).await),
        format!("{}/account", browser.base)
    );
    own.rotate_keys().await;
    // The app's cached keys are the old ones; the new ID token names the new.
    let mut again = browser.new_browser();
    let url = start(&mut again, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    assert_eq!(
        location(&again.get(&path_of(back.url(), &again)).await),
        format!("{}/account", again.base)
    );
}

/// Callbacks that see the provider's profile and refuse bob; events that
/// keep the audit log.
#[derive(Clone, Default)]
struct Seen {
    profiles: Arc<Mutex<Vec<ProviderProfile>>>,
    audit: Arc<Mutex<Vec<AuditEvent>>>,
}

#[async_trait]
impl Callbacks<AppUser> for Seen {
    async fn sign_in_with_provider(
        &self,
        user: &AppUser,
        profile: &ProviderProfile,
    ) -> SignInDecision {
        self.profiles.lock().unwrap().push(profile.clone());
        if user.email == "bob@example.test" {
            SignInDecision::Deny
        } else {
            SignInDecision::Allow
        }
    }
}

#[async_trait]
impl Events<AppUser> for Seen {
    async fn audit(&self, event: &AuditEvent) {
        self.audit.lock().unwrap().push(event.clone());
    }
}

#[tokio::test]
async fn the_application_s_callbacks_and_audit_log_see_the_provider() {
    let seen = Seen::default();
    let hooks = seen.clone();
    let config = open_sign_up(&oidc().provider_toml("oidc-test", ""));
    let mut browser = spawn_with(&config, move |b| b.callbacks(hooks.clone()).events(hooks)).await;
    let res = sign_in_as(&mut browser, "oidc-test", "alice").await;
    assert_eq!(location(&res), format!("{}/account", browser.base));
    let mut refused = browser.new_browser();
    let res = sign_in_as(&mut refused, "oidc-test", "bob").await;
    assert!(
        location(&res).contains("error=AccessDenied"),
        "{}",
        location(&res)
    );
    assert!(refused.session().await.as_object().unwrap().is_empty());
    let profiles = seen.profiles.lock().unwrap().clone();
    assert_eq!(profiles.len(), 2);
    assert_eq!(profiles[0].provider, "oidc-test");
    assert_eq!(profiles[0].account_id, "alice");
    assert_eq!(profiles[0].email.as_deref(), Some("alice@example.test"));
    assert!(profiles[0].email_verified);
    let audit = seen.audit.lock().unwrap().clone();
    let success = audit
        .iter()
        .find(|e| e.name() == "sign_in")
        .expect("a successful sign-in event");
    assert_eq!(success.provider.as_deref(), Some("oidc-test"));
    assert!(audit
        .iter()
        .any(|e| e.provider.as_deref() == Some("oidc-test") && e.name() == "sign_in_failed"));
}

/// POST `/api/auth/account/connect` for `provider` (JSON): the status and answer.
async fn connect(browser: &mut TestApp, provider: &str) -> (u16, serde_json::Value) {
    common::action(
        browser,
        "/api/auth/account/connect",
        &[
            ("provider", provider),
            ("callbackUrl", "/account/connections"),
        ],
    )
    .await
}

/// The signed-in user's connections (GET, JSON).
async fn connections(browser: &mut TestApp) -> serde_json::Value {
    let res = browser
        .get_with(
            "/api/auth/account/connections",
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// A connect flow through the provider as `login`: the app's redirect.
async fn connect_as(browser: &mut TestApp, provider: &str, login: &str) -> String {
    let (status, body) = connect(browser, provider).await;
    assert_eq!(status, 200, "{body}");
    let back = sign_in_at_provider(body["url"].as_str().unwrap(), login).await;
    let res = browser.get(&path_of(back.url(), browser)).await;
    assert_eq!(res.status(), 302);
    location(&res)
}

#[tokio::test]
async fn a_signed_in_user_connects_a_provider_account_and_signs_in_with_it() {
    let mut browser = app_with("[session]\ncache_ttl = \"0s\"").await;
    browser.sign_in_demo(false).await;
    let to = connect_as(&mut browser, "oidc-test", "frank").await;
    assert!(to.ends_with("/account/connections?done=connected"), "{to}");
    let list = connections(&mut browser).await;
    assert_eq!(list["connected"][0]["provider"], "oidc-test");
    assert_eq!(list["connected"][0]["email"], "frank@example.test");
    assert_eq!(list["has_password"], true);
    // The provider account now signs in as the demo user.
    let mut other = browser.new_browser();
    let res = sign_in_as(&mut other, "oidc-test", "frank").await;
    assert_eq!(location(&res), format!("{}/account", other.base));
    assert_eq!(other.session().await["user"]["email"], common::EMAIL);
    // The page lists it, with JavaScript off: plain forms.
    let page = browser
        .get("/account/connections")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("frank@example.test"), "{page}");
    assert!(page.contains(r#"action="/api/auth/account/disconnect""#));
    assert!(page.contains(r#"action="/api/auth/account/connect""#));
}

#[tokio::test]
async fn connecting_needs_a_session_a_recent_sign_in_and_an_unlinked_account() {
    let mut app = app_with("[session]\ncache_ttl = \"0s\"\nrecent_sign_in = \"10m\"").await;
    let mut visitor = app.new_browser();
    let (status, body) = connect(&mut visitor, "oidc-test").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
    // alice's provider account belongs to the user it made.
    let mut alice = app.new_browser();
    assert_eq!(
        sign_in_as(&mut alice, "oidc-test", "alice").await.status(),
        302
    );
    app.sign_in_demo(false).await;
    let to = connect_as(&mut app, "oidc-test", "alice").await;
    assert!(to.contains("error=OAuthAccountNotLinked"), "{to}");
    assert_eq!(
        connections(&mut app).await["connected"],
        serde_json::json!([])
    );
    // An old sign-in: connect again first.
    app.age_session("signed_in_at", 11 * 60).await;
    let (status, body) = connect(&mut app, "oidc-test").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("ReauthRequired"))
    );
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_disconnected() {
    let mut browser = app_with("[session]\ncache_ttl = \"0s\"").await;
    // A user made by the provider: no password, one link.
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    let list = connections(&mut browser).await;
    assert_eq!(list["has_password"], false);
    let disconnect = |account: &str| {
        [
            ("provider", "oidc-test".to_string()),
            ("accountId", account.to_string()),
        ]
    };
    let fields = disconnect("alice");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) =
        common::action(&mut browser, "/api/auth/account/disconnect", &fields).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("LastSignInMethod"))
    );
    // With a second way in, the first can go.
    let to = connect_as(&mut browser, "github-test", "alice").await;
    assert!(to.ends_with("/account/connections?done=connected"), "{to}");
    let (status, _) = common::action(&mut browser, "/api/auth/account/disconnect", &fields).await;
    assert_eq!(status, 200);
    let list = connections(&mut browser).await;
    assert_eq!(list["connected"].as_array().unwrap().len(), 1);
    assert_eq!(list["connected"][0]["provider"], "github-test");
    // Someone else's link, or one that is not there: refused.
    let (status, _) = common::action(&mut browser, "/api/auth/account/disconnect", &fields).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn two_disconnects_at_once_never_remove_the_last_way_in() {
    let mut browser = app_with(
        "[session]\ncache_ttl = \"0s\"\n[limits]\naccount_actions_per_session = \"1000/1min\"\n\
         account_actions_per_account = \"1000/1min\"",
    )
    .await;
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    let db = browser.db().await;
    let user: i64 = sqlx::query_scalar("SELECT user_id FROM provider_accounts")
        .fetch_one(&db)
        .await
        .unwrap();
    for round in 0..20 {
        // Two links; both removed at once.
        sqlx::query(
            "INSERT OR IGNORE INTO provider_accounts (provider, provider_account_id, user_id) \
             VALUES ('oidc-test', 'alice', ?), ('github-test', '1001', ?)",
        )
        .bind(user)
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
        let token = browser.csrf_token().await;
        let statuses = common::disconnect_both(
            [
                (browser.clone(), "oidc-test", "alice"),
                (browser.clone(), "github-test", "1001"),
            ],
            &token,
        )
        .await;
        assert_eq!(statuses, vec![200, 409], "round {round}");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_accounts")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_changed_flow_cookie_is_refused() {
    let mut browser = app_with("").await;
    let url = start(&mut browser, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let path = path_of(back.url(), &browser);
    let cookie = browser.cookies["sesame.oauth-flow"].clone();
    // One character changed (the sealed callbackUrl, state or verifier):
    // the cookie no longer opens.
    let mut changed = cookie.clone().into_bytes();
    let i = changed.len() / 2;
    changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
    browser.cookies.insert(
        "sesame.oauth-flow".into(),
        String::from_utf8(changed).unwrap(),
    );
    let to = refused_return(&mut browser, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
    // A cookie sealed by another deployment (another secret) does not open either.
    let mut other = spawn(&format!(
        "secret = \"{}\"\n{}\n[accounts]\nsign_up = \"open\"",
        "another-secret-another-secret-another-0123",
        oidc().provider_toml("oidc-test", "")
    ))
    .await;
    other.cookies.insert("sesame.oauth-flow".into(), cookie);
    let path = path.clone();
    let res = other.get(&path).await;
    assert_eq!(error_of(&location(&res)), "OAuthCallback");
}

#[tokio::test]
async fn provider_tokens_are_kept_only_when_asked_and_sealed() {
    let mut browser = app_with("").await;
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    let stored: (Option<String>,) = sqlx::query_as("SELECT access_token FROM provider_accounts")
        .fetch_one(&browser.db().await)
        .await
        .unwrap();
    assert_eq!(stored.0, None, "not kept by default");
    let config = open_sign_up(&oidc().provider_toml("oidc-test", "store_tokens = true"));
    let mut keeping = spawn(&config).await;
    assert_eq!(
        sign_in_as(&mut keeping, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    let (access, expires): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT access_token, expires_at FROM provider_accounts")
            .fetch_one(&keeping.db().await)
            .await
            .unwrap();
    let access = access.expect("kept");
    // Sealed: base64url of a 24-byte nonce and the ciphertext with its tag,
    // nothing readable; the provider's access tokens are 43 characters.
    assert!(access.len() > 43 + 32, "{access}");
    assert!(access
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert!(expires.is_some());
}

#[tokio::test]
async fn a_disabled_account_is_refused_through_its_provider_too() {
    let mut browser = app_with("").await;
    assert_eq!(
        sign_in_as(&mut browser, "oidc-test", "alice")
            .await
            .status(),
        302
    );
    sqlx::query("UPDATE users SET disabled_at = unixepoch() WHERE email = 'alice@example.test'")
        .execute(&browser.db().await)
        .await
        .unwrap();
    let mut again = browser.new_browser();
    let res = sign_in_as(&mut again, "oidc-test", "alice").await;
    assert!(
        location(&res).contains("error=AccessDenied"),
        "{}",
        location(&res)
    );
    assert!(again.session().await.as_object().unwrap().is_empty());
}

#[tokio::test]
async fn a_provider_without_an_address_cannot_make_an_account() {
    let mut browser = app_with("").await;
    let res = sign_in_as(&mut browser, "oidc-test", "nomail").await;
    assert_eq!(error_of(&location(&res)), "OAuthCallback");
    assert!(browser.session().await.as_object().unwrap().is_empty());
}

#[tokio::test]
async fn an_instance_that_never_asked_the_provider_still_requires_its_iss() {
    // The flow starts on A; B (same secret, never asked the provider for
    // its metadata) gets the return without `iss`.
    let mut on_a = app_with("").await;
    let b = app_with("").await;
    let url = start(&mut on_a, "oidc-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let mut parsed = url::Url::parse(back.url()).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "iss")
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    let path = format!("{}?{}", parsed.path(), parsed.query().unwrap());
    let mut on_b = b.browser_with(on_a.cookies.clone());
    let to = refused_return(&mut on_b, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
}

#[tokio::test]
async fn the_flow_cookie_survives_a_cross_site_form_post_only_where_it_must() {
    // On https, a `form_post` provider's flow cookie is `SameSite=None;
    // Secure` (the provider's POST back is cross-site); a redirecting
    // provider's stays `Lax`; on http (no `Secure` possible) it is `Lax`.
    let config = |site: &str| {
        format!(
            "{}\n{}\n[site]\nurl = \"{site}\"\n[accounts]\nsign_up = \"open\"",
            oidc().provider_toml("oidc-form-post", "response_mode = \"form_post\""),
            oidc().provider_toml("oidc-test", ""),
        )
    };
    let site = "https://auth.example.com";
    let mut https = spawn(&config(site)).await;
    let token = https.csrf_token().await;
    for (provider, same_site) in [("oidc-form-post", "None"), ("oidc-test", "Lax")] {
        let res = https
            .post_form_from(
                &format!("/api/auth/signin/{provider}"),
                &[("csrfToken", &token), ("json", "true")],
                Some(site),
            )
            .await;
        assert_eq!(res.status(), 200, "{provider}");
        let cookie = common::set_cookie(&res, "__Host-sesame.oauth-flow").expect("the flow cookie");
        assert!(
            cookie.contains(&format!("SameSite={same_site}")),
            "{cookie}"
        );
        assert!(
            cookie.contains("; Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
    }
    let mut http = spawn(&config("http://127.0.0.1:1")).await;
    let token = http.csrf_token().await;
    let res = http
        .post_form_from(
            "/api/auth/signin/oidc-form-post",
            &[("csrfToken", &token), ("json", "true")],
            Some("http://127.0.0.1:1"),
        )
        .await;
    let cookie = common::set_cookie(&res, "sesame.oauth-flow").expect("the flow cookie");
    assert!(
        cookie.contains("SameSite=Lax") && !cookie.contains("Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn a_flow_started_for_one_provider_is_refused_at_another_s_return() {
    // The same provider server behind two ids: a return carried to the
    // other id's callback, flow cookie and all, is refused.
    let mut browser = app_with("").await;
    let url = start(&mut browser, "github-test", "/account").await;
    let back = sign_in_at_provider(&url, "alice").await;
    let path =
        path_of(back.url(), &browser).replace("/callback/github-test", "/callback/oidc-test");
    let to = refused_return(&mut browser, &path).await;
    assert_eq!(error_of(&to), "OAuthCallback");
}
