//! Translated text of the auth half: the messages of the built-in pages and
//! components and of every error code, in English and German, and the locale of
//! the current page (which an app's own catalog uses too).
//!
//! The locale is chosen on the server from `?lang=`, then the `sesame.lang`
//! cookie, then `Accept-Language`; it is written into `<html lang>`, which the
//! browser reads back when hydrating so both sides render the same text.

use crate::wire::AuthError;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    /// English (the default).
    En,
    /// German.
    De,
}

/// Name of the cookie that overrides `Accept-Language`.
pub const LANG_COOKIE: &str = "sesame.lang";

impl Locale {
    /// Every supported language.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// The language code (`en`, `de`), as in `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// `de`, `de-AT`, `DE` → German; unknown → `None`.
    pub fn from_code(code: &str) -> Option<Locale> {
        let primary = code.trim().split(['-', '_']).next()?;
        Locale::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The best supported language of an `Accept-Language` header.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        let mut ranked: Vec<(f32, usize, Locale)> = accept_language
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let locale = Locale::from_code(bits.next()?)?;
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, i, locale))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }

    /// The strings of the server-rendered parts of the pages (see [`PageMessages`]).
    pub fn pages(self) -> &'static PageMessages {
        match self {
            Locale::En => &EN_PAGES,
            Locale::De => &DE_PAGES,
        }
    }

    /// The strings of the built-in pages in this language.
    pub fn messages(self) -> &'static Messages {
        match self {
            Locale::En => &EN,
            Locale::De => &DE,
        }
    }

    /// The user-facing text of an error code.
    pub fn error(self, error: AuthError) -> &'static str {
        use AuthError::*;
        match (self, error) {
            (Locale::En, e) => e.message(),
            (Locale::De, e) => match e {
                CredentialsSignin => "Anmeldung fehlgeschlagen. Bitte prüfen Sie Ihre Angaben. Ein neues Konto muss zuerst seine E-Mail-Adresse bestätigen: Folgen Sie dem Link, den wir geschickt haben.",
                SessionRequired => "Bitte melden Sie sich an, um diese Seite zu sehen.",
                AccessDenied => "Sie haben keine Berechtigung, sich anzumelden.",
                MissingCSRF => "Das Formular ist abgelaufen oder kam von einer anderen Website. Bitte versuchen Sie es erneut.",
                InvalidCallbackUrl => "Die Adresse für die Rückkehr nach der Anmeldung ist nicht erlaubt.",
                RateLimited => "Zu viele Versuche. Bitte warten Sie einen Moment.",
                ServiceUnavailable => "Der Dienst ist ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
                Configuration => "Die Serverkonfiguration ist fehlerhaft. Details stehen im Serverprotokoll.",
                Verification => "Der Anmeldelink ist nicht mehr gültig. Er wurde schon benutzt oder ist abgelaufen.",
                Signin | Callback | OAuthSignin | OAuthCallback => "Versuchen Sie, sich mit einem anderen Konto anzumelden.",
                OAuthAccountNotLinked => "Um Ihre Identität zu bestätigen, melden Sie sich mit dem Konto an, das Sie ursprünglich benutzt haben.",
                EmailSignin => "Die E-Mail konnte nicht gesendet werden.",
                LastSignInMethod => "Das ist Ihre einzige Anmeldemethode: Legen Sie zuerst ein Passwort fest oder verbinden Sie ein anderes Konto.",
                SecondFactorRequired => "Geben Sie den Code aus Ihrer Authenticator-App ein, um die Anmeldung abzuschließen.",
                InvalidCode => "Der Code stimmt nicht. Prüfen Sie Ihre Authenticator-App und versuchen Sie es erneut.",
                CodeAlreadyUsed => "Dieser Code wurde schon benutzt. Warten Sie auf den nächsten.",
                PasskeyRefused => "Der Passkey wurde nicht angenommen. Versuchen Sie es erneut oder melden Sie sich anders an.",
                InvalidRequest => "Die Anfrage konnte nicht gelesen werden.",
                PayloadTooLarge => "Die Anfrage ist zu groß.",
                ReauthRequired => "Geben Sie dafür Ihr Passwort noch einmal ein.",
                WeakPassword => "Wählen Sie ein längeres oder weniger gebräuchliches Passwort (mindestens 8 Zeichen).",
                PasswordMismatch => "Die beiden neuen Passwörter stimmen nicht überein.",
                EmailNotVerified => "Bestätigen Sie zuerst Ihre E-Mail-Adresse: Folgen Sie dem Link, den wir Ihnen geschickt haben (oder lassen Sie ihn erneut senden).",
                SignUpClosed => "Die Registrierung ist hier geschlossen oder braucht eine Einladung für diese Adresse.",
                Default => "Anmeldung nicht möglich.",
            },
        }
    }
}

