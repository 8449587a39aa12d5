//! The attack suite: each test tries an attack on the running server and sees
//! it fail. Remove the protection and the test fails.

mod common;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use common::{set_cookie, spawn, TestApp, EMAIL, PASSWORD, SECRET};
use futures::future::join_all;
use reqwest::{header, Method};
use serde_json::{json, Value};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

fn callback_fields<'a>(
    email: &'a str,
    password: &'a str,
    token: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("email", email),
        ("password", password),
        ("csrfToken", token),
        ("json", "true"),
    ]
}

// ---------------------------------------------------------------- requests

#[tokio::test]
async fn cross_site_posts_to_any_server_function_are_refused_and_change_nothing() {
    let mut app = spawn("").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let token = app.csrf_token().await;
    let cookie = app
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    // The app's own server function, the credentials callback, sign-out and the
    // session update, each as a cross-site form would send them.
    for (path, body) in [
        ("/api/account/details", String::new()),
        (
            "/api/auth/callback/credentials",
            format!("email={EMAIL}&password=x&csrfToken={token}"),
        ),
        ("/api/auth/signout", format!("csrfToken={token}")),
        ("/api/auth/session", format!("csrfToken={token}&data=x")),
    ] {
        for headers in [
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.test"),
            ],
            vec![("origin", "https://evil.test")],
            vec![("origin", "null")],
            vec![("referer", "https://evil.test/form")],
            vec![],
        ] {
            let mut req = app
                .client
                .post(format!("{}{path}", app.base))
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone());
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 403, "{path} {headers:?}");
            assert_eq!(res.json::<Value>().await.unwrap()["error"], "MissingCSRF");
        }
    }
    // Still signed in: the sign-out never ran.
    assert_eq!(app.session().await["user"]["email"], EMAIL);
}

#[tokio::test]
async fn same_site_form_posts_without_javascript_still_work() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let origin = app.base.clone();
    let res = app
        .post_form_from(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrfToken", &token),
            ],
            None,
        )
        .await;
    assert_eq!(res.status(), 403, "no origin at all is refused");
    let mut req = app
        .client
        .post(format!("{}/api/auth/callback/credentials", app.base))
        .header(
            header::COOKIE,
            format!("sesame.csrf-token={}", app.cookies["sesame.csrf-token"]),
        )
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, format!("{origin}/api/auth/signin"))
        .form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrfToken", &token),
        ]);
    req = req.header(header::ACCEPT, "text/html");
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], format!("{origin}/").as_str());
}

#[tokio::test]
async fn forged_csrf_cookies_are_refused() {
    let mut app = spawn("").await;
    let token = "a".repeat(64);
    // A plain-hash cookie (NextAuth's scheme) and a MAC under another secret.
    for cookie in [
        format!("{token}|{}", "0".repeat(64)),
        format!("{token}|"),
        token.clone(),
    ] {
        app.cookies.clear();
        app.cookies.insert("sesame.csrf-token".into(), cookie);
        let res = app
            .post_form(
                "/api/auth/callback/credentials",
                &callback_fields(EMAIL, PASSWORD, &token),
            )
            .await;
        assert_eq!(res.status(), 403);
    }
    assert_eq!(app.session_cookie(), None);
}

#[tokio::test]
async fn every_callback_url_trick_is_a_400_never_followed_never_a_500() {
    let mut app = spawn("").await;
    for evil in [
        "//evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "https:evil.test",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/%2F%2Fevil.test",
        "/%5Cevil.test",
        "%2F%2Fevil.test",
        "https://evil.test",
        "https://127.0.0.1@evil.test/",
        &format!("{}@evil.test/", app.base.clone()),
        "http://[::1",
        "http://",
        "/\u{0000}x",
        "/ok\r\nSet-Cookie: x=1",
    ] {
        let res = app.sign_in_json(EMAIL, PASSWORD, evil).await;
        assert_eq!(res.status(), 400, "{evil:?}");
        assert!(res.headers().get("location").is_none());
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "InvalidCallbackUrl", "{evil:?}");
        assert!(!body["url"].as_str().unwrap().contains("evil"));
    }
    assert_eq!(app.session_cookie(), None);
}

