//! `/account`: a protected page. `<RequireAuth>` renders it for a signed-in user
//! on the server and sends anyone else to the sign-in page with `callbackUrl`
//! back here (and leaves the page when the session ends); its details come from
//! a server function behind the session guard.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use sesame::{components::SignOutForm, use_session, RequireAuth, UseSessionOptions};

use crate::{i18n::use_texts, user::Role};

/// What the account page shows beyond the client session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    pub user_id: String,
    /// What the user may do (from the app's own user type in the session).
    pub role: Role,
    /// When this session signed in, RFC 3339.
    pub signed_in_at: String,
}

/// The signed-in user's details; 401 without a session.
#[server(prefix = "/api/account", endpoint = "details")]
pub async fn account_details() -> Result<AccountInfo, ServerFnError> {
    let data = sesame::server::require_session().await?;
    let user = data
        .user::<crate::user::AppUser>()
        .map_err(|e| ServerFnError::new(format!("the session's user: {e}")))?;
    let signed_in_at = time::OffsetDateTime::from_unix_timestamp(data.signed_in_at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    Ok(AccountInfo {
        user_id: data.user_id,
        role: user.role,
        signed_in_at,
    })
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let (_, _, t) = use_texts();
    view! {
        <Title text=t.your_account />
        <RequireAuth>
            <AccountCard />
        </RequireAuth>
    }
}

#[component]
fn AccountCard() -> impl IntoView {
    let session = use_session(UseSessionOptions::default());
    let details = Resource::new(|| (), |_| account_details());
    let (locale, auth_text, t) = use_texts();
    view! {
        <section class="card">
            <h1>{t.your_account}</h1>
            {move || {
                session
                    .data
                    .get()
                    .map(|s| {
                        view! {
                            <dl>
                                <dt>{auth_text.email}</dt>
                                <dd data-testid="account-email">{s.user.email}</dd>
                                <dt>{t.name}</dt>
                                <dd data-testid="account-name">
                                    {s.user.name.unwrap_or_else(|| "—".into())}
                                </dd>
                                <dt>{t.role}</dt>
                                <dd data-testid="account-role">
                                    <Suspense fallback=move || t.loading>
                                        {move || {
                                            details
                                                .get()
                                                .and_then(Result::ok)
                                                .map(|d| match d.role {
                                                    Role::Admin => t.role_admin,
                                                    Role::Member => t.role_member,
                                                })
                                        }}
                                    </Suspense>
                                </dd>
                                <dt>{t.session_expires}</dt>
                                <dd>{s.expires}</dd>
                                <dt>{t.signed_in_at}</dt>
                                <dd data-testid="signed-in-at">
                                    <Suspense fallback=move || t.loading>
                                        {move || {
                                            details
                                                .get()
                                                .map(|d| d.map(|d| d.signed_in_at).unwrap_or_default())
                                        }}
                                    </Suspense>
                                </dd>
                            </dl>
                        }
                    })
            }}
            <nav class="account-links">
                <a href="/account/sessions">{auth_text.sessions_title}</a>
                " · "
                <a href="/account/connections">{locale.pages().connections_title}</a>
                " · "
                <a href="/account/security">{locale.pages().security_title}</a>
                " · "
                <a href="/account/password">{auth_text.change_password}</a>
                " · "
                <a href="/account/email">{auth_text.change_email}</a>
                " · "
                <a href="/account/delete">{auth_text.delete_account}</a>
            </nav>
            <SignOutForm />
        </section>
    }
}
