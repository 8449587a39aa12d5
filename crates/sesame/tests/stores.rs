//! One suite for every store behind Sesame's traits, run against each backend:
//! the user, session and token stores on SQLite and on a real PostgreSQL, and
//! the per-IP limiter, the lockout counters and the session cache in this
//! process and in a real Redis. A backend passes when it behaves exactly as
//! the embedded default does.

#![cfg(feature = "ssr")]

// The real PostgreSQL and Redis servers, started as the app's tests start them.
#[path = "../../../tests/common/services.rs"]
#[allow(dead_code)]
mod services;

use std::{collections::HashMap, sync::Arc, time::Duration};

use sesame::server::{
    config::{Config, LockoutConfig, Rate, RedisConfig},
    stores::{
        self as db, id_hash, sqlite, AccountChange, Backends, CounterKey, Database, Email,
        FailureCounters, Loaded, Locked, NewUser, Policy, Purpose, RateLimiter, Refusal,
        SessionRows, Sessions, StoreError, Tokens,
    },
    SessionHandle,
};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};

/// A migrated database of each kind: SQLite in memory, SQLite in a file
/// (whose session rows run a sign-in's `INSERT` on the caller's thread when
/// they can) and PostgreSQL.
async fn databases() -> Vec<Database> {
    let sqlite = db::connect(&database_config("sqlite::memory:"))
        .await
        .unwrap();
    // Kept until the process ends (the pool keeps the file open).
    let dir = tempfile::tempdir().unwrap().keep();
    let file = db::connect(&database_config(&format!(
        "sqlite://{}/stores.db",
        dir.display()
    )))
    .await
    .unwrap();
    let postgres = db::connect(&database_config(&services::postgres().database()))
        .await
        .unwrap();
    vec![sqlite, file, postgres]
}

fn database_config(url: &str) -> sesame::server::config::DatabaseConfig {
    Config::from_toml_str(&format!(
        "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"{url}\""
    ))
    .unwrap()
    .database
}

fn backends(database: Database) -> Backends {
    Backends {
        database,
        redis: None,
    }
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        name: Some("Name".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        email_verified: false,
    }
}

