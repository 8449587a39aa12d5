//! What a signed-in session holds ([`SessionData`]), where it came from, and
//! where it stands at a given moment (its absolute and idle lifetimes).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::Record;

use crate::server::{app::app_user::AuthUser, config::Config};

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
    /// 512 bytes.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The revocation sequence the sign-in read before it checked the
    /// password (see the module header).
    #[serde(default)]
    pub revocation_seq: i64,
    /// How the sign-in was made, in the manner of OpenID Connect's `amr`:
    /// `pwd` (a password), `email` (a link from the mailbox),
    /// `oauth:<provider>`, `otp` (an authenticator app's code), `recovery`
    /// (a recovery code), `trusted` (a browser trusted to skip the second
    /// factor).
    #[serde(default)]
    pub amr: Vec<String>,
    /// Unix seconds of the last second factor this session passed.
    #[serde(default)]
    pub second_factor_at: Option<i64>,
    /// `accounts.second_factor = "required"` and the user has none yet:
    /// every page sends them to set one up.
    #[serde(default)]
    pub must_enrol: bool,
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
    /// How the sign-in was made (see [`SessionData::amr`]).
    pub amr: Vec<String>,
    /// Unix seconds of the second factor, if one was passed.
    pub second_factor_at: Option<i64>,
    /// The user must set up a second factor before any other page.
    pub must_enrol: bool,
}

/// Sessions written before `remember` was kept had persistent cookies.
fn remembered() -> bool {
    true
}

impl SessionData {
    /// Whether this session passed a second factor within `within`
    /// (for [`require_second_factor`](crate::server::require_second_factor)).
    pub fn second_factor_within(&self, within: std::time::Duration) -> bool {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.second_factor_at
            .is_some_and(|at| now - at < within.as_secs() as i64)
    }

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
pub(crate) fn expires(data: &SessionData, config: &Config) -> OffsetDateTime {
    Turns::of(data, config).expires
}

/// Where `data` stands at `now`: both lifetimes are enforced here, whatever the
/// cookie or the row says, and the idle expiry is renewed at most every quarter
/// of the idle timeout (and at least daily), so most checks write nothing.
pub fn standing(data: &SessionData, now: OffsetDateTime, config: &Config) -> Standing {
    Turns::of(data, config).standing(now)
}

/// The two moments that decide a session's [`standing`], worked out from its
/// data once: a session check keeps them with the cached record and compares
/// the clock with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turns {
    /// When it is over: its idle expiry, capped by its absolute end.
    expires: OffsetDateTime,
    /// Unix seconds from which its idle expiry is due to be renewed.
    renew_at: i64,
}

impl Turns {
    /// The turns of `data` under `config`'s lifetimes.
    pub fn of(data: &SessionData, config: &Config) -> Turns {
        let (absolute_end, idle) = lifetimes(data, config);
        let last_seen = OffsetDateTime::from_unix_timestamp(data.last_seen)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let renew_every: time::Duration = (idle / 4i32).min(time::Duration::hours(24));
        Turns {
            expires: last_seen.saturating_add(idle).min(absolute_end),
            renew_at: data.last_seen.saturating_add(renew_every.whole_seconds()),
        }
    }

    /// When the session ends unless renewed.
    pub fn expires(&self) -> OffsetDateTime {
        self.expires
    }

    /// Where the session stands at `now`. Over at its idle expiry or its
    /// absolute end, whichever comes first.
    pub fn standing(&self, now: OffsetDateTime) -> Standing {
        if now >= self.expires {
            Standing::Over
        } else if now.unix_timestamp() >= self.renew_at {
            Standing::DueForRenewal
        } else {
            Standing::Live {
                expires: self.expires,
            }
        }
    }
}

/// The signed-in data of a session record (the value tower-sessions keeps
/// under this module's key).
pub fn data_of(record: &Record) -> Option<SessionData> {
    SessionData::deserialize(record.data.get(KEY)?).ok()
}
