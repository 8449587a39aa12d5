//! One SQLite connection that runs a statement on the request's own thread,
//! for the two statements on a password sign-in's path: the read before the
//! hash and the session's `INSERT` after it.
//!
//! sqlx hands every SQLite statement to its connection's thread and waits
//! for the answer: two thread wake-ups per statement, which on a 2-core VM
//! cost more than the statement (medians after 12 ms idle: the read 120 µs
//! through the pool, 15 µs here; the `INSERT` 175 and 105 µs). sqlx has no
//! synchronous call, hence `rusqlite` (on the `libsqlite3-sys` sqlx builds).
//!
//! It never waits: when another request holds the connection, when another
//! writer holds the database (`busy_timeout` 0), or on any error, the caller
//! goes to the pool, which waits and reports as before. It opens the file
//! the pool has open (asked of the pool), so an in-memory database, which
//! lives in the pool's one connection, has none. Its own commits never
//! checkpoint the WAL (a checkpoint can take milliseconds, too long on the
//! request's thread): after every [`CHECKPOINT_EVERY`] of its writes a
//! passive checkpoint runs on the pool.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Mutex,
};

use rusqlite::{Connection, ErrorCode, OpenFlags};
use sqlx::SqlitePool;
use tokio::sync::OnceCell;

/// Writes of this connection between two checkpoints on the pool (a
/// session's row is a few pages: about SQLite's own 1,000-page threshold).
pub(crate) const CHECKPOINT_EVERY: u32 = 256;

/// The connection beside a pool, opened at its first use.
#[derive(Debug)]
pub(crate) struct Inline {
    pool: SqlitePool,
    connection: OnceCell<Option<Mutex<Connection>>>,
    writes: AtomicU32,
}

impl Inline {
    /// Beside `pool`; nothing is opened yet.
    pub(crate) fn new(pool: SqlitePool) -> Inline {
        Inline {
            pool,
            connection: OnceCell::new(),
            writes: AtomicU32::new(0),
        }
    }

    /// The connection, if the pool's database is a file this one could open.
    async fn connection(&self) -> Option<&Mutex<Connection>> {
        // Asked again after a failed question (the pool answers it then).
        let asked = self.connection.get_or_try_init(|| async {
            let file: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(&self.pool)
                    .await?;
            // An in-memory database has no file.
            if file.is_empty() {
                return Ok::<_, sqlx::Error>(None);
            }
            Ok(match open(&file) {
                Ok(connection) => Some(Mutex::new(connection)),
                Err(cause) => {
                    tracing::warn!(%cause, file, "no in-line SQLite connection: the pool serves every statement");
                    None
                }
            })
        });
        asked.await.ok()?.as_ref()
    }

    /// Runs `statement` here if the connection is free and the database
    /// takes it at once; `None` sends the caller to the pool.
    pub(crate) async fn run<T>(
        &self,
        statement: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let connection = self.connection().await?.try_lock().ok()?;
        match statement(&connection) {
            Ok(done) => Some(done),
            Err(cause) => {
                if !busy(&cause) {
                    tracing::warn!(%cause, "an in-line SQLite statement failed: the pool runs it");
                }
                None
            }
        }
    }

    /// [`run`](Self::run) for a statement that writes: every
    /// [`CHECKPOINT_EVERY`] writes done here, a passive checkpoint on the pool.
    pub(crate) async fn write<T>(
        &self,
        statement: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let done = self.run(statement).await?;
        let written = self.writes.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        if written.is_multiple_of(CHECKPOINT_EVERY) {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                if let Err(cause) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(%cause, "checkpointing the SQLite WAL failed");
                }
            });
        }
        Some(done)
    }
}

/// Opens `file` (already made and migrated by the pool) as the pool's
/// connections are: foreign keys on, `synchronous = NORMAL` (the WAL is
/// the file's own mode). Never waits for a lock, never checkpoints, and
/// keeps a small page cache (the OS caches the file).
fn open(file: &str) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0; \
         PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -512;",
    )?;
    Ok(connection)
}