#[tokio::test]
async fn oversized_malformed_and_mistyped_bodies_get_typed_errors() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    let big = format!(
        "csrfToken={token}&email=a&password={}",
        "x".repeat(70 * 1024)
    );
    let res = app
        .post_raw(
            "/api/auth/callback/credentials",
            "application/x-www-form-urlencoded",
            big.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "PayloadTooLarge"
    );

    for (path, content_type, body) in [
        (
            "/api/auth/callback/credentials",
            "text/plain",
            b"email=a".to_vec(),
        ),
        (
            "/api/auth/callback/credentials",
            "application/json",
            br#"{"email":"a"}"#.to_vec(),
        ),
        (
            "/api/auth/callback/credentials",
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, b'=', 0x80],
        ),
        (
            "/api/auth/callback/credentials",
            "application/x-www-form-urlencoded",
            b"email=%FF%FE".to_vec(),
        ),
        (
            "/api/auth/callback/credentials",
            "multipart/form-data; boundary=x",
            b"--x--".to_vec(),
        ),
        ("/api/auth/signout", "application/json", b"{}".to_vec()),
        (
            "/api/auth/session",
            "application/json",
            b"{not json".to_vec(),
        ),
    ] {
        let res = app.post_raw(path, content_type, body, &[]).await;
        assert_eq!(res.status(), 400, "{path} {content_type}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["error"],
            "InvalidRequest"
        );
    }
}

