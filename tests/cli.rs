//! The admin CLI, run as the binary against a throw-away database (and, for
//! sessions, against the database of a running server): output, `--json`,
//! errors and exit codes.

mod common;

use std::process::{Command, Output};

use common::{spawn, EMAIL, PASSWORD, SECRET};
use serde_json::Value;

/// A `Leptos.toml` for the database at `db_url`, in `dir`.
fn config_file(dir: &std::path::Path, db_url: &str) -> std::path::PathBuf {
    config_for_site(dir, db_url, "http://127.0.0.1:3000")
}

/// A `Leptos.toml` for the database at `db_url` of the site at `site`.
fn config_for_site(dir: &std::path::Path, db_url: &str, site: &str) -> std::path::PathBuf {
    let path = dir.join("cli.toml");
    std::fs::write(
        &path,
        format!(
            "secret = \"{SECRET}\"\n[site]\nurl = \"{site}\"\n[database]\nurl = \"{db_url}\"\n"
        ),
    )
    .unwrap();
    path
}

/// Runs the CLI off the test's runtime; its JSON.
async fn run_json(config: &std::path::Path, args: &[&str], password: Option<&str>) -> Value {
    let (config, args, password) = (
        config.to_path_buf(),
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        password.map(str::to_string),
    );
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        json(&sesame(&config, &args, password.as_deref()))
    })
    .await
    .unwrap()
}

/// Runs `sesame --config <config> <args>` with `password` as the new password.
fn sesame(config: &std::path::Path, args: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env_remove("SESAME_DATABASE__URL")
        .env("RUST_LOG", "warn");
    match password {
        Some(p) => command.env("SESAME_NEW_PASSWORD", p),
        None => command.env_remove("SESAME_NEW_PASSWORD"),
    };
    command.output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn users_are_added_listed_disabled_enabled_and_verified() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let config = config_file(dir.path(), &db);
    let pass = Some("a long and unusual passphrase");

    let added = json(&sesame(
        &config,
        &[
            "user",
            "add",
            "--email",
            "Ann@Example.com",
            "--name",
            "Ann",
            "--json",
        ],
        pass,
    ));
    assert_eq!(added["email"], "ann@example.com");
    assert_eq!(added["email_verified"], true);
    assert_eq!(added["disabled"], false);

    // An existing email is refused, with its own exit code and a message.
    let again = sesame(
        &config,
        &["user", "add", "--email", "ann@example.com"],
        pass,
    );
    assert_eq!(again.status.code(), Some(4));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let text = sesame(&config, &["user", "list"], None);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("ann@example.com") && text.contains("active"),
        "{text}"
    );

    let out = json(&sesame(
        &config,
        &["user", "disable", "--email", "ann@example.com", "--json"],
        None,
    ));
    assert_eq!(out["disabled"], true);
    let list = json(&sesame(&config, &["user", "list", "--json"], None));
    assert_eq!(list[0]["disabled"], true);
    json(&sesame(
        &config,
        &["user", "enable", "--email", "ann@example.com", "--json"],
        None,
    ));
    let list = json(&sesame(&config, &["user", "list", "--json"], None));
    assert_eq!(list[0]["disabled"], false);
    json(&sesame(
        &config,
        &[
            "user",
            "verify-email",
            "--email",
            "ann@example.com",
            "--json",
        ],
        None,
    ));

    // Unknown users: exit code 3 and the email named.
    for args in [
        &["user", "disable", "--email", "nobody@example.com"][..],
        &["user", "set-password", "--email", "nobody@example.com"][..],
        &["sessions", "list", "--user", "nobody@example.com"][..],
    ] {
        let out = sesame(&config, args, pass);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("nobody@example.com"));
    }
    // Usage errors are clap's: exit code 2.
    assert_eq!(
        sesame(&config, &["user", "frobnicate"], None).status.code(),
        Some(2)
    );
}

