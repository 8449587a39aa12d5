//! Account takeover paths, each tried and seen to fail (issue 22): a pending
//! email change that outlives the owner's reset, a squatter's password on
//! someone else's address, a sign-in after verification that skips the
//! sign-in steps, sign-up then sign-in telling a taken address from a new
//! one, address forms that mail delivers elsewhere, a deleted account's id
//! given again, and passwords asked again outside the lockout. Black-box:
//! the real server over HTTP, mail through the real SMTP server.

mod common;

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use async_trait::async_trait;
use common::{
    action, action_ok, smtp::SmtpServer, spawn, spawn_with, token_of, TestApp, EMAIL, PASSWORD,
};
use serde_json::Value;
use sesame::server::{Callbacks, Events, NewPassword, SignInDecision};
use sesame_app::user::AppUser;

const NEW: &str = "a brand new passphrase";
const ATTACKER: &str = "attacker@evil.example";

fn open_sign_up(smtp: &SmtpServer) -> String {
    format!("{}\n[accounts]\nsign_up = \"open\"\n", smtp.config())
}

fn sign_up_fields<'a>(email: &'a str, password: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("email", email),
        ("name", "New Person"),
        ("password", password),
        ("confirmPassword", password),
    ]
}

/// Asks, with the password, to move the demo account to `to`; the link.
async fn pending_change(smtp: &SmtpServer, browser: &mut TestApp, to: &str, n: usize) -> String {
    let (status, body) = action(
        browser,
        sesame::wire::routes::CHANGE_EMAIL,
        &[("email", to), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mails = smtp.wait_for(to, n).await;
    token_of(&mails[n - 1].link("/api/auth/verify?token=").unwrap())
}

async fn confirm_change(browser: &mut TestApp, token: &str) -> (u16, Value) {
    action(
        browser,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", token), ("change", "1")],
    )
    .await
}

/// Item 1: a session alone (however recent) does not move the account, and
/// every step that secures it voids a pending change's link.
#[tokio::test]
async fn a_pending_email_change_does_not_survive_any_step_that_secures_the_account() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    let mut thief = app.new_browser();
    assert_eq!(thief.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    // A fresh session (inside session.recent_sign_in) without the password.
    let (status, body) = action(
        &mut thief,
        sesame::wire::routes::CHANGE_EMAIL,
        &[("email", ATTACKER)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("ReauthRequired")),
        "{body}"
    );

    // The owner's reset, as the notice advises: the change link dies with it.
    let link = pending_change(&smtp, &mut thief, ATTACKER, 1).await;
    let mut owner = app.new_browser();
    action_ok(
        &mut owner,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    let reset = smtp
        .wait_for(EMAIL, 2)
        .await
        .iter()
        .find_map(|m| m.link("/api/auth/reset?token="))
        .expect("a reset link");
    let (status, body) = action(
        &mut owner,
        sesame::wire::routes::RESET_CONFIRM,
        &[
            ("token", &token_of(&reset)),
            ("newPassword", NEW),
            ("confirmPassword", NEW),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = confirm_change(&mut app.new_browser(), &link).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Verification")),
        "a change link from before the reset: {body}"
    );
    assert_eq!(app.auth().user_by_email(EMAIL).await.unwrap().email, EMAIL);
    assert!(app.auth().user_by_email(ATTACKER).await.is_err());
}

/// Item 1, each other securing step: a password change, "sign out
/// everywhere", disabling.
#[tokio::test]
async fn a_password_change_signing_out_everywhere_and_disabling_void_pending_links() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    let mut owner = app.new_browser();
    assert_eq!(owner.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);

    let link = pending_change(&smtp, &mut owner, "one@elsewhere.example", 1).await;
    let (status, body) = action(
        &mut owner,
        sesame::wire::routes::CHANGE_PASSWORD,
        &[
            ("currentPassword", PASSWORD),
            ("newPassword", NEW),
            ("confirmPassword", NEW),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        confirm_change(&mut app.new_browser(), &link).await.0,
        403,
        "after a password change"
    );

    let fresh = NewPassword::parse(PASSWORD, &[EMAIL]).unwrap();
    app.auth().set_password(EMAIL, &fresh, None).await.unwrap();
    let mut owner = app.new_browser();
    assert_eq!(owner.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let link = pending_change(&smtp, &mut owner, "two@elsewhere.example", 1).await;
    let (status, body) = action(&mut owner, sesame::wire::routes::REVOKE_OTHER_SESSIONS, &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        confirm_change(&mut app.new_browser(), &link).await.0,
        403,
        "after signing out everywhere else"
    );

    let link = pending_change(&smtp, &mut owner, "three@elsewhere.example", 1).await;
    app.auth().set_disabled(EMAIL, true).await.unwrap();
    app.auth().set_disabled(EMAIL, false).await.unwrap();
    assert_eq!(
        confirm_change(&mut app.new_browser(), &link).await.0,
        403,
        "after a disable"
    );
}

/// Item 2: a squatter signs up with someone else's address and a password
/// of their choosing. The owner's confirmation (from their own browser)
/// does not make that password work; the owner takes the address over
/// with a reset.
#[tokio::test]
async fn a_squatters_password_never_opens_the_owners_address() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let victim = "victim@example.com";
    let squat = "the squatter's own passphrase";
    let mut squatter = app.new_browser();
    let (status, _) = action(
        &mut squatter,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields(victim, squat),
    )
    .await;
    assert_eq!(status, 200);
    let link = smtp.wait_for(victim, 1).await[0]
        .link("/api/auth/verify?token=")
        .unwrap();
    let token = token_of(&link);

    // The owner follows the link in their browser: no password, no confirmation.
    let mut owner = app.new_browser();
    let (status, body) = action(
        &mut owner,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("ReauthRequired")),
        "{body}"
    );
    assert_eq!(
        owner.session().await,
        serde_json::json!({}),
        "not signed in"
    );
    let (status, _) = action(
        &mut owner,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token), ("password", "a guess at the password")],
    )
    .await;
    assert_eq!(status, 403);
    assert!(app
        .auth()
        .user_by_email(victim)
        .await
        .unwrap()
        .email_verified_at
        .is_none());
    // The squatter's password does not sign in (the address is not confirmed).
    assert_eq!(
        squatter.sign_in_json(victim, squat, "/").await.status(),
        401
    );

    // The owner takes the address over: a reset confirms it and replaces
    // the squatter's password.
    action_ok(
        &mut owner,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", victim)],
    )
    .await;
    let reset = smtp.wait_for(victim, 2).await[1]
        .link("/api/auth/reset?token=")
        .unwrap();
    let (status, _) = action(
        &mut owner,
        sesame::wire::routes::RESET_CONFIRM,
        &[
            ("token", &token_of(&reset)),
            ("newPassword", NEW),
            ("confirmPassword", NEW),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        squatter.sign_in_json(victim, squat, "/").await.status(),
        401
    );
    assert_eq!(owner.sign_in_json(victim, NEW, "/").await.status(), 200);
    // The squatter's link is spent with the reset.
    let (status, _) = action(
        &mut squatter,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token), ("password", squat)],
    )
    .await;
    assert_eq!(status, 403);
}

