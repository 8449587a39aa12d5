//! Live session state in the browser: `SessionProvider`, `use_session()` and
//! `<RequireAuth>` (next-auth/react's `SessionProvider` and `useSession`).
//!
//! The provider loads the session on the server before the page is sent and
//! carries it to the browser in the hydration data, so a signed-in page never
//! flashes signed-out content. In the browser it then refetches on window focus
//! (with a cooldown), on an interval, and when another tab signs in or out
//! (a `BroadcastChannel` named `sesame`, through leptos-use).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{load_session, Session, SIGN_IN_PATH};

/// `loading`, `authenticated` or `unauthenticated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Loading,
    Authenticated,
    Unauthenticated,
}

/// The session state of a page; `Copy`, from [`use_session_state`].
#[derive(Clone, Copy)]
pub struct SessionState {
    /// The session as the server rendered it.
    initial: Resource<Option<Session>>,
    /// The session as last fetched in the browser, once it has been.
    fetched: RwSignal<Option<Option<Session>>>,
    /// When the session was last fetched (ms since the epoch), for the focus cooldown.
    last_fetch: StoredValue<f64>,
}

impl SessionState {
    /// The session, `None` while loading or when signed out.
    pub fn data(&self) -> Option<Session> {
        match self.fetched.get() {
            Some(session) => session,
            None => self.initial.get().flatten(),
        }
    }

    pub fn status(&self) -> SessionStatus {
        let session = match self.fetched.get() {
            Some(session) => Some(session),
            None => self.initial.get(),
        };
        match session {
            None => SessionStatus::Loading,
            Some(Some(_)) => SessionStatus::Authenticated,
            Some(None) => SessionStatus::Unauthenticated,
        }
    }

    /// Replaces the session state (after a sign-in, sign-out or update).
    pub fn set(&self, session: Option<Session>) {
        self.last_fetch.set_value(now_ms());
        self.fetched.set(Some(session));
    }

    /// Fetches the session from the server again.
    pub fn refetch(&self) {
        #[cfg(feature = "hydrate")]
        {
            let state = *self;
            state.last_fetch.set_value(now_ms());
            leptos::task::spawn_local(async move {
                if let Ok(session) = super::get_session().await {
                    state.set(session);
                }
            });
        }
    }

