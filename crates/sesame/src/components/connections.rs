//! The signed-in user's provider accounts, for an account page: each linked
//! one with a "Disconnect" button, then a "Connect" button for every
//! provider. Plain forms, rendered on the server (no island): "Connect"
//! posts to `/api/auth/account/connect` (the provider's page, then back
//! here with `done=connected`), "Disconnect" to
//! `/api/auth/account/disconnect` (back with `done=disconnected` or
//! `error=`). Render its route with `SsrMode::Async`.

use leptos::prelude::*;

use crate::{
    actions::account::account_connections, i18n::use_i18n, page, wire::routes, wire::Connections,
};

/// The connections of the signed-in user; its forms post back to the page it
/// is on.
#[component]
pub fn ConnectionsPanel() -> impl IntoView {
    let back_to = page::path();
    let connections = Resource::new(|| (), |_| account_connections());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let back_to = back_to.clone();
                connections
                    .get()
                    .map(move |list| {
                        view! { <ConnectionsList connections=list.unwrap_or_default() back_to /> }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn ConnectionsList(connections: Connections, back_to: String) -> impl IntoView {
    let (locale, _) = use_i18n();
    let p = locale.pages();
    let csrf_token = page::page_csrf_token();
    let done = page::query_param("done");
    let error = page::query_error();
    let notice = match done.as_deref() {
        Some("connected") => Some(p.connected),
        Some("disconnected") => Some(p.disconnected),
        _ => None,
    };
    let hidden = {
        let (csrf_token, back_to) = (csrf_token.clone(), back_to.clone());
        move || {
            view! {
                <input type="hidden" name="csrfToken" value=csrf_token.clone() />
                <input type="hidden" name="callbackUrl" value=back_to.clone() />
            }
        }
    };
    let connected = connections
        .connected
        .into_iter()
        .map(|c| {
            let hidden = hidden.clone();
            let shown = c.email.clone().unwrap_or_else(|| c.account_id.clone());
            let provider = c.provider.clone();
            view! {
                <li data-provider=provider>
                    <span>
                        <strong>{c.name}</strong>
                        " "
                        <small>{shown}</small>
                    </span>
                    <form method="post" action=routes::DISCONNECT>
                        {hidden()}
                        <input type="hidden" name="provider" value=c.provider />
                        <input type="hidden" name="accountId" value=c.account_id />
                        <button type="submit" class="danger">{p.disconnect}</button>
                    </form>
                </li>
            }
        })
        .collect_view();
    let available = connections
        .providers
        .into_iter()
        .map(|(id, name)| {
            let hidden = hidden.clone();
            view! {
                <form method="post" action=routes::CONNECT class="provider">
                    {hidden()}
                    <input type="hidden" name="provider" value=id.clone() />
                    <button type="submit" data-provider=id>{p.connect} " " {name}</button>
                </form>
            }
        })
        .collect_view();
    view! {
        <div class="connections">
            {notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <div class="alert" role="alert" data-error=error.map(|e| e.code())>
                {error.map(|e| locale.error(e))}
            </div>
            <ul>{connected}</ul>
            <div class="providers">{available}</div>
        </div>
    }
}
