//! Callbacks and events (NextAuth's `callbacks` and `events`), as traits the
//! application implements in Rust for its user type (`U`, [`AuthorizedUser`]
//! unless `authorize` returns another). Every method has a default, so an app
//! overrides only what it needs.

use async_trait::async_trait;

use crate::server::{
    app::app_user::{AuthUser, AuthorizedUser},
    defense::audit::AuditEvent,
    defense::callback_url::CallbackPolicy,
    providers::Profile as ProviderProfile,
    session::data::SessionData,
};
use crate::{wire::AuthError, wire::Session};

/// What the sign-in callback decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInDecision {
    /// Sign the user in.
    Allow,
    /// Refuse: answered exactly as a wrong password (`CredentialsSignin`
    /// 401), so the answer never tells that the password was right; the
    /// refusal is logged and counted as a failure.
    Deny,
    /// Refuse and send the user here instead (a path or an allowed URL).
    Redirect(String),
}

/// NextAuth's `callbacks`.
#[async_trait]
pub trait Callbacks<U: AuthUser = AuthorizedUser>: Send + Sync + 'static {
    /// Runs after `authorize` accepted the credentials, before a session starts.
    async fn sign_in(&self, _user: &U) -> SignInDecision {
        SignInDecision::Allow
    }

    /// Runs after a provider (OAuth, OpenID Connect) vouched for the user,
    /// before a session starts: `profile` names the provider and says what
    /// it said about the account. The default is [`Callbacks::sign_in`].
    /// A `Deny` is answered `AccessDenied`.
    async fn sign_in_with_provider(&self, user: &U, _profile: &ProviderProfile) -> SignInDecision {
        self.sign_in(user).await
    }

    /// Runs for every way in, before a session starts, with how the user
    /// signed in (`amr`: `pwd`, `email`, `oauth:<provider>`, then `otp`,
    /// `recovery`, `hwk` or `trusted` for the second factor) and the
    /// provider's profile if there was one: an admin role can be refused
    /// without a second factor here. The default is
    /// [`Callbacks::sign_in_with_provider`] with a profile, else
    /// [`Callbacks::sign_in`].
    async fn sign_in_with_factors(
        &self,
        user: &U,
        _amr: &[String],
        profile: Option<&ProviderProfile>,
    ) -> SignInDecision {
        match profile {
            Some(profile) => self.sign_in_with_provider(user, profile).await,
            None => self.sign_in(user).await,
        }
    }

    /// Where to send the user after signing in or out: the `callbackUrl` policy.
    /// The default accepts the site's origin and `site.redirect_origins`.
    fn redirect(&self, url: Option<&str>, policy: &CallbackPolicy) -> Result<String, AuthError> {
        policy.resolve(url)
    }

    /// Shapes the session that `/api/auth/session`, `use_session` and the
    /// server-rendered pages see. Add fields to `session.extra`; the user
    /// `authorize` returned is [`SessionData::user`].
    ///
    /// What it returns must follow from its arguments: `/api/auth/session`
    /// calls it once per version of a session (its sign-in, each renewal,
    /// each [`Callbacks::update_session`]) and answers later checks of that
    /// version with the same view. To show a change of the user in a live
    /// session, update the session (`update()` on the client) or end it.
    fn session(&self, session: Session, _data: &SessionData) -> Session {
        session
    }

    /// A session update from the client (POST `/api/auth/session` with `data`).
    /// The default lets the user's `name` and `image` be changed in the session.
    async fn update_session(
        &self,
        data: &mut SessionData,
        update: &serde_json::Value,
    ) -> Result<(), AuthError> {
        if let Some(name) = update.get("name") {
            data.name = name.as_str().map(str::to_string);
        }
        if let Some(image) = update.get("image") {
            data.image = image.as_str().map(str::to_string);
        }
        Ok(())
    }
}

/// NextAuth's `events`: notifications after the fact, for audit logs and the like.
#[async_trait]
pub trait Events<U: AuthUser = AuthorizedUser>: Send + Sync + 'static {
    /// A user signed in.
    async fn sign_in(&self, _user: &U) {}
    /// A session ended by sign-out (`None`: it was not signed in).
    async fn sign_out(&self, _user_id: Option<&str>) {}
    /// Every sign-in attempt, sign-out and lockout, whatever its outcome (they
    /// are logged under `sesame::audit` as well): route them to your sink.
    async fn audit(&self, _event: &AuditEvent) {}
}

/// The default callbacks and events.
#[derive(Debug, Default, Clone, Copy)]
pub struct Defaults;

impl<U: AuthUser> Callbacks<U> for Defaults {}
impl<U: AuthUser> Events<U> for Defaults {}
