//! The second factor, black-box: an authenticator app enrolled through the
//! account actions, codes computed here by an independent implementation of
//! RFC 6238 (Python's `hmac`, not the server's crate), and the step that
//! every way in (a password, a provider, a link from the mailbox) passes
//! before any session exists.

mod common;

use common::{
    action, code_at,
    factors::{confirm_enrolment, enrol, security, start_enrolment},
    now,
    oidc::{oidc, sign_in_at_provider},
    smtp::SmtpServer,
    spawn, TestApp, EMAIL, PASSWORD,
};

/// The code of the step after the current one (accepted: one step either side).
fn next_code(secret: &str) -> String {
    code_at(secret, now() + 30)
}

/// The credentials callback (JSON) for `email`: status and answer.
async fn password_step(browser: &mut TestApp, email: &str) -> (u16, serde_json::Value) {
    let res = browser.sign_in_json(email, PASSWORD, "/account").await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// POST `/api/auth/second-factor` (JSON) with `fields`.
async fn step(browser: &mut TestApp, fields: &[(&str, &str)]) -> (u16, serde_json::Value) {
    action(browser, "/api/auth/second-factor", fields).await
}

fn signed_out(session: &serde_json::Value) -> bool {
    session.as_object().unwrap().is_empty()
}

/// A signed-in demo browser with an authenticator app: the browser, the
/// secret, the recovery codes.
async fn enrolled(extra: &str) -> (TestApp, String, Vec<String>) {
    let mut browser = spawn(extra).await;
    browser.sign_in_demo(false).await;
    let (secret, codes) = enrol(&mut browser).await;
    (browser, secret, codes)
}

#[tokio::test]
async fn a_password_alone_makes_no_session_and_the_code_finishes_it() {
    let (app, secret, _) = enrolled("").await;
    let (overview, _) = security(&mut app.clone()).await;
    assert_eq!(overview["authenticator"], true);
    assert_eq!(overview["recovery_codes_left"], 10);
    // The secret is shown while enrolling only, never once it is on.
    assert!(overview["enrolment"].is_null(), "{overview}");

    let mut browser = app.new_browser();
    let (status, body) = password_step(&mut browser, EMAIL).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "SecondFactorRequired");
    assert_eq!(
        body["url"],
        format!("{}/api/auth/second-factor", browser.base)
    );
    assert!(body.get("session").is_none_or(|s| s.is_null()), "{body}");
    assert!(
        signed_out(&browser.session().await),
        "no session before the code"
    );
    assert!(browser.cookies.contains_key("sesame.second-factor"));

    // A wrong code: refused, still signed out.
    let wrong = if next_code(&secret) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (status, body) = step(&mut browser, &[("code", wrong)]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("InvalidCode")));
    assert!(signed_out(&browser.session().await));

    let (status, body) = step(&mut browser, &[("code", &next_code(&secret))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["url"], format!("{}/account", browser.base));
    assert_eq!(browser.session().await["user"]["email"], EMAIL);
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["pwd", "otp"]));
    assert!(overview["second_factor_at"].is_string());
    // The record is taken: the cookie is cleared.
    assert!(!browser.cookies.contains_key("sesame.second-factor"));
}

