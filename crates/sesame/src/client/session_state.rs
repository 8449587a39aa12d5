//! Live session state in the browser: `SessionProvider`, `use_session()` and
//! `<RequireAuth>` (next-auth/react's `SessionProvider` and `useSession`).
//!
//! Pages are server-rendered and only their interactive parts (islands) are
//! hydrated. The server reads the session before rendering (the page session,
//! see `server::preload_session`) and writes it into
//! `<meta name="sesame-session">`; in the browser every island shares one
//! [`SessionState`] built from that meta, so a signed-in page never flashes
//! signed-out content and no island fetches the session to start with. Once an
//! island uses it, the state refetches on window focus (with a cooldown), on the
//! [`SessionProvider`]'s interval, when the browser comes back online, and
//! when another tab signs in or out (a `BroadcastChannel` named `sesame`).

use leptos::prelude::*;

use crate::{wire::routes, wire::Session};

/// `loading`, `authenticated` or `unauthenticated`. Sesame knows the session
/// when the page arrives, so `Loading` is never current; it stays for
/// next-auth/react's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Never current: kept for next-auth/react's vocabulary.
    Loading,
    /// Signed in.
    Authenticated,
    /// Signed out.
    Unauthenticated,
}

/// The session state of a page; `Copy`, from [`use_session_state`].
#[derive(Clone, Copy)]
pub struct SessionState {
    session: RwSignal<Option<Session>>,
}

impl SessionState {
    fn new(session: Option<Session>) -> Self {
        SessionState {
            session: RwSignal::new(session),
        }
    }

    /// The session, `None` when signed out.
    pub fn data(&self) -> Option<Session> {
        self.session.get()
    }

    /// Signed in or out, now.
    pub fn status(&self) -> SessionStatus {
        if self.session.with(Option::is_some) {
            SessionStatus::Authenticated
        } else {
            SessionStatus::Unauthenticated
        }
    }

    /// Replaces the session state (after a sign-in, sign-out or update).
    pub fn set(&self, session: Option<Session>) {
        #[cfg(feature = "hydrate")]
        {
            browser::fetched();
            crate::client::tabs::seen(session.as_ref().map(|s| s.user.email.as_str()));
        }
        self.session.set(session);
    }

    /// Fetches the session from the server again. A fetch that fails (the
    /// network, or the server's answer) leaves the state as it was and is
    /// tried again 1, 2, 4 and 8 s later, unless something newer (another
    /// fetch, a change made here) came first.
    pub fn refetch(&self) {
        #[cfg(feature = "hydrate")]
        browser::refetch(*self, 0);
    }

    /// Sends `data` to POST `/api/auth/session`; the answer becomes the session
    /// of this page and the other tabs (next-auth/react's `update(data)`).
    pub async fn update(
        &self,
        data: serde_json::Value,
    ) -> Result<Option<Session>, crate::ClientError> {
        crate::client::update_session(data).await
    }
}

/// What [`use_session`] returns.
#[derive(Clone, Copy)]
pub struct UseSession {
    /// The session, `None` when signed out.
    pub data: Signal<Option<Session>>,
    /// Signed in or out.
    pub status: Signal<SessionStatus>,
    /// The shared state, for `update` and `refetch`.
    pub state: SessionState,
}

/// Options of [`use_session`].
#[derive(Debug, Clone, Copy, Default)]
pub struct UseSessionOptions {
    /// Send a signed-out visitor to the sign-in page with `error=SessionRequired`
    /// and `callbackUrl` = this page.
    pub required: bool,
}

/// The page's [`SessionState`]: on the server the request's (read before the
/// page renders), in the browser the one state all islands share.
pub fn use_session_state() -> SessionState {
    #[cfg(feature = "ssr")]
    {
        use_context::<SessionState>().unwrap_or_else(|| {
            let state = SessionState::new(crate::page::page_session());
            provide_context(state);
            state
        })
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        browser::PAGE_STATE.with(|state| *state)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        SessionState::new(None)
    }
}

/// The session and its status (next-auth/react's `useSession`).
pub fn use_session(options: UseSessionOptions) -> UseSession {
    let state = use_session_state();
    if options.required {
        require(state, true);
    }
    UseSession {
        data: Signal::derive(move || state.data()),
        status: Signal::derive(move || state.status()),
        state,
    }
}

/// In the browser: as soon as `state` is signed out, go to the sign-in page with
/// `callbackUrl` = this page (and `error=SessionRequired` when `session_required`).
fn require(state: SessionState, session_required: bool) {
    Effect::new(move |_| {
        if state.status() == SessionStatus::Unauthenticated {
            crate::page::navigate(&sign_in_url(&crate::page::here(), session_required));
        }
    });
}

