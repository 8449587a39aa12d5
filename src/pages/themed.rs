//! The frame of the built-in pages (sign-in, sign-out, error): NextAuth's `theme`
//! (color scheme, brand color, logo, button text color) applied to a card.

use leptos::prelude::*;
use leptos_meta::Html;

use crate::auth::client;

#[component]
pub fn ThemedCard(children: Children) -> impl IntoView {
    let theme = client::page_theme();
    let scheme = theme.color_scheme.as_str();
    let style = theme.css_vars();
    view! {
        <Html attr:data-color-scheme=scheme />
        <section class="card auth-page" style=style>
            {theme.logo.map(|src| view! { <img class="logo" src=src alt="" /> })}
            {children()}
        </section>
    }
}
