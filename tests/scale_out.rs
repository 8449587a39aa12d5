//! Two instances of the app on different ports sharing one PostgreSQL
//! database and one Redis (real servers, see `common::services`), as behind a
//! load balancer: a browser's requests may reach either.

mod common;

use common::{code_at, factors, now, services, spawn, TestApp, EMAIL, PASSWORD};

/// Two instances of one deployment.
async fn pair(extra: &str) -> (TestApp, TestApp) {
    let (a, b, _) = pair_on(services::redis(), extra).await;
    (a, b)
}

/// Two instances of one deployment on `redis` (`extra` goes on in its
/// `[redis]` table first), and their Redis key prefix.
async fn pair_on(redis: &services::Redis, extra: &str) -> (TestApp, TestApp, String) {
    let shared = services::scale_out(services::postgres(), redis);
    let config = format!("{shared}\n{extra}");
    let prefix = services::prefix_of(&config);
    (spawn(&config).await, spawn(&config).await, prefix)
}

/// Two instances of one deployment, and the URL of their database.
async fn pair_on_db(extra: &str) -> (TestApp, TestApp, String) {
    let shared = services::scale_out(services::postgres(), services::redis());
    let db = shared
        .lines()
        .find_map(|l| l.strip_prefix("url = \"postgres"))
        .map(|rest| format!("postgres{}", rest.trim_end_matches('"')))
        .expect("a PostgreSQL URL");
    let config = format!("{shared}\n{extra}");
    (spawn(&config).await, spawn(&config).await, db)
}

/// One instance of a deployment on the shared Redis, a browser signed in
/// there (remembered) with its CSRF token, and the deployment's key prefix.
async fn signed_in_alone() -> (TestApp, TestApp, String, String) {
    let config = services::scale_out(services::postgres(), services::redis());
    let prefix = services::prefix_of(&config);
    let a = spawn(&config).await;
    let mut browser = a.new_browser();
    browser.sign_in_demo(true).await;
    let token = browser.csrf_token().await;
    (a, browser, token, prefix)
}

/// Redis's clock (`TIME`) in milliseconds, as leases are timed.
fn redis_now_ms(redis: &services::Redis) -> i64 {
    let time = redis.cli(&["TIME"]);
    time[0].parse::<i64>().unwrap() * 1000 + time[1].parse::<i64>().unwrap() / 1000
}

