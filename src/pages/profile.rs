//! `/profile`: a client-guarded page (`use_session({required: true})`, as a
//! next-auth/react app writes it) that edits the session with `update()`.

use leptos::{either::Either, html, prelude::*, task::spawn_local};
use leptos_meta::Title;

use sesame::{use_session, SessionStatus, UseSessionOptions};

use crate::i18n::use_texts;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let (_, _, t) = use_texts();
    view! {
        <Title text=t.profile />
        <section class="card">
            <h1>{t.profile}</h1>
            <ProfileForm />
        </section>
    }
}

#[island(lazy)]
fn ProfileForm() -> impl IntoView {
    let session = use_session(UseSessionOptions { required: true });
    let (_, auth_text, t) = use_texts();
    let name_ref = NodeRef::<html::Input>::new();
    let saved = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(input) = name_ref.get() else { return };
        let name = input.value();
        let state = session.state;
        spawn_local(async move {
            if state
                .update(serde_json::json!({ "name": name }))
                .await
                .is_ok()
            {
                saved.set(true);
            }
        });
    };
    move || match session.status.get() {
        SessionStatus::Authenticated => {
            let name = session
                .data
                .get()
                .and_then(|s| s.user.name)
                .unwrap_or_default();
            Either::Left(view! {
                <p>
                    {t.name} ": " <strong data-testid="profile-name">{name.clone()}</strong>
                </p>
                <form on:submit=on_submit>
                    <label for="display-name">{t.display_name}</label>
                    <input id="display-name" name="name" type="text" autocomplete="name" value=name node_ref=name_ref />
                    <button type="submit">{t.save}</button>
                    <p role="status">{move || saved.get().then_some(t.saved)}</p>
                </form>
            })
        }
        _ => Either::Right(view! { <p>{auth_text.redirecting}</p> }),
    }
}