#[test]
fn set_password_reads_stdin_and_applies_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let config = config_file(dir.path(), &db);
    json(&sesame(
        &config,
        &["user", "add", "--email", "bob@example.com", "--json"],
        Some("a long and unusual passphrase"),
    ));
    let weak = sesame(
        &config,
        &["user", "set-password", "--email", "bob@example.com"],
        Some("password1"),
    );
    assert_eq!(weak.status.code(), Some(4));
    assert!(
        stderr(&weak).contains("too easy to guess"),
        "{}",
        stderr(&weak)
    );

    // From standard input when the variable is not set.
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["--config", config.to_str().unwrap(), "user", "set-password"])
        .args(["--email", "bob@example.com", "--json"])
        .env_remove("SESAME_NEW_PASSWORD")
        .env_remove("SESAME_DATABASE__URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another unusual passphrase\n")
        .unwrap();
    let out = json(&child.wait_with_output().unwrap());
    assert_eq!(out["sessions_ended"], 0);
}

/// Sessions of a running server: listed and ended by the CLI (another
/// process: a running server with `session.cache_ttl = 0s` sees it at once).
#[tokio::test]
async fn sessions_of_a_running_server_are_listed_and_revoked() {
    let app = spawn("[session]\ncache_ttl = \"0s\"").await;
    let mut a = app.new_browser();
    let mut b = app.new_browser();
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let config = config_file(app.dir.path(), &app.db_url);

    let cfg = config.clone();
    let listed = tokio::task::spawn_blocking(move || {
        json(&sesame(
            &cfg,
            &["sessions", "list", "--user", EMAIL, "--json"],
            None,
        ))
    })
    .await
    .unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["ip"], "127.0.0.1");
    assert_eq!(listed[0]["id"].as_str().unwrap().len(), 64);

    let cfg = config.clone();
    let revoked = tokio::task::spawn_blocking(move || {
        json(&sesame(
            &cfg,
            &["sessions", "revoke", "--user", EMAIL, "--json"],
            None,
        ))
    })
    .await
    .unwrap();
    assert_eq!(revoked["sessions_ended"], 2);
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(b.session().await, serde_json::json!({}));

    // Disabling from the CLI ends a new session too, and refuses the next sign-in.
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    let cfg = config.clone();
    let out = tokio::task::spawn_blocking(move || {
        json(&sesame(
            &cfg,
            &["user", "disable", "--email", EMAIL, "--json"],
            None,
        ))
    })
    .await
    .unwrap();
    assert_eq!(out["sessions_ended"], 1);
    assert_eq!(a.session().await, serde_json::json!({}));
    assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
}

