//! What a password sign-in reads before its hash, in one statement: the
//! revocation sequence, the row of Sesame's user store that the address
//! names, and whether that account has no second factor.
//!
//! One statement is one snapshot (SQLite and PostgreSQL alike): the sequence
//! is never newer than the row whose hash is then checked, so a revocation
//! that lands after the read (a new password, "sign out everywhere", a
//! second factor added) keeps the sign-in's session from being stored (see
//! [`SessionRows::insert`](crate::server::stores::SessionRows::insert)).
//! It also replaces three statements (the sequence, then the row and the
//! factors side by side) with one round trip to the database.

use std::sync::LazyLock;

use crate::server::stores::{
    db::Database,
    factors::ANY_FACTOR,
    sqlite::inline::Inline,
    users::{Email, UserRecord, COLUMNS},
};

/// What the sign-in read.
pub struct SignInRead {
    /// The revocation sequence at the read.
    pub revocation_seq: i64,
    /// The user the address names in Sesame's user store, if any.
    pub user: Option<UserRecord>,
    /// That user's id if they have no second factor (`None` for no user).
    pub factorless: Option<i64>,
}

impl std::fmt::Debug for SignInRead {
    /// Without the user's row: it holds the password hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRead")
            .field("revocation_seq", &self.revocation_seq)
            .field("user", &self.user.as_ref().map(|u| u.id))
            .field("factorless", &self.factorless)
            .finish()
    }
}

/// The one row of the statement: the sequence, and the user's columns
/// (all `NULL` when the address names no user).
#[derive(sqlx::FromRow)]
struct Row {
    seq: i64,
    id: Option<i64>,
    email: Option<String>,
    name: Option<String>,
    image: Option<String>,
    password_hash: Option<String>,
    created_at: Option<i64>,
    disabled_at: Option<i64>,
    email_verified_at: Option<i64>,
    factorless: Option<i64>,
}

impl Row {
    /// The row as the in-line SQLite connection reads it (by name, as sqlx does).
    fn from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        Ok(Row {
            seq: row.get("seq")?,
            id: row.get("id")?,
            email: row.get("email")?,
            name: row.get("name")?,
            image: row.get("image")?,
            password_hash: row.get("password_hash")?,
            created_at: row.get("created_at")?,
            disabled_at: row.get("disabled_at")?,
            email_verified_at: row.get("email_verified_at")?,
            factorless: row.get("factorless")?,
        })
    }
}

impl From<Row> for SignInRead {
    fn from(row: Row) -> SignInRead {
        let user = match (row.id, row.email, row.password_hash, row.created_at) {
            (Some(id), Some(email), Some(password_hash), Some(created_at)) => Some(UserRecord {
                id,
                email,
                name: row.name,
                image: row.image,
                password_hash,
                created_at,
                disabled_at: row.disabled_at,
                email_verified_at: row.email_verified_at,
            }),
            _ => None,
        };
        SignInRead {
            revocation_seq: row.seq,
            user,
            factorless: row.factorless,
        }
    }
}

/// The statement, with `seq` cast as `cast` and the address as `param`
/// (made once per backend).
fn statement(cast: &str, param: &str) -> String {
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT r.seq, {columns}, \
         CASE WHEN u.id IS NOT NULL AND NOT {ANY_FACTOR} THEN u.id END AS factorless \
         FROM (SELECT COALESCE(MAX(seq), 0){cast} AS seq FROM session_revocations) r \
         LEFT JOIN users u ON u.email = {param}"
    )
}