/// Item 2, the other side: the browser that signed up confirms with the
/// link alone and is signed in; another browser confirms with the password
/// chosen at sign-up.
#[tokio::test]
async fn the_link_signs_in_the_browser_that_signed_up_and_elsewhere_asks_for_the_password() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    for (n, email) in ["same@example.com", "other@example.com"].iter().enumerate() {
        let mut signer = app.new_browser();
        let res = {
            let token = signer.csrf_token().await;
            let mut fields = sign_up_fields(email, NEW).to_vec();
            fields.push(("csrfToken", &token));
            fields.push(("json", "true"));
            signer
                .post_form(sesame::wire::routes::SIGN_UP_ACTION, &fields)
                .await
        };
        assert_eq!(res.status(), 200);
        let binding = common::set_cookie(&res, "sesame.link-binding").expect("a binding cookie");
        assert!(
            binding.contains("HttpOnly") && binding.contains("SameSite=Lax"),
            "{binding}"
        );
        let token = token_of(&smtp.wait_for(email, 1).await[0].link("token=").unwrap());
        let mut confirmer = if n == 0 { signer } else { app.new_browser() };
        let fields: Vec<(&str, &str)> = if n == 0 {
            vec![("token", &token)]
        } else {
            vec![("token", &token), ("password", NEW)]
        };
        let (status, body) = action(
            &mut confirmer,
            sesame::wire::routes::VERIFY_CONFIRM,
            &fields,
        )
        .await;
        assert_eq!(status, 200, "{email}: {body}");
        assert!(
            body["url"].as_str().unwrap().ends_with("done=signed-in"),
            "{email}: {body}"
        );
        assert_eq!(confirmer.session().await["user"]["email"], *email);
    }
}

