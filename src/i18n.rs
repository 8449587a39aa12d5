//! The app's own strings, in the languages of Sesame's catalog: the locale of
//! the page comes from [`sesame::i18n`], which also has the auth messages.

pub use sesame::i18n::{current_locale, Locale};

/// The strings of the app's pages (home, `/sign-in`, account, profile).
pub struct AppMessages {
    pub app_tagline: &'static str,
    pub sign_in_to_app: &'static str,
    pub sign_in_lead: &'static str,
    pub not_signed_in: &'static str,
    pub signed_in_as: &'static str,
    pub your_account: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub role_admin: &'static str,
    pub role_member: &'static str,
    pub session_expires: &'static str,
    pub signed_in_at: &'static str,
    pub loading: &'static str,
    pub not_found: &'static str,
    pub language: &'static str,
    pub profile: &'static str,
    pub display_name: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
}

static EN: AppMessages = AppMessages {
    app_tagline: "Email and password sign-in for Leptos.",
    sign_in_to_app: "Sign in to Sesame",
    sign_in_lead: "Use your email and password.",
    not_signed_in: "You are not signed in.",
    signed_in_as: "Signed in as",
    your_account: "Your account",
    name: "Name",
    role: "Role",
    role_admin: "Administrator",
    role_member: "Member",
    session_expires: "Session expires",
    signed_in_at: "Signed in at",
    loading: "Loading…",
    not_found: "Page not found.",
    language: "Language",
    profile: "Profile",
    display_name: "Display name",
    save: "Save",
    saved: "Saved.",
};

static DE: AppMessages = AppMessages {
    app_tagline: "Anmeldung mit E-Mail und Passwort für Leptos.",
    sign_in_to_app: "Bei Sesame anmelden",
    sign_in_lead: "Mit E-Mail-Adresse und Passwort.",
    not_signed_in: "Sie sind nicht angemeldet.",
    signed_in_as: "Angemeldet als",
    your_account: "Ihr Konto",
    name: "Name",
    role: "Rolle",
    role_admin: "Administrator",
    role_member: "Mitglied",
    session_expires: "Sitzung endet",
    signed_in_at: "Angemeldet seit",
    loading: "Wird geladen…",
    not_found: "Seite nicht gefunden.",
    language: "Sprache",
    profile: "Profil",
    display_name: "Anzeigename",
    save: "Speichern",
    saved: "Gespeichert.",
};

/// The app's strings in `locale`.
pub fn app_messages(locale: Locale) -> &'static AppMessages {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
    }
}

/// The locale, Sesame's messages and the app's, for a component.
pub fn use_texts() -> (
    Locale,
    &'static sesame::i18n::Messages,
    &'static AppMessages,
) {
    let (locale, auth) = sesame::i18n::use_i18n();
    (locale, auth, app_messages(locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_its_own_text() {
        for locale in Locale::ALL {
            assert!(!app_messages(locale).app_tagline.is_empty());
        }
        assert_ne!(
            app_messages(Locale::En).your_account,
            app_messages(Locale::De).your_account
        );
    }
}