#[tokio::test]
async fn the_user_store_behaves_alike_on_every_database() {
    for database in databases().await {
        let kind = database.kind();
        let users = backends(database).users();
        let created = users.create(new_user("a@example.com")).await.unwrap();
        assert_eq!(created.email, "a@example.com", "{kind}");
        assert!(created.email_verified_at.is_none(), "{kind}");
        assert!(created.created_at > 1_700_000_000, "{kind}: unix seconds");
        assert!(
            matches!(
                users.create(new_user("a@example.com")).await,
                Err(StoreError::Duplicate)
            ),
            "{kind}: one account per address"
        );
        let found = users
            .find_by_email(&Email::parse("A@Example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, created.id, "{kind}");
        users.set_password_hash(created.id, "new").await.unwrap();
        assert_eq!(
            users
                .find_by_id(created.id)
                .await
                .unwrap()
                .unwrap()
                .password_hash,
            "new",
            "{kind}"
        );
        users.set_disabled(created.id, true).await.unwrap();
        assert!(users
            .find_by_id(created.id)
            .await
            .unwrap()
            .unwrap()
            .is_disabled());
        users.set_disabled(created.id, false).await.unwrap();
        assert!(!users
            .find_by_id(created.id)
            .await
            .unwrap()
            .unwrap()
            .is_disabled());
        users.set_email_verified(created.id).await.unwrap();
        assert!(users
            .find_by_id(created.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at
            .is_some());
        let other = users.create(new_user("b@example.com")).await.unwrap();
        assert!(
            matches!(
                users
                    .set_email(other.id, &Email::parse("a@example.com").unwrap())
                    .await,
                Err(StoreError::Duplicate)
            ),
            "{kind}: a taken address"
        );
        users
            .set_email(other.id, &Email::parse("c@example.com").unwrap())
            .await
            .unwrap();
        let listed: Vec<String> = users
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.email)
            .collect();
        assert_eq!(listed, ["a@example.com", "c@example.com"], "{kind}: by id");
        users.delete(other.id).await.unwrap();
        assert!(matches!(
            users.delete(other.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            users.set_disabled(other.id, true).await,
            Err(StoreError::NotFound)
        ));
        assert!(
            users.find_by_id(other.id).await.unwrap().is_none(),
            "{kind}"
        );
    }
}

fn record(user_id: Option<&str>, seq: i64) -> Record {
    let mut data = HashMap::from([("k".to_string(), serde_json::json!("v"))]);
    if let Some(user_id) = user_id {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        data.insert(
            "sesame".into(),
            serde_json::json!({
                "user_id": user_id, "email": "a@example.com", "name": null, "image": null,
                "signed_in_at": now, "last_seen": now, "revocation_seq": seq,
            }),
        );
    }
    Record {
        id: Id(0),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
    }
}

/// Every session store: each database, with no cache, this process's cache
/// and (for PostgreSQL) Redis's; with its rows, to look behind its back, and
/// whether it caches.
async fn session_stores_with_rows() -> Vec<(String, Sessions, Arc<dyn SessionRows>, bool)> {
    let mut stores = Vec::new();
    for database in databases().await {
        let kind = database.kind();
        let plain = backends(database.clone());
        for ttl in [Duration::ZERO, Duration::from_secs(60)] {
            let rows = plain.session_rows();
            stores.push((
                format!("{kind}, local cache {ttl:?}"),
                Sessions::new(rows.clone(), plain.session_cache(ttl)),
                rows,
                !ttl.is_zero(),
            ));
        }
        if kind == "postgres" {
            let shared = Backends {
                database,
                redis: Some(redis_connection().await),
            };
            let rows = shared.session_rows();
            stores.push((
                format!("{kind}, redis cache"),
                Sessions::new(rows.clone(), shared.session_cache(Duration::from_secs(60))),
                rows,
                true,
            ));
        }
    }
    stores
}

async fn session_stores() -> Vec<(String, Sessions)> {
    session_stores_with_rows()
        .await
        .into_iter()
        .map(|(kind, store, _, _)| (kind, store))
        .collect()
}

async fn redis_connection() -> sesame::server::stores::redis::Redis {
    let redis = services::redis();
    sesame::server::stores::redis::Redis::connect(&RedisConfig {
        url: redis.url(),
        prefix: redis.prefix(),
        timeout: Duration::from_secs(2),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_session_store_behaves_alike_on_every_backend() {
    for (kind, store) in session_stores().await {
        // Only a hash of the id is the key; ids are drawn fresh.
        let mut rec = record(None, 0);
        store.create(&mut rec).await.unwrap();
        assert_ne!(rec.id, Id(0), "{kind}");
        assert_eq!(
            store.load(&rec.id).await.unwrap().unwrap().data,
            rec.data,
            "{kind}"
        );
        // A delete is final: a later save does not bring it back.
        store.delete(&rec.id).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none(), "{kind}");
        store.save(&rec).await.unwrap();
        assert!(
            store.load(&rec.id).await.unwrap().is_none(),
            "{kind}: no resurrection"
        );
        // Expired rows do not load and are cleaned up.
        let mut old = record(None, 0);
        old.expiry_date = OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.create(&mut old).await.unwrap();
        assert!(store.load(&old.id).await.unwrap().is_none(), "{kind}");
        assert_eq!(store.delete_expired().await.unwrap(), 1, "{kind}");
        assert_eq!(store.delete_expired().await.unwrap(), 0, "{kind}");

        // A user's sessions: listed, one ended, all others ended.
        let user = format!("u-{}", rand_suffix());
        let seq = store.revocation_seq().await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let mut rec = record(Some(&user), seq);
            store.create(&mut rec).await.unwrap();
            ids.push(rec.id);
        }
        assert_eq!(store.list_user(&user).await.unwrap().len(), 3, "{kind}");
        assert!(store
            .revoke_one(&user, &SessionHandle::of(&ids[0]))
            .await
            .unwrap());
        assert!(
            !store
                .revoke_one("someone else", &SessionHandle::of(&ids[1]))
                .await
                .unwrap(),
            "{kind}: another user's handle ends nothing"
        );
        assert!(store.load(&ids[0]).await.unwrap().is_none(), "{kind}");
        assert!(store.load(&ids[1]).await.unwrap().is_some(), "{kind}");
        let ended = store
            .revoke_user(
                &user,
                Some(&SessionHandle::of(&ids[2])),
                AccountChange::None,
            )
            .await
            .unwrap();
        assert_eq!(ended, 1, "{kind}: all but the kept one");
        assert!(store.load(&ids[1]).await.unwrap().is_none(), "{kind}");
        assert!(store.load(&ids[2]).await.unwrap().is_some(), "{kind}: kept");
        // A sign-in that read the sequence before the revocation stores nothing.
        let mut late = record(Some(&user), seq);
        store.create(&mut late).await.unwrap();
        assert!(
            store.load(&late.id).await.unwrap().is_none(),
            "{kind}: raced"
        );
        assert!(late.data.is_empty(), "{kind}: refused, it comes back empty");
        let mut after = record(Some(&user), store.revocation_seq().await.unwrap());
        store.create(&mut after).await.unwrap();
        assert!(store.load(&after.id).await.unwrap().is_some(), "{kind}");
        assert!(!after.data.is_empty(), "{kind}: stored, it is kept");
        assert!(store.count_live().await.unwrap() >= 2, "{kind}");
        // A second factor added: a sign-in that read the sequence before it
        // stores nothing (its gate may have found no factor), and the
        // user's sessions stay.
        let before = store.revocation_seq().await.unwrap();
        store.factor_added(&user).await.unwrap();
        let mut late = record(Some(&user), before);
        store.create(&mut late).await.unwrap();
        assert!(
            store.load(&late.id).await.unwrap().is_none(),
            "{kind}: a sign-in from before the factor"
        );
        assert!(late.data.is_empty(), "{kind}: refused, it comes back empty");
        assert!(
            store.load(&after.id).await.unwrap().is_some(),
            "{kind}: a factor ends no session"
        );
        let mut next = record(Some(&user), store.revocation_seq().await.unwrap());
        store.create(&mut next).await.unwrap();
        assert!(store.load(&next.id).await.unwrap().is_some(), "{kind}");
    }
}

fn rand_suffix() -> String {
    format!("{:x}", rand::random::<u64>())
}

/// The race of a sign-out against a reader, on each cache: the reader found
/// the row just before the `DELETE` and fills the cache after it.
#[tokio::test]
async fn a_read_that_raced_a_delete_does_not_bring_the_session_back_on_any_cache() {
    let local = Backends {
        database: db::connect(&database_config("sqlite::memory:"))
            .await
            .unwrap(),
        redis: None,
    }
    .session_cache(Duration::from_secs(60));
    let redis = Backends {
        database: db::connect(&database_config("sqlite::memory:"))
            .await
            .unwrap(),
        redis: Some(redis_connection().await),
    }
    .session_cache(Duration::from_secs(60));
    for (kind, cache) in [("local", local), ("redis", redis)] {
        let mut rec = record(None, 0);
        rec.id = Id(rand::random());
        let key = id_hash(&rec.id);
        let stale = Loaded::new(rec.clone());
        assert!(cache.fill(&key, &stale).await.unwrap(), "{kind}");
        assert!(cache.get(&key, &rec.id).await.unwrap().is_some(), "{kind}");
        cache.kill(&key).await.unwrap();
        assert!(cache.get(&key, &rec.id).await.unwrap().is_none(), "{kind}");
        assert!(
            !cache.fill(&key, &stale).await.unwrap(),
            "{kind}: tombstoned"
        );
        assert!(cache.get(&key, &rec.id).await.unwrap().is_none(), "{kind}");
    }
}

#[tokio::test]
async fn the_token_store_behaves_alike_on_every_database() {
    for database in databases().await {
        let kind = database.kind();
        let backends = backends(database);
        let user = backends
            .users()
            .create(new_user("t@example.com"))
            .await
            .unwrap();
        let tokens = Tokens::new(backends.tokens());
        let hour = Duration::from_secs(3600);
        let first = tokens
            .issue(Purpose::ResetPassword, user.id, "t@example.com", hour)
            .await
            .unwrap();
        assert!(tokens
            .issued_within(Purpose::ResetPassword, user.id, Duration::from_secs(60))
            .await
            .unwrap());
        assert!(!tokens
            .issued_within(Purpose::VerifyEmail, user.id, Duration::from_secs(60))
            .await
            .unwrap());
        let second = tokens
            .issue(Purpose::ResetPassword, user.id, "t@example.com", hour)
            .await
            .unwrap();
        assert_eq!(
            tokens.peek(Purpose::ResetPassword, &first).await.unwrap(),
            None,
            "{kind}: a newer token voids the older"
        );
        assert_eq!(
            tokens.peek(Purpose::VerifyEmail, &second).await.unwrap(),
            None,
            "{kind}: one purpose only"
        );
        let named = tokens
            .peek(Purpose::ResetPassword, &second)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (named.user_id, named.email.as_str()),
            (user.id, "t@example.com")
        );
        assert!(tokens
            .take(Purpose::ResetPassword, &second)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            tokens.take(Purpose::ResetPassword, &second).await.unwrap(),
            None,
            "{kind}: single use"
        );
        let expired = tokens
            .issue(
                Purpose::VerifyEmail,
                user.id,
                "t@example.com",
                Duration::ZERO,
            )
            .await
            .unwrap();
        assert_eq!(
            tokens.take(Purpose::VerifyEmail, &expired).await.unwrap(),
            None
        );
        // Deleting the user deletes their tokens.
        let live = tokens
            .issue(Purpose::VerifyEmail, user.id, "t@example.com", hour)
            .await
            .unwrap();
        backends.users().delete(user.id).await.unwrap();
        assert_eq!(
            tokens.peek(Purpose::VerifyEmail, &live).await.unwrap(),
            None,
            "{kind}"
        );
    }
}

/// The per-IP limiter: this process's and Redis's let the same burst through
/// and then say how long to wait.
#[tokio::test]
async fn the_rate_limiter_behaves_alike_in_memory_and_in_redis() {
    let rate = Rate {
        count: 3,
        per: Duration::from_secs(60),
    };
    let memory = backends(
        db::connect(&database_config("sqlite::memory:"))
            .await
            .unwrap(),
    );
    let shared = Backends {
        database: memory.database.clone(),
        redis: Some(redis_connection().await),
    };
    for (kind, limiter) in [
        ("memory", memory.rate_limiter("ip", rate, 1000)),
        ("redis", shared.rate_limiter("ip", rate, 1000)),
    ] {
        for _ in 0..3 {
            assert_eq!(limiter.check("a").await, Ok(()), "{kind}");
        }
        let Err(Refusal::Wait(wait)) = limiter.check("a").await else {
            panic!("{kind}: over the limit")
        };
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{kind}: {wait:?}"
        );
        assert_eq!(
            limiter.check("b").await,
            Ok(()),
            "{kind}: keys are separate"
        );
    }
}

/// A burst on a shared limiter from many tasks at once gets exactly the quota.
#[tokio::test]
async fn a_parallel_burst_on_the_redis_limiter_gets_exactly_the_quota() {
    let shared = Backends {
        database: db::connect(&database_config("sqlite::memory:"))
            .await
            .unwrap(),
        redis: Some(redis_connection().await),
    };
    let limiter: Arc<dyn RateLimiter> = Arc::from(shared.rate_limiter(
        "burst",
        Rate {
            count: 10,
            per: Duration::from_secs(600),
        },
        1000,
    ));
    for round in 0..5 {
        let key = format!("k{round}");
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let (limiter, key) = (limiter.clone(), key.clone());
                tokio::spawn(async move { limiter.check(&key).await.is_ok() })
            })
            .collect();
        let mut admitted = 0;
        for task in tasks {
            admitted += usize::from(task.await.unwrap());
        }
        assert_eq!(admitted, 10, "round {round}");
    }
}