/// Reads the sequence, and the user `email` names (none for an address that
/// does not parse), in one statement; on SQLite on the request's thread
/// when `inline` can take it.
pub async fn read(
    db: &Database,
    inline: Option<&Inline>,
    email: Option<&Email>,
) -> Result<SignInRead, sqlx::Error> {
    static SQLITE: LazyLock<String> = LazyLock::new(|| statement("", "?"));
    #[cfg(feature = "postgres")]
    static POSTGRES: LazyLock<String> = LazyLock::new(|| statement("::BIGINT", "$1"));
    let email = email.map(Email::as_str);
    if let (Database::Sqlite(_), Some(inline)) = (db, inline) {
        let here = inline
            .run(|c| {
                c.prepare_cached(&SQLITE)?
                    .query_row([email], Row::from_sqlite)
            })
            .await;
        if let Some(row) = here {
            return Ok(row.into());
        }
    }
    let row: Row = match db {
        Database::Sqlite(pool) => {
            sqlx::query_as(SQLITE.as_str())
                .bind(email)
                .fetch_one(pool)
                .await?
        }
        #[cfg(feature = "postgres")]
        Database::Postgres(pool) => {
            sqlx::query_as(POSTGRES.as_str())
                .bind(email)
                .fetch_one(pool)
                .await?
        }
    };
    Ok(row.into())
}