/// Callbacks that refuse one account, and events that count sign-ins.
#[derive(Clone, Default)]
struct Watch(Arc<AtomicUsize>);

#[async_trait]
impl Callbacks<AppUser> for Watch {
    async fn sign_in(&self, user: &AppUser) -> SignInDecision {
        if user.email == "refused@example.com" {
            SignInDecision::Deny
        } else {
            SignInDecision::Allow
        }
    }
}

#[async_trait]
impl Events<AppUser> for Watch {
    async fn sign_in(&self, _user: &AppUser) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Item 3: the sign-in after verification goes through the sign-in steps:
/// the app's `sign_in` callback (a `Deny` keeps the browser signed out), the
/// `sign_in` event, and the session list's browser.
#[tokio::test]
async fn a_sign_in_after_verification_takes_the_sign_in_steps() {
    let smtp = SmtpServer::start();
    let watch = Watch::default();
    let events = watch.clone();
    let app = spawn_with(&open_sign_up(&smtp), move |b| {
        b.callbacks(watch.clone()).events(watch)
    })
    .await;
    for email in ["refused@example.com", "allowed@example.com"] {
        let mut browser = app.new_browser();
        let token = browser.csrf_token().await;
        let mut fields = sign_up_fields(email, NEW).to_vec();
        fields.push(("csrfToken", &token));
        fields.push(("json", "true"));
        let res = browser
            .post_form_with(
                sesame::wire::routes::SIGN_UP_ACTION,
                &fields,
                &[(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                )],
            )
            .await;
        assert_eq!(res.status(), 200);
        let token = token_of(&smtp.wait_for(email, 1).await[0].link("token=").unwrap());
        let csrf = browser.csrf_token().await;
        let res = browser
            .post_form_with(
                sesame::wire::routes::VERIFY_CONFIRM,
                &[("token", &token), ("csrfToken", &csrf), ("json", "true")],
                &[(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
                )],
            )
            .await;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        if email == "refused@example.com" {
            assert!(
                body["url"].as_str().unwrap().ends_with("done=verified"),
                "{body}"
            );
            assert_eq!(browser.session().await, serde_json::json!({}));
            assert_eq!(events.0.load(Ordering::SeqCst), 0, "no sign-in event");
        } else {
            assert!(
                body["url"].as_str().unwrap().ends_with("done=signed-in"),
                "{body}"
            );
            assert_eq!(events.0.load(Ordering::SeqCst), 1, "the sign-in event");
            let user = app.auth().user_by_email(email).await.unwrap();
            let sessions = app.auth().sessions_of(&user.id.to_string()).await.unwrap();
            assert_eq!(sessions.len(), 1);
            assert!(
                sessions[0]
                    .data
                    .user_agent
                    .as_deref()
                    .is_some_and(|ua| ua.contains("Firefox")),
                "the session list's browser: {:?}",
                sessions[0].data.user_agent
            );
        }
    }
}

/// Item 4: signing up then signing in answers the same whether the address
/// was free or taken; the one who signed up a free address gets the link
/// again (at most once a minute).
#[tokio::test]
async fn sign_up_then_sign_in_tells_nothing_about_who_had_an_account() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let fresh = "fresh@example.com";
    let mut answers = Vec::new();
    for email in [fresh, EMAIL] {
        let mut a = app.new_browser();
        let (status, _) = action(
            &mut a,
            sesame::wire::routes::SIGN_UP_ACTION,
            &sign_up_fields(email, NEW),
        )
        .await;
        assert_eq!(status, 200);
        smtp.wait_for(email, 1).await;
        let res = a.sign_in_json(email, NEW, "/").await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        answers.push((status, body["error"].clone()));
    }
    assert_eq!(answers[0], answers[1], "free and taken answer alike");
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0].1, "CredentialsSignin");
    assert!(sesame::i18n::Locale::En
        .error(sesame::AuthError::CredentialsSignin)
        .contains("confirm its email address"));

    // A minute later the right password sends the link again.
    sqlx::query("UPDATE account_tokens SET created_at = created_at - 120")
        .execute(&app.db().await)
        .await
        .unwrap();
    let mut a = app.new_browser();
    assert_eq!(a.sign_in_json(fresh, NEW, "/").await.status(), 401);
    let mails = smtp.wait_for(fresh, 2).await;
    assert!(mails[1].link("/api/auth/verify?token=").is_some());
}

