//! A session's life: the session layer and its cookie, and the three things
//! the auth flow does with a session (start, read, end). What it holds is
//! [`crate::server::session::data`]. Where sessions are kept is
//! [`crate::server::session::store`].

use time::OffsetDateTime;
use tower_sessions::{cookie::SameSite, Expiry, Session, SessionManagerLayer};

use crate::server::{
    app::hooks::SignedInUser,
    config::Config,
    session::{
        data::{expires, standing, Origin, SessionData, Standing, KEY, MAX_USER_AGENT_BYTES},
        store::Sessions,
    },
};

/// The session cookie's name.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-sesame.session-token"
    } else {
        "sesame.session-token"
    }
}

/// Gives tower-sessions' removal cookie the attributes of the cookie it
/// removes. tower-sessions builds it from the request's cookie, which carries
/// only a name and a value, so it would go out as `name=; Path=/; Max-Age=0`
/// without `HttpOnly`, `SameSite` or `Secure`.
pub fn harden_removal(headers: &mut http::HeaderMap, config: &Config) {
    let name = cookie_name(config.secure_cookies());
    let is_removal = |v: &http::HeaderValue| {
        v.to_str().is_ok_and(|v| {
            v.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('=') && v.contains("Max-Age=0"))
        })
    };
    if !headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .any(is_removal)
    {
        return;
    }
    let cookies: Vec<http::HeaderValue> = headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    headers.remove(http::header::SET_COOKIE);
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    for cookie in cookies {
        let cookie = if is_removal(&cookie) {
            http::HeaderValue::from_str(&format!(
                "{name}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; \
                 HttpOnly; SameSite=Lax{secure}"
            ))
            .expect("the cookie is ASCII")
        } else {
            cookie
        };
        headers.append(http::header::SET_COOKIE, cookie);
    }
}

/// The tower-sessions layer: `HttpOnly; SameSite=Lax; Path=/` (+ `Secure`), expiring
/// after `session.idle_timeout` without use.
pub fn layer(store: Sessions, config: &Config) -> SessionManagerLayer<Sessions> {
    let idle =
        time::Duration::try_from(config.session.idle_timeout).unwrap_or(time::Duration::days(7));
    SessionManagerLayer::new(store)
        .with_name(cookie_name(config.secure_cookies()))
        .with_secure(config.secure_cookies())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Writes `data` into the session, keeping the cookie as the sign-in chose:
/// without "remember me" it ends with the browser, on this write and every
/// later one (tower-sessions starts each request from the layer's expiry).
async fn write(session: &Session, data: &SessionData) -> Result<(), SessionError> {
    if !data.remember {
        session.set_expiry(Some(Expiry::OnSessionEnd));
    }
    session.insert(KEY, data).await?;
    Ok(())
}

/// Records in the signed-in session that it passed a second factor now
/// (`how`: `otp`, `hwk`), and that it need not set one up any more.
pub(crate) async fn passed_second_factor(
    session: &Session,
    mut data: SessionData,
    how: &str,
) -> Result<(), SessionError> {
    data.second_factor_at = Some(OffsetDateTime::now_utc().unix_timestamp());
    data.must_enrol = false;
    if !data.amr.iter().any(|m| m == how) {
        data.amr.push(how.to_string());
    }
    write(session, &data).await
}

/// Why a session could not be read, written or started.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The store did not answer.
    #[error("session store: {0}")]
    Store(#[from] tower_sessions::session::Error),
    /// The user's sessions were all ended after the sign-in read the
    /// revocation sequence: the store refused the new session.
    #[error("the user's sessions were ended while the sign-in ran")]
    Ended,
}

/// Starts a signed-in session under a new id: the id the visitor had before
/// signing in is deleted, never upgraded. Without `remember`, the cookie ends
/// with the browser session and the session after `session.short_max_age`.
/// Returns what the session holds and when it expires.
pub(crate) async fn start(
    session: &Session,
    user: &SignedInUser,
    origin: &Origin,
    config: &Config,
    remember: bool,
) -> Result<(SessionData, OffsetDateTime), SessionError> {
    // Whole seconds, as stored: the sign-in answer and `/session` agree on `expires`.
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| OffsetDateTime::now_utc());
    // A visitor who already has a session gets a new id (the old record is
    // deleted); one without gets a fresh id when the record is created.
    if session.id().is_some() {
        session.cycle_id().await?;
    }
    session.clear().await;
    let lifetime = config.session.lifetime(remember);
    let data = SessionData {
        user_id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        image: user.image.clone(),
        signed_in_at: now.unix_timestamp(),
        last_seen: now.unix_timestamp(),
        max_age: lifetime.as_secs() as i64,
        remember,
        csrf_key: hex::encode(rand::random::<[u8; 16]>()),
        user: user.stored.clone(),
        ip: origin.ip.map(|ip| ip.to_string()),
        user_agent: origin.user_agent.as_deref().map(|ua| {
            let mut end = ua.len().min(MAX_USER_AGENT_BYTES);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_string()
        }),
        revocation_seq: origin.revocation_seq,
        amr: origin.amr.clone(),
        second_factor_at: origin.second_factor_at,
        must_enrol: origin.must_enrol,
    };
    write(session, &data).await?;
    // Stored now, not after the answer is made: a session the store refuses
    // (its user's sessions were ended after `origin.revocation_seq`) comes
    // back empty, and the sign-in is answered as refused instead of with a
    // cookie that names no session.
    session.save().await?;
    if session.get::<SessionData>(KEY).await?.is_none() {
        // Forgets the id the refused record was given: no cookie names it.
        session.flush().await?;
        return Err(SessionError::Ended);
    }
    let idle = time::Duration::try_from(config.session.idle_timeout).unwrap_or(time::Duration::MAX);
    let max_age = time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX);
    let expires = now.saturating_add(idle.min(max_age));
    Ok((data, expires))
}

/// Replaces the signed-in session's data (after a session update).
pub async fn replace(session: &Session, data: &SessionData) -> Result<(), SessionError> {
    write(session, data).await
}

/// Ends the session: the record is deleted and the cookie cleared.
pub async fn end(session: &Session) -> Result<(), SessionError> {
    session.flush().await?;
    Ok(())
}

/// The signed-in session, if any, and when it expires. Applies its
/// [`standing`]: a session that is over is deleted, one due for renewal is
/// written back with `last_seen` now.
pub async fn current(
    session: &Session,
    config: &Config,
) -> Result<Option<(SessionData, OffsetDateTime)>, SessionError> {
    let Some(mut data) = session.get::<SessionData>(KEY).await? else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc();
    match standing(&data, now, config) {
        Standing::Over => {
            session.flush().await?;
            Ok(None)
        }
        Standing::Live { expires } => Ok(Some((data, expires))),
        Standing::DueForRenewal => {
            data.last_seen = now.unix_timestamp();
            write(session, &data).await?;
            let expires = expires(&data, config);
            Ok(Some((data, expires)))
        }
    }
}

/// [`current`] for the request paths that answer a store failure as "signed
/// out" (fail closed): the failure is logged, and the visitor is anonymous.
pub async fn signed_in(
    session: &Session,
    config: &Config,
) -> Option<(SessionData, OffsetDateTime)> {
    current(session, config).await.unwrap_or_else(|cause| {
        tracing::error!(%cause, "reading the session failed");
        None
    })
}