fn policy() -> Policy {
    Policy {
        free: 3,
        first_wait: Duration::from_secs(30),
        max_wait: Duration::from_secs(900),
        max_failures: 6,
    }
}

/// The lockout counters: the same free failures, waits and hard cap, and a
/// success resets them, in this process and in Redis.
#[tokio::test]
async fn the_lockout_counters_behave_alike_in_memory_and_in_redis() {
    let config = LockoutConfig {
        free_failures: 3,
        first_wait: Duration::from_secs(30),
        max_wait: Duration::from_secs(900),
        max_failures: 6,
        forget_after: Duration::from_secs(3600),
        tracked: 1000,
    };
    let memory = backends(
        db::connect(&database_config("sqlite::memory:"))
            .await
            .unwrap(),
    );
    let shared = Backends {
        database: memory.database.clone(),
        redis: Some(redis_connection().await),
    };
    let p = policy();
    for (kind, counters) in [
        ("memory", memory.lockout_counters(&config)),
        ("redis", shared.lockout_counters(&config)),
    ] {
        let account = CounterKey::Account(rand::random());
        for _ in 0..2 {
            counters.reserve(account, &p).await.unwrap().unwrap();
            assert_eq!(counters.fail(account, &p).await.unwrap(), None, "{kind}");
        }
        counters.reserve(account, &p).await.unwrap().unwrap();
        assert_eq!(
            counters.fail(account, &p).await.unwrap(),
            Some(Locked {
                wait: Duration::from_secs(30),
                hard: false
            }),
            "{kind}: the free ones used up"
        );
        let Err(locked) = counters.reserve(account, &p).await.unwrap() else {
            panic!("{kind}: locked");
        };
        assert!(
            !locked.hard && locked.wait <= Duration::from_secs(30),
            "{kind}"
        );
        // A success resets it.
        let CounterKey::Account(raw) = account else {
            unreachable!()
        };
        counters.reset(raw, None).await.unwrap();
        counters.reserve(account, &p).await.unwrap().unwrap();
        counters.release(account);

        // Parallel attempts get only the free ones through.
        let burst = CounterKey::Account(rand::random());
        let counters: Arc<dyn FailureCounters> = counters;
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let counters = counters.clone();
                tokio::spawn(async move { counters.reserve(burst, &p).await.unwrap().is_ok() })
            })
            .collect();
        let mut admitted = 0;
        for task in tasks {
            admitted += usize::from(task.await.unwrap());
        }
        assert_eq!(admitted, 3, "{kind}: the free failures, in flight");

        // The hard cap: no attempt, whatever the wait.
        let capped = CounterKey::Device(rand::random());
        for _ in 0..6 {
            let _ = counters.fail(capped, &p).await.unwrap();
        }
        assert_eq!(
            counters.reserve(capped, &p).await.unwrap(),
            Err(Locked {
                wait: Duration::from_secs(900),
                hard: true
            }),
            "{kind}"
        );
    }
}