    /// Sends `data` to POST `/api/auth/session`; the answer becomes the session
    /// of this page and the other tabs (next-auth/react's `update(data)`).
    pub async fn update(
        &self,
        data: serde_json::Value,
    ) -> Result<Option<Session>, super::ClientError> {
        super::client::update_session(data).await
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        web_sys::js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// What [`use_session`] returns.
#[derive(Clone, Copy)]
pub struct UseSession {
    pub data: Signal<Option<Session>>,
    pub status: Signal<SessionStatus>,
    pub state: SessionState,
}

/// Options of [`use_session`].
#[derive(Debug, Clone, Copy, Default)]
pub struct UseSessionOptions {
    /// Send a signed-out visitor to the sign-in page with `error=SessionRequired`
    /// and `callbackUrl` = this page.
    pub required: bool,
}

/// The [`SessionState`] of the nearest [`SessionProvider`].
pub fn use_session_state() -> SessionState {
    expect_context::<SessionState>()
}

/// The session and its status (next-auth/react's `useSession`).
pub fn use_session(options: UseSessionOptions) -> UseSession {
    let state = use_session_state();
    if options.required {
        let location = use_location();
        Effect::new(move |_| {
            if state.status() == SessionStatus::Unauthenticated {
                let here = format!(
                    "{}{}",
                    location.pathname.get_untracked(),
                    location.search.get_untracked()
                );
                super::client::navigate(&sign_in_url(&here, true));
            }
        });
    }
    UseSession {
        data: Signal::derive(move || state.data()),
        status: Signal::derive(move || state.status()),
        state,
    }
}

/// The sign-in page URL with `callbackUrl` (and `error=SessionRequired`).
pub fn sign_in_url(callback_url: &str, session_required: bool) -> String {
    super::sign_in_page_url(
        SIGN_IN_PATH,
        session_required.then_some(super::AuthError::SessionRequired),
        Some(callback_url),
    )
}

/// Holds the session state for its children.
#[component]
pub fn SessionProvider(
    /// Refetch the session every this many seconds (0: never).
    #[prop(default = 0)]
    refetch_interval: u64,
    /// Refetch when the window becomes visible again (at most every 5 s).
    #[prop(default = true)]
    refetch_on_window_focus: bool,
    /// Keep polling while the browser is offline.
    #[prop(default = false)]
    refetch_when_offline: bool,
    children: Children,
) -> impl IntoView {
    let state = SessionState {
        initial: Resource::new_blocking(|| (), |_| load_session()),
        fetched: RwSignal::new(None),
        last_fetch: StoredValue::new(now_ms()),
    };
    provide_context(state);
    #[cfg(feature = "hydrate")]
    browser::watch(
        state,
        refetch_interval,
        refetch_on_window_focus,
        refetch_when_offline,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (
        refetch_interval,
        refetch_on_window_focus,
        refetch_when_offline,
    );
    children()
}

/// Shows its children to a signed-in user; sends anyone else to the sign-in page
/// with `callbackUrl` back here (a 302 on the server, a navigation in the browser).
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let state = use_session_state();
    let location = use_location();
    let children = StoredValue::new(children);
    let (_, messages) = crate::i18n::use_i18n();
    view! {
        <Suspense fallback=move || view! { <p>{messages.loading}</p> }>
            {move || match state.status() {
                SessionStatus::Loading => view! { <p>{messages.loading}</p> }.into_any(),
                SessionStatus::Authenticated => children.with_value(|c| c()).into_any(),
                SessionStatus::Unauthenticated => {
                    let here = format!(
                        "{}{}",
                        location.pathname.get_untracked(),
                        location.search.get_untracked()
                    );
                    let target = sign_in_url(&here, false);
                    #[cfg(feature = "ssr")]
                    leptos_axum::redirect(&target);
                    #[cfg(not(feature = "ssr"))]
                    super::client::navigate(&target);
                    view! { <p>{messages.redirecting}</p> }.into_any()
                }
            }}
        </Suspense>
    }
}

/// Tells the other tabs that the session changed and, with `here`, updates this
/// tab's state too (not when the tab is about to navigate away: a protected page
/// would otherwise race the navigation with its own redirect).
#[cfg(feature = "hydrate")]
pub(crate) fn publish(session: Option<Session>, here: bool) {
    browser::publish(session, here);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::{cell::RefCell, rc::Rc};

    use codee::string::FromToStringCodec;
    use leptos_use::{use_broadcast_channel, use_document_visibility, use_interval_fn};

    use super::*;

    type Post = Rc<dyn Fn(&String)>;

    thread_local! {
        static ACTIVE: RefCell<Option<(SessionState, Post)>> = const { RefCell::new(None) };
    }

    const FOCUS_COOLDOWN_MS: f64 = 5_000.0;

    pub(super) fn watch(state: SessionState, interval_s: u64, on_focus: bool, when_offline: bool) {
        let channel = use_broadcast_channel::<String, FromToStringCodec>("sesame");
        let post = channel.post.clone();
        ACTIVE.with(|a| *a.borrow_mut() = Some((state, Rc::new(move |m: &String| post(m)))));
        on_cleanup(|| ACTIVE.with(|a| *a.borrow_mut() = None));

        // Another tab signed in or out: fetch the session.
        let message = channel.message;
        Effect::new(move |_| {
            if message.get().is_some() {
                state.refetch();
            }
        });

        if on_focus {
            let visibility = use_document_visibility();
            Effect::new(move |_| {
                if visibility.get() == web_sys::VisibilityState::Visible
                    && now_ms() - state.last_fetch.get_value() > FOCUS_COOLDOWN_MS
                {
                    state.refetch();
                }
            });
        }

        if interval_s > 0 {
            let _ = use_interval_fn(
                move || {
                    let online = web_sys::window()
                        .map(|w| w.navigator().on_line())
                        .unwrap_or(true);
                    if online || when_offline {
                        state.refetch();
                    }
                },
                interval_s * 1000,
            );
        }
    }

    pub(super) fn publish(session: Option<Session>, here: bool) {
        ACTIVE.with(|a| {
            if let Some((state, post)) = a.borrow().as_ref() {
                if here {
                    state.set(session);
                }
                post(&format!("session:{}", now_ms() as u64));
            }
        });
    }
}
