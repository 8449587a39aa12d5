//! Where sessions are kept: a tower-sessions store ([`Sessions`]) over two
//! small traits, the rows ([`SessionRows`]: SQLite or PostgreSQL, in
//! [`crate::server::stores`]) and a read cache ([`SessionCache`]: in this process, or
//! in Redis shared by every instance).
//!
//! The store differs from a plain key-value store in ways that matter for
//! security, which is why it is written here rather than taken from
//! `tower-sessions-sqlx-store`:
//! - it keeps only SHA-256 of the session id, so a copy of the table gives no usable
//!   cookie, and it draws new ids from the OS CSPRNG;
//! - `save` only updates a live row and never inserts, so a request that loaded a
//!   session before a concurrent sign-out cannot write it back to life;
//! - a delete is final at once, even under concurrent readers: it leaves a
//!   tombstone in the cache before it clears the entry and the row, and a read
//!   that found the row just before the `DELETE` only fills the cache if no
//!   tombstone is there (in Redis, one atomic script). With the cache in Redis
//!   a session ended on one instance is dead on every instance at once;
//! - rows carry their user's id, so a user's sessions can be listed and ended
//!   together. Ending them all is final against a sign-in racing it: the
//!   sign-in reads the revocation sequence before it checks the password, and
//!   its row is only inserted if no revocation of that user came after. A
//!   second factor's enrolment renumbers its user too (ending nothing): a
//!   sign-in whose gate found no factor stores no session after it. A
//!   refused record comes back empty, so the sign-in, which stores its
//!   session before it answers, answers the refusal.
//!
//! tower-sessions saves a session modified by the request once more after
//! the answer; a session this process created moments before and that is
//! unchanged since is not written again (see [`Sessions::save`]).

use std::sync::Arc;

use async_trait::async_trait;
use rand::{rngs::OsRng, RngCore};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use crate::server::{
    session::data::{data_of, SessionData, Turns, KEY},
    stores::users::AccountChange,
};

/// A session's key in the rows and the cache: SHA-256 of its id.
pub type Key = [u8; 32];

/// The key of session `id`.
pub fn id_hash(id: &Id) -> Key {
    Sha256::digest(id.0.to_le_bytes()).into()
}

/// The hashing of [`Key`]s in the caches of this process: foldhash, seeded
/// at random, in place of the caches' default SipHash, which cost a fifth of
/// a cached check besides the digest (two lookups each). A key is a digest
/// of an id the client sends, so the seed stays unknown to whoever chooses
/// it (a tombstone is left for any id a client names).
pub(crate) type KeyHashing = foldhash::fast::RandomState;

/// A session record as the store hands it out: shared, with its signed-in
/// data decoded once rather than on every read.
#[derive(Debug)]
pub struct Loaded {
    /// The stored record.
    pub record: Record,
    /// What the record holds under the session module's key, if it is signed in.
    pub data: Option<SessionData>,
    /// What the session check answers for this version of the record,
    /// made once (see [`Loaded::view`]).
    view: std::sync::OnceLock<View>,
}

/// A signed-in record's answer to a session check: its client view as JSON,
/// and the turns that say whether the view may be given at a moment.
#[derive(Debug)]
pub struct View {
    /// When the session is over or due for renewal.
    pub turns: Turns,
    /// The client view (the `session` callback's), as JSON.
    pub json: bytes::Bytes,
}

impl Loaded {
    /// Wraps `record`, decoding its signed-in data.
    pub fn new(record: Record) -> Arc<Loaded> {
        let data = data_of(&record);
        Loaded::decoded(record, data)
    }

    /// Wraps `record`, whose signed-in data is `data` (decoded already).
    fn decoded(record: Record, data: Option<SessionData>) -> Arc<Loaded> {
        Arc::new(Loaded {
            record,
            data,
            view: std::sync::OnceLock::new(),
        })
    }

    /// This version's view, made by `make` the first time it is asked for.
    /// A write of the session (a renewal, an update, a sign-in anew) is a
    /// new `Loaded`, so a view never outlives the record it shows; a deleted
    /// session is refused by the cache before its view is asked for.
    pub fn view(&self, make: impl FnOnce() -> View) -> &View {
        self.view.get_or_init(make)
    }
}

