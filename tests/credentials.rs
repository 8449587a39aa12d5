//! Black-box tests of the credentials flow against the real server: the
//! contract's statuses and bodies, JSON and form modes, CSRF, callbackUrl.

mod common;

use common::{set_cookie, spawn, spawn_with, EMAIL, PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn csrf_endpoint_sets_the_cookie_and_is_not_cached() {
    let mut app = spawn("").await;
    let res = app.get("/api/auth/csrf").await;
    assert_eq!(res.status(), 200);
    let cache = res.headers()["cache-control"].to_str().unwrap().to_string();
    assert!(cache.contains("no-store"), "{cache}");
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.starts_with("sesame.csrf-token="), "{set_cookie}");
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Path=/")
    );
    let body: Value = res.json().await.unwrap();
    let token = body["csrfToken"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    // The same cookie gives the same token, and no new cookie.
    let again = app.get("/api/auth/csrf").await;
    assert!(again.headers().get("set-cookie").is_none());
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["csrfToken"], token.as_str());
}

#[tokio::test]
async fn signed_out_session_is_an_empty_object() {
    let mut app = spawn("").await;
    let res = app.get("/api/auth/session").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-store"));
    assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
}

#[tokio::test]
async fn json_sign_in_with_the_right_password() {
    let mut app = spawn("").await;
    let res = app.sign_in_json(EMAIL, PASSWORD, "/account").await;
    assert_eq!(res.status(), 200);
    let session_cookie = set_cookie(&res, "sesame.session-token").expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(session_cookie.contains("Path=/"), "{session_cookie}");
    assert!(!session_cookie.contains("Secure"), "plain http: no Secure");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["url"], format!("{}/account", app.base));
    assert!(body.get("error").is_none());
    // Sesame: the answer carries the new session (no extra round trip).
    assert_eq!(body["session"]["user"]["email"], EMAIL);

    let session = app.session().await;
    assert_eq!(session["user"]["email"], EMAIL);
    assert_eq!(session["user"]["name"], "Demo User");
    assert_eq!(
        session["expires"], body["session"]["expires"],
        "one expiry, both places"
    );
    assert!(session["expires"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn json_sign_in_with_a_wrong_password_or_unknown_user_is_401_and_alike() {
    let mut app = spawn("").await;
    let wrong = app.sign_in_json(EMAIL, "not the password", "/").await;
    assert_eq!(wrong.status(), 401);
    let wrong: Value = wrong.json().await.unwrap();
    assert_eq!(
        wrong,
        json!({
            "url": format!("{}/api/auth/error?error=CredentialsSignin&provider=credentials", app.base),
            "error": "CredentialsSignin"
        })
    );
    assert_eq!(app.session_cookie(), None);
    assert_eq!(app.session().await, json!({}));

    let unknown = app
        .sign_in_json("nobody@example.com", "whatever", "/")
        .await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(unknown.json::<Value>().await.unwrap(), wrong);
}

#[tokio::test]
async fn form_sign_in_redirects() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", "wrong"),
                ("csrfToken", &token),
                ("callbackUrl", "/account"),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!(
            "/api/auth/signin?callbackUrl=http%3A%2F%2F{}%2Faccount&error=CredentialsSignin",
            &app.base[7..].replace(':', "%3A")
        )
    );
    assert_eq!(app.session_cookie(), None);

    let res = app
        .post_demo_credentials(&token, &[("callbackUrl", "/account")])
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        format!("{}/account", app.base).as_str()
    );
    assert!(app.session_cookie().is_some());
    assert_eq!(app.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn missing_or_wrong_csrf_token_is_refused_without_a_session() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let forged = "a".repeat(64);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("email", EMAIL), ("password", PASSWORD), ("json", "true")],
        vec![
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrfToken", "0000"),
            ("json", "true"),
        ],
        vec![
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrfToken", &forged),
            ("json", "true"),
        ],
    ];
    for fields in cases {
        let res = app
            .post_form("/api/auth/callback/credentials", &fields)
            .await;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "MissingCSRF");
        assert!(body["url"]
            .as_str()
            .unwrap()
            .ends_with("/api/auth/error?error=MissingCSRF"));
        assert_eq!(app.session_cookie(), None);
    }
    // The right token without its cookie (a forged cross-site form) fails too.
    app.cookies.clear();
    let res = app.post_demo_credentials(&token, &[("json", "true")]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.session().await, json!({}));
}

#[tokio::test]
async fn foreign_callback_url_is_refused_and_not_followed() {
    let mut app = spawn("").await;
    // (tests/attacks.rs tries the whole list of tricks.)
    for evil in ["https://evil.test/"] {
        let res = app.sign_in_json(EMAIL, PASSWORD, evil).await;
        assert_eq!(res.status(), 400, "{evil}");
        assert!(res.headers().get("location").is_none());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "InvalidCallbackUrl");
        assert!(!body["url"].as_str().unwrap().contains("evil"));
        assert_eq!(app.session_cookie(), None, "{evil}: no session");
    }
    // A plain form post goes to the error page, never to the foreign site.
    let token = app.csrf_token().await;
    let res = app
        .post_demo_credentials(&token, &[("callbackUrl", "https://evil.test/")])
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with("/api/auth/error?error=InvalidCallbackUrl"),
        "{location}"
    );
    assert_eq!(app.session_cookie(), None);
}