/// The same browser (its cookies) talking to another instance.
fn on(instance: &TestApp, browser: &TestApp) -> TestApp {
    instance.browser_with(browser.cookies.clone())
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

/// Each instance serves checks from its own copy of a session, made safe by
/// a sync with Redis before each is served: an update on A shows on B at
/// once though B holds a copy, many times over.
#[tokio::test]
async fn a_session_update_on_one_instance_shows_on_the_other_at_once() {
    let (a, b) = pair("").await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(true).await;
    let token = on_a.csrf_token().await;
    let mut on_b = on(&b, &on_a);
    for round in 0..20 {
        // B reads the session (and keeps a copy) before each update.
        for _ in 0..3 {
            assert!(
                on_b.session().await["user"]["name"].is_string(),
                "round {round}"
            );
        }
        let name = format!("Name {round}");
        let res = on_a
            .post_json(
                "/api/auth/session",
                serde_json::json!({"csrfToken": token, "data": {"name": name}}),
            )
            .await;
        assert_eq!(res.status(), 200, "round {round}");
        assert_eq!(on_b.session().await["user"]["name"], name, "round {round}");
    }
}

/// Writes every session's Redis entry under `prefix` on `redis` with the
/// name `name`, as no instance would: no change is recorded.
fn rename_behind(redis: &services::Redis, prefix: &str, name: &str) {
    let keys = redis.keys(&format!("{prefix}session:*"));
    assert!(!keys.is_empty());
    for key in keys {
        let entry = redis.cli(&["GET", &key]).join("\n");
        let value: serde_json::Value = serde_json::from_str(&entry).expect("a JSON entry");
        let old = value["data"]["sesame"]["name"].clone();
        assert!(old.is_string(), "{entry}");
        let renamed = entry.replace(&format!("\"name\":{old}"), &format!("\"name\":\"{name}\""));
        assert_ne!(renamed, entry);
        redis.cli(&["SET", &key, &renamed, "KEEPTTL"]);
    }
}

/// Renames the session behind B's back until B answers a name other than
/// Redis's: B then serves its own copy. Bounded.
async fn until_b_serves_its_copy(redis: &services::Redis, prefix: &str, on_b: &mut TestApp) {
    for round in 0..200 {
        let name = format!("Behind {round}");
        rename_behind(redis, prefix, &name);
        let seen = on_b.session().await["user"]["name"].clone();
        assert!(seen.is_string(), "signed in on B");
        if seen != name.as_str() {
            return;
        }
    }
    panic!("B never served its own copy");
}

/// B serves its copy of a session without asking Redis (a write to Redis
/// that records no change goes unseen by it), and once it finds it missed
/// changes (the change counter moved past what the stream holds) it drops
/// every copy rather than serve one.
#[tokio::test]
async fn an_instance_serves_its_copy_and_drops_every_copy_when_it_missed_changes() {
    let (a, b, prefix) = pair_on(services::redis(), "").await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(true).await;
    let mut on_b = on(&b, &on_a);
    until_b_serves_its_copy(services::redis(), &prefix, &mut on_b).await;

    // A change B cannot read: counted, but not in the stream.
    rename_behind(services::redis(), &prefix, "Changed Behind");
    services::redis().cli(&["INCR", &format!("{prefix}changes:seq")]);
    let started = std::time::Instant::now();
    while on_b.session().await["user"]["name"] != "Changed Behind" {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "B kept serving its copy after it missed a change"
        );
    }
}

/// A change drops the copy it names and no other: B, serving its copy of
/// one session, still serves it after another session is signed out on A
/// (and the sign-out is final on B).
#[tokio::test]
async fn a_change_drops_only_the_copy_it_names() {
    let (a, b, prefix) = pair_on(services::redis(), "").await;
    let mut leaving = a.new_browser();
    leaving.sign_in_demo(true).await;
    let token = leaving.csrf_token().await;
    let mut staying = a.new_browser();
    staying.sign_in_demo(true).await;
    let mut staying_on_b = on(&b, &staying);
    let mut leaving_on_b = on(&b, &leaving);
    assert_eq!(leaving_on_b.session().await["user"]["email"], EMAIL);
    until_b_serves_its_copy(services::redis(), &prefix, &mut staying_on_b).await;
    let copy = staying_on_b.session().await["user"]["name"].clone();

    for round in 0..5 {
        let mut leaving = a.new_browser();
        leaving.sign_in_demo(true).await;
        let token = leaving.csrf_token().await;
        assert_eq!(on(&b, &leaving).session().await["user"]["email"], EMAIL);
        assert_eq!(leaving.sign_out_with(&token).await, 200);
        assert_eq!(on(&b, &leaving).session().await, serde_json::json!({}));
        assert_eq!(
            staying_on_b.session().await["user"]["name"],
            copy,
            "round {round}: B dropped a copy no change named"
        );
    }
    assert_eq!(leaving.sign_out_with(&token).await, 200);
    assert_eq!(leaving_on_b.session().await, serde_json::json!({}));
}

/// A sign-out waits for every instance whose lease runs to drop its copy:
/// an instance that holds a lease and has applied nothing (registered by
/// hand here) holds the sign-out until its lease is over.
#[tokio::test]
async fn a_sign_out_returns_only_once_every_leased_instance_applied_it() {
    let (_a, mut on_a, token, prefix) = signed_in_alone().await;
    let redis = services::redis();
    let now_ms = || redis_now_ms(redis);
    let lease_end = now_ms() + 1500;
    let ghost = "an-instance-that-applies-nothing";
    redis.cli(&[
        "ZADD",
        &format!("{prefix}changes:instances"),
        &lease_end.to_string(),
        ghost,
    ]);
    redis.cli(&["HSET", &format!("{prefix}changes:applied"), ghost, "0"]);

    assert_eq!(on_a.sign_out_with(&token).await, 200);
    assert!(
        now_ms() >= lease_end,
        "the sign-out returned while an instance that had not applied it held a lease"
    );
    assert_eq!(on_a.session().await, serde_json::json!({}));
}