#[tokio::test]
async fn a_plain_form_goes_to_the_step_page_which_works_without_javascript() {
    let (app, secret, _) = enrolled("").await;
    let mut browser = app.new_browser();
    let token = browser.csrf_token().await;
    let res = browser.post_demo_credentials(&token, &[]).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/api/auth/second-factor", browser.base)
    );
    let page = browser.get("/api/auth/second-factor").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"action="/api/auth/second-factor""#),
        "{page}"
    );
    assert!(page.contains(r#"name="code""#) && page.contains(r#"name="recoveryCode""#));
    // A wrong code comes back to the page with its error.
    let token = browser.csrf_token().await;
    let res = browser
        .post_form(
            "/api/auth/second-factor",
            &[("code", "12345"), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/api/auth/second-factor?error=InvalidCode"
    );
    let res = browser
        .post_form(
            "/api/auth/second-factor",
            &[("code", &next_code(&secret)), ("csrfToken", &token)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/", browser.base)
    );
    assert_eq!(browser.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn a_code_is_accepted_once_and_an_old_one_never() {
    let (app, secret, _) = enrolled("").await;
    let code = next_code(&secret);
    let mut first = app.new_browser();
    password_step(&mut first, EMAIL).await;
    assert_eq!(step(&mut first, &[("code", &code)]).await.0, 200);
    // The same code in another browser, seen over a shoulder: refused.
    let mut second = app.new_browser();
    password_step(&mut second, EMAIL).await;
    let (status, body) = step(&mut second, &[("code", &code)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("CodeAlreadyUsed"))
    );
    // The confirming step's code (earlier than the one used): refused too.
    let (status, body) = step(&mut second, &[("code", &code_at(&secret, now()))]).await;
    assert_eq!(status, 401, "{body}");
    // A code from two steps back is outside the window.
    let (status, body) = step(&mut second, &[("code", &code_at(&secret, now() - 60))]).await;
    assert_eq!(status, 401, "{body}");
    assert!(signed_out(&second.session().await));
}

#[tokio::test]
async fn recovery_codes_work_once_each_and_the_owner_is_told() {
    let smtp = SmtpServer::start();
    let (app, _, codes) = enrolled(&smtp.config()).await;
    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    // As typed from paper: upper case, spaces.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let (status, body) = step(&mut browser, &[("recoveryCode", &typed)]).await;
    assert_eq!(status, 200, "{body}");
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["pwd", "recovery"]));
    assert_eq!(overview["recovery_codes_left"], 9);
    let mail = smtp.wait_for(EMAIL, 1).await.remove(0);
    assert!(mail.subject.contains("recovery code"), "{}", mail.subject);

    let mut again = app.new_browser();
    password_step(&mut again, EMAIL).await;
    let (status, body) = step(&mut again, &[("recoveryCode", &codes[0])]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("InvalidCode")));
    assert!(signed_out(&again.session().await));
    // Another one typed in the code field (the in-place form has one field).
    let (status, body) = step(&mut again, &[("code", &codes[2])]).await;
    assert_eq!(status, 200, "{body}");
    // The recovery codes kept are hashes: none of the codes is in the file.
    let db = app.db().await;
    let kept: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(kept.len(), 10);
    for code in &codes {
        assert!(kept
            .iter()
            .all(|k| !k.windows(5).any(|w| w == &code.as_bytes()[..5])));
    }
}

#[tokio::test]
async fn the_secret_is_sealed_in_the_database() {
    let (app, secret, _) = enrolled("").await;
    let db_file = app.dir.path().join("test.db");
    let bytes = std::fs::read(&db_file).unwrap();
    let raw = {
        // The secret's raw bytes, decoded here from base32.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut bits = 0u64;
        let mut n = 0;
        let mut out = Vec::new();
        for c in secret.bytes() {
            bits = (bits << 5) | alphabet.iter().position(|a| *a == c).unwrap() as u64;
            n += 5;
            if n >= 8 {
                out.push((bits >> (n - 8)) as u8);
                n -= 8;
            }
        }
        out
    };
    assert_eq!(raw.len(), 20);
    assert!(
        !bytes.windows(20).any(|w| w == raw.as_slice()),
        "raw secret in the file"
    );
    assert!(
        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "base32 secret in the file"
    );
    let sealed: String = sqlx::query_scalar("SELECT secret_sealed FROM totp_factors")
        .fetch_one(&app.db().await)
        .await
        .unwrap();
    assert!(!sealed.contains(&secret));
}

#[tokio::test]
async fn the_pending_step_is_bound_to_its_browser_and_lives_five_minutes() {
    let (app, secret, _) = enrolled("").await;
    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    // Another browser with the right code but not the record's cookie.
    let mut thief = app.new_browser();
    let (status, body) = step(&mut thief, &[("code", &next_code(&secret))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
    // A made-up cookie: the same.
    thief
        .cookies
        .insert("sesame.second-factor".into(), "made-up".into());
    let (status, _) = step(&mut thief, &[("code", &next_code(&secret))]).await;
    assert_eq!(status, 401);
    assert!(signed_out(&thief.session().await));
    // The record past its five minutes: gone, whatever the code.
    sqlx::query("UPDATE pending_sign_ins SET expires_at = expires_at - 301")
        .execute(&app.db().await)
        .await
        .unwrap();
    let (status, body) = step(&mut browser, &[("code", &next_code(&secret))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
    assert!(signed_out(&browser.session().await));
}

#[tokio::test]
async fn wrong_codes_end_the_record_and_count_in_the_lockout() {
    let (app, secret, _) = enrolled("").await;
    // Five wrong codes: the record dies, the right code is then too late.
    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    for _ in 0..5 {
        let (status, body) = step(&mut browser, &[("code", "99999x")]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("InvalidCode")));
    }
    let (status, body) = step(&mut browser, &[("code", &next_code(&secret))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SessionRequired"))
    );
    assert!(signed_out(&browser.session().await));

    // With the lockout's usual budget, wrong codes lock the account like
    // wrong passwords: a right code is then refused too.
    let (app, secret, _) = enrolled("[limits.lockout]\nfree_failures = 3").await;
    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    for _ in 0..3 {
        assert_eq!(step(&mut browser, &[("code", "99999x")]).await.0, 401);
    }
    let (status, body) = step(&mut browser, &[("code", &next_code(&secret))]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("RateLimited")),
        "{body}"
    );
    assert!(signed_out(&browser.session().await));
}

#[tokio::test]
async fn a_right_password_does_not_reset_the_code_guesses() {
    // An attacker with the password signs in again and again to guess codes:
    // the first factor's success is not a success of the account.
    let (app, _, _) = enrolled("[limits.lockout]\nfree_failures = 4").await;
    let mut attacker = app.new_browser();
    for _ in 0..2 {
        let (status, _) = password_step(&mut attacker, EMAIL).await;
        assert_eq!(status, 401);
        for _ in 0..2 {
            assert_eq!(step(&mut attacker, &[("code", "99999x")]).await.0, 401);
        }
    }
    let (status, body) = password_step(&mut attacker, EMAIL).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("RateLimited")),
        "{body}"
    );
}

#[tokio::test]
async fn one_code_on_two_pending_sign_ins_at_once_signs_in_once() {
    let app = spawn("").await;
    for round in 0..10 {
        let email = format!("racer{round}@example.com");
        app.add_user(&email).await;
        let mut owner = app.new_browser();
        assert_eq!(password_step(&mut owner, &email).await.0, 200);
        let (secret, codes) = enrol(&mut owner).await;
        let code = next_code(&secret);
        let mut browsers = Vec::new();
        for _ in 0..2 {
            let mut b = app.new_browser();
            assert_eq!(password_step(&mut b, &email).await.0, 401);
            browsers.push(b);
        }
        // Two browsers, one TOTP code.
        let racers: Vec<_> = browsers
            .into_iter()
            .map(|mut b| {
                let code = code.clone();
                tokio::spawn(async move {
                    let (status, _) = step(&mut b, &[("code", &code)]).await;
                    (status, !signed_out(&b.session().await))
                })
            })
            .collect();
        let mut ins = 0;
        for racer in racers {
            let (status, signed_in) = racer.await.unwrap();
            assert_eq!(status == 200, signed_in);
            ins += usize::from(signed_in);
        }
        assert_eq!(ins, 1, "round {round}: one TOTP code");
        // One browser, one recovery code, posted twice at once.
        let mut b = app.new_browser();
        assert_eq!(password_step(&mut b, &email).await.0, 401);
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let mut b = b.clone();
                let code = codes[0].clone();
                tokio::spawn(async move { step(&mut b, &[("recoveryCode", &code)]).await.0 })
            })
            .collect();
        let mut oks = 0;
        for racer in racers {
            oks += usize::from(racer.await.unwrap() == 200);
        }
        assert_eq!(oks, 1, "round {round}: one recovery code");
    }
}

#[tokio::test]
async fn a_trusted_browser_skips_the_step_until_the_password_changes() {
    let (app, secret, codes) = enrolled("").await;
    // Without the box ticked, nothing is trusted.
    let mut untrusted = app.new_browser();
    password_step(&mut untrusted, EMAIL).await;
    let (status, _) = step(&mut untrusted, &[("recoveryCode", &codes[2])]).await;
    assert_eq!(status, 200);
    assert!(!untrusted.cookies.contains_key("sesame.trusted"));
    let (overview, _) = security(&mut untrusted).await;
    assert_eq!(overview["trusted_browsers"], serde_json::json!([]));

    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    let (status, _) = step(
        &mut browser,
        &[("code", &next_code(&secret)), ("trustBrowser", "true")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(browser.cookies.contains_key("sesame.trusted"));
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["trusted_browsers"].as_array().unwrap().len(), 1);
    // Trusted for thirty days from now.
    let expires = overview["trusted_browsers"][0]["expires"].as_str().unwrap();
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp() as u64;
    assert!(expires.abs_diff(now() + 30 * 24 * 3600) < 60, "{expires}");
    let token = browser.csrf_token().await;
    assert_eq!(browser.sign_out_with(&token).await, 200);
    // The same browser: straight in.
    let (status, body) = password_step(&mut browser, EMAIL).await;
    assert_eq!(status, 200, "{body}");
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["pwd", "trusted"]));
    // Its cookie in another browser, for another account or changed: no.
    let mut copy = app.new_browser();
    let mut forged = browser.cookies["sesame.trusted"].clone();
    forged.pop();
    forged.push('x');
    copy.cookies.insert("sesame.trusted".into(), forged);
    assert_eq!(password_step(&mut copy, EMAIL).await.0, 401);
    // A password change forgets every trusted browser.
    let (status, body) = action(
        &mut browser,
        "/api/auth/account/change-password",
        &[
            ("currentPassword", PASSWORD),
            ("newPassword", "a much newer passphrase 42"),
            ("confirmPassword", "a much newer passphrase 42"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = browser.csrf_token().await;
    browser.sign_out_with(&token).await;
    let res = browser
        .sign_in_json(EMAIL, "a much newer passphrase 42", "/account")
        .await;
    assert_eq!(res.status(), 401, "the trust is gone");
    let (status, _) = step(&mut browser, &[("recoveryCode", &codes[1])]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn turning_the_factor_off_needs_a_recent_second_factor_or_a_code() {
    let (mut browser, secret, _) = enrolled("[session]\ncache_ttl = \"0s\"").await;
    // The confirming code counted as this session's second factor; an hour
    // later it is not recent any more: a code is needed.
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["pwd", "otp"]));
    browser.age_session("second_factor_at", 3600).await;
    let (status, body) = action(&mut browser, "/api/auth/account/totp/disable", &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("ReauthRequired"))
    );
    let (status, body) = action(
        &mut browser,
        "/api/auth/account/recovery-codes",
        &[("code", "000000x")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("InvalidCode")));
    let (status, body) = action(
        &mut browser,
        "/api/auth/account/recovery-codes",
        &[("code", &next_code(&secret))],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["codes"].as_array().unwrap().len(), 10);
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["recovery_codes_left"], 10);
    // A session made with the second factor may turn it off without one.
    let mut other = browser.new_browser();
    password_step(&mut other, EMAIL).await;
    let code = body["codes"][0].as_str().unwrap();
    assert_eq!(step(&mut other, &[("recoveryCode", code)]).await.0, 200);
    let (status, body) = action(&mut other, "/api/auth/account/totp/disable", &[]).await;
    assert_eq!(status, 200, "{body}");
    // Off: a password is enough again, and nothing is left behind.
    let mut later = other.new_browser();
    assert_eq!(password_step(&mut later, EMAIL).await.0, 200);
    let db = later.db().await;
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM totp_factors) + (SELECT COUNT(*) FROM recovery_codes)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_provider_sign_in_passes_the_same_step() {
    let config = format!(
        "{}\n[accounts]\nsign_up = \"open\"",
        oidc().provider_toml("oidc-test", "")
    );
    let app = spawn(&config).await;
    let sign_in = |mut browser: TestApp| async move {
        let (_, body) = action(
            &mut browser,
            "/api/auth/signin/oidc-test",
            &[("callbackUrl", "/account")],
        )
        .await;
        let back = sign_in_at_provider(body["url"].as_str().unwrap(), "carol").await;
        let path = back.url().strip_prefix(&browser.base).unwrap().to_string();
        let res = browser.get(&path).await;
        (browser, res)
    };
    let (mut first, res) = sign_in(app.new_browser()).await;
    assert_eq!(res.status(), 302);
    assert!(!signed_out(&first.session().await));
    let (secret, _) = enrol(&mut first).await;

    let (mut second, res) = sign_in(app.new_browser()).await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/api/auth/second-factor", app.base)
    );
    assert!(
        signed_out(&second.session().await),
        "no session before the code"
    );
    let (status, body) = step(&mut second, &[("code", &next_code(&secret))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["url"], format!("{}/account", app.base));
    let (overview, _) = security(&mut second).await;
    assert_eq!(
        overview["amr"],
        serde_json::json!(["oauth:oidc-test", "otp"])
    );
}

#[tokio::test]
async fn an_emailed_link_passes_the_same_step() {
    let smtp = SmtpServer::start();
    let (app, secret, _) = enrolled(&format!(
        "{}\n[email_sign_in]\nenabled = true",
        smtp.config()
    ))
    .await;
    let mut browser = app.new_browser();
    let (status, _) = action(
        &mut browser,
        "/api/auth/signin/email",
        &[("email", EMAIL), ("callbackUrl", "/account")],
    )
    .await;
    assert_eq!(status, 200);
    let link = smtp.wait_for(EMAIL, 1).await.remove(0);
    let token = common::token_of(&link.link("/api/auth/callback/email?token=").unwrap());
    let csrf = browser.csrf_token().await;
    let res = browser
        .post_form(
            "/api/auth/callback/email",
            &[("token", &token), ("csrfToken", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/api/auth/second-factor", app.base)
    );
    assert!(signed_out(&browser.session().await));
    let (status, _) = step(&mut browser, &[("code", &next_code(&secret))]).await;
    assert_eq!(status, 200);
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["email", "otp"]));
}

#[tokio::test]
async fn a_required_second_factor_is_set_up_before_any_other_page() {
    let mut browser = spawn("[accounts]\nsecond_factor = \"required\"").await;
    browser.sign_in_demo(false).await;
    let res = browser.get("/account").await;
    assert_eq!(res.status(), 303, "sent to set one up");
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        "/api/auth/security?callbackUrl=%2Faccount"
    );
    let res = browser.get("/api/auth/security").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"action="/api/auth/account/totp/enrol""#),
        "{page}"
    );
    // The auth API stays open: set one up.
    let (secret, _) = enrol(&mut browser).await;
    assert_eq!(browser.get("/account").await.status(), 200);
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["amr"], serde_json::json!(["pwd", "otp"]));
    // From now on the account signs in through the step.
    let mut later = browser.new_browser();
    assert_eq!(password_step(&mut later, EMAIL).await.0, 401);
    assert_eq!(
        step(&mut later, &[("code", &next_code(&secret))]).await.0,
        200
    );
    assert_eq!(later.get("/account").await.status(), 200);
}