/// The sign-in page URL with `callbackUrl` (and `error=SessionRequired`).
pub fn sign_in_url(callback_url: &str, session_required: bool) -> String {
    crate::wire::routes::sign_in_page_url(
        routes::SIGN_IN,
        session_required.then_some(crate::wire::AuthError::SessionRequired),
        Some(callback_url),
    )
}

/// Keeps the page's session state fresh (next-auth/react's `SessionProvider`).
/// Its options travel to the browser as attributes of a hidden
/// `<sesame-session>` element; the state starts watching focus, the interval,
/// the network coming back and the other tabs once an island uses it, so a
/// page whose islands never read the session (the sign-in page) runs none of
/// it.
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
    // Resolve the state once for the whole render.
    let _ = use_session_state();
    view! {
        <sesame-session
            hidden
            data-refetch-interval=refetch_interval.to_string()
            data-refetch-on-focus=refetch_on_window_focus.then_some("")
            data-refetch-when-offline=refetch_when_offline.then_some("")
        ></sesame-session>
        {children()}
    }
}

/// Shows its children to a signed-in user; sends anyone else to the sign-in page
/// with `callbackUrl` back here: a 302 from the server, and a navigation in the
/// browser as soon as the session ends (signed out here or in another tab).
#[component]
pub fn RequireAuth(children: Children) -> impl IntoView {
    use leptos::either::Either;
    let state = use_session_state();
    if state.status() == SessionStatus::Authenticated {
        Either::Left(view! {
            {children()}
            <SessionRequired />
        })
    } else {
        #[cfg(feature = "ssr")]
        leptos_axum::redirect(&sign_in_url(&crate::page::here(), false));
        let (_, messages) = crate::i18n::use_i18n();
        Either::Right(view! { <p>{messages.redirecting}</p> })
    }
}

use required::SessionRequired;

// The island macro exports an undocumented hydration entry point, which
// takes no attribute: hence a module of its own.
#[allow(missing_docs)]
mod required {
    use leptos::prelude::*;

    use super::{require, use_session_state};

