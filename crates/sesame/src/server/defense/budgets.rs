//! Budgets for what one user, one session or a flood can make the server do
//! besides sign-in attempts (those are [`crate::server::defense::limits`] and
//! [`crate::server::defense::lockout`]): every message the server sends counts against a
//! per-recipient and a per-account budget (`limits.mail_per_recipient`,
//! `limits.mail_per_account`), and every account action against a
//! per-session and a per-account one (`limits.account_actions_per_session`,
//! `limits.account_actions_per_account`). The per-IP limit still applies
//! where it did. With `redis.url` the counters are Redis's, shared by every
//! instance, like the per-IP limit's.
//!
//! A message over budget is not sent (and logged): the answer to the
//! request that caused it was given already and says nothing about it, so
//! nobody learns from it whether an account exists. An action over budget
//! is refused `RateLimited`.

use sha2::{Digest, Sha256};

use crate::server::{
    config::LimitsConfig,
    defense::limits::{whole_seconds, Limited, RateLimiter, Refusal},
    session::store::SessionHandle,
    stores::Backends,
};

/// The budgets of one instance (or of all, in Redis).
pub struct Budgets {
    mail_to: Box<dyn RateLimiter>,
    mail_account: Box<dyn RateLimiter>,
    action_session: Box<dyn RateLimiter>,
    action_account: Box<dyn RateLimiter>,
}

impl std::fmt::Debug for Budgets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budgets").finish_non_exhaustive()
    }
}

/// A key that names a recipient without holding the address.
fn recipient_key(to: &str) -> String {
    hex::encode(&Sha256::digest(to.trim().to_lowercase().as_bytes())[..16])
}

/// Counts one on `limiter` under `key`.
async fn count(limiter: &dyn RateLimiter, key: &str) -> Result<(), Limited> {
    match limiter.check(key).await {
        Ok(()) => Ok(()),
        Err(Refusal::Wait(wait)) => Err(Limited::Wait(whole_seconds(wait))),
        Err(Refusal::Unavailable(cause)) => {
            tracing::error!(%cause, "the budget counters did not answer");
            Err(Limited::Unavailable)
        }
    }
}

impl Budgets {
    /// The budgets of `config`, counted where `backends` say.
    pub fn new(backends: &Backends, config: &LimitsConfig) -> Budgets {
        let limiter = |name, rate| backends.rate_limiter(name, rate, config.tracked_keys);
        Budgets {
            mail_to: limiter("budget:mail-to", config.mail_per_recipient),
            mail_account: limiter("budget:mail-account", config.mail_per_account),
            action_session: limiter("budget:action-session", config.account_actions_per_session),
            action_account: limiter("budget:action-account", config.account_actions_per_account),
        }
    }

    /// Counts one message to `to` (for the account `account`, if any);
    /// refused when either budget is spent.
    pub async fn mail(&self, to: &str, account: Option<i64>) -> Result<(), Limited> {
        count(self.mail_to.as_ref(), &recipient_key(to)).await?;
        if let Some(account) = account {
            count(self.mail_account.as_ref(), &account.to_string()).await?;
        }
        Ok(())
    }

    /// Counts one account action of `session` (of user `user_id`);
    /// refused when either budget is spent.
    pub async fn action(&self, session: &SessionHandle, user_id: &str) -> Result<(), Limited> {
        count(self.action_session.as_ref(), &session.to_string()).await?;
        count(self.action_account.as_ref(), user_id).await
    }

    /// Forgets keys back to a full budget (the cleanup task calls it).
    pub fn shrink(&self) {
        self.mail_to.shrink();
        self.mail_account.shrink();
        self.action_session.shrink();
        self.action_account.shrink();
    }
}
