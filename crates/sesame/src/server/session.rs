//! Server-side sessions: what a signed-in session holds ([`SessionData`]), the
//! session layer and its cookie, and the three things the auth flow does with
//! a session (start, read, end). Where sessions are kept is
//! [`super::session_store`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::{cookie::SameSite, session::Record, Expiry, Session, SessionManagerLayer};

use super::{app_user::AuthUser, config::Config, hooks::SignedInUser, session_store::Sessions};

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

/// The key of the signed-in data in a session record.
pub(crate) const KEY: &str = "sesame";

/// What a signed-in session holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The signed-in user's id.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The display name, if any.
    pub name: Option<String>,
    /// An image URL, if any.
    pub image: Option<String>,
    /// Unix seconds of the sign-in: the absolute lifetime counts from here.
    pub signed_in_at: i64,
    /// Unix seconds of the last renewal of the idle expiry.
    pub last_seen: i64,
    /// This session's absolute lifetime in seconds (0: `session.max_age`),
    /// capped by `session.max_age` whatever it says.
    #[serde(default)]
    pub max_age: i64,
    /// "Remember me": a persistent cookie. Without it every write of the
    /// session keeps the cookie to the browser session.
    #[serde(default = "remembered")]
    pub remember: bool,
    /// This session's own key for its CSRF tokens (hex, new at each sign-in):
    /// see the `csrf` module.
    #[serde(default)]
    pub csrf_key: String,
    /// The application's user as `authorize` returned it, serialised: read it
    /// back with [`SessionData::user`].
    #[serde(default)]
    pub user: serde_json::Value,
    /// The client address that signed in, if known.
    #[serde(default)]
    pub ip: Option<String>,
    /// The browser's `User-Agent` at sign-in, at most
    /// [`MAX_USER_AGENT_BYTES`].
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The revocation sequence the sign-in read before it checked the
    /// password (see the module header).
    #[serde(default)]
    pub revocation_seq: i64,
}

/// The longest `User-Agent` a session keeps.
pub const MAX_USER_AGENT_BYTES: usize = 512;

/// Where a sign-in came from, and the revocation sequence it read first.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The client address.
    pub ip: Option<std::net::IpAddr>,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
    /// The revocation sequence, read before the password was checked.
    pub revocation_seq: i64,
}

/// Sessions written before `remember` was kept had persistent cookies.
fn remembered() -> bool {
    true
}

impl SessionData {
    /// The application's user that signed this session in, typed. (A session
    /// written before the user was kept gives its id, email, name and image.)
    pub fn user<U: AuthUser>(&self) -> Result<U, serde_json::Error> {
        if self.user.is_null() {
            return serde_json::from_value(serde_json::json!({
                "id": self.user_id,
                "email": self.email,
                "name": self.name,
                "image": self.image,
            }));
        }
        U::deserialize(&self.user)
    }

    /// What this session's CSRF tokens are bound to.
    pub fn csrf_binding(&self) -> Option<&str> {
        (!self.csrf_key.is_empty()).then_some(self.csrf_key.as_str())
    }
}

/// What a request's CSRF tokens are bound to: its signed-in session, if any.
pub fn csrf_binding(data: Option<&SessionData>) -> Option<&str> {
    data.and_then(SessionData::csrf_binding)
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

/// A session failure (the store did not answer).
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct SessionError(#[from] tower_sessions::session::Error);

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
    };
    write(session, &data).await?;
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

/// Where a signed-in session stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Past its absolute lifetime or its idle timeout: to be deleted.
    Over,
    /// Live, but its idle expiry is due to be pushed back (a write).
    DueForRenewal,
    /// Live, nothing to write; it expires at `expires`.
    Live {
        /// When it ends unless renewed.
        expires: OffsetDateTime,
    },
}

/// The two lifetimes of `data`: when it ends at the latest (absolute), and
/// its idle timeout.
fn lifetimes(data: &SessionData, config: &Config) -> (OffsetDateTime, time::Duration) {
    let cap = time::Duration::try_from(config.session.max_age).unwrap_or(time::Duration::MAX);
    let max_age = if data.max_age > 0 {
        time::Duration::seconds(data.max_age).min(cap)
    } else {
        cap
    };
    let idle = time::Duration::try_from(config.session.idle_timeout).unwrap_or(time::Duration::MAX);
    let signed_in_at = OffsetDateTime::from_unix_timestamp(data.signed_in_at)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    (signed_in_at.saturating_add(max_age), idle)
}

/// When `data` expires if unused: its idle expiry, capped by its absolute end.
fn expires(data: &SessionData, config: &Config) -> OffsetDateTime {
    let (absolute_end, idle) = lifetimes(data, config);
    let last_seen =
        OffsetDateTime::from_unix_timestamp(data.last_seen).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    last_seen.saturating_add(idle).min(absolute_end)
}

/// Where `data` stands at `now`: both lifetimes are enforced here, whatever the
/// cookie or the row says, and the idle expiry is renewed at most every quarter
/// of the idle timeout (and at least daily), so most checks write nothing.
pub fn standing(data: &SessionData, now: OffsetDateTime, config: &Config) -> Standing {
    let (absolute_end, idle) = lifetimes(data, config);
    let last_seen =
        OffsetDateTime::from_unix_timestamp(data.last_seen).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if now >= absolute_end || now >= last_seen.saturating_add(idle) {
        return Standing::Over;
    }
    let renew_every: time::Duration = (idle / 4i32).min(time::Duration::hours(24));
    if now.unix_timestamp() - data.last_seen >= renew_every.whole_seconds() {
        return Standing::DueForRenewal;
    }
    Standing::Live {
        expires: last_seen.saturating_add(idle).min(absolute_end),
    }
}

/// The signed-in data of a session record (the value tower-sessions keeps
/// under this module's key).
pub fn data_of(record: &Record) -> Option<SessionData> {
    SessionData::deserialize(record.data.get(KEY)?).ok()
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
