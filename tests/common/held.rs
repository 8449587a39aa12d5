//! An application `sign_in` callback that, once armed, holds every sign-in
//! reaching it (after the second factor's gate, before the session is
//! stored) until the test lets it go: a race put in a known order.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Held {
    armed: Arc<AtomicBool>,
    reached: Arc<Semaphore>,
    release: Arc<Semaphore>,
}

impl Held {
    pub fn new() -> Held {
        Held {
            armed: Arc::new(AtomicBool::new(false)),
            reached: Arc::new(Semaphore::new(0)),
            release: Arc::new(Semaphore::new(0)),
        }
    }

    /// From now on, sign-ins wait in the callback.
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Waits until `n` sign-ins wait in the callback (failing the test if
    /// they do not within 30 s), and holds no later one.
    pub async fn reached(&self, n: u32) {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.reached.acquire_many(n),
        )
        .await
        .expect("the sign-ins reached the callback")
        .unwrap()
        .forget();
        self.armed.store(false, Ordering::SeqCst);
    }

    /// Lets `n` waiting sign-ins go on.
    pub fn release(&self, n: usize) {
        self.release.add_permits(n);
    }
}

#[sesame::server::async_trait]
impl sesame::server::Callbacks<sesame_app::user::AppUser> for Held {
    async fn sign_in_with_factors(
        &self,
        _user: &sesame_app::user::AppUser,
        _amr: &[String],
        _profile: Option<&sesame::server::ProviderProfile>,
    ) -> sesame::server::SignInDecision {
        if self.armed.load(Ordering::SeqCst) {
            self.reached.add_permits(1);
            self.release.acquire().await.unwrap().forget();
        }
        sesame::server::SignInDecision::Allow
    }
}

/// Signs in `email` (the test password) from `n` new browsers of `app` at
/// once; each waits in `held`'s callback until released. The tasks give
/// back each browser and its answer's status.
pub fn sign_ins(
    app: &super::TestApp,
    email: &str,
    n: usize,
) -> Vec<tokio::task::JoinHandle<(super::TestApp, u16)>> {
    (0..n)
        .map(|_| {
            let (mut browser, email) = (app.new_browser(), email.to_string());
            tokio::spawn(async move {
                let res = browser.sign_in_json(&email, super::PASSWORD, "/").await;
                let status = res.status().as_u16();
                (browser, status)
            })
        })
        .collect()
}

/// Waits for `sign_ins` (of `email`) to end, and checks each: refused as
/// having raced the end of its sessions (503: its insert came after a
/// factor was added), holding no session, and its next try asked for the
/// second factor. `what` names the case.
pub async fn ended_without_a_session(
    sign_ins: Vec<tokio::task::JoinHandle<(super::TestApp, u16)>>,
    email: &str,
    what: &str,
) {
    for task in sign_ins {
        let (mut browser, status) = task.await.unwrap();
        assert_eq!(status, 503, "{what}");
        assert!(
            browser.session().await.as_object().unwrap().is_empty(),
            "{what}: a password alone signed in after the factor was added"
        );
        let res = browser.sign_in_json(email, super::PASSWORD, "/").await;
        assert_eq!(res.status(), 401, "{what}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "SecondFactorRequired", "{what}");
    }
}
