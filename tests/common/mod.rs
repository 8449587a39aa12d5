//! Starts the real server on an ephemeral port with its own SQLite database, and
//! speaks HTTP to it like a browser would (cookies kept by hand, so a test can
//! replay or drop one).
#![allow(dead_code)]

pub mod factors;
pub mod held;
pub mod oidc;
pub mod services;
pub mod smtp;

use std::collections::BTreeMap;

use leptos::prelude::LeptosOptions;
use reqwest::{header, redirect::Policy, Response};
use sesame::server::SesameBuilder;
use sesame_app::{server::AppConfig, user::AppUser};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "open sesame, demo";
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    /// The SQLite URL of this server's database, to look behind its back.
    pub db_url: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub sesame: sesame::server::Sesame,
    /// The server's data folder.
    pub dir: std::sync::Arc<tempfile::TempDir>,
    /// What the server logged, shown with a failing test's output.
    log: std::sync::Arc<ServerLog>,
}

/// The lines a test's server logs (at the server's own level), kept in memory:
/// printed with the test's output if the test fails, so a failure of work the
/// server does after its answer (a sign-up's mail, say) says why.
///
/// Not kept when the test process has its own global subscriber
/// (`tests/logs.rs` reads the logs itself).
struct ServerLog(LogBuffer);

impl Default for ServerLog {
    fn default() -> Self {
        ServerLog(LogBuffer::keeping(SERVER_LOG_BYTES))
    }
}

/// At most this many bytes of a server's log are kept: the latest.
const SERVER_LOG_BYTES: usize = 64 * 1024;

/// Log output kept in memory, for a `tracing` subscriber's writer: all of
/// it ([`Default`]), or only the latest bytes ([`LogBuffer::keeping`]).
#[derive(Clone)]
pub struct LogBuffer {
    bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    keep: usize,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::keeping(usize::MAX)
    }
}

impl LogBuffer {
    /// A buffer that keeps the latest `keep` bytes.
    pub fn keeping(keep: usize) -> Self {
        LogBuffer {
            bytes: Default::default(),
            keep,
        }
    }

    /// What it holds.
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut log = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        log.extend_from_slice(buf);
        if log.len() > self.keep {
            let excess = log.len() - self.keep;
            log.drain(..excess);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl ServerLog {
    /// The server's threads log into this buffer: each of its runtime's,
    /// and the one that runs it (unless a global subscriber is set). The
    /// guard keeps the running thread's default.
    fn install(
        &self,
        runtime: &mut tokio::runtime::Builder,
    ) -> Option<impl FnOnce() -> tracing::dispatcher::DefaultGuard + Send> {
        if tracing::dispatcher::has_been_set() {
            return None;
        }
        let writer = self.0.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                sesame::server::LOG_FILTER,
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let dispatch = tracing::Dispatch::new(subscriber);
        let each = dispatch.clone();
        runtime.on_thread_start(move || {
            // The thread's default for as long as it lives.
            std::mem::forget(tracing::dispatcher::set_default(&each));
        });
        Some(move || tracing::dispatcher::set_default(&dispatch))
    }
}

impl Drop for ServerLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- the server's log ----\n{}---- end of the server's log ----",
                String::from_utf8_lossy(&self.0.bytes())
            );
        }
    }
}

/// A server with the default test configuration plus `extra` TOML lines.
pub async fn spawn(extra: &str) -> TestApp {
    spawn_with(extra, |sesame| sesame).await
}

/// Like [`spawn`], with the application's own callbacks, events or `authorize`.
///
/// The server runs on its own runtime in its own thread, like a separate
/// process: a failing test unwinds without tearing the server down under it.
pub async fn spawn_with(
    extra: &str,
    customize: impl FnOnce(SesameBuilder<AppUser>) -> SesameBuilder<AppUser> + Send + 'static,
) -> TestApp {
    spawn_on("127.0.0.1", extra, customize).await
}

/// Like [`spawn`], with the site named `localhost` (WebAuthn refuses an IP
/// address as the relying party): passkeys are on.
pub async fn spawn_at_localhost(extra: &str) -> TestApp {
    spawn_at_localhost_with(extra, |sesame| sesame).await
}

/// Like [`spawn_at_localhost`], with the application's own callbacks.
pub async fn spawn_at_localhost_with(
    extra: &str,
    customize: impl FnOnce(SesameBuilder<AppUser>) -> SesameBuilder<AppUser> + Send + 'static,
) -> TestApp {
    spawn_on("localhost", extra, customize).await
}