#[tokio::test]
async fn cross_origin_posts_are_refused() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let fields = [
        ("email", EMAIL),
        ("password", PASSWORD),
        ("csrfToken", token.as_str()),
        ("json", "true"),
    ];
    for origin in [Some("https://evil.test"), Some("null"), None] {
        let res = app
            .post_form_from("/api/auth/callback/credentials", &fields, origin)
            .await;
        assert_eq!(res.status(), 403, "{origin:?}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "MissingCSRF");
        assert_eq!(app.session_cookie(), None);
    }
}

#[tokio::test]
async fn sign_in_rotates_the_session_id_and_sign_out_kills_it() {
    let mut app = spawn("").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let first = app.session_cookie().unwrap();
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let second = app.session_cookie().unwrap();
    assert_ne!(first, second, "a new id at every sign-in");
    // The pre-sign-in id is gone.
    app.cookies
        .insert("sesame.session-token".into(), first.clone());
    assert_eq!(app.session().await, json!({}));
    app.cookies
        .insert("sesame.session-token".into(), second.clone());
    assert_eq!(app.session().await["user"]["email"], EMAIL);

    let token = app.csrf_token().await;
    let res = app
        .post_form(
            "/api/auth/signout",
            &[
                ("csrfToken", &token),
                ("callbackUrl", "/"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let body = res.json::<Value>().await.unwrap();
    assert_eq!(body["url"], format!("{}/", app.base));
    assert_eq!(
        body["csrfToken"],
        app.cookie_token(),
        "the answer carries the rotated token"
    );
    assert_eq!(app.session_cookie(), None, "the cookie is cleared");
    // Replaying the old cookie gets no session, and the store holds no live session.
    app.cookies.insert("sesame.session-token".into(), second);
    assert_eq!(app.session().await, json!({}));
    assert_eq!(app.auth().live_sessions().await.unwrap(), 0);
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token() {
    let mut app = spawn("").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let res = app
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", "forged"), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn default_sign_in_page_renders_the_form() {
    let mut app = spawn("").await;
    let res = app
        .get("/api/auth/signin?callbackUrl=%2Faccount&error=CredentialsSignin")
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"action="/api/auth/callback/credentials""#),
        "{html}"
    );
    assert!(html.contains(r#"name="csrfToken""#));
    assert!(html.contains(r#"name="callbackUrl" value="/account""#));
    assert!(html.contains("Sign in failed. Check the details you provided are correct."));
    let token = app
        .cookies
        .get("sesame.csrf-token")
        .expect("csrf cookie")
        .split('|')
        .next()
        .unwrap()
        .to_string();
    assert!(
        html.contains(&format!(r#"value="{token}""#)),
        "the form carries the cookie's token"
    );
}

#[tokio::test]
async fn configured_sign_in_page_takes_over() {
    let mut app = spawn("[pages]\nsign_in = \"/sign-in\"").await;
    let res = app.get("/api/auth/signin?callbackUrl=%2Faccount").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/sign-in?callbackUrl=%2Faccount");
}

#[tokio::test]
async fn protected_page_redirects_signed_out_visitors() {
    let mut app = spawn("").await;
    let res = app.get("/account").await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/api/auth/signin?callbackUrl=%2Faccount"
    );
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let res = app.get("/account").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains(EMAIL));
}

/// An application's own user store (`SesameBuilder::users`): a password
/// sign-in checks that store's row, never the row of Sesame's own `users`
/// table that the sign-in's read (one statement with the revocation
/// sequence) finds for the same address.
#[tokio::test]
async fn an_applications_user_store_is_checked_not_sesames_own_table() {
    use sesame::server::{
        config::Config,
        stores::{self, sqlite::SqliteUserStore, Database},
        NewPassword,
    };
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_toml_str(&format!(
        "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"sqlite://{}/app-users.db\"",
        dir.path().display()
    ))
    .unwrap();
    let db = stores::connect(&config.database).await.unwrap();
    stores::migrate(&db).await.unwrap();
    let Database::Sqlite(pool) = db else {
        unreachable!("a SQLite URL")
    };
    let mut app = spawn_with("", move |b| b.users(SqliteUserStore::new(pool))).await;
    // The demo user is in the application's store. Sesame's own table gets
    // the same address with another password (its hash made by the server).
    let own_table = "a password of sesame's own table";
    let hash = app
        .sesame
        .create_user(
            "scratch@example.com",
            &NewPassword::parse(own_table, &[]).unwrap(),
            None,
        )
        .await
        .unwrap()
        .password_hash;
    sqlx::query(
        "INSERT INTO users (email, password_hash, email_verified_at) VALUES (?, ?, unixepoch())",
    )
    .bind(EMAIL)
    .bind(&hash)
    .execute(&app.db().await)
    .await
    .unwrap();

    assert_eq!(app.sign_in_json(EMAIL, own_table, "/").await.status(), 401);
    assert_eq!(app.session().await, json!({}));
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(app.session().await["user"]["email"], EMAIL);
}