/// Item 5: address forms that mail delivers to another mailbox are refused
/// everywhere an address is taken; spellings of one mailbox are one account.
#[tokio::test]
async fn only_plain_addresses_are_accepted_and_spellings_of_one_mailbox_are_one_account() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    let forms = [
        "<a@b.example>",
        "x <a@b.example>",
        "\"a\"@b.example",
        "a@b.example (comment)",
        "a\u{202e}@b.example",
        "a\u{200b}b@b.example",
        "a@[127.0.0.1]",
        "a..b@b.example",
        "a@b",
        "a@-b.example",
    ];
    for form in forms {
        let (status, body) = action(
            &mut a,
            sesame::wire::routes::SIGN_UP_ACTION,
            &sign_up_fields(form, NEW),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("InvalidRequest")),
            "sign-up with {form:?}"
        );
        assert!(
            app.auth()
                .invite(form, None, sesame::i18n::Locale::En)
                .await
                .is_err(),
            "invite {form:?}"
        );
    }
    assert!(
        app.auth().list_users().await.unwrap().len() == 1,
        "nothing was made"
    );

    // One mailbox, several spellings: one account (the later ones are "taken").
    action_ok(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("Jose@Bücher.Example", NEW),
    )
    .await;
    smtp.wait_for("xn--bcher-kva.example", 1).await;
    for spelling in ["jose@xn--bcher-kva.example", "JOSE@BÜCHER.example"] {
        action_ok(
            &mut a,
            sesame::wire::routes::SIGN_UP_ACTION,
            &sign_up_fields(spelling, NEW),
        )
        .await;
    }
    let mails = smtp.wait_for("xn--bcher-kva.example", 3).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.body.contains("already has one"))
            .count(),
        2,
        "{mails:?}"
    );
    let users = app.auth().list_users().await.unwrap();
    assert_eq!(users.len(), 2);
    assert!(users
        .iter()
        .any(|u| u.email == "jose@xn--bcher-kva.example"));

    // The same parser in the account's own change of address.
    let mut owner = app.new_browser();
    assert_eq!(owner.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    for form in ["x <a@b.example>", "\"a\"@b.example"] {
        let (status, _) = action(
            &mut owner,
            sesame::wire::routes::CHANGE_EMAIL,
            &[("email", form), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, 400, "{form}");
    }
}

/// Item 6: a deleted account's id is never given to the next account.
#[tokio::test]
async fn a_deleted_accounts_id_is_never_given_again() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let last = app.add_user("last@example.com").await;
    let mut browser = app.new_browser();
    assert_eq!(
        browser
            .sign_in_json("last@example.com", PASSWORD, "/")
            .await
            .status(),
        200
    );
    let (status, body) = action(
        &mut browser,
        sesame::wire::routes::DELETE_ACCOUNT,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    action_ok(
        &mut browser,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("next@example.com", NEW),
    )
    .await;
    smtp.wait_for("next@example.com", 1).await;
    let next = app.auth().user_by_email("next@example.com").await.unwrap();
    assert!(next.id > last.id, "{} after {}", next.id, last.id);
}

/// Item 13: a password asked again by an account action counts as the
/// account's failure: a stolen session cannot try passwords past the lockout.
#[tokio::test]
async fn passwords_asked_again_count_in_the_accounts_lockout() {
    let app = spawn("[limits.lockout]\nfree_failures = 3\n").await;
    let mut thief = app.new_browser();
    assert_eq!(thief.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    for guess in ["guess one here", "guess two here", "guess three here"] {
        let (status, body) = action(
            &mut thief,
            sesame::wire::routes::DELETE_ACCOUNT,
            &[("password", guess)],
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("ReauthRequired"))
        );
    }
    // The account now waits: the right password is refused too, here and
    // at the sign-in of another browser.
    let (status, body) = action(
        &mut thief,
        sesame::wire::routes::DELETE_ACCOUNT,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("RateLimited")),
        "{body}"
    );
    assert_eq!(
        app.new_browser()
            .sign_in_json(EMAIL, PASSWORD, "/")
            .await
            .status(),
        429
    );
    assert!(app.auth().user_by_email(EMAIL).await.is_ok(), "not deleted");
    // An administrator's unlock ends the wait.
    app.auth().unlock(EMAIL).await.unwrap();
    assert_eq!(
        app.new_browser()
            .sign_in_json(EMAIL, PASSWORD, "/")
            .await
            .status(),
        200
    );
}