/// Callbacks that keep what they saw and refuse a sign-in finished with a
/// recovery code; events that keep the audit.
#[derive(Clone, Default)]
struct SeenFactors {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Vec<String>>>>,
    audit: std::sync::Arc<std::sync::Mutex<Vec<sesame::server::audit::AuditEvent>>>,
}

#[sesame::server::async_trait]
impl sesame::server::Callbacks<sesame_app::user::AppUser> for SeenFactors {
    async fn sign_in_with_factors(
        &self,
        _user: &sesame_app::user::AppUser,
        amr: &[String],
        _profile: Option<&sesame::server::ProviderProfile>,
    ) -> sesame::server::SignInDecision {
        self.seen.lock().unwrap().push(amr.to_vec());
        if amr.iter().any(|m| m == "recovery") {
            sesame::server::SignInDecision::Deny
        } else {
            sesame::server::SignInDecision::Allow
        }
    }
}

#[sesame::server::async_trait]
impl sesame::server::Events<sesame_app::user::AppUser> for SeenFactors {
    async fn audit(&self, event: &sesame::server::audit::AuditEvent) {
        self.audit.lock().unwrap().push(event.clone());
    }
}

#[tokio::test]
async fn the_callbacks_and_the_audit_see_how_the_user_signed_in() {
    let hooks = SeenFactors::default();
    let seen = hooks.clone();
    let mut owner = common::spawn_with("", move |b| b.callbacks(hooks.clone()).events(hooks)).await;
    owner.sign_in_demo(false).await;
    let (secret, codes) = enrol(&mut owner).await;
    // The callbacks run after the second factor, never before it.
    let mut browser = owner.new_browser();
    assert_eq!(password_step(&mut browser, EMAIL).await.0, 401);
    assert_eq!(
        step(&mut browser, &[("code", &next_code(&secret))]).await.0,
        200
    );
    let mut refused = owner.new_browser();
    assert_eq!(password_step(&mut refused, EMAIL).await.0, 401);
    let (status, body) = step(&mut refused, &[("recoveryCode", &codes[0])]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("CredentialsSignin"))
    );
    assert!(signed_out(&refused.session().await));
    let amrs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        seen.seen.lock().unwrap().clone(),
        vec![
            amrs(&["pwd"]),
            amrs(&["pwd", "otp"]),
            amrs(&["pwd", "recovery"])
        ]
    );
    // A replayed code is told apart from a wrong one in the audit.
    let mut replay = owner.new_browser();
    assert_eq!(password_step(&mut replay, EMAIL).await.0, 401);
    assert_eq!(
        step(&mut replay, &[("code", &next_code(&secret))]).await.0,
        401
    );
    assert_eq!(step(&mut replay, &[("code", "99999x")]).await.0, 401);
    let audit = seen.audit.lock().unwrap().clone();
    let outcomes: Vec<String> = audit
        .iter()
        .filter(|e| e.name() == "second_factor_failed")
        .map(|e| serde_json::to_value(e.outcome).unwrap().to_string())
        .collect();
    assert_eq!(outcomes, vec!["\"code_replayed\"", "\"wrong_code\""]);
    assert!(audit
        .iter()
        .any(|e| e.name() == "second_factor_required" && e.amr == amrs(&["pwd"])));
    assert!(audit
        .iter()
        .any(|e| e.name() == "sign_in" && e.amr == amrs(&["pwd", "otp"])));
}

