//! `/api/auth/verify-request`: the email provider's pages. Without a token,
//! NextAuth's "check your email" page; with the token and address of a
//! sign-in link (where `/api/auth/callback/email?token=` sends the browser),
//! a button that signs in: the link's GET alone signs nobody in, so a mail
//! scanner that follows links spends nothing. A plain form: it works with
//! JavaScript off.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::ThemedCard;
use crate::{i18n::use_i18n, page, wire::routes};

/// The "check your email" page, or a sign-in link's button.
#[component]
pub fn VerifyRequestPage() -> impl IntoView {
    let (locale, t) = use_i18n();
    let p = locale.pages();
    let token = page::query_param("token").filter(|t| !t.is_empty());
    let email = page::query_param("email").unwrap_or_default();
    let body = match token {
        Some(token) => {
            let csrf_token = page::page_csrf_token();
            view! {
                <h1>{t.sign_in}</h1>
                <p class="muted">{email}</p>
                <form method="post" action=routes::CALLBACK_PROVIDER.replace("{provider}", "email")>
                    <input type="hidden" name="token" value=token />
                    <input type="hidden" name="csrfToken" value=csrf_token />
                    <button type="submit">{p.finish_sign_in}</button>
                </form>
            }
            .into_any()
        }
        None => view! {
            <h1>{p.check_email_title}</h1>
            <p role="status">{p.check_email_text}</p>
        }
        .into_any(),
    };
    view! {
        <Title text=p.check_email_title />
        <ThemedCard>{body}</ThemedCard>
    }
}
