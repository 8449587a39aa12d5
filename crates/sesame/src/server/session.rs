//! Server-side sessions: a tower-sessions store over SQLite, the session layer, and
//! the three things the auth flow does with a session (start, read, end).
//!
//! The store differs from a plain key-value store in two ways that matter for
//! security, which is why it is written here rather than taken from
//! `tower-sessions-sqlx-store`:
//! - it keeps only SHA-256 of the session id, so a copy of the table gives no usable
//!   cookie, and it draws new ids from the OS CSPRNG;
//! - `save` only updates a live row and never inserts, so a request that loaded a
//!   session before a concurrent sign-out cannot write it back to life.
//!
//! Reads go through a short-lived in-process cache (moka), kept in step with
//! every write and delete of this process, so a session check costs no query.
//! A delete is final at once, even under concurrent readers: it leaves a
//! tombstone before it clears the cache entry and the row, every cache hit is
//! checked against the tombstones, and a read or write that put an entry in
//! the cache checks them again afterwards and takes it out if the session was
//! deleted meanwhile (a read that found the row just before the `DELETE`
//! would otherwise put the session back for `cache_ttl`). With several
//! instances a deleted session may still be served from another instance's
//! cache for up to `session.cache_ttl` (30 s; `0s` turns it off).
//!
//! Rows carry their user's id, so a user's sessions can be listed and ended
//! together. Ending them all is final against a sign-in racing it: the
//! sign-in reads the revocation sequence before it checks the password, and
//! its row is only inserted if no revocation of that user came after (see
//! [`SqliteSessionStore::revoke_user`]).

use std::sync::Arc;

use async_trait::async_trait;
use rand::{rngs::OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tower_sessions::{
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, SessionStore},
    Expiry, Session, SessionManagerLayer,
};

use super::{app_user::AuthUser, config::Config, hooks::SignedInUser};

/// Sessions in the `sessions` table.
#[derive(Debug, Clone)]
pub struct SqliteSessionStore {
    pool: SqlitePool,
    cache: moka::sync::Cache<[u8; 32], Arc<Loaded>>,
    /// Ids deleted lately: no cache entry may stand for them.
    deleted: moka::sync::Cache<[u8; 32], ()>,
}

/// A session record as the store keeps it in its cache: shared, with its
/// signed-in data decoded once rather than on every read.
#[derive(Debug)]
pub struct Loaded {
    /// The stored record.
    pub record: Record,
    /// What the record holds under this module's key, if it is signed in.
    pub data: Option<SessionData>,
}

impl Loaded {
    fn new(record: Record) -> Arc<Loaded> {
        let data = data_of(&record);
        Arc::new(Loaded { record, data })
    }
}

