//! The catalog of account emails, text and HTML, in the languages of the
//! pages. Each message is a subject, a few lines, and one link; the HTML is
//! the same lines with the link as a button (values are escaped: the only
//! values are the site's name and a link Sesame built).

use super::Mail;
use crate::i18n::Locale;

/// The account emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A link that sets a new password.
    ResetPassword,
    /// A link that confirms the address of a new account.
    VerifyEmail,
    /// Someone tried to sign up with an address that has an account.
    SignUpAttempted,
    /// An administrator made an account: a link that sets its password.
    Invitation,
    /// To a new address: a link that moves the account there.
    ChangeEmail,
    /// To the old address: the account is moving to another one.
    EmailChangeNotice,
    /// The email provider's link that signs in.
    SignInLink,
    /// A recovery code was used to sign in.
    RecoveryCodeUsed,
    /// An administrator removed the account's second factors.
    FactorsReset,
}

struct Text {
    subject: &'static str,
    lines: &'static [&'static str],
    button: &'static str,
    footer: &'static str,
}

fn text(kind: Kind, locale: Locale) -> Text {
    use Kind::*;
    match (locale, kind) {
        (Locale::En, SignInLink) => Text {
            subject: "Sign in",
            lines: &[
                "Someone (we hope you) asked to sign in with this address.",
                "The link works once, for a few minutes.",
            ],
            button: "Sign in",
            footer: "If it was not you, ignore this message: nobody is signed in.",
        },
        (Locale::De, SignInLink) => Text {
            subject: "Anmelden",
            lines: &[
                "Jemand (hoffentlich Sie) möchte sich mit dieser Adresse anmelden.",
                "Der Link gilt einmal, für wenige Minuten.",
            ],
            button: "Anmelden",
            footer: "Waren Sie es nicht, ignorieren Sie diese Nachricht: Niemand wird angemeldet.",
        },
        (Locale::En, RecoveryCodeUsed) => Text {
            subject: "A recovery code was used",
            lines: &[
                "Someone signed in to your account with one of its recovery codes instead of the authenticator app's code.",
                "Each code works once. If it was not you, set a new password now: that ends every session. Then make new recovery codes.",
            ],
            button: "Set a new password",
            footer: "If it was you, there is nothing more to do here.",
        },
        (Locale::De, RecoveryCodeUsed) => Text {
            subject: "Ein Wiederherstellungscode wurde benutzt",
            lines: &[
                "Jemand hat sich mit einem Wiederherstellungscode statt mit dem Code der Authenticator-App bei Ihrem Konto angemeldet.",
                "Jeder Code gilt einmal. Waren Sie es nicht, legen Sie jetzt ein neues Passwort fest: Das beendet alle Sitzungen. Erzeugen Sie danach neue Wiederherstellungscodes.",
            ],
            button: "Neues Passwort festlegen",
            footer: "Waren Sie es, ist hier nichts weiter zu tun.",
        },
        (Locale::En, FactorsReset) => Text {
            subject: "Your second factors were removed",
            lines: &[
                "An administrator removed your account's authenticator app, recovery codes and trusted browsers.",
                "Sign in with your password, then set up the authenticator app again. If you did not ask for this, set a new password now.",
            ],
            button: "Set a new password",
            footer: "If you asked for it, there is nothing more to do here.",
        },
        (Locale::De, FactorsReset) => Text {
            subject: "Ihre zweiten Faktoren wurden entfernt",
            lines: &[
                "Ein Administrator hat die Authenticator-App, die Wiederherstellungscodes und die vertrauenswürdigen Browser Ihres Kontos entfernt.",
                "Melden Sie sich mit Ihrem Passwort an und richten Sie die Authenticator-App neu ein. Haben Sie das nicht veranlasst, legen Sie jetzt ein neues Passwort fest.",
            ],
            button: "Neues Passwort festlegen",
            footer: "Haben Sie es veranlasst, ist hier nichts weiter zu tun.",
        },
        (Locale::En, ResetPassword) => Text {
            subject: "Set a new password",
            lines: &[
                "Someone (we hope you) asked to set a new password for your account.",
                "The link works once, for one hour.",
            ],
            button: "Set a new password",
            footer: "If it was not you, ignore this message: your password stays as it is.",
        },
        (Locale::De, ResetPassword) => Text {
            subject: "Neues Passwort festlegen",
            lines: &[
                "Jemand (hoffentlich Sie) möchte ein neues Passwort für Ihr Konto festlegen.",
                "Der Link gilt einmal, eine Stunde lang.",
            ],
            button: "Neues Passwort festlegen",
            footer: "Waren Sie es nicht, ignorieren Sie diese Nachricht: Ihr Passwort bleibt, wie es ist.",
        },
        (Locale::En, VerifyEmail) => Text {
            subject: "Confirm your email address",
            lines: &[
                "Welcome! Confirm that this address is yours to finish signing up.",
                "The link works once, for 24 hours.",
            ],
            button: "Confirm my address",
            footer: "If you did not sign up, ignore this message.",
        },
        (Locale::De, VerifyEmail) => Text {
            subject: "Bestätigen Sie Ihre E-Mail-Adresse",
            lines: &[
                "Willkommen! Bestätigen Sie, dass diese Adresse Ihnen gehört.",
                "Der Link gilt einmal, 24 Stunden lang.",
            ],
            button: "Adresse bestätigen",
            footer: "Haben Sie sich nicht registriert, ignorieren Sie diese Nachricht.",
        },
        (Locale::En, SignUpAttempted) => Text {
            subject: "Someone tried to sign up with your address",
            lines: &[
                "Someone tried to create an account with this address, which already has one.",
                "If it was you, sign in instead; if you forgot your password, set a new one.",
            ],
            button: "Sign in",
            footer: "If it was not you, ignore this message: nothing changed.",
        },
        (Locale::En, Invitation) => Text {
            subject: "You are invited",
            lines: &[
                "An account was made for you with this address.",
                "Choose your password through the link; it works once, for 24 hours.",
            ],
            button: "Choose my password",
            footer: "If you did not expect this, ignore this message.",
        },
        (Locale::De, Invitation) => Text {
            subject: "Sie sind eingeladen",
            lines: &[
                "Für diese Adresse wurde ein Konto angelegt.",
                "Wählen Sie Ihr Passwort über den Link; er gilt einmal, 24 Stunden lang.",
            ],
            button: "Passwort wählen",
            footer: "Haben Sie das nicht erwartet, ignorieren Sie diese Nachricht.",
        },
        (Locale::En, ChangeEmail) => Text {
            subject: "Confirm your new email address",
            lines: &[
                "Your account asked to use this address from now on.",
                "Confirm it through the link; it works once, for 24 hours. Every session of the account then ends: sign in with this address.",
            ],
            button: "Use this address",
            footer: "If you did not ask for it, ignore this message: nothing changes.",
        },
        (Locale::De, ChangeEmail) => Text {
            subject: "Bestätigen Sie Ihre neue E-Mail-Adresse",
            lines: &[
                "Ihr Konto möchte ab jetzt diese Adresse verwenden.",
                "Bestätigen Sie sie über den Link; er gilt einmal, 24 Stunden lang. Danach enden alle Sitzungen des Kontos: Melden Sie sich mit dieser Adresse an.",
            ],
            button: "Diese Adresse verwenden",
            footer: "Haben Sie das nicht veranlasst, ignorieren Sie diese Nachricht: Es ändert sich nichts.",
        },
        (Locale::En, EmailChangeNotice) => Text {
            subject: "Your account is moving to another address",
            lines: &[
                "Your account asked to use another email address. It moves once the new address is confirmed.",
                "If it was not you, set a new password now: that ends every session.",
            ],
            button: "Set a new password",
            footer: "If it was you, there is nothing more to do here.",
        },
        (Locale::De, EmailChangeNotice) => Text {
            subject: "Ihr Konto zieht auf eine andere Adresse um",
            lines: &[
                "Ihr Konto möchte eine andere E-Mail-Adresse verwenden. Es zieht um, sobald die neue Adresse bestätigt ist.",
                "Waren Sie es nicht, legen Sie jetzt ein neues Passwort fest: Das beendet alle Sitzungen.",
            ],
            button: "Neues Passwort festlegen",
            footer: "Waren Sie es, ist hier nichts weiter zu tun.",
        },
        (Locale::De, SignUpAttempted) => Text {
            subject: "Jemand wollte sich mit Ihrer Adresse registrieren",
            lines: &[
                "Jemand wollte mit dieser Adresse ein Konto anlegen; sie hat schon eines.",
                "Waren Sie es, melden Sie sich an; haben Sie Ihr Passwort vergessen, legen Sie ein neues fest.",
            ],
            button: "Anmelden",
            footer: "Waren Sie es nicht, ignorieren Sie diese Nachricht: Es hat sich nichts geändert.",
        },
    }
}

