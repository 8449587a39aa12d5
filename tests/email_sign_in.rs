//! The email provider (sign-in links), black-box through the real SMTP
//! server: the same answer for every address, a link whose GET signs nobody
//! in, a button that signs in once, accounts made only under open sign-up.

mod common;

use common::{action, smtp::SmtpServer, spawn, token_of, TestApp, EMAIL};

const ON: &str = "[email_sign_in]\nenabled = true";

async fn app(smtp: &SmtpServer, extra: &str) -> TestApp {
    spawn(&format!("{}\n{ON}\n{extra}", smtp.config())).await
}

/// POST `/signin/email` as next-auth/react does: the answer.
async fn ask(browser: &mut TestApp, email: &str) -> (u16, serde_json::Value) {
    action(
        browser,
        "/api/auth/signin/email",
        &[("email", email), ("callbackUrl", "/account")],
    )
    .await
}

/// The link's page: the hidden token of its button.
async fn open_link(browser: &mut TestApp, link: &str) -> String {
    let path = link.strip_prefix(&browser.base).unwrap().to_string();
    let res = browser.get(&path).await;
    assert_eq!(res.status(), 302, "the link's GET shows a page");
    let page_path = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        page_path.starts_with("/api/auth/verify-request?token="),
        "{page_path}"
    );
    let page = browser.get(&page_path).await.text().await.unwrap();
    assert!(
        page.contains(r#"action="/api/auth/callback/email""#),
        "{page}"
    );
    token_of(&page_path)
}

async fn press(browser: &mut TestApp, token: &str) -> reqwest::Response {
    let csrf = browser.csrf_token().await;
    browser
        .post_form(
            "/api/auth/callback/email",
            &[("token", token), ("csrfToken", &csrf)],
        )
        .await
}

#[tokio::test]
async fn a_link_signs_in_once_through_its_button_never_by_its_get() {
    let smtp = SmtpServer::start();
    let mut browser = app(&smtp, "").await;
    let (status, body) = ask(&mut browser, "Demo@Example.com").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/verify-request?provider=email&type=email"));
    let page = browser
        .get("/api/auth/verify-request?provider=email&type=email")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Check your email"));
    let mail = smtp.wait_for(EMAIL, 1).await.remove(0);
    let link = mail
        .link("/api/auth/callback/email?token=")
        .expect("a sign-in link");
    // A mail scanner follows the link: nobody is signed in, the link still works.
    let mut scanner = browser.new_browser();
    let token = open_link(&mut scanner, &link).await;
    assert!(scanner.session().await.as_object().unwrap().is_empty());
    let token_again = open_link(&mut browser, &link).await;
    assert_eq!(token, token_again);
    assert!(browser.session().await.as_object().unwrap().is_empty());
    let res = press(&mut browser, &token).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/account", browser.base)
    );
    assert_eq!(browser.session().await["user"]["email"], EMAIL);
    // Once.
    let mut other = browser.new_browser();
    let res = press(&mut other, &token).await;
    assert_eq!(res.status(), 302);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=Verification"));
    assert!(other.session().await.as_object().unwrap().is_empty());
}