async fn spawn_on(
    host: &str,
    extra: &str,
    customize: impl FnOnce(SesameBuilder<AppUser>) -> SesameBuilder<AppUser> + Send + 'static,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let toml = format!(
        r#"
        environment = "development"
        secret = "{SECRET}"
        data_dir = "{data}"
        [site]
        url = "http://{host}:{port}"
        [database]
        url = "sqlite://{data}/test.db"
        [limits]
        sign_in_per_ip = "10000/1min"
        [limits.lockout]
        free_failures = 99
        [demo_user]
        email = "{EMAIL}"
        password = "{PASSWORD}"
        name = "Demo User"
        "#,
        data = dir.path().display(),
        port = addr.port(),
    );
    let config = AppConfig::from_toml_layers(&[&toml, extra]).expect("test config");
    let options = LeptosOptions::builder()
        .output_name("sesame")
        .site_root(dir.path().display().to_string())
        .site_addr(addr)
        .build();
    let (ready, started) = std::sync::mpsc::channel();
    let log = ServerLog::default();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.worker_threads(2).enable_all();
    let logging = log.install(&mut runtime);
    std::thread::spawn(move || {
        let _logging = logging.map(|start| start());
        let runtime = runtime.build().unwrap();
        runtime.block_on(async move {
            let (app, sesame) = sesame_app::server::build_with(config, options, customize)
                .await
                .expect("app builds");
            ready.send(sesame.clone()).unwrap();
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = sesame::server::serve(listener, app).await;
        });
    });
    let sesame = tokio::task::spawn_blocking(move || started.recv().expect("server started"))
        .await
        .unwrap();
    TestApp {
        db_url: format!("sqlite://{}/test.db", dir.path().display()),
        base: format!("http://{host}:{}", addr.port()),
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            // A request the server never answers fails the test instead of hanging it.
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap(),
        cookies: BTreeMap::new(),
        sesame,
        dir: std::sync::Arc::new(dir),
        log: std::sync::Arc::new(log),
    }
}

