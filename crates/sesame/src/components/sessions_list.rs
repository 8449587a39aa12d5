//! The signed-in user's sessions, each with a button that signs it out, and
//! "sign out everywhere else". One form holds every button (each names its
//! session) and the password field a sensitive action may need, so without
//! JavaScript it is a plain post that comes back with `done=` or `error=`.
//! Hydrated, a click calls [`revoke_session`] or [`revoke_other_sessions`]
//! and updates the list in place. [`SessionsPanel`] loads the list on the
//! server and shows it (render its route with `SsrMode::Async`, so the page
//! works without JavaScript).

use leptos::{html, prelude::*, task::spawn_local};

use crate::{
    actions::account::account_sessions, client::revoke_other_sessions, client::revoke_session,
    i18n::use_i18n, page, wire::routes, wire::AuthError, wire::SessionInfo,
};

/// The sessions list: loads the sessions on the server and shows them; a
/// post without JavaScript comes back to the page it is on, whose `done=` /
/// `error=` the list shows.
#[component]
pub fn SessionsPanel() -> impl IntoView {
    let sessions = Resource::new(|| (), |_| account_sessions());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                sessions
                    .get()
                    .map(move |list| {
                        provide_context(Shown(list.unwrap_or_default()));
                        view! { <SessionsList /> }
                    })
            }}
        </Suspense>
    }
}

/// The sessions [`SessionsPanel`] loaded, for the island it renders (read on
/// the server only).
#[derive(Clone)]
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
struct Shown(Vec<SessionInfo>);

/// The list the page was rendered with, and its JSON for the form's
/// `data-sessions`: on the server from [`SessionsPanel`]; in the browser read
/// back from that attribute by the browser's own JSON parser. (Island props
/// are parsed with serde_json, whose parser and number tables would then
/// ship in the main WASM module of every page: 5.1 KiB brotli.)
fn shown_sessions() -> (Vec<SessionInfo>, String) {
    #[cfg(feature = "ssr")]
    {
        let list = use_context::<Shown>().map(|s| s.0).unwrap_or_default();
        let json = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
        (list, json)
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let json = page::dom::attribute("form.sessions[data-sessions]", "data-sessions")
            .unwrap_or_else(|| "[]".into());
        let list = crate::client::js::parse(&json)
            .and_then(|list| crate::client::js::session_infos(&list))
            .unwrap_or_default();
        (list, json)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        (Vec::new(), "[]".into())
    }
}

/// "2026-12-02T06:32:17Z" as "2026-12-02 06:32 UTC".
fn readable(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(minute)) if rfc3339.ends_with('Z') => format!("{day} {minute} UTC"),
        _ => rfc3339.to_string(),
    }
}

/// Which button was pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pressed {
    One(String),
    Others,
}

/// The list and its form (an island: it works without JavaScript too), with
/// what the last action did (`done=`) or why it failed (`error=`).
#[island(lazy)]
fn SessionsList() -> impl IntoView {
    let (_, t) = use_i18n();
    let csrf_token = page::page_csrf_token();
    let back_to = page::path();
    let (sessions, shown) = shown_sessions();
    let sessions = RwSignal::new(sessions);
    let done = RwSignal::new(page::query_param("done"));
    let error = RwSignal::new(page::query_error());
    let pressed = RwSignal::new(None::<Pressed>);
    let pending = RwSignal::new(false);
    let password_ref = NodeRef::<html::Input>::new();
    let needs_password = move || error.get() == Some(AuthError::ReauthRequired);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(action) = pressed.get_untracked() else {
            return;
        };
        let password = password_ref
            .get_untracked()
            .map(|p| p.value())
            .filter(|p| !p.is_empty());
        pending.set(true);
        spawn_local(async move {
            let outcome = match &action {
                Pressed::One(id) => revoke_session(id, password.as_deref()).await,
                Pressed::Others => revoke_other_sessions(password.as_deref()).await,
            };
            if super::settle(outcome, error, pending).is_none() {
                done.set(None);
                return;
            }
            done.set(Some(
                match action {
                    Pressed::One(_) => "session-ended",
                    Pressed::Others => "others-ended",
                }
                .into(),
            ));
            match crate::client::list_sessions().await {
                Ok(list) => sessions.set(list),
                Err(_) => sessions.update(|list| list.retain(|s| s.current)),
            }
        });
    };
    let status = move || {
        done.get().and_then(|d| match d.as_str() {
            "session-ended" => Some(t.session_ended),
            "others-ended" => Some(t.others_ended),
            _ => None,
        })
    };
    view! {
        <form
            class="sessions"
            method="post"
            action=routes::REVOKE_SESSION
            data-sessions=shown
            on:submit=on_submit
        >
            <p role="status" data-testid="sessions-status">{status}</p>
            <super::FormAlert error />
            <input type="hidden" name="csrfToken" value=csrf_token />
            <input type="hidden" name="callbackUrl" value=back_to />
            <Show when=needs_password>
                <label for="session-password">{t.password_again}</label>
                <input
                    id="session-password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    node_ref=password_ref
                />
            </Show>
            <ul>
                <For
                    each=move || sessions.get()
                    key=|s| s.id.clone()
                    children=move |s| {
                        let id = s.id.clone();
                        view! {
                            <li data-testid="session" data-current=s.current.to_string()>
                                <div>
                                    <strong>{s.browser.clone()}</strong>
                                    {s.current.then(|| view! { " " <span class="badge">{t.this_browser}</span> })}
                                    <br />
                                    <small>
                                        {s.ip.clone().map(|ip| format!("{ip} · "))}
                                        {t.signed_in} " "
                                        <time datetime=s.signed_in_at.clone()>{readable(&s.signed_in_at)}</time>
                                        " · " {t.last_seen} " "
                                        <time datetime=s.last_seen.clone()>{readable(&s.last_seen)}</time>
                                    </small>
                                </div>
                                {(!s.current).then(|| {
                                    let pressed_id = id.clone();
                                    view! {
                                        <button
                                            type="submit"
                                            class="secondary"
                                            name="id"
                                            value=id.clone()
                                            disabled=move || pending.get()
                                            on:click=move |_| pressed.set(Some(Pressed::One(pressed_id.clone())))
                                        >
                                            {t.revoke}
                                        </button>
                                    }
                                })}
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || sessions.with(|list| list.len() > 1)>
                <button
                    type="submit"
                    formaction=routes::REVOKE_OTHER_SESSIONS
                    disabled=move || pending.get()
                    on:click=move |_| pressed.set(Some(Pressed::Others))
                >
                    {t.revoke_others}
                </button>
            </Show>
        </form>
    }
}
