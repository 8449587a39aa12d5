//! Sign-in with an OAuth 2.0 or OpenID Connect provider (NextAuth's
//! `/signin/:provider` and `/callback/:provider`).
//!
//! [`start`] checks the CSRF token and the `callbackUrl`, asks the provider
//! for its authorization URL, and seals what the return needs (provider,
//! `state`, PKCE verifier, `nonce`, `callbackUrl`, a 10-minute expiry) into
//! a cookie only this server can read: the flow is bound to the browser
//! that started it and any instance with the secret can finish it.
//!
//! [`finish`] opens that cookie, checks `state` against it (a return meant
//! for another browser fails here: login CSRF), the provider's `error`, the
//! RFC 9207 `iss`, exchanges the code (the provider's checks, then the ID
//! token's), finds or makes the user under the linking rules, and goes
//! through the sign-in steps every way in shares
//! ([`enter`](super::sign_in::enter)).
//!
//! Linking rules: a provider account signs in as the user it is linked to.
//! A new one makes a user when `accounts.sign_up` is open (else
//! `AccessDenied`); when its address belongs to an existing user it is
//! `OAuthAccountNotLinked`, unless the provider's `link_by_verified_email`
//! is set and the provider verified the address. A signed-in user links one
//! from the account page ([`start`] with `link`), after a recent sign-in.

use http::HeaderValue;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tower_sessions::Session;

use super::sign_in::{counted, enter, opening, Caller, Entry, Refused, SignedIn};
use crate::server::{
    config::SignUpMode,
    defense::audit::{AuditAction, AuditEvent, Outcome},
    defense::csrf::Csrf,
    defense::lockout,
    providers::{Kept, Profile, Provider, ProviderError, ProviderTokens},
    session::lifecycle,
    state::Auth,
    stores::links::NewLink,
    stores::users::{Email, Identifier, NewUser, StoreError, UserRecord},
};
use crate::wire::AuthError;

/// How long a started flow may take to come back.
pub const FLOW_TTL_SECONDS: i64 = 10 * 60;

/// What a flow remembers between its start and the provider's return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FlowState {
    /// The provider's id.
    p: String,
    /// `state`.
    s: String,
    /// The PKCE verifier.
    v: String,
    /// The OpenID Connect `nonce`.
    n: Option<String>,
    /// The `redirect_uri` the provider was given.
    r: String,
    /// The resolved `callbackUrl`.
    c: String,
    /// Unix seconds after which the flow is void.
    e: i64,
    /// The user to link the provider account to (connecting from the
    /// account page), instead of signing in.
    l: Option<String>,
}

impl FlowState {
    /// Whether this flow may finish at `provider`'s return at `now` (Unix seconds).
    fn is_live(&self, provider: &str, now: i64) -> bool {
        self.p == provider && self.e > now
    }
}

/// The name of the flow's cookie.
pub fn cookie_name(auth: &Auth) -> &'static str {
    if auth.config.secure_cookies() {
        "__Host-sesame.oauth-flow"
    } else {
        "sesame.oauth-flow"
    }
}

fn flow_cookie(auth: &Auth, provider: &Provider, value: &str, max_age: i64) -> HeaderValue {
    let secure = auth.config.secure_cookies();
    // A `form_post` return is a cross-site POST: only a `SameSite=None`
    // cookie comes with it (and that needs https). A return by GET is a
    // top-level navigation, which `Lax` allows.
    let same_site = if provider.posts_back() && secure {
        "None"
    } else {
        "Lax"
    };
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}",
        cookie_name(auth)
    ))
    .expect("the sealed value is base64url")
}

/// The `Set-Cookie` that clears the flow's cookie.
pub fn clear_cookie(auth: &Auth) -> HeaderValue {
    let secure = if auth.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        cookie_name(auth)
    ))
    .expect("ASCII")
}

/// A started flow: where to send the browser, and the cookie to set.
#[derive(Debug, Clone)]
pub struct Started {
    pub url: String,
    pub cookie: HeaderValue,
}

/// What a start posts.
#[derive(Debug, Clone, Copy)]
pub struct Start<'a> {
    /// The provider's id.
    pub provider: &'a str,
    pub csrf_token: &'a str,
    pub callback_url: Option<&'a str>,
    /// Link the provider account to the signed-in user instead of signing in.
    pub link: bool,
}