/// Item 12: every message counts against its recipient's and its account's
/// budget besides the per-IP limit, and every account action against the
/// session's budget. Mails counted in the SMTP server's Maildir; each run of
/// requests ends with a message to another address that marks the end.
#[tokio::test]
async fn mail_and_account_actions_have_budgets_per_recipient_account_and_session() {
    let smtp = SmtpServer::start();
    let app = spawn(&format!(
        "{}\n[limits]\nmail_per_recipient = \"2/1h\"\nmail_per_account = \"3/1h\"\n\
         account_actions_per_session = \"4/1h\"\n",
        smtp.config()
    ))
    .await;
    let marker = |n: usize| format!("marker-{n}@example.com");
    for n in 0..3 {
        app.add_user(&marker(n)).await;
    }
    // Per recipient: five resets asked, two sent.
    let mut a = app.new_browser();
    for _ in 0..5 {
        let (status, _) = action(
            &mut a,
            sesame::wire::routes::RESET_REQUEST,
            &[("email", EMAIL)],
        )
        .await;
        assert_eq!(status, 200, "the answer does not change");
    }
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", &marker(0))],
    )
    .await;
    smtp.wait_for(&marker(0), 1).await;
    assert_eq!(smtp.wait_for(EMAIL, 2).await.len(), 2, "two a recipient");

    // Per account: three messages for one account, to any address; an
    // email change sends two (the notice to the old address, the link).
    let account = marker(2);
    let mut owner = app.new_browser();
    assert_eq!(
        owner.sign_in_json(&account, PASSWORD, "/").await.status(),
        200
    );
    for (n, to) in ["new-home-1@example.com", "new-home-2@example.com"]
        .into_iter()
        .enumerate()
    {
        let (status, _) = action(
            &mut owner,
            sesame::wire::routes::CHANGE_EMAIL,
            &[("email", to), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(status, 200);
        // The first change's messages are out before the second is asked.
        smtp.wait_for(&account, n + 1).await;
        if n == 0 {
            smtp.wait_for(to, 1).await;
        }
    }
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", &marker(1))],
    )
    .await;
    smtp.wait_for(&marker(1), 1).await;
    let count = |to: &str| smtp.received().iter().filter(|m| m.to.contains(to)).count();
    assert_eq!(count(&account), 2, "both notices");
    assert_eq!(count("new-home-1@example.com"), 1, "the first link");
    assert_eq!(
        count("new-home-2@example.com"),
        0,
        "the fourth message for the account"
    );

    // Per session: the fifth account action of one session is refused (two
    // email changes and two sign-outs before it).
    for n in 0..2 {
        let (status, body) =
            action(&mut owner, sesame::wire::routes::REVOKE_OTHER_SESSIONS, &[]).await;
        assert_eq!(status, 200, "{n}: {body}");
    }
    let (status, body) = action(&mut owner, sesame::wire::routes::REVOKE_OTHER_SESSIONS, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("RateLimited")),
        "{body}"
    );
    // Another session of the same account has its own budget.
    let mut other = app.new_browser();
    assert_eq!(
        other.sign_in_json(&account, PASSWORD, "/").await.status(),
        200
    );
    let (status, _) = action(&mut other, sesame::wire::routes::REVOKE_OTHER_SESSIONS, &[]).await;
    assert_eq!(status, 200);
}