#[tokio::test]
async fn the_same_answer_for_every_address_and_no_link_where_none_may_sign_in() {
    let smtp = SmtpServer::start();
    let mut browser = app(&smtp, "[accounts]\nsign_up = \"off\"").await;
    let (status_unknown, unknown) = ask(&mut browser, "nobody@example.com").await;
    let (status_known, known) = ask(&mut browser, EMAIL).await;
    assert_eq!((status_unknown, &unknown), (status_known, &known));
    smtp.wait_for(EMAIL, 1).await;
    assert!(smtp
        .received()
        .iter()
        .all(|m| !m.to.contains("nobody@example.com")));
    // Not an address: a typed 400.
    let (status, body) = ask(&mut browser, "not an address").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidRequest"))
    );
    // A forged token: refused.
    let res = browser
        .post_form(
            "/api/auth/signin/email",
            &[("email", EMAIL), ("csrfToken", "forged"), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn open_sign_up_makes_the_account_when_the_link_is_used_verified() {
    let smtp = SmtpServer::start();
    let mut browser = app(&smtp, "[accounts]\nsign_up = \"open\"").await;
    assert_eq!(ask(&mut browser, "new@example.com").await.0, 200);
    let mail = smtp.wait_for("new@example.com", 1).await.remove(0);
    let link = mail.link("/api/auth/callback/email?token=").unwrap();
    let db = browser.db().await;
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'new@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(before, 0, "no account until the link is used");
    let token = open_link(&mut browser, &link).await;
    assert_eq!(press(&mut browser, &token).await.status(), 302);
    assert_eq!(browser.session().await["user"]["email"], "new@example.com");
    let verified: Option<i64> =
        sqlx::query_scalar("SELECT email_verified_at FROM users WHERE email = 'new@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(verified.is_some());
}

#[tokio::test]
async fn a_link_pressed_twice_at_once_signs_in_once() {
    let smtp = SmtpServer::start();
    let browser = app(
        &smtp,
        "[limits]\nmail_per_recipient = \"100/1h\"\nmail_per_account = \"100/1h\"",
    )
    .await;
    for round in 0..10 {
        let mut asker = browser.new_browser();
        assert_eq!(ask(&mut asker, EMAIL).await.0, 200);
        let mail = smtp.wait_for(EMAIL, round + 1).await.remove(round);
        let token = token_of(&mail.link("/api/auth/callback/email?token=").unwrap());
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let mut b = browser.new_browser();
                let token = token.clone();
                tokio::spawn(async move {
                    press(&mut b, &token).await;
                    !b.session().await.as_object().unwrap().is_empty()
                })
            })
            .collect();
        let mut signed_in = 0;
        for racer in racers {
            signed_in += usize::from(racer.await.unwrap());
        }
        assert_eq!(signed_in, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_new_link_voids_the_earlier_one() {
    let smtp = SmtpServer::start();
    let mut browser = app(&smtp, "").await;
    assert_eq!(ask(&mut browser, EMAIL).await.0, 200);
    let first = token_of(
        &smtp.wait_for(EMAIL, 1).await[0]
            .link("/api/auth/callback/email?token=")
            .unwrap(),
    );
    assert_eq!(ask(&mut browser, EMAIL).await.0, 200);
    let second = token_of(
        &smtp.wait_for(EMAIL, 2).await[1]
            .link("/api/auth/callback/email?token=")
            .unwrap(),
    );
    assert_ne!(first, second);
    let res = press(&mut browser, &first).await;
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error=Verification"));
    let res = press(&mut browser, &second).await;
    assert_eq!(res.status(), 302);
    assert_eq!(browser.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn the_email_provider_is_listed_and_off_by_default() {
    let smtp = SmtpServer::start();
    let mut on = app(&smtp, "").await;
    let list: serde_json::Value = on.get("/api/auth/providers").await.json().await.unwrap();
    assert_eq!(list["email"]["type"], "email");
    let page = on.get("/api/auth/signin").await.text().await.unwrap();
    assert!(page.contains(r#"action="/api/auth/signin/email""#));
    let mut off = spawn(&smtp.config()).await;
    let list: serde_json::Value = off.get("/api/auth/providers").await.json().await.unwrap();
    assert!(list.get("email").is_none());
    let (status, _) = ask(&mut off, EMAIL).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn links_to_one_address_are_budgeted() {
    let smtp = SmtpServer::start();
    let mut browser = app(
        &smtp,
        "[limits]\nmail_per_recipient = \"2/1h\"\n[accounts]\nsign_up = \"open\"",
    )
    .await;
    for _ in 0..4 {
        assert_eq!(ask(&mut browser, EMAIL).await.0, 200, "the same answer");
    }
    // Then a link to another address (open sign-up), asked after the
    // others: once it is in, the others were sent or refused.
    assert_eq!(ask(&mut browser, "later@example.com").await.0, 200);
    smtp.wait_for("later@example.com", 1).await;
    smtp.wait_for(EMAIL, 2).await;
    let to_demo = smtp
        .received()
        .iter()
        .filter(|m| m.to.contains(EMAIL))
        .count();
    assert_eq!(to_demo, 2);
}