/// The SQLite store is what `sqlite::` URLs get; the module is public for apps.
#[test]
fn the_sqlite_stores_are_public() {
    fn is_user_store<T: sesame::server::stores::UserStore>() {}
    is_user_store::<sqlite::SqliteUserStore>();
}

/// A sign-in's insert racing the end of its user's sessions, at the rows,
/// many times over on each database: a session whose sign-in read the
/// sequence before the revocation started never survives it. (On PostgreSQL
/// this rests on the table lock: without it the insert's check and the
/// revocation's `DELETE` can each miss the other.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_insert_racing_a_revocation_never_survives_it_on_any_database() {
    for database in databases().await {
        let kind = database.kind();
        let rows = backends(database).session_rows();
        let user = format!("race-{}", rand_suffix());
        for round in 0..300 {
            let seq = rows.revocation_seq().await.unwrap();
            let key: [u8; 32] = rand::random();
            let data = "{}";
            let insert = {
                let (rows, user) = (rows.clone(), user.clone());
                tokio::spawn(async move {
                    rows.insert(sesame::server::stores::NewRow {
                        key: &key,
                        data,
                        expires_at: i64::MAX / 2,
                        user_id: Some(&user),
                        revocation_seq: seq,
                    })
                    .await
                    .unwrap()
                })
            };
            let revoke = {
                let (rows, user) = (rows.clone(), user.clone());
                tokio::spawn(async move {
                    rows.revoke_user(&user, None, AccountChange::None)
                        .await
                        .unwrap()
                })
            };
            let (inserted, _) = (insert.await.unwrap(), revoke.await.unwrap());
            let now = OffsetDateTime::now_utc().unix_timestamp();
            assert!(
                rows.load(&key, now).await.unwrap().is_none(),
                "{kind}, round {round}: the session survived ({inserted:?})"
            );
        }
    }
}

