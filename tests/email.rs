//! Black-box tests of the flows that send email, through a real SMTP server
//! (aiosmtpd on a loopback port): password reset.

mod common;

use common::{action, action_ok, smtp::SmtpServer, spawn, token_of, EMAIL, PASSWORD};
use serde_json::Value;

const NEW: &str = "a brand new passphrase";

#[tokio::test]
async fn a_reset_link_by_email_sets_a_new_password_once_and_ends_every_session() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    let mut signed_in = app.new_browser();
    assert_eq!(
        signed_in.sign_in_json(EMAIL, PASSWORD, "/").await.status(),
        200
    );

    let mut a = app.new_browser();
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", "Demo@Example.com")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/reset?done=link-sent"));
    let mail = smtp.wait_for(EMAIL, 1).await.remove(0);
    let link = mail.link("/api/auth/reset?token=").expect("a reset link");
    assert!(link.starts_with(&app.base), "{link}");
    let token = token_of(&link);
    assert_eq!(token.len(), 43);

    // The page of the link asks for the new password.
    let page = a.get(&format!("/api/auth/reset?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("newPassword"));

    // Refusals leave the link usable.
    for (new, confirm, code) in [
        (NEW, "something else entirely", "PasswordMismatch"),
        ("password1", "password1", "WeakPassword"),
    ] {
        let fields = [
            ("token", token.as_str()),
            ("newPassword", new),
            ("confirmPassword", confirm),
        ];
        let (status, body) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)));
    }
    let fields = [
        ("token", token.as_str()),
        ("newPassword", NEW),
        ("confirmPassword", NEW),
    ];
    let (status, body) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/reset?done=password-set"));

    // Every session ended; the old password is gone, the new one works.
    assert_eq!(signed_in.session().await, serde_json::json!({}));
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    assert_eq!(a.sign_in_json(EMAIL, NEW, "/").await.status(), 200);

    // Once: the same link again is `Verification` (403), as is a made-up one.
    let mut b = app.new_browser();
    for token in [token.as_str(), "made-up-token"] {
        let fields = [
            ("token", token),
            ("newPassword", "yet another passphrase"),
            ("confirmPassword", "yet another passphrase"),
        ];
        let (status, body) = action(&mut b, sesame::wire::routes::RESET_CONFIRM, &fields).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("Verification"))
        );
    }
}

#[tokio::test]
async fn asking_for_a_link_answers_the_same_for_every_address_and_sends_only_to_accounts() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    let mut a = app.new_browser();
    let known = action(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    let unknown = action(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", "nobody@example.com")],
    )
    .await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, 200);
    smtp.wait_for(EMAIL, 1).await;
    // A disabled account gets nothing either.
    app.auth().set_disabled(EMAIL, true).await.unwrap();
    let disabled = action(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    assert_eq!(disabled, known);
    // The lookup runs after the answer: a link asked for by another,
    // active account marks the end while this one stays disabled (enabling
    // it at once could come before that lookup): nothing went to the
    // unknown or the disabled address before the marker.
    let marker = "marker@example.com";
    app.add_user(marker).await;
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", marker)],
    )
    .await;
    smtp.wait_for(marker, 1).await;
    let all = smtp.received();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all[0].to.contains(EMAIL) && all[1].to.contains(marker),
        "{all:?}"
    );
    // Enabled again, a second link for the account.
    app.auth().set_disabled(EMAIL, false).await.unwrap();
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    let all = smtp.wait_for(EMAIL, 2).await;
    assert_eq!(all.len(), 2, "{all:?}");
    // The earlier link stopped working when the newer one was sent.
    let first = token_of(&all[0].link("token=").unwrap());
    let fields = [
        ("token", first.as_str()),
        ("newPassword", NEW),
        ("confirmPassword", NEW),
    ];
    let (status, _) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(status, 403);
    // A malformed address is a typed error (it tells nothing about accounts).
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", "not an address")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("InvalidRequest"))
    );
}

/// The answer does not wait for the lookup or the delivery: with an SMTP
/// server that accepts connections and never answers, asking for a link
/// for a real account still answers at once (a delivery in the request
/// would hold it for lettre's 10 s timeout, past this client's 3 s).
#[tokio::test]
async fn asking_for_a_link_never_waits_on_the_mail_server() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let config =
        format!("[email.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n");
    let mut app = spawn(&config).await;
    app.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    let (status, _) = action(
        &mut app,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    assert_eq!(status, 200);
    drop(silent);
}

