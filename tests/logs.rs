//! Observability without leaks: the sign-in, refusal and sign-out events are
//! logged, with the client IP and user id, and no password, session token or
//! CSRF token ever appears in a log line or an error body.

mod common;

use common::{spawn, LogBuffer, EMAIL, PASSWORD};

#[tokio::test]
async fn events_are_logged_and_secrets_are_not() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    // Everything Sesame and the HTTP layer say, at the most verbose level; the
    // dependencies at the server's own default.
    tracing_subscriber::fmt()
        .with_env_filter(format!(
            "{},sesame=trace,tower_http=trace",
            sesame::server::LOG_FILTER
        ))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut app = spawn("[limits.lockout]\nfree_failures = 2").await;
    let wrong_password = "wrong-password-7f3a91";
    let mut bodies = Vec::new();

    let res = app.sign_in_json(EMAIL, wrong_password, "/").await;
    assert_eq!(res.status(), 401);
    bodies.push(res.text().await.unwrap());
    let res = app.sign_in_json(EMAIL, PASSWORD, "/").await;
    assert_eq!(res.status(), 200);
    let session_token = app.session_cookie().unwrap();
    let csrf_cookie = app.cookies["sesame.csrf-token"].clone();
    let csrf_token = csrf_cookie.split('|').next().unwrap().to_string();
    // A refused post (bad token), a rate-limited one, and a sign-out.
    let res = app
        .post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", EMAIL),
                ("password", PASSWORD),
                ("csrfToken", "forged"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
    bodies.push(res.text().await.unwrap());
    // This browser signed in: its own counter, two free failures, then a lock.
    for _ in 0..2 {
        let res = app.sign_in_json(EMAIL, wrong_password, "/").await;
        assert_eq!(res.status(), 401);
    }
    let res = app.sign_in_json(EMAIL, wrong_password, "/").await;
    assert_eq!(res.status(), 429);
    bodies.push(res.text().await.unwrap());
    let res = app
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf_token), ("json", "true")],
        )
        .await;
    assert_eq!(res.status(), 200);
    bodies.push(res.text().await.unwrap());
    // A link page's token is in its query string: the request span names
    // the path only.
    let link_token = "link-token-9c2e7d41b0";
    for page in ["/api/auth/reset", "/api/auth/verify"] {
        let res = app.get(&format!("{page}?token={link_token}")).await;
        assert_eq!(res.status(), 200);
    }

    let text = String::from_utf8(logs.bytes()).unwrap();
    for event in [
        "sign_in_failed",
        "event=\"sign_in\"",
        "csrf_refused",
        "rate_limited",
        "event=\"lockout\"",
        "sign_out",
        "sesame::audit",
    ] {
        assert!(text.contains(event), "no {event} event in:\n{text}");
    }
    assert!(text.contains("ip=127.0.0.1"), "the client IP is logged");
    assert!(text.contains("user_id="), "the user id is logged");
    assert!(
        text.contains("path=/api/auth/reset"),
        "the request span names the path:\n{text}"
    );
    for secret in [
        link_token,
        PASSWORD,
        wrong_password,
        &session_token,
        &csrf_token,
        &csrf_cookie,
    ] {
        assert!(!text.contains(secret), "{secret:?} leaked into the logs");
        for body in &bodies {
            assert!(
                !body.contains(secret),
                "{secret:?} leaked into an answer: {body}"
            );
        }
    }
}