// The real PostgreSQL server, started as the app's tests start it.
#[cfg(all(test, feature = "postgres"))]
#[path = "../../../../../tests/common/services.rs"]
#[allow(dead_code)]
mod services;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::stores::{Backends, NewUser};

    async fn database(url: &str) -> Database {
        let config = crate::server::config::Config::from_toml_str(&format!(
            "[site]\nurl = \"http://127.0.0.1:3000\"\n[database]\nurl = \"{url}\""
        ))
        .unwrap();
        let db = crate::server::stores::connect(&config.database)
            .await
            .unwrap();
        crate::server::stores::migrate(&db).await.unwrap();
        db
    }

    /// One read of each: the sequence (the highest of all users'), the row
    /// the address names, and its id only while it has no second factor.
    async fn reads_what_the_sign_in_needs(db: Database) {
        let backends = Backends {
            database: db.clone(),
            #[cfg(feature = "redis")]
            redis: None,
        };
        let email = |s: &str| Email::parse(s).unwrap();
        // On SQLite, read on the request's thread as well: the same answer.
        let inline = backends.inline();
        let read = |e: Option<Email>| {
            let (db, inline) = (db.clone(), inline.clone());
            async move {
                let pooled = read(&db, None, e.as_ref()).await.unwrap();
                if let Some(inline) = inline {
                    let here = read(&db, Some(&inline), e.as_ref()).await.unwrap();
                    assert_eq!(fields(&here), fields(&pooled));
                }
                pooled
            }
        };

        let nobody = read(Some(email("demo@example.com"))).await;
        assert_eq!((nobody.revocation_seq, nobody.factorless), (0, None));
        assert!(nobody.user.is_none());

        let users = backends.users();
        let demo = users
            .create(NewUser {
                email: email("demo@example.com"),
                name: Some("Demo".into()),
                password_hash: "$argon2id$stored".into(),
                email_verified: true,
            })
            .await
            .unwrap();
        let other = users
            .create(NewUser {
                email: email("other@example.com"),
                name: None,
                password_hash: "$argon2id$other".into(),
                email_verified: false,
            })
            .await
            .unwrap();
        let rows = backends.session_rows();
        rows.renumber(&other.id.to_string()).await.unwrap();
        rows.renumber(&other.id.to_string()).await.unwrap();
        let seq = rows.revocation_seq().await.unwrap();
        assert!(seq > 0);

        // As typed at sign-in: parsed to the stored form.
        let found = read(Some(email(" Demo@Example.com"))).await;
        assert_eq!(found.revocation_seq, seq);
        let user = found.user.expect("the row of the address");
        assert_eq!(
            (user.id, user.email.as_str(), user.name.as_deref()),
            (demo.id, "demo@example.com", Some("Demo"))
        );
        assert_eq!(user.password_hash, "$argon2id$stored");
        assert_eq!(user.created_at, demo.created_at);
        assert!(user.email_verified_at.is_some() && user.disabled_at.is_none());
        assert_eq!(found.factorless, Some(demo.id));
        // Another user's row is never read for this address.
        let theirs = read(Some(email("other@example.com"))).await;
        assert_eq!(theirs.user.map(|u| u.id), Some(other.id));
        assert_eq!(theirs.factorless, Some(other.id));

        // An address that parses to nothing: the sequence alone.
        let none = read(None).await;
        assert_eq!((none.revocation_seq, none.factorless), (seq, None));
        assert!(none.user.is_none());

        // An authenticator app counts once confirmed; a passkey at once.
        let factors = backends.factors();
        assert!(factors.begin_totp(demo.id, "sealed").await.unwrap());
        let enrolling = read(Some(email("demo@example.com"))).await;
        assert_eq!(enrolling.factorless, Some(demo.id));
        assert!(factors.confirm_totp(demo.id, 1, &[], 1).await.unwrap());
        let with_app = read(Some(email("demo@example.com"))).await;
        assert_eq!(with_app.factorless, None);
        assert_eq!(with_app.user.map(|u| u.id), Some(demo.id));
        let passkeys = backends.passkeys();
        assert!(passkeys
            .add(other.id, b"credential", "{}", "key", 1)
            .await
            .unwrap());
        let with_key = read(Some(email("other@example.com"))).await;
        assert_eq!(with_key.factorless, None);
        assert_eq!(with_key.user.map(|u| u.id), Some(other.id));
    }

    /// Every field of a read.
    #[allow(clippy::type_complexity)]
    fn fields(
        read: &SignInRead,
    ) -> (
        i64,
        Option<i64>,
        Option<(i64, String, Option<String>, Option<String>, String)>,
        Option<(i64, Option<i64>, Option<i64>)>,
    ) {
        let user = read.user.as_ref();
        (
            read.revocation_seq,
            read.factorless,
            user.map(|u| {
                (
                    u.id,
                    u.email.clone(),
                    u.name.clone(),
                    u.image.clone(),
                    u.password_hash.clone(),
                )
            }),
            user.map(|u| (u.created_at, u.disabled_at, u.email_verified_at)),
        )
    }

    #[tokio::test]
    async fn sqlite_reads_the_sequence_the_account_and_its_factors() {
        reads_what_the_sign_in_needs(database("sqlite::memory:").await).await;
        let dir = tempfile::tempdir().unwrap();
        let file = format!("sqlite://{}/read.db", dir.path().display());
        reads_what_the_sign_in_needs(database(&file).await).await;
    }

    /// On a SQLite file the read runs on the request's thread: it still
    /// answers with the pool closed.
    #[tokio::test]
    async fn a_sqlite_file_is_read_on_the_requests_thread() {
        let dir = tempfile::tempdir().unwrap();
        let pool = crate::server::stores::db::file_pool(dir.path()).await;
        let db = Database::Sqlite(pool.clone());
        let inline = Inline::new(pool.clone());
        let email = Email::parse("demo@example.com").unwrap();
        let first = read(&db, Some(&inline), Some(&email)).await.unwrap();
        pool.close().await;
        assert!(read(&db, None, Some(&email)).await.is_err());
        let second = read(&db, Some(&inline), Some(&email)).await.unwrap();
        assert_eq!(fields(&second), fields(&first));
    }

    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn postgres_reads_the_sequence_the_account_and_its_factors() {
        let url = services::postgres().database();
        reads_what_the_sign_in_needs(database(&url).await).await;
    }

    #[test]
    fn its_debug_shows_no_password_hash() {
        let read = SignInRead {
            revocation_seq: 3,
            user: Some(UserRecord {
                id: 7,
                email: "demo@example.com".into(),
                name: None,
                image: None,
                password_hash: "$argon2id$secret".into(),
                created_at: 0,
                disabled_at: None,
                email_verified_at: None,
            }),
            factorless: None,
        };
        let shown = format!("{read:?}");
        assert!(
            shown.contains("Some(7)") && !shown.contains("argon2"),
            "{shown}"
        );
    }
}