/// Only SHA-256 of a session's id is stored, on every database: a copy of
/// the table opens no session.
#[tokio::test]
async fn only_a_hash_of_the_session_id_is_stored_on_every_database() {
    for database in databases().await {
        let kind = database.kind();
        let plain = backends(database.clone());
        let store = Sessions::new(plain.session_rows(), plain.session_cache(Duration::ZERO));
        let mut rec = record(None, 0);
        store.create(&mut rec).await.unwrap();
        let stored: Vec<Vec<u8>> = match &database {
            Database::Sqlite(pool) => sqlx::query_scalar("SELECT id_hash FROM sessions")
                .fetch_all(pool)
                .await
                .unwrap(),
            Database::Postgres(pool) => sqlx::query_scalar("SELECT id_hash FROM sessions")
                .fetch_all(pool)
                .await
                .unwrap(),
        };
        assert_eq!(stored, [id_hash(&rec.id).to_vec()], "{kind}");
        assert_ne!(stored[0], rec.id.0.to_le_bytes().to_vec(), "{kind}");
    }
}

/// Writes reach the rows; a cache serves live entries (another process's
/// delete reaches it only when the entry goes: the documented lag), never an
/// expired one, and drops an entry a write found no row for; on every cache.
#[tokio::test]
async fn the_cache_serves_live_entries_only_and_writes_reach_the_rows() {
    let now = || OffsetDateTime::now_utc().unix_timestamp();
    for (kind, store, rows, cached) in session_stores_with_rows().await {
        let mut rec = record(None, 0);
        store.create(&mut rec).await.unwrap();
        rec.data.insert("k".into(), serde_json::json!("changed"));
        store.save(&rec).await.unwrap();
        let (data, _) = rows.load(&id_hash(&rec.id), now()).await.unwrap().unwrap();
        assert!(data.contains("changed"), "{kind}: the save reached the row");

        // The row deleted behind the cache's back (another process).
        rows.delete(&id_hash(&rec.id)).await.unwrap();
        assert_eq!(
            store.load(&rec.id).await.unwrap().is_some(),
            cached,
            "{kind}: served from the cache"
        );
        // A write that finds no row drops the cached copy.
        store.save(&rec).await.unwrap();
        assert!(store.load(&rec.id).await.unwrap().is_none(), "{kind}");

        // A cached entry past its record's expiry is not served.
        let mut short = record(None, 0);
        short.expiry_date = OffsetDateTime::now_utc() + time::Duration::seconds(1);
        store.create(&mut short).await.unwrap();
        rows.delete(&id_hash(&short.id)).await.unwrap();
        while OffsetDateTime::now_utc() <= short.expiry_date {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            store.load(&short.id).await.unwrap().is_none(),
            "{kind}: expired"
        );
    }
}