/// The strings of the built-in pages and components.
pub struct Messages {
    /// "Sign in": titles and buttons.
    pub sign_in: &'static str,
    /// The built-in sign-in page's button.
    pub sign_in_with_credentials: &'static str,
    /// The email field's label.
    pub email: &'static str,
    /// The password field's label.
    pub password: &'static str,
    /// "Sign out": titles and buttons.
    pub sign_out: &'static str,
    /// The sign-out page's question.
    pub sign_out_confirm: &'static str,
    /// The error page's title.
    pub error_title: &'static str,
    /// The link back to the home page.
    pub back_home: &'static str,
    /// Shown while a signed-out visitor is sent to the sign-in page.
    pub redirecting: &'static str,
    /// The "remember me" checkbox.
    pub remember_me: &'static str,
    /// The second factor's code field, in place on the sign-in form.
    pub one_time_code: &'static str,
    /// Its button.
    pub verify_code: &'static str,
    /// "Trust this browser for 30 days".
    pub trust_this_browser: &'static str,
    /// The link to the step's page (a passkey, a recovery code).
    pub other_ways: &'static str,
    /// The sessions list's title.
    pub sessions_title: &'static str,
    /// Marks the session of the browser looking at the list.
    pub this_browser: &'static str,
    /// "Signed in" (a session's sign-in time).
    pub signed_in: &'static str,
    /// "Last seen" (a session's last use).
    pub last_seen: &'static str,
    /// Ends one session.
    pub revoke: &'static str,
    /// Ends every other session.
    pub revoke_others: &'static str,
    /// The password field of a sensitive action.
    pub password_again: &'static str,
    /// After one session was ended.
    pub session_ended: &'static str,
    /// After every other session was ended.
    pub others_ended: &'static str,
    /// "Change password": title and button.
    pub change_password: &'static str,
    /// The current password's label.
    pub current_password: &'static str,
    /// The new password's label.
    pub new_password: &'static str,
    /// The confirmation's label.
    pub confirm_password: &'static str,
    /// After the password was changed.
    pub password_changed: &'static str,
    /// The sign-in form's link to the reset page.
    pub forgot_password: &'static str,
    /// The reset page's title.
    pub reset_title: &'static str,
    /// What the reset page's first form does.
    pub reset_lead: &'static str,
    /// Its button.
    pub send_link: &'static str,
    /// After a link was asked for (whether or not the account exists).
    pub reset_sent: &'static str,
    /// The new-password form's button.
    pub set_password: &'static str,
    /// After the new password was set.
    pub password_set: &'static str,
    /// "Create an account": title, button, link.
    pub create_account: &'static str,
    /// The optional name field's label.
    pub name_optional: &'static str,
    /// After signing up.
    pub check_email: &'static str,
    /// When sign-up is not open.
    pub sign_up_closed: &'static str,
    /// Before the sign-in link of the sign-up page.
    pub have_account: &'static str,
    /// The verification page's title.
    pub verify_title: &'static str,
    /// Above the confirmation button.
    pub confirm_lead: &'static str,
    /// Why a confirmation link asks for the password (opened in another browser).
    pub confirm_needs_password: &'static str,
    /// The confirmation button.
    pub confirm_address: &'static str,
    /// After the address was confirmed.
    pub email_verified: &'static str,
    /// What the resend form does.
    pub resend_lead: &'static str,
    /// After a verification link was asked for.
    pub verification_sent: &'static str,
    /// Before the sign-up link of a sign-in page.
    pub no_account: &'static str,
    /// The sign-in form's link when the address is not confirmed.
    pub resend_link: &'static str,
    /// "Change email address": title and button.
    pub change_email: &'static str,
    /// The new address's label.
    pub new_email: &'static str,
    /// The password field of an action that needs it only after a while.
    pub password_if_asked: &'static str,
    /// After the change link was sent.
    pub email_link_sent: &'static str,
    /// After the account moved to the new address.
    pub email_changed: &'static str,
    /// "Delete account": title and button.
    pub delete_account: &'static str,
    /// What deleting does.
    pub delete_lead: &'static str,
    /// After the account was deleted.
    pub account_deleted: &'static str,
    /// After the address was confirmed and the browser signed in.
    pub email_verified_signed_in: &'static str,
}