#[tokio::test]
async fn random_bodies_never_get_a_500() {
    let mut app = spawn("").await;
    let token = app.csrf_token().await;
    // A fixed pseudo-random sequence: the same bodies every run.
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"=&%+azAZ09@._-\\/;:\"'<>{}[]\x00\xff\xc3";
    for _ in 0..200 {
        let len = (next() % 120) as usize;
        let mut body: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        if next() % 2 == 0 {
            body.extend_from_slice(format!("&csrfToken={token}").as_bytes());
        }
        let res = app
            .post_raw(
                "/api/auth/callback/credentials",
                "application/x-www-form-urlencoded",
                body.clone(),
                &[],
            )
            .await;
        let status = res.status().as_u16();
        assert!(
            [302, 400, 401, 403, 413, 429].contains(&status),
            "{status} for {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[tokio::test]
async fn oversized_credentials_are_refused_before_any_hashing() {
    let mut app = spawn("").await;
    let before = app.auth().hash_gate().verifications();
    let long_password = "p".repeat(1025);
    let res = app.sign_in_json(EMAIL, &long_password, "/").await;
    assert_eq!(res.status(), 401);
    let long_email = format!("{}@example.com", "e".repeat(300));
    let res = app.sign_in_json(&long_email, PASSWORD, "/").await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        app.auth().hash_gate().verifications(),
        before,
        "no argon2 work was spent"
    );
}

// ---------------------------------------------------------------- credentials

#[tokio::test]
async fn unknown_emails_and_wrong_passwords_are_indistinguishable() {
    let mut app = spawn("").await;
    let v0 = app.auth().hash_gate().verifications();
    let wrong = app.sign_in_json(EMAIL, "wrong password", "/").await;
    let v1 = app.auth().hash_gate().verifications();
    let unknown = app
        .sign_in_json("nobody@example.com", "wrong password", "/")
        .await;
    let v2 = app.auth().hash_gate().verifications();
    let malformed = app
        .sign_in_json("not-an-email", "wrong password", "/")
        .await;
    let v3 = app.auth().hash_gate().verifications();
    assert_eq!(
        (v1 - v0, v2 - v1, v3 - v2),
        (1, 1, 1),
        "one verification in every path"
    );
    let (ws, us, ms) = (wrong.status(), unknown.status(), malformed.status());
    let headers = |r: &reqwest::Response| {
        let mut h: Vec<String> = r
            .headers()
            .iter()
            .filter(|(k, _)| *k != "date" && *k != "content-security-policy" && *k != "set-cookie")
            .map(|(k, v)| format!("{k}: {v:?}"))
            .collect();
        h.sort();
        h
    };
    assert_eq!(headers(&wrong), headers(&unknown));
    let (wb, ub, mb) = (
        wrong.text().await.unwrap(),
        unknown.text().await.unwrap(),
        malformed.text().await.unwrap(),
    );
    assert_eq!((ws, &wb), (us, &ub));
    assert_eq!((ws, &wb), (ms, &mb));
}

async fn burst(
    app: &TestApp,
    n: usize,
    email: &str,
    xff: Option<&str>,
) -> Vec<(u16, Option<String>)> {
    let token = {
        let res = app
            .client
            .get(format!("{}/api/auth/csrf", app.base))
            .send()
            .await
            .unwrap();
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let token = res.json::<Value>().await.unwrap()["csrfToken"]
            .as_str()
            .unwrap()
            .to_string();
        (cookie, token)
    };
    let requests = (0..n).map(|_| {
        let mut req = app
            .client
            .post(format!("{}/api/auth/callback/credentials", app.base))
            .header(header::ORIGIN, app.base.clone())
            .header(header::COOKIE, token.0.clone())
            .form(&callback_fields(email, "wrong password", &token.1));
        if let Some(xff) = xff {
            req = req.header("x-forwarded-for", xff);
        }
        async move {
            let res = req.send().await.unwrap();
            let retry = res
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.to_str().unwrap().to_string());
            (res.status().as_u16(), retry)
        }
    });
    join_all(requests).await
}

#[tokio::test]
async fn fifty_parallel_wrong_passwords_get_exactly_the_free_failures_evaluated() {
    let app = spawn("[limits.lockout]\nfree_failures = 5").await;
    let before = app.auth().hash_gate().verifications();
    let results = burst(&app, 50, EMAIL, None).await;
    let evaluated = results.iter().filter(|(s, _)| *s == 401).count();
    let limited: Vec<_> = results.iter().filter(|(s, _)| *s == 429).collect();
    assert_eq!(evaluated, 5, "{results:?}");
    assert_eq!(limited.len(), 45);
    assert!(limited.iter().all(|(_, retry)| retry
        .as_deref()
        .is_some_and(|r| r.parse::<u64>().unwrap() >= 1)));
    assert_eq!(app.auth().hash_gate().verifications() - before, 5);
    // The same account in another case or with spaces is the same account.
    let more = burst(&app, 1, " DEMO@example.com ", None).await;
    assert_eq!(more[0].0, 429);
}

#[tokio::test]
async fn the_ip_limit_holds_across_accounts_and_spoofed_forwarded_for() {
    let app = spawn("[limits]\nsign_in_per_ip = \"4/10min\"").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let spoof = format!("203.0.113.{i}");
        statuses.extend(burst(&app, 1, &format!("user{i}@example.com"), Some(&spoof)).await);
    }
    let codes: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, vec![401, 401, 401, 401, 429, 429]);
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    let app =
        spawn("[site]\ntrusted_proxies = [\"127.0.0.1\"]\n[limits]\nsign_in_per_ip = \"2/10min\"")
            .await;
    let a = burst(&app, 3, "a@example.com", Some("198.51.100.1")).await;
    // One attempt after the other: two at the same microsecond exactly at the
    // quota's edge may see one refused for that microsecond (GCRA orders them by
    // the clock each read), which says nothing about whose quota it is.
    let mut b = burst(&app, 1, "b@example.com", Some("198.51.100.2")).await;
    b.extend(burst(&app, 1, "b@example.com", Some("198.51.100.2")).await);
    let mut a_codes: Vec<u16> = a.iter().map(|r| r.0).collect();
    a_codes.sort();
    assert_eq!(a_codes, vec![401, 401, 429]);
    assert!(
        b.iter().all(|r| r.0 == 401),
        "another client behind the proxy has its own quota: {b:?}"
    );
}