/// tower-sessions saves a session its request created once more, after the
/// answer: unchanged, that save writes nothing (the sign-in stored it just
/// before); changed, with another expiry, or a second time, it is written.
/// Seen through a change made to the row behind the store's back, which a
/// write overwrites; on every backend.
#[tokio::test]
async fn a_session_saved_unchanged_right_after_its_creation_is_not_written_again() {
    let now = || OffsetDateTime::now_utc().unix_timestamp();
    for (kind, store, rows, _) in session_stores_with_rows().await {
        let row = |rec: &Record| {
            let (rows, key) = (rows.clone(), id_hash(&rec.id));
            async move { rows.load(&key, now()).await.unwrap().unwrap().0 }
        };
        let behind = |rec: &Record| {
            let (rows, key) = (rows.clone(), id_hash(&rec.id));
            let expires = rec.expiry_date.unix_timestamp();
            async move {
                assert!(rows
                    .update(&key, r#"{"k":"behind"}"#, expires, now())
                    .await
                    .unwrap());
            }
        };
        let mut rec = record(None, 0);
        store.create(&mut rec).await.unwrap();
        behind(&rec).await;
        store.save(&rec).await.unwrap();
        assert!(
            row(&rec).await.contains("behind"),
            "{kind}: not written again"
        );
        store.save(&rec).await.unwrap();
        assert!(
            !row(&rec).await.contains("behind"),
            "{kind}: a second save is written"
        );

        let mut changed = record(None, 0);
        store.create(&mut changed).await.unwrap();
        behind(&changed).await;
        changed
            .data
            .insert("k".into(), serde_json::json!("changed"));
        store.save(&changed).await.unwrap();
        assert!(
            row(&changed).await.contains("changed"),
            "{kind}: changed data is written"
        );

        let mut later = record(None, 0);
        store.create(&mut later).await.unwrap();
        behind(&later).await;
        later.expiry_date += time::Duration::seconds(5);
        store.save(&later).await.unwrap();
        assert!(
            !row(&later).await.contains("behind"),
            "{kind}: a new expiry is written"
        );
    }
}

/// A session's handle reads back from its hex form, and nothing else does.
#[test]
fn session_handles_read_back_from_their_hex_form() {
    let id = Id(rand::random());
    let handle = SessionHandle::of(&id);
    let text = handle.to_string();
    assert_eq!(text, hex::encode(id_hash(&id)));
    assert_eq!(SessionHandle::parse(&text), Some(handle));
    assert_eq!(SessionHandle::parse(&text[2..]), None, "too short");
    assert_eq!(
        SessionHandle::parse(&format!("{}zz", &text[2..])),
        None,
        "not hex"
    );
}

/// A session row of `user_id`, stored through `store`; its id.
async fn signed_in_session(store: &Sessions, user_id: &str) -> Id {
    let mut rec = record(Some(user_id), store.revocation_seq().await.unwrap());
    store.create(&mut rec).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_some());
    rec.id
}