/// POST `/signin/:provider` (or connecting from the account page, `link`):
/// the provider's authorization URL and the flow's cookie.
pub async fn start(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    form: Start<'_>,
) -> Result<Started, Refused> {
    let Start {
        provider: provider_id,
        csrf_token,
        callback_url,
        link,
    } = form;
    let (current, callback_url) = opening(auth, csrf, session, csrf_token, callback_url).await?;
    let fail = |error| Refused::new(error, Some(&callback_url));
    let Some(provider) = auth.providers.get(provider_id) else {
        return Err(fail(AuthError::InvalidRequest));
    };
    let link_to = if link {
        let Some((data, _)) = current.as_ref() else {
            return Err(fail(AuthError::SessionRequired));
        };
        if !super::own_account::is_recent(data, auth) {
            return Err(fail(AuthError::ReauthRequired));
        }
        Some(data.user_id.clone())
    } else {
        None
    };
    // Each start costs a call to the provider: counted like a sign-in.
    counted(auth, caller, Some(&callback_url)).await?;
    let authorization = match provider.authorize().await {
        Ok(a) => a,
        Err(cause) => {
            tracing::error!(provider = provider_id, %cause, "starting a provider sign-in failed");
            return Err(fail(AuthError::OAuthSignin));
        }
    };
    let state = FlowState {
        p: provider_id.to_string(),
        s: authorization.state,
        v: authorization.pkce_verifier,
        n: authorization.nonce,
        r: authorization.redirect_uri,
        c: callback_url,
        e: now() + FLOW_TTL_SECONDS,
        l: link_to,
    };
    let sealed = auth
        .flow_sealer
        .seal(&serde_json::to_vec(&state).expect("a flow state serializes"));
    Ok(Started {
        url: authorization.url,
        cookie: flow_cookie(auth, provider, &sealed, FLOW_TTL_SECONDS),
    })
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// What the provider sent back (query or posted form).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Return {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// RFC 9207.
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// What a finished flow did: signed in (or was sent elsewhere by the
/// `sign_in` callback), or linked an account to the signed-in user.
#[derive(Debug, Clone)]
pub enum Finished {
    SignedIn(Box<SignedIn>),
    /// Linked; go back to `url`.
    Linked {
        url: String,
    },
}

/// GET (or POST) `/callback/:provider`.
pub async fn finish(
    auth: &Auth,
    csrf: &Csrf,
    session: &Session,
    caller: &Caller,
    provider_id: &str,
    cookie: Option<&str>,
    ret: Return,
) -> Result<Finished, Refused> {
    let audit = |outcome, user_id: Option<&str>, account: Option<&Identifier>| AuditEvent {
        action: AuditAction::SignIn,
        outcome,
        account: account.map(|a| auth.audit_account(a)),
        user_id: user_id.map(str::to_string),
        ip: caller.ip,
        user_agent: caller.user_agent.clone(),
        provider: Some(provider_id.to_string()),
        amr: Vec::new(),
    };
    let refuse = |error, callback_url: Option<&str>| Refused::new(error, callback_url);
    let Some(provider) = auth.providers.get(provider_id) else {
        return Err(refuse(AuthError::InvalidRequest, None));
    };
    // The flow this browser started, for this provider, not expired.
    let flow = cookie
        .and_then(|c| auth.flow_sealer.open(c))
        .and_then(|bytes| serde_json::from_slice::<FlowState>(&bytes).ok())
        .filter(|f| f.is_live(provider_id, now()));
    let Some(flow) = flow else {
        tracing::warn!(
            provider = provider_id,
            "a provider's return without this browser's flow"
        );
        auth.audit(audit(Outcome::Refused, None, None)).await;
        return Err(refuse(AuthError::OAuthCallback, None));
    };
    let fail = |error| refuse(error, Some(&flow.c));
    let state_matches = ret
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.s.as_bytes())));
    if !state_matches {
        tracing::warn!(
            provider = provider_id,
            "a provider's return with another state"
        );
        auth.audit(audit(Outcome::Refused, None, None)).await;
        return Err(fail(AuthError::OAuthCallback));
    }
    if let Some(error) = ret.error.as_deref() {
        // Logged, never echoed: it is the provider's (or anyone's) text.
        tracing::info!(
            provider = provider_id,
            error = %error.escape_debug(),
            description = %ret.error_description.as_deref().unwrap_or("").escape_debug(),
            "the provider answered an error"
        );
        return Err(fail(if error == "access_denied" {
            AuthError::AccessDenied
        } else {
            AuthError::OAuthCallback
        }));
    }
    // RFC 9207: an answer from another issuer (mix-up) is refused; so is
    // one without `iss` from a provider that says it sends it.
    match (ret.iss.as_deref(), provider.issuer()) {
        (Some(iss), Some(issuer)) if iss != issuer => {
            tracing::warn!(
                provider = provider_id,
                "a provider's return from another issuer"
            );
            return Err(fail(AuthError::OAuthCallback));
        }
        (None, Some(_)) if provider.requires_iss().await => {
            tracing::warn!(provider = provider_id, "a provider's return without `iss`");
            return Err(fail(AuthError::OAuthCallback));
        }
        _ => {}
    }
    let Some(code) = ret.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(fail(AuthError::OAuthCallback));
    };
    // Read before the provider is asked (see the session store).
    let revocation_seq = auth.sessions.revocation_seq().await.map_err(|cause| {
        tracing::error!(%cause, "reading the revocation sequence failed");
        Refused::unavailable(Some(&flow.c))
    })?;
    let kept = Kept {
        verifier: &flow.v,
        nonce: flow.n.as_deref(),
        redirect_uri: &flow.r,
    };
    let (profile, tokens) = match provider.finish(code, &kept).await {
        Ok(done) => done,
        Err(cause) => {
            tracing::warn!(provider = provider_id, %cause, "a provider's return did not check out");
            auth.audit(audit(Outcome::Refused, None, None)).await;
            return Err(fail(match cause {
                ProviderError::Unreachable(_) => AuthError::OAuthSignin,
                _ => AuthError::OAuthCallback,
            }));
        }
    };
    if let Some(user_id) = &flow.l {
        return link_to_signed_in(auth, session, provider, &profile, &tokens, user_id)
            .await
            .map(|()| Finished::Linked {
                url: flow.c.clone(),
            })
            .map_err(fail);
    }
    let user = match account_for(auth, provider, &profile, &tokens).await {
        Ok(user) => user,
        Err(error) => {
            auth.audit(audit(Outcome::Refused, None, None)).await;
            return Err(fail(error));
        }
    };
    let identifier = Identifier::parse(&user.email).map_err(|_| fail(AuthError::OAuthCallback))?;
    if user.is_disabled() {
        auth.audit(audit(
            Outcome::Refused,
            Some(&user.id.to_string()),
            Some(&identifier),
        ))
        .await;
        return Err(fail(AuthError::AccessDenied));
    }
    let attempt = match auth
        .lockout
        .check(&identifier, caller.device_cookie.as_deref())
        .await
    {
        Ok(attempt) => attempt,
        Err(lockout::Refused::Locked(locked)) => {
            auth.audit(audit(Outcome::Locked, None, Some(&identifier)))
                .await;
            return Err(fail(AuthError::RateLimited)
                .retry_after(crate::server::defense::limits::whole_seconds(locked.wait)));
        }
        Err(lockout::Refused::Unavailable) => {
            return Err(Refused::unavailable(Some(&flow.c)));
        }
    };
    let signed_in = match auth.hooks.user_for(&user).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => {
            drop(attempt);
            return Err(fail(AuthError::AccessDenied));
        }
        Err(cause) => {
            tracing::error!(%cause, "no application user for a provider sign-in");
            drop(attempt);
            return Err(fail(AuthError::Callback));
        }
    };
    let entry = Entry {
        auth,
        csrf,
        session,
        caller,
        identifier: &identifier,
        revocation_seq,
        factorless: None,
        remember: true,
        callback_url: &flow.c,
        provider: Some(&profile),
        first: "oauth",
        second: None,
    };
    match enter(&entry, &signed_in, attempt).await {
        Ok(done) => Ok(Finished::SignedIn(Box::new(done))),
        // The `sign_in` callback's refusal: a password's is answered as a
        // wrong one; here there is no password to hide.
        Err(refused) if refused.error == AuthError::CredentialsSignin => {
            Err(fail(AuthError::AccessDenied))
        }
        Err(refused) => Err(refused),
    }
}