static EN: Messages = Messages {
    sign_in: "Sign in",
    sign_in_with_credentials: "Sign in with Credentials",
    email: "Email",
    password: "Password",
    sign_out: "Sign out",
    sign_out_confirm: "Are you sure you want to sign out?",
    error_title: "Unable to sign in",
    back_home: "Back to the home page",
    redirecting: "Redirecting to the sign-in page…",
    remember_me: "Remember me",
    one_time_code: "Code from your authenticator app (or a recovery code)",
    verify_code: "Verify",
    trust_this_browser: "Trust this browser for 30 days",
    other_ways: "Use a passkey or another way",
    sessions_title: "Where you are signed in",
    this_browser: "This browser",
    signed_in: "Signed in",
    last_seen: "Last seen",
    revoke: "Sign out this session",
    revoke_others: "Sign out everywhere else",
    password_again: "Your password (you signed in a while ago)",
    session_ended: "That session is signed out.",
    others_ended: "Every other session is signed out.",
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    confirm_password: "New password, again",
    password_changed: "Your password is changed. Every other session is signed out.",
    forgot_password: "Forgot your password?",
    reset_title: "Set a new password",
    reset_lead: "Enter your account's email address: we send it a link that sets a new password.",
    send_link: "Send the link",
    reset_sent: "If an account has this address, a link is on its way. It works once, for one hour.",
    set_password: "Set the password",
    password_set: "Your new password is set, and every session of your account is signed out. Sign in with the new password.",
    create_account: "Create an account",
    name_optional: "Name (optional)",
    check_email: "Almost done: we sent a link to that address. Follow it to confirm the address, then sign in.",
    sign_up_closed: "Accounts here are made by invitation.",
    have_account: "Have an account?",
    verify_title: "Confirm your email address",
    confirm_lead: "Confirm that this address is yours:",
    confirm_needs_password: "This link was opened in another browser than the one that signed up: enter the password chosen at sign-up to confirm. If you did not sign up, ignore this link; to use this address, reset the password instead.",
    confirm_address: "Confirm my address",
    email_verified: "Your address is confirmed. You can sign in now.",
    resend_lead: "Enter your address to get a new confirmation link.",
    verification_sent: "If an account with this address waits for confirmation, a new link is on its way.",
    no_account: "No account yet?",
    resend_link: "Send the confirmation link again",
    change_email: "Change email address",
    new_email: "New email address",
    password_if_asked: "Password (needed if you signed in a while ago)",
    email_link_sent: "A link is on its way to the new address (if no other account has it), and a notice to this one. The account moves when you follow the link.",
    email_changed: "Your account now uses the new address, and every session of it is signed out. Sign in with the new address.",
    delete_account: "Delete account",
    delete_lead: "This deletes your account and signs out every session of it. It cannot be undone.",
    account_deleted: "Your account is deleted.",
    email_verified_signed_in: "Your address is confirmed, and you are signed in.",
};

