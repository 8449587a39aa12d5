//! Black-box tests of account administration: disabled accounts, a new
//! password, the per-user session index, and ending a user's sessions at once,
//! also against sign-ins racing it.

mod common;

use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc, Mutex, OnceLock,
};

use common::{action, spawn, spawn_with, EMAIL, PASSWORD};
use sesame::server::{
    async_trait,
    audit::{AuditAction, AuditEvent, Outcome},
    Auth, Callbacks, Events, NewPassword, SessionHandle, SignInDecision,
};
use sesame_app::user::AppUser;

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// Signs the demo user in from a browser with this `User-Agent`: the status.
async fn sign_in_as(browser: &mut common::TestApp, user_agent: &str) -> u16 {
    let token = browser.csrf_token().await;
    browser
        .post_form_with(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrfToken", &token),
                ("json", "true"),
            ],
            &[("user-agent", user_agent)],
        )
        .await
        .status()
        .as_u16()
}

async fn demo_id(app: &common::TestApp) -> String {
    app.auth()
        .user_by_email(EMAIL)
        .await
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn a_disabled_user_is_answered_as_a_wrong_password_and_their_sessions_end_at_once() {
    let app = spawn("").await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(a.session().await["user"]["email"], EMAIL);

    let ended = app.auth().set_disabled(EMAIL, true).await.unwrap();
    assert_eq!(ended, 2);
    // At once: the next request of each browser is signed out.
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(b.session().await, serde_json::json!({}));
    // The right password gets exactly the wrong password's answer.
    let mut c = app.new_browser();
    let disabled = c.sign_in_json(EMAIL, PASSWORD, "/").await;
    let status = disabled.status();
    let body: serde_json::Value = disabled.json().await.unwrap();
    let wrong = c.sign_in_json(EMAIL, "not the password", "/").await;
    assert_eq!(status, wrong.status());
    assert_eq!(status, 401);
    let wrong_body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body, wrong_body);
    assert_eq!(body["error"], "CredentialsSignin");

    // Enabled again, the account signs in.
    assert_eq!(app.auth().set_disabled(EMAIL, false).await.unwrap(), 0);
    assert_eq!(c.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let user = app.auth().user_by_email(EMAIL).await.unwrap();
    assert!(!user.is_disabled());
}

#[tokio::test]
async fn a_new_password_ends_the_other_sessions_and_keeps_the_one_asked_for() {
    let app = spawn("").await;
    let mut keep = app.new_browser();
    let mut other = app.new_browser();
    assert_eq!(sign_in_as(&mut keep, "keeper").await, 200);
    assert_eq!(other.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let sessions = app.auth().sessions_of(&demo_id(&app).await).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let kept = sessions
        .iter()
        .find(|s| s.data.user_agent.as_deref() == Some("keeper"))
        .unwrap()
        .handle;

    let new = NewPassword::parse("a brand new passphrase", &[EMAIL]).unwrap();
    let ended = app
        .auth()
        .set_password(EMAIL, &new, Some(&kept))
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(keep.session().await["user"]["email"], EMAIL);
    assert_eq!(other.session().await, serde_json::json!({}));
    let mut fresh = app.new_browser();
    assert_eq!(fresh.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    let res = fresh
        .sign_in_json(EMAIL, "a brand new passphrase", "/")
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn sessions_are_listed_per_user_with_where_they_came_from() {
    let app = spawn("").await;
    let mut a = app.new_browser();
    assert_eq!(sign_in_as(&mut a, UA).await, 200);
    let sessions = app.auth().sessions_of(&demo_id(&app).await).await.unwrap();
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(s.data.user_agent.as_deref(), Some(UA));
    assert_eq!(s.data.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        sesame::server::describe_user_agent(s.data.user_agent.as_deref()),
        "Firefox 128 on Linux"
    );
    // The handle round-trips through its text and names no other user's session.
    let handle = SessionHandle::parse(&s.handle.to_string()).unwrap();
    assert_eq!(handle, s.handle);
    assert!(!app.auth().end_session("999", &handle).await.unwrap());
    assert_eq!(a.session().await["user"]["email"], EMAIL);
    assert!(app
        .auth()
        .end_session(&demo_id(&app).await, &handle)
        .await
        .unwrap());
    assert_eq!(a.session().await, serde_json::json!({}));
    assert!(app.auth().sessions_of("999").await.unwrap().is_empty());
}

/// Sign-ins racing the disabling of their account: whichever wins, once both
/// are done no session of the user is left, in the table or in any browser
/// (some rounds disable after a sign-in was answered, so that its stored
/// session is one the disable must end).
/// (Without the revocation sequence, a sign-in whose password check passed
/// before the disable stores its session after it, and keeps it.)
#[tokio::test]
async fn ending_a_users_sessions_is_final_against_sign_ins_racing_it() {
    revocation_race(spawn("").await).await;
}

/// The same race on PostgreSQL (with the session cache in Redis), where
/// writes run side by side and the revocation rule rests on a table lock.
#[tokio::test]
async fn ending_a_users_sessions_is_final_against_sign_ins_racing_it_on_postgres() {
    let shared =
        common::services::scale_out(common::services::postgres(), common::services::redis());
    revocation_race(spawn(&shared).await).await;
}

async fn revocation_race(app: common::TestApp) {
    let user_id = demo_id(&app).await;
    let mut browsers: Vec<common::TestApp> = (0..6).map(|_| app.new_browser()).collect();
    let mut signed_in_first = 0;
    for round in 0..25 {
        // Each browser has its CSRF token before the race starts.
        let mut tokens = Vec::new();
        for b in &mut browsers {
            tokens.push(b.csrf_token().await);
        }
        let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
        let sign_ins = browsers
            .iter()
            .cloned()
            .zip(tokens)
            .map(|(mut b, token)| {
                let answered = answered.clone();
                tokio::spawn(async move {
                    let res = b
                        .post_form(
                            "/api/auth/callback/credentials",
                            &[
                                ("email", EMAIL),
                                ("password", PASSWORD),
                                ("csrfToken", &token),
                                ("json", "true"),
                            ],
                        )
                        .await;
                    let status = res.status().as_u16();
                    answered.send(status).unwrap();
                    (b, status)
                })
            })
            .collect::<Vec<_>>();
        // Let the sign-ins get ahead by a different amount each round (they
        // read the account first and hash for milliseconds after): in two
        // rounds of three, the disable waits for one or two of them to be
        // answered, so sessions stored before it are ended by it too.
        for _ in 0..round % 3 {
            if answers.recv().await == Some(200) {
                signed_in_first += 1;
            }
        }
        for _ in 0..round * 4 {
            tokio::task::yield_now().await;
        }
        app.auth().set_disabled(EMAIL, true).await.unwrap();
        let mut done = Vec::new();
        for task in sign_ins {
            done.push(task.await.unwrap());
        }
        assert!(
            app.auth().sessions_of(&user_id).await.unwrap().is_empty(),
            "round {round}: a session outlived the disable ({:?})",
            done.iter().map(|(_, s)| *s).collect::<Vec<_>>()
        );
        for (b, status) in &mut done {
            // Signed in before the disable (its session then ended), refused
            // as disabled (401; 429 once those failures lock the account),
            // or told it raced the end of the sessions (503): never a cookie
            // for a session that was not stored.
            assert!(
                [200, 401, 429, 503].contains(status),
                "round {round}: {status}"
            );
            if *status != 200 {
                assert!(
                    !b.cookies.contains_key("sesame.session-token"),
                    "round {round}: a {status} set a session cookie"
                );
            }
            assert_eq!(b.session().await, serde_json::json!({}), "round {round}");
        }
        browsers = done.into_iter().map(|(b, _)| b).collect();
        app.auth().set_disabled(EMAIL, false).await.unwrap();
    }
    assert!(
        signed_in_first > 0,
        "no session was stored before a disable"
    );
}

/// The application's `sign_in` callback ending the user's sessions, once
/// armed: the end of a user's sessions falls exactly between a sign-in's
/// password check (and its read of the revocation sequence) and its
/// session's insert. Its events count the sign-ins and keep the audit log.
#[derive(Clone, Default)]
struct EndsSessionsOnce {
    auth: Arc<OnceLock<Auth>>,
    armed: Arc<AtomicBool>,
    signed_in: Arc<AtomicUsize>,
    audit: Arc<Mutex<Vec<AuditEvent>>>,
}

#[async_trait]
impl Callbacks<AppUser> for EndsSessionsOnce {
    async fn sign_in(&self, user: &AppUser) -> SignInDecision {
        if self.armed.swap(false, Ordering::SeqCst) {
            let auth = self.auth.get().expect("the test set it");
            auth.end_sessions(&user.id, None).await.unwrap();
        }
        SignInDecision::Allow
    }
}

#[async_trait]
impl Events<AppUser> for EndsSessionsOnce {
    async fn sign_in(&self, _user: &AppUser) {
        self.signed_in.fetch_add(1, Ordering::SeqCst);
    }
    async fn audit(&self, event: &AuditEvent) {
        self.audit.lock().unwrap().push(event.clone());
    }
}

/// A sign-in during which its user's sessions were all ended (a sign-out
/// everywhere, a new password, a disable on another request) gets no
/// session and is told so: a 503 to try again, no cookie that names a
/// session, no `sign_in` event, `sessions_ended` in the audit log. Tried
/// again, it signs in. (It was answered 200 with a cookie naming nothing.)
#[tokio::test]
async fn a_sign_in_whose_sessions_were_ended_meanwhile_is_refused_and_says_so() {
    sessions_ended_meanwhile("").await;
}

/// The same on PostgreSQL, with the session cache in Redis.
#[tokio::test]
async fn a_sign_in_whose_sessions_were_ended_meanwhile_is_refused_on_postgres() {
    let shared =
        common::services::scale_out(common::services::postgres(), common::services::redis());
    sessions_ended_meanwhile(&shared).await;
}

async fn sessions_ended_meanwhile(config: &str) {
    let hooks = EndsSessionsOnce::default();
    let installed = hooks.clone();
    let mut app = spawn_with(config, move |sesame| {
        sesame.callbacks(installed.clone()).events(installed)
    })
    .await;
    hooks.auth.set(app.auth().clone()).ok().unwrap();
    let user_id = demo_id(&app).await;
    // A session from before, which the end of the sessions ends too.
    let mut before = app.new_browser();
    assert_eq!(sign_in_as(&mut before, UA).await, 200);
    hooks.armed.store(true, Ordering::SeqCst);
    let res = app.sign_in_json(EMAIL, PASSWORD, "/").await;
    assert!(!hooks.armed.load(Ordering::SeqCst), "the callback ran");
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    assert!(
        !cookies
            .iter()
            .any(|c| c.starts_with("sesame.session-token=")),
        "{cookies:?}"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "ServiceUnavailable");
    assert_eq!(app.session().await, serde_json::json!({}));
    assert_eq!(before.session().await, serde_json::json!({}));
    assert!(app.auth().sessions_of(&user_id).await.unwrap().is_empty());
    assert_eq!(
        hooks.signed_in.load(Ordering::SeqCst),
        1,
        "only the one before"
    );
    let last = hooks
        .audit
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e.action == AuditAction::SignIn)
        .cloned()
        .unwrap();
    assert_eq!(last.outcome, Outcome::SessionsEnded);
    assert_eq!(last.user_id.as_deref(), Some(user_id.as_str()));
    // Without JavaScript (a plain form post): the same refusal, as a
    // redirect to the error page, and no session cookie.
    hooks.armed.store(true, Ordering::SeqCst);
    let mut plain = app.new_browser();
    let token = plain.csrf_token().await;
    let res = plain
        .post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrfToken", &token),
            ],
        )
        .await;
    assert!(!hooks.armed.load(Ordering::SeqCst), "the callback ran");
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap();
    assert!(to.contains("error=ServiceUnavailable"), "{to}");
    assert!(!plain.cookies.contains_key("sesame.session-token"));
    assert_eq!(plain.session().await, serde_json::json!({}));
    // Tried again, it signs in.
    assert_eq!(sign_in_as(&mut app, UA).await, 200);
    assert_eq!(app.session().await["user"]["email"], EMAIL);
    assert_eq!(app.auth().sessions_of(&user_id).await.unwrap().len(), 1);
    assert_eq!(hooks.signed_in.load(Ordering::SeqCst), 2);
}

async fn list(browser: &mut common::TestApp) -> Vec<serde_json::Value> {
    let res = browser
        .get_with(
            sesame::wire::routes::SESSIONS,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn account_actions_need_a_session_and_a_csrf_token_from_this_site() {
    let mut app = spawn("").await;
    let res = app.get(sesame::wire::routes::SESSIONS).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("SessionRequired"));
    for path in [
        sesame::wire::routes::REVOKE_OTHER_SESSIONS,
        sesame::wire::routes::REVOKE_SESSION,
        sesame::wire::routes::CHANGE_PASSWORD,
    ] {
        let (status, body) = action(&mut app, path, &[]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("SessionRequired")),
            "{path}"
        );
    }

    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    // A token that is not this session's.
    let res = app
        .post_form(
            sesame::wire::routes::REVOKE_OTHER_SESSIONS,
            &[("csrfToken", "forged|token"), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["error"],
        "MissingCSRF"
    );
    // Another site's page cannot post it, whatever it carries.
    let token = app.csrf_token().await;
    let res = app
        .post_form_from(
            sesame::wire::routes::REVOKE_OTHER_SESSIONS,
            &[("csrfToken", &token), ("json", "true")],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(list(&mut app).await.len(), 1, "nothing was ended");
}

#[tokio::test]
async fn a_user_lists_and_ends_their_own_sessions_only() {
    let app = spawn("").await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    let mut c = app.new_browser();
    assert_eq!(sign_in_as(&mut a, UA).await, 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    app.add_user("other@example.com").await;
    assert_eq!(
        c.sign_in_json("other@example.com", PASSWORD, "/")
            .await
            .status(),
        200
    );

    let sessions = list(&mut a).await;
    assert_eq!(sessions.len(), 2, "the other user's session is not listed");
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[0]["browser"], "Firefox 128 on Linux");
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[1]["current"], false);
    let mine = sessions[0]["id"].as_str().unwrap().to_string();
    let bs = sessions[1]["id"].as_str().unwrap().to_string();
    let cs = list(&mut c).await[0]["id"].as_str().unwrap().to_string();

    // Not this session (that is signing out), nor a malformed id.
    for id in [mine.as_str(), "zz", ""] {
        let (status, body) =
            action(&mut a, sesame::wire::routes::REVOKE_SESSION, &[("id", id)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("InvalidRequest")),
            "{id:?}"
        );
    }
    // Another user's session id ends nothing.
    let (status, _) = action(&mut a, sesame::wire::routes::REVOKE_SESSION, &[("id", &cs)]).await;
    assert_eq!(status, 200);
    assert_eq!(c.session().await["user"]["email"], "other@example.com");

    let (status, body) = action(
        &mut a,
        sesame::wire::routes::REVOKE_SESSION,
        &[("id", &bs), ("callbackUrl", "/account/sessions")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("/account/sessions?done=session-ended"),
        "{body}"
    );
    assert_eq!(b.session().await, serde_json::json!({}));
    assert_eq!(a.session().await["user"]["email"], EMAIL);
    assert_eq!(list(&mut a).await.len(), 1);
}

#[tokio::test]
async fn sensitive_actions_need_a_recent_sign_in_or_the_password_again() {
    let app = spawn("[session]\ncache_ttl = \"0s\"\nrecent_sign_in = \"10m\"").await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    app.age_session("signed_in_at", 11 * 60).await;

    for password in [None, Some("not the password")] {
        let mut fields = vec![];
        if let Some(p) = password {
            fields.push(("password", p));
        }
        let (status, body) =
            action(&mut a, sesame::wire::routes::REVOKE_OTHER_SESSIONS, &fields).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("ReauthRequired"))
        );
    }
    assert_eq!(
        b.session().await["user"]["email"],
        EMAIL,
        "nothing ended yet"
    );
    // A plain form post comes back to its page with the error.
    let token = a.csrf_token().await;
    let res = a
        .post_form(
            sesame::wire::routes::REVOKE_OTHER_SESSIONS,
            &[("csrfToken", &token), ("callbackUrl", "/account/sessions")],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/account/sessions?error=ReauthRequired"));

    let (status, body) = action(
        &mut a,
        sesame::wire::routes::REVOKE_OTHER_SESSIONS,
        &[("password", PASSWORD), ("callbackUrl", "/account/sessions")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"].as_str().unwrap().ends_with("done=others-ended"));
    assert_eq!(b.session().await, serde_json::json!({}));
    assert_eq!(a.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn changing_the_password_checks_it_and_ends_every_other_session() {
    let app = spawn("").await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let new = "a brand new passphrase";
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        [
            ("currentPassword", current),
            ("newPassword", new),
            ("confirmPassword", confirm),
        ]
    };
    for (fields, status, error) in [
        (change("wrong", new, new), 403, "ReauthRequired"),
        (
            change(PASSWORD, new, "a brand new passphrasE"),
            400,
            "PasswordMismatch",
        ),
        (
            change(PASSWORD, "password1", "password1"),
            400,
            "WeakPassword",
        ),
        (change(PASSWORD, "short", "short"), 400, "WeakPassword"),
    ] {
        let (s, body) = action(&mut a, sesame::wire::routes::CHANGE_PASSWORD, &fields).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(error)),
            "{fields:?}"
        );
    }
    assert_eq!(
        b.session().await["user"]["email"],
        EMAIL,
        "nothing changed yet"
    );

    let (s, body) = action(
        &mut a,
        sesame::wire::routes::CHANGE_PASSWORD,
        &change(PASSWORD, new, new),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(b.session().await, serde_json::json!({}));
    assert_eq!(
        a.session().await["user"]["email"],
        EMAIL,
        "this session stays"
    );
    let mut fresh = app.new_browser();
    assert_eq!(fresh.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    assert_eq!(fresh.sign_in_json(EMAIL, new, "/").await.status(), 200);
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_ends_everything() {
    let app = spawn("").await;
    let id = demo_id(&app).await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    for password in [None, Some("not the password")] {
        let mut fields = vec![];
        if let Some(p) = password {
            fields.push(("password", p));
        }
        let (status, body) = action(&mut a, sesame::wire::routes::DELETE_ACCOUNT, &fields).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("ReauthRequired"))
        );
    }
    assert!(app.auth().user_by_email(EMAIL).await.is_ok(), "still there");

    let (status, body) = action(
        &mut a,
        sesame::wire::routes::DELETE_ACCOUNT,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/?done=account-deleted"));
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(b.session().await, serde_json::json!({}));
    assert!(matches!(
        app.auth().user_by_email(EMAIL).await,
        Err(sesame::server::AccountError::NoSuchUser)
    ));
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    assert!(app.auth().sessions_of(&id).await.unwrap().is_empty());
}
