//! The database of users, sessions and tokens, chosen by `database.url`:
//! embedded SQLite (the default; `sqlite://file` or `sqlite::memory:`) or
//! PostgreSQL (`postgres://...`, shared by several instances). Opens the pool
//! and applies the embedded migrations (`migrations/sqlite`, `migrations/postgres`).

use std::{str::FromStr, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

use crate::server::config::DatabaseConfig;

/// An open database.
#[derive(Debug, Clone)]
pub enum Database {
    /// Embedded SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// A database that could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url `{url}`: {source}")]
    /// The database could not be opened.
    Open {
        /// The URL, without its password.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    #[error("cannot create the database file or folder {path}: {source}")]
    /// The SQLite file or its folder could not be created.
    Folder {
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    #[error("database url `{0}`: use sqlite://... or postgres://... (this build has {1})")]
    /// The URL names no database this build has.
    Scheme(String, &'static str),
    #[error("migrations: {0}")]
    /// A migration failed.
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The database drivers this build has.
const DRIVERS: &str = if cfg!(feature = "postgres") {
    "sqlite and postgres"
} else {
    "sqlite only"
};

/// Opens the database `config` names, and migrates it unless
/// `database.migrate = false` (instances started after `sesame migrate`).
pub async fn connect(config: &DatabaseConfig) -> Result<Database, DbError> {
    let url = config.url.as_str();
    let db = if url.starts_with("sqlite:") {
        Database::Sqlite(connect_sqlite(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            Database::Postgres(connect_postgres(config).await?)
        }
        #[cfg(not(feature = "postgres"))]
        return Err(DbError::Scheme(redact(url), DRIVERS));
    } else {
        return Err(DbError::Scheme(redact(url), DRIVERS));
    };
    if config.migrate {
        migrate(&db).await?;
    }
    Ok(db)
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(feature = "postgres")]
async fn connect_postgres(config: &DatabaseConfig) -> Result<sqlx::PgPool, DbError> {
    let open = |source| DbError::Open {
        url: redact(&config.url),
        source,
    };
    let options = sqlx::postgres::PgConnectOptions::from_str(&config.url).map_err(open)?;
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(config.max_connections)
        // A request waits this long for a connection, then gets a 503: a
        // stopped server is an answer within seconds, not a hang.
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(open)
}

/// Opens (creating if missing) the SQLite database at `url`.
async fn connect_sqlite(url: &str) -> Result<SqlitePool, DbError> {
    let open = |source| DbError::Open {
        url: url.to_string(),
        source,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(open)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !in_memory {
        // The database holds password hashes: owner-only, created so before
        // SQLite opens it (its journals take its mode).
        let file = options.get_filename();
        let folder_error = |path: &std::path::Path| {
            let path = path.display().to_string();
            move |source| DbError::Folder { path, source }
        };
        if let Some(parent) = file.parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                crate::server::defense::files::create_private_dir(parent)
                    .map_err(folder_error(parent))?;
            }
        }
        crate::server::defense::files::ensure_private_file(file).map_err(folder_error(file))?;
    }
    SqlitePoolOptions::new()
        // An in-memory database lives in its one connection. A file: four,
        // each a thread with its own page cache; SQLite runs one writer at
        // a time, and more readers than cores only wait their turn.
        .max_connections(if in_memory { 1 } else { 4 })
        // An embedded database has no connection to lose: the default ping
        // before every acquire only added a round trip to SQLite's thread
        // (and idle connections are kept, so nothing is reopened per query).
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(open)
}

/// Applies Sesame's embedded migrations (users, sessions, accounts, tokens)
/// for the database's kind; the ones already applied are skipped. On
/// PostgreSQL sqlx holds an advisory lock meanwhile, so instances that start
/// together migrate once.
pub async fn migrate(db: &Database) -> Result<(), DbError> {
    match db {
        Database::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
        #[cfg(feature = "postgres")]
        Database::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
    }
    Ok(())
}

/// A migrated SQLite database in memory, in its one connection (for tests).
#[cfg(test)]
pub(crate) async fn memory_pool() -> SqlitePool {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:");
    migrated(pool.await.unwrap()).await
}

/// A migrated SQLite file `test.db` in `dir`, opened as a `database.url`
/// of `sqlite://` opens it (WAL; for tests).
#[cfg(test)]
pub(crate) async fn file_pool(dir: &std::path::Path) -> SqlitePool {
    let url = format!("sqlite://{}/test.db", dir.display());
    migrated(connect_sqlite(&url).await.unwrap()).await
}

/// `pool` with Sesame's SQLite migrations applied (for tests).
#[cfg(test)]
async fn migrated(pool: SqlitePool) -> SqlitePool {
    sqlx::migrate!("./migrations/sqlite")
        .run(&pool)
        .await
        .unwrap();
    pool
}

/// Whether `e` says the database could not be reached (a request that
/// failed so is answered `503 ServiceUnavailable`), rather than that a
/// statement went wrong. Such a failure during a request makes the instance
/// look at its backends (see [`crate::server::stores::health`]).
pub fn unavailable(e: &sqlx::Error) -> bool {
    let down = matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_)
    ) || matches!(e, sqlx::Error::Database(d) if d.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")));
    if down {
        crate::server::stores::failures::note_backend_failure();
    }
    down
}

/// Whether every connection `pool` may open is open and in use.
fn saturated<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> bool {
    pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections()
}

impl Database {
    /// Whether the database answers a trivial query within `within`.
    ///
    /// A pool whose every connection is in use is busy, not down: the check
    /// then does not queue behind the requests. SQLite (a local file) counts
    /// as up; PostgreSQL is asked over a connection of the check's own.
    pub async fn ping(&self, within: Duration) -> Result<(), String> {
        let query = async {
            match self {
                Database::Sqlite(pool) if saturated(pool) => Ok(()),
                Database::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
                #[cfg(feature = "postgres")]
                Database::Postgres(pool) if saturated(pool) => {
                    use sqlx::Connection;
                    let options = pool.connect_options();
                    let mut own = sqlx::PgConnection::connect_with(&options).await?;
                    sqlx::query("SELECT 1").execute(&mut own).await?;
                    own.close().await
                }
                #[cfg(feature = "postgres")]
                Database::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            }
        };
        match tokio::time::timeout(within, query).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(within)
            )),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Database::Postgres(_) => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;

    /// A database from before the accounts migration: its users count as
    /// verified (they keep signing in) and its sessions join the per-user index.
    #[tokio::test]
    async fn an_older_database_keeps_its_users_signing_in_and_indexes_its_sessions() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let all = sqlx::migrate!("./migrations/sqlite");
        let before_accounts = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.migrations[..2].to_vec()),
            ..sqlx::migrate!("./migrations/sqlite")
        };
        before_accounts.run(&pool).await.unwrap();
        sqlx::query("INSERT INTO users (email, password_hash) VALUES ('old@example.com', 'x')")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) \
             VALUES (x'00', '{\"sesame\":{\"user_id\":\"1\"}}', 9999999999)",
        )
        .execute(&pool)
        .await
        .unwrap();

        crate::server::stores::db::migrate(&crate::server::stores::db::Database::Sqlite(
            pool.clone(),
        ))
        .await
        .unwrap();
        let verified: Option<i64> = sqlx::query_scalar("SELECT email_verified_at FROM users")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(verified.is_some(), "an existing user counts as verified");
        let user_id: Option<String> = sqlx::query_scalar("SELECT user_id FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(user_id.as_deref(), Some("1"));
        // New users after the migration are not verified by default.
        sqlx::query("INSERT INTO users (email, password_hash) VALUES ('new@example.com', 'x')")
            .execute(&pool)
            .await
            .unwrap();
        let new: Option<i64> = sqlx::query_scalar(
            "SELECT email_verified_at FROM users WHERE email = 'new@example.com'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(new, None);
    }
}
