//! Two instances of the app on different ports sharing one PostgreSQL
//! database and one Redis (real servers, see `common::services`), as behind a
//! load balancer: a browser's requests may reach either.

mod common;

use common::{services, spawn, TestApp, EMAIL, PASSWORD};

/// Two instances of one deployment.
async fn pair(extra: &str) -> (TestApp, TestApp) {
    let shared = services::scale_out(services::postgres(), services::redis());
    let config = format!("{shared}\n{extra}");
    let a = spawn(&config).await;
    let b = spawn(&config).await;
    (a, b)
}

/// The same browser (its cookies) talking to another instance.
fn on(instance: &TestApp, browser: &TestApp) -> TestApp {
    TestApp {
        cookies: browser.cookies.clone(),
        ..instance.new_browser()
    }
}

#[tokio::test]
async fn a_session_started_on_one_instance_is_valid_on_the_other_and_ends_on_both() {
    let (a, b) = pair("").await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(true).await;
    let mut on_b = on(&b, &on_a);
    assert_eq!(on_b.session().await["user"]["email"], EMAIL);
    assert_eq!(on_a.session().await["user"]["email"], EMAIL, "cached on A");

    // A CSRF token issued by A signs out on B.
    let token = on_a.csrf_token().await;
    assert_eq!(on_b.sign_out_with(&token).await, 200);
    // Dead on A at once, though A had it cached.
    let mut back_on_a = on(&a, &on_a);
    assert_eq!(back_on_a.session().await, serde_json::json!({}));
    assert_eq!(b.auth().live_sessions().await.unwrap(), 0);
}

/// Sign-outs on B racing session checks on A, many times over: after each
/// sign-out answers, no check on A sees the session again.
#[tokio::test]
async fn a_sign_out_on_one_instance_is_final_on_the_other_under_concurrent_checks() {
    let (a, b) = pair("").await;
    for round in 0..15 {
        let mut on_a = a.new_browser();
        on_a.sign_in_demo(true).await;
        let token = on_a.csrf_token().await;
        let readers: Vec<_> = (0..4)
            .map(|_| {
                let mut reader = on(&a, &on_a);
                tokio::spawn(async move {
                    for _ in 0..5 {
                        reader.session().await;
                    }
                })
            })
            .collect();
        let mut on_b = on(&b, &on_a);
        assert_eq!(on_b.sign_out_with(&token).await, 200, "round {round}");
        for reader in readers {
            reader.await.unwrap();
        }
        for _ in 0..3 {
            let mut check = on(&a, &on_a);
            assert_eq!(
                check.session().await,
                serde_json::json!({}),
                "round {round}"
            );
        }
    }
}

#[tokio::test]
async fn a_password_change_on_one_instance_ends_the_sessions_on_the_other() {
    let (a, b) = pair("").await;
    let mut first = a.new_browser();
    first.sign_in_demo(true).await;
    let mut second = b.new_browser();
    second.sign_in_demo(true).await;
    assert_eq!(on(&a, &second).session().await["user"]["email"], EMAIL);

    let new = "a brand new shared passphrase";
    let token = first.csrf_token().await;
    let res = first
        .post_form(
            sesame::CHANGE_PASSWORD_PATH,
            &[
                ("currentPassword", PASSWORD),
                ("newPassword", new),
                ("confirmPassword", new),
                ("csrfToken", &token),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    // The other browser's session, read (and cached) by both, is gone from both.
    assert_eq!(second.session().await, serde_json::json!({}));
    assert_eq!(on(&a, &second).session().await, serde_json::json!({}));
    // The new password works on the other instance; the old one does not.
    let mut fresh = b.new_browser();
    assert_eq!(fresh.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    assert_eq!(fresh.sign_in_json(EMAIL, new, "/").await.status(), 200);
}

/// The per-IP limit counts attempts on both instances together.
#[tokio::test]
async fn the_per_ip_limit_counts_attempts_made_on_both_instances() {
    let (a, b) = pair("[limits]\nsign_in_per_ip = \"6/1h\"\n").await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let mut browser = instance.new_browser();
        let res = browser
            .sign_in_json("nobody@example.com", "wrong password", "/")
            .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429, 429]);
}

/// The lockout counts failures on both instances together, and a burst split
/// over both gets only the free failures evaluated.
#[tokio::test]
async fn the_lockout_counts_failures_made_on_both_instances() {
    let (a, b) = pair("[limits.lockout]\nfree_failures = 4\nmax_failures = 50\n").await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let mut browser = instance.new_browser();
        let res = browser.sign_in_json(EMAIL, "wrong password", "/").await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    // Locked for everyone, the right password included, on both.
    for instance in [&a, &b] {
        let mut browser = instance.new_browser();
        assert_eq!(
            browser.sign_in_json(EMAIL, PASSWORD, "/").await.status(),
            429
        );
    }

    // A parallel burst on a fresh account, half on each instance.
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let mut browser = if i % 2 == 0 {
                a.new_browser()
            } else {
                b.new_browser()
            };
            tokio::spawn(async move {
                browser
                    .sign_in_json("burst@example.com", "wrong password", "/")
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut evaluated = 0;
    for task in tasks {
        if task.await.unwrap() == 401 {
            evaluated += 1;
        }
    }
    assert_eq!(evaluated, 4, "only the free failures are evaluated");
}

/// A CSRF token from one instance is accepted by the other, and one forged
/// or from another deployment is not.
#[tokio::test]
async fn csrf_tokens_of_one_instance_are_accepted_by_the_other() {
    let (a, b) = pair("").await;
    let mut browser = a.new_browser();
    let token = browser.csrf_token().await;
    let mut on_b = on(&b, &browser);
    let res = on_b
        .post_demo_credentials(&token, &[("json", "true")])
        .await;
    assert_eq!(res.status(), 200, "signed in on B with A's token");
    let mut stranger = b.new_browser();
    let res = stranger
        .post_demo_credentials("forged|token", &[("json", "true")])
        .await;
    assert_eq!(res.status(), 403);
}

/// Migrations run once, by `sesame migrate`; instances then start with
/// `database.migrate = false` and serve.
#[tokio::test]
async fn migrations_run_once_from_the_command_line_then_instances_start_without() {
    let url = services::postgres().database();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("migrate.toml");
    std::fs::write(
        &config,
        format!(
            "secret = \"{}\"\n[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"{url}\"\n",
            common::SECRET
        ),
    )
    .unwrap();
    let migrate = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["--config", config.to_str().unwrap(), "--json", "migrate"])
            .env_remove("SESAME_DATABASE__URL")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let out = migrate();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            said["migrated"], "postgres",
            "and again: nothing left to do"
        );
    }
    let redis = services::redis();
    let shared = format!(
        "[database]\nurl = \"{url}\"\nmigrate = false\n[redis]\nurl = \"{}\"\nprefix = \"{}\"\n",
        redis.url(),
        redis.prefix()
    );
    let a = spawn(&shared).await;
    let b = spawn(&shared).await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(false).await;
    assert_eq!(on(&b, &on_a).session().await["user"]["email"], EMAIL);
}
