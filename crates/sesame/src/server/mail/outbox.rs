//! Account mail as the flows send it: every message through the mail
//! budgets first ([`crate::server::defense::budgets`]), then the configured transport
//! ([`crate::server::mail`]).

use crate::server::{mail::Mail, state::Auth};

impl Auth {
    /// Sends `mail` (for the account `account`, if any) within the mail
    /// budgets; a message over budget is dropped and logged. `Err` is a
    /// delivery failure, for the log.
    pub(crate) async fn send_mail(&self, mail: Mail, account: Option<i64>) -> Result<(), String> {
        if let Err(limited) = self.budgets.mail(&mail.to, account).await {
            tracing::warn!(
                event = "mail_budget_spent",
                account,
                ?limited,
                "a message was not sent: its recipient's or account's budget is spent"
            );
            return Ok(());
        }
        self.mailer.send(mail).await.map_err(|e| e.to_string())
    }
}