/// The tests' own SMTP server is never another test's listener: a port
/// taken between its pick and aiosmtpd's bind (aiosmtpd then exits) is not
/// used, even though a connect to it succeeds.
#[test]
fn the_test_mail_server_is_never_a_listener_that_took_its_port() {
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = other.local_addr().unwrap().port();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert!(SmtpServer::start_on(port).is_none());
    let ours = SmtpServer::start();
    assert_ne!(ours.port, port);
}

/// The same for sign-up: signing up with a taken address (whose owner gets
/// a message) answers at once, whatever the mail server does.
#[tokio::test]
async fn signing_up_never_waits_on_the_mail_server() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let config = format!(
        "[email.smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n[accounts]\nsign_up = \"open\"\n"
    );
    let mut app = spawn(&config).await;
    app.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    for email in [EMAIL, "brand-new@example.com"] {
        let fields = sign_up_fields(email, NEW, NEW);
        let (status, _) = action(&mut app, sesame::wire::routes::SIGN_UP_ACTION, &fields).await;
        assert_eq!(status, 200, "{email}");
    }
    drop(silent);
}

#[tokio::test]
async fn a_plain_form_comes_back_to_the_reset_page() {
    let smtp = SmtpServer::start();
    let mut app = spawn(&smtp.config()).await;
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            sesame::wire::routes::RESET_REQUEST,
            &[("email", EMAIL), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/api/auth/reset?done=link-sent"));
    let link = smtp.wait_for(EMAIL, 1).await[0].link("token=").unwrap();
    let reset = token_of(&link);
    let token = app.csrf_token().await;
    let res = app
        .post_form(
            sesame::wire::routes::RESET_CONFIRM,
            &[
                ("token", &reset),
                ("newPassword", NEW),
                ("confirmPassword", "other"),
                ("csrfToken", &token),
            ],
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.ends_with(&format!(
            "/api/auth/reset?token={reset}&error=PasswordMismatch"
        )),
        "{location}"
    );
    // A forged CSRF token changes nothing.
    let res = app
        .post_form(
            sesame::wire::routes::RESET_CONFIRM,
            &[
                ("token", &reset),
                ("newPassword", NEW),
                ("confirmPassword", NEW),
                ("csrfToken", "forged|x"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
}

fn open_sign_up(smtp: &SmtpServer) -> String {
    format!("{}\n[accounts]\nsign_up = \"open\"\n", smtp.config())
}

fn sign_up_fields<'a>(
    email: &'a str,
    password: &'a str,
    confirm: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("email", email),
        ("name", "New Person"),
        ("password", password),
        ("confirmPassword", confirm),
    ]
}

#[tokio::test]
async fn signing_up_sends_a_link_and_the_account_waits_for_it() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    let new = "new@example.com";
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields(new, NEW, NEW),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/signup?done=check-email"));
    let link = smtp.wait_for(new, 1).await[0]
        .link("/api/auth/verify?token=")
        .expect("a verification link");

    // Before the address is confirmed: the right password gets the
    // wrong-password answer (so signing up then signing in tells nobody
    // whether the address had an account; see tests/takeover.rs).
    let res = a.sign_in_json(new, NEW, "/").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "CredentialsSignin"
    );
    assert_eq!(
        a.sign_in_json(new, "wrong password here", "/")
            .await
            .status(),
        401
    );

    // Following the link shows a button; only the post confirms.
    let token = token_of(&link);
    let page = a.get(&format!("/api/auth/verify?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        a.sign_in_json(new, NEW, "/").await.status(),
        401,
        "a GET confirms nothing"
    );
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The link came from the mailbox: the browser that followed it is signed in.
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/verify?done=signed-in"));
    let session = a.session().await;
    assert_eq!(session["user"]["email"], new);
    assert_eq!(session["role"], "member", "the app's own user type");
    assert_eq!(a.sign_in_json(new, NEW, "/").await.status(), 200);
    let user = app.auth().user_by_email(new).await.unwrap();
    assert_eq!(user.name.as_deref(), Some("New Person"));
    assert!(user.email_verified_at.is_some());
    // Once.
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Verification"))
    );
}

#[tokio::test]
async fn signing_up_with_a_taken_address_answers_the_same_and_tells_its_owner() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    let taken = action(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields(EMAIL, NEW, NEW),
    )
    .await;
    let fresh = action(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("fresh@example.com", NEW, NEW),
    )
    .await;
    assert_eq!(taken, fresh);
    assert_eq!(taken.0, 200);
    let notice = smtp.wait_for(EMAIL, 1).await.remove(0);
    assert!(notice.body.contains("already has one"), "{}", notice.body);
    assert!(
        notice.link("/api/auth/verify").is_none(),
        "no link that verifies anything"
    );
    // The existing account is untouched: its password still works.
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    smtp.wait_for("fresh@example.com", 1).await;
}