#[tokio::test]
async fn hashing_is_bounded_and_overflow_is_held_then_refused_with_503() {
    let app = spawn("[limits]\nhash_concurrency = 1\nhash_queue = 1").await;
    let before = app.auth().hash_gate().verifications();
    let started = std::time::Instant::now();
    let results = burst(&app, 16, EMAIL, None).await;
    let elapsed = started.elapsed();
    let busy: Vec<_> = results.iter().filter(|(s, _)| *s == 503).collect();
    let evaluated = results.iter().filter(|(s, _)| *s == 401).count();
    assert!(!busy.is_empty(), "{results:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()));
    assert_eq!(busy.len() + evaluated, 16, "only 401 and 503: {results:?}");
    assert!(
        evaluated >= 2,
        "the slot and the queue were used: {results:?}"
    );
    // A refusal is not answered at once: a client that retries without waiting
    // gets about one answer a second per connection, not thousands (a refusal
    // waits 0.5 to 1.5 times its one-second hold, the `Retry-After: 1`).
    assert!(
        elapsed >= std::time::Duration::from_millis(500),
        "refusals were answered after {elapsed:?}"
    );
    assert_eq!(
        app.auth().hash_gate().verifications() - before,
        evaluated as u64,
        "only the evaluated attempts were hashed"
    );
}

/// The app's `authorize` with a note of when each call's work ended (its
/// future finished or was dropped), by the email it was asked about.
struct NotingEnds {
    inner: sesame_app::user::AppAuthorize,
    ended: Arc<Mutex<Vec<(String, Instant)>>>,
}

struct EndNote(String, Arc<Mutex<Vec<(String, Instant)>>>);

impl Drop for EndNote {
    fn drop(&mut self) {
        self.1
            .lock()
            .unwrap()
            .push((self.0.clone(), Instant::now()));
    }
}

#[sesame::server::async_trait]
impl sesame::server::Authorize for NotingEnds {
    type User = sesame_app::user::AppUser;

    async fn authorize(
        &self,
        credentials: &sesame::server::Credentials,
    ) -> Result<Option<Self::User>, sesame::server::AuthorizeError> {
        let _note = EndNote(credentials.email.clone(), self.ended.clone());
        self.inner.authorize(credentials).await
    }
}

/// Under a flood, hundreds of refusals wait out their hold at once: each must
/// hold only its answer. A refused sign-in's work is over (its futures and
/// request freed) when its hold begins, at least half a second before it is
/// answered. Before, the refusal waited deep inside the sign-in, with every
/// layer's future and the request alive until the answer.
#[tokio::test]
async fn a_refused_sign_in_is_held_after_its_work_is_over() {
    let ended = Arc::new(Mutex::new(Vec::new()));
    let app = common::spawn_with("[limits]\nhash_concurrency = 1\nhash_queue = 0", {
        let ended = ended.clone();
        move |sesame| {
            sesame.authorize_with(move |passwords| NotingEnds {
                inner: sesame_app::user::AppAuthorize {
                    passwords,
                    admins: Vec::new().into(),
                },
                ended,
            })
        }
    })
    .await;
    let mut browser = app.new_browser();
    let token = browser.csrf_token().await;
    let cookie = browser.cookie_header();
    let requests = (0..8).map(|i| {
        let email = format!("flood{i}@example.com");
        let req = app
            .client
            .post(format!("{}/api/auth/callback/credentials", app.base))
            .header(header::ORIGIN, app.base.clone())
            .header(header::COOKIE, cookie.clone())
            .form(&callback_fields(&email, "wrong password", &token));
        async move {
            let res = req.send().await.unwrap();
            (email, res.status().as_u16(), Instant::now())
        }
    });
    let answers = join_all(requests).await;
    let ended = ended.lock().unwrap().clone();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(_, status, _)| *status == 503)
        .collect();
    assert!(!refused.is_empty(), "{answers:?}");
    for (email, _, answered) in refused {
        let (_, over) = ended
            .iter()
            .find(|(e, _)| e == email)
            .expect("authorize ran");
        let held = answered.duration_since(*over);
        assert!(
            held >= Duration::from_millis(400),
            "{email}: answered {held:?} after its work was over"
        );
    }
}

/// The app's `authorize` that notes each call and answers "wrong password"
/// only once the test releases it: the sign-ins it holds stay in flight.
struct HeldUntilReleased {
    entered: Arc<std::sync::atomic::AtomicUsize>,
    release: tokio::sync::watch::Receiver<bool>,
}

#[sesame::server::async_trait]
impl sesame::server::Authorize for HeldUntilReleased {
    type User = sesame_app::user::AppUser;

    async fn authorize(
        &self,
        _credentials: &sesame::server::Credentials,
    ) -> Result<Option<Self::User>, sesame::server::AuthorizeError> {
        self.entered
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _ = self.release.clone().wait_for(|go| *go).await;
        Ok(None)
    }
}