static DE: Messages = Messages {
    sign_in: "Anmelden",
    sign_in_with_credentials: "Mit Zugangsdaten anmelden",
    email: "E-Mail",
    password: "Passwort",
    sign_out: "Abmelden",
    sign_out_confirm: "Möchten Sie sich wirklich abmelden?",
    error_title: "Anmeldung nicht möglich",
    back_home: "Zur Startseite",
    redirecting: "Weiter zur Anmeldeseite…",
    remember_me: "Angemeldet bleiben",
    one_time_code: "Code aus Ihrer Authenticator-App (oder ein Wiederherstellungscode)",
    verify_code: "Bestätigen",
    trust_this_browser: "Diesem Browser 30 Tage vertrauen",
    other_ways: "Einen Passkey oder einen anderen Weg verwenden",
    sessions_title: "Wo Sie angemeldet sind",
    this_browser: "Dieser Browser",
    signed_in: "Angemeldet",
    last_seen: "Zuletzt gesehen",
    revoke: "Diese Sitzung abmelden",
    revoke_others: "Überall sonst abmelden",
    password_again: "Ihr Passwort (Ihre Anmeldung ist eine Weile her)",
    session_ended: "Die Sitzung ist abgemeldet.",
    others_ended: "Alle anderen Sitzungen sind abgemeldet.",
    change_password: "Passwort ändern",
    current_password: "Aktuelles Passwort",
    new_password: "Neues Passwort",
    confirm_password: "Neues Passwort, noch einmal",
    password_changed: "Ihr Passwort ist geändert. Alle anderen Sitzungen sind abgemeldet.",
    forgot_password: "Passwort vergessen?",
    reset_title: "Neues Passwort festlegen",
    reset_lead: "Geben Sie die E-Mail-Adresse Ihres Kontos ein: Wir senden einen Link, der ein neues Passwort festlegt.",
    send_link: "Link senden",
    reset_sent: "Hat ein Konto diese Adresse, ist ein Link unterwegs. Er gilt einmal, eine Stunde lang.",
    set_password: "Passwort festlegen",
    password_set: "Ihr neues Passwort ist festgelegt, und alle Sitzungen Ihres Kontos sind abgemeldet. Melden Sie sich mit dem neuen Passwort an.",
    create_account: "Konto anlegen",
    name_optional: "Name (freiwillig)",
    check_email: "Fast geschafft: Wir haben einen Link an diese Adresse geschickt. Folgen Sie ihm, um die Adresse zu bestätigen, und melden Sie sich dann an.",
    sign_up_closed: "Konten werden hier auf Einladung angelegt.",
    have_account: "Schon ein Konto?",
    verify_title: "E-Mail-Adresse bestätigen",
    confirm_lead: "Bestätigen Sie, dass diese Adresse Ihnen gehört:",
    confirm_needs_password: "Dieser Link wurde in einem anderen Browser geöffnet als dem, mit dem Sie sich registriert haben: Geben Sie zur Bestätigung das bei der Registrierung gewählte Passwort ein. Haben Sie sich nicht registriert, ignorieren Sie diesen Link; um diese Adresse zu nutzen, setzen Sie stattdessen das Passwort zurück.",
    confirm_address: "Adresse bestätigen",
    email_verified: "Ihre Adresse ist bestätigt. Sie können sich jetzt anmelden.",
    resend_lead: "Geben Sie Ihre Adresse ein, um einen neuen Bestätigungslink zu erhalten.",
    verification_sent: "Wartet ein Konto mit dieser Adresse auf Bestätigung, ist ein neuer Link unterwegs.",
    no_account: "Noch kein Konto?",
    resend_link: "Bestätigungslink erneut senden",
    change_email: "E-Mail-Adresse ändern",
    new_email: "Neue E-Mail-Adresse",
    password_if_asked: "Passwort (nötig, wenn Ihre Anmeldung eine Weile her ist)",
    email_link_sent: "Ein Link ist an die neue Adresse unterwegs (falls kein anderes Konto sie hat), und ein Hinweis an diese. Das Konto zieht um, wenn Sie dem Link folgen.",
    email_changed: "Ihr Konto verwendet jetzt die neue Adresse, und alle seine Sitzungen sind abgemeldet. Melden Sie sich mit der neuen Adresse an.",
    delete_account: "Konto löschen",
    delete_lead: "Das löscht Ihr Konto und meldet alle seine Sitzungen ab. Es lässt sich nicht rückgängig machen.",
    account_deleted: "Ihr Konto ist gelöscht.",
    email_verified_signed_in: "Ihre Adresse ist bestätigt, und Sie sind angemeldet.",
};

/// The locale of the page being rendered (server) or shown (browser).
pub fn current_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        request_locale().unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|html| html.get_attribute("lang"))
            .and_then(|lang| Locale::from_code(&lang))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Locale::default()
    }
}

/// The locale from the request being rendered: `?lang=`, cookie, `Accept-Language`.
#[cfg(feature = "ssr")]
fn request_locale() -> Option<Locale> {
    let parts = leptos::prelude::use_context::<http::request::Parts>()?;
    Some(locale_of(&parts.uri, &parts.headers))
}