/// A row to insert.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    /// The session's key.
    pub key: &'a Key,
    /// The record's data, as JSON.
    pub data: &'a str,
    /// Unix seconds when it expires.
    pub expires_at: i64,
    /// The signed-in user, if any.
    pub user_id: Option<&'a str>,
    /// The revocation sequence the sign-in read first.
    pub revocation_seq: i64,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// The row is stored.
    Stored,
    /// The key was taken (draw another).
    Taken,
    /// The user's sessions were all ended after the sign-in read the
    /// sequence: nothing is stored.
    Revoked,
}

/// A stored row: key, data (JSON), expiry (Unix seconds).
pub type Row = (Key, String, i64);

/// The keys among raw `id_hash` values (a value of another length is no key).
pub(crate) fn keys_of(raw: Vec<Vec<u8>>) -> Vec<Key> {
    raw.iter()
        .filter_map(|k| Key::try_from(k.as_slice()).ok())
        .collect()
}

/// The rows among raw `(id_hash, data, expires_at)` values.
pub(crate) fn rows_of(raw: Vec<(Vec<u8>, String, i64)>) -> Vec<Row> {
    raw.into_iter()
        .filter_map(|(key, data, expires)| {
            Some((Key::try_from(key.as_slice()).ok()?, data, expires))
        })
        .collect()
}

/// The `sessions` and `session_revocations` tables of a database. Times are
/// Unix seconds; `now` is passed in so every backend reads one clock.
#[async_trait]
pub trait SessionRows: Send + Sync + 'static {
    /// Inserts a new row unless its key is taken or its user's sessions were
    /// ended after `row.revocation_seq` (atomically with that check).
    async fn insert(&self, row: NewRow<'_>) -> Result<Inserted, sqlx::Error>;
    /// Updates a live row; whether there was one.
    async fn update(
        &self,
        key: &Key,
        data: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// The data and expiry of a live row.
    async fn load(&self, key: &Key, now: i64) -> Result<Option<(String, i64)>, sqlx::Error>;
    /// Deletes a row.
    async fn delete(&self, key: &Key) -> Result<(), sqlx::Error>;
    /// Deletes expired rows; how many.
    async fn delete_expired(&self, now: i64) -> Result<u64, sqlx::Error>;
    /// The revocation sequence now.
    async fn revocation_seq(&self) -> Result<i64, sqlx::Error>;
    /// Secures an account in one transaction: bumps `user_id`'s revocation
    /// to a new highest sequence number, deletes their rows but `keep`,
    /// voids every pending account link of theirs (`account_tokens`) and
    /// makes `change` to their row of Sesame's `users` table. Either all of
    /// it is done or none; the deleted keys. A `change` that finds no user
    /// is [`sqlx::Error::RowNotFound`]; an address another user has, a
    /// unique violation.
    async fn revoke_user(
        &self,
        user_id: &str,
        keep: Option<&Key>,
        change: AccountChange<'_>,
    ) -> Result<Vec<Key>, sqlx::Error>;
    /// Gives `user_id` a new highest revocation sequence number and ends
    /// none of their sessions: a sign-in of theirs that read the sequence
    /// before stores no session.
    async fn renumber(&self, user_id: &str) -> Result<(), sqlx::Error>;
    /// Whether `key` is a row of `user_id`.
    async fn owned_by(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error>;
    /// Deletes `key` if it is a row of `user_id`; whether it was.
    async fn delete_owned(&self, user_id: &str, key: &Key) -> Result<bool, sqlx::Error>;
    /// The live rows of `user_id`.
    async fn list_user(&self, user_id: &str, now: i64) -> Result<Vec<Row>, sqlx::Error>;
    /// How many live rows there are.
    async fn count_live(&self, now: i64) -> Result<i64, sqlx::Error>;
}

/// A cache that could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("session cache: {0}")]
pub struct CacheError(pub String);

/// The read cache in front of the rows.
#[async_trait]
pub trait SessionCache: Send + Sync + 'static {
    /// The cached record of `key` (the hash of `id`), if any (never one
    /// deleted since). A cache outside the process keeps no session id:
    /// the record it hands back carries the caller's `id`.
    async fn get(&self, key: &Key, id: &Id) -> Result<Option<Arc<Loaded>>, CacheError>;
    /// Caches what a read or a write found, unless the session was deleted
    /// meanwhile (its tombstone is there); whether it stands.
    async fn fill(&self, key: &Key, loaded: &Arc<Loaded>) -> Result<bool, CacheError>;
    /// Caches what a write of the session changed, unless it was deleted
    /// meanwhile; whether it stands. A cache others keep copies of makes
    /// sure none serves the old version after this returns.
    async fn update(&self, key: &Key, loaded: &Arc<Loaded>) -> Result<bool, CacheError> {
        self.fill(key, loaded).await
    }
    /// Leaves a tombstone for `key` and drops its entry: called before the
    /// row is deleted (or right after a transaction deleted it).
    async fn kill(&self, key: &Key) -> Result<(), CacheError>;
    /// Drops the entry of `key` (a write found no live row).
    async fn forget(&self, key: &Key) -> Result<(), CacheError>;
    /// Tombstones every entry of `user_id`'s sessions, and caches none of
    /// theirs filled for a while after (their rows were deleted by another
    /// process, which a read racing this may have found before): a cache in
    /// this process. A shared cache (Redis) was told by that process
    /// already: nothing to do. How many entries went.
    async fn forget_user(&self, _user_id: &str) -> Result<u64, CacheError> {
        Ok(0)
    }
}

/// The in-process cache (moka): kept in step with every write and delete of
/// this process. With several instances and no Redis, another instance's
/// delete reaches it only when the entry expires: `session.cache_ttl`.
#[derive(Debug)]
pub struct LocalCache {
    entries: moka::sync::Cache<Key, Arc<Loaded>, KeyHashing>,
    /// Keys deleted lately: no entry may stand for them.
    deleted: moka::sync::Cache<Key, (), KeyHashing>,
    /// Users whose sessions another process ended lately: none of theirs
    /// is cached (they are read from the rows).
    forgotten: moka::sync::Cache<String, ()>,
}

impl LocalCache {
    /// Entries live for `ttl` (zero: nothing is cached).
    pub fn new(ttl: std::time::Duration) -> LocalCache {
        let capacity = if ttl.is_zero() { 0 } else { 100_000 };
        // A tombstone outlives any read or write that started before its
        // delete (they are bounded by the pool's timeouts).
        let tombstone_ttl = ttl + std::time::Duration::from_secs(60);
        LocalCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl.max(std::time::Duration::from_millis(1)))
                .build_with_hasher(KeyHashing::default()),
            deleted: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(tombstone_ttl)
                .build_with_hasher(KeyHashing::default()),
            forgotten: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(tombstone_ttl)
                .build(),
        }
    }
}

