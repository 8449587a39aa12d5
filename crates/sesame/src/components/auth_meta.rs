//! The `<meta>` tags the browser client starts from: the page's CSRF token
//! (so a sign-in is one request) and its session (so `use_session` knows it
//! before any fetch).

use leptos::prelude::*;

use crate::{page, wire::CSRF_META_NAME, wire::SESSION_META_NAME};

/// Put it in the shell's `<head>`.
#[component]
pub fn AuthMeta() -> impl IntoView {
    let csrf_token = page::page_csrf_token();
    let session = page::page_session()
        .and_then(|s| serde_json::to_string(&s).ok())
        .unwrap_or_default();
    view! {
        <meta name=CSRF_META_NAME content=csrf_token />
        <meta name=SESSION_META_NAME content=session />
    }
}