/// The locale of a `?lang=` in the query, if supported.
#[cfg(feature = "ssr")]
fn query_locale(uri: &http::Uri) -> Option<Locale> {
    Locale::from_code(&crate::server::http::cookies::query_value(uri, "lang")?)
}

/// The locale a request asks for.
#[cfg(feature = "ssr")]
pub fn locale_of(uri: &http::Uri, headers: &http::HeaderMap) -> Locale {
    let from_query = query_locale(uri);
    let from_cookie =
        || crate::server::http::cookies::cookie(headers, LANG_COOKIE).and_then(Locale::from_code);
    let from_header = || {
        headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Locale::negotiate)
    };
    from_query
        .or_else(from_cookie)
        .or_else(from_header)
        .unwrap_or_default()
}

/// The locale and messages for a component.
pub fn use_i18n() -> (Locale, &'static Messages) {
    let locale = leptos::prelude::use_context::<Locale>().unwrap_or_else(current_locale);
    (locale, locale.messages())
}

/// The `sesame.lang` cookie that makes a `?lang=xx` choice stick, if the
/// request makes one.
#[cfg(feature = "ssr")]
pub fn lang_cookie(uri: &http::Uri) -> Option<http::HeaderValue> {
    let locale = query_locale(uri)?;
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        locale.code()
    );
    http::HeaderValue::from_str(&cookie).ok()
}

/// The strings of the built-in pages' server-rendered parts (the providers'
/// buttons, the email provider's pages, the connections list): no island
/// uses them, so they stay out of the WASM.
pub struct PageMessages {
    /// A provider's button: "Sign in with" and the provider's name.
    pub sign_in_with: &'static str,
    /// Between the providers' buttons and the password form.
    pub or: &'static str,
    /// The email provider's button.
    pub email_me_a_link: &'static str,
    /// The email provider's address field.
    pub link_address: &'static str,
    /// The email provider's "check your email" page: title and text.
    pub check_email_title: &'static str,
    /// What the "check your email" page says.
    pub check_email_text: &'static str,
    /// The sign-in link's page: its button.
    pub finish_sign_in: &'static str,
    /// The account's linked providers: title.
    pub connections_title: &'static str,
    /// Links a provider account.
    pub connect: &'static str,
    /// Removes a linked provider account.
    pub disconnect: &'static str,
    /// After a provider account was linked.
    pub connected: &'static str,
    /// After a provider account was removed.
    pub disconnected: &'static str,
    /// The second factor's page: title.
    pub second_factor_title: &'static str,
    /// What the step's page asks.
    pub second_factor_lead: &'static str,
    /// The code field's label.
    pub code: &'static str,
    /// The step's button.
    pub verify: &'static str,
    /// Opens the recovery-code field.
    pub use_recovery_code: &'static str,
    /// The recovery-code field's label.
    pub recovery_code: &'static str,
    /// The "trust this browser" checkbox.
    pub trust_browser: &'static str,
    /// The security panel's title.
    pub security_title: &'static str,
    /// Says the authenticator app is on.
    pub authenticator_on: &'static str,
    /// Says there is no second factor.
    pub authenticator_off: &'static str,
    /// Starts setting up an authenticator app.
    pub set_up_authenticator: &'static str,
    /// How to set it up.
    pub scan_qr: &'static str,
    /// The key's label.
    pub setup_key: &'static str,
    /// Confirms the enrolment.
    pub confirm_code: &'static str,
    /// Turns the factor off.
    pub turn_off: &'static str,
    /// Makes new recovery codes.
    pub new_recovery_codes: &'static str,
    /// Before the count of unused recovery codes.
    pub recovery_codes_left: &'static str,
    /// Above recovery codes shown once.
    pub recovery_codes_shown: &'static str,
    /// The code field of a sensitive change.
    pub code_if_not_recent: &'static str,
    /// The trusted browsers' title.
    pub trusted_browsers: &'static str,
    /// Forgets one trusted browser.
    pub forget: &'static str,
    /// Forgets every trusted browser.
    pub forget_all: &'static str,
    /// After an enrolment started.
    pub factor_done_enrolling: &'static str,
    /// After the factor was turned on.
    pub factor_done_enabled: &'static str,
    /// After the factor was turned off.
    pub factor_done_disabled: &'static str,
    /// After new recovery codes.
    pub factor_done_codes: &'static str,
    /// After a trusted browser was forgotten.
    pub factor_done_forgotten: &'static str,
    /// The passkey sign-in button.
    pub sign_in_with_passkey: &'static str,
    /// Without JavaScript, where a passkey is offered.
    pub passkey_needs_js: &'static str,
    /// The step's passkey button.
    pub use_passkey: &'static str,
    /// The passkeys' title.
    pub passkeys_title: &'static str,
    /// Adds a passkey.
    pub add_passkey: &'static str,
    /// A passkey's name field.
    pub passkey_name: &'static str,
    /// Renames a passkey.
    pub rename: &'static str,
    /// Removes a passkey.
    pub remove: &'static str,
    /// Before a passkey's last use.
    pub last_used: &'static str,
    /// A passkey never used.
    pub never_used: &'static str,
    /// After a passkey was added.
    pub factor_done_passkey_added: &'static str,
    /// After a passkey was renamed.
    pub factor_done_passkey_renamed: &'static str,
    /// After a passkey was removed.
    pub factor_done_passkey_removed: &'static str,
}

