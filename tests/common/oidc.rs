//! The real OpenID Connect provider for the tests: npm `oidc-provider`
//! (`dev/oidc`, installed by `scripts/setup.sh`) on a free loopback port,
//! started by this test process and stopped with it; and a user's side of
//! its pages (the login form, then consent, which it gives at once), spoken
//! over HTTP as a browser would.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

use reqwest::{header, redirect::Policy};

/// The provider's password for every test user.
pub const PASSWORD: &str = "secret";

/// A running provider.
pub struct Oidc {
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
    child: Child,
    /// Its stdin: closed when this process exits, which ends the provider
    /// (the shared one lives in a static, never dropped).
    _stdin: std::process::ChildStdin,
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Oidc {
    /// Starts one (each test binary shares [`oidc`]; a test that rotates
    /// the keys starts its own).
    pub fn start() -> Oidc {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/dev/oidc");
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg("0")
            .current_dir(dir)
            .env("SESAME_OIDC_EXIT_WITH_STDIN", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs dev/oidc/server.mjs (scripts/setup.sh installs it)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        while !line.starts_with("listening ") {
            line.clear();
            let read = out.read_line(&mut line).unwrap();
            assert!(read > 0, "the provider started");
        }
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).is_ok_and(|n| n > 0) {
                sink.clear();
            }
        });
        Oidc {
            issuer: line.trim().trim_start_matches("listening ").to_string(),
            child,
            _stdin: stdin,
        }
    }

    /// The TOML of a `[[providers]]` entry for it.
    pub fn provider_toml(&self, id: &str, extra: &str) -> String {
        let (client, secret) = if id == "oidc-form-post" {
            ("sesame-form-post", "sesame-form-post-secret")
        } else {
            ("sesame-dev", "sesame-dev-secret")
        };
        format!(
            r#"
            [[providers]]
            id = "{id}"
            kind = "oidc"
            issuer = "{issuer}"
            client_id = "{client}"
            client_secret = "{secret}"
            {extra}
            "#,
            issuer = self.issuer
        )
    }

    /// The GitHub preset pointed at this provider's plain OAuth 2.0 side.
    pub fn github_toml(&self) -> String {
        format!(
            r#"
            [[providers]]
            id = "github-test"
            kind = "github"
            name = "GitHub (test)"
            authorization_url = "{i}/auth"
            token_url = "{i}/token"
            userinfo_url = "{i}/github/user"
            emails_url = "{i}/github/user/emails"
            client_id = "sesame-dev"
            client_secret = "sesame-dev-secret"
            "#,
            i = self.issuer
        )
    }

    /// How many requests followed a redirect of `/test/moved/{key}/...`.
    pub async fn landed(&self, key: &str) -> u64 {
        let res = reqwest::Client::new()
            .get(format!("{}/test/landed/{key}", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        body["hits"].as_u64().unwrap()
    }

    /// A new signing key; the old one is gone from its JWKS.
    pub async fn rotate_keys(&self) {
        let res = reqwest::Client::new()
            .post(format!("{}/test/rotate-keys", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// The provider shared by a test binary.
pub fn oidc() -> &'static Oidc {
    static OIDC: OnceLock<Oidc> = OnceLock::new();
    OIDC.get_or_init(Oidc::start)
}

/// How the provider sends the browser back to the app.
#[derive(Debug, Clone)]
pub enum Back {
    /// A redirect to this URL (`?code=&state=&iss=`).
    Redirect(String),
    /// A page that posts this form to `action` (`response_mode=form_post`).
    FormPost {
        action: String,
        fields: Vec<(String, String)>,
    },
}

impl Back {
    /// The redirect's URL.
    pub fn url(&self) -> &str {
        match self {
            Back::Redirect(url) => url,
            Back::FormPost { .. } => panic!("a form post, not a redirect: {self:?}"),
        }
    }
}

/// The user's side at the provider: follows `url` through the login form
/// (as `login`) and consent to the answer for the app.
pub async fn sign_in_at_provider(url: &str, login: &str) -> Back {
    let browser = reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let issuer = oidc_origin(url);
    let mut next = url.to_string();
    let mut posted = false;
    for _ in 0..12 {
        if !next.starts_with(&issuer) {
            return Back::Redirect(next);
        }
        let res = browser.get(&next).send().await.unwrap();
        if let Some(location) = res.headers().get(header::LOCATION) {
            let location = location.to_str().unwrap();
            next = if location.starts_with('/') {
                format!("{issuer}{location}")
            } else {
                location.to_string()
            };
            continue;
        }
        let status = res.status();
        let page = res.text().await.unwrap();
        assert_eq!(status, 200, "{page}");
        if let Some(action) = form_action(&page).filter(|a| a.ends_with("/login")) {
            assert!(!posted, "the provider refused the login: {page}");
            posted = true;
            let res = browser
                .post(format!("{issuer}{action}"))
                .form(&[("login", login), ("password", PASSWORD)])
                .send()
                .await
                .unwrap();
            let location = res
                .headers()
                .get(header::LOCATION)
                .map(|l| l.to_str().unwrap().to_string());
            match location {
                Some(l) if l.starts_with('/') => next = format!("{issuer}{l}"),
                Some(l) => next = l,
                None => panic!("the login was refused: {}", res.text().await.unwrap()),
            }
            continue;
        }
        if let Some(action) = form_action(&page) {
            return Back::FormPost {
                action,
                fields: hidden_inputs(&page),
            };
        }
        panic!("an unexpected page at the provider: {page}");
    }
    panic!("too many steps at the provider");
}

fn oidc_origin(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    parsed.origin().ascii_serialization()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(html_unescape(&tag[start..end]))
}

fn html_unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&#47;", "/")
}

fn form_action(page: &str) -> Option<String> {
    let start = page.find("<form")?;
    let tag = &page[start..start + page[start..].find('>')?];
    attr(tag, "action")
}

fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    page.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}
