//! The door every way into a session passes once its first factor is
//! through (see `sign_in::enter`): open for an account without a second
//! factor, open for a browser the account trusts, and otherwise closed
//! behind a pending record that the step (`flows::second_factor`) finishes.

use http::HeaderValue;

use super::{cookie, now, pending, row_id, trusted, Factors};

/// What the door says.
#[derive(Debug)]
pub(crate) enum Gate {
    /// No second factor for this account.
    Open,
    /// A browser the account trusts (its `amr` says `trusted`).
    Trusted,
    /// The step first: the pending record's cookie to set.
    Required(HeaderValue),
}

impl Factors {
    /// The door for the user `user_id` (the application's id; accounts of
    /// Sesame's own tables have factors), coming with `trusted_cookie`;
    /// `state` is what a pending record keeps. `factorless` is the account
    /// the sign-in found without a factor after it read the revocation
    /// sequence (before its first factor was checked): that account's door
    /// is open without reading again, since a factor added since then
    /// renumbers its revocations and the session's insert stores nothing
    /// (`Sessions::factor_added`).
    pub(crate) async fn gate(
        &self,
        user_id: &str,
        factorless: Option<i64>,
        trusted_cookie: Option<&str>,
        state: impl FnOnce() -> pending::PendingState,
    ) -> Result<Gate, sqlx::Error> {
        let Some(id) = row_id(user_id) else {
            return Ok(Gate::Open);
        };
        if factorless == Some(id) || !self.store.has_factor(id).await? {
            return Ok(Gate::Open);
        }
        if let Some(hash) = trusted_cookie.and_then(|value| trusted::check(&self.keys, value, id)) {
            if self.store.is_trusted(&hash, id, now()).await? {
                return Ok(Gate::Trusted);
            }
        }
        let (raw, hash) = pending::new_id();
        let json = serde_json::to_string(&state()).expect("the pending state serialises");
        self.store
            .put_pending(&hash, id, &json, now() + pending::LIFETIME)
            .await?;
        Ok(Gate::Required(cookie(
            pending::COOKIE,
            &raw,
            pending::LIFETIME,
            self.secure,
        )))
    }
}