/// A burst of sign-ins beyond what the server admits at once (64 here: the
/// bound's floor) is refused before any of its work: no `authorize`, no
/// read; each refusal is a held 503 with `Retry-After`, while the admitted
/// ones are still in flight. Before, all 100 went in, each holding its
/// request, futures and read buffer until the hashing gate refused it.
#[tokio::test]
async fn a_burst_beyond_the_admitted_sign_ins_is_refused_before_any_work() {
    const BURST: usize = 100;
    const ADMITTED: usize = 64;
    let entered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (release, released) = tokio::sync::watch::channel(false);
    let app = common::spawn_with(
        "[limits]\nhash_concurrency = 1\nhash_queue = 0\nsign_in_per_ip = \"100000/1s\"",
        {
            let entered = entered.clone();
            move |sesame| {
                sesame.authorize_with(move |_| HeldUntilReleased {
                    entered,
                    release: released,
                })
            }
        },
    )
    .await;
    let mut browser = app.new_browser();
    let token = browser.csrf_token().await;
    let cookie = browser.cookie_header();
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..BURST {
        let req = app
            .client
            .post(format!("{}/api/auth/callback/credentials", app.base))
            .header(header::ORIGIN, app.base.clone())
            .header(header::COOKIE, cookie.clone())
            .form(&callback_fields(
                &format!("burst{i}@example.com"),
                "wrong password",
                &token,
            ));
        let answers = answers.clone();
        tokio::spawn(async move {
            let res = req.send().await.unwrap();
            let retry = res.headers().get(header::RETRY_AFTER).is_some();
            let _ = answers.send((res.status().as_u16(), retry));
        });
    }
    // The refused answer while the admitted are held in `authorize`.
    for n in 0..BURST - ADMITTED {
        let answer = tokio::time::timeout(Duration::from_secs(20), answered.recv()).await;
        let entered_now = entered.load(std::sync::atomic::Ordering::SeqCst);
        let (status, retry) = answer
            .unwrap_or_else(|_| {
                panic!("{n} refusals in 20 s; authorize entered {entered_now} times")
            })
            .unwrap();
        assert_eq!((status, retry), (503, true), "refusal {n}");
    }
    assert_eq!(
        entered.load(std::sync::atomic::Ordering::SeqCst),
        ADMITTED,
        "only the admitted sign-ins reached authorize"
    );
    release.send(true).unwrap();
    for n in 0..ADMITTED {
        let (status, _) = tokio::time::timeout(Duration::from_secs(20), answered.recv())
            .await
            .expect("the admitted are answered once released")
            .unwrap();
        assert_eq!(status, 401, "admitted sign-in {n}");
    }
    assert_eq!(entered.load(std::sync::atomic::Ordering::SeqCst), ADMITTED);
}

#[tokio::test]
async fn old_password_hashes_are_upgraded_at_sign_in() {
    let mut app = spawn("").await;
    let db = app.db().await;
    // A hash with weak parameters, as an older release would have stored.
    let weak = {
        use argon2::{
            password_hash::{rand_core::OsRng, PasswordHasher, SaltString},
            Algorithm, Argon2, Params, Version,
        };
        let a = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, None).unwrap(),
        );
        a.hash_password(b"legacy password", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    };
    // (Migrated rows count as verified.)
    sqlx::query(
        "INSERT INTO users (email, password_hash, email_verified_at) \
         VALUES ('legacy@example.com', ?, unixepoch())",
    )
    .bind(&weak)
    .execute(&db)
    .await
    .unwrap();
    let res = app
        .sign_in_json("legacy@example.com", "legacy password", "/")
        .await;
    assert_eq!(res.status(), 200);
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'legacy@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    // And the upgraded hash still verifies.
    app.cookies.clear();
    assert_eq!(
        app.sign_in_json("legacy@example.com", "legacy password", "/")
            .await
            .status(),
        200
    );
}

// ---------------------------------------------------------------- sessions

#[tokio::test]
async fn a_copy_of_the_session_table_gives_no_usable_session() {
    let mut app = spawn("").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let cookie = app.session_cookie().unwrap();
    let id = STANDARD
        .decode(cookie.replace('-', "+").replace('_', "/"))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&cookie))
        .unwrap();
    assert_eq!(id.len(), 16, "a 128-bit token");
    let db = app.db().await;
    let rows: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0], id, "the token itself is not stored");
    for forged in [
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&rows[0]),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&rows[0][..16]),
        STANDARD.encode(&rows[0]),
    ] {
        app.cookies.insert("sesame.session-token".into(), forged);
        assert_eq!(app.session().await, json!({}));
    }
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn the_absolute_lifetime_is_enforced_on_the_server() {
    // These tests age sessions in the database behind the server's back: no cache.
    let mut app = spawn("[session]\ncache_ttl = \"0s\"").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(app.session().await["user"]["email"], EMAIL);
    // Signed in 30 days and a minute ago, though used a moment ago.
    app.age_session("signed_in_at", 30 * 86_400 + 60).await;
    app.age_session("last_seen", 10).await;
    let db = app.db().await;
    sqlx::query("UPDATE sessions SET data = json_set(data, '$.sesame.max_age', 2592000)")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(app.session().await, json!({}));
    assert_eq!(
        app.auth().live_sessions().await.unwrap(),
        0,
        "and the record is gone"
    );
}

