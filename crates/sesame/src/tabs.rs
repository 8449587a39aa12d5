//! The tabs of this browser, told when the session changes: the client API
//! publishes a change here; the page's session state (in
//! [`session_state`](crate::session_state)) listens, and the other tabs get a
//! message on a `BroadcastChannel` and refetch. The bottom of the browser
//! side: it knows sessions, not the state or the client that use it.

use std::cell::RefCell;

use crate::Session;

/// What hears of this tab's own changes.
type Listener = Box<dyn Fn(Option<Session>)>;

thread_local! {
    /// This tab's listener (the page's session state), once it exists.
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
    /// The latest session this tab published, for a state created after it.
    static LATEST: RefCell<Option<Option<Session>>> = const { RefCell::new(None) };
    static CHANNEL: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
}

/// Tells the other tabs that the session changed and, with `here`, this tab's
/// state too (not when the tab is about to navigate away: a protected page
/// would otherwise race the navigation with its own redirect).
pub(crate) fn publish(session: Option<Session>, here: bool) {
    if here {
        LATEST.with(|l| *l.borrow_mut() = Some(session.clone()));
        LISTENER.with(|l| {
            if let Some(listener) = l.borrow().as_ref() {
                listener(session);
            }
        });
    }
    // Any message will do: the other tabs refetch.
    with_channel(|channel| {
        let _ = channel.post_message(&wasm_bindgen::JsValue::TRUE);
    });
}

/// Sets this tab's listener; returns the session this tab published before
/// (`Some(None)`: it signed out), which is newer than the page's.
pub(crate) fn listen_here(listener: impl Fn(Option<Session>) + 'static) -> Option<Option<Session>> {
    LISTENER.with(|l| *l.borrow_mut() = Some(Box::new(listener)));
    LATEST.with(|l| l.borrow().clone())
}

/// The tab channel, opened on first use.
pub(crate) fn with_channel(f: impl FnOnce(&web_sys::BroadcastChannel)) {
    CHANNEL.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = web_sys::BroadcastChannel::new("sesame").ok();
        }
        if let Some(channel) = c.as_ref() {
            f(channel);
        }
    });
}