/// Securing an account is one transaction on every database: the change to
/// the user's row, the end of their sessions and of their pending links
/// succeed or fail together. And a deleted user's id is never given again.
#[tokio::test]
async fn a_revocation_and_its_change_succeed_or_fail_together_on_every_database() {
    let hour = Duration::from_secs(3600);
    for database in databases().await {
        let kind = database.kind();
        let backends = backends(database);
        let users = backends.users();
        let store = Sessions::new(
            backends.session_rows(),
            backends.session_cache(Duration::from_secs(60)),
        );
        let tokens = Tokens::new(backends.tokens());
        let a = users
            .create(new_user(&format!("a-{}@example.com", rand_suffix())))
            .await
            .unwrap();
        let b = users
            .create(new_user(&format!("b-{}@example.com", rand_suffix())))
            .await
            .unwrap();
        let user = a.id.to_string();
        let session = signed_in_session(&store, &user).await;
        let link = tokens
            .issue(Purpose::ResetPassword, a.id, &a.email, hour)
            .await
            .unwrap();

        // Moving to b's address fails in the database: the row, the session
        // rows and the link are as they were. (The cached copies were
        // tombstoned before the transaction: that side only ever ends
        // sessions, see `Sessions::revoke_user`; `Auth` checks the address
        // before it gets there.)
        let rows = backends.session_rows();
        let now = || OffsetDateTime::now_utc().unix_timestamp();
        let taken = Email::parse(&b.email).unwrap();
        assert!(
            store
                .revoke_user(&user, None, AccountChange::Email(&taken))
                .await
                .is_err(),
            "{kind}"
        );
        assert_eq!(
            rows.list_user(&user, now()).await.unwrap().len(),
            1,
            "{kind}"
        );
        assert_eq!(
            users.find_by_id(a.id).await.unwrap().unwrap().email,
            a.email
        );
        assert!(
            tokens
                .peek(Purpose::ResetPassword, &link)
                .await
                .unwrap()
                .is_some(),
            "{kind}"
        );
        // No such user: nothing either.
        assert!(store
            .revoke_user("999999999", None, AccountChange::Disable)
            .await
            .is_err());
        // An application's own (non-numeric) ids have no row to change: a
        // change fails, ending their sessions alone does not.
        assert!(
            store
                .revoke_user("app-user-7", None, AccountChange::Disable)
                .await
                .is_err(),
            "{kind}"
        );
        assert_eq!(
            store
                .revoke_user("app-user-7", None, AccountChange::None)
                .await
                .unwrap(),
            0,
            "{kind}"
        );

        // A new password: all of it at once.
        let ended = store
            .revoke_user(&user, None, AccountChange::Password("new-hash"))
            .await
            .unwrap();
        assert_eq!(ended, 1, "{kind}");
        assert!(store.load(&session).await.unwrap().is_none(), "{kind}");
        assert!(
            rows.list_user(&user, now()).await.unwrap().is_empty(),
            "{kind}"
        );
        assert!(
            tokens
                .peek(Purpose::ResetPassword, &link)
                .await
                .unwrap()
                .is_none(),
            "{kind}: the link is void"
        );
        let row = users.find_by_id(a.id).await.unwrap().unwrap();
        assert_eq!(row.password_hash, "new-hash", "{kind}");

        // Disabled, moved, deleted: each with its sessions.
        for change in [
            AccountChange::Disable,
            AccountChange::Email(
                &Email::parse(&format!("moved-{}@example.com", rand_suffix())).unwrap(),
            ),
        ] {
            let session = signed_in_session(&store, &user).await;
            store.revoke_user(&user, None, change).await.unwrap();
            assert!(
                store.load(&session).await.unwrap().is_none(),
                "{kind}: {change:?}"
            );
        }
        let row = users.find_by_id(a.id).await.unwrap().unwrap();
        assert!(
            row.is_disabled() && row.email.starts_with("moved-"),
            "{kind}"
        );
        assert!(row.email_verified_at.is_some(), "{kind}: a move confirms");
        let session = signed_in_session(&store, &user).await;
        store
            .revoke_user(&user, None, AccountChange::Delete)
            .await
            .unwrap();
        assert!(store.load(&session).await.unwrap().is_none(), "{kind}");
        assert!(users.find_by_id(a.id).await.unwrap().is_none(), "{kind}");

        // The highest id deleted, then a new user: a new id.
        users.delete(b.id).await.unwrap();
        let c = users
            .create(new_user(&format!("c-{}@example.com", rand_suffix())))
            .await
            .unwrap();
        assert!(c.id > b.id, "{kind}: {} after {}", c.id, b.id);
    }
}