#[tokio::test]
async fn the_idle_timeout_is_enforced_on_the_server() {
    let mut app = spawn("[session]\nidle_timeout = \"1h\"\ncache_ttl = \"0s\"").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    app.age_session("last_seen", 3_601).await;
    assert_eq!(app.session().await, json!({}));
}

#[tokio::test]
async fn without_remember_me_the_cookie_ends_with_the_browser_and_the_session_is_short() {
    let mut app = spawn("[session]\ncache_ttl = \"0s\"").await;
    let res = app.sign_in_json(EMAIL, PASSWORD, "/").await;
    let cookie = set_cookie(&res, "sesame.session-token").unwrap();
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "{cookie}"
    );
    let expires: Value = app.session().await["expires"].clone();
    let expires = time::OffsetDateTime::parse(
        expires.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(expires - time::OffsetDateTime::now_utc() <= time::Duration::hours(12));
    // 13 hours later the short session is over.
    app.age_session("signed_in_at", 13 * 3_600).await;
    assert_eq!(app.session().await, json!({}));

    app.cookies.clear();
    let token = app.csrf_token().await;
    let res = app
        .post_demo_credentials(&token, &[("remember", "true"), ("json", "true")])
        .await;
    let cookie = set_cookie(&res, "sesame.session-token").unwrap();
    assert!(cookie.contains("Max-Age="), "{cookie}");
    app.age_session("signed_in_at", 13 * 3_600).await;
    assert_eq!(
        app.session().await["user"]["email"],
        EMAIL,
        "remembered sessions last longer"
    );
}

/// What a session check answered: status, JSON body and headers (but `date`).
#[derive(Debug, PartialEq)]
struct Checked {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

async fn check_session(app: &TestApp, query: &str, cookie: &str) -> Checked {
    let mut req = app
        .client
        .get(format!("{}/api/auth/session{query}", app.base));
    if !cookie.is_empty() {
        req = req.header(header::COOKIE, cookie);
    }
    let res = req.send().await.unwrap();
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(name, _)| *name != header::DATE)
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_string()))
        .collect();
    headers.sort();
    Checked {
        status: res.status().as_u16(),
        body: res.json().await.unwrap(),
        headers,
    }
}

#[tokio::test]
async fn the_session_check_answers_alike_in_front_of_the_stack_and_through_it() {
    // Without a query string a check may be answered in front of the middleware
    // stack; with one it always goes through. Both must agree on every cookie a
    // client or an attacker can send: the fast path may not accept what the
    // stack refuses, nor skip the removal of a dead cookie.
    let mut app = spawn("[session]\ncache_ttl = \"0s\"").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let valid = app.session_cookie().unwrap();
    let unknown = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 16]);
    let mut signed_out = spawn("").await;
    assert_eq!(
        signed_out.sign_in_json(EMAIL, PASSWORD, "/").await.status(),
        200
    );
    let token = signed_out.csrf_token().await;
    let ended = signed_out.session_cookie().unwrap();
    let res = signed_out
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", token.as_str()), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let name = "sesame.session-token";
    let cases = [
        String::new(),
        "other=1".to_string(),
        format!("{name}={valid}"),
        format!("a=1;  {name} = {valid} ; b=2"),
        format!("{name}=not-a-session-id"),
        format!("{name}={unknown}"),
        format!("{name}={ended}"),
        format!("{name}=\"{valid}\""),
        format!("{name}={valid}; {name}={unknown}"),
        format!("{name}={unknown}; {name}={valid}"),
        format!("{name}={}", valid.to_lowercase()),
    ];
    for cookie in &cases {
        let fast = check_session(&app, "", cookie).await;
        let full = check_session(&app, "?through=stack", cookie).await;
        assert_eq!(fast, full, "Cookie: {cookie}");
    }
    // And the answers are the expected ones: the valid session, and a dead or
    // forged cookie removed.
    let fast = check_session(&app, "", &format!("{name}={valid}")).await;
    assert_eq!(fast.body["user"]["email"], EMAIL);
    for cookie in [&cases[4], &cases[5]] {
        let fast = check_session(&app, "", cookie).await;
        assert_eq!(fast.body, json!({}));
        assert!(
            fast.headers
                .iter()
                .any(|(n, v)| n == "set-cookie" && v.starts_with(name) && v.contains("Max-Age=0")),
            "{cookie}: {:?}",
            fast.headers
        );
    }
    // An ended session's cookie is dead on the server it was ended on too.
    let ended_check = check_session(&signed_out, "", &format!("{name}={ended}")).await;
    assert_eq!(ended_check.body, json!({}));
}