/// Item 14 of issue 22: the running server keeps its session cache in its
/// own process (SQLite, the default `session.cache_ttl`); the CLI, another
/// process, ends sessions and they are refused by the server before the
/// command returns. An unlock reaches the server's in-memory lockout too.
#[tokio::test]
async fn the_cli_ends_sessions_on_the_running_server_before_it_returns() {
    let app =
        spawn("[limits.lockout]\nfree_failures = 1\nfirst_wait = \"1h\"\nmax_wait = \"1h\"").await;
    let config = config_for_site(app.dir.path(), &app.db_url, &app.base);
    let new = "another long and unusual passphrase";
    let commands: [&[&str]; 3] = [
        &["user", "disable", "--email", EMAIL, "--json"],
        &["sessions", "revoke", "--user", EMAIL, "--json"],
        &["user", "set-password", "--email", EMAIL, "--json"],
    ];
    for command in commands {
        app.auth().set_disabled(EMAIL, false).await.unwrap();
        let mut a = app.new_browser();
        let mut b = app.new_browser();
        assert_eq!(a.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
        assert_eq!(b.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
        // Both served from the server's cache from here on.
        for browser in [&mut a, &mut b] {
            assert_eq!(browser.session().await["user"]["email"], EMAIL);
        }
        let out = run_json(&config, command, Some(new)).await;
        assert_eq!(out["sessions_ended"], 2, "{command:?}");
        assert_eq!(a.session().await, serde_json::json!({}), "{command:?}");
        assert_eq!(b.session().await, serde_json::json!({}), "{command:?}");
    }

    // The lockout lives in the server's memory: the CLI's unlock reaches it.
    let mut c = app.new_browser();
    assert_eq!(
        c.sign_in_json(EMAIL, "not the password", "/")
            .await
            .status(),
        401
    );
    assert_eq!(c.sign_in_json(EMAIL, new, "/").await.status(), 429);
    let out = run_json(
        &config,
        &["user", "unlock", "--email", EMAIL, "--json"],
        None,
    )
    .await;
    assert_eq!(out["unlocked"], true);
    assert_eq!(c.sign_in_json(EMAIL, new, "/").await.status(), 200);
}

/// A call to the admin route must be signed with the server secret.
#[tokio::test]
async fn the_admin_route_refuses_unsigned_and_forged_calls() {
    let mut app = spawn("").await;
    let path = sesame::wire::routes::ADMIN;
    let body = br#"{"forget_user":"1"}"#.to_vec();
    let res = app
        .post_raw(path, "application/json", body.clone(), &[])
        .await;
    assert_eq!(res.status(), 401);
    let forged = format!(
        "{}.{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        "00".repeat(32)
    );
    let res = app
        .post_raw(
            path,
            "application/json",
            body.clone(),
            &[("x-sesame-admin", &forged)],
        )
        .await;
    assert_eq!(res.status(), 401);
    // Signed for another body: refused.
    let signed = app.auth().admin_signature(br#"{"forget_user":"2"}"#);
    let res = app
        .post_raw(
            path,
            "application/json",
            body.clone(),
            &[("x-sesame-admin", &signed)],
        )
        .await;
    assert_eq!(res.status(), 401);
    let signed = app.auth().admin_signature(&body);
    let res = app
        .post_raw(
            path,
            "application/json",
            body,
            &[("x-sesame-admin", &signed)],
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_invitation_from_the_cli_is_emailed() {
    let smtp = common::smtp::SmtpServer::start();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let config = config_file(dir.path(), &db);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&smtp.config());
    std::fs::write(&config, text).unwrap();
    let cfg = config.clone();
    let out = tokio::task::spawn_blocking(move || {
        json(&sesame(
            &cfg,
            &["user", "invite", "--email", "Guest@Example.com", "--json"],
            None,
        ))
    })
    .await
    .unwrap();
    assert_eq!(out["email"], "guest@example.com");
    assert_eq!(out["email_verified"], false);
    let mail = smtp.wait_for("guest@example.com", 1).await.remove(0);
    assert!(
        mail.link("/api/auth/reset?token=").is_some(),
        "{}",
        mail.body
    );
    // Twice: refused, exit code 4.
    let again = sesame(
        &config,
        &["user", "invite", "--email", "guest@example.com"],
        None,
    );
    assert_eq!(again.status.code(), Some(4), "{}", stderr(&again));
}

/// `sesame user factors` lists what an account has; `reset-factors` removes
/// it (a user who lost the device signs in with the password again).
#[tokio::test]
async fn the_cli_lists_and_resets_a_user_s_second_factors() {
    let mut app = spawn("").await;
    let config = config_for_site(app.dir.path(), &app.db_url, &app.base);
    let out = run_json(
        &config,
        &["user", "factors", "--email", EMAIL, "--json"],
        None,
    )
    .await;
    assert_eq!(out["authenticator"], false);
    // Enrol through the account actions, with a code the test computes.
    app.sign_in_demo(false).await;
    let secret = common::factors::start_enrolment(&mut app).await;
    common::factors::confirm_enrolment(&mut app, &sesame_test_totp(&secret)).await;
    let out = run_json(
        &config,
        &["user", "factors", "--email", EMAIL, "--json"],
        None,
    )
    .await;
    assert_eq!(out["authenticator"], true);
    assert_eq!(out["recovery_codes_left"], 10);
    let mut other = app.new_browser();
    assert_eq!(other.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 401);
    let out = run_json(
        &config,
        &["user", "reset-factors", "--email", EMAIL, "--json"],
        None,
    )
    .await;
    assert_eq!(out["factors_removed"], true);
    let out = run_json(
        &config,
        &["user", "factors", "--email", EMAIL, "--json"],
        None,
    )
    .await;
    assert_eq!(
        (
            out["authenticator"].clone(),
            out["recovery_codes_left"].clone()
        ),
        (Value::Bool(false), Value::from(0))
    );
    assert_eq!(other.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
}

/// The current RFC 6238 code of a base32 secret, by Python's standard library.
fn sesame_test_totp(secret: &str) -> String {
    const SCRIPT: &str = "import base64,hmac,hashlib,struct,sys,time\n\
        k=base64.b32decode(sys.argv[1])\n\
        h=hmac.new(k,struct.pack('>Q',int(time.time())//30),hashlib.sha1).digest()\n\
        o=h[-1]&15\n\
        print('%06d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%1000000))";
    let out = Command::new("python3")
        .args(["-c", SCRIPT, secret])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
