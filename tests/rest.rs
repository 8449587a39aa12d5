//! Black-box tests of the rest of the REST surface: providers, session update,
//! the sign-out and error pages, `pages.*`, unknown actions, callbacks and
//! events, route protection, language and theme.

mod common;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use async_trait::async_trait;
use common::{spawn, spawn_with, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use sesame::{
    server::{
        Authorize, AuthorizeError, Callbacks, Credentials, Events, SessionData, SignInDecision,
    },
    Session,
};
use sesame_app::user::AppUser;

#[tokio::test]
async fn providers_lists_credentials() {
    let mut app = spawn("").await;
    let res = app.get("/api/auth/providers").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"credentials": {
            "id": "credentials",
            "name": "Credentials",
            "type": "credentials",
            "signinUrl": format!("{}/api/auth/signin/credentials", app.base),
            "callbackUrl": format!("{}/api/auth/callback/credentials", app.base),
        }})
    );
    // The advertised signinUrl leads to the sign-in page.
    let res = app.get("/api/auth/signin/credentials").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/api/auth/signin");
}

#[tokio::test]
async fn session_update_is_csrf_checked_and_answers_the_new_session() {
    let mut app = spawn("").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let token = app.csrf_token().await;

    let forged = app
        .post_json(
            "/api/auth/session",
            json!({"csrfToken": "nope", "data": {"name": "Mallory"}}),
        )
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.session().await["user"]["name"], "Demo User");

    let res = app
        .post_json(
            "/api/auth/session",
            json!({"csrfToken": token, "data": {"name": "Renamed"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["name"], "Renamed");
    assert_eq!(app.session().await["user"]["name"], "Renamed");

    // As a form too.
    let res = app
        .post_form("/api/auth/session", &[("csrfToken", &token), ("data", "")])
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn session_update_when_signed_out_is_empty() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let res = app
        .post_json(
            "/api/auth/session",
            json!({"csrfToken": token, "data": {"name": "x"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
}

#[tokio::test]
async fn csrf_and_session_are_never_cached() {
    let mut app = spawn("").await;
    for path in ["/api/auth/csrf", "/api/auth/session"] {
        let res = app.get(path).await;
        let cache = res.headers()["cache-control"].to_str().unwrap();
        assert!(
            cache.contains("no-store") && cache.contains("private"),
            "{path}: {cache}"
        );
    }
}

#[tokio::test]
async fn unknown_actions_are_400() {
    let mut app = spawn("").await;
    for (method, path) in [
        (Method::GET, "/api/auth/nope"),
        (Method::GET, "/api/auth"),
        (Method::GET, "/api/auth/"),
        (Method::GET, "/api/auth/callback/credentials"),
        (Method::POST, "/api/auth/csrf"),
        (Method::POST, "/api/auth/providers"),
        (Method::DELETE, "/api/auth/session"),
        (Method::PUT, "/api/auth/signout"),
        (Method::POST, "/api/auth/callback/github"),
        (Method::GET, "/api/auth/session/extra"),
    ] {
        let res = app.request(method.clone(), path).await;
        assert_eq!(res.status(), 400, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "UnknownAction");
    }
}

#[tokio::test]
async fn sign_out_page_has_a_csrf_form() {
    let mut app = spawn("").await;
    let res = app.get("/api/auth/signout?callbackUrl=%2Faccount").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"action="/api/auth/signout""#), "{html}");
    assert!(html.contains(r#"name="callbackUrl" value="/account""#));
    let token = app.cookies["sesame.csrf-token"]
        .split('|')
        .next()
        .unwrap()
        .to_string();
    assert!(html.contains(&format!(r#"name="csrfToken" value="{token}""#)));
}

#[tokio::test]
async fn error_page_statuses_follow_the_contract() {
    let mut app = spawn("").await;
    for (code, status) in [
        ("Configuration", 500),
        ("AccessDenied", 403),
        ("Verification", 403),
        ("MissingCSRF", 403),
        ("InvalidCallbackUrl", 400),
        ("default", 200),
        ("SomethingElse", 200),
    ] {
        let res = app.get(&format!("/api/auth/error?error={code}")).await;
        assert_eq!(res.status(), status, "{code}");
        let html = res.text().await.unwrap();
        assert!(html.contains("Unable to sign in"), "{code}");
    }
    // Sign-in errors go back to the sign-in page.
    let res = app.get("/api/auth/error?error=CredentialsSignin").await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        "/api/auth/signin?error=CredentialsSignin"
    );
}

#[tokio::test]
async fn configured_pages_take_over() {
    let mut app = spawn("[pages]\nsign_out = \"/bye\"\nerror = \"/oops\"").await;
    let res = app.get("/api/auth/signout?callbackUrl=%2F").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/bye?callbackUrl=%2F");
    let res = app.get("/api/auth/error?error=AccessDenied").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/oops?error=AccessDenied");
}

/// Callbacks that refuse one user, redirect another, and shape the session.
struct TestCallbacks;

#[async_trait]
impl Callbacks<AppUser> for TestCallbacks {
    async fn sign_in(&self, user: &AppUser) -> SignInDecision {
        match user.email.as_str() {
            "banned@example.com" => SignInDecision::Deny,
            "pending@example.com" => SignInDecision::Redirect("/verify-first".into()),
            _ => SignInDecision::Allow,
        }
    }

    fn session(&self, mut session: Session, data: &SessionData) -> Session {
        session.extra.insert("userId".into(), json!(data.user_id));
        session
    }
}

#[derive(Default, Clone)]
struct Counter(Arc<AtomicUsize>, Arc<AtomicUsize>);

#[async_trait]
impl Events<AppUser> for Counter {
    async fn sign_in(&self, _user: &AppUser) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    async fn sign_out(&self, _user_id: Option<&str>) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn callbacks_shape_the_flow_and_events_fire() {
    let events = Counter::default();
    let seen = events.clone();
    let mut app = spawn_with("", move |b| b.callbacks(TestCallbacks).events(events)).await;
    app.add_user("banned@example.com").await;
    app.add_user("pending@example.com").await;

    // A refused account answers exactly as a wrong password: the answer after
    // the right password must not tell that it was right.
    let refused = app.sign_in_json("banned@example.com", PASSWORD, "/").await;
    let (status, body) = (refused.status(), refused.text().await.unwrap());
    let wrong = app
        .sign_in_json("banned@example.com", "not the password", "/")
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        (status, body),
        (wrong.status(), wrong.text().await.unwrap())
    );
    assert_eq!(app.session_cookie(), None);

    let res = app.sign_in_json("pending@example.com", PASSWORD, "/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["url"],
        format!("{}/verify-first", app.base)
    );
    assert_eq!(
        app.session_cookie(),
        None,
        "a redirect from the callback starts no session"
    );
    assert_eq!(seen.0.load(Ordering::SeqCst), 0);

    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(seen.0.load(Ordering::SeqCst), 1);
    let session = app.session().await;
    assert_eq!(session["user"]["email"], EMAIL);
    assert!(
        session["userId"].is_string(),
        "the session callback's field: {session}"
    );

    let token = app.csrf_token().await;
    app.post_form(
        "/api/auth/signout",
        &[("csrfToken", &token), ("json", "true")],
    )
    .await;
    assert_eq!(seen.1.load(Ordering::SeqCst), 1);
}

/// A `session` callback that numbers the views it makes.
struct NumberedViews(Arc<AtomicUsize>);

#[async_trait]
impl Callbacks<AppUser> for NumberedViews {
    fn session(&self, mut session: Session, _data: &SessionData) -> Session {
        let view = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        session.extra.insert("view".into(), json!(view));
        session
    }
}

/// `n` session checks at once with `cookie`, their JSON answers.
async fn checks_at_once(app: &common::TestApp, cookie: &str, n: usize) -> Vec<Value> {
    let requests = (0..n).map(|_| {
        app.client
            .get(format!("{}/api/auth/session", app.base))
            .header("cookie", cookie)
            .send()
    });
    let mut answers = Vec::new();
    for res in futures::future::join_all(requests).await {
        let res = res.unwrap();
        assert_eq!(res.status(), 200);
        answers.push(res.json().await.unwrap());
    }
    answers
}

#[tokio::test]
async fn the_session_check_makes_one_view_per_version_and_none_outlives_its_session() {
    let made = Arc::new(AtomicUsize::new(0));
    let counted = made.clone();
    let mut app = spawn_with("", move |b| b.callbacks(NumberedViews(counted))).await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let cookie = format!("sesame.session-token={}", app.session_cookie().unwrap());
    // Many checks of one version, at once: the callback ran once for them
    // all, and each answer is that view.
    let before = made.load(Ordering::SeqCst);
    let answers = checks_at_once(&app, &cookie, 16).await;
    let views: Vec<&Value> = answers.iter().map(|a| &a["view"]).collect();
    assert_eq!(made.load(Ordering::SeqCst), before + 1, "views: {views:?}");
    assert!(answers
        .iter()
        .all(|a| a["view"] == before + 1 && a["user"]["email"] == EMAIL));
    for round in 0..5 {
        // An update is a new version: the next checks show it, in one view of
        // their own (the update's answer made one too, through the stack).
        let token = app.csrf_token().await;
        let name = format!("Renamed {round}");
        let res = app
            .post_json(
                "/api/auth/session",
                json!({"csrfToken": token, "data": {"name": name}}),
            )
            .await;
        assert_eq!(res.status(), 200);
        let before = made.load(Ordering::SeqCst);
        let answers = checks_at_once(&app, &cookie, 16).await;
        assert_eq!(made.load(Ordering::SeqCst), before + 1, "round {round}");
        assert!(
            answers
                .iter()
                .all(|a| a["view"] == before + 1 && a["user"]["name"] == name),
            "round {round}: {answers:?}"
        );
    }

    // A signed-out session's view, made and kept just before, is never served.
    let token = app.csrf_token().await;
    checks_at_once(&app, &cookie, 16).await;
    assert_eq!(app.sign_out_with(&token).await, 200);
    for answer in checks_at_once(&app, &cookie, 16).await {
        assert_eq!(answer, json!({}), "an ended session's view was served");
    }
}

#[tokio::test]
async fn redirect_origins_extend_the_callback_policy_and_nothing_else() {
    let mut app = spawn("[site]\nredirect_origins = [\"https://app.example.com\"]").await;
    let res = app
        .sign_in_json(EMAIL, PASSWORD, "https://app.example.com/home")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["url"],
        "https://app.example.com/home"
    );
    let res = app
        .sign_in_json(EMAIL, PASSWORD, "https://other.example.com/")
        .await;
    assert_eq!(res.status(), 400);
    // A redirect target is not an origin that may post here.
    let token = app.csrf_token().await;
    let res = app
        .post_form_from(
            "/api/auth/signout",
            &[("csrfToken", &token), ("json", "true")],
            Some("https://app.example.com"),
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn request_origins_may_post_but_are_no_redirect_target() {
    let mut app = spawn("[site]\nrequest_origins = [\"https://app.example.com\"]").await;
    let token = app.csrf_token().await;
    let res = app
        .post_form_from(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrfToken", &token),
                ("json", "true"),
            ],
            Some("https://app.example.com"),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .sign_in_json(EMAIL, PASSWORD, "https://app.example.com/home")
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "InvalidCallbackUrl"
    );
}

/// A signed-out request for `path`: an API call gets 401 `SessionRequired`, a
/// browser a 302 to the sign-in page with `callbackUrl` (`encoded_back`) back
/// to `path?x=1`.
async fn assert_sign_in_required(app: &mut common::TestApp, path: &str, encoded_back: &str) {
    let res = app.get_with(path, &[("accept", "application/json")]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "SessionRequired"
    );
    let res = app.get(&format!("{path}?x=1")).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"],
        format!("/api/auth/signin?callbackUrl={encoded_back}").as_str()
    );
}

#[tokio::test]
async fn api_routes_and_server_functions_are_guarded() {
    let mut app = spawn("").await;
    assert_sign_in_required(&mut app, "/api/me", "%2Fapi%2Fme%3Fx%3D1").await;
    let res = app.request(Method::POST, "/api/account/details").await;
    assert_eq!(res.status(), 401);

    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let res = app
        .get_with("/api/me", &[("accept", "application/json")])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["email"], EMAIL);
    let res = app.request(Method::POST, "/api/account/details").await;
    assert_eq!(res.status(), 200);
    let details: Value = res.json().await.unwrap();
    assert!(details["signed_in_at"].is_string());
    assert_eq!(details["role"], "member");
}

/// An application `authorize` whose backend fails.
struct BrokenDirectory;

#[async_trait]
impl Authorize for BrokenDirectory {
    type User = AppUser;

    async fn authorize(
        &self,
        _credentials: &Credentials,
    ) -> Result<Option<AppUser>, AuthorizeError> {
        Err(AuthorizeError::Other("the directory is down".into()))
    }
}

#[tokio::test]
async fn an_authorize_error_answers_as_a_wrong_password_and_counts_as_a_failure() {
    let mut app = spawn_with("[limits.lockout]\nfree_failures = 2", |b| {
        b.authorize(BrokenDirectory)
    })
    .await;
    // Not a 503 "busy" (that is for a full hashing gate, and counts nothing):
    // the client cannot tell the failure from a wrong password...
    for _ in 0..2 {
        let res = app.sign_in_json(EMAIL, PASSWORD, "/").await;
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            "CredentialsSignin"
        );
    }
    // ...and it counts: past the free failures the account waits.
    let res = app.sign_in_json(EMAIL, PASSWORD, "/").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_current_user_extractor_refuses_or_serves() {
    let mut app = spawn("").await;
    assert_sign_in_required(&mut app, "/api/user", "%2Fapi%2Fuser%3Fx%3D1").await;
    let res = app.get("/api/visitor").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["signedIn"], false);

    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let res = app.get("/api/user").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["email"], EMAIL);
    let res = app.get("/api/visitor").await;
    assert_eq!(res.json::<Value>().await.unwrap()["signedIn"], true);
}

#[tokio::test]
async fn the_session_carries_the_apps_own_user_type() {
    let mut app = spawn("admins = [\" Demo@Example.com \"]").await;
    app.add_user("member@example.com").await;
    // The demo user is an administrator: the extractor gives the app's
    // `AppUser` back, and the `session` callback shows the role.
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let user: Value = app.get("/api/user").await.json().await.unwrap();
    assert_eq!(user["email"], EMAIL);
    assert_eq!(user["name"], "Demo User");
    assert_eq!(user["role"], "admin");
    let session: Value = app.get("/api/auth/session").await.json().await.unwrap();
    assert_eq!(session["role"], "admin");
    assert_eq!(session["user"]["email"], EMAIL);

    let token = app.csrf_token().await;
    assert_eq!(app.sign_out_with(&token).await, 200);
    let res = app.sign_in_json("member@example.com", PASSWORD, "/").await;
    assert_eq!(res.status(), 200);
    let user: Value = app.get("/api/user").await.json().await.unwrap();
    assert_eq!(user["role"], "member");
    assert!(user["id"].as_str().is_some_and(|id| !id.is_empty()));
    let session: Value = app.get("/api/auth/session").await.json().await.unwrap();
    assert_eq!(session["role"], "member");
}

/// The `<html ...>` start tag of a page.
fn html_tag(html: &str) -> &str {
    let start = html.find("<html").expect("an <html> tag");
    let end = start + html[start..].find('>').unwrap();
    &html[start..=end]
}

#[tokio::test]
async fn pages_speak_the_visitors_language() {
    let mut app = spawn("").await;
    let res = app
        .get_with(
            "/api/auth/signin",
            &[
                ("accept", "text/html"),
                ("accept-language", "de-DE,de;q=0.9,en;q=0.5"),
            ],
        )
        .await;
    let html = res.text().await.unwrap();
    assert!(html_tag(&html).contains(r#"lang="de""#), "{html}");
    assert!(html.contains("Mit Zugangsdaten anmelden"));
    assert!(html.contains(">Passwort<"));

    // `?lang=` overrides the header and is remembered in a cookie.
    let res = app
        .get_with(
            "/api/auth/signin?lang=en",
            &[("accept", "text/html"), ("accept-language", "de")],
        )
        .await;
    assert!(html_tag(&res.text().await.unwrap()).contains(r#"lang="en""#));
    assert_eq!(
        app.cookies.get("sesame.lang").map(String::as_str),
        Some("en")
    );
    let res = app
        .get_with(
            "/api/auth/signin",
            &[("accept", "text/html"), ("accept-language", "de")],
        )
        .await;
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Sign in with Credentials"));
}

#[tokio::test]
async fn theme_applies_to_the_built_in_pages() {
    let mut app = spawn(
        "[theme]\ncolor_scheme = \"dark\"\nbrand_color = \"#aa3300\"\nbutton_text = \"#ffffff\"\nlogo = \"/logo.svg\"",
    )
    .await;
    let html = app.get("/api/auth/signin").await.text().await.unwrap();
    assert!(html.contains(r#"data-color-scheme="dark""#), "{html}");
    assert!(html.contains("--brand: #aa3300;--brand-text: #ffffff;"));
    assert!(html.contains(r#"src="/logo.svg""#));
}