#[tokio::test]
async fn a_used_session_has_its_idle_expiry_pushed_back_now_and_then() {
    let mut app = spawn("[session]\nidle_timeout = \"4h\"\ncache_ttl = \"0s\"").await;
    assert_eq!(app.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let db = app.db().await;
    let last_seen = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT json_extract(data, '$.sesame.last_seen') FROM sessions",
        )
        .fetch_one(&db)
        .await
        .unwrap()
    };
    let expires = |session: &Value| {
        time::OffsetDateTime::parse(
            session["expires"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
        .unix_timestamp()
    };
    // Used 30 minutes ago: not yet due (a quarter of 4h), nothing is written.
    app.age_session("last_seen", 30 * 60).await;
    let seen = last_seen().await;
    let session = app.session().await;
    assert_eq!(
        last_seen().await,
        seen,
        "no write before a quarter of the timeout"
    );
    assert_eq!(expires(&session), seen + 4 * 3_600);
    // Used an hour and a minute ago: this check renews it.
    app.age_session("last_seen", 61 * 60).await;
    let session = app.session().await;
    let renewed = last_seen().await;
    assert!(renewed >= time_now() - 5, "renewed to now: {renewed}");
    assert_eq!(expires(&session), renewed + 4 * 3_600);
}

#[tokio::test]
async fn rotated_secrets_keep_open_forms_working() {
    let mut old = spawn("").await;
    let token = old.csrf_token().await;
    let cookie = old.cookies["sesame.csrf-token"].clone();
    let new_secret = "rotated-secret-rotated-secret-rotated-0001";

    // With the old secret among previous_secrets the open form still works;
    // replaced outright, it does not.
    for (extra, expected) in [
        (
            format!("secret = \"{new_secret}\"\nprevious_secrets = [\"{SECRET}\"]"),
            200,
        ),
        (format!("secret = \"{new_secret}\""), 403),
    ] {
        let mut rotated = spawn(&extra).await;
        rotated
            .cookies
            .insert("sesame.csrf-token".into(), cookie.clone());
        let res = rotated
            .post_form(
                "/api/auth/callback/credentials",
                &callback_fields(EMAIL, PASSWORD, &token),
            )
            .await;
        assert_eq!(res.status(), expected, "{extra}");
    }
}

// ---------------------------------------------------------------- headers

#[tokio::test]
async fn pages_carry_security_headers_and_a_nonce_csp() {
    let mut app = spawn("").await;
    for path in ["/", "/api/auth/signin", "/sign-in"] {
        let res = app.get(path).await;
        let h = res.headers().clone();
        let csp = h["content-security-policy"].to_str().unwrap().to_string();
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let nonce = script_src
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin");
        assert!(h["cache-control"].to_str().unwrap().contains("no-store"));
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS on http"
        );
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: the hydration script carries the nonce"
        );
        // Every inline script carries it.
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            assert!(
                tag.contains("nonce=") || tag.contains("src="),
                "{path}: <script{tag}>"
            );
        }
    }
    // Nonces differ between responses.
    let a = app.get("/").await.headers()["content-security-policy"].clone();
    let b = app.get("/").await.headers()["content-security-policy"].clone();
    assert_ne!(a, b);
    for path in ["/api/auth/session", "/api/auth/csrf", "/api/auth/providers"] {
        let res = app.request(Method::GET, path).await;
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("no-store"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn https_sites_get_hsts_and_secure_host_cookies() {
    let mut app = spawn("[site]\nurl = \"https://auth.example.com\"").await;
    let res = app.get("/api/auth/csrf").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-sesame.csrf-token="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    // The session check too, answered in front of the stack.
    let res = app.get("/api/auth/session").await;
    assert!(res.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    assert_eq!(res.text().await.unwrap(), "{}");
}