static EN_PAGES: PageMessages = PageMessages {
    sign_in_with: "Sign in with",
    or: "or",
    email_me_a_link: "Email me a sign-in link",
    link_address: "Address for a sign-in link",
    check_email_title: "Check your email",
    check_email_text: "A sign-in link has been sent to your email address, if it may sign in here. It works once, for a few minutes.",
    finish_sign_in: "Sign in",
    connections_title: "Sign-in methods",
    connect: "Connect",
    disconnect: "Disconnect",
    connected: "The account is connected.",
    disconnected: "The account is disconnected.",
    second_factor_title: "Two-step verification",
    second_factor_lead: "Enter the 6-digit code from your authenticator app.",
    code: "Code",
    verify: "Verify",
    use_recovery_code: "Use a recovery code instead",
    recovery_code: "Recovery code",
    trust_browser: "Trust this browser for 30 days",
    security_title: "Two-step verification",
    authenticator_on: "An authenticator app is set up: signing in asks for its code.",
    authenticator_off: "Add a second step to signing in: a code from an authenticator app.",
    set_up_authenticator: "Set up an authenticator app",
    scan_qr: "Scan the QR code with your authenticator app, or type the key, then enter the code it shows.",
    setup_key: "Key",
    confirm_code: "Turn on",
    turn_off: "Turn off",
    new_recovery_codes: "New recovery codes",
    recovery_codes_left: "Recovery codes left:",
    recovery_codes_shown: "Your recovery codes. Keep them somewhere safe: each works once, and they are not shown again.",
    code_if_not_recent: "Code (unless you just signed in with one)",
    trusted_browsers: "Trusted browsers",
    forget: "Forget",
    forget_all: "Forget all",
    factor_done_enrolling: "Scan the code below, then enter a code to turn it on.",
    factor_done_enabled: "Two-step verification is on.",
    factor_done_disabled: "Two-step verification is off.",
    factor_done_codes: "New recovery codes were made; the old ones no longer work.",
    factor_done_forgotten: "The browser must pass the second step again.",
    sign_in_with_passkey: "Sign in with a passkey",
    passkey_needs_js: "A passkey needs JavaScript: turn it on, or sign in another way.",
    use_passkey: "Use a passkey",
    passkeys_title: "Passkeys",
    add_passkey: "Add a passkey",
    passkey_name: "Name",
    rename: "Rename",
    remove: "Remove",
    last_used: "Last used:",
    never_used: "never",
    factor_done_passkey_added: "The passkey is added: sign in with it next time.",
    factor_done_passkey_renamed: "The passkey is renamed.",
    factor_done_passkey_removed: "The passkey is removed.",
};

