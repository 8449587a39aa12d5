//! Audit events: every sign-in attempt, sign-out and lockout is one structured
//! event, with the account it targeted (a keyed hash by default, see
//! `audit.account`), the user id once known, the client IP, the user agent and
//! the outcome. Never a password, session id or CSRF token.
//!
//! Each event is logged once under the `sesame::audit` target and handed to
//! [`crate::server::app::callbacks::Events::audit`], where an application routes it to its
//! own sink (a table, a SIEM, a queue).

use std::net::IpAddr;

use serde::Serialize;

use crate::server::{config::AuditAccount, defense::keys::Secrets, stores::users::Identifier};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A credentials sign-in attempt.
    SignIn,
    /// A sign-out.
    SignOut,
    /// An account (or a device) was locked by its failures.
    Lockout,
    /// A second-factor step (a code, a recovery code).
    SecondFactor,
    /// A change to the account's second factors (enrolled, turned off,
    /// new recovery codes, a trusted browser forgotten).
    FactorChange,
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It went through.
    Success,
    /// Wrong or incomplete credentials, or an unknown account.
    WrongCredentials,
    /// The `sign_in` callback refused the account (answered as a wrong password).
    Refused,
    /// The per-IP rate limit refused the attempt.
    RateLimited,
    /// The account's (or device's) failure policy refused it.
    Locked,
    /// No hashing slot was free.
    Busy,
    /// The CSRF token or the origin did not check out.
    MissingCsrf,
    /// The `callbackUrl` is not allowed.
    InvalidCallbackUrl,
    /// A store or session failure.
    Error,
    /// The first factor passed; the sign-in waits for the second.
    SecondFactorRequired,
    /// A wrong second-factor code.
    WrongCode,
    /// A code (its time step) or a recovery code used before.
    CodeReplayed,
    /// The user's sessions were all ended while the sign-in ran (a sign-out
    /// everywhere, a new password, a disabled account, a second factor
    /// added): the session it was to start was refused.
    SessionsEnded,
    /// A lock began (with [`AuditAction::Lockout`]); `hard` at the cap.
    Started {
        /// How long the account waits before its next attempt.
        wait_seconds: u64,
        /// The hard cap: only a success from a trusted device, or an operator, ends it.
        hard: bool,
    },
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// What was attempted.
    pub action: AuditAction,
    /// How it ended.
    pub outcome: Outcome,
    /// The targeted account: a keyed hash of the normalised identifier, or
    /// the identifier itself with `audit.account = "plain"`.
    pub account: Option<String>,
    /// The user, once known (a successful or refused-after-check attempt).
    pub user_id: Option<String>,
    /// The client's IP (through the trusted proxies).
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, at most 256 printable ASCII characters.
    pub user_agent: Option<String>,
    /// The provider of a sign-in through one (`github`); `None` for the
    /// password and everything else.
    pub provider: Option<String>,
    /// How the sign-in was made (`pwd`, `otp`, `oauth:github`…; see the
    /// session's `amr`), for a sign-in event; empty otherwise.
    pub amr: Vec<String>,
}

impl AuditEvent {
    /// The `event` field of the log line.
    pub fn name(&self) -> &'static str {
        match (self.action, self.outcome) {
            (_, Outcome::MissingCsrf) => "csrf_refused",
            (AuditAction::SignIn, Outcome::Success) => "sign_in",
            (AuditAction::SignIn, Outcome::RateLimited | Outcome::Locked) => "rate_limited",
            (AuditAction::SignIn, Outcome::Busy) => "sign_in_busy",
            (AuditAction::SignIn, Outcome::SecondFactorRequired) => "second_factor_required",
            (AuditAction::SignIn, _) => "sign_in_failed",
            (AuditAction::SignOut, Outcome::Success) => "sign_out",
            (AuditAction::SignOut, _) => "sign_out_failed",
            (AuditAction::Lockout, _) => "lockout",
            (AuditAction::SecondFactor, Outcome::Success) => "second_factor",
            (AuditAction::SecondFactor, _) => "second_factor_failed",
            (AuditAction::FactorChange, _) => "factor_changed",
        }
    }

    /// Logs the event once, under the `sesame::audit` target.
    pub fn log(&self) {
        let outcome = serde_json::to_string(&self.outcome).unwrap_or_default();
        tracing::info!(
            target: "sesame::audit",
            event = self.name(),
            action = ?self.action,
            outcome = %outcome,
            account = self.account.as_deref().unwrap_or(""),
            user_id = self.user_id.as_deref().unwrap_or(""),
            ip = %self.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            user_agent = self.user_agent.as_deref().unwrap_or(""),
            provider = self.provider.as_deref().unwrap_or(""),
            amr = %self.amr.join(" "),
            "audit"
        );
    }
}

/// How events name accounts.
#[derive(Debug)]
pub struct AccountNamer {
    mode: AuditAccount,
}

impl AccountNamer {
    /// Names accounts as `mode` says.
    pub fn new(mode: AuditAccount) -> Self {
        AccountNamer { mode }
    }

    /// The account as the events show it.
    pub fn name(&self, secrets: &Secrets, account: &Identifier) -> String {
        match self.mode {
            AuditAccount::Plain => account.as_str().to_string(),
            AuditAccount::Hashed => {
                hex::encode(&secrets.sign("audit", &[account.as_str().as_bytes()])[..16])
            }
        }
    }
}

/// A `User-Agent` value fit for a log line: printable ASCII, at most 256 bytes.
pub fn user_agent(headers: &http::HeaderMap) -> Option<String> {
    let raw = headers.get(http::header::USER_AGENT)?.as_bytes();
    Some(
        raw.iter()
            .filter(|b| b.is_ascii_graphic() || **b == b' ')
            .take(256)
            .map(|b| char::from(*b))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_hashed_with_the_secret_unless_plain_is_asked() {
        let secrets = Secrets::new(vec![b"k".repeat(32)]);
        let other = Secrets::new(vec![b"j".repeat(32)]);
        let id = Identifier::parse("Demo@Example.com").unwrap();
        let hashed = AccountNamer::new(AuditAccount::Hashed);
        let name = hashed.name(&secrets, &id);
        assert_eq!(name.len(), 32);
        assert!(!name.contains("demo"));
        assert_eq!(
            name,
            hashed.name(&secrets, &Identifier::parse("demo@example.com").unwrap())
        );
        assert_ne!(name, hashed.name(&other, &id), "keyed: no rainbow table");
        assert_eq!(
            AccountNamer::new(AuditAccount::Plain).name(&secrets, &id),
            "demo@example.com"
        );
    }

    #[test]
    fn user_agents_cannot_forge_log_lines() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_bytes(b"Mozilla/5.0 \t\xff\xfeevil=1").unwrap(),
        );
        assert_eq!(user_agent(&headers).unwrap(), "Mozilla/5.0 evil=1");
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_str(&"a".repeat(1000)).unwrap(),
        );
        assert_eq!(user_agent(&headers).unwrap().len(), 256);
    }
}