#[async_trait]
impl SessionCache for LocalCache {
    async fn get(&self, key: &Key, _id: &Id) -> Result<Option<Arc<Loaded>>, CacheError> {
        Ok(self
            .entries
            .get(key)
            .filter(|_| !self.deleted.contains_key(key)))
    }

    async fn fill(&self, key: &Key, loaded: &Arc<Loaded>) -> Result<bool, CacheError> {
        let of_forgotten = |l: &Loaded| {
            l.data
                .as_ref()
                .is_some_and(|d| self.forgotten.contains_key(&d.user_id))
        };
        if self.forgotten.entry_count() > 0 && of_forgotten(loaded) {
            // Served from the rows, which are the truth, while the user's
            // revocation by another process is recent.
            return Ok(true);
        }
        self.entries.insert(*key, loaded.clone());
        // Checked after the insert: a delete that ran before it left its
        // tombstone first, and one that runs after it clears the entry itself.
        if self.deleted.contains_key(key) {
            self.entries.invalidate(key);
            return Ok(false);
        }
        Ok(true)
    }

    async fn kill(&self, key: &Key) -> Result<(), CacheError> {
        self.deleted.insert(*key, ());
        self.entries.invalidate(key);
        Ok(())
    }

    async fn forget(&self, key: &Key) -> Result<(), CacheError> {
        self.entries.invalidate(key);
        Ok(())
    }

    async fn forget_user(&self, user_id: &str) -> Result<u64, CacheError> {
        self.forgotten.insert(user_id.to_string(), ());
        self.forgotten.run_pending_tasks();
        let theirs: Vec<Key> = self
            .entries
            .iter()
            .filter(|(_, l)| l.data.as_ref().is_some_and(|d| d.user_id == user_id))
            .map(|(key, _)| *key)
            .collect();
        for key in &theirs {
            self.kill(key).await?;
        }
        Ok(theirs.len() as u64)
    }
}

/// The session store: rows behind a cache.
#[derive(Clone)]
pub struct Sessions {
    rows: Arc<dyn SessionRows>,
    cache: Arc<dyn SessionCache>,
    /// Sessions this process just created, as stored (data, expiry), until
    /// their first save (see [`Sessions::save`]).
    created: moka::sync::Cache<Key, Arc<(String, i64)>>,
}

