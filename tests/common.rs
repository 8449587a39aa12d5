//! Starts the real server on an ephemeral port with its own SQLite database, and
//! speaks HTTP to it like a browser would (cookies kept by hand, so a test can
//! replay or drop one).
#![allow(dead_code)]

use std::collections::BTreeMap;

use leptos::prelude::LeptosOptions;
use reqwest::{header, redirect::Policy, Response};
use sesame::auth::server::config::Config;

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "open sesame, demo";
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
    pub auth: sesame::auth::server::Auth,
    _dir: tempfile::TempDir,
}

/// A server with the default test configuration plus `extra` TOML lines.
pub async fn spawn(extra: &str) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"
        secret = "{SECRET}"
        data_dir = "{data}"
        [site]
        url = "http://{addr}"
        [database]
        url = "sqlite://{data}/test.db"
        [demo_user]
        email = "{EMAIL}"
        password = "{PASSWORD}"
        name = "Demo User"
        {extra}
        "#,
        data = dir.path().display(),
    );
    let config = Config::from_toml_str(&toml).expect("test config");
    let options = LeptosOptions::builder()
        .output_name("sesame")
        .site_root(dir.path().display().to_string())
        .site_addr(addr)
        .build();
    let (app, auth) = sesame::server::build(config, options)
        .await
        .expect("app builds");
    tokio::spawn(sesame::server::serve(listener, app));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        cookies: BTreeMap::new(),
        auth,
        _dir: dir,
    }
}

impl TestApp {
    fn cookie_header(&self) -> String {
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

    pub async fn get(&mut self, path: &str) -> Response {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&res);
        res
    }

    /// A same-origin form post, as a browser sends it.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let origin = self.base.clone();
        self.post_form_from(path, fields, Some(&origin)).await
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
}