/// Whether `cause` is the database held by another connection.
fn busy(cause: &rusqlite::Error) -> bool {
    matches!(
        cause.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::server::stores::db::file_pool;

    const COUNT: &str = "SELECT COUNT(*) FROM users";

    /// The users, counted on `inline`'s connection (`None`: left to the pool).
    async fn count(inline: &Inline) -> Option<i64> {
        inline.run(|c| c.query_row(COUNT, [], |r| r.get(0))).await
    }

    fn add_user(connection: &Connection, email: &str) -> rusqlite::Result<usize> {
        connection.execute(
            "INSERT INTO users (email, password_hash, created_at) VALUES (?1, 'x', 0)",
            [email],
        )
    }

    /// The statement runs on the caller's thread, over the pool's file:
    /// each sees what the other wrote.
    #[tokio::test]
    async fn runs_on_the_callers_thread_over_the_pools_file() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(dir.path()).await;
        let inline = Inline::new(pool.clone());
        sqlx::query(
            "INSERT INTO users (email, password_hash, created_at) VALUES ('a@example.com', 'x', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let here = std::thread::current().id();
        let (count, thread) = inline
            .run(|c| {
                Ok((
                    c.query_row(COUNT, [], |r| r.get::<_, i64>(0))?,
                    std::thread::current().id(),
                ))
            })
            .await
            .unwrap();
        assert_eq!((count, thread), (1, here));
        assert_eq!(
            inline.write(|c| add_user(c, "b@example.com")).await,
            Some(1)
        );
        let count: i64 = sqlx::query_scalar(COUNT).fetch_one(&pool).await.unwrap();
        assert_eq!(count, 2);
    }

    /// A writer holding the database sends the caller to the pool at once
    /// (the pool's own wait is 5 s); so does the connection in use.
    #[tokio::test]
    async fn never_waits_for_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(dir.path()).await;
        let inline = Inline::new(pool.clone());
        assert_eq!(count(&inline).await, Some(0));
        let mut writer = pool.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO users (email, password_hash, created_at) VALUES ('w@example.com', 'x', 0)",
        )
        .execute(&mut *writer)
        .await
        .unwrap();
        let started = std::time::Instant::now();
        assert_eq!(inline.write(|c| add_user(c, "i@example.com")).await, None);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // Reads go on beside the writer (WAL), from the last commit.
        assert_eq!(count(&inline).await, Some(0));
        writer.commit().await.unwrap();
        assert_eq!(
            inline.write(|c| add_user(c, "i@example.com")).await,
            Some(1)
        );
        // The connection in use: the second caller does not wait for it.
        let nested = inline
            .run(|_| {
                use futures::FutureExt;
                Ok(count(&inline).now_or_never())
            })
            .await;
        assert_eq!(nested, Some(Some(None)));
    }

    /// An error other than a lock (here a constraint) also leaves the
    /// statement to the pool, which reports it.
    #[tokio::test]
    async fn a_failed_statement_is_left_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(dir.path()).await;
        let inline = Inline::new(pool.clone());
        assert_eq!(
            inline.write(|c| add_user(c, "a@example.com")).await,
            Some(1)
        );
        assert_eq!(inline.write(|c| add_user(c, "a@example.com")).await, None);
        assert_eq!(
            inline.write(|c| add_user(c, "b@example.com")).await,
            Some(1)
        );
    }

    /// What this thread logs while the guard lives.
    fn logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
        #[derive(Clone)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Buffer(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::WARN)
            .finish();
        (buffer, tracing::subscriber::set_default(subscriber))
    }

    /// A lock held by another writer is expected under load and goes
    /// unlogged; any other failure is a warning (the pool then runs it).
    #[tokio::test]
    async fn only_a_failure_other_than_a_lock_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(dir.path()).await;
        let inline = Inline::new(pool.clone());
        let (logged, _guard) = logs();
        assert_eq!(
            inline.write(|c| add_user(c, "a@example.com")).await,
            Some(1)
        );
        let mut writer = pool.begin().await.unwrap();
        sqlx::query("DELETE FROM users")
            .execute(&mut *writer)
            .await
            .unwrap();
        assert_eq!(inline.write(|c| add_user(c, "b@example.com")).await, None);
        writer.rollback().await.unwrap();
        assert!(logged.lock().unwrap().is_empty(), "a lock was logged");
        assert_eq!(inline.write(|c| add_user(c, "a@example.com")).await, None);
        let text = String::from_utf8(logged.lock().unwrap().clone()).unwrap();
        assert!(text.contains("WARN") && text.contains("UNIQUE"), "{text}");
    }

    /// An in-memory database lives in the pool's one connection: another
    /// connection would be another database, so there is none.
    #[tokio::test]
    async fn an_in_memory_database_has_no_inline_connection() {
        let pool = crate::server::stores::db::memory_pool().await;
        let inline = Inline::new(pool);
        assert!(count(&inline).await.is_none());
    }

    /// Its own commits leave the pages in the WAL (no checkpoint on the
    /// request's thread); the `CHECKPOINT_EVERY`-th has the pool copy them
    /// into the database file.
    #[tokio::test]
    async fn checkpoints_on_the_pool_not_on_its_own_commits() {
        let dir = tempfile::tempdir().unwrap();
        let pool = file_pool(dir.path()).await;
        let file = dir.path().join("test.db");
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        let inline = Inline::new(pool.clone());
        // Rows of two pages each: well past SQLite's 1,000-page threshold.
        let big = "x".repeat(6000);
        for i in 0..CHECKPOINT_EVERY - 1 {
            let email = format!("u{i}@example.com");
            let added = inline
                .write(|c| {
                    c.execute(
                        "INSERT INTO users (email, name, password_hash, created_at) VALUES (?1, ?2, 'x', 0)",
                        [email.as_str(), big.as_str()],
                    )
                })
                .await;
            assert_eq!(added, Some(1));
        }
        assert_eq!(size(), before, "a commit of its own checkpointed");
        assert_eq!(
            inline.write(|c| add_user(c, "last@example.com")).await,
            Some(1)
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint on the pool"
            );
            tokio::task::yield_now().await;
        }
    }
}