/// The sealed tokens to keep, when the provider keeps them.
fn sealed_tokens(auth: &Auth, provider: &Provider, tokens: &ProviderTokens) -> [Option<String>; 2] {
    if !provider.config.store_tokens {
        return [None, None];
    }
    [
        Some(
            auth.token_sealer
                .seal(tokens.access_token.expose_secret().as_bytes()),
        ),
        tokens
            .refresh_token
            .as_ref()
            .map(|r| auth.token_sealer.seal(r.expose_secret().as_bytes())),
    ]
}

fn store_error(e: impl std::fmt::Display) -> AuthError {
    tracing::error!(cause = %e, "a provider sign-in could not use the database");
    AuthError::ServiceUnavailable
}

/// The user a provider account signs in as, under the linking rules.
async fn account_for(
    auth: &Auth,
    provider: &Provider,
    profile: &Profile,
    tokens: &ProviderTokens,
) -> Result<UserRecord, AuthError> {
    let [access, refresh] = sealed_tokens(auth, provider, tokens);
    let link = |user_id| NewLink {
        provider: provider.id(),
        account_id: &profile.account_id,
        user_id,
        email: profile.email.as_deref(),
        access_token: access.as_deref(),
        refresh_token: refresh.as_deref(),
        expires_at: tokens.expires_at,
    };
    if let Some(user_id) = auth
        .links
        .find(provider.id(), &profile.account_id)
        .await
        .map_err(store_error)?
    {
        if provider.config.store_tokens {
            auth.links
                .set_tokens(link(user_id))
                .await
                .map_err(store_error)?;
        }
        return auth
            .users
            .find_by_id(user_id)
            .await
            .map_err(store_error)?
            .ok_or(AuthError::AccessDenied);
    }
    // A provider account seen for the first time.
    let email = profile
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(|| {
            tracing::warn!(
                provider = provider.id(),
                "the provider shares no usable address"
            );
            AuthError::OAuthCallback
        })?;
    if let Some(existing) = auth
        .users
        .find_by_email(&email)
        .await
        .map_err(store_error)?
    {
        // No silent linking: whoever controls this provider account is not
        // known to own the existing account.
        if !(provider.config.link_by_verified_email && profile.email_verified) {
            return Err(AuthError::OAuthAccountNotLinked);
        }
        auth.links
            .link(link(existing.id))
            .await
            .map_err(store_error)?;
        return Ok(existing);
    }
    if auth.config.accounts.sign_up != SignUpMode::Open {
        return Err(AuthError::AccessDenied);
    }
    let created = auth
        .users
        .create(NewUser {
            email,
            name: profile.name.clone(),
            // No password: this account signs in through its provider.
            password_hash: String::new(),
            email_verified: profile.email_verified,
        })
        .await;
    let user = match created {
        Ok(user) => user,
        // Made at this moment by another request: the same provider
        // account's first sign-in on another tab or instance (then it is
        // linked by now), or an account of the address (not linked to it).
        Err(StoreError::Duplicate) => {
            let linked = auth
                .links
                .find(provider.id(), &profile.account_id)
                .await
                .map_err(store_error)?;
            return match linked {
                Some(user_id) => auth
                    .users
                    .find_by_id(user_id)
                    .await
                    .map_err(store_error)?
                    .ok_or(AuthError::OAuthAccountNotLinked),
                None => Err(AuthError::OAuthAccountNotLinked),
            };
        }
        Err(e) => return Err(store_error(e)),
    };
    if !auth.links.link(link(user.id)).await.map_err(store_error)? {
        // The same provider account, linked by a concurrent first sign-in.
        let _ = auth.users.delete(user.id).await;
        return Err(AuthError::OAuthCallback);
    }
    tracing::info!(
        provider = provider.id(),
        user_id = user.id,
        "a user made by a provider sign-in"
    );
    Ok(user)
}