#[tokio::test]
async fn sign_up_checks_its_form_and_can_be_closed() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    for (fields, status, code) in [
        (
            sign_up_fields("x@example.com", NEW, "something else"),
            400,
            "PasswordMismatch",
        ),
        (
            sign_up_fields("x@example.com", "password1", "password1"),
            400,
            "WeakPassword",
        ),
        (
            sign_up_fields("not an address", NEW, NEW),
            400,
            "InvalidRequest",
        ),
    ] {
        let (s, body) = action(&mut a, sesame::wire::routes::SIGN_UP_ACTION, &fields).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(code)),
            "{fields:?}"
        );
    }
    let long_name = "n".repeat(101);
    let mut fields = sign_up_fields("x@example.com", NEW, NEW);
    fields[1] = ("name", &long_name);
    let (s, _) = action(&mut a, sesame::wire::routes::SIGN_UP_ACTION, &fields).await;
    assert_eq!(s, 400);
    fields[1] = ("name", "a\u{7}bell");
    let (s, _) = action(&mut a, sesame::wire::routes::SIGN_UP_ACTION, &fields).await;
    assert_eq!(s, 400, "control characters in the name");
    assert!(
        app.auth().user_by_email("x@example.com").await.is_err(),
        "nothing was made"
    );
    // A name of exactly the longest length is fine.
    let longest = "n".repeat(100);
    fields[1] = ("name", &longest);
    let (s, _) = action(&mut a, sesame::wire::routes::SIGN_UP_ACTION, &fields).await;
    assert_eq!(s, 200);

    // Off (the library's default) and by invitation: closed to the public.
    for mode in ["off", "invite"] {
        let closed = spawn(&format!(
            "{}\n[accounts]\nsign_up = \"{mode}\"\n",
            smtp.config()
        ))
        .await;
        let mut b = closed.new_browser();
        let (s, body) = action(
            &mut b,
            sesame::wire::routes::SIGN_UP_ACTION,
            &sign_up_fields("y@example.com", NEW, NEW),
        )
        .await;
        assert_eq!(
            (s, body["error"].as_str()),
            (403, Some("SignUpClosed")),
            "{mode}"
        );
        let page = b.get("/api/auth/signup").await.text().await.unwrap();
        assert!(page.contains("sign-up-closed"), "{mode}");
    }
}

#[tokio::test]
async fn the_verification_link_can_be_sent_again_once_a_minute() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    let new = "again@example.com";
    action_ok(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields(new, NEW, NEW),
    )
    .await;
    let first = token_of(&smtp.wait_for(new, 1).await[0].link("token=").unwrap());
    // Within the minute: the same answer, and nothing sent.
    let (status, _) = action(
        &mut a,
        sesame::wire::routes::VERIFY_RESEND,
        &[("email", new)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = action(
        &mut a,
        sesame::wire::routes::VERIFY_RESEND,
        &[("email", "nobody@example.com")],
    )
    .await;
    assert_eq!(status, 200);
    // A minute later (the token aged behind the server's back): a new link,
    // and the first one stops working.
    sqlx::query("UPDATE account_tokens SET created_at = created_at - 120")
        .execute(&app.db().await)
        .await
        .unwrap();
    action_ok(
        &mut a,
        sesame::wire::routes::VERIFY_RESEND,
        &[("email", new)],
    )
    .await;
    let mails = smtp.wait_for(new, 2).await;
    assert_eq!(mails.len(), 2, "the resend within the minute sent nothing");
    let second = token_of(&mails[1].link("token=").unwrap());
    let (status, _) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &first)],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &second)],
    )
    .await;
    assert_eq!(status, 200);
    // A confirmed account gets no more links.
    sqlx::query("UPDATE account_tokens SET created_at = created_at - 120")
        .execute(&app.db().await)
        .await
        .unwrap();
    action_ok(
        &mut a,
        sesame::wire::routes::VERIFY_RESEND,
        &[("email", new)],
    )
    .await;
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", new)],
    )
    .await;
    // The reset link marks the end: no verification link came before it.
    let mails = smtp.wait_for(new, 3).await;
    assert_eq!(mails.len(), 3);
    assert!(mails[2].link("/api/auth/reset?token=").is_some());
}