/// The cache's part of a revocation comes first: with Redis down, a
/// password change fails before anything changed in the database.
#[tokio::test]
async fn a_revocation_whose_cache_fails_changes_nothing() {
    let redis = services::Redis::start();
    let connection = sesame::server::stores::redis::Redis::connect(&RedisConfig {
        url: redis.url(),
        prefix: redis.prefix(),
        timeout: Duration::from_secs(1),
    })
    .await
    .unwrap();
    for database in databases().await {
        let kind = database.kind();
        let backends = Backends {
            database,
            redis: Some(connection.clone()),
        };
        let users = backends.users();
        let rows = backends.session_rows();
        let store = Sessions::new(
            rows.clone(),
            backends.session_cache(Duration::from_secs(60)),
        );
        let a = users
            .create(new_user(&format!("r-{}@example.com", rand_suffix())))
            .await
            .unwrap();
        let user = a.id.to_string();
        signed_in_session(&store, &user).await;
        redis.stop();
        assert!(
            store
                .revoke_user(&user, None, AccountChange::Password("new-hash"))
                .await
                .is_err(),
            "{kind}"
        );
        redis.resume();
        let row = users.find_by_id(a.id).await.unwrap().unwrap();
        assert_ne!(
            row.password_hash, "new-hash",
            "{kind}: the password is unchanged"
        );
        let now = OffsetDateTime::now_utc().unix_timestamp();
        assert_eq!(
            rows.list_user(&user, now).await.unwrap().len(),
            1,
            "{kind}: the session row is there"
        );
    }
}