/// `&`, `<`, `>` and quotes as HTML entities (a dozen lines: no crate needed
/// for the two kinds of value these messages hold).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The message `kind` to `to`, in `locale`, with `link`; `site` names the
/// site in the subject.
pub fn render(kind: Kind, locale: Locale, site: &str, to: &str, link: &str) -> Mail {
    let t = text(kind, locale);
    let mut plain = String::new();
    for line in t.lines {
        plain.push_str(line);
        plain.push_str("\n\n");
    }
    plain.push_str(&format!("{}: {link}\n\n{}\n", t.button, t.footer));
    let mut html = String::from(
        "<!DOCTYPE html><html><body style=\"font-family:system-ui,sans-serif;line-height:1.5\">",
    );
    for line in t.lines {
        html.push_str(&format!("<p>{}</p>", escape(line)));
    }
    html.push_str(&format!(
        "<p><a href=\"{}\" style=\"display:inline-block;padding:.6em 1.2em;background:#0b5cad;\
         color:#fff;border-radius:6px;text-decoration:none\">{}</a></p>\
         <p style=\"color:#57606a;font-size:.9em\">{}</p></body></html>",
        escape(link),
        escape(t.button),
        escape(t.footer)
    ));
    Mail {
        to: to.to_string(),
        subject: format!("{} · {site}", t.subject),
        text: plain,
        html,
        link: Some(link.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_its_link_in_both_bodies_in_every_language() {
        for locale in Locale::ALL {
            for kind in [
                Kind::ResetPassword,
                Kind::VerifyEmail,
                Kind::SignUpAttempted,
                Kind::Invitation,
                Kind::ChangeEmail,
                Kind::EmailChangeNotice,
                Kind::SignInLink,
                Kind::RecoveryCodeUsed,
                Kind::FactorsReset,
            ] {
                let mail = render(kind, locale, "Site", "a@b.c", "http://x/?token=a&b=c");
                assert!(mail.text.contains("http://x/?token=a&b=c"));
                assert!(mail.html.contains("href=\"http://x/?token=a&amp;b=c\""));
                assert!(mail.subject.ends_with(" · Site"));
            }
        }
        assert_ne!(
            render(Kind::ResetPassword, Locale::En, "S", "a@b.c", "l").subject,
            render(Kind::ResetPassword, Locale::De, "S", "a@b.c", "l").subject
        );
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