#[tokio::test]
async fn an_invitation_makes_the_account_and_its_link_sets_the_password() {
    let smtp = SmtpServer::start();
    let app = spawn(&format!(
        "{}\n[accounts]\nsign_up = \"invite\"\n",
        smtp.config()
    ))
    .await;
    let invited = "invited@example.com";
    let user = app
        .auth()
        .invite(invited, Some("Invited".into()), sesame::i18n::Locale::En)
        .await
        .unwrap();
    assert!(user.email_verified_at.is_none());
    assert!(matches!(
        app.auth()
            .invite(invited, None, sesame::i18n::Locale::En)
            .await,
        Err(sesame::server::InviteError::Exists)
    ));
    let link = smtp.wait_for(invited, 1).await[0]
        .link("/api/auth/reset?token=")
        .expect("a link that sets the password");
    let mut a = app.new_browser();
    let fields = [
        ("token", token_of(&link)),
        ("newPassword", NEW.into()),
        ("confirmPassword", NEW.into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(status, 200, "{body}");
    // The link came by email: the address is confirmed, and the account signs in.
    assert_eq!(a.sign_in_json(invited, NEW, "/").await.status(), 200);
}

#[tokio::test]
async fn moving_to_a_new_address_goes_through_a_link_to_it_and_tells_the_old_one() {
    let smtp = SmtpServer::start();
    let app = spawn(&format!(
        "{}\n[session]\ncache_ttl = \"0s\"\n",
        smtp.config()
    ))
    .await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let moved = "moved@example.com";

    // Not the same address, not a malformed one.
    for (email, code) in [(EMAIL, "InvalidRequest"), ("nope", "InvalidRequest")] {
        let (status, body) = action(
            &mut a,
            sesame::wire::routes::CHANGE_EMAIL,
            &[("email", email)],
        )
        .await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)));
    }
    // The password is needed, however recent the sign-in.
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::CHANGE_EMAIL,
        &[("email", moved)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("ReauthRequired"))
    );
    let fields = [
        ("email", moved),
        ("password", PASSWORD),
        ("callbackUrl", "/account/email"),
    ];
    let (status, body) = action(&mut a, sesame::wire::routes::CHANGE_EMAIL, &fields).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/account/email?done=email-link-sent"));

    let notice = smtp.wait_for(EMAIL, 1).await.remove(0);
    assert!(
        notice.body.contains("another email address"),
        "{}",
        notice.body
    );
    let link = smtp.wait_for(moved, 1).await[0]
        .link("/api/auth/verify?token=")
        .expect("a link to the new address");
    assert!(link.ends_with("&change=1"), "{link}");
    // Nothing moved yet.
    assert_eq!(app.auth().user_by_email(EMAIL).await.unwrap().email, EMAIL);

    let token = token_of(&link).trim_end_matches("&change=1").to_string();
    let mut c = app.new_browser();
    let fields = [("token", token.as_str()), ("change", "1")];
    let (status, body) = action(&mut c, sesame::wire::routes::VERIFY_CONFIRM, &fields).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/verify?done=email-changed"));
    // Every session ended; the account signs in with the new address only.
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(b.session().await, serde_json::json!({}));
    assert_eq!(c.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    assert_eq!(c.sign_in_json(moved, PASSWORD, "/").await.status(), 200);
    // Once; and a change token does not verify a sign-up (nor the reverse).
    let (status, _) = action(&mut c, sesame::wire::routes::VERIFY_CONFIRM, &fields).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn moving_to_a_taken_address_answers_the_same_and_sends_it_nothing() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    app.add_user("taken@example.com").await;
    let mut a = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let taken = action(
        &mut a,
        sesame::wire::routes::CHANGE_EMAIL,
        &[("email", "taken@example.com"), ("password", PASSWORD)],
    )
    .await;
    let free = action(
        &mut a,
        sesame::wire::routes::CHANGE_EMAIL,
        &[("email", "free@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(taken, free);
    // The free address's link marks the end: the taken one got nothing before.
    smtp.wait_for("free@example.com", 1).await;
    smtp.wait_for(EMAIL, 2).await;
    assert!(smtp
        .received()
        .iter()
        .all(|m| !m.to.contains("taken@example.com")));
}

/// A reset link works for one hour, a verification link for a day (as the
/// database keeps them).
#[tokio::test]
async fn links_live_as_long_as_they_say() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    action_ok(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("ttl@example.com", NEW, NEW),
    )
    .await;
    smtp.wait_for(EMAIL, 1).await;
    smtp.wait_for("ttl@example.com", 1).await;
    let lives: Vec<(String, i64)> = sqlx::query_as(
        "SELECT purpose, expires_at - created_at FROM account_tokens ORDER BY purpose",
    )
    .fetch_all(&app.db().await)
    .await
    .unwrap();
    let near = |(purpose, secs): &(String, i64), want: i64| {
        assert!((secs - want).abs() <= 2, "{purpose}: {secs}");
    };
    assert_eq!(lives.len(), 2, "{lives:?}");
    near(&lives[0], 3600);
    assert_eq!(lives[0].0, "reset-password");
    near(&lives[1], 86400);
    assert_eq!(lives[1].0, "verify-email");
}

/// A reset link stops working when its account is disabled (for good: a
/// disable voids every pending link), and while the account is at another
/// address than the one it was sent to.
#[tokio::test]
async fn a_reset_link_needs_its_account_as_it_was_sent() {
    let smtp = SmtpServer::start();
    let app = spawn(&smtp.config()).await;
    let mut a = app.new_browser();
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    let token = token_of(&smtp.wait_for(EMAIL, 1).await[0].link("token=").unwrap());
    let fields = [
        ("token", token.as_str()),
        ("newPassword", NEW),
        ("confirmPassword", NEW),
    ];
    app.auth().set_disabled(EMAIL, true).await.unwrap();
    let (status, body) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Verification"))
    );
    app.auth().set_disabled(EMAIL, false).await.unwrap();
    let (status, _) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(
        status, 403,
        "voided by the disable, not only while disabled"
    );
    action_ok(
        &mut a,
        sesame::wire::routes::RESET_REQUEST,
        &[("email", EMAIL)],
    )
    .await;
    let token = token_of(&smtp.wait_for(EMAIL, 2).await[1].link("token=").unwrap());
    let fields = [
        ("token", token.as_str()),
        ("newPassword", NEW),
        ("confirmPassword", NEW),
    ];
    // Moved to another address behind the link's back.
    sqlx::query("UPDATE users SET email = 'elsewhere@example.com' WHERE email = ?")
        .bind(EMAIL)
        .execute(&app.db().await)
        .await
        .unwrap();
    let (status, body) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Verification"))
    );
    // Back at the address it was sent to, the unspent link works.
    sqlx::query("UPDATE users SET email = ? WHERE email = 'elsewhere@example.com'")
        .bind(EMAIL)
        .execute(&app.db().await)
        .await
        .unwrap();
    let (status, _) = action(&mut a, sesame::wire::routes::RESET_CONFIRM, &fields).await;
    assert_eq!(status, 200);
}