/// An instance whose loop stalls without failing (its lease renewal held by
/// Redis: `CLIENT PAUSE ... WRITE` on a Redis of this test's own, with a
/// command timeout longer than the pause) stops serving its copies before
/// its lease ends, while the loop is still stalled: a writer no longer
/// waits for it after that, so a copy served later could be one that a
/// sign-out already ended.
#[tokio::test]
async fn an_instance_whose_loop_stalls_stops_serving_its_copies_before_its_lease_ends() {
    let redis = services::Redis::start();
    let (a, b, prefix) = pair_on(&redis, "timeout = \"20s\"").await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(true).await;
    let mut on_b = on(&b, &on_a);
    until_b_serves_its_copy(&redis, &prefix, &mut on_b).await;
    rename_behind(&redis, &prefix, "Renamed Before The Stall");
    assert_ne!(
        on_b.session().await["user"]["name"],
        "Renamed Before The Stall",
        "B serves its copy while its loop runs"
    );

    // Reads go on (B's GET of the entry among them); every write and
    // script, B's lease renewal among them, waits for the pause to end.
    let paused = std::time::Instant::now();
    redis.cli(&["CLIENT", "PAUSE", "12000", "WRITE"]);
    loop {
        let name = on_b.session().await["user"]["name"].clone();
        if name == "Renamed Before The Stall" {
            break;
        }
        // Its last renewal was sent before the pause: its lease (2 s in
        // Redis) ends before 2 s from here, and a writer stops waiting for
        // it then. B must have stopped serving copies by that time.
        assert!(
            paused.elapsed() < std::time::Duration::from_secs(2),
            "B kept serving its copy up to the end of its lease, or after it"
        );
    }
    // Seen while the pause holds B's renewal (its reads go on), before its
    // lease ends, and not at once (it serves copies while its lease runs).
    let seen = paused.elapsed();
    assert!(
        seen < std::time::Duration::from_secs(2),
        "B answered Redis's name only after its lease ended ({seen:?})"
    );
    assert!(
        seen >= std::time::Duration::from_millis(1000),
        "B dropped its copy at once: it does not serve copies at all"
    );
    redis.cli(&["CLIENT", "UNPAUSE"]);
}

/// An instance that renews its lease but never applies a change (by hand
/// here) cannot hold a sign-out for ever: the writer gives up after a
/// lease and a second and answers 503 (try again), and the session is ended
/// all the same.
#[tokio::test]
async fn a_sign_out_does_not_wait_for_ever_for_an_instance_that_never_applies_it() {
    let (_a, mut on_a, token, prefix) = signed_in_alone().await;
    let ghost = "an-instance-that-renews-and-applies-nothing";
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (leased, first_lease) = std::sync::mpsc::channel();
    let renewer = {
        let (stop, prefix) = (stop.clone(), prefix.clone());
        std::thread::spawn(move || {
            let redis = services::redis();
            redis.cli(&["HSET", &format!("{prefix}changes:applied"), ghost, "0"]);
            // Bounded: 300 renewals of 1.5 s, 50 ms apart.
            for _ in 0..300 {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let now_ms = redis_now_ms(redis);
                redis.cli(&[
                    "ZADD",
                    &format!("{prefix}changes:instances"),
                    &(now_ms + 1500).to_string(),
                    ghost,
                ]);
                let _ = leased.send(());
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        })
    };
    first_lease.recv().expect("the ghost's first lease");
    let started = std::time::Instant::now();
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        on_a.sign_out_with(&token),
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    renewer.join().unwrap();
    let status = answered.expect("the sign-out answered within 10 s");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "the sign-out returned before the instance's lease could have ended ({status})"
    );
    // Not confirmed everywhere: the visitor is told to try again.
    assert_eq!(status, 503);
    assert_eq!(on_a.session().await, serde_json::json!({}));
}

