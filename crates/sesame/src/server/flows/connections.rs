//! The signed-in user's provider accounts (`/account/connections`): the
//! list, and removing one, which needs a recent sign-in (a provider
//! account cannot be asked for a password) and never removes the last way
//! to sign in. Linking one is a provider flow started by the user
//! ([`super::oauth::start`] with `link`).

use super::own_account::{checked, is_recent, rfc3339, user_of, Done, Request};
use crate::server::{session::lifecycle, stores::links::Unlinked};
use crate::wire::{AuthError, Connections};
use crate::Connection;

fn store_error(cause: impl std::fmt::Display) -> AuthError {
    tracing::error!(%cause, "reading or changing the provider links failed");
    AuthError::Signin
}

/// The user's links, the configured providers, and whether they have a password.
pub async fn list(req: &Request<'_>) -> Result<Connections, AuthError> {
    let (data, _) = lifecycle::signed_in(req.session, &req.auth.config)
        .await
        .ok_or(AuthError::SessionRequired)?;
    let user = user_of(req.auth, &data).await?;
    let links = req.auth.links.list(user.id).await.map_err(store_error)?;
    let name_of = |id: &str| {
        req.auth
            .providers
            .get(id)
            .map(|p| p.name())
            .unwrap_or_else(|| id.to_string())
    };
    Ok(Connections {
        connected: links
            .into_iter()
            .map(|l| Connection {
                name: name_of(&l.provider),
                provider: l.provider,
                account_id: l.account_id,
                email: l.email,
                connected_at: rfc3339(l.created_at),
            })
            .collect(),
        providers: req
            .auth
            .providers
            .iter()
            .map(|p| (p.id().to_string(), p.name()))
            .collect(),
        has_password: !user.password_hash.is_empty(),
    })
}

/// Unlinks the user's account `account_id` at `provider`.
pub async fn disconnect(
    req: &Request<'_>,
    csrf_token: &str,
    provider: &str,
    account_id: &str,
) -> Result<Done, AuthError> {
    let (data, _) = checked(req, csrf_token).await?;
    if !is_recent(&data, req.auth) {
        return Err(AuthError::ReauthRequired);
    }
    let user = user_of(req.auth, &data).await?;
    match req
        .auth
        .links
        .unlink(user.id, provider, account_id)
        .await
        .map_err(store_error)?
    {
        Unlinked::Removed => {
            tracing::info!(
                user_id = user.id,
                provider,
                "a provider account was disconnected"
            );
            Ok(Done::Disconnected)
        }
        Unlinked::NotFound => Err(AuthError::InvalidRequest),
        Unlinked::LastWay => Err(AuthError::LastSignInMethod),
    }
}
