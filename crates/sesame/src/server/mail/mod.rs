//! Account email: the messages (text and HTML, from the catalog in
//! [`templates`]) and their delivery. With `email.smtp` they go out through
//! SMTP (`lettre`, STARTTLS or TLS with rustls); without it, in development,
//! they are written to the `email.outbox` folder as `.eml` files and their
//! link is logged, so the flows can be walked through offline. In production
//! without SMTP nothing is sent and each message is an error in the log.

pub(crate) mod outbox;
pub mod templates;

use std::{path::PathBuf, sync::Arc};

use lettre::{
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;

use super::config::{Config, ConfigError, Environment, SmtpSecurity};

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// The message's link, logged when it goes to the outbox.
    pub link: Option<String>,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// No SMTP server is configured (production).
    #[error("no email.smtp is configured: the message was not sent")]
    NotConfigured,
    /// The message could not be built (an address that is not one).
    #[error("the message could not be built: {0}")]
    Build(String),
    /// The SMTP server refused it or could not be reached.
    #[error("smtp: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The outbox could not be written.
    #[error("outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
    Nowhere,
}

/// Sends account email the configured way. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.transport.as_ref() {
            Transport::Smtp(_) => "smtp",
            Transport::Outbox(_) => "outbox",
            Transport::Nowhere => "nowhere",
        };
        write!(f, "Mailer({how})")
    }
}

impl Mailer {
    /// The mailer `config` describes.
    pub fn new(config: &Config) -> Result<Mailer, ConfigError> {
        let email = &config.email;
        let from: Mailbox = email
            .from
            .parse()
            .map_err(|e| ConfigError::invalid("email.from", format!("`{}`: {e}", email.from)))?;
        let transport = match (&email.smtp, &email.outbox) {
            (Some(smtp), _) => {
                let builder = match smtp.security {
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
                    SmtpSecurity::None => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
                    ),
                }
                .map_err(|e| ConfigError::invalid("email.smtp.host", e.to_string()))?;
                let port = smtp.port.unwrap_or(match smtp.security {
                    SmtpSecurity::Starttls => 587,
                    SmtpSecurity::Tls => 465,
                    SmtpSecurity::None => 25,
                });
                let mut builder = builder
                    .port(port)
                    .timeout(Some(std::time::Duration::from_secs(10)));
                if let Some(user) = &smtp.username {
                    let password = match (&smtp.password, &smtp.password_file) {
                        (Some(p), _) => p.expose_secret().to_string(),
                        (None, Some(file)) => std::fs::read_to_string(file)
                            .map_err(|e| {
                                ConfigError::invalid(
                                    "email.smtp.password_file",
                                    format!("cannot read {}: {e}", file.display()),
                                )
                            })?
                            .lines()
                            .next()
                            .unwrap_or("")
                            .to_string(),
                        (None, None) => {
                            return Err(ConfigError::invalid(
                                "email.smtp.password",
                                "a username needs a password (SESAME_EMAIL__SMTP__PASSWORD or password_file)",
                            ))
                        }
                    };
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                Transport::Smtp(builder.build())
            }
            (None, Some(outbox)) if config.environment == Environment::Development => {
                Transport::Outbox(outbox.clone())
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    "email.outbox",
                    "the outbox is for development: set email.smtp in production",
                ))
            }
            (None, None) => Transport::Nowhere,
        };
        Ok(Mailer {
            from,
            transport: Arc::new(transport),
        })
    }

    /// Sends `mail`.
    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))?;
        match self.transport.as_ref() {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Outbox(dir) => {
                crate::server::defense::files::create_private_dir(dir)?;
                let name = format!(
                    "{}-{}.eml",
                    time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
                    hex::encode(rand::random::<[u8; 4]>())
                );
                let path = dir.join(name);
                crate::server::defense::files::write_private_bytes(&path, &message.formatted())?;
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    link = mail.link.as_deref().unwrap_or(""),
                    path = %path.display(),
                    "development: email written to the outbox"
                );
            }
            Transport::Nowhere => return Err(MailError::NotConfigured),
        }
        Ok(())
    }
}