/// A session whose end came while its entry was cached is refused, and its
/// entry leaves Redis at that read (not 30 s later, when the entry's own
/// time to live runs out).
#[tokio::test]
async fn an_expired_session_is_refused_and_its_entry_leaves_redis() {
    let (a, _b, prefix) = pair_on(services::redis(), "[session]\nmax_age = \"2s\"").await;
    let mut on_a = a.new_browser();
    on_a.sign_in_demo(true).await;
    assert_eq!(on_a.session().await["user"]["email"], EMAIL);
    let entries = || services::redis().keys(&format!("{prefix}session:*")).len();
    assert_eq!(entries(), 1, "the session's entry is cached");
    let started = std::time::Instant::now();
    while on_a.session().await != serde_json::json!({}) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the session outlived its max_age"
        );
    }
    assert_eq!(entries(), 0, "the ended session's entry stayed in Redis");
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
            sesame::wire::routes::CHANGE_PASSWORD,
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

/// Item 8: nothing Redis holds lets anyone sign in: the session cache is
/// keyed by the id's SHA-256 and its entries carry no session id.
#[tokio::test]
async fn redis_holds_no_session_id() {
    let config = services::scale_out(services::postgres(), services::redis());
    let prefix = services::prefix_of(&config);
    let a = spawn(&config).await;
    let mut browser = a.new_browser();
    browser.sign_in_demo(true).await;
    assert_eq!(browser.session().await["user"]["email"], EMAIL);
    let cookie = browser.session_cookie().unwrap();
    let redis = services::redis();
    let keys = redis.keys(&format!("{prefix}session:*"));
    assert_eq!(keys.len(), 1, "{keys:?}");
    let value = redis.cli(&["GET", &keys[0]]).join("\n");
    assert!(value.contains("csrf_key"), "the cached entry: {value}");
    assert!(
        !value.contains(&cookie),
        "the session id is in Redis: {value}"
    );
    assert!(!keys[0].contains(&cookie));
    // Everything under the prefix, not only the cache.
    for key in redis.keys(&format!("{prefix}*")) {
        assert!(!key.contains(&cookie), "{key}");
        let kind = redis.cli(&["TYPE", &key]).join("");
        if kind == "string" {
            let value = redis.cli(&["GET", &key]).join("\n");
            assert!(!value.contains(&cookie), "{key}: {value}");
        }
    }
}

