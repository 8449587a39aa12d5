//! The SQLite database: connection pool and migrations (`migrations/`, embedded).

use std::str::FromStr;

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

/// A database that could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url `{url}`: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot create the database file or folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if missing) and migrates the database at `url`.
pub async fn connect(url: &str) -> Result<SqlitePool, DbError> {
    let open = |source| DbError::Open {
        url: url.to_string(),
        source,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(open)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(5));
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
                super::files::create_private_dir(parent).map_err(folder_error(parent))?;
            }
        }
        super::files::ensure_private_file(file).map_err(folder_error(file))?;
    }
    let pool = SqlitePoolOptions::new()
        // An in-memory database lives in its one connection.
        .max_connections(if in_memory { 1 } else { 8 })
        // An embedded database has no connection to lose: the default ping
        // before every acquire only added a round trip to SQLite's thread
        // (and idle connections are kept, so nothing is reopened per query).
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(open)?;
    migrate(&pool).await?;
    Ok(pool)
}

/// Applies Sesame's embedded migrations (users, sessions, accounts, tokens) to `pool`; the
/// ones already applied are skipped. Opening the database runs it.
pub async fn migrate(pool: &SqlitePool) -> Result<(), DbError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
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
        let all = sqlx::migrate!("./migrations");
        let before_accounts = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.migrations[..2].to_vec()),
            ..sqlx::migrate!("./migrations")
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

        super::migrate(&pool).await.unwrap();
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