/// How many just-created sessions [`Sessions::save`] recognises at once,
/// and for how long: bounds for those never saved again (an answer that
/// failed, a request cancelled); one that is forgotten is simply written.
const CREATED_CAPACITY: u64 = 4096;
const CREATED_SECONDS: u64 = 10;

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    crate::server::stores::failures::note_backend_failure();
    session_store::Error::Backend(e.to_string())
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Why a store operation outside tower-sessions failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    #[error("session rows: {0}")]
    /// The rows failed.
    Rows(#[from] sqlx::Error),
    #[error(transparent)]
    /// The cache failed.
    Cache(#[from] CacheError),
}

impl Sessions {
    /// A store over `rows`, read through `cache`.
    pub fn new(rows: Arc<dyn SessionRows>, cache: Arc<dyn SessionCache>) -> Sessions {
        let created = moka::sync::Cache::builder()
            .max_capacity(CREATED_CAPACITY)
            .time_to_live(std::time::Duration::from_secs(CREATED_SECONDS))
            .build();
        Sessions {
            rows,
            cache,
            created,
        }
    }

    /// Deletes expired rows; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        self.rows.delete_expired(now()).await
    }

    /// The record of `id` (unexpired), from the cache when it is there.
    pub async fn load_shared(&self, id: &Id) -> session_store::Result<Option<Arc<Loaded>>> {
        let key = id_hash(id);
        if let Some(loaded) = self.cache.get(&key, id).await.map_err(backend)? {
            if loaded.record.expiry_date > OffsetDateTime::now_utc() {
                return Ok(Some(loaded));
            }
            self.cache.forget(&key).await.map_err(backend)?;
        }
        let Some((data, expires_at)) = self.rows.load(&key, now()).await.map_err(backend)? else {
            return Ok(None);
        };
        let loaded = Loaded::new(Record {
            id: *id,
            data: serde_json::from_str(&data)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
            expiry_date: OffsetDateTime::from_unix_timestamp(expires_at)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        });
        if !self.cache.fill(&key, &loaded).await.map_err(backend)? {
            return Ok(None);
        }
        Ok(Some(loaded))
    }

    /// The revocation sequence now: a sign-in reads it before it checks the
    /// password and carries it into its session ([`SessionData::revocation_seq`]).
    pub async fn revocation_seq(&self) -> Result<i64, sqlx::Error> {
        self.rows.revocation_seq().await
    }

    /// Ends every session of `user_id` but `keep` (a session's handle) and
    /// voids their pending account links, at once, with `change` to their
    /// row in the same transaction (see [`SessionRows::revoke_user`]): the
    /// rows are deleted and their keys tombstoned, and a sign-in of that
    /// user that read the sequence before this cannot store its session.
    ///
    /// The keys are tombstoned before the transaction, so a cache that
    /// fails stops it before anything changed in the database; keys of
    /// sessions started meanwhile are tombstoned after it. A transaction the
    /// database refuses after the tombstones (a failure, a change it
    /// rejects) leaves the rows, the user and the links as they were, and
    /// the tombstoned sessions ended all the same: the one direction a
    /// failure may err in. Returns how many sessions ended.
    pub async fn revoke_user(
        &self,
        user_id: &str,
        keep: Option<&SessionHandle>,
        change: AccountChange<'_>,
    ) -> Result<u64, SessionStoreError> {
        let keep = keep.map(|k| k.0);
        let listed: Vec<Key> = self
            .rows
            .list_user(user_id, now())
            .await?
            .into_iter()
            .map(|(key, _, _)| key)
            .filter(|key| Some(*key) != keep)
            .collect();
        for key in &listed {
            self.cache.kill(key).await?;
        }
        let ended = self
            .rows
            .revoke_user(user_id, keep.as_ref(), change)
            .await?;
        for key in ended.iter().filter(|k| !listed.contains(k)) {
            self.cache.kill(key).await?;
        }
        Ok(ended.len() as u64)
    }

    /// Ends one session of `user_id`, named by its handle; whether there was one.
    pub async fn revoke_one(
        &self,
        user_id: &str,
        handle: &SessionHandle,
    ) -> Result<bool, SessionStoreError> {
        let key = handle.0;
        // The tombstone before the delete, as in `delete`; only for a session
        // of this user (another user's handle leaves nothing behind).
        if !self.rows.owned_by(user_id, &key).await? {
            return Ok(false);
        }
        self.cache.kill(&key).await?;
        Ok(self.rows.delete_owned(user_id, &key).await?)
    }

    /// The live sessions of `user_id`, most recently signed in first.
    pub async fn list_user(&self, user_id: &str) -> Result<Vec<UserSession>, sqlx::Error> {
        let rows = self.rows.list_user(user_id, now()).await?;
        let mut sessions: Vec<UserSession> = rows
            .into_iter()
            .filter_map(|(key, data, expires_at)| {
                let record: std::collections::HashMap<String, serde_json::Value> =
                    serde_json::from_str(&data).ok()?;
                let data = SessionData::deserialize(record.get(KEY)?).ok()?;
                Some(UserSession {
                    handle: SessionHandle(key),
                    data,
                    expires_at,
                })
            })
            .collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.data.signed_in_at));
        Ok(sessions)
    }

    /// Makes the cache forget `user_id`'s sessions, whose rows another
    /// process deleted (see [`SessionCache::forget_user`]).
    pub async fn forget_user(&self, user_id: &str) -> Result<u64, CacheError> {
        self.cache.forget_user(user_id).await
    }

    /// After a second factor was added to `user_id`'s account: a sign-in
    /// whose gate found none (it read the sequence before the factor was
    /// committed) stores no session, so none comes into being without the
    /// step once the enrolment is done. Their sessions stay.
    pub async fn factor_added(&self, user_id: &str) -> Result<(), sqlx::Error> {
        self.rows.renumber(user_id).await
    }

    /// How many live sessions there are (for tests and operators).
    pub async fn count_live(&self) -> Result<i64, sqlx::Error> {
        self.rows.count_live(now()).await
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let signed_in = data_of(record);
        loop {
            let mut bytes = [0u8; 16];
            OsRng.fill_bytes(&mut bytes);
            record.id = Id(i128::from_le_bytes(bytes));
            let key = id_hash(&record.id);
            let row = NewRow {
                key: &key,
                data: &data,
                expires_at: record.expiry_date.unix_timestamp(),
                user_id: signed_in.as_ref().map(|d| d.user_id.as_str()),
                revocation_seq: signed_in.as_ref().map_or(0, |d| d.revocation_seq),
            };
            match self.rows.insert(row).await.map_err(backend)? {
                Inserted::Stored => {
                    // Decoded once: the cached copy takes what the row was made of.
                    let loaded = Loaded::decoded(record.clone(), signed_in.clone());
                    self.cache.fill(&key, &loaded).await.map_err(backend)?;
                    let expires_at = row.expires_at;
                    self.created.insert(key, Arc::new((data, expires_at)));
                    return Ok(());
                }
                Inserted::Taken => continue,
                Inserted::Revoked => {
                    // Left empty: the session holds nothing, so the sign-in
                    // that saved it sees the refusal (`lifecycle::start`)
                    // and no cookie is set for it.
                    tracing::info!(
                        user_id = row.user_id,
                        "a sign-in raced the end of its user's sessions"
                    );
                    record.data.clear();
                    return Ok(());
                }
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let key = id_hash(&record.id);
        let expires_at = record.expiry_date.unix_timestamp();
        // The first save of a session this process just created, with what
        // was stored: tower-sessions saving, after the answer, what the
        // sign-in stored before it. Nothing to write. (Until the answer
        // carries its cookie, only a revocation can touch the row, and a
        // revocation ends the cached copy itself.)
        if self
            .created
            .remove(&key)
            .is_some_and(|stored| stored.0 == data && stored.1 == expires_at)
        {
            return Ok(());
        }
        // UPDATE only: a deleted or expired session stays dead.
        let updated = self
            .rows
            .update(&key, &data, expires_at, now())
            .await
            .map_err(backend)?;
        if updated {
            self.cache
                .update(&key, &Loaded::new(record.clone()))
                .await
                .map_err(backend)?;
        } else {
            self.cache.forget(&key).await.map_err(backend)?;
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
        self.created.invalidate(&key);
        // In this order: see the module header.
        self.cache.kill(&key).await.map_err(backend)?;
        self.rows.delete(&key).await.map_err(backend)?;
        Ok(())
    }
}

/// A session's handle: names it to its owner (to end it) without being its
/// token (it is the SHA-256 the table is keyed by).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionHandle(pub(crate) Key);

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
