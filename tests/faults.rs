//! Faults: PostgreSQL or Redis stopped under a running instance (each test
//! starts its own servers, so it can stop them), and a graceful shutdown of
//! the real binary. Requests get `503 ServiceUnavailable` naming what is
//! down, `/health` and `/ready` tell a load balancer, nothing is half-written,
//! and the instance serves again by itself once the server is back.
//!
//! The only time bound here is a hang guard: "within a few seconds" is part
//! of the behaviour asked for (a request must not wait out a TCP timeout), so
//! each answer during an outage is checked to come within 10 s.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{
    services::{self, Postgres, Redis},
    spawn, TestApp, EMAIL, PASSWORD,
};
use serde_json::Value;

/// The hang guard (see the module header).
const FEW_SECONDS: Duration = Duration::from_secs(10);

async fn ready(app: &mut TestApp) -> (u16, Value) {
    let res = app.get("/ready").await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Waits (bounded) until `/ready` answers 200.
async fn until_ready(app: &mut TestApp) {
    for _ in 0..300 {
        if ready(app).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the instance did not recover within 30 s");
}

/// A JSON sign-in that must be answered 503 within the hang guard, naming `what`.
async fn refused_while_down(app: &TestApp, what: &str) {
    let mut browser = app.new_browser();
    let started = Instant::now();
    let token_res = browser.get("/api/auth/csrf").await;
    let res = if token_res.status() == 200 {
        browser.sign_in_json(EMAIL, PASSWORD, "/").await
    } else {
        token_res
    };
    assert!(started.elapsed() < FEW_SECONDS, "answered within seconds");
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "ServiceUnavailable");
    assert!(body["message"].as_str().unwrap().contains(what), "{body}");
}

#[tokio::test]
async fn with_postgres_stopped_requests_get_503_and_the_instance_recovers_by_itself() {
    let pg = Postgres::start();
    let app = spawn(&services::scale_out(&pg, services::redis())).await;
    let mut signed_in = app.new_browser();
    signed_in.sign_in_demo(true).await;
    assert_eq!(ready(&mut app.new_browser()).await.0, 200);

    pg.stop();
    refused_while_down(&app, "database").await;
    // A signed-in page and the session check: 503 as well, never "signed out".
    let started = Instant::now();
    let res = signed_in
        .get_with("/account", &[("accept", "text/html")])
        .await;
    assert!(started.elapsed() < FEW_SECONDS);
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("database"));
    // The session check too, though its copy of the session needs no
    // database: the instance knows the database is down.
    assert_eq!(signed_in.get("/api/auth/session").await.status(), 503);
    let mut probe = app.new_browser();
    assert_eq!(probe.get("/health").await.status(), 200, "alive");
    let (status, body) = ready(&mut probe).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["database"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["redis"]["status"], "up", "{body}");

    pg.resume();
    until_ready(&mut probe).await;
    // The session lived through it; the refused sign-in left no session.
    assert_eq!(signed_in.session().await["user"]["email"], EMAIL);
    assert_eq!(app.auth().live_sessions().await.unwrap(), 1);
    let mut fresh = app.new_browser();
    assert_eq!(fresh.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
}

#[tokio::test]
async fn with_redis_stopped_requests_get_503_and_the_instance_recovers_by_itself() {
    let redis = Redis::start();
    let app = spawn(&services::scale_out(services::postgres(), &redis)).await;
    let mut signed_in = app.new_browser();
    signed_in.sign_in_demo(true).await;

    redis.stop();
    refused_while_down(&app, "redis").await;
    let started = Instant::now();
    let res = signed_in.get("/api/auth/session").await;
    assert!(started.elapsed() < FEW_SECONDS);
    assert_eq!(res.status(), 503);
    let mut probe = app.new_browser();
    assert_eq!(probe.get("/health").await.status(), 200);
    let (status, body) = ready(&mut probe).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["redis"]["status"], "down", "{body}");
    assert_eq!(body["checks"]["database"]["status"], "up", "{body}");

    redis.resume();
    until_ready(&mut probe).await;
    // The session is PostgreSQL's: it lived through an empty Redis.
    assert_eq!(signed_in.session().await["user"]["email"], EMAIL);
    let mut fresh = app.new_browser();
    assert_eq!(fresh.sign_in_json(EMAIL, PASSWORD, "/").await.status(), 200);
    // Signing out still ends the session everywhere.
    let token = signed_in.csrf_token().await;
    assert_eq!(signed_in.sign_out_with(&token).await, 200);
    assert_eq!(signed_in.session().await, serde_json::json!({}));
}

/// SIGTERM: the request in flight is answered, new connections are refused,
/// and the process exits cleanly.
#[test]
fn a_graceful_shutdown_finishes_the_request_in_flight_and_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::services::free_port();
    let config = dir.path().join("app.toml");
    std::fs::write(
        &config,
        format!(
            "environment = \"development\"\nsecret = \"{}\"\ndata_dir = \"{data}\"\n\
             [site]\nurl = \"http://127.0.0.1:{port}\"\n\
             [database]\nurl = \"sqlite://{data}/app.db\"\n",
            common::SECRET,
            data = dir.path().display()
        ),
    )
    .unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .env_remove("SESAME_DATABASE__URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let wait_until = |what: &str, ready: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !ready() {
            assert!(start.elapsed() < Duration::from_secs(60), "{what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_until("the server listens", &|| TcpStream::connect(&addr).is_ok());

    // A request in flight: its head sent with `Expect: 100-continue`; the
    // server's "100 Continue" says the handler is reading its body.
    let body = "csrfToken=not-a-token&json=true";
    let mut in_flight = TcpStream::connect(&addr).unwrap();
    write!(
        in_flight,
        "POST /api/auth/signout HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\n\r\n",
        body.len(),
    )
    .unwrap();
    in_flight
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut interim = Vec::new();
    let mut byte = [0u8; 1];
    while !interim.ends_with(b"\r\n\r\n") {
        in_flight.read_exact(&mut byte).unwrap();
        interim.push(byte[0]);
    }
    assert!(
        interim.starts_with(b"HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&interim)
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_until("new connections are refused", &|| {
        TcpStream::connect(&addr).is_err()
    });

    // The body: the request is answered in full.
    in_flight.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "answered: {answer:?}");
    assert!(answer.contains("MissingCSRF"), "{answer}");

    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the process exits"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}
