//! The frame of the built-in pages (sign-in, sign-out, error): NextAuth's `theme`
//! (color scheme, brand color, logo, button text color) applied to a card.

use leptos::prelude::*;
use leptos_meta::Html;

use crate::page;

#[component]
pub fn ThemedCard(children: Children) -> impl IntoView {
    let theme = page::page_theme();
    let scheme = theme.color_scheme.as_str();
    // A `<style>` with the page's CSP nonce, not a `style` attribute: the
    // policy has no 'unsafe-inline' for styles.
    let style = theme
        .css_vars()
        .map(|vars| view! { <style nonce=leptos::nonce::use_nonce()>{format!(".auth-page{{{vars}}}")}</style> });
    view! {
        <Html attr:data-color-scheme=scheme />
        {style}
        <section class="card auth-page">
            {theme.logo.map(|src| view! { <img class="logo" src=src alt="" /> })}
            {children()}
        </section>
    }
}