fn id_hash(id: &Id) -> [u8; 32] {
    Sha256::digest(id.0.to_le_bytes()).into()
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl SqliteSessionStore {
    /// A store whose reads stay cached for `cache_ttl` (zero: no cache).
    pub fn new(pool: SqlitePool, cache_ttl: std::time::Duration) -> Self {
        let capacity = if cache_ttl.is_zero() { 0 } else { 100_000 };
        // A tombstone outlives any read or write that started before its
        // delete (they are bounded by the pool's 5 s busy timeout).
        let tombstone_ttl = cache_ttl + std::time::Duration::from_secs(60);
        SqliteSessionStore {
            pool,
            cache: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(cache_ttl.max(std::time::Duration::from_millis(1)))
                .build(),
            deleted: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(tombstone_ttl)
                .build(),
        }
    }

    /// Caches `loaded` unless its session was deleted meanwhile; whether it stands.
    fn cache_unless_deleted(&self, key: [u8; 32], loaded: Arc<Loaded>) -> bool {
        self.cache.insert(key, loaded);
        // Checked after the insert: a delete that ran before it left its
        // tombstone first, and one that runs after it clears the entry itself.
        if self.deleted.contains_key(&key) {
            self.cache.invalidate(&key);
            return false;
        }
        true
    }

    /// Deletes expired rows; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// The record of `id` (unexpired), from the cache when it is there.
    pub async fn load_shared(&self, id: &Id) -> session_store::Result<Option<Arc<Loaded>>> {
        let key = id_hash(id);
        if let Some(loaded) = self.cache.get(&key) {
            if self.deleted.contains_key(&key) {
                return Ok(None);
            }
            if loaded.record.expiry_date > OffsetDateTime::now_utc() {
                return Ok(Some(loaded));
            }
            self.cache.invalidate(&key);
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(&key[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let loaded = Loaded::new(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        });
        if !self.cache_unless_deleted(key, loaded.clone()) {
            return Ok(None);
        }
        Ok(Some(loaded))
    }

    /// The revocation sequence now: a sign-in reads it before it checks the
    /// password and carries it into its session ([`SessionData::revocation_seq`]).
    pub async fn revocation_seq(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM session_revocations")
            .fetch_one(&self.pool)
            .await
    }

    /// Ends every session of `user_id` but `keep` (a session's handle), at
    /// once: the rows are deleted and their ids tombstoned, and a sign-in of
    /// that user that read the sequence before this cannot store its session.
    /// Returns how many sessions ended.
    pub async fn revoke_user(
        &self,
        user_id: &str,
        keep: Option<&SessionHandle>,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO session_revocations (user_id, seq) \
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM session_revocations)) \
             ON CONFLICT (user_id) DO UPDATE SET seq = excluded.seq",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let ended: Vec<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ? RETURNING id_hash",
        )
        .bind(user_id)
        .bind(keep.map(|k| k.0.to_vec()))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for key in &ended {
            if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                self.deleted.insert(key, ());
                self.cache.invalidate(&key);
            }
        }
        Ok(ended.len() as u64)
    }

    /// Ends one session of `user_id`, named by its handle; whether there was one.
    pub async fn revoke_one(
        &self,
        user_id: &str,
        handle: &SessionHandle,
    ) -> Result<bool, sqlx::Error> {
        let key = handle.0;
        // As in `delete`: the tombstone first. (A handle of another user's
        // session leaves a tombstone and deletes nothing; the tombstone only
        // hides a cache entry for a minute, which the row brings back.)
        let owned: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM sessions WHERE id_hash = ? AND user_id = ?")
                .bind(&key[..])
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        if owned.is_none() {
            return Ok(false);
        }
        self.deleted.insert(key, ());
        self.cache.invalidate(&key);
        let deleted = sqlx::query("DELETE FROM sessions WHERE id_hash = ? AND user_id = ?")
            .bind(&key[..])
            .bind(user_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    /// The live sessions of `user_id`, most recently signed in first.
    pub async fn list_user(&self, user_id: &str) -> Result<Vec<UserSession>, sqlx::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let rows: Vec<(Vec<u8>, String, i64)> = sqlx::query_as(
            "SELECT id_hash, data, expires_at FROM sessions \
             WHERE user_id = ? AND expires_at > ?",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut sessions: Vec<UserSession> = rows
            .into_iter()
            .filter_map(|(key, data, expires_at)| {
                let handle = SessionHandle(<[u8; 32]>::try_from(key.as_slice()).ok()?);
                let record: std::collections::HashMap<String, serde_json::Value> =
                    serde_json::from_str(&data).ok()?;
                let data = SessionData::deserialize(record.get(KEY)?).ok()?;
                Some(UserSession {
                    handle,
                    data,
                    expires_at,
                })
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.data.signed_in_at));
        Ok(sessions)
    }

    /// How many live sessions there are (for tests and operators).
    pub async fn count_live(&self) -> Result<i64, sqlx::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE expires_at > ?")
            .bind(now)
            .fetch_one(&self.pool)
            .await
    }
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let signed_in = data_of(record);
        let user_id = signed_in.as_ref().map(|d| d.user_id.as_str());
        let seq = signed_in.as_ref().map_or(0, |d| d.revocation_seq);
        loop {
            let mut bytes = [0u8; 16];
            OsRng.fill_bytes(&mut bytes);
            record.id = Id(i128::from_le_bytes(bytes));
            // A signed-in session is only stored if its user's sessions were
            // not all ended since the sign-in read the sequence.
            let inserted = sqlx::query(
                "INSERT OR IGNORE INTO sessions (id_hash, data, expires_at, user_id) \
                 SELECT ?1, ?2, ?3, ?4 WHERE ?4 IS NULL OR NOT EXISTS \
                 (SELECT 1 FROM session_revocations WHERE user_id = ?4 AND seq > ?5)",
            )
            .bind(&id_hash(&record.id)[..])
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_id)
            .bind(seq)
            .execute(&self.pool)
            .await
            .map_err(backend)?
            .rows_affected();
            if inserted == 1 {
                self.cache
                    .insert(id_hash(&record.id), Loaded::new(record.clone()));
                return Ok(());
            }
            if let Some(user_id) = user_id {
                let revoked: Option<i64> = sqlx::query_scalar(
                    "SELECT 1 FROM session_revocations WHERE user_id = ? AND seq > ?",
                )
                .bind(user_id)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
                if revoked.is_some() {
                    // The cookie names no session: the visitor is signed out.
                    tracing::info!(user_id, "a sign-in raced the end of its user's sessions");
                    return Ok(());
                }
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let now = OffsetDateTime::now_utc().unix_timestamp();
        // UPDATE only: a deleted or expired session stays dead.
        let key = id_hash(&record.id);
        let updated = sqlx::query(
            "UPDATE sessions SET data = ?, expires_at = ? WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(data)
        .bind(record.expiry_date.unix_timestamp())
        .bind(&key[..])
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend)?
        .rows_affected();
        if updated == 1 {
            self.cache_unless_deleted(key, Loaded::new(record.clone()));
        } else {
            self.cache.invalidate(&key);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        Ok(self
            .load_shared(id)
            .await?
            .map(|loaded| loaded.record.clone()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = id_hash(id);
        // In this order: see the module header.
        self.deleted.insert(key, ());
        self.cache.invalidate(&key);
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(&key[..])
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// A session's handle: names it to its owner (to end it) without being its
/// token (it is the SHA-256 the table is keyed by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionHandle(pub(crate) [u8; 32]);

impl SessionHandle {
    /// The handle of the session with this id.
    pub fn of(id: &Id) -> SessionHandle {
        SessionHandle(id_hash(id))
    }

    /// Reads a handle from its hex form.
    pub fn parse(hex_text: &str) -> Option<SessionHandle> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut bytes).ok()?;
        Some(SessionHandle(bytes))
    }
}

impl std::fmt::Display for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// One of a user's live sessions.
#[derive(Debug, Clone)]
pub struct UserSession {
    /// Its handle.
    pub handle: SessionHandle,
    /// What it holds.
    pub data: SessionData,
    /// Unix seconds when its row expires.
    pub expires_at: i64,
}

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
pub fn layer(
    store: SqliteSessionStore,
    config: &Config,
) -> SessionManagerLayer<SqliteSessionStore> {
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

const KEY: &str = "sesame";

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

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqlitePoolOptions;
    use std::collections::HashMap;

    async fn store() -> SqliteSessionStore {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::migrate!("./migrations").run(&pool).await.unwrap();
        SqliteSessionStore::new(pool, std::time::Duration::ZERO)
    }

    fn record() -> Record {
        Record {
            id: Id(0),
            data: HashMap::from([("k".to_string(), serde_json::json!("v"))]),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    #[tokio::test]
    async fn stores_only_a_hash_of_the_id() {
        let store = store().await;
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        assert_ne!(rec.id, Id(0), "create draws a fresh id");
        let stored: Vec<u8> = sqlx::query_scalar("SELECT id_hash FROM sessions")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(stored, id_hash(&rec.id));
        assert_ne!(stored, rec.id.0.to_le_bytes().to_vec());
        assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data, rec.data);
    }

    #[tokio::test]
    async fn a_deleted_session_is_not_resurrected_by_save() {
        let store = store().await;
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        store.delete(&rec.id).await.unwrap();
        store.save(&rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(store.count_live().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_cache_follows_deletes_and_never_resurrects() {
        let pool = store().await.pool;
        let store = SqliteSessionStore::new(pool, std::time::Duration::from_secs(60));
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_some(), "cached");
        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        store.save(&rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(store.count_live().await.unwrap(), 0);
    }

    /// The race of a sign-out against a reader: the reader read the row just
    /// before the `DELETE` and caches it afterwards. Before the tombstones,
    /// the session was served from the cache again after its delete.
    #[tokio::test]
    async fn a_read_that_raced_a_delete_does_not_bring_the_session_back() {
        let pool = store().await.pool;
        let store = SqliteSessionStore::new(pool, std::time::Duration::from_secs(60));
        let mut rec = record();
        store.create(&mut rec).await.unwrap();
        let key = id_hash(&rec.id);
        // What the reader saw before the delete...
        let stale = Loaded::new(rec.clone());
        store.delete(&rec.id).await.unwrap();
        // ...and put in the cache after it.
        assert!(!store.cache_unless_deleted(key, stale.clone()));
        assert!(store.load(&rec.id).await.unwrap().is_none());
        // A stale entry that got in before the check is not served either.
        store.cache.insert(key, stale);
        assert!(store.load_shared(&rec.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_sessions_do_not_load() {
        let store = store().await;
        let mut rec = record();
        rec.expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.create(&mut rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none());
        assert_eq!(store.delete_expired().await.unwrap(), 1);
    }
}