/// Item 9: one signed-in user firing a burst of "sign out everywhere else"
/// at both instances neither stalls other users' sign-ins nor makes any
/// instance answer 503: the account actions' budgets refuse most of the
/// burst, a revocation locks only its user, and a busy pool is not a down
/// database.
#[tokio::test]
async fn a_burst_of_revocations_by_one_user_stalls_nobody_else() {
    let (a, b) = pair("").await;
    let other = "other@example.com";
    b.add_user(other).await;
    let mut user = a.new_browser();
    user.sign_in_demo(true).await;
    let token = user.csrf_token().await;
    let burst: Vec<_> = (0..160)
        .map(|i| {
            let instance = if i % 2 == 0 { &a } else { &b };
            let mut browser = on(instance, &user);
            let token = token.clone();
            tokio::spawn(async move {
                browser
                    .post_form(
                        sesame::wire::routes::REVOKE_OTHER_SESSIONS,
                        &[("csrfToken", &token), ("json", "true")],
                    )
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let sign_ins: Vec<_> = (0..8)
        .map(|i| {
            let mut browser = if i % 2 == 0 {
                b.new_browser()
            } else {
                a.new_browser()
            };
            tokio::spawn(async move { browser.sign_in_json(other, PASSWORD, "/").await.status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in burst {
        statuses.push(task.await.unwrap());
    }
    for task in sign_ins {
        assert_eq!(task.await.unwrap(), 200, "another user's sign-in");
    }
    assert!(!statuses.contains(&503), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(
        statuses.contains(&429),
        "the budgets refuse the rest: {statuses:?}"
    );
    for instance in [&a, &b] {
        assert_eq!(instance.new_browser().get("/ready").await.status(), 200);
    }
    assert_eq!(
        user.session().await["user"]["email"],
        EMAIL,
        "this session stays"
    );
}

/// Item 10: requests that answer 5xx by their own choice (the error page)
/// and `/ready` do not make the instance probe its backends: only a
/// backend's own failure does, and looks caused by requests start at most
/// once a second. `/ready` says up or down, nothing more.
#[tokio::test]
async fn error_pages_and_ready_do_not_make_the_instance_probe_its_backends() {
    let redis = services::Redis::start();
    let app = spawn(&services::scale_out(services::postgres(), &redis)).await;
    let pings = || -> u64 {
        redis
            .cli(&["INFO", "commandstats"])
            .iter()
            .find_map(|l| l.strip_prefix("cmdstat_ping:calls="))
            .map(|rest| rest.split(',').next().unwrap().parse().unwrap())
            .unwrap_or(0)
    };
    let before = pings();
    let started = std::time::Instant::now();
    let flood: Vec<_> = (0..300)
        .map(|i| {
            let mut browser = app.new_browser();
            tokio::spawn(async move {
                let path = match i % 3 {
                    0 => "/api/auth/error?error=Configuration",
                    1 => "/api/auth/error?error=ServiceUnavailable",
                    _ => "/ready",
                };
                let res = browser.get(path).await;
                (path, res.status().as_u16(), res.text().await.unwrap())
            })
        })
        .collect();
    for task in flood {
        let (path, status, body) = task.await.unwrap();
        match path {
            "/ready" => {
                assert_eq!(status, 200, "{body}");
                let body: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(
                    body["checks"]["redis"],
                    serde_json::json!({ "status": "up" })
                );
                assert_eq!(
                    body["checks"]["database"],
                    serde_json::json!({ "status": "up" })
                );
            }
            "/api/auth/error?error=Configuration" => assert_eq!(status, 500),
            _ => assert_eq!(status, 503),
        }
    }
    let seconds = started.elapsed().as_secs() + 1;
    let probes = pings() - before;
    // One look a second from requests at most, and the watcher's (every 5 s).
    assert!(
        probes <= seconds + seconds / 5 + 2,
        "{probes} probes of Redis in {seconds} s"
    );
}

/// Item 11: a flood of distinct identifiers and IPv6 networks keeps a
/// bounded number of keys in Redis (`limits.lockout.tracked` counters,
/// `limits.tracked_keys` per-IP keys); a hard lock ends with an
/// administrator's unlock or a completed reset.
#[tokio::test]
async fn a_flood_of_identifiers_and_networks_keeps_redis_bounded() {
    let config = format!(
        "{}\n[site]\ntrusted_proxies = [\"127.0.0.1\"]\n[limits]\ntracked_keys = 10\n\
         [limits.lockout]\ntracked = 10\nfree_failures = 1\nmax_failures = 2\nfirst_wait = \"1ms\"\nmax_wait = \"1ms\"\n",
        services::scale_out(services::postgres(), services::redis())
    );
    let prefix = services::prefix_of(&config);
    let app = spawn(&config).await;
    let redis = services::redis();
    // One after another: each hashes (a dummy hash), and a parallel flood
    // would meet the hashing queue's 503 instead.
    for i in 0..40 {
        let mut browser = app.new_browser();
        let token = browser.csrf_token().await;
        let status = browser
            .post_form_with(
                "/api/auth/callback/credentials",
                &[
                    ("email", &format!("flood-{i}@example.com")),
                    ("password", "not the password"),
                    ("csrfToken", &token),
                    ("json", "true"),
                ],
                &[("x-forwarded-for", &format!("2001:db8:{i:x}::1"))],
            )
            .await
            .status();
        assert_eq!(status, 401);
    }
    let counters = redis.keys(&format!("{prefix}lockout:a:*"));
    assert!(counters.len() <= 10, "{} lockout counters", counters.len());
    let networks: Vec<String> = redis
        .keys(&format!("{prefix}limit:ip:*"))
        .into_iter()
        .filter(|k| !k.ends_with(":index"))
        .collect();
    assert!(networks.len() <= 10, "{} per-IP keys", networks.len());

    // A hard lock (two failures here), then the way back.
    let mut owner = app.new_browser();
    for _ in 0..2 {
        assert_eq!(
            owner
                .sign_in_json(EMAIL, "not the password", "/")
                .await
                .status(),
            401
        );
    }
    assert_eq!(owner.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 429);
    app.auth().unlock(EMAIL).await.unwrap();
    assert_eq!(owner.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
}

/// A provider sign-in started on A and finished on B (the flow's sealed
/// cookie opens on any instance with the secret), against the real
/// OpenID Connect provider; the user and the link land in PostgreSQL.
#[tokio::test]
async fn a_provider_sign_in_started_on_one_instance_finishes_on_the_other() {
    let provider = common::oidc::oidc();
    let (a, b) = pair(&format!(
        "{}\n[accounts]\nsign_up = \"open\"",
        provider.provider_toml("oidc-test", "")
    ))
    .await;
    let mut on_a = a.new_browser();
    let token = on_a.csrf_token().await;
    let res = on_a
        .post_form(
            "/api/auth/signin/oidc-test",
            &[
                ("csrfToken", &token),
                ("callbackUrl", "/account"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let url = res.json::<serde_json::Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let back = common::oidc::sign_in_at_provider(&url, "alice").await;
    // The provider sends the browser back to A's URL; the load balancer
    // hands the request to B.
    let path = back.url().strip_prefix(&a.base).unwrap().to_string();
    let mut on_b = on(&b, &on_a);
    let res = on_b.get(&path).await;
    assert_eq!(res.status(), 302);
    // The callbackUrl as A resolved it (the test's instances have a site
    // URL each; a real deployment has one).
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/account", a.base)
    );
    assert_eq!(on_b.session().await["user"]["email"], "alice@example.test");
    let mut back_on_a = on(&a, &on_b);
    assert_eq!(
        back_on_a.session().await["user"]["email"],
        "alice@example.test"
    );
}

/// The first sign-in of one provider account on both instances at once,
/// many times: one user and one link each time, never two.
#[tokio::test]
async fn concurrent_first_sign_ins_of_one_provider_account_make_one_user() {
    let provider = common::oidc::oidc();
    for round in 0..5 {
        let (a, b, db) = pair_on_db(&format!(
            "{}\n[accounts]\nsign_up = \"open\"",
            provider.provider_toml("oidc-test", "")
        ))
        .await;
        // Two browsers, each at the provider as `carol`, each with a code.
        let mut returns = Vec::new();
        for instance in [&a, &b] {
            let mut browser = instance.new_browser();
            let token = browser.csrf_token().await;
            let res = browser
                .post_form(
                    "/api/auth/signin/oidc-test",
                    &[("csrfToken", &token), ("json", "true")],
                )
                .await;
            let url = res.json::<serde_json::Value>().await.unwrap()["url"]
                .as_str()
                .unwrap()
                .to_string();
            let back = common::oidc::sign_in_at_provider(&url, "carol").await;
            let path = back.url().strip_prefix(&instance.base).unwrap().to_string();
            returns.push((browser, path));
        }
        let finishing: Vec<_> = returns
            .into_iter()
            .map(|(mut browser, path)| {
                tokio::spawn(async move {
                    let res = browser.get(&path).await;
                    let to = res.headers()["location"].to_str().unwrap().to_string();
                    (to, browser.session().await)
                })
            })
            .collect();
        let mut signed_in = 0;
        for done in finishing {
            let (to, session) = done.await.unwrap();
            if session["user"]["email"] == "carol@example.test" {
                signed_in += 1;
            } else {
                // The loser of the race is refused with a typed error, never a 500.
                assert!(to.contains("error="), "round {round}: {to}");
            }
        }
        assert!(signed_in >= 1, "round {round}");
        let db = sqlx::PgPool::connect(&db).await.unwrap();
        let users: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = 'carol@example.test'")
                .fetch_one(&db)
                .await
                .unwrap();
        let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_accounts")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!((users, links), (1, 1), "round {round}");
    }
}

/// A provider-only user with two links removes both at once, on two
/// instances, many times: PostgreSQL keeps one (the user's row is locked
/// while a removal checks what is left).
#[tokio::test]
async fn two_disconnects_on_two_instances_never_remove_the_last_way_in() {
    let provider = common::oidc::oidc();
    let (a, b, db) = pair_on_db(&format!(
        "{}\n[accounts]\nsign_up = \"open\"\n[limits]\naccount_actions_per_session = \"1000/1min\"\n\
         account_actions_per_account = \"1000/1min\"",
        provider.provider_toml("oidc-test", "")
    ))
    .await;
    let mut on_a = a.new_browser();
    let token = on_a.csrf_token().await;
    let res = on_a
        .post_form(
            "/api/auth/signin/oidc-test",
            &[("csrfToken", &token), ("json", "true")],
        )
        .await;
    let url = res.json::<serde_json::Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let back = common::oidc::sign_in_at_provider(&url, "alice").await;
    let path = back.url().strip_prefix(&a.base).unwrap().to_string();
    assert_eq!(on_a.get(&path).await.status(), 302);
    let db = sqlx::PgPool::connect(&db).await.unwrap();
    let user: i64 = sqlx::query_scalar("SELECT user_id FROM provider_accounts")
        .fetch_one(&db)
        .await
        .unwrap();
    for round in 0..20 {
        sqlx::query(
            "INSERT INTO provider_accounts (provider, provider_account_id, user_id) \
             VALUES ('oidc-test', 'alice', $1), ('github-test', '1001', $1) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .execute(&db)
        .await
        .unwrap();
        let token = on_a.csrf_token().await;
        let statuses = common::disconnect_both(
            [
                (on(&a, &on_a), "oidc-test", "alice"),
                (on(&b, &on_a), "github-test", "1001"),
            ],
            &token,
        )
        .await;
        assert_eq!(statuses, vec![200, 409], "round {round}");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM provider_accounts")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_second_factor_step_started_on_one_instance_finishes_on_the_other_once() {
    let (a, b) = pair("").await;
    let mut owner = a.new_browser();
    owner.sign_in_demo(false).await;
    let secret = factors::enrol(&mut owner).await.0;
    let code = code_at(&secret, now() + 30);
    // The password on A, the code on B.
    let mut on_a = a.new_browser();
    let res = on_a.sign_in_json(EMAIL, PASSWORD, "/").await;
    assert_eq!(res.status(), 401);
    let mut on_b = on(&b, &on_a);
    let (status, body) =
        common::action(&mut on_b, "/api/auth/second-factor", &[("code", &code)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(on_b.session().await["user"]["email"], EMAIL);
    // The same code replayed on A, in another browser: refused there too.
    let mut again = a.new_browser();
    assert_eq!(again.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    let (status, body) =
        common::action(&mut again, "/api/auth/second-factor", &[("code", &code)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("CodeAlreadyUsed"))
    );
}

#[tokio::test]
async fn one_code_posted_on_both_instances_at_once_signs_in_once() {
    let (a, b) = pair("").await;
    for round in 0..8 {
        let email = format!("racer{round}@example.com");
        a.add_user(&email).await;
        let mut owner = a.new_browser();
        assert_eq!(
            owner.sign_in_json(&email, PASSWORD, "/").await.status(),
            200
        );
        let secret = factors::enrol(&mut owner).await.0;
        let code = code_at(&secret, now() + 30);
        let mut racers = Vec::new();
        for instance in [&a, &b] {
            let mut browser = instance.new_browser();
            assert_eq!(
                browser.sign_in_json(&email, PASSWORD, "/").await.status(),
                401
            );
            let code = code.clone();
            racers.push(tokio::spawn(async move {
                common::action(&mut browser, "/api/auth/second-factor", &[("code", &code)])
                    .await
                    .0
            }));
        }
        let mut oks = 0;
        for racer in racers {
            oks += usize::from(racer.await.unwrap() == 200);
        }
        assert_eq!(oks, 1, "round {round}");
    }
}