#[tokio::test]
async fn wrong_codes_that_lock_the_account_are_audited_as_a_lockout() {
    let hooks = SeenFactors::default();
    let seen = hooks.clone();
    let mut owner = common::spawn_with("[limits.lockout]\nfree_failures = 2", move |b| {
        b.callbacks(hooks.clone()).events(hooks)
    })
    .await;
    owner.sign_in_demo(false).await;
    enrol(&mut owner).await;
    let mut browser = owner.new_browser();
    assert_eq!(password_step(&mut browser, EMAIL).await.0, 401);
    for _ in 0..2 {
        assert_eq!(step(&mut browser, &[("code", "99999x")]).await.0, 401);
    }
    let audit = seen.audit.lock().unwrap().clone();
    let lockout = audit
        .iter()
        .find(|e| e.name() == "lockout")
        .expect("a lockout event");
    assert!(matches!(
        lockout.outcome,
        sesame::server::audit::Outcome::Started { .. }
    ));
}

#[tokio::test]
async fn a_trusted_browser_is_forgotten_from_the_security_page() {
    let (app, secret, _) = enrolled("").await;
    let mut browser = app.new_browser();
    password_step(&mut browser, EMAIL).await;
    let (status, _) = step(
        &mut browser,
        &[("code", &next_code(&secret)), ("trustBrowser", "true")],
    )
    .await;
    assert_eq!(status, 200);
    let (overview, _) = security(&mut browser).await;
    let id = overview["trusted_browsers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Another id forgets nothing.
    let (status, _) = action(
        &mut browser,
        "/api/auth/account/forget-browser",
        &[("id", "00")],
    )
    .await;
    assert_eq!(status, 200);
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["trusted_browsers"].as_array().unwrap().len(), 1);
    let (status, body) = action(
        &mut browser,
        "/api/auth/account/forget-browser",
        &[("id", &id)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("done=browser-forgotten"),
        "{body}"
    );
    let (overview, _) = security(&mut browser).await;
    assert_eq!(overview["trusted_browsers"], serde_json::json!([]));
    // Signed out, the same browser is asked for the code again.
    let token = browser.csrf_token().await;
    assert_eq!(browser.sign_out_with(&token).await, 200);
    assert_eq!(password_step(&mut browser, EMAIL).await.0, 401);
}

#[tokio::test]
async fn an_app_set_up_but_never_confirmed_passes_no_step() {
    // An account whose factor is a passkey (a row here: the Rust tests have
    // no authenticator), that also started setting up an app and stopped
    // before confirming it.
    let mut app = spawn("").await;
    app.sign_in_demo(false).await;
    let (status, body) = action(&mut app, "/api/auth/account/totp/enrol", &[]).await;
    assert_eq!(status, 200, "{body}");
    let (overview, _) = security(&mut app).await;
    let secret = overview["enrolment"]["secret"]
        .as_str()
        .unwrap()
        .replace(' ', "");
    sqlx::query(
        "INSERT INTO passkeys (user_id, credential_id, passkey, name, created_at) \
         SELECT id, x'0102', '{}', 'key', 0 FROM users WHERE email = ?",
    )
    .bind(EMAIL)
    .execute(&app.db().await)
    .await
    .unwrap();

    let mut browser = app.new_browser();
    let (status, body) = password_step(&mut browser, EMAIL).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("SecondFactorRequired"))
    );
    // The unconfirmed app's code is no second factor.
    for at in [now(), now() + 30] {
        let (status, body) = step(&mut browser, &[("code", &code_at(&secret, at))]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("InvalidCode")),
            "{body}"
        );
    }
    assert!(signed_out(&browser.session().await));
}

#[tokio::test]
async fn a_password_sign_in_that_found_no_factor_stores_no_session_once_one_is_enrolled() {
    let held = common::held::Held::new();
    let hooks = held.clone();
    let app = common::spawn_with("", move |b| b.callbacks(hooks)).await;
    // Five accounts in turn, each with three sign-ins in flight.
    for round in 0..5 {
        let email = format!("racing{round}@example.com");
        app.add_user(&email).await;
        let mut owner = app.new_browser();
        assert_eq!(
            owner.sign_in_json(&email, PASSWORD, "/").await.status(),
            200
        );
        let secret = start_enrolment(&mut owner).await;
        // Three password sign-ins pass the gate while the account has no
        // factor, and wait in the callback.
        held.arm();
        let signing_in = common::held::sign_ins(&app, &email, 3);
        held.reached(3).await;
        // The factor is confirmed meanwhile; then they go on.
        confirm_enrolment(&mut owner, &code_at(&secret, now())).await;
        held.release(3);
        common::held::ended_without_a_session(signing_in, &email, &format!("round {round}")).await;
        // The owner's own session stays.
        assert_eq!(owner.session().await["user"]["email"], email.as_str());
    }
}