/// A JSON post of an action (`path`, `fields`) with this browser's CSRF
/// token: the status and the answer.
pub async fn action(
    browser: &mut TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let token = browser.csrf_token().await;
    let mut all = fields.to_vec();
    all.push(("csrfToken", &token));
    all.push(("json", "true"));
    let res = browser.post_form(path, &all).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Like [`action`], for an action whose answer must be 200 (one that sends
/// mail, say: a test waiting for the mail then says why none came).
pub async fn action_ok(browser: &mut TestApp, path: &str, fields: &[(&str, &str)]) {
    let (status, body) = action(browser, path, fields).await;
    assert_eq!(status, 200, "{path}: {body}");
}

/// One user's two provider links removed at once, each by its own browser
/// (`provider`, `account`) with the same CSRF token: the two statuses, sorted.
pub async fn disconnect_both(racers: [(TestApp, &str, &str); 2], token: &str) -> Vec<u16> {
    let tasks: Vec<_> = racers
        .into_iter()
        .map(|(mut browser, provider, account)| {
            let fields = [
                ("provider", provider.to_string()),
                ("accountId", account.to_string()),
                ("csrfToken", token.to_string()),
                ("json", "true".to_string()),
            ];
            tokio::spawn(async move {
                let fields: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                browser
                    .post_form("/api/auth/account/disconnect", &fields)
                    .await
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort();
    statuses
}

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The 6-digit RFC 6238 code (SHA-1, 30 s) of the base32 `secret` at `at`,
/// computed by Python's standard library: an implementation the server
/// does not share.
pub fn code_at(secret: &str, at: u64) -> String {
    const SCRIPT: &str = "import base64,hmac,hashlib,struct,sys\n\
        k=base64.b32decode(sys.argv[1])\n\
        h=hmac.new(k,struct.pack('>Q',int(sys.argv[2])//30),hashlib.sha1).digest()\n\
        o=h[-1]&15\n\
        print('%06d'%((struct.unpack('>I',h[o:o+4])[0]&0x7fffffff)%1000000))";
    let out = std::process::Command::new("python3")
        .args(["-c", SCRIPT, secret, &at.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The token of an emailed link (`...token=T` or `...token=T&...`).
pub fn token_of(link: &str) -> String {
    let token = link.split("token=").nth(1).unwrap();
    token.split('&').next().unwrap().to_string()
}

/// The full `Set-Cookie` line a response sets for cookie `name`.
pub fn set_cookie(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

impl TestApp {
    /// The server's auth system (its counters, for tests that look behind
    /// its back).
    pub fn auth(&self) -> &sesame::server::Auth {
        self.sesame.auth()
    }

    /// A new account `email` with the demo password (confirmed, no name),
    /// made behind the server's back.
    pub async fn add_user(&self, email: &str) -> sesame::server::UserRecord {
        let password = sesame::server::NewPassword::parse(PASSWORD, &[email]).unwrap();
        self.sesame
            .create_user(email, &password, None)
            .await
            .unwrap()
    }

    /// Another browser on the same server: no cookies yet.
    pub fn new_browser(&self) -> TestApp {
        self.browser_with(BTreeMap::new())
    }

    /// A browser of this server holding `cookies` (another instance's, say).
    pub fn browser_with(&self, cookies: BTreeMap<String, String>) -> TestApp {
        TestApp {
            cookies,
            ..self.clone()
        }
    }

    /// The `Cookie` header this browser sends.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Records the response's cookies (an expired or empty one removes it).
    pub fn keep_cookies(&mut self, res: &Response) {
        for value in res.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, val) = pair.split_once('=').unwrap();
            let expired = value.contains("Max-Age=0") || val.is_empty();
            if expired {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), val.to_string());
            }
        }
    }

    /// A GET as a browser navigation (`Accept: text/html`).
    pub async fn get(&mut self, path: &str) -> Response {
        self.get_with(
            path,
            &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        )
        .await
    }

    /// A GET with the given headers.
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    /// Any request with a same-origin `Origin`.
    pub async fn request(&mut self, method: reqwest::Method, path: &str) -> Response {
        let res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.clone())
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    /// A JSON post with a same-origin `Origin`.
    pub async fn post_json(&mut self, path: &str, body: serde_json::Value) -> Response {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.clone())
            .header(header::COOKIE, self.cookie_header())
            .json(&body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    /// A connection to this server's database.
    pub async fn db(&self) -> sqlx::SqlitePool {
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&self.db_url)
            .await
            .unwrap()
    }

    /// A raw POST with the given content type, body and extra headers.
    pub async fn post_raw(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.clone())
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    /// A same-origin form post, as a browser sends it.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let origin = self.base.clone();
        self.post_form_from(path, fields, Some(&origin)).await
    }

    /// A same-origin form post with extra headers.
    pub async fn post_form_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::ORIGIN, self.base.clone())
            .header(header::COOKIE, self.cookie_header())
            .form(fields);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    /// A form post with the given `Origin` (or none).
    pub async fn post_form_from(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .form(fields);
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        let res = req.send().await.unwrap();
        self.keep_cookies(&res);
        res
    }

    pub async fn csrf_token(&mut self) -> String {
        let res = self.get("/api/auth/csrf").await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        body["csrfToken"].as_str().unwrap().to_string()
    }

    pub async fn session(&mut self) -> serde_json::Value {
        let res = self.get("/api/auth/session").await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The demo user's email and password posted to the credentials callback
    /// with `token`, then `extra` fields (a form post unless `json=true` is one).
    pub async fn post_demo_credentials(&mut self, token: &str, extra: &[(&str, &str)]) -> Response {
        let mut fields = vec![
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrfToken", token),
        ];
        fields.extend_from_slice(extra);
        self.post_form("/api/auth/callback/credentials", &fields)
            .await
    }

    /// The credentials callback with `json=true`.
    pub async fn sign_in_json(&mut self, email: &str, password: &str, callback: &str) -> Response {
        let token = self.csrf_token().await;
        self.post_form(
            "/api/auth/callback/credentials",
            &[
                ("email", email),
                ("password", password),
                ("csrfToken", &token),
                ("callbackUrl", callback),
                ("json", "true"),
            ],
        )
        .await
    }

    pub fn session_cookie(&self) -> Option<String> {
        self.cookies.get("sesame.session-token").cloned()
    }

    /// The CSRF token of this browser's cookie (what its pages carry).
    pub fn cookie_token(&self) -> String {
        let cookie = &self.cookies["sesame.csrf-token"];
        cookie.split('|').next().unwrap().to_string()
    }

    /// Signs this browser in as the demo user (JSON); returns the answer body.
    pub async fn sign_in_demo(&mut self, remember: bool) -> serde_json::Value {
        let token = self.csrf_token().await;
        let remember = if remember { "true" } else { "false" };
        let res = self
            .post_demo_credentials(&token, &[("json", "true"), ("remember", remember)])
            .await;
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// Signs this browser out with `token` (JSON): the status.
    pub async fn sign_out_with(&mut self, token: &str) -> u16 {
        self.post_form(
            "/api/auth/signout",
            &[("csrfToken", token), ("json", "true")],
        )
        .await
        .status()
        .as_u16()
    }

    /// Sets a timestamp of this server's sessions (`signed_in_at` or
    /// `last_seen`) to `seconds_ago`, behind its back (with `cache_ttl = "0s"`,
    /// or the cache serves the old value).
    pub async fn age_session(&self, field: &str, seconds_ago: i64) {
        let db = self.db().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        sqlx::query(&format!(
            "UPDATE sessions SET data = json_set(data, '$.sesame.{field}', ?)"
        ))
        .bind(now - seconds_ago)
        .execute(&db)
        .await
        .unwrap();
    }
}
