//! Black-box tests of account administration: disabled accounts, a new
//! password, the per-user session index, and ending a user's sessions at once,
//! also against sign-ins racing it.

mod common;

use common::{spawn, EMAIL, PASSWORD};
use sesame::server::{NewPassword, SessionHandle};

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
/// are done no session of the user is left, in the table or in any browser.
/// (Without the revocation sequence, a sign-in whose password check passed
/// before the disable stores its session after it, and keeps it.)
#[tokio::test]
async fn ending_a_users_sessions_is_final_against_sign_ins_racing_it() {
    let app = spawn("").await;
    let user_id = demo_id(&app).await;
    let mut browsers: Vec<common::TestApp> = (0..6).map(|_| app.new_browser()).collect();
    for round in 0..25 {
        // Each browser has its CSRF token before the race starts.
        let mut tokens = Vec::new();
        for b in &mut browsers {
            tokens.push(b.csrf_token().await);
        }
        let sign_ins = browsers
            .iter()
            .cloned()
            .zip(tokens)
            .map(|(mut b, token)| {
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
                    (b, res.status().as_u16())
                })
            })
            .collect::<Vec<_>>();
        // Let the sign-ins get ahead by a different amount each round (they
        // read the account first and hash for milliseconds after).
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
        for (b, _) in &mut done {
            assert_eq!(b.session().await, serde_json::json!({}), "round {round}");
        }
        browsers = done.into_iter().map(|(b, _)| b).collect();
        app.auth().set_disabled(EMAIL, false).await.unwrap();
    }
}