    /// The browser half of [`RequireAuth`](crate::RequireAuth): leaves the
    /// page when the session ends.
    #[island(lazy)]
    pub(super) fn SessionRequired() -> impl IntoView {
        require(use_session_state(), false);
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The watchers, on the browser's own events and timers. leptos-use has
    //! them too, but its generic reactive wrappers (filters, watch effects,
    //! send wrappers) cost about 25 KB of WASM, a third of what the sign-in
    //! page may download in all.
    use std::cell::Cell;

    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::VisibilityState;

    use super::*;

    thread_local! {
        /// The page's one session state, from `<meta name="sesame-session">`,
        /// owned by a root that lives as long as the page; watched from its
        /// first use.
        pub(super) static PAGE_STATE: SessionState = {
            let owner = Owner::new_root(None);
            let state = owner.with(|| SessionState::new(crate::page::page_session()));
            std::mem::forget(owner);
            let latest = crate::client::tabs::listen_here(move |s| {
                // This tab's own change is newer than any fetch in flight.
                next_generation();
                state.set(s)
            });
            // Listening to the other tabs first, then reading the stamp of
            // the last change (which a tab writes before its message): a
            // change made meanwhile is seen one way or the other.
            watch(state);
            if let Some(latest) = latest {
                // A session this tab published before the state existed is
                // newer than the page's.
                state.set(latest);
            } else if crate::client::tabs::changed_since_page_load() {
                // Another tab signed in or out while this page loaded.
                state.refetch();
            }
            // This page shows another session than this tab's last one did,
            // and no change here told the other tabs (a form posted before
            // JavaScript ran, a session ended on the server): tell them now.
            // After the stamp was read above, which this overwrites.
            let email = state.session.with_untracked(|s| s.as_ref().map(|s| s.user.email.clone()));
            if crate::client::tabs::seen(email.as_deref()) {
                crate::client::tabs::tell_others();
            }
            state
        };
        /// When the session was last fetched (ms since the epoch), for the focus cooldown.
        static LAST_FETCH: Cell<f64> = Cell::new(now_ms());
        /// The number of the latest fetch started or change made here.
        static GENERATION: Cell<u64> = const { Cell::new(0) };
    }

    /// A new generation: answers of fetches started before it are stale.
    fn next_generation() -> u64 {
        GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        })
    }

    /// Whether `generation` is still the latest.
    fn is_latest(generation: u64) -> bool {
        GENERATION.with(Cell::get) == generation
    }

    /// How many times a failed fetch is tried again.
    const RETRIES: u32 = 4;
    /// The first retry's delay; each next one waits twice as long (1, 2, 4,
    /// 8 s: an exponential back-off, as SWR's retries of a failed fetch).
    const FIRST_RETRY_MS: i32 = 1_000;

    /// Fetches the session; `attempt` 0 is the first try.
    pub(super) fn refetch(state: SessionState, attempt: u32) {
        let generation = fetched();
        leptos::task::spawn_local(async move {
            let fetched = crate::get_session().await;
            // Fetches finish in any order: only the latest one started (and
            // no session this tab set itself since) may set the state or try
            // again, or an older answer could bring a signed-out tab back to
            // signed in.
            if !is_latest(generation) {
                return;
            }
            match fetched {
                Ok(session) => state.set(session),
                Err(_) if attempt < RETRIES => {
                    let Some(window) = web_sys::window() else {
                        return;
                    };
                    let retry = Closure::once_into_js(move || {
                        if is_latest(generation) {
                            refetch(state, attempt + 1);
                        }
                    });
                    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                        retry.unchecked_ref(),
                        FIRST_RETRY_MS << attempt,
                    );
                }
                // Kept as it is until the next trigger (focus, interval,
                // coming back online, another tab).
                Err(_) => {}
            }
        });
    }

    const FOCUS_COOLDOWN_MS: f64 = 5_000.0;

    fn now_ms() -> f64 {
        web_sys::js_sys::Date::now()
    }

    /// Records a fetch starting now; its generation.
    pub(super) fn fetched() -> u64 {
        LAST_FETCH.with(|t| t.set(now_ms()));
        next_generation()
    }

    /// The `SessionProvider` options, from the attributes of `<sesame-session>`.
    fn options(document: &web_sys::Document) -> (i32, bool, bool) {
        let Some(el) = document.query_selector("sesame-session").ok().flatten() else {
            return (0, true, false);
        };
        let interval = el
            .get_attribute("data-refetch-interval")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (
            interval,
            el.has_attribute("data-refetch-on-focus"),
            el.has_attribute("data-refetch-when-offline"),
        )
    }

    /// Runs `f` on each `event` of `target`, for the life of the page.
    fn listen(target: &web_sys::EventTarget, event: &str, mut f: impl FnMut() + 'static) {
        listen_to(target, event, move |_| f());
    }

    /// Runs `f` with each `event` of `target`, for the life of the page.
    fn listen_to(
        target: &web_sys::EventTarget,
        event: &str,
        f: impl FnMut(wasm_bindgen::JsValue) + 'static,
    ) {
        let f = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(f);
        let _ = target.add_event_listener_with_callback(event, f.as_ref().unchecked_ref());
        f.forget();
    }

    /// Another tab changed the session at `at` (ms since the epoch; NaN
    /// when unknown): fetch it, unless a fetch started after that
    /// millisecond (the same change comes by message and by `storage`
    /// event).
    fn changed_elsewhere(state: SessionState, at: f64) {
        if at.is_nan() || LAST_FETCH.with(Cell::get) <= at {
            state.refetch();
        }
    }

    fn watch(state: SessionState) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Some(document) = window.document() else {
            return;
        };
        let (interval_s, on_focus, when_offline) = options(&document);
        // The page's session came with the page: the focus cooldown counts
        // from now (left to its first read, it started at the first focus,
        // which then never fetched).
        LAST_FETCH.with(|t| t.set(now_ms()));

        // Another tab signed in or out: fetch the session. Its message, or
        // its stamp in `localStorage`, whichever comes first.
        crate::client::tabs::with_channel(|channel| {
            listen_to(channel, "message", move |event| {
                changed_elsewhere(state, crate::client::tabs::change_in_message(&event))
            })
        });
        listen_to(&window, "storage", move |event| {
            if let Some(at) = crate::client::tabs::change_in_storage(&event) {
                changed_elsewhere(state, at);
            }
        });

        // Back online: a change made meanwhile was missed, and a failed
        // fetch may have spent its retries. Fetch, as Better Auth's client
        // and SWR do.
        listen(&window, "online", move || state.refetch());

        if on_focus {
            let doc = document.clone();
            listen(&document, "visibilitychange", move || {
                if doc.visibility_state() == VisibilityState::Visible
                    && now_ms() - LAST_FETCH.with(Cell::get) > FOCUS_COOLDOWN_MS
                {
                    state.refetch();
                }
            });
        }

        if interval_s > 0 {
            let navigator = window.navigator();
            let tick = Closure::<dyn FnMut()>::new(move || {
                if when_offline || navigator.on_line() {
                    state.refetch();
                }
            });
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                interval_s.saturating_mul(1000),
            );
            tick.forget();
        }
    }
}