/// A verification link confirms the address it was sent to, not whatever
/// address the account has now.
#[tokio::test]
async fn a_verification_link_confirms_only_the_address_it_went_to() {
    let smtp = SmtpServer::start();
    let app = spawn(&open_sign_up(&smtp)).await;
    let mut a = app.new_browser();
    action_ok(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("first@example.com", NEW, NEW),
    )
    .await;
    let token = token_of(
        &smtp.wait_for("first@example.com", 1).await[0]
            .link("token=")
            .unwrap(),
    );
    sqlx::query("UPDATE users SET email = 'second@example.com' WHERE email = 'first@example.com'")
        .execute(&app.db().await)
        .await
        .unwrap();
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("Verification"))
    );
    let user = app
        .auth()
        .user_by_email("second@example.com")
        .await
        .unwrap();
    assert!(user.email_verified_at.is_none());
}

/// With `accounts.sign_in_after_verification = false` the link only
/// confirms; the password signs in.
#[tokio::test]
async fn confirming_can_leave_the_sign_in_to_the_password() {
    let smtp = SmtpServer::start();
    let app = spawn(&format!(
        "{}\n[accounts]\nsign_up = \"open\"\nsign_in_after_verification = false\n",
        smtp.config()
    ))
    .await;
    let mut a = app.new_browser();
    action_ok(
        &mut a,
        sesame::wire::routes::SIGN_UP_ACTION,
        &sign_up_fields("plain@example.com", NEW, NEW),
    )
    .await;
    let token = token_of(
        &smtp.wait_for("plain@example.com", 1).await[0]
            .link("token=")
            .unwrap(),
    );
    let (status, body) = action(
        &mut a,
        sesame::wire::routes::VERIFY_CONFIRM,
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["url"]
        .as_str()
        .unwrap()
        .ends_with("/api/auth/verify?done=verified"));
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(
        a.sign_in_json("plain@example.com", NEW, "/").await.status(),
        200
    );
}
