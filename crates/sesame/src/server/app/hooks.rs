//! The application's parts (`authorize`, callbacks, events) with its user type
//! erased, so that [`Auth`](crate::server::Auth) stays one type that request
//! extensions and server functions can name. The user travels as a
//! [`SignedInUser`]: the fields the session shows, the serialised value the
//! session keeps, and the typed value for the callbacks of the same sign-in.

use std::{any::Any, marker::PhantomData, sync::Arc};

use async_trait::async_trait;

use crate::server::{
    app::app_user::AuthUser,
    app::authorize::{Authorize, AuthorizeError, Credentials},
    app::callbacks::{Callbacks, Events, SignInDecision},
    defense::audit::AuditEvent,
    defense::callback_url::CallbackPolicy,
    session::data::SessionData,
    stores::users::UserRecord,
};
use crate::{wire::AuthError, wire::Session};

/// The user `authorize` accepted, whatever the application's type.
pub(crate) struct SignedInUser {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub image: Option<String>,
    /// The application's value, as the session keeps it.
    pub stored: serde_json::Value,
    /// The application's value itself.
    typed: Box<dyn Any + Send + Sync>,
}

impl SignedInUser {
    fn new<U: AuthUser>(user: U) -> Result<Self, AuthorizeError> {
        let stored = serde_json::to_value(&user)
            .map_err(|e| AuthorizeError::Other(format!("the user does not serialise: {e}")))?;
        Ok(SignedInUser {
            id: user.id(),
            email: user.email().to_string(),
            name: user.name().map(str::to_string),
            image: user.image().map(str::to_string),
            stored,
            typed: Box::new(user),
        })
    }

    fn typed<U: AuthUser>(&self) -> &U {
        self.typed
            .downcast_ref()
            .expect("a SignedInUser is only handed back to the parts that made it")
    }
}

/// The application's parts, user type erased.
#[async_trait]
pub(crate) trait Hooks: Send + Sync + 'static {
    async fn authorize(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<SignedInUser>, AuthorizeError>;
    async fn sign_in(
        &self,
        user: &SignedInUser,
        amr: &[String],
        provider: Option<&crate::server::providers::Profile>,
    ) -> SignInDecision;
    async fn user_for(&self, user: &UserRecord) -> Result<Option<SignedInUser>, AuthorizeError>;
    fn redirect(&self, url: Option<&str>, policy: &CallbackPolicy) -> Result<String, AuthError>;
    fn session(&self, session: Session, data: &SessionData) -> Session;
    async fn update_session(
        &self,
        data: &mut SessionData,
        update: &serde_json::Value,
    ) -> Result<(), AuthError>;
    async fn signed_in(&self, user: &SignedInUser);
    async fn sign_out(&self, user_id: Option<&str>);
    async fn audit(&self, event: &AuditEvent);
}

/// The parts of one application, all for its user type `U`.
pub(crate) struct Typed<U: AuthUser> {
    pub authorize: Arc<dyn Authorize<User = U>>,
    pub callbacks: Arc<dyn Callbacks<U>>,
    pub events: Arc<dyn Events<U>>,
    pub user: PhantomData<fn() -> U>,
}

#[async_trait]
impl<U: AuthUser> Hooks for Typed<U> {
    async fn authorize(
        &self,
        credentials: &Credentials,
    ) -> Result<Option<SignedInUser>, AuthorizeError> {
        self.authorize
            .authorize(credentials)
            .await?
            .map(SignedInUser::new)
            .transpose()
    }

    async fn sign_in(
        &self,
        user: &SignedInUser,
        amr: &[String],
        provider: Option<&crate::server::providers::Profile>,
    ) -> SignInDecision {
        self.callbacks
            .sign_in_with_factors(user.typed::<U>(), amr, provider)
            .await
    }

    async fn user_for(&self, user: &UserRecord) -> Result<Option<SignedInUser>, AuthorizeError> {
        self.authorize
            .user_for(user)
            .await?
            .map(SignedInUser::new)
            .transpose()
    }

    fn redirect(&self, url: Option<&str>, policy: &CallbackPolicy) -> Result<String, AuthError> {
        self.callbacks.redirect(url, policy)
    }

    fn session(&self, session: Session, data: &SessionData) -> Session {
        self.callbacks.session(session, data)
    }

    async fn update_session(
        &self,
        data: &mut SessionData,
        update: &serde_json::Value,
    ) -> Result<(), AuthError> {
        self.callbacks.update_session(data, update).await
    }

    async fn signed_in(&self, user: &SignedInUser) {
        self.events.sign_in(user.typed::<U>()).await
    }

    async fn sign_out(&self, user_id: Option<&str>) {
        self.events.sign_out(user_id).await
    }

    async fn audit(&self, event: &AuditEvent) {
        self.events.audit(event).await
    }
}
