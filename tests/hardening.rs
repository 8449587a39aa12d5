//! The hardening review's attacks, each tried over HTTP against the real
//! server and seen to fail: sessions that come back after sign-out, lifetimes
//! that escape `max_age`, cookies that lose "remember me", CSRF tokens that
//! outlive their session or travel between browsers, malformed and incomplete
//! forms, lockouts an attacker can use against the owner, IPv6 rotation,
//! identifier floods, abandoned hashing jobs, the Referer way back, and the
//! audit trail of it all.

mod common;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use common::{set_cookie, spawn, spawn_with, TestApp, EMAIL, PASSWORD};
use reqwest::header;
use serde_json::{json, Value};
use sesame::server::{
    audit::{AuditAction, AuditEvent, Outcome},
    Callbacks, Events, SignInDecision,
};

/// GET `/api/auth/session` with exactly `cookie`; `query` sends it through
/// the full stack instead of the fast path.
async fn session_with(app: &TestApp, cookie: &str, query: &str) -> Value {
    let res = app
        .client
        .get(format!("{}/api/auth/session{query}", app.base))
        .header(header::COOKIE, format!("sesame.session-token={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

// 1. A signed-out session never comes back, whatever reads it meanwhile.
#[tokio::test]
async fn sign_out_is_final_at_once_under_concurrent_readers() {
    let app = spawn("").await;
    for round in 0..30 {
        let mut browser = app.new_browser();
        let signed_in = browser.sign_in_demo(true).await;
        let cookie = browser.session_cookie().unwrap();
        let token = signed_in["csrfToken"].as_str().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        // Readers on the fast path, through the stack, and writing updates.
        let readers: Vec<_> = (0..6)
            .map(|i| {
                let (app, cookie, token, stop) =
                    (app.clone(), cookie.clone(), token.clone(), stop.clone());
                let csrf = browser.cookies["sesame.csrf-token"].clone();
                tokio::spawn(async move {
                    for _ in 0..400 {
                        if stop.load(Ordering::Acquire) {
                            break;
                        }
                        match i % 3 {
                            0 => drop(session_with(&app, &cookie, "").await),
                            1 => drop(session_with(&app, &cookie, "?r=1").await),
                            _ => {
                                let _ = app
                                    .client
                                    .post(format!("{}/api/auth/session", app.base))
                                    .header(header::ORIGIN, app.base.clone())
                                    .header(
                                        header::COOKIE,
                                        format!(
                                            "sesame.session-token={cookie}; \
                                             sesame.csrf-token={csrf}"
                                        ),
                                    )
                                    .json(&json!({"csrfToken": token, "data": {"name": "r"}}))
                                    .send()
                                    .await
                                    .unwrap();
                            }
                        }
                    }
                })
            })
            .collect();
        assert_eq!(browser.sign_out_with(&token).await, 200);
        // Dead at once, while the readers are still at it...
        assert_eq!(
            session_with(&app, &cookie, "").await,
            json!({}),
            "round {round}"
        );
        assert_eq!(
            session_with(&app, &cookie, "?x=1").await,
            json!({}),
            "round {round}"
        );
        stop.store(true, Ordering::Release);
        for r in readers {
            r.await.unwrap();
        }
        // ...and after every read that raced the sign-out has finished.
        assert_eq!(
            session_with(&app, &cookie, "").await,
            json!({}),
            "round {round}"
        );
        assert_eq!(
            session_with(&app, &cookie, "?y=1").await,
            json!({}),
            "round {round}"
        );
    }
}

// 2. `max_age` caps every session, "remember me" or not.
#[tokio::test]
async fn max_age_caps_sessions_signed_in_without_remember_me() {
    let mut app = spawn("[session]\nmax_age = \"1h\"\ncache_ttl = \"0s\"").await;
    let signed_in = app.sign_in_demo(false).await;
    let expires = time::OffsetDateTime::parse(
        signed_in["session"]["expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(expires <= time::OffsetDateTime::now_utc() + time::Duration::hours(1));
    assert_eq!(app.session().await["user"]["email"], EMAIL);
    // Used all along (last_seen fresh), but signed in just over max_age ago.
    app.age_session("signed_in_at", 3_601).await;
    app.age_session("last_seen", 10).await;
    assert_eq!(app.session().await, json!({}));
}

#[tokio::test]
async fn a_short_max_age_longer_than_max_age_stops_start_up() {
    let err = sesame::server::config::Config::from_toml_str(
        r#"
        [site]
        url = "http://127.0.0.1:3000"
        [database]
        url = "sqlite::memory:"
        [session]
        max_age = "1h"
        short_max_age = "12h"
        "#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("session.short_max_age"), "{err}");
    assert!(err.contains("session.max_age"), "{err}");
}

fn is_persistent(cookie: &str) -> bool {
    let lower = cookie.to_ascii_lowercase();
    lower.contains("max-age=") || lower.contains("expires=")
}

// 3. "Remember me" off stays off on every later write of the session.
#[tokio::test]
async fn without_remember_me_every_write_keeps_a_browser_session_cookie() {
    let mut app = spawn("[session]\ncache_ttl = \"0s\"").await;
    let token = app.csrf_token().await;
    let res = app
        .post_demo_credentials(&token, &[("json", "true"), ("remember", "false")])
        .await;
    let cookie = set_cookie(&res, "sesame.session-token").unwrap();
    assert!(!is_persistent(&cookie), "{cookie}");
    let token = res.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_string();
    // A session update writes the session.
    let res = app
        .post_json(
            "/api/auth/session",
            json!({"csrfToken": token, "data": {"name": "New Name"}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let cookie = set_cookie(&res, "sesame.session-token").expect("the write sets the cookie");
    assert!(!is_persistent(&cookie), "lost on update: {cookie}");
    // So does a renewal of the idle expiry.
    app.age_session("last_seen", 3 * 86_400).await;
    let res = app.get("/api/auth/session").await;
    let cookie = set_cookie(&res, "sesame.session-token").expect("a renewal sets the cookie");
    assert!(!is_persistent(&cookie), "lost on renewal: {cookie}");

    // With "remember me" the cookie is persistent, and stays so.
    let mut other = app.new_browser();
    let token = other.csrf_token().await;
    let res = other
        .post_demo_credentials(&token, &[("json", "true"), ("remember", "true")])
        .await;
    assert!(is_persistent(
        &set_cookie(&res, "sesame.session-token").unwrap()
    ));
}

#[tokio::test]
async fn the_removal_cookie_has_the_attributes_of_the_cookie_it_removes() {
    let mut app = spawn("").await;
    let signed_in = app.sign_in_demo(true).await;
    let res = app
        .post_form(
            "/api/auth/signout",
            &[
                ("csrfToken", signed_in["csrfToken"].as_str().unwrap()),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let removal = set_cookie(&res, "sesame.session-token").unwrap();
    for attribute in ["Max-Age=0", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(
            removal.contains(attribute),
            "{attribute} missing: {removal}"
        );
    }
    assert_eq!(app.session_cookie(), None);
}

// 4. CSRF tokens are rotated at sign-in and sign-out and bound to the session.
#[tokio::test]
async fn a_token_from_before_sign_in_does_not_sign_out() {
    let mut app = spawn("").await;
    let before = app.csrf_token().await;
    let old_cookie = app.cookies["sesame.csrf-token"].clone();
    let res = app
        .post_demo_credentials(&before, &[("json", "true")])
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        set_cookie(&res, "sesame.csrf-token").is_some(),
        "sign-in rotates the CSRF cookie"
    );
    let body: Value = res.json().await.unwrap();
    let after = body["csrfToken"].as_str().unwrap().to_string();
    assert_ne!(after, before);
    assert_eq!(
        app.cookie_token(),
        after,
        "the answer carries the cookie's token"
    );
    assert_eq!(app.csrf_token().await, after, "and /csrf agrees");

    // The pre-sign-in token, with the new cookie or with its own old one.
    assert_eq!(app.sign_out_with(&before).await, 403);
    let new_cookie = app.cookies["sesame.csrf-token"].clone();
    app.cookies.insert("sesame.csrf-token".into(), old_cookie);
    assert_eq!(app.sign_out_with(&before).await, 403);
    app.cookies.insert("sesame.csrf-token".into(), new_cookie);
    assert_eq!(
        app.session().await["user"]["email"],
        EMAIL,
        "still signed in"
    );

    let res = app
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &after), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated = res.json::<Value>().await.unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(rotated, after, "sign-out rotates too");
    assert_eq!(app.cookie_token(), rotated);
}

#[tokio::test]
async fn a_token_and_cookie_from_another_browser_do_not_sign_out() {
    let app = spawn("").await;
    let mut alice = app.new_browser();
    let alice_token = alice.sign_in_demo(true).await["csrfToken"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bob = app.new_browser();
    bob.sign_in_demo(true).await;
    // Bob's session with Alice's whole CSRF pair.
    bob.cookies.insert(
        "sesame.csrf-token".into(),
        alice.cookies["sesame.csrf-token"].clone(),
    );
    assert_eq!(bob.sign_out_with(&alice_token).await, 403);
    assert_eq!(
        bob.session().await["user"]["email"],
        EMAIL,
        "Bob is still in"
    );
    // The pair is good where it belongs.
    assert_eq!(alice.sign_out_with(&alice_token).await, 200);
}

// 5. Repeated form fields get a typed 400 on every server function.
#[tokio::test]
async fn duplicate_fields_get_a_typed_400_never_the_frameworks_500() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let duplicated = format!(
        "email=a%40x.test&email=b%40x.test&password=p1&password=p2&csrfToken={token}&json=true"
    );
    for path in [
        "/api/auth/callback/credentials",
        "/api/auth/signout",
        "/api/account/details",
    ] {
        let res = app
            .post_raw(
                path,
                "application/x-www-form-urlencoded",
                duplicated.clone().into_bytes(),
                &[("accept", "application/json")],
            )
            .await;
        assert_eq!(res.status(), 400, "{path}");
        let body = res.text().await.unwrap();
        assert!(
            !body.contains("Args") && !body.contains("Multiple"),
            "{body}"
        );
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"], "InvalidRequest", "{path}");
    }
    // What only the server function's own parser refuses (a field given as a
    // map, serde_qs's bracket syntax) is the same typed 400, not its 500.
    for body in [
        format!("email[a]=x&password=p&csrfToken={token}&json=true"),
        format!("email=x&password[]=p&csrfToken={token}&json=true"),
    ] {
        let res = app
            .post_raw(
                "/api/auth/callback/credentials",
                "application/x-www-form-urlencoded",
                body.clone().into_bytes(),
                &[("accept", "application/json")],
            )
            .await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, 400, "{body}: {text}");
        assert!(
            text.contains("InvalidRequest") && !text.contains("Args"),
            "{text}"
        );
    }
    // A plain form post (no JavaScript) is sent to the error page, a 400.
    let res = app
        .post_raw(
            "/api/auth/callback/credentials",
            "application/x-www-form-urlencoded",
            format!("email=a&email=b&password=p&csrfToken={token}").into_bytes(),
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.ends_with("/api/auth/error?error=InvalidRequest"),
        "{location}"
    );
    let page = app.get(&location.replace(&app.base, "")).await;
    assert_eq!(page.status(), 400);
    assert_eq!(app.session_cookie(), None);
}

// 6. Incomplete credentials cost no hashing, and answer as a wrong password.
#[tokio::test]
async fn incomplete_credentials_are_refused_before_any_hashing() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let wrong = app
        .post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", "wrong password"),
                ("csrfToken", &token),
                ("json", "true"),
            ],
        )
        .await;
    let wrong = (wrong.status(), wrong.text().await.unwrap());
    let before = app.auth().hash_gate().verifications();
    for fields in [
        vec![
            ("password", "x"),
            ("csrfToken", token.as_str()),
            ("json", "true"),
        ],
        vec![
            ("email", "   "),
            ("password", "x"),
            ("csrfToken", &token),
            ("json", "true"),
        ],
        vec![("email", EMAIL), ("csrfToken", &token), ("json", "true")],
        vec![
            ("email", EMAIL),
            ("password", ""),
            ("csrfToken", &token),
            ("json", "true"),
        ],
    ] {
        let res = app
            .post_form("/api/auth/callback/credentials", &fields)
            .await;
        assert_eq!(
            (res.status(), res.text().await.unwrap()),
            wrong,
            "{fields:?}"
        );
    }
    assert_eq!(
        app.auth().hash_gate().verifications(),
        before,
        "nothing was hashed"
    );
}

/// One sign-in attempt of `email`/`password` from `browser`: status, body, Retry-After.
async fn attempt(browser: &mut TestApp, email: &str, password: &str) -> (u16, String, Option<u64>) {
    let res = browser.sign_in_json(email, password, "/").await;
    let retry = res
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (res.status().as_u16(), res.text().await.unwrap(), retry)
}

const LOCKOUT: &str = r#"
[limits.lockout]
free_failures = 3
first_wait = "1s"
max_wait = "4s"
max_failures = 8
"#;

/// The same with waits long enough that no test step outlasts them.
const LOCKOUT_SLOW: &str = r#"
[limits.lockout]
free_failures = 3
first_wait = "60s"
max_wait = "120s"
"#;

// 7. The failure policy: failures only, growing waits, identical for unknown
// accounts, and the owner's device gets in while an attacker trickles failures.
#[tokio::test]
async fn successes_do_not_count_and_a_success_resets_the_failures() {
    let mut app = spawn(LOCKOUT).await;
    for _ in 0..12 {
        assert_eq!(attempt(&mut app, EMAIL, PASSWORD).await.0, 200);
    }
    for _ in 0..3 {
        for _ in 0..2 {
            assert_eq!(attempt(&mut app, EMAIL, "wrong").await.0, 401);
        }
        assert_eq!(attempt(&mut app, EMAIL, PASSWORD).await.0, 200);
    }
}

#[tokio::test]
async fn existing_and_unknown_accounts_answer_alike_at_every_attempt() {
    let app = spawn(LOCKOUT_SLOW).await;
    let (mut a, mut b) = (app.new_browser(), app.new_browser());
    let mut seen = Vec::new();
    for _ in 0..6 {
        let known = attempt(&mut a, EMAIL, "wrong").await;
        let unknown = attempt(&mut b, "nobody@example.com", "wrong").await;
        assert_eq!(known, unknown);
        seen.push(known.0);
    }
    assert_eq!(seen, [401, 401, 401, 429, 429, 429]);
}

#[tokio::test]
async fn waits_grow_and_a_locked_account_refuses_even_the_right_password() {
    let app = spawn(LOCKOUT).await;
    let mut attacker = app.new_browser();
    for _ in 0..3 {
        assert_eq!(attempt(&mut attacker, EMAIL, "wrong").await.0, 401);
    }
    let mut waits = Vec::new();
    for _ in 0..3 {
        let (status, body, retry) = attempt(&mut attacker, EMAIL, PASSWORD).await;
        assert_eq!(status, 429, "{body}");
        assert!(body.contains("RateLimited"), "{body}");
        let retry = retry.unwrap();
        waits.push(retry);
        // Wait out the lock as told, then fail once more.
        tokio::time::sleep(Duration::from_secs(retry)).await;
        assert_eq!(attempt(&mut attacker, EMAIL, "wrong").await.0, 401);
    }
    assert_eq!(waits, [1, 2, 4], "doubling up to max_wait");
    assert_eq!(
        attempt(&mut attacker, EMAIL, PASSWORD).await.2,
        Some(4),
        "capped"
    );
}

#[tokio::test]
async fn the_owners_device_gets_in_while_an_attacker_keeps_the_account_locked() {
    let app = spawn(LOCKOUT_SLOW).await;
    let mut owner = app.new_browser();
    let res = owner.sign_in_json(EMAIL, PASSWORD, "/").await;
    assert_eq!(res.status(), 200);
    let device = set_cookie(&res, "sesame.device").expect("a device cookie");
    for attribute in ["Max-Age=31536000", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(device.contains(attribute), "{attribute} missing: {device}");
    }
    let mut attacker = app.new_browser();
    let mut locked = false;
    for _ in 0..4 {
        let (status, _, _) = attempt(&mut attacker, EMAIL, "guess").await;
        locked |= status == 429;
    }
    assert!(locked, "the attacker locked the account");
    assert_eq!(attempt(&mut attacker, EMAIL, PASSWORD).await.0, 429);
    // Another browser without the device cookie is locked out too...
    assert_eq!(
        attempt(&mut app.new_browser(), EMAIL, PASSWORD).await.0,
        429
    );
    // ...the owner's is not, and may even mistype.
    assert_eq!(attempt(&mut owner, EMAIL, "typo").await.0, 401);
    assert_eq!(attempt(&mut owner, EMAIL, PASSWORD).await.0, 200);
    // A device cookie is good for its own account only.
    let mut thief = app.new_browser();
    thief.cookies.insert(
        "sesame.device".into(),
        owner.cookies["sesame.device"].clone(),
    );
    for _ in 0..3 {
        attempt(&mut thief, "nobody@example.com", "x").await;
    }
    assert_eq!(attempt(&mut thief, "nobody@example.com", "x").await.0, 429);
}

#[tokio::test]
async fn after_max_failures_nothing_but_a_trusted_device_gets_in() {
    let app = spawn(
        "[limits.lockout]\nfree_failures = 2\nfirst_wait = \"1s\"\nmax_wait = \"1s\"\nmax_failures = 4",
    )
    .await;
    let mut owner = app.new_browser();
    assert_eq!(attempt(&mut owner, EMAIL, PASSWORD).await.0, 200);
    let mut attacker = app.new_browser();
    let mut failures = 0;
    while failures < 4 {
        match attempt(&mut attacker, EMAIL, "guess").await {
            (401, _, _) => failures += 1,
            (429, _, Some(retry)) => tokio::time::sleep(Duration::from_secs(retry)).await,
            other => panic!("{other:?}"),
        }
    }
    // At the cap: waiting does not help.
    let (status, _, retry) = attempt(&mut attacker, EMAIL, PASSWORD).await;
    assert_eq!(status, 429);
    tokio::time::sleep(Duration::from_secs(retry.unwrap() + 1)).await;
    assert_eq!(attempt(&mut attacker, EMAIL, PASSWORD).await.0, 429);
    // The owner's device resets it.
    assert_eq!(attempt(&mut owner, EMAIL, PASSWORD).await.0, 200);
    assert_eq!(attempt(&mut attacker, EMAIL, "guess").await.0, 401);
}

// 8. IPv6 clients are counted per /64, mapped IPv4 as IPv4, through a proxy.
#[tokio::test]
async fn one_ipv6_network_shares_one_quota_through_a_trusted_proxy() {
    let app = spawn(
        "[site]\ntrusted_proxies = [\"::ffff:127.0.0.1\"]\n[limits]\nsign_in_per_ip = \"3/10min\"",
    )
    .await;
    let from = |xff: &'static str| {
        let mut browser = app.new_browser();
        async move {
            let token = browser.csrf_token().await;
            browser
                .post_raw(
                    "/api/auth/callback/credentials",
                    "application/x-www-form-urlencoded",
                    format!("email=x%40example.com&password=wrong&csrfToken={token}&json=true")
                        .into_bytes(),
                    &[("x-forwarded-for", xff)],
                )
                .await
                .status()
                .as_u16()
        }
    };
    let mut codes = Vec::new();
    for xff in [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff:ffff:ffff:fffe",
        "2001:db8:1:2:aaaa::9",
    ] {
        codes.push(from(xff).await);
    }
    assert_eq!(codes, [401, 401, 401, 429], "one /64 is one client");
    assert_eq!(
        from("2001:db8:1:3::1").await,
        401,
        "the next /64 is another"
    );
    let mut mapped = Vec::new();
    for xff in [
        "198.51.100.9",
        "::ffff:198.51.100.9",
        "198.51.100.9",
        "::ffff:198.51.100.9",
    ] {
        mapped.push(from(xff).await);
    }
    assert_eq!(mapped, [401, 401, 401, 429], "mapped IPv4 is the same IPv4");
}

// 9. Identifiers are bounded before they become keys, and keys are bounded.
#[tokio::test]
async fn a_flood_of_distinct_identifiers_keeps_the_tracked_keys_bounded() {
    let mut app = spawn("[limits.lockout]\ntracked = 40").await;
    let hashed = app.auth().hash_gate().verifications();
    for i in 0..300 {
        let email = format!("{i}{}@example.com", "x".repeat(300));
        assert_eq!(attempt(&mut app, &email, "wrong").await.0, 401);
    }
    assert_eq!(
        app.auth().hash_gate().verifications(),
        hashed,
        "oversized: no hashing"
    );
    assert_eq!(app.auth().tracked_accounts(), 0, "oversized: no keys");
    for i in 0..120 {
        assert_eq!(
            attempt(&mut app, &format!("user{i}@example.com"), "wrong")
                .await
                .0,
            401
        );
    }
    let tracked = app.auth().tracked_accounts();
    assert!(tracked > 0 && tracked <= 40, "{tracked} keys tracked");
}

// 10. A sign-in whose client has gone does not hash.
#[tokio::test]
async fn hashing_jobs_of_clients_that_left_do_not_run() {
    let app = spawn("[limits]\nhash_concurrency = 1\nhash_queue = 8").await;
    let mut browser = app.new_browser();
    let token = browser.csrf_token().await;
    let gate = app.auth().hash_gate();
    // Leaves 15 ms after sending: well before one argon2 verification ends.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(15))
        .build()
        .unwrap();
    let leave = |email: &'static str| {
        impatient
            .post(format!("{}/api/auth/callback/credentials", app.base))
            .header(header::ORIGIN, app.base.clone())
            .header(header::COOKIE, browser.cookie_header())
            .form(&[
                ("email", email),
                ("password", "wrong"),
                ("csrfToken", token.as_str()),
                ("json", "true"),
            ])
            .send()
    };
    let before = gate.verifications();
    // A's verification starts, and A leaves while it runs; then B comes and
    // leaves while A's is still running. A's job keeps its slot until it is
    // done, so B waits for one and is dropped unrun when it leaves. (Before,
    // A's slot came back when A left, B's job queued behind A's and ran
    // although nobody was waiting for it.)
    // A leaves once its verification is running: waited for, not timed (a
    // 15 ms timeout raced an 11 ms verification on a fast machine).
    let a = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/auth/callback/credentials", app.base))
            .header(header::ORIGIN, app.base.clone())
            .header(header::COOKIE, browser.cookie_header())
            .form(&[
                ("email", "a@example.com"),
                ("password", "wrong"),
                ("csrfToken", token.as_str()),
                ("json", "true"),
            ])
            .send(),
    );
    // Running, not only holding its slot: a job whose requester left before
    // a thread took it is dropped unrun (a loaded machine's idle-priority
    // hashing thread can take a while to take it).
    for _ in 0..20_000 {
        if gate.running() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
    assert_eq!(gate.running(), 1, "A's verification runs");
    a.abort();
    assert!(
        a.await.unwrap_err().is_cancelled(),
        "A left before its answer"
    );
    assert_eq!(
        gate.busy_slots(),
        1,
        "A's verification still holds its slot"
    );
    // A job of the test's own queues next and holds the slot for a while
    // after A's: B cannot get a slot before the server has seen B leave,
    // however slowly a loaded machine notices. (Without it, A's verification
    // could end inside B's 15 ms, and B's job would start before its
    // departure was noticed: a race of the test, not of the gate.)
    let blocker_started = Arc::new(AtomicBool::new(false));
    let blocker = tokio::spawn({
        let auth = app.auth().clone();
        let started = blocker_started.clone();
        async move {
            auth.hash_gate()
                .run(move || {
                    started.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(300));
                })
                .await
        }
    });
    for _ in 0..500 {
        if gate.waiting() == 1 || blocker_started.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(gate.waiting() == 1 || blocker_started.load(Ordering::SeqCst));
    assert!(leave("b@example.com").await.unwrap_err().is_timeout());
    blocker.await.unwrap().unwrap();
    // Wait for the gate to drain: nothing queued, nothing running.
    for _ in 0..500 {
        if gate.waiting() == 0 && gate.busy_slots() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!((gate.waiting(), gate.busy_slots()), (0, 0));
    assert_eq!(gate.verifications() - before, 1, "only A's ran");
    // The server is free for the next client.
    assert_eq!(attempt(&mut browser, EMAIL, PASSWORD).await.0, 200);
}

// 13. The way back after a failed form post cannot leave the site.
#[tokio::test]
async fn a_failure_never_redirects_to_a_path_taken_from_the_referer() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    for referer in [
        format!("{}//evil.example/x", app.base),
        format!("{}/%2F%2Fevil.example", app.base),
        format!("{}/\\evil.example", app.base),
    ] {
        let res = app
            .post_raw(
                "/api/auth/callback/credentials",
                "application/x-www-form-urlencoded",
                format!("email=x%40example.com&password=wrong&csrfToken={token}").into_bytes(),
                &[("referer", &referer)],
            )
            .await;
        assert_eq!(res.status(), 302);
        let location = res.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("/api/auth/signin?"),
            "{referer} -> {location}"
        );
    }
    // A good Referer is still the way back.
    let res = app
        .post_raw(
            "/api/auth/callback/credentials",
            "application/x-www-form-urlencoded",
            format!("email=x%40example.com&password=wrong&csrfToken={token}").into_bytes(),
            &[("referer", &format!("{}/sign-in", app.base))],
        )
        .await;
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/sign-in?"));
}

// 14. The demo account exists in development only.
#[tokio::test]
async fn a_production_start_with_a_demo_user_is_refused() {
    let err = sesame_app::server::AppConfig::from_toml_layers(&[r#"
        secret = "a-production-secret-a-production-secret"
        [site]
        url = "https://example.com"
        [database]
        url = "sqlite::memory:"
        [demo_user]
        email = "demo@example.com"
        password = "open sesame, demo"
        "#])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("demo_user") && err.contains("development"),
        "{err}"
    );
}

// Password policy, wherever a password is set.
#[tokio::test]
async fn a_breached_demo_password_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = sesame_app::server::AppConfig::from_toml_layers(&[&format!(
        r#"
        environment = "development"
        secret = "{}"
        [site]
        url = "http://127.0.0.1:3000"
        [database]
        url = "sqlite://{}/x.db"
        [demo_user]
        email = "demo@example.com"
        password = "password1"
        "#,
        common::SECRET,
        dir.path().display()
    )])
    .unwrap();
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("sesame")
        .build();
    let err = match sesame_app::server::build(config, options).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a breached demo password was accepted"),
    };
    assert!(err.contains("too easy to guess"), "{err}");
}

#[test]
fn the_cli_refuses_a_breached_or_short_password_and_takes_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("Leptos.toml");
    std::fs::write(
        &config,
        format!(
            "secret = \"{}\"\n[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"sqlite://{}/cli.db\"\n",
            common::SECRET,
            dir.path().display()
        ),
    )
    .unwrap();
    let create = |password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["--config", config.to_str().unwrap()])
            .args(["user", "add", "--email", "new@example.com"])
            .env("SESAME_NEW_PASSWORD", password)
            .env_remove("SESAME_DATABASE__URL")
            .output()
            .unwrap()
    };
    for (bad, reason) in [
        ("password1", "too easy to guess"),
        ("qwerty123", "too easy to guess"),
        ("short", "at least 8 characters"),
    ] {
        let out = create(bad);
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(reason), "{bad}: {stderr}");
    }
    let out = create("a long and unusual passphrase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The database it created is the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("cli.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

// Audit events: one per attempt, sign-out and lockout, to the app's sink.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<AuditEvent>>>);

#[async_trait::async_trait]
impl Events<sesame_app::user::AppUser> for Sink {
    async fn audit(&self, event: &AuditEvent) {
        self.0.lock().unwrap().push(event.clone());
    }
}

/// What each audit event says: its action, its outcome, whether it names a user.
fn kinds(seen: &[AuditEvent]) -> Vec<(AuditAction, Outcome, bool)> {
    seen.iter()
        .map(|e| (e.action, e.outcome, e.user_id.is_some()))
        .collect()
}

#[tokio::test]
async fn every_attempt_sign_out_and_lockout_is_one_audit_event() {
    let sink = Sink::default();
    let events = sink.clone();
    let app = spawn_with(LOCKOUT_SLOW, move |sesame| sesame.events(events)).await;
    // The owner signs in and out.
    let mut owner = app.new_browser();
    let signed_in = owner.sign_in_demo(true).await;
    let token = signed_in["csrfToken"].as_str().unwrap().to_string();
    assert_eq!(owner.sign_out_with(&token).await, 200);
    // An attacker guesses until the account locks.
    let mut attacker = app.new_browser();
    for _ in 0..3 {
        let token = attacker.csrf_token().await;
        attacker
            .post_raw(
                "/api/auth/callback/credentials",
                "application/x-www-form-urlencoded",
                format!("email={EMAIL}&password=wrong-secret-1&csrfToken={token}&json=true")
                    .into_bytes(),
                &[("user-agent", "AuditTest/1.0")],
            )
            .await;
    }
    assert_eq!(attempt(&mut attacker, EMAIL, PASSWORD).await.0, 429);

    let seen = sink.0.lock().unwrap().clone();
    let kinds = kinds(&seen);
    let wrong = (AuditAction::SignIn, Outcome::WrongCredentials, false);
    assert_eq!(
        kinds,
        [
            (AuditAction::SignIn, Outcome::Success, true),
            (AuditAction::SignOut, Outcome::Success, true),
            wrong,
            wrong,
            wrong,
            (
                AuditAction::Lockout,
                Outcome::Started {
                    wait_seconds: 60,
                    hard: false
                },
                false
            ),
            (AuditAction::SignIn, Outcome::Locked, false),
        ]
    );
    let account = seen[0].account.clone().unwrap();
    for event in &seen {
        if event.action != AuditAction::SignOut {
            assert_eq!(
                event.account.as_deref(),
                Some(account.as_str()),
                "one account"
            );
        }
        assert_eq!(event.ip, Some("127.0.0.1".parse().unwrap()));
        let text = format!("{event:?}");
        assert!(
            !text.contains(EMAIL) && !text.contains("wrong-secret-1"),
            "{text}"
        );
        assert!(!text.contains(PASSWORD), "{text}");
    }
    assert_eq!(seen[2].user_agent.as_deref(), Some("AuditTest/1.0"));
}

/// A `sign_in` callback that refuses one account.
struct Refuse(&'static str);

#[async_trait::async_trait]
impl Callbacks<sesame_app::user::AppUser> for Refuse {
    async fn sign_in(&self, user: &sesame_app::user::AppUser) -> SignInDecision {
        if user.email == self.0 {
            SignInDecision::Deny
        } else {
            SignInDecision::Allow
        }
    }
}

#[tokio::test]
async fn a_refused_accounts_right_password_counts_toward_its_lock_and_is_audited_so() {
    // The callback's refusal after the right password is answered, counted and
    // locked as a wrong password; the audit says what happened and to whom.
    let sink = Sink::default();
    let events = sink.clone();
    let app = spawn_with(LOCKOUT_SLOW, move |sesame| {
        sesame
            .events(events)
            .callbacks(Refuse("refused@example.com"))
    })
    .await;
    app.add_user("refused@example.com").await;
    let mut browser = app.new_browser();
    for _ in 0..3 {
        assert_eq!(
            attempt(&mut browser, "refused@example.com", PASSWORD)
                .await
                .0,
            401
        );
    }
    assert_eq!(
        attempt(&mut browser, "refused@example.com", PASSWORD)
            .await
            .0,
        429,
        "the fourth try meets the lock"
    );
    let kinds = kinds(&sink.0.lock().unwrap());
    let refused = (AuditAction::SignIn, Outcome::Refused, true);
    assert_eq!(
        kinds,
        [
            refused,
            refused,
            refused,
            (
                AuditAction::Lockout,
                Outcome::Started {
                    wait_seconds: 60,
                    hard: false
                },
                true
            ),
            (AuditAction::SignIn, Outcome::Locked, false),
        ]
    );
}

// Headers: isolation and features off everywhere; no inline styles allowed.
#[tokio::test]
async fn every_answer_is_isolated_and_pages_allow_no_inline_style() {
    let mut app = spawn("[theme]\nbrand_color = \"#0b5cad\"").await;
    for path in [
        "/sign-in",
        "/api/auth/signin",
        "/api/auth/session",
        "/api/auth/csrf",
    ] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert_eq!(h["cross-origin-resource-policy"], "same-origin", "{path}");
        let permissions = h["permissions-policy"].to_str().unwrap();
        for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"] {
            assert!(permissions.contains(feature), "{path}: {permissions}");
        }
    }
    // The themed built-in page: its colors come in a <style> carrying the
    // CSP nonce, and the policy allows no other inline style.
    let res = app.get("/api/auth/signin").await;
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let style_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("style-src"))
        .unwrap()
        .to_string();
    assert!(!style_src.contains("unsafe-inline"), "{csp}");
    let nonce = style_src
        .split("'nonce-")
        .nth(1)
        .and_then(|n| n.split('\'').next())
        .unwrap()
        .to_string();
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!(
            "<style nonce=\"{nonce}\">.auth-page{{--brand: #0b5cad;}}"
        )),
        "{html}"
    );
    assert!(!html.contains(" style=\""), "no style attributes: {html}");
}