/// Links the provider account to the signed-in user who started the flow.
async fn link_to_signed_in(
    auth: &Auth,
    session: &Session,
    provider: &Provider,
    profile: &Profile,
    tokens: &ProviderTokens,
    user_id: &str,
) -> Result<(), AuthError> {
    // Still the same user in this browser.
    let current = lifecycle::signed_in(session, &auth.config).await;
    if current.as_ref().map(|(d, _)| d.user_id.as_str()) != Some(user_id) {
        return Err(AuthError::SessionRequired);
    }
    let id: i64 = user_id.parse().map_err(|_| AuthError::AccessDenied)?;
    let [access, refresh] = sealed_tokens(auth, provider, tokens);
    let linked = auth
        .links
        .link(NewLink {
            provider: provider.id(),
            account_id: &profile.account_id,
            user_id: id,
            email: profile.email.as_deref(),
            access_token: access.as_deref(),
            refresh_token: refresh.as_deref(),
            expires_at: tokens.expires_at,
        })
        .await
        .map_err(store_error)?;
    if linked {
        return Ok(());
    }
    // Linked already: fine if to this user, refused if to another.
    match auth.links.find(provider.id(), &profile.account_id).await {
        Ok(Some(owner)) if owner == id => Ok(()),
        Ok(_) => Err(AuthError::OAuthAccountNotLinked),
        Err(e) => Err(store_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flow_finishes_only_at_its_provider_and_before_it_expires() {
        let flow = FlowState {
            p: "acme".into(),
            s: "state".into(),
            v: "verifier".into(),
            n: None,
            r: "https://site.example/api/auth/callback/acme".into(),
            c: "/".into(),
            e: 1_000 + FLOW_TTL_SECONDS,
            l: None,
        };
        assert!(flow.is_live("acme", 1_000));
        assert!(flow.is_live("acme", 1_000 + FLOW_TTL_SECONDS - 1));
        assert!(!flow.is_live("acme", 1_000 + FLOW_TTL_SECONDS), "expired");
        assert!(!flow.is_live("other", 1_000), "another provider");
        assert_eq!(FLOW_TTL_SECONDS, 600);
    }
}