static DE_PAGES: PageMessages = PageMessages {
    sign_in_with: "Anmelden mit",
    or: "oder",
    email_me_a_link: "Anmeldelink per E-Mail schicken",
    link_address: "Adresse für einen Anmeldelink",
    check_email_title: "Prüfen Sie Ihr Postfach",
    check_email_text: "Ein Anmeldelink wurde an Ihre E-Mail-Adresse geschickt, falls sie sich hier anmelden darf. Er gilt einmal, für wenige Minuten.",
    finish_sign_in: "Anmelden",
    connections_title: "Anmeldemethoden",
    connect: "Verbinden",
    disconnect: "Trennen",
    connected: "Das Konto ist verbunden.",
    disconnected: "Das Konto ist getrennt.",
    second_factor_title: "Bestätigung in zwei Schritten",
    second_factor_lead: "Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.",
    code: "Code",
    verify: "Bestätigen",
    use_recovery_code: "Stattdessen einen Wiederherstellungscode verwenden",
    recovery_code: "Wiederherstellungscode",
    trust_browser: "Diesem Browser 30 Tage vertrauen",
    security_title: "Bestätigung in zwei Schritten",
    authenticator_on: "Eine Authenticator-App ist eingerichtet: Die Anmeldung fragt nach ihrem Code.",
    authenticator_off: "Ergänzen Sie die Anmeldung um einen zweiten Schritt: einen Code aus einer Authenticator-App.",
    set_up_authenticator: "Authenticator-App einrichten",
    scan_qr: "Scannen Sie den QR-Code mit Ihrer Authenticator-App oder tippen Sie den Schlüssel ab, und geben Sie dann den angezeigten Code ein.",
    setup_key: "Schlüssel",
    confirm_code: "Einschalten",
    turn_off: "Ausschalten",
    new_recovery_codes: "Neue Wiederherstellungscodes",
    recovery_codes_left: "Verbleibende Wiederherstellungscodes:",
    recovery_codes_shown: "Ihre Wiederherstellungscodes. Bewahren Sie sie sicher auf: Jeder gilt einmal, und sie werden nicht noch einmal angezeigt.",
    code_if_not_recent: "Code (außer Sie haben sich gerade mit einem angemeldet)",
    trusted_browsers: "Vertrauenswürdige Browser",
    forget: "Vergessen",
    forget_all: "Alle vergessen",
    factor_done_enrolling: "Scannen Sie den Code unten und geben Sie dann einen Code ein, um sie einzuschalten.",
    factor_done_enabled: "Die Bestätigung in zwei Schritten ist eingeschaltet.",
    factor_done_disabled: "Die Bestätigung in zwei Schritten ist ausgeschaltet.",
    factor_done_codes: "Neue Wiederherstellungscodes wurden erzeugt; die alten gelten nicht mehr.",
    factor_done_forgotten: "Der Browser muss den zweiten Schritt wieder bestehen.",
    sign_in_with_passkey: "Mit einem Passkey anmelden",
    passkey_needs_js: "Ein Passkey braucht JavaScript: Schalten Sie es ein oder melden Sie sich anders an.",
    use_passkey: "Einen Passkey verwenden",
    passkeys_title: "Passkeys",
    add_passkey: "Passkey hinzufügen",
    passkey_name: "Name",
    rename: "Umbenennen",
    remove: "Entfernen",
    last_used: "Zuletzt benutzt:",
    never_used: "nie",
    factor_done_passkey_added: "Der Passkey ist hinzugefügt: Melden Sie sich das nächste Mal damit an.",
    factor_done_passkey_renamed: "Der Passkey ist umbenannt.",
    factor_done_passkey_removed: "Der Passkey ist entfernt.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(
            Locale::negotiate("de-DE,de;q=0.9,en;q=0.8"),
            Some(Locale::De)
        );
        assert_eq!(
            Locale::negotiate("fr-FR, en;q=0.5, de;q=0.4"),
            Some(Locale::En)
        );
        assert_eq!(Locale::negotiate("en;q=0.2, de;q=0.9"), Some(Locale::De));
        assert_eq!(Locale::negotiate("de;q=0, fr"), None);
        assert_eq!(Locale::negotiate(""), None);
    }

    #[test]
    fn every_error_has_a_message_in_every_language() {
        for locale in Locale::ALL {
            for error in AuthError::ALL {
                assert!(!locale.error(error).is_empty());
            }
        }
        assert_ne!(
            Locale::En.error(AuthError::CredentialsSignin),
            Locale::De.error(AuthError::CredentialsSignin)
        );
    }
}
