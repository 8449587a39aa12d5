//! The tabs of this browser, told when the session changes: the client API
//! publishes a change here; the page's session state (in
//! [`session_state`](crate::client::session_state)) listens, and the other tabs get a
//! message on a `BroadcastChannel` and refetch. The moment of the last
//! change is kept in `localStorage` too: a tab whose page was requested
//! before a change and hydrates after it refetches when it starts
//! ([`changed_since_page_load`]), and a listening tab hears of it by the
//! `storage` event as well ([`change_in_storage`]). A page that shows
//! another session than its tab's last page (a form posted without
//! JavaScript) tells the others itself ([`seen`]). The bottom of the
//! browser side: it knows sessions, not the state or the client that use it.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

use crate::{client::js, wire::Session};

/// What hears of this tab's own changes: the session as the server sent it
/// (a JS object; null or `{}` when signed out), read into a [`Session`] by
/// the listener only. The client API publishes without reading it, so the
/// sign-in page's main module has no session parser.
type Listener = Box<dyn Fn(&JsValue)>;

thread_local! {
    /// This tab's listener (the page's session state), once it exists.
    static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
    /// The latest session this tab published, for a state created after it.
    static LATEST: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    static CHANNEL: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
}

/// Tells the other tabs that the session changed and, with `here`, this tab's
/// state too (not when the tab is about to navigate away: a protected page
/// would otherwise race the navigation with its own redirect).
pub(crate) fn publish(session: JsValue, here: bool) {
    let user = js::field(&session, "user");
    seen(js::string(&user, "email").as_deref());
    if here {
        LATEST.with(|l| *l.borrow_mut() = Some(session.clone()));
        LISTENER.with(|l| {
            if let Some(listener) = l.borrow().as_ref() {
                listener(&session);
            }
        });
    }
    tell_others();
}

/// Tells the other tabs that the session changed (they refetch), leaving
/// this tab's state alone.
pub(crate) fn tell_others() {
    // When, for the tabs that were not listening yet; this tab keeps its own
    // stamp (in its `sessionStorage`, which outlives its navigation) so that
    // its next page does not take its own change for another tab's.
    // Whole milliseconds: formatting an `f64` would add Rust's float printer.
    let at = web_sys::js_sys::Date::now().floor();
    let now = (at as u64).to_string();
    for storage in [storage(), own_storage()].into_iter().flatten() {
        let _ = storage.set_item(CHANGED_KEY, &now);
    }
    // Then the message, with the same moment. In this order, a tab that
    // starts listening meanwhile either gets the message or, as it checks
    // the stamp after it starts listening, finds the stamp; and should the
    // stamp reach its process only after that check (`localStorage` is
    // copied between processes), the `storage` event brings it
    // ([`change_in_storage`]).
    with_channel(|channel| {
        let _ = channel.post_message(&wasm_bindgen::JsValue::from_f64(at));
    });
}

/// When the change a channel message tells of was made (ms since the
/// epoch; NaN when the message does not say).
pub(crate) fn change_in_message(event: &wasm_bindgen::JsValue) -> f64 {
    web_sys::js_sys::Reflect::get(event, &"data".into())
        .ok()
        .and_then(|data| data.as_f64())
        .unwrap_or(f64::NAN)
}

/// When the change a `storage` event tells of was made, if it is the stamp
/// of a change.
pub(crate) fn change_in_storage(event: &wasm_bindgen::JsValue) -> Option<f64> {
    let field = |name: &str| {
        web_sys::js_sys::Reflect::get(event, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    if field("key")? != CHANGED_KEY {
        return None;
    }
    Some(web_sys::js_sys::Number::parse_float(&field("newValue")?))
}

/// Where the moment of the last change is kept (milliseconds since the epoch).
const CHANGED_KEY: &str = "sesame.session-changed";

/// Where this tab keeps whom it last showed signed in (the email; empty when
/// signed out), in its `sessionStorage`.
const SEEN_KEY: &str = "sesame.session-seen";

/// Records whom this tab shows signed in now; whether that differs from
/// what it showed before (never on the tab's first record). A page that
/// starts with a difference saw a change the client API did not make, so no
/// tab was told: a form posted before (or without) JavaScript, a session
/// that ended on the server.
pub(crate) fn seen(email: Option<&str>) -> bool {
    let Some(storage) = own_storage() else {
        return false;
    };
    let now = email.unwrap_or("");
    let before = storage.get_item(SEEN_KEY).ok().flatten();
    let _ = storage.set_item(SEEN_KEY, now);
    before.is_some_and(|before| before != now)
}

/// The browser's `localStorage`, shared by its tabs.
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// This tab's `sessionStorage`.
fn own_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Whether another tab changed the session after this page was requested:
/// the page's own session may then be stale, and no message told this tab
/// (it was not listening yet).
pub(crate) fn changed_since_page_load() -> bool {
    let Some(requested) = web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.time_origin())
    else {
        return false;
    };
    let stamp = |storage: Option<web_sys::Storage>| {
        storage.and_then(|s| s.get_item(CHANGED_KEY).ok().flatten())
    };
    let Some(last) = stamp(storage()) else {
        return false;
    };
    // JavaScript parses the number (Rust's float parser would add kilobytes).
    stamp(own_storage()).as_deref() != Some(last.as_str())
        && web_sys::js_sys::Number::parse_float(&last) >= requested
}

/// Sets this tab's listener; returns the session this tab published before
/// (`Some(None)`: it signed out), which is newer than the page's.
pub(crate) fn listen_here(listener: impl Fn(Option<Session>) + 'static) -> Option<Option<Session>> {
    LISTENER.with(|l| *l.borrow_mut() = Some(Box::new(move |s| listener(js::session(s)))));
    LATEST.with(|l| l.borrow().as_ref().map(js::session))
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
